//! `Kind(namespace, name)`: what sort of external object an instrumentor turns into
//! sensors and systems.
//!
//! The namespace is a domain (`kubernetes.io`, `prometheus.io`, or `alert-health` for the
//! built-ins); the name a type name, with `#fragment` for sub-resources that cannot be
//! fetched on their own (`Pod#volume`). The stable string form is `namespace:name`,
//! e.g. `kubernetes.io:Pod#volume`; it parses back to the same kind. A string without a
//! `:` may separate the two with its first `/` instead, as Kubernetes writes a group and
//! a kind (`kubernetes.io/Deployment`); namespaces are domains, so that is unambiguous.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// The namespace of the built-in sensors.
pub const BUILTIN_NAMESPACE: &str = "alert-health";

/// A kind of external object.
///
/// ```
/// use alert_health_graph::Kind;
/// let k = Kind::new("kubernetes.io", "Pod#volume")?;
/// assert_eq!(k.to_string(), "kubernetes.io:Pod#volume");
/// assert_eq!(k.base_name(), "Pod");
/// assert_eq!(k.fragment(), Some("volume"));
/// assert_eq!("kubernetes.io:Pod#volume".parse::<Kind>()?, k);
/// assert_eq!("kubernetes.io/Pod#volume".parse::<Kind>()?, k);
/// assert!("no-colon".parse::<Kind>().is_err());
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind {
    namespace: String,
    name: String,
}

impl Kind {
    /// A kind, checked: neither part empty nor containing `:` or whitespace, at most one
    /// `#` (in the name, not at its ends).
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Result<Kind, Error> {
        let (namespace, name) = (namespace.into(), name.into());
        let invalid = |reason: &str| Error::InvalidKind {
            input: format!("{namespace}:{name}"),
            reason: reason.to_owned(),
        };
        let bad_char = |c: char| c == ':' || c.is_whitespace();
        if namespace.is_empty() || name.is_empty() {
            return Err(invalid("expected namespace:name with both parts non-empty"));
        }
        if namespace.contains(bad_char) || name.contains(bad_char) {
            return Err(invalid("':' and whitespace are not allowed in either part"));
        }
        if namespace.contains('#') {
            return Err(invalid("'#' belongs in the name (name#fragment)"));
        }
        let hashes = name.matches('#').count();
        if hashes > 1 || name.starts_with('#') || name.ends_with('#') {
            return Err(invalid(
                "expected at most one '#', between name and fragment",
            ));
        }
        Ok(Kind { namespace, name })
    }

    /// A built-in kind (`alert-health:<name>`).
    pub fn builtin(name: &str) -> Kind {
        Kind {
            namespace: BUILTIN_NAMESPACE.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The name, with its fragment if any.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name without its fragment.
    pub fn base_name(&self) -> &str {
        self.name.split('#').next().unwrap_or(&self.name)
    }

    /// The fragment after `#`, if any.
    pub fn fragment(&self) -> Option<&str> {
        self.name.split_once('#').map(|(_, f)| f)
    }

    /// The kind of a sub-resource of this one: `name#fragment` (replacing any fragment).
    pub fn sub_resource(&self, fragment: &str) -> Result<Kind, Error> {
        Kind::new(
            self.namespace.clone(),
            format!("{}#{fragment}", self.base_name()),
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace, self.name)
    }
}

impl FromStr for Kind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Kind, Error> {
        let (namespace, name) =
            s.split_once(':')
                .or_else(|| s.split_once('/'))
                .ok_or_else(|| Error::InvalidKind {
                    input: s.to_owned(),
                    reason: "expected namespace:name (or namespace/name)".to_owned(),
                })?;
        Kind::new(namespace, name)
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invalid_kinds_are_named() {
        for bad in [":x", "ns:", "a:b:c", "ns:#f", "ns:a#b#c", "n#s:a", "ns:a b"] {
            let err = bad.parse::<Kind>().unwrap_err().to_string();
            assert!(err.contains("invalid kind"), "{bad}: {err}");
        }
    }

    #[test]
    fn sub_resources_replace_the_fragment() {
        let pod = Kind::new("kubernetes.io", "Pod").expect("valid");
        assert_eq!(pod.fragment(), None);
        let vol = pod.sub_resource("volume").expect("valid");
        assert_eq!(vol.to_string(), "kubernetes.io:Pod#volume");
        assert_eq!(
            vol.sub_resource("container").expect("valid").name(),
            "Pod#container"
        );
    }

    proptest! {
        #[test]
        fn string_form_round_trips(
            ns in "[a-z][a-z0-9./-]{0,15}",
            name in "[A-Za-z][A-Za-z0-9_-]{0,15}",
            fragment in proptest::option::of("[a-z][a-z0-9]{0,8}"),
        ) {
            let name = match fragment { Some(f) => format!("{name}#{f}"), None => name };
            let kind = Kind::new(ns, name).unwrap();
            prop_assert_eq!(kind.to_string().parse::<Kind>().unwrap(), kind.clone());
            let json = serde_json::to_string(&kind).unwrap();
            prop_assert_eq!(serde_json::from_str::<Kind>(&json).unwrap(), kind);
        }
    }
}
