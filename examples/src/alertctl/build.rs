//! `alertctl config build`: one Alertmanager configuration per tenant from a spec file,
//! with the per-tenant builder of `alert_router::builder`.
//!
//! ```text
//! alertctl config build --spec SPEC.yaml --out-dir DIR
//! ```
//!
//! The spec file:
//!
//! ```yaml
//! base_config: base.yml            # optional, relative to the spec file's directory
//! history_webhook: http://127.0.0.1:9094/webhook   # optional; or a mapping:
//! #   {url: ..., group_by: ['...'], group_wait: 30s, group_interval: 5m,
//! #    repeat_interval: 4h, max_alerts: 0}
//! condition_group_by: [alert_condition_id]   # optional
//! endpoints:                       # alert-core endpoints
//!   - id: ops-slack
//!     slack: {api_url: "https://hooks.slack.com/services/T/B/X", channel: "#ops"}
//! conditions:                      # alert-core conditions
//!   - id: cpu-high
//!     tenant: cluster-a
//!     endpoints:
//!       - {id: ops-slack, group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
//! ```
//!
//! Into `DIR` (created if missing) go `<tenant>.yml` for every tenant, `@no-tenant.yml`
//! for the conditions bound to no tenant (`@` is not allowed in a tenant id, so the name
//! cannot be a tenant's), and `manifest.json`:
//!
//! ```json
//! {"tenants": [{"tenant": "cluster-a", "file": "cluster-a.yml", "sync_id": "<sha256>",
//!               "routes": 2, "receivers": 2, "conditions": 1}]}
//! ```
//!
//! (`tenant` is `null` for the no-tenant file.) Every file is written to a temporary name
//! in `DIR`, flushed and renamed into place, the manifest last, so a reader never sees a
//! half-written file and the manifest never names a file that is not there yet. Files
//! the previous manifest listed for tenants that are gone are removed afterwards. Each
//! configuration is read back with the router's reader before it is written.
//!
//! Errors name the file (the spec, or the base configuration) and the path inside it:
//! `alertctl: error: spec.yaml: conditions[cpu-high].endpoints[0].id: ...`. They never
//! show a secret: the spec's type errors leave the value out (`endpoints[0].pagerduty:
//! invalid type: string, expected struct PagerDutyEndpoint at line 2 column 28`),
//! endpoint errors show `<secret>` for secret fields and URLs without credentials. The
//! base configuration's errors are Alertmanager's words without the values its YAML
//! decoder quotes (``cannot unmarshal !!str into config.plain``, where `amtool
//! check-config`, and so `alertctl check-config`, print ``!!str `SECRET-...` ``).
//!
//! ```
//! use clap::Parser;
//! use alert_examples::alertctl::Cli;
//!
//! let dir = tempfile::tempdir()?;
//! let spec = dir.path().join("spec.yaml");
//! std::fs::write(&spec, "endpoints:\n  - {id: pager, pagerduty: {routing_key: abc}}\nconditions:\n  - {id: down, tenant: cluster-a, endpoints: [pager]}\n")?;
//! let out_dir = dir.path().join("out");
//! let cli = Cli::try_parse_from([
//!     "alertctl", "config", "build",
//!     "--spec", spec.to_str().unwrap(), "--out-dir", out_dir.to_str().unwrap(),
//! ])?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(cli.run(&mut out, &mut err), 0, "{}", String::from_utf8_lossy(&err));
//! assert!(out_dir.join("cluster-a.yml").exists());
//! let manifest: serde_json::Value =
//!     serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json"))?)?;
//! assert_eq!(manifest["tenants"][0]["file"], "cluster-a.yml");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alert_router::config::yaml::{MAX_NESTING, check_nesting};
use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use alert_core::{AlertCondition, AlertEndpoint, AlertingSpec, Duration, redact_unexpected_values};
use alert_router::builder::{BuildOptions, Builder, DefaultWebhook, TenantConfig, TenantKey};
use alert_router::config::Config;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::{Run, fail};

