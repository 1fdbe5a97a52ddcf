//! `email_configs`.

use std::collections::BTreeMap;

use crate::config::{Secret, TlsConfig};

/// Email (`email_configs`). Unset server settings come from `global.smtp_*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailConfig {
    /// Whether to notify about resolved alerts (default false).
    pub send_resolved: Option<bool>,
    /// Recipient address(es) (required).
    pub to: Option<String>,
    /// Sender address (default `global.smtp_from`).
    pub from: Option<String>,
    /// HELO name (default `global.smtp_hello`).
    pub hello: Option<String>,
    /// SMTP server `host:port` (default `global.smtp_smarthost`).
    pub smarthost: Option<String>,
    /// SMTP user.
    pub auth_username: Option<String>,
    /// SMTP password.
    pub auth_password: Option<Secret>,
    /// File with the SMTP password.
    pub auth_password_file: Option<String>,
    /// CRAM-MD5 secret.
    pub auth_secret: Option<Secret>,
    /// SMTP identity.
    pub auth_identity: Option<String>,
    /// Extra headers; names must be unique ignoring case.
    pub headers: BTreeMap<String, String>,
    /// HTML body template.
    pub html: Option<String>,
    /// Text body template.
    pub text: Option<String>,
    /// Whether to require STARTTLS (default `global.smtp_require_tls`).
    pub require_tls: Option<bool>,
    /// TLS settings.
    pub tls_config: Option<TlsConfig>,
}

impl EmailConfig {
    /// An email integration sending to `to`.
    pub fn new(to: impl Into<String>) -> EmailConfig {
        EmailConfig {
            to: Some(to.into()),
            ..EmailConfig::default()
        }
    }
}
