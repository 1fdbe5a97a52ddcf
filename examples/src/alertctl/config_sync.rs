//! `alertctl config sync`: build one configuration per tenant from a spec file (as
//! `alertctl config build` does, with `alert_router::builder`) and apply them with the
//! syncer of alert-cortex-adapter, printing each tenant's status.
//!
//! ```text
//! alertctl config sync --spec SPEC.yaml --backend cortex|mimir --alertmanager.url URL
//!                      [--default-tenant ID] [--prefix /alertmanager]
//! alertctl config sync --spec SPEC.yaml --backend alertmanager --alertmanager.url URL...
//!                      --config.file FILE... [--tenant ID]
//! ```
//!
//! - Cortex/Mimir: every tenant's configuration is posted to `/api/v1/alerts` with its
//!   org id, then its `/api/v2/status` is polled until the configuration runs. The
//!   conditions bound to no tenant go to `--default-tenant` (or are left out, with a
//!   warning, without one). A tenant whose stored configuration is already the built one
//!   and running is not written again.
//! - A vanilla Alertmanager runs one configuration: the one of `--tenant` (or the only
//!   one the spec builds). It is written to `--config.file` (one per URL, or one for all)
//!   and loaded with `/-/reload`; a configuration Alertmanager refuses leaves the
//!   running one in place and is reported.
//!
//! The table printed has one line per tenant: `Tenant  State  Sync ID  Latency  Error`.
//! The exit status is 1 when a tenant failed.
//!
//! A backend's error body is shown in the `Error` column, but never a secret that was
//! posted: a backend or a proxy before it may echo the configuration it refused. Every
//! credential of the posted configurations (the values of Alertmanager's secret fields,
//! [`SECRET_KEYS`], and the passwords of URLs) is replaced by `<secret>` wherever the
//! error shows it, also JSON- or percent-escaped; URLs lose their credentials; and the
//! text is cut at [`ERROR_SHOWN_MAX`] bytes ([`shown_error`]).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use alert_core::{redact_secrets, redact_urls};
use alert_cortex_adapter::{
    ConfigBackend, CortexBackend, DesiredConfig, FileReloadBackend, FileTarget, SyncOptions,
    SyncReport, Syncer, TenantState,
};

use crate::alertctl::build::{BuildArgs, MANIFEST_FILE};
use crate::alertctl::connection::{BackendKind, ConnectionArgs};
use crate::alertctl::tabwriter::align;
use crate::alertctl::{Run, fail};

/// The tenant id a vanilla Alertmanager's configuration is filed under when the spec's
/// conditions are bound to no tenant.
pub const UNBOUND_TENANT: &str = "default";

/// `config sync`: build per-tenant configurations and apply them to a backend.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// The spec file (as for `config build`).
    #[arg(long, value_name = "SPEC.yaml")]
    pub spec: PathBuf,
    /// Where to apply them.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Alertmanager backend: the configuration file each Alertmanager reads (one per
    /// `--alertmanager.url`, or one shared by all).
    #[arg(long = "config.file", value_name = "FILE")]
    pub config_file: Vec<PathBuf>,
    /// Cortex/Mimir: the tenant for the conditions bound to no tenant.
    #[arg(long = "default-tenant", value_name = "ID")]
    pub default_tenant: Option<String>,
    /// How long a configuration may take to run before the tenant is reported failed.
    #[arg(long = "live-timeout", value_name = "DURATION", default_value = "60s")]
    pub live_timeout: String,
    /// Tenants applied at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

impl Run for SyncArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match execute(self, out, err) {
            Ok(()) => 0,
            Err(message) => fail(err, message),
        }
    }
}

/// One built configuration, read back from `config build`'s output.
struct Built {
    tenant: Option<String>,
    yaml: String,
    sync_id: String,
}

