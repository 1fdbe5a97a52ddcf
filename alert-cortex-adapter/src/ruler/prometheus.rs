//! Rule files in a directory Prometheus loads (`rule_files: [DIR/*.yml]`), one per tenant
//! (`<tenant>.yml`, `@no-tenant.yml`), then `POST /-/reload`, confirmed through
//! `GET /api/v1/rules`.
//!
//! Prometheus answers `/-/reload` only after it has tried every file: 200, or 500 with
//! `failed to reload config: one or more errors occurred while applying the new
//! configuration (--config.file="…")`, in which case it keeps running the previous rule
//! set (`error loading rules, previous rule set restored`). The reason is only in its log,
//! so with [`PrometheusRules::with_promtool`] a file is checked by `promtool check rules`
//! first and refused with promtool's message before it touches the directory. Either way
//! a refused file is put back as it was, so that the tenant keeps its last working rules,
//! across restarts too.
//!
//! Prometheus shows expressions re-rendered in its own format (`up==0` as `up == 0`), so
//! [`RuleBackend::confirm`] compares group names and, per rule, kind, name, `for`, labels
//! and annotations, not the expression text.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use alert_router::builder::TenantKey;
use alert_router::rules::{AlertingRule, RecordingRule, Rule, RuleFile, RuleGroup};
use async_trait::async_trait;
use futures::future::join_all;
use serde::Deserialize;

use crate::client::{AlertmanagerClient, Call, DEFAULT_TIMEOUT};
use crate::error::{Error, Result};
use crate::ruler::{
    Applied, Redact, RuleBackend, check_unique_groups, plan, read_rule_file, rejected,
    rule_file_name, same_groups,
};
use crate::syncer::write_atomic;

/// A rule directory and the Prometheus servers that load it.
///
/// ```no_run
/// use alert_cortex_adapter::{PrometheusRules, RuleBackend};
/// use alert_router::builder::TenantKey;
/// # async fn run(file: alert_router::rules::RuleFile) -> Result<(), alert_cortex_adapter::Error> {
/// let backend = PrometheusRules::new("/etc/prometheus/rules.d", "http://prom-0:9090")?
///     .with_instance("http://prom-1:9090")?
///     .with_promtool("/usr/bin/promtool");
/// let tenant = TenantKey::Tenant("cluster-a".parse()?);
/// backend.apply(&tenant, &file).await?;
/// assert!(backend.confirm(&tenant, &file).await?);
/// # Ok(()) }
/// ```
pub struct PrometheusRules {
    dir: PathBuf,
    instances: Vec<AlertmanagerClient>,
    promtool: Option<PathBuf>,
    timeout: Duration,
    redact: Redact,
    /// One write-and-reload at a time: a reload loads every tenant's file, so a refusal
    /// must be the file just written.
    writing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for PrometheusRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusRules")
            .field("dir", &self.dir)
            .field("instances", &self.instance_names())
            .field("promtool", &self.promtool)
            .finish()
    }
}

impl PrometheusRules {
    /// Rule files in `dir`, loaded by the Prometheus at `url` (scheme, host, port and any
    /// `--web.route-prefix`).
    pub fn new(dir: impl Into<PathBuf>, url: &str) -> Result<PrometheusRules> {
        PrometheusRules {
            dir: dir.into(),
            instances: Vec::new(),
            promtool: None,
            timeout: DEFAULT_TIMEOUT,
            redact: Redact::default(),
            writing: tokio::sync::Mutex::new(()),
        }
        .with_instance(url)
    }

    /// Another Prometheus that loads the same directory (an HA pair): each is reloaded,
    /// and rules are confirmed on all.
    pub fn with_instance(mut self, url: &str) -> Result<PrometheusRules> {
        self.redact.add_url(url);
        let client = self.client(url)?;
        self.instances.push(client);
        Ok(self)
    }

