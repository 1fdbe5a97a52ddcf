//! `alertctl config sync`: build one configuration per tenant from a spec file (as
//! `alertctl config build` does: [`build_spec_file`], with `alert_router::builder`) and
//! apply them with the syncer of alert-cortex-adapter, printing each tenant's status.
//!
//! ```text
//! alertctl config sync --spec SPEC.yaml --backend cortex|mimir --alertmanager.url URL
//!                      [--default-tenant ID] [--prefix /alertmanager]
//!                      [--limits.max-config-size-bytes N] [--limits.max-templates-count N]
//!                      [--limits.max-template-size-bytes N]
//! alertctl config sync --spec SPEC.yaml --backend alertmanager --alertmanager.url URL...
//!                      --config.file FILE... [--tenant ID]
//! ```
//!
//! - Cortex/Mimir: every tenant's configuration is posted to `/api/v1/alerts` with its
//!   org id, then its `/api/v2/status` is polled until the configuration runs. The
//!   conditions bound to no tenant go to `--default-tenant` (or are left out, with a
//!   warning, without one, or when that tenant has conditions of its own). A tenant
//!   whose stored configuration is already the built one and running is not written
//!   again. Before anything is posted, each configuration is checked against the
//!   tenant limits given with `--limits.*` (Cortex's `alertmanager_max_*` overrides; 0
//!   or none is no limit) and the settings Cortex and Mimir do not allow; a tenant that
//!   breaks them is reported failed, with the field and Cortex's (or Mimir's) words, and
//!   nothing is sent for it.
//! - A vanilla Alertmanager runs one configuration: the one of `--tenant` (or the only
//!   one the spec builds). It is written to `--config.file` (one per URL, or one for all)
//!   and loaded with `/-/reload`; a configuration Alertmanager refuses leaves the
//!   running one in place and is reported. It has no tenant limits: `--limits.*` is
//!   refused.
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

use alert_core::{TenantId, redact_secrets, redact_urls};
use alert_cortex_adapter::{
    ConfigBackend, CortexBackend, DesiredConfig, FileReloadBackend, FileTarget, SyncOptions,
    SyncReport, Syncer, TenantState, UnboundConfig, desired_configs,
};
use alert_router::validate::{TenantBackend, TenantLimits, TenantRules};

use crate::alertctl::build::build_spec_file;
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
    /// Cortex/Mimir: the tenant limits checked before anything is sent.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// How long a configuration may take to run before the tenant is reported failed.
    #[arg(long = "live-timeout", value_name = "DURATION", default_value = "60s")]
    pub live_timeout: String,
    /// Tenants applied at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// `--limits.*`: Cortex's and Mimir's per-tenant Alertmanager limits, named after their
/// overrides. 0 is no limit, as there.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct LimitArgs {
    /// Cortex/Mimir `alertmanager_max_config_size_bytes`: the most bytes a tenant's
    /// configuration (with its templates) may have.
    #[arg(long = "limits.max-config-size-bytes", value_name = "BYTES")]
    pub max_config_size_bytes: Option<usize>,
    /// Cortex/Mimir `alertmanager_max_templates_count`: the most template files a tenant
    /// may upload.
    #[arg(long = "limits.max-templates-count", value_name = "N")]
    pub max_templates_count: Option<usize>,
    /// Cortex/Mimir `alertmanager_max_template_size_bytes`: the most bytes one template
    /// file may have.
    #[arg(long = "limits.max-template-size-bytes", value_name = "BYTES")]
    pub max_template_size_bytes: Option<usize>,
}

impl LimitArgs {
    /// The limits, 0 read as no limit.
    ///
    /// ```
    /// use alert_examples::alertctl::config_sync::LimitArgs;
    /// let args = LimitArgs { max_config_size_bytes: Some(1024), max_templates_count: Some(0), ..LimitArgs::default() };
    /// let limits = args.limits();
    /// assert_eq!((limits.max_config_size_bytes, limits.max_templates_count), (Some(1024), None));
    /// ```
    pub fn limits(&self) -> TenantLimits {
        let limit = |v: Option<usize>| v.filter(|n| *n > 0);
        TenantLimits {
            max_config_size_bytes: limit(self.max_config_size_bytes),
            max_templates_count: limit(self.max_templates_count),
            max_template_size_bytes: limit(self.max_template_size_bytes),
        }
    }

