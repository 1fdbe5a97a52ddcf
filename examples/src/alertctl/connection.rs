//! The flags that say which Alertmanager(s) to talk to, shared by `alertctl alert` and
//! `alertctl silence` (amtool's `--alertmanager.url` and `--timeout`, plus the backend
//! flags of alert-cortex-adapter), and the output flags (`-o`, `--date.format`).
//!
//! `--alertmanager.url` may be repeated or hold several comma-separated URLs: they are
//! the members of one HA Alertmanager. Reads then go to all of them and are merged;
//! alerts are posted to all; a silence is created on one.
//!
//! A URL's `user:password@` is sent as basic authentication and never printed: members
//! are named, and errors and warnings show URLs, with `<secret>` in its place and in
//! place of the values of secret query parameters (`token`, `api_key`, …, see
//! [`alert_core::redact::is_secret_param`]).

use std::io::Write;
use std::time::Duration;

use alert_core::{AlertmanagerBackend, AlertmanagerTarget, redact_urls};
use alert_cortex_adapter::{
    Addressing, AlertmanagerClient, Cluster, DEFAULT_PREFIX, Error, MemberFailure,
};

use crate::alertctl::date_format::DEFAULT_DATE_FORMAT;

/// Which kind of server `--alertmanager.url` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// A vanilla Alertmanager: `<url>/api/v2/...`.
    Alertmanager,
    /// Cortex: `<url><prefix>/api/v2/...` with `X-Scope-OrgID`.
    Cortex,
    /// Grafana Mimir: as Cortex.
    Mimir,
}

/// `--alertmanager.url`, `--backend`, `--tenant`, `--path-template`, `--prefix`,
/// `--timeout`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Alertmanager to talk to. Repeat the flag, or separate URLs with commas, to name
    /// the members of an HA cluster.
    #[arg(
        long = "alertmanager.url",
        value_name = "URL",
        default_value = "http://localhost:9093/",
        value_delimiter = ',',
        global = true
    )]
    pub alertmanager_url: Vec<String>,
    /// What the URL points at: alertmanager, cortex or mimir.
    #[arg(long, value_enum, default_value_t = BackendKind::Alertmanager, global = true)]
    pub backend: BackendKind,
    /// The tenant (org id) for Cortex/Mimir or a path template.
    #[arg(long, value_name = "TENANT", global = true)]
    pub tenant: Option<String>,
    /// A per-tenant path such as `/{tenant}/prom/alertmanager` (gateways that proxy
    /// each tenant under its own path).
    #[arg(long = "path-template", value_name = "TEMPLATE", global = true)]
    pub path_template: Option<String>,
    /// Cortex's/Mimir's Alertmanager HTTP prefix.
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_PREFIX, global = true)]
    pub prefix: String,
    /// Timeout for each HTTP call (Go duration).
    #[arg(long, value_name = "DURATION", default_value = "30s", global = true)]
    pub timeout: String,
    /// Check the Alertmanager's version (the default) and warn when it is not 0.25, the
    /// version alertctl agrees with. Use --no-version-check to disable.
    #[arg(
        long = "version-check",
        overrides_with = "no_version_check",
        global = true
    )]
    pub version_check: bool,
    /// Do not check the Alertmanager's version.
    #[arg(long = "no-version-check", global = true)]
    pub no_version_check: bool,
    /// Verbose running information (accepted as amtool 0.25 accepts it, which uses it
    /// for nothing).
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// HTTP client configuration file for alertctl to connect to Alertmanager (amtool's:
    /// prometheus/common's `http_config` — basic_auth, authorization, bearer_token(_file),
    /// tls_config, proxy_url, follow_redirects, enable_http2; oauth2 and
    /// tls_config.server_name are refused).
    #[arg(long = "http.config.file", value_name = "FILENAME", global = true)]
    pub http_config_file: Option<std::path::PathBuf>,
}

/// The Alertmanager release alertctl agrees with (major.minor, as amtool compares).
pub const AGREES_WITH: &str = "0.25";

/// Whether an Alertmanager `version` has another major.minor than [`AGREES_WITH`]
/// (amtool's `semver.MajorMinor` comparison: a version that is not semver differs).
///
/// ```
/// use alert_examples::alertctl::connection::version_differs;
/// assert!(!version_differs("0.25.1"));
/// assert!(version_differs("0.26.0"));
/// assert!(version_differs("0.2"));
/// assert!(version_differs("main"));
/// ```
pub fn version_differs(version: &str) -> bool {
    let mut parts = version.splitn(3, '.');
    let major_minor = (parts.next(), parts.next());
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    !matches!(major_minor, (Some(major), Some(minor))
        if numeric(major) && numeric(minor.split(['-', '+']).next().unwrap_or(""))
            && format!("{major}.{}", minor.split(['-', '+']).next().unwrap_or("")) == AGREES_WITH)
}