/// The file the conditions bound to no tenant are written to.
pub const NO_TENANT_FILE: &str = alert_cortex_adapter::ruler::NO_TENANT_FILE;

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";

/// `config build`: write one Alertmanager configuration per tenant from a spec file.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {
    /// The spec file (base_config, history_webhook, endpoints, conditions).
    #[arg(long, value_name = "SPEC.yaml")]
    pub spec: PathBuf,
    /// The directory the configurations and manifest.json are written to.
    #[arg(long = "out-dir", value_name = "DIR")]
    pub out_dir: PathBuf,
}

impl Run for BuildArgs {
    /// Prints a summary to `out`; errors go to `err` as `alertctl: error: <file>: <path>:
    /// <message>` with status 1.
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match execute(self, out) {
            Ok(()) => 0,
            Err(message) => fail(err, message),
        }
    }
}

/// The spec file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    base_config: Option<PathBuf>,
    #[serde(default)]
    history_webhook: Option<HistorySpec>,
    #[serde(default)]
    condition_group_by: Option<Vec<String>>,
    #[serde(default)]
    endpoints: Vec<AlertEndpoint>,
    #[serde(default)]
    conditions: Vec<AlertCondition>,
}

/// `history_webhook`: a URL, or a mapping with the URL and the route's timing.
struct HistorySpec(DefaultWebhook);

/// The mapping form of `history_webhook`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryFields {
    url: String,
    #[serde(default)]
    group_by: Option<Vec<String>>,
    #[serde(default)]
    group_wait: Option<Duration>,
    #[serde(default)]
    group_interval: Option<Duration>,
    #[serde(default)]
    repeat_interval: Option<Duration>,
    #[serde(default)]
    max_alerts: Option<u64>,
}

impl<'de> Deserialize<'de> for HistorySpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HistoryVisitor;

        impl<'de> Visitor<'de> for HistoryVisitor {
            type Value = HistorySpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a webhook URL, or a mapping with url, group_by, group_wait, \
                     group_interval, repeat_interval, max_alerts",
                )
            }

            fn visit_str<E: de::Error>(self, url: &str) -> Result<HistorySpec, E> {
                Ok(HistorySpec(DefaultWebhook::new(url)))
            }

            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<HistorySpec, M::Error> {
                let f = HistoryFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let mut history = DefaultWebhook::new(f.url);
                if let Some(group_by) = f.group_by {
                    history.group_by = group_by;
                }
                history.group_wait = f.group_wait.unwrap_or(history.group_wait);
                history.group_interval = f.group_interval.unwrap_or(history.group_interval);
                history.repeat_interval = f.repeat_interval.unwrap_or(history.repeat_interval);
                history.max_alerts = f.max_alerts.unwrap_or(history.max_alerts);
                Ok(HistorySpec(history))
            }
        }

        deserializer.deserialize_any(HistoryVisitor)
    }
}

/// The file a tenant's configuration is written to.
///
/// ```
/// use alert_examples::alertctl::build::file_name;
/// use alert_router::builder::TenantKey;
///
/// assert_eq!(file_name(&TenantKey::Unbound), "@no-tenant.yml");
/// assert_eq!(file_name(&TenantKey::Tenant("cluster-a".parse()?)), "cluster-a.yml");
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn file_name(tenant: &TenantKey) -> String {
    // The same names as the rule files the ruler backend writes.
    alert_cortex_adapter::ruler::rule_file_name(tenant)
}

