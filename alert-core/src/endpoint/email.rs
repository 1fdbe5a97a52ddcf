//! E-mail over SMTP (`email_configs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_host_port;
use crate::endpoint::http::TlsOptions;
use crate::endpoint::is_templated;
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// An e-mail recipient list and the SMTP relay to send through (Alertmanager's
/// `email_config`).
///
/// Every endpoint is self-contained: `from` and `smarthost` are required here rather than
/// taken from a global section, so that each endpoint renders into a receiver that
/// Alertmanager accepts on its own.
///
/// ```
/// use alert_core::EmailEndpoint;
/// let email = EmailEndpoint {
///     to: "oncall@example.org, lead@example.org".into(),
///     from: "alerts@example.org".into(),
///     smarthost: "smtp.example.org:587".into(),
///     auth_username: Some("alerts".into()),
///     auth_password: Some("pw".into()),
///     ..Default::default()
/// };
/// assert!(email.validate().is_ok());
/// assert!(!format!("{email:?}").contains("\"pw\""));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailEndpoint {
    /// Recipients, comma-separated (template); required.
    pub to: String,
    /// The sender address; required.
    pub from: String,
    /// The SMTP relay as `host:port`; required.
    pub smarthost: String,
    /// The host name sent in `HELO`/`EHLO` (Alertmanager's default: `localhost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hello: Option<String>,
    /// The SMTP user; needed whenever a password or secret is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    /// The SMTP password (PLAIN/LOGIN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<Secret>,
    /// The CRAM-MD5 secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret: Option<Secret>,
    /// The PLAIN identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_identity: Option<String>,
    /// Whether STARTTLS is required (Alertmanager's default: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    /// TLS settings for the SMTP connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsOptions>,
    /// Extra headers, like `Subject` (templates). Names must be unique ignoring case.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The HTML body (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The plain-text body (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Checks a comma-separated address list: each entry must hold an `@`, unless the value
/// is a template that only Alertmanager can expand.
fn check_addresses(path: &FieldPath, value: &str) -> Result<()> {
    path.require(value)?;
    if is_templated(value) {
        return Ok(());
    }
    for address in value.split(',').map(str::trim) {
        if !address.contains('@') {
            return Err(path.invalid(value, "comma-separated e-mail addresses like a@example.org"));
        }
    }
    Ok(())
}

/// Go's `strings.Title` for ASCII: every letter after a non-letter, non-digit,
/// non-underscore character (or at the start) is upper-cased; the rest is kept.
fn go_title(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut at_word_start = true;
    for c in name.chars() {
        out.push(if at_word_start {
            c.to_ascii_uppercase()
        } else {
            c
        });
        at_word_start = !(c.is_alphanumeric() || c == '_');
    }
    out
}

impl EmailEndpoint {
    /// Checks the endpoint; errors name fields under `email`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("email"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        check_addresses(&path.field("to"), &self.to)?;
        check_addresses(&path.field("from"), &self.from)?;
        let smarthost = path.field("smarthost");
        smarthost.require(&self.smarthost)?;
        check_host_port(&self.smarthost)
            .map_err(|reason| smarthost.invalid(&self.smarthost, reason))?;
        path.field("hello").require_if_set(self.hello.as_deref())?;
        path.field("auth_username")
            .require_if_set(self.auth_username.as_deref())?;
        if self.auth_username.is_none() {
            for (name, set) in [
                ("auth_password", self.auth_password.is_some()),
                ("auth_secret", self.auth_secret.is_some()),
                ("auth_identity", self.auth_identity.is_some()),
            ] {
                if set {
                    return Err(path.field("auth_username").invalid(
                        "",
                        format!(
                            "a user name, since {name} is set (Alertmanager ignores it without one)"
                        ),
                    ));
                }
            }
        }
        // Alertmanager normalises names with Go's `strings.Title` before comparing;
        // comparing ignoring case also refuses `SUBJECT` beside `Subject`, which mail
        // servers treat as one header.
        let mut seen = BTreeMap::new();
        for name in self.headers.keys() {
            let at = path.field("headers").key(name);
            at.require(name)?;
            if seen.insert(name.to_ascii_lowercase(), ()).is_some() {
                return Err(at.invalid(
                    name,
                    format!(
                        "header names unique ignoring case (duplicate header {:?} in email config)",
                        go_title(name)
                    ),
                ));
            }
        }
        if let Some(tls) = &self.tls_config {
            tls.validate_at(&path.field("tls_config"))?;
        }
        Ok(())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        self.auth_password
            .iter_mut()
            .chain(self.auth_secret.iter_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn valid() -> EmailEndpoint {
        EmailEndpoint {
            to: "a@example.org".into(),
            from: "b@example.org".into(),
            smarthost: "smtp:25".into(),
            ..Default::default()
        }
    }

    fn field(e: EmailEndpoint) -> String {
        match e.validate().unwrap_err() {
            Error::MissingField { field } | Error::InvalidField { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn faults_name_fields() {
        assert!(valid().validate().is_ok());
        assert_eq!(
            field(EmailEndpoint {
                to: String::new(),
                ..valid()
            }),
            "email.to"
        );
        assert_eq!(
            field(EmailEndpoint {
                to: "nobody".into(),
                ..valid()
            }),
            "email.to"
        );
        assert_eq!(
            field(EmailEndpoint {
                from: "x".into(),
                ..valid()
            }),
            "email.from"
        );
        assert_eq!(
            field(EmailEndpoint {
                smarthost: "localhost".into(),
                ..valid()
            }),
            "email.smarthost"
        );
        assert_eq!(
            field(EmailEndpoint {
                auth_password: Some("p".into()),
                ..valid()
            }),
            "email.auth_username"
        );
        let headers = [
            ("Subject".to_owned(), "a".to_owned()),
            ("subject".to_owned(), "b".to_owned()),
        ];
        assert_eq!(
            field(EmailEndpoint {
                headers: headers.into_iter().collect(),
                ..valid()
            }),
            "email.headers[subject]"
        );
    }

    #[test]
    fn alertmanager_wording_for_smarthost() {
        let err = EmailEndpoint {
            smarthost: "localhost".into(),
            ..valid()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "email.smarthost: address localhost: missing port in address, got \"localhost\""
        );
    }

    #[test]
    fn header_names_title_cased_like_go() {
        assert_eq!(go_title("subject"), "Subject");
        assert_eq!(go_title("x-custom_header"), "X-Custom_header");
        assert_eq!(go_title("SUBJECT"), "SUBJECT");
        let headers = [
            ("subject".to_owned(), "a".to_owned()),
            ("Subject".to_owned(), "b".to_owned()),
        ];
        let err = EmailEndpoint {
            headers: headers.into_iter().collect(),
            ..valid()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(r#"duplicate header "Subject" in email config"#),
            "{err}"
        );
    }

    #[test]
    fn templated_recipients_pass() {
        let e = EmailEndpoint {
            to: "{{ .CommonLabels.owner }}".into(),
            ..valid()
        };
        assert!(e.validate().is_ok());
    }
}