/// amtool's version check: asks every member for its status (failures are ignored, as
/// amtool ignores them) and warns, on `err`, of each one whose version is not 0.25.
pub async fn check_version(args: &ConnectionArgs, cluster: &Cluster, err: &mut dyn Write) {
    if args.no_version_check {
        return;
    }
    let Ok(statuses) = cluster.statuses().await else {
        return;
    };
    for (member, status) in statuses.value {
        let version = &status.version_info.version;
        if version_differs(version) {
            let text = format!(
                "{member}: alertmanager version ({version}) is not {AGREES_WITH}, the version alertctl agrees with"
            );
            let _ = writeln!(err, "alertctl: warning: {}", redact_urls(&text));
        }
    }
}

impl ConnectionArgs {
    /// The Alertmanager these flags describe, checked: the URLs (trimmed, empty ones
    /// dropped), the backend, and its tenant and prefix where the backend takes them
    /// (a vanilla Alertmanager ignores `--tenant` and `--prefix`); two tries of a call
    /// that fails transiently, each within `--timeout`.
    ///
    /// ```
    /// use alert_core::AlertmanagerBackend;
    /// use alert_examples::alertctl::connection::ConnectionArgs;
    /// use clap::Parser;
    /// #[derive(Parser)]
    /// struct Flags {
    ///     #[command(flatten)]
    ///     conn: ConnectionArgs,
    /// }
    /// let flags = Flags::try_parse_from([
    ///     "alertctl", "--alertmanager.url=http://m-0:8080,http://m-1:8080", "--backend=mimir",
    ///     "--tenant=team-a",
    /// ])?;
    /// let target = flags.conn.target()?;
    /// assert_eq!(target.backend, AlertmanagerBackend::Mimir);
    /// assert_eq!(target.to_string(), "mimir tenant team-a at http://m-0:8080, http://m-1:8080");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn target(&self) -> Result<AlertmanagerTarget, String> {
        let urls: Vec<String> = self
            .alertmanager_url
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        if urls.is_empty() {
            return Err("--alertmanager.url names no Alertmanager".into());
        }
        let mut target = AlertmanagerTarget::new(urls);
        target.backend = match self.backend {
            BackendKind::Alertmanager => AlertmanagerBackend::Alertmanager,
            BackendKind::Cortex => AlertmanagerBackend::Cortex,
            BackendKind::Mimir => AlertmanagerBackend::Mimir,
        };
        target.path_template = self.path_template.clone();
        if target.backend.is_multi_tenant() {
            target.prefix = Some(self.prefix.clone());
        }
        if target.backend.is_multi_tenant() || target.path_template.is_some() {
            let tenant = self.tenant.as_deref().ok_or_else(|| {
                "--tenant is required with this backend or --path-template".to_owned()
            })?;
            target.tenant =
                Some(AlertmanagerTarget::tenant_id(tenant, "--tenant").map_err(|e| e.to_string())?);
        }
        target.request_timeout = self.parsed_timeout()?;
        target.attempts = 2;
        target
            .check(&|field| match field {
                "url" | "urls" => "--alertmanager.url".to_owned(),
                "request_timeout" => "--timeout".to_owned(),
                other => format!("--{}", other.replace('_', "-")),
            })
            .map_err(|e| redact_urls(&e.to_string()))?;
        Ok(target)
    }

    /// The addressing these flags describe.
    pub fn addressing(&self) -> Result<Addressing, String> {
        Addressing::for_target(&self.target()?).map_err(|e| e.to_string())
    }

    /// The `--timeout` value.
    pub fn timeout(&self) -> Result<Duration, String> {
        Ok(self.parsed_timeout()?.to_std())
    }

    fn parsed_timeout(&self) -> Result<alert_core::Duration, String> {
        self.timeout
            .parse()
            .map_err(|e: alert_core::Error| format!("--timeout: {e}"))
    }

    /// The members as a cluster (one member for a single URL), each named by its URL
    /// without credentials, sharing the client `--http.config.file` configures.
    pub fn cluster(&self) -> Result<Cluster, String> {
        let target = self.target()?;
        let http = self
            .http_config_file
            .as_deref()
            .map(http_client)
            .transpose()?;
        Cluster::from_target(&target, http.as_ref()).map_err(|e| redact_urls(&e.to_string()))
    }

    /// A client per member (see [`ConnectionArgs::cluster`]).
    pub fn clients(&self) -> Result<Vec<AlertmanagerClient>, String> {
        Ok(self.cluster()?.members().to_vec())
    }
}