    /// The timeout of each call (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<PrometheusRules> {
        self.timeout = timeout;
        let urls: Vec<String> = self
            .instances
            .iter()
            .map(|c| c.base_url().to_owned())
            .collect();
        self.instances = urls.iter().map(|u| self.client(u)).collect::<Result<_>>()?;
        Ok(self)
    }

    /// Checks every file with `promtool check rules` before writing it, so that a broken
    /// file is refused with promtool's reason (Prometheus' own reload answer does not say
    /// which rule failed) and never reaches the directory.
    pub fn with_promtool(mut self, promtool: impl Into<PathBuf>) -> PrometheusRules {
        self.promtool = Some(promtool.into());
        self
    }

    /// The rule directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a tenant's rules.
    pub fn file_path(&self, tenant: &TenantKey) -> PathBuf {
        self.dir.join(rule_file_name(tenant))
    }

    fn client(&self, url: &str) -> Result<AlertmanagerClient> {
        AlertmanagerClient::builder(url)
            .name(self.redact.text(url))
            .timeout(self.timeout)
            .build()
            .map_err(|e| self.redact.error(e))
    }

    fn instance_names(&self) -> Vec<&str> {
        self.instances
            .iter()
            .map(AlertmanagerClient::name)
            .collect()
    }

    /// `POST /-/reload` on every instance; the first failure.
    async fn reload_all(&self) -> Result<()> {
        let results = join_all(self.instances.iter().map(AlertmanagerClient::reload)).await;
        results
            .into_iter()
            .collect::<Result<Vec<()>>>()
            .map(drop)
            .map_err(|e| self.redact.error(e))
    }

    /// The tenant's groups as one instance shows them.
    async fn loaded(&self, client: &AlertmanagerClient, tenant: &TenantKey) -> Result<RuleFile> {
        let name = rule_file_name(tenant);
        Ok(self
            .loaded_files(client)
            .await?
            .remove(&name)
            .unwrap_or_default())
    }

    /// Every rule file one instance has loaded, by file name, with its groups.
    async fn loaded_files(&self, client: &AlertmanagerClient) -> Result<HashMap<String, RuleFile>> {
        let answer = client
            .send(Call::get("/api/v1/rules".to_owned()))
            .await
            .map_err(|e| self.redact.error(e))?;
        let rules: RulesAnswer = answer.json().map_err(|e| self.redact.error(e))?;
        let mut files: HashMap<String, RuleFile> = HashMap::new();
        for group in rules.data.groups {
            let Some(name) = Path::new(&group.file)
                .file_name()
                .and_then(|f| f.to_str())
                .map(str::to_owned)
            else {
                continue;
            };
            files
                .entry(name)
                .or_default()
                .groups
                .push(group.into_group());
        }
        Ok(files)
    }

    /// Writes `content` to `path`, or removes `path` when `None`.
    async fn put(&self, path: &Path, content: Option<&str>) -> Result<()> {
        match content {
            Some(text) => write_atomic(path, text).await,
            None => match tokio::fs::remove_file(path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::Io {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }),
            },
        }
    }

    /// `promtool check rules` on `text`, written beside the tenant's file under a name
    /// the `*.yml` glob does not match; promtool's reason when it refuses.
    async fn check(
        &self,
        promtool: &Path,
        tenant: &TenantKey,
        text: &str,
    ) -> Result<Option<String>> {
        let name = rule_file_name(tenant);
        let scratch = self
            .dir
            .join(format!(".{name}.check-{}", std::process::id()));
        write_atomic(&scratch, text).await?;
        let output = tokio::process::Command::new(promtool)
            .args(["check", "rules"])
            .arg(&scratch)
            .output()
            .await;
        let _ = tokio::fs::remove_file(&scratch).await;
        let output = output.map_err(|e| Error::Io {
            path: promtool.display().to_string(),
            reason: format!("cannot run promtool: {e}"),
        })?;
        if output.status.success() {
            return Ok(None);
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        let failed = text.split_once("FAILED:").map_or(text.as_str(), |(_, r)| r);
        let reason = failed
            .lines()
            .map(str::trim)
            .take_while(|l| !l.starts_with("Checking "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
            .replace(&scratch.display().to_string(), &name);
        Ok(Some(reason))
    }
}

#[async_trait]
impl RuleBackend for PrometheusRules {
    fn kind(&self) -> &'static str {
        "prometheus"
    }

    async fn apply(&self, tenant: &TenantKey, file: &RuleFile) -> Result<Applied> {
        check_unique_groups(tenant, file)?;
        let _writing = self.writing.lock().await;
        let path = self.file_path(tenant);
        let before = match tokio::fs::read_to_string(&path).await {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(Error::Io {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        // A file this backend did not write and cannot read counts as holding nothing.
        let previous = before
            .as_deref()
            .and_then(|t| read_rule_file(t).ok())
            .unwrap_or_default();
        let wanted = (!file.groups.is_empty()).then(|| file.to_yaml());
        let applied = plan(&previous, file);
        if before == wanted {
            return Ok(applied);
        }
        if let (Some(promtool), Some(text)) = (&self.promtool, &wanted)
            && let Some(reason) = self.check(promtool, tenant, text).await?
        {
            return Err(rejected(tenant, file, reason));
        }
        self.put(&path, wanted.as_deref()).await?;
        let Err(refused) = self.reload_all().await else {
            return Ok(applied);
        };
        // Put the last working file back, and have Prometheus load it again.
        self.put(&path, before.as_deref()).await?;
        let again = self.reload_all().await.err();
        match refused.status() {
            Some(400 | 500) => {
                let mut message = refused.server_message().unwrap_or_default().to_owned();
                if let Some(e) = again {
                    message.push_str(&format!("; reloading the previous rules failed too: {e}"));
                }
                Err(self.redact.error(rejected(tenant, file, message)))
            }
            _ => Err(refused),
        }
    }

    async fn current(&self, tenant: &TenantKey) -> Result<RuleFile> {
        match self.instances.first() {
            Some(first) => self.loaded(first, tenant).await,
            None => Ok(RuleFile::default()),
        }
    }

    async fn confirm(&self, tenant: &TenantKey, file: &RuleFile) -> Result<bool> {
        for client in &self.instances {
            if !same_groups(&self.loaded(client, tenant).await?, file, false) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn confirm_many(
        &self,
        files: &BTreeMap<TenantKey, RuleFile>,
    ) -> Result<BTreeMap<TenantKey, bool>> {
        let mut out: BTreeMap<TenantKey, bool> = files.keys().map(|t| (t.clone(), true)).collect();
        for client in &self.instances {
            let loaded = self.loaded_files(client).await?;
            for (tenant, file) in files {
                let shown = loaded.get(&rule_file_name(tenant));
                let same = match shown {
                    Some(shown) => same_groups(shown, file, false),
                    None => file.groups.is_empty(),
                };
                if !same {
                    out.insert(tenant.clone(), false);
                }
            }
        }
        Ok(out)
    }

    async fn remove(&self, tenant: &TenantKey) -> Result<()> {
        let _writing = self.writing.lock().await;
        let path = self.file_path(tenant);
        if !tokio::fs::try_exists(&path).await.unwrap_or(true) {
            return Ok(());
        }
        self.put(&path, None).await?;
        self.reload_all().await
    }
}

/// `GET /api/v1/rules`.
#[derive(Deserialize)]
struct RulesAnswer {
    data: RulesData,
}

#[derive(Deserialize)]
struct RulesData {
    #[serde(default)]
    groups: Vec<LoadedGroup>,
}

#[derive(Deserialize)]
struct LoadedGroup {
    name: String,
    file: String,
    #[serde(default)]
    rules: Vec<LoadedRule>,
}

#[derive(Deserialize)]
struct LoadedRule {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    query: String,
    /// `for`, in seconds.
    #[serde(default)]
    duration: f64,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

impl LoadedGroup {
    fn into_group(self) -> RuleGroup {
        RuleGroup {
            name: self.name,
            rules: self
                .rules
                .into_iter()
                .map(|r| {
                    if r.kind == "alerting" {
                        let millis = (r.duration * 1000.0).round();
                        let for_duration = (millis >= 1.0)
                            .then(|| alert_core::Duration::from_millis(millis as u64))
                            .flatten()
                            .map(|d| d.to_string());
                        Rule::Alert(AlertingRule {
                            alert: r.name,
                            expr: r.query,
                            for_duration,
                            labels: r.labels.unwrap_or_default(),
                            annotations: r.annotations.unwrap_or_default(),
                        })
                    } else {
                        Rule::Record(RecordingRule {
                            record: r.name,
                            expr: r.query,
                            labels: r.labels.unwrap_or_default(),
                        })
                    }
                })
                .collect(),
        }
    }
}
