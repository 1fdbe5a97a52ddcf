//! HTTP client options of an endpoint: Alertmanager's `http_config`.

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_proxy_url;
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// How Alertmanager's HTTP client reaches an endpoint (`http_config` of prometheus/common,
/// reduced to what a notification target needs).
///
/// `bearer_token` becomes `authorization: {type: Bearer, credentials: ...}`; at most one
/// of `basic_auth` and `bearer_token` may be set, as Alertmanager requires. Unset
/// options keep Alertmanager's defaults (`follow_redirects: true`, `enable_http2: true`).
///
/// ```
/// use alert_core::HttpClientOptions;
///
/// let http: HttpClientOptions = serde_json::from_str(
///     r#"{"bearer_token": "t0k", "proxy_url": "http://proxy:3128",
///         "tls_config": {"insecure_skip_verify": true}}"#,
/// )?;
/// assert_eq!(http.bearer_token.as_ref().map(|t| t.expose()), Some("t0k"));
/// assert!(http.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientOptions {
    /// HTTP basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// A bearer token sent as `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// An HTTP(S) or SOCKS5 proxy, for example `http://proxy:3128`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// TLS settings for `https` targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsOptions>,
    /// Whether to follow HTTP redirects (Alertmanager's default: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// Whether HTTP/2 may be used (Alertmanager's default: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_http2: Option<bool>,
}

/// HTTP basic authentication credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name; required.
    pub username: String,
    /// The password, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// TLS settings (`tls_config` of prometheus/common).
///
/// `ca` holds a PEM bundle inline. Alertmanager 0.25 only knows `ca_file`
/// (`field ca not found in type config.plain`), and Cortex/Mimir refuse `*_file` fields in
/// tenant configurations, so a renderer must decide how to deliver an inline CA for its
/// target; the model keeps both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// A CA bundle in PEM form, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// A path to a CA bundle on the Alertmanager host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// A path to a client certificate; needs `key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// A path to the client certificate's key; needs `cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// The server name to verify, when it differs from the URL's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Skip verifying the server certificate. Defaults to `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
}

impl HttpClientOptions {
    /// Checks the options; errors name the field under `http_config`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("http_config"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        if let Some(auth) = &self.basic_auth {
            let at = path.field("basic_auth");
            at.field("username").require(&auth.username)?;
            if self.bearer_token.is_some() {
                return Err(at.invalid(
                    "basic_auth and bearer_token",
                    "at most one of basic_auth, oauth2, bearer_token & bearer_token_file \
                     must be configured",
                ));
            }
        }
        if let Some(token) = &self.bearer_token {
            path.field("bearer_token").require(token.expose())?;
        }
        if let Some(proxy) = &self.proxy_url {
            let at = path.field("proxy_url");
            at.require(proxy)?;
            check_proxy_url(proxy).map_err(|reason| at.invalid(proxy, reason))?;
        }
        if let Some(tls) = &self.tls_config {
            tls.validate_at(&path.field("tls_config"))?;
        }
        Ok(())
    }

    /// Every secret in the options, for redaction.
    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        let password = self.basic_auth.as_mut().and_then(|a| a.password.as_mut());
        password.into_iter().chain(self.bearer_token.as_mut())
    }
}

impl TlsOptions {
    /// Checks the options; errors name the field under `tls_config`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("tls_config"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        for (name, value) in [
            ("ca", &self.ca),
            ("ca_file", &self.ca_file),
            ("cert_file", &self.cert_file),
            ("key_file", &self.key_file),
            ("server_name", &self.server_name),
        ] {
            path.field(name).require_if_set(value.as_deref())?;
        }
        if self.ca.is_some() && self.ca_file.is_some() {
            return Err(path.field("ca").invalid(
                "ca and ca_file",
                "at most one of ca and ca_file must be configured",
            ));
        }
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => Err(path.field("key_file").invalid(
                "",
                "exactly one of key or key_file must be configured when a client \
                 certificate is configured",
            )),
            (None, Some(_)) => Err(path.field("cert_file").invalid(
                "",
                "exactly one of cert or cert_file must be configured when a client key \
                 is configured",
            )),
            _ => Ok(()),
        }
    }
}

/// Checks an endpoint's optional `http_config` under `path`.
pub(crate) fn validate_http_config(
    path: &FieldPath,
    http: Option<&HttpClientOptions>,
) -> Result<()> {
    match http {
        Some(http) => http.validate_at(&path.field("http_config")),
        None => Ok(()),
    }
}

/// The secrets of an endpoint's optional `http_config`.
pub(crate) fn http_config_secrets(
    http: &mut Option<HttpClientOptions>,
) -> impl Iterator<Item = &mut Secret> {
    http.iter_mut().flat_map(HttpClientOptions::secrets_mut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn field_of(err: Error) -> String {
        match err {
            Error::MissingField { field } | Error::InvalidField { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn auth_is_exclusive() {
        let http = HttpClientOptions {
            basic_auth: Some(BasicAuth {
                username: "u".into(),
                password: Some("p".into()),
            }),
            bearer_token: Some("t".into()),
            ..Default::default()
        };
        let err = http.validate().unwrap_err();
        assert!(err.to_string().starts_with(
            "http_config.basic_auth: at most one of basic_auth, oauth2, bearer_token"
        ));
        assert!(!err.to_string().contains("\"p\""));
    }

    #[test]
    fn each_fault_names_its_field() {
        let cases: Vec<(HttpClientOptions, &str)> = vec![
            (
                HttpClientOptions {
                    basic_auth: Some(BasicAuth::default()),
                    ..Default::default()
                },
                "http_config.basic_auth.username",
            ),
            (
                HttpClientOptions {
                    bearer_token: Some(Secret::default()),
                    ..Default::default()
                },
                "http_config.bearer_token",
            ),
            (
                HttpClientOptions {
                    proxy_url: Some("proxy:3128".into()),
                    ..Default::default()
                },
                "http_config.proxy_url",
            ),
            (
                HttpClientOptions {
                    tls_config: Some(TlsOptions {
                        ca: Some("pem".into()),
                        ca_file: Some("/ca".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "http_config.tls_config.ca",
            ),
            (
                HttpClientOptions {
                    tls_config: Some(TlsOptions {
                        cert_file: Some("/c".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "http_config.tls_config.key_file",
            ),
            (
                HttpClientOptions {
                    tls_config: Some(TlsOptions {
                        key_file: Some("/k".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "http_config.tls_config.cert_file",
            ),
            (
                HttpClientOptions {
                    tls_config: Some(TlsOptions {
                        server_name: Some(String::new()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "http_config.tls_config.server_name",
            ),
        ];
        for (http, field) in cases {
            assert_eq!(field_of(http.validate().unwrap_err()), field);
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<HttpClientOptions>(r#"{"proxy": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `proxy`"), "{err}");
    }

    #[test]
    fn secrets_are_enumerated() {
        let mut http = HttpClientOptions {
            basic_auth: Some(BasicAuth {
                username: "u".into(),
                password: Some("p".into()),
            }),
            bearer_token: Some("t".into()),
            ..Default::default()
        };
        let values: Vec<String> = http.secrets_mut().map(|s| s.expose().to_owned()).collect();
        assert_eq!(values, ["p", "t"]);
    }
}