/// amtool's output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns, the essentials.
    Simple,
    /// Aligned columns, everything.
    Extended,
    /// The API's JSON.
    Json,
}

/// `-o/--output` and `--date.format`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output formatter (simple, extended, json).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Simple, global = true)]
    pub output: OutputFormat,
    /// Format of date output (a Go time layout).
    #[arg(long = "date.format", default_value = DEFAULT_DATE_FORMAT, global = true)]
    pub date_format: String,
}

/// Tells the user, on stderr, which HA members did not answer (URLs without
/// credentials).
pub fn warn_partial(err: &mut dyn Write, failed: &[MemberFailure]) {
    for f in failed {
        let text = format!("{} did not answer: {}", f.member, f.error);
        let _ = writeln!(err, "alertctl: warning: {}", redact_urls(&text));
    }
}

/// The HTTP client `--http.config.file` describes, as amtool builds it with
/// prometheus/common 0.39 (relative file names are read from the directory above the
/// file's, as that version does, and files holding secrets are trimmed of surrounding
/// whitespace).
pub fn http_client(path: &std::path::Path) -> Result<reqwest::Client, String> {
    use alert_router::config::HttpClientConfig;
    use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let cfg = HttpClientConfig::from_yaml(&text).map_err(|e| format!("{shown}: {e}"))?;
    // prometheus/common 0.39's LoadHTTPConfigFile resolves relative names against
    // `filepath.Dir(filepath.Dir(filename))`, one directory above the file's; amtool
    // 0.25 reads them there, and so does alertctl.
    let go_dir = |p: &std::path::Path| -> std::path::PathBuf {
        match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ if p.is_absolute() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        }
    };
    let dir = go_dir(&go_dir(path));
    let file = |name: &str| dir.join(name);
    let read_secret = |name: &str| -> Result<String, String> {
        std::fs::read_to_string(file(name))
            .map(|s| s.trim().to_owned())
            .map_err(|e| format!("{shown}: unable to read {name}: {e}"))
    };
    let mut headers = HeaderMap::new();
    let mut authorization = None;
    if let Some(basic) = &cfg.basic_auth {
        let password = match (&basic.password, &basic.password_file) {
            (_, Some(f)) if !f.is_empty() => read_secret(f)?,
            (Some(p), _) => p.expose().to_owned(),
            _ => String::new(),
        };
        let user = basic.username.clone().unwrap_or_default();
        authorization = Some(format!(
            "Basic {}",
            alert_core::base64::encode(format!("{user}:{password}").as_bytes())
        ));
    }
    let (kind, credentials) = match &cfg.authorization {
        Some(a) => (
            a.r#type.clone().filter(|t| !t.is_empty()),
            match (&a.credentials, &a.credentials_file) {
                (_, Some(f)) if !f.is_empty() => Some(read_secret(f)?),
                (Some(c), _) => Some(c.expose().to_owned()),
                _ => None,
            },
        ),
        None => (
            None,
            match (&cfg.bearer_token, &cfg.bearer_token_file) {
                (_, Some(f)) if !f.is_empty() => Some(read_secret(f)?),
                (Some(c), _) if !c.is_empty() => Some(c.expose().to_owned()),
                _ => None,
            },
        ),
    };
    if let Some(credentials) = credentials {
        authorization = Some(format!(
            "{} {credentials}",
            kind.as_deref().unwrap_or("Bearer")
        ));
    }
    if let Some(value) = authorization {
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| format!("{shown}: credentials that cannot be sent in a header"))?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    if cfg.oauth2.is_some() {
        return Err(format!("{shown}: oauth2 is not supported by alertctl"));
    }
    let mut builder = reqwest::Client::builder().default_headers(headers);
    if let Some(proxy) = cfg.proxy_url.as_deref().filter(|p| !p.is_empty()) {
        builder = builder.proxy(
            reqwest::Proxy::all(proxy)
                .map_err(|e| format!("{shown}: proxy_url: {}", redact_urls(&e.to_string())))?,
        );
    }
    if let Some(tls) = &cfg.tls_config {
        if tls.server_name.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(format!(
                "{shown}: tls_config.server_name is not supported by alertctl"
            ));
        }
        if let Some(ca) = tls.ca_file.as_deref().filter(|f| !f.is_empty()) {
            let pem = std::fs::read(file(ca))
                .map_err(|e| format!("{shown}: unable to read CA cert {ca}: {e}"))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{shown}: unable to use specified CA cert {ca}: {e}"))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        match (tls.cert_file.as_deref(), tls.key_file.as_deref()) {
            (Some(cert), Some(key)) if !cert.is_empty() && !key.is_empty() => {
                let mut pem = std::fs::read(file(cert))
                    .map_err(|e| format!("{shown}: unable to read client cert {cert}: {e}"))?;
                pem.extend(
                    std::fs::read(file(key))
                        .map_err(|e| format!("{shown}: unable to read client key {key}: {e}"))?,
                );
                builder = builder.identity(
                    reqwest::Identity::from_pem(&pem)
                        .map_err(|e| format!("{shown}: unable to use client cert {cert}: {e}"))?,
                );
            }
            (Some(c), _) | (_, Some(c)) if !c.is_empty() => {
                return Err(format!(
                    "{shown}: tls_config needs both cert_file and key_file"
                ));
            }
            _ => {}
        }
        if tls.insecure_skip_verify == Some(true) {
            builder = builder.danger_accept_invalid_certs(true);
        }
        if let Some(v) = tls.min_version.as_deref().filter(|v| !v.is_empty()) {
            builder = builder.tls_version_min(tls_version(v)?);
        }
        if let Some(v) = tls.max_version.as_deref().filter(|v| !v.is_empty()) {
            builder = builder.tls_version_max(tls_version(v)?);
        }
    }
    if !cfg.follows_redirects() {
        builder = builder.redirect(reqwest::redirect::Policy::none());
    }
    if !cfg.http2_enabled() {
        builder = builder.http1_only();
    }
    builder
        .build()
        .map_err(|e| format!("{shown}: {}", redact_urls(&e.to_string())))
}