    /// The flags given, as written on the command line.
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--limits.max-config-size-bytes", self.max_config_size_bytes),
            ("--limits.max-templates-count", self.max_templates_count),
            (
                "--limits.max-template-size-bytes",
                self.max_template_size_bytes,
            ),
        ]
        .into_iter()
        .filter_map(|(flag, v)| v.map(|_| flag))
        .collect()
    }
}

impl Run for SyncArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match execute(self, out, err) {
            Ok(()) => 0,
            Err(message) => fail(err, message),
        }
    }
}

fn duration(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<alert_core::Duration>()
        .map(|d| d.to_std())
        .map_err(|e| format!("--{flag}: {e}"))
}

fn execute(args: &SyncArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    if args.connection.backend == BackendKind::Alertmanager
        && let Some(flag) = args.limits.given().first()
    {
        return Err(format!(
            "{flag} is a Cortex/Mimir tenant limit: use it with --backend cortex or --backend mimir; an Alertmanager has no tenant limits"
        ));
    }
    let default_tenant: Option<TenantId> = args
        .default_tenant
        .as_deref()
        .map(|t| t.parse().map_err(|e| format!("--default-tenant: {e}")))
        .transpose()?;
    let built = build_spec_file(&args.spec)?;
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
            let desired = desired_configs(&built, default_tenant.as_ref());
            match &desired.unbound {
                UnboundConfig::LeftOut => {
                    let _ = writeln!(
                        err,
                        "alertctl: warning: conditions bound to no tenant are left out; name a tenant for them with --default-tenant"
                    );
                }
                UnboundConfig::Collides(tenant) => {
                    let _ = writeln!(
                        err,
                        "alertctl: warning: conditions bound to no tenant are left out: --default-tenant {tenant} has conditions of its own, and a tenant runs one configuration; name another tenant"
                    );
                }
                UnboundConfig::Absent | UnboundConfig::Filed(_) => {}
            }
            let desired = desired.configs;
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
                let rules = TenantRules {
                    backend: if args.connection.backend == BackendKind::Mimir {
                        TenantBackend::Mimir
                    } else {
                        TenantBackend::Cortex
                    },
                    limits: args.limits.limits(),
                    ..TenantRules::default()
                };
                let backend = CortexBackend::new(client).with_tenant_rules(rules);
                run_sync(&runtime, backend, options, &desired)
            }
        }
        BackendKind::Alertmanager => {
            let chosen = match &args.connection.tenant {
                Some(t) => built
                    .into_iter()
                    .find(|b| b.tenant.tenant().map(TenantId::as_str) == Some(t.as_str()))
                    .ok_or_else(|| format!("the spec builds no configuration for tenant {t:?}"))?,
                None => {
                    let mut all = built;
                    if all.len() != 1 {
                        let names: Vec<String> = all.iter().map(|b| b.tenant.to_string()).collect();
                        return Err(format!(
                            "an Alertmanager runs one configuration and the spec builds {}: {}; choose one with --tenant",
                            names.len(),
                            names.join(", ")
                        ));
                    }
                    all.remove(0)
                }
            };
            let unbound: TenantId = UNBOUND_TENANT
                .parse()
                .map_err(|e: alert_core::Error| e.to_string())?;
            let desired = DesiredConfig::from_tenant_config(&chosen, Some(&unbound))
                .ok_or_else(|| format!("no tenant to file {} under", chosen.tenant))?;
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
                        desired.tenant.clone(),
                        FileTarget {
                            config_path,
                            client,
                        },
                    )
                },
            );
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