/// Reads the spec file and its base configuration into build options and a spec.
fn read_spec(path: &Path) -> Result<(AlertingSpec, BuildOptions), String> {
    let shown = path.display();
    let text = fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    // Endpoints carry credentials: a type error names the field, the type and the line,
    // never the value (`invalid type: string, expected struct PagerDutyEndpoint`).
    check_nesting(&text, MAX_NESTING).map_err(|e| format!("{shown}: {e}"))?;
    let file: SpecFile = yaml_serde::from_str(&text)
        .map_err(|e| format!("{shown}: {}", redact_unexpected_values(&e.to_string())))?;
    let spec = AlertingSpec {
        endpoints: file.endpoints,
        conditions: file.conditions,
        slos: Vec::new(),
    };
    spec.validate().map_err(|e| format!("{shown}: {e}"))?;
    let mut options = BuildOptions {
        history: file.history_webhook.map(|h| h.0),
        ..BuildOptions::default()
    };
    if let Some(group_by) = file.condition_group_by {
        options.condition_group_by = group_by;
    }
    if let Some(base) = file.base_config {
        let base_path = path.parent().unwrap_or(Path::new("")).join(&base);
        let base_bytes = fs::read(&base_path)
            .map_err(|e| format!("{shown}: base_config: {}: {e}", base_path.display()))?;
        let config = Config::from_yaml_bytes(&base_bytes).map_err(|e| {
            let e = redact_unexpected_values(&e.to_string());
            format!("{}: {e}", base_path.display())
        })?;
        options.base = Some(config);
    }
    Ok((spec, options))
}

/// Every tenant's configuration from the spec file at `path`: the spec and its base
/// configuration are read, the router's builder renders one configuration per tenant
/// (ordered by [`TenantKey`], the conditions bound to no tenant first), and each is read
/// back with the router's reader. What `config build` writes and `config sync` applies.
///
/// Errors name the file (the spec, or the base configuration) and the path inside it,
/// never a secret (see the [module documentation](self)).
///
/// ```
/// use alert_examples::alertctl::build::build_spec_file;
/// use alert_router::builder::TenantKey;
///
/// let dir = tempfile::tempdir()?;
/// let spec = dir.path().join("spec.yaml");
/// std::fs::write(&spec, "endpoints:\n  - {id: pager, pagerduty: {routing_key: abc}}\nconditions:\n  - {id: down, tenant: cluster-a, endpoints: [pager]}\n")?;
/// let configs = build_spec_file(&spec)?;
/// assert_eq!(configs.len(), 1);
/// assert_eq!(configs[0].tenant, TenantKey::Tenant("cluster-a".parse()?));
///
/// std::fs::write(&spec, "conditions:\n  - {id: down, endpoints: [nope]}\n")?;
/// let e = build_spec_file(&spec).unwrap_err();
/// assert!(e.starts_with(&format!("{}: conditions[down].endpoints[0].id: ", spec.display())), "{e}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn build_spec_file(path: &Path) -> Result<Vec<TenantConfig>, String> {
    let (spec, options) = read_spec(path)?;
    let tenants = Builder::from_spec(spec, options)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_configs();
    for tenant in &tenants {
        // What is written or applied must read back; the builder has checked it already.
        Config::from_yaml(&tenant.yaml)
            .map_err(|e| format!("{} for {}: {e}", file_name(&tenant.tenant), tenant.tenant))?;
    }
    Ok(tenants)
}

fn execute(args: &BuildArgs, out: &mut dyn Write) -> Result<(), String> {
    let tenants = build_spec_file(&args.spec)?;

    let dir = &args.out_dir;
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let previous = previous_files(dir);
    let mut written = BTreeSet::new();
    let mut entries = Vec::with_capacity(tenants.len());
    for tenant in &tenants {
        let name = file_name(&tenant.tenant);
        write_atomically(&dir.join(&name), tenant.yaml.as_bytes())?;
        entries.push(json!({
            "tenant": tenant.tenant.tenant().map(|t| t.as_str()),
            "file": name,
            "sync_id": tenant.sync_id,
            "routes": tenant.routes,
            "receivers": tenant.receivers,
            "conditions": tenant.conditions,
        }));
        written.insert(name);
    }
    let manifest = json!({ "tenants": entries });
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    bytes.push(b'\n');
    write_atomically(&dir.join(MANIFEST_FILE), &bytes)?;
    for stale in previous.difference(&written) {
        let path = dir.join(stale);
        if let Err(e) = fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(format!("{}: {e}", path.display()));
        }
    }

    let io = |e: std::io::Error| e.to_string();
    writeln!(
        out,
        "Wrote {} configuration{} to '{}':",
        tenants.len(),
        if tenants.len() == 1 { "" } else { "s" },
        dir.display()
    )
    .map_err(io)?;
    let width = written.iter().map(String::len).max().unwrap_or(0);
    for tenant in &tenants {
        writeln!(
            out,
            "  {:<width$}  sync_id={}  routes={} receivers={} conditions={}",
            file_name(&tenant.tenant),
            &tenant.sync_id[..12],
            tenant.routes,
            tenant.receivers,
            tenant.conditions,
        )
        .map_err(io)?;
    }
    writeln!(out, "Manifest: '{}'", dir.join(MANIFEST_FILE).display()).map_err(io)?;
    Ok(())
}