fn tls_version(name: &str) -> Result<reqwest::tls::Version, String> {
    Ok(match name {
        "TLS10" => reqwest::tls::Version::TLS_1_0,
        "TLS11" => reqwest::tls::Version::TLS_1_1,
        "TLS12" => reqwest::tls::Version::TLS_1_2,
        "TLS13" => reqwest::tls::Version::TLS_1_3,
        other => return Err(format!("unknown TLS version: {other}")),
    })
}

/// An error of an Alertmanager call as amtool 0.25 prints it where its go-swagger client
/// has a name for the answer: `[POST /silences][400] postSilencesBadRequest  <message>`
/// (the operation, the status, the response's name, the server's message). Other errors,
/// and answers the API does not define, keep alertctl's wording. A single member's
/// failure is reported as that member's error, as amtool talks to one.
///
/// ```
/// use alert_cortex_adapter::Error;
/// use alert_examples::alertctl::connection::api_error;
/// let e = Error::Rejected {
///     method: "POST".into(),
///     url: "http://am:9093/api/v2/silences".into(),
///     status: 400,
///     message: "silence invalid: invalid label matcher 0".into(),
/// };
/// assert_eq!(api_error(&e), "[POST /silences][400] postSilencesBadRequest  silence invalid: invalid label matcher 0");
/// let e = Error::NotFound { method: "GET".into(), url: "http://am:9093/api/v2/silence/abc".into(), message: String::new() };
/// assert_eq!(api_error(&e), "[GET /silence/{silenceID}][404] getSilenceNotFound ");
/// ```
pub fn api_error(e: &Error) -> String {
    let swagger = match e {
        Error::QuorumNotReached {
            members: 1,
            failures,
            ..
        } if failures.len() == 1 => return api_error(&failures[0].error),
        Error::Rejected {
            method,
            url,
            status,
            message,
        }
        | Error::Status {
            method,
            url,
            status,
            message,
        } => swagger_error(method, url, *status, message),
        Error::NotFound {
            method,
            url,
            message,
        } => swagger_error(method, url, 404, message),
        _ => None,
    };
    swagger.unwrap_or_else(|| e.to_string())
}

