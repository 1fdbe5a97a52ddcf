//! HTTP client settings of an integration (`http_config`), as prometheus/common 0.39's
//! `config.HTTPClientConfig` (the version Alertmanager 0.25 is built with) reads them.

use std::collections::BTreeMap;

use crate::config::Secret;

/// `http_config`: authentication, proxy and TLS for the requests an integration sends.
///
/// Unset fields take prometheus/common's defaults (`follow_redirects: true`,
/// `enable_http2: true`). At most one of `basic_auth`, `authorization`, `oauth2` and
/// `bearer_token(_file)` may be set.
///
/// ```
/// use alert_router::config::{Authorization, HttpClientConfig, Secret};
/// let http = HttpClientConfig {
///     authorization: Some(Authorization { credentials: Some(Secret::new("token")), ..Default::default() }),
///     ..Default::default()
/// };
/// assert!(http.follows_redirects());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpClientConfig {
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// The `Authorization` header.
    pub authorization: Option<Authorization>,
    /// OAuth 2.0 client credentials.
    pub oauth2: Option<OAuth2>,
    /// Deprecated bearer token (becomes `authorization.credentials`).
    pub bearer_token: Option<Secret>,
    /// Deprecated bearer token file (becomes `authorization.credentials_file`).
    pub bearer_token_file: Option<String>,
    /// HTTP proxy URL.
    pub proxy_url: Option<String>,
    /// Headers sent to the proxy on CONNECT.
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
    /// TLS settings.
    pub tls_config: Option<TlsConfig>,
    /// Whether to follow HTTP 3xx redirects (default true).
    pub follow_redirects: Option<bool>,
    /// Whether to use HTTP/2 (default true).
    pub enable_http2: Option<bool>,
}

impl HttpClientConfig {
    /// Reads a file that holds only HTTP client settings (amtool's `--http.config.file`),
    /// as prometheus/common 0.39's `LoadHTTPConfigFile` does: unknown fields and wrong
    /// types refused with their lines, then its `Validate` checks.
    ///
    /// ```
    /// use alert_router::config::HttpClientConfig;
    /// let h = HttpClientConfig::from_yaml("basic_auth: {username: u, password: p}\ntls_config: {insecure_skip_verify: true}\n")?;
    /// assert_eq!(h.basic_auth.and_then(|b| b.username).as_deref(), Some("u"));
    /// let e = HttpClientConfig::from_yaml("bearer_token: a\nbearer_token_file: b\n").unwrap_err();
    /// assert!(e.to_string().contains("at most one of bearer_token & bearer_token_file"), "{e}");
    /// let e = HttpClientConfig::from_yaml("beerer_token: a\n").unwrap_err();
    /// assert!(e.to_string().contains("field beerer_token not found"), "{e}");
    /// # Ok::<(), alert_router::error::Error>(())
    /// ```
    pub fn from_yaml(text: &str) -> crate::error::Result<HttpClientConfig> {
        crate::config::yaml::read::read_http_config(text)
    }

    /// `follow_redirects`, or its default `true`.
    pub fn follows_redirects(&self) -> bool {
        self.follow_redirects.unwrap_or(true)
    }

    /// `enable_http2`, or its default `true`.
    pub fn http2_enabled(&self) -> bool {
        self.enable_http2.unwrap_or(true)
    }
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicAuth {
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// File to read the password from.
    pub password_file: Option<String>,
}

/// `authorization`: the `Authorization` header's type and credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorization {
    /// Scheme (default `Bearer`; `basic` is refused, use `basic_auth`).
    pub r#type: Option<String>,
    /// Credentials.
    pub credentials: Option<Secret>,
    /// File to read the credentials from.
    pub credentials_file: Option<String>,
}

/// `oauth2`: client-credentials flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuth2 {
    /// Client id (required).
    pub client_id: Option<String>,
    /// Client secret (this or `client_secret_file` required).
    pub client_secret: Option<Secret>,
    /// File to read the client secret from.
    pub client_secret_file: Option<String>,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Token endpoint (required).
    pub token_url: Option<String>,
    /// Extra parameters for the token request.
    pub endpoint_params: BTreeMap<String, String>,
    /// Proxy for the token request.
    pub proxy_url: Option<String>,
    /// TLS for the token request.
    pub tls_config: Option<TlsConfig>,
}

/// `tls_config`. Alertmanager 0.25 knows only file-based certificates and keys; inline
/// `ca`, `cert` and `key` came with later prometheus/common versions and are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA certificate file.
    pub ca_file: Option<String>,
    /// Client certificate file.
    pub cert_file: Option<String>,
    /// Client key file.
    pub key_file: Option<String>,
    /// Server name to verify.
    pub server_name: Option<String>,
    /// Skip certificate verification.
    pub insecure_skip_verify: Option<bool>,
    /// Minimum TLS version (`TLS10`..`TLS13`).
    pub min_version: Option<String>,
    /// Maximum TLS version (`TLS10`..`TLS13`).
    pub max_version: Option<String>,
}

impl TlsConfig {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == TlsConfig::default()
    }
}

/// The TLS version names prometheus/common accepts.
pub const TLS_VERSIONS: [&str; 4] = ["TLS13", "TLS12", "TLS11", "TLS10"];