/// The files the manifest already in `dir` lists (none if there is none or it does not
/// read as one).
fn previous_files(dir: &Path) -> BTreeSet<String> {
    let Ok(bytes) = fs::read(dir.join(MANIFEST_FILE)) else {
        return BTreeSet::new();
    };
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return BTreeSet::new();
    };
    manifest["tenants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["file"].as_str())
        // Only names this command writes, never a path elsewhere.
        .filter(|f| f.ends_with(".yml") && !f.contains('/') && !f.contains('\\'))
        .map(str::to_owned)
        .collect()
}

/// Writes `bytes` to `path` through a temporary file in the same directory, flushed to
/// disk before it is renamed over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Tenant files end in `.yml`; this name cannot be one.
    let temp = path.with_file_name(format!(".{name}.@tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&temp);
        format!("{}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::alertctl::Cli;

    const SPEC: &str = r##"
base_config: base.yml
history_webhook: {url: "http://127.0.0.1:9094/webhook", repeat_interval: 15m}
endpoints:
  - id: ops-slack
    slack: {api_url: "https://hooks.slack.com/services/T/B/X", channel: "#ops"}
  - id: pager
    pagerduty: {routing_key: "abc"}
conditions:
  - id: cpu-high
    tenant: cluster-a
    name: CPU high
    severity: critical
    labels: {team: infra}
    endpoints:
      - {id: ops-slack, group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
  - id: disk-full
    tenant: "yes"
    endpoints: [pager, ops-slack]
  - id: heartbeat
    endpoints: [pager]
"##;

    const BASE: &str = "route:\n  receiver: ops\nreceivers:\n  - name: ops\n";

    fn run(args: &[&str]) -> (i32, String, String) {
        let cli = Cli::try_parse_from(args).expect("parses");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = cli.run(&mut out, &mut err);
        (
            code,
            String::from_utf8(out).expect("utf-8"),
            String::from_utf8(err).expect("utf-8"),
        )
    }

    fn build(spec: &Path, out_dir: &Path) -> (i32, String, String) {
        run(&[
            "alertctl",
            "config",
            "build",
            "--spec",
            spec.to_str().expect("path"),
            "--out-dir",
            out_dir.to_str().expect("path"),
        ])
    }

    #[test]
    fn writes_one_file_per_tenant_and_a_manifest() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("base.yml"), BASE).expect("write");
        let spec = dir.path().join("spec.yaml");
        fs::write(&spec, SPEC).expect("write");
        let out_dir = dir.path().join("out");
        let (code, out, err) = build(&spec, &out_dir);
        assert_eq!(code, 0, "{err}");
        let files: BTreeSet<String> = fs::read_dir(&out_dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            files,
            [
                "@no-tenant.yml",
                "cluster-a.yml",
                "manifest.json",
                "yes.yml"
            ]
            .map(str::to_owned)
            .into()
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(out_dir.join(MANIFEST_FILE)).expect("read"))
                .expect("json");
        let tenants = manifest["tenants"].as_array().expect("tenants");
        assert_eq!(tenants.len(), 3);
        assert_eq!(tenants[0]["tenant"], serde_json::Value::Null);
        assert_eq!(tenants[0]["file"], NO_TENANT_FILE);
        assert_eq!(tenants[1]["tenant"], "cluster-a");
        assert_eq!(tenants[2]["tenant"], "yes");
        for t in tenants {
            let yaml =
                fs::read_to_string(out_dir.join(t["file"].as_str().expect("file"))).expect("read");
            assert_eq!(t["sync_id"], alert_router::builder::sync_id(&yaml));
            let config = Config::from_yaml(&yaml).expect("reads");
            assert_eq!(t["receivers"], config.receivers.len());
            assert_eq!(t["routes"], config.route.count() - 1);
            // The base's root receiver stays the root; history first with the spec's timer.
            assert_eq!(config.route.receiver.as_deref(), Some("ops"));
            assert_eq!(
                config.route.routes[0]
                    .repeat_interval
                    .map(|d| d.to_string()),
                Some("15m".to_owned())
            );
        }
        assert_eq!(tenants[1]["conditions"], 1);
        assert!(out.starts_with(&format!(
            "Wrote 3 configurations to '{}':\n",
            out_dir.display()
        )));
        assert!(out.contains("  cluster-a.yml   sync_id="), "{out}");
        // Real amtool accepts every file.
        let paths: Vec<String> = files
            .iter()
            .filter(|f| f.ends_with(".yml"))
            .map(|f| out_dir.join(f).display().to_string())
            .collect();
        let checked = alert_testkit::amtool(
            std::iter::once("check-config".to_owned()).chain(paths.iter().cloned()),
        );
        assert!(checked.success(), "{}{}", checked.stdout, checked.stderr);

        // Building again from a spec without the "yes" tenant removes its file.
        fs::write(&spec, SPEC.replace("tenant: \"yes\"", "tenant: cluster-a")).expect("write");
        let (code, _, err) = build(&spec, &out_dir);
        assert_eq!(code, 0, "{err}");
        assert!(!out_dir.join("yes.yml").exists());
        assert!(out_dir.join("cluster-a.yml").exists());
        let leftovers: Vec<String> = fs::read_dir(&out_dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("@tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn errors_name_the_file_and_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = dir.path().join("spec.yaml");
        let out_dir = dir.path().join("out");
        let shown = spec.display().to_string();
        // Writes the spec, runs the build, expects it to fail; returns stderr.
        let fails = |text: &str| {
            fs::write(&spec, text).expect("write");
            let (code, _, err) = build(&spec, &out_dir);
            assert_eq!(code, 1, "{err}");
            err
        };

        let err = fails("conditions:\n  - {id: cpu, endpoints: [nope]}\n");
        assert_eq!(
            err,
            format!(
                "alertctl: error: {shown}: conditions[cpu].endpoints[0].id: the id of an \
                 endpoint in endpoints, got \"nope\"\n"
            )
        );

        let err = fails(
            "endpoints:\n  - {id: teams, msteams: {webhook_url: 'https://example.org/x'}}\nconditions:\n  - {id: cpu, endpoints: [teams]}\n",
        );
        assert!(
            err.starts_with(&format!(
                "alertctl: error: {shown}: endpoints[teams].msteams: endpoint \"teams\" is a \
                 Microsoft Teams webhook"
            )),
            "{err}"
        );

        let err = fails("base_config: missing.yml\n");
        assert!(
            err.starts_with(&format!("alertctl: error: {shown}: base_config: ")),
            "{err}"
        );
        assert!(err.contains("missing.yml"), "{err}");

        let base = dir.path().join("base.yml");
        fs::write(&base, "route: {receiver: nope}\nreceivers: []\n").expect("write");
        let err = fails("base_config: base.yml\n");
        assert_eq!(
            err,
            format!(
                "alertctl: error: {}: route.receiver: undefined receiver \"nope\" used in route\n",
                base.display()
            )
        );

        let err = fails("endpoint: []\n");
        assert!(err.contains("unknown field `endpoint`"), "{err}");
        assert!(err.contains(&shown), "{err}");
        assert!(!out_dir.exists(), "nothing is written on error");
    }
}