/// The go-swagger text of Alertmanager 0.25's API v2 client for this answer, if the API
/// defines it (`None` otherwise).
fn swagger_error(method: &str, url: &str, status: u16, message: &str) -> Option<String> {
    let path = url.split_once("/api/v2")?.1;
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let route = if path.starts_with("/silence/") {
        "/silence/{silenceID}"
    } else {
        path
    };
    // (method, route, status, response name, whether the response carries a payload)
    const ANSWERS: &[(&str, &str, u16, &str, bool)] = &[
        ("POST", "/alerts", 400, "postAlertsBadRequest", true),
        (
            "POST",
            "/alerts",
            500,
            "postAlertsInternalServerError",
            true,
        ),
        ("GET", "/alerts", 400, "getAlertsBadRequest", true),
        ("GET", "/alerts", 500, "getAlertsInternalServerError", true),
        (
            "GET",
            "/alerts/groups",
            400,
            "getAlertGroupsBadRequest",
            true,
        ),
        (
            "GET",
            "/alerts/groups",
            500,
            "getAlertGroupsInternalServerError",
            true,
        ),
        (
            "GET",
            "/silences",
            500,
            "getSilencesInternalServerError",
            true,
        ),
        ("POST", "/silences", 400, "postSilencesBadRequest", true),
        ("POST", "/silences", 404, "postSilencesNotFound", true),
        (
            "GET",
            "/silence/{silenceID}",
            404,
            "getSilenceNotFound",
            false,
        ),
        (
            "GET",
            "/silence/{silenceID}",
            500,
            "getSilenceInternalServerError",
            true,
        ),
        (
            "DELETE",
            "/silence/{silenceID}",
            500,
            "deleteSilenceInternalServerError",
            true,
        ),
    ];
    let (_, _, _, name, payload) = ANSWERS
        .iter()
        .find(|(m, r, s, _, _)| *m == method && *r == route && *s == status)?;
    Some(if *payload {
        format!("[{method} {route}][{status}] {name}  {message}")
    } else {
        format!("[{method} {route}][{status}] {name} ")
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn http_config_files_build_clients_or_say_why_not() {
        let dir = tempfile::tempdir().expect("dir");
        let sub = dir.path().join("conf");
        std::fs::create_dir(&sub).expect("conf");
        let file = sub.join("http.yml");
        let build = |text: &str| {
            std::fs::write(&file, text).expect("write");
            super::http_client(&file)
        };
        assert!(build("tls_config: {insecure_skip_verify: true, min_version: TLS12}\n").is_ok());
        let e = build("tls_config: {ca_file: missing.pem}\n").unwrap_err();
        assert!(e.contains("unable to read CA cert missing.pem"), "{e}");
        let e = build("oauth2: {client_id: a, client_secret: b, token_url: 'http://x/'}\n")
            .unwrap_err();
        assert!(e.contains("oauth2 is not supported"), "{e}");
        let e = build("tls_config: {cert_file: c.pem}\n").unwrap_err();
        assert!(e.contains("cert_file and key_file"), "{e}");
        let e = build("proxy_url: 'http://u:pw@proxy:3128'\nbearer_token: 'x'\nbogus: 1\n")
            .unwrap_err();
        assert!(e.contains("field bogus not found"), "{e}");
        assert!(!e.contains("pw@"), "{e}");
    }

    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        conn: ConnectionArgs,
    }

    #[test]
    fn urls_repeat_or_split_on_commas() {
        let cli = Cli::parse_from([
            "x",
            "--alertmanager.url=http://a:9093,http://b:9093",
            "--alertmanager.url",
            "http://c:9093",
        ]);
        assert_eq!(cli.conn.clients().unwrap().len(), 3);
        let cli = Cli::parse_from(["x"]);
        assert_eq!(
            cli.conn.clients().unwrap()[0].base_url(),
            "http://localhost:9093"
        );
    }

    #[test]
    fn backends_need_a_tenant() {
        let cli = Cli::parse_from(["x", "--backend", "mimir"]);
        assert!(cli.conn.addressing().unwrap_err().contains("--tenant"));
        let cli = Cli::parse_from(["x", "--backend", "cortex", "--tenant", "t1"]);
        assert_eq!(cli.conn.addressing().unwrap().org_id(), Some("t1"));
        let cli = Cli::parse_from(["x", "--path-template", "/{tenant}/am", "--tenant", "t"]);
        assert_eq!(
            cli.conn.addressing().unwrap().api_path("alerts"),
            "/t/am/api/v2/alerts"
        );
        let cli = Cli::parse_from(["x", "--timeout", "1m30s"]);
        assert_eq!(cli.conn.timeout().unwrap(), Duration::from_secs(90));
    }
}
