//! Secrets: API keys, tokens, passwords and webhook URLs that carry credentials.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A credential that must not end up in logs.
///
/// `Debug` and `Display` print [`Secret::REDACTED`] (`<secret>`, the text Alertmanager
/// itself shows in place of secrets), also when the secret sits deep inside an endpoint
/// that is debug-printed. Read the value with [`Secret::expose`].
///
/// **Serialising writes the real value.** The router renders endpoints into
/// Alertmanager configurations that must carry working credentials, so `Serialize` is not
/// redacting. Never serialise a secret into a log line or an API answer for a user; use
/// [`crate::AlertEndpoint::redacted`] first when an endpoint is shown to someone.
///
/// ```
/// use alert_core::Secret;
///
/// let key = Secret::new("s3cr3t");
/// assert_eq!(format!("{key}"), "<secret>");
/// assert_eq!(format!("{key:?}"), "<secret>");
/// assert_eq!(key.expose(), "s3cr3t");
/// // Serialising is meant for configuration files and writes the value.
/// assert_eq!(serde_json::to_string(&key)?, "\"s3cr3t\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// What `Debug` and `Display` print instead of the value, and what
    /// [`crate::AlertEndpoint::redacted`] puts in place of every secret.
    pub const REDACTED: &'static str = "<secret>";

    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value. Call this only where the value is really needed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the value is [`Secret::REDACTED`], i.e. it came back from a redacted
    /// copy rather than from the user.
    pub fn is_redacted(&self) -> bool {
        self.0 == Secret::REDACTED
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Secret::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Secret::REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl Serialize for Secret {
    /// Writes the real value (see the type's documentation).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::from("hunter2");
        assert_eq!(s.to_string(), "<secret>");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<secret>)");
        assert_eq!(format!("{s:>12}"), "<secret>");
        assert!(!format!("{:#?}", vec![s.clone()]).contains("hunter2"));
    }

    #[test]
    fn reads_and_writes_the_value() {
        let s: Secret = serde_json::from_str("\"hunter2\"").expect("a string");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(serde_json::to_string(&s).expect("serialise"), "\"hunter2\"");
        assert!(serde_json::from_str::<Secret>("5").is_err());
        assert!(Secret::default().is_empty());
        assert!(Secret::new(Secret::REDACTED).is_redacted());
        assert!(!s.is_redacted());
        assert_eq!(s, Secret::new(String::from("hunter2")));
    }
}