/// Runs `config build` into a temporary directory and reads its manifest back.
fn build(spec: &std::path::Path) -> Result<Vec<Built>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let args = BuildArgs {
        spec: spec.to_path_buf(),
        out_dir: dir.path().to_path_buf(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    if args.run(&mut out, &mut err) != 0 {
        let message = String::from_utf8_lossy(&err);
        return Err(message
            .trim()
            .trim_start_matches("alertctl: error: ")
            .to_owned());
    }
    let manifest_path = dir.path().join(MANIFEST_FILE);
    let manifest: serde_json::Value = std::fs::read(&manifest_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut built = Vec::new();
    for entry in manifest["tenants"].as_array().into_iter().flatten() {
        let (Some(file), Some(sync_id)) = (entry["file"].as_str(), entry["sync_id"].as_str())
        else {
            return Err(format!(
                "{}: an entry lacks file or sync_id",
                manifest_path.display()
            ));
        };
        let yaml =
            std::fs::read_to_string(dir.path().join(file)).map_err(|e| format!("{file}: {e}"))?;
        built.push(Built {
            tenant: entry["tenant"].as_str().map(str::to_owned),
            yaml,
            sync_id: sync_id.to_owned(),
        });
    }
    Ok(built)
}

fn duration(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<alert_core::Duration>()
        .map(|d| d.to_std())
        .map_err(|e| format!("--{flag}: {e}"))
}

fn execute(args: &SyncArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    let built = build(&args.spec)?;
    let secrets = posted_secrets(built.iter().map(|b| b.yaml.as_str()));
    let options = SyncOptions {
        concurrency: args.concurrency.max(1),
        live_timeout: duration("live-timeout", &args.live_timeout)?,
        ..SyncOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = match args.connection.backend {
        BackendKind::Cortex | BackendKind::Mimir => {
            let mut desired = Vec::new();
            for b in built {
                let tenant = match (b.tenant, &args.default_tenant) {
                    (Some(t), _) => t,
                    (None, Some(d)) => d.clone(),
                    (None, None) => {
                        let _ = writeln!(
                            err,
                            "alertctl: warning: conditions bound to no tenant are left out; name a tenant for them with --default-tenant"
                        );
                        continue;
                    }
                };
                desired.push(
                    DesiredConfig::new(tenant, b.yaml, b.sync_id).map_err(|e| e.to_string())?,
                );
            }
            if desired.is_empty() {
                SyncReport::default()
            } else {
                let mut conn = args.connection.clone();
                // Cortex's store is shared by its replicas: one URL takes the writes.
                conn.alertmanager_url.truncate(1);
                conn.tenant = conn
                    .tenant
                    .or_else(|| desired.first().map(|d| d.tenant.to_string()));
                let Some(client) = conn.clients()?.into_iter().next() else {
                    return Err("--alertmanager.url names no Cortex or Mimir".into());
                };
                run_sync(&runtime, CortexBackend::new(client), options, &desired)
            }
        }
        BackendKind::Alertmanager => {
            let chosen = match &args.connection.tenant {
                Some(t) => built
                    .into_iter()
                    .find(|b| b.tenant.as_deref() == Some(t.as_str()))
                    .ok_or_else(|| format!("the spec builds no configuration for tenant {t:?}"))?,
                None => {
                    let mut all = built;
                    if all.len() != 1 {
                        let names: Vec<String> = all
                            .iter()
                            .map(|b| b.tenant.clone().unwrap_or_else(|| "(no tenant)".into()))
                            .collect();
                        return Err(format!(
                            "an Alertmanager runs one configuration and the spec builds {}: {}; choose one with --tenant",
                            names.len(),
                            names.join(", ")
                        ));
                    }
                    all.remove(0)
                }
            };
            let tenant = chosen
                .tenant
                .clone()
                .unwrap_or_else(|| UNBOUND_TENANT.into());
            let tenant_id: alert_core::TenantId = tenant
                .parse()
                .map_err(|e: alert_core::Error| e.to_string())?;
            let mut conn = args.connection.clone();
            conn.tenant = None;
            conn.path_template = None;
            let clients = conn.clients()?;
            let files = match args.config_file.len() {
                0 => return Err("--config.file is required with --backend alertmanager".into()),
                1 => vec![args.config_file[0].clone(); clients.len()],
                n if n == clients.len() => args.config_file.clone(),
                n => {
                    return Err(format!(
                        "{n} --config.file for {} --alertmanager.url: give one, or one per URL",
                        clients.len()
                    ));
                }
            };
            let backend = clients.into_iter().zip(files).fold(
                FileReloadBackend::new(),
                |b, (client, config_path)| {
                    b.with_target(
                        tenant_id.clone(),
                        FileTarget {
                            config_path,
                            client,
                        },
                    )
                },
            );
            let desired = DesiredConfig::new(tenant, chosen.yaml, chosen.sync_id)
                .map_err(|e| e.to_string())?;
            run_sync(&runtime, backend, options, &[desired])
        }
    };
    out.write_all(format_report(&report, &secrets).as_bytes())
        .map_err(|e| e.to_string())?;
    let failed = report.in_state(TenantState::Failed).count();
    if failed > 0 {
        return Err(format!(
            "{failed} of {} tenants failed",
            report.tenants.len()
        ));
    }
    Ok(())
}

fn run_sync<B: ConfigBackend>(
    runtime: &tokio::runtime::Runtime,
    backend: B,
    options: SyncOptions,
    desired: &[DesiredConfig],
) -> SyncReport {
    let mut syncer = Syncer::with_options(backend, options);
    runtime.block_on(syncer.sync(desired))
}

/// The report as a table: `Tenant  State  Sync ID  Latency  Error`, each error as
/// [`shown_error`] shows it with the `secrets` that were posted.
pub fn format_report(report: &SyncReport, secrets: &[String]) -> String {
    let mut lines = vec!["Tenant\tState\tSync ID\tLatency\tError\t".to_owned()];
    for t in &report.tenants {
        let state = match t.state {
            TenantState::Pending => "pending",
            TenantState::InSync => "in sync",
            TenantState::Applied => "applied",
            TenantState::Failed => "failed",
            TenantState::BackingOff => "backing off",
            TenantState::Removed => "removed",
        };
        let sync_id = t.desired_sync_id.as_deref().unwrap_or("-");
        let latency = t
            .latency
            .filter(|_| t.state == TenantState::Applied)
            .map(|l| format!("{}ms", l.as_millis()))
            .unwrap_or_else(|| "-".into());
        let error = t
            .last_error
            .as_ref()
            .map(|e| shown_error(&e.to_string(), secrets))
            .unwrap_or_default();
        lines.push(format!(
            "{}\t{state}\t{}\t{latency}\t{error}\t",
            t.tenant,
            &sync_id[..sync_id.len().min(12)]
        ));
    }
    align(&lines)
}

/// The keys of Alertmanager 0.25's configuration whose values are credentials (its
/// `Secret` and `SecretURL` fields), at any depth.
pub const SECRET_KEYS: [&str; 22] = [
    "password",
    "bearer_token",
    "credentials",
    "client_secret",
    "smtp_auth_password",
    "smtp_auth_secret",
    "slack_api_url",
    "opsgenie_api_key",
    "wechat_api_secret",
    "victorops_api_key",
    "auth_password",
    "auth_secret",
    "routing_key",
    "service_key",
    "api_url",
    "api_key",
    "api_secret",
    "user_key",
    "token",
    "bot_token",
    "webhook_url",
    "secret_key",
];

/// The most of an error the table shows, in bytes.
pub const ERROR_SHOWN_MAX: usize = 512;

/// Every credential in the Alertmanager configurations `configs`: the string values of
/// [`SECRET_KEYS`] and the passwords (or lone user names) in URLs.
///
/// ```
/// use alert_examples::alertctl::config_sync::posted_secrets;
/// let yaml = "global: {slack_api_url: 'https://hooks.slack.com/x'}\nreceivers:\n- name: a\n  webhook_configs: [{url: 'http://u:pw@h/'}]\n";
/// assert_eq!(posted_secrets([yaml]), ["https://hooks.slack.com/x", "pw"]);
/// ```
pub fn posted_secrets<'a>(configs: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    fn walk(value: &yaml_serde::Value, secret: bool, found: &mut Vec<String>) {
        match value {
            yaml_serde::Value::String(s) => {
                if secret {
                    found.push(s.clone());
                } else if let Some(userinfo) = url_userinfo(s) {
                    let password = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
                    found.push(password.to_owned());
                }
            }
            yaml_serde::Value::Sequence(items) => {
                items.iter().for_each(|v| walk(v, secret, found));
            }
            yaml_serde::Value::Mapping(map) => {
                for (k, v) in map {
                    let key = k.as_str().is_some_and(|k| SECRET_KEYS.contains(&k));
                    walk(v, key, found);
                }
            }
            yaml_serde::Value::Tagged(t) => walk(&t.value, secret, found),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for config in configs {
        // A configuration that does not parse cannot be searched; the router built it,
        // so it does.
        if let Ok(value) = yaml_serde::from_str::<yaml_serde::Value>(config) {
            walk(&value, false, &mut found);
        }
    }
    found.retain(|s| !s.is_empty());
    found.sort();
    found.dedup();
    found
}

/// The `user:password` of a URL, when it has one.
fn url_userinfo(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &authority[..at])
}

/// A backend's error as `config sync` shows it: every one of `secrets` (what was
/// posted) replaced by `<secret>`, URLs without credentials, on one line, at most
/// [`ERROR_SHOWN_MAX`] bytes.
///
/// ```
/// use alert_examples::alertctl::config_sync::shown_error;
/// let echoed = "POST http://u:p@c/api/v1/alerts: HTTP 400: bad:\n  routing_key: r-key-1\n";
/// assert_eq!(
///     shown_error(echoed, &["r-key-1".to_owned()]),
///     "POST http://<secret>@c/api/v1/alerts: HTTP 400: bad:   routing_key: <secret>"
/// );
/// ```
pub fn shown_error(text: &str, secrets: &[String]) -> String {
    let redacted = redact_urls(&redact_secrets(text, secrets.iter().map(String::as_str)));
    let line = redacted.trim().replace(['\t', '\n', '\r'], " ");
    if line.len() <= ERROR_SHOWN_MAX {
        return line;
    }
    let mut cut = ERROR_SHOWN_MAX;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} more bytes)", &line[..cut], line.len() - cut)
}
