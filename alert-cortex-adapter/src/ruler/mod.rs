//! Where rule files go: a tenant's Prometheus rules ([`RuleFile`], one per tenant, from
//! `alert_router::rules::rule_files`) made live on a backend that evaluates them.
//!
//! One trait, [`RuleBackend`], two implementations, one [`conformance`] suite both pass:
//!
//! - [`PrometheusRules`]: a directory Prometheus loads (`rule_files: [DIR/*.yml]`), one
//!   file per tenant written atomically, `POST /-/reload`, confirmed through
//!   `GET /api/v1/rules`;
//! - [`RulerApi`]: Cortex's and Mimir's ruler configuration API, one rule group per
//!   `POST <path>/{namespace}` with the tenant's `X-Scope-OrgID`, through the same
//!   [`Addressing`](crate::Addressing) as the Alertmanager API.
//!
//! [`RuleBackend::apply`] replaces a tenant's rules with exactly the groups of a file and
//! says what changed ([`Applied`]); rules the backend refuses are
//! [`Error::ConfigRejected`] with the backend's message, and the tenant keeps the rules it
//! had. [`RuleBackend::confirm`] says whether the backend shows the file's groups.
//!
//! ```no_run
//! use alert_cortex_adapter::{PrometheusRules, RuleBackend};
//! use alert_router::rules::rule_files;
//! # async fn run(spec: alert_core::AlertingSpec) -> Result<(), alert_cortex_adapter::Error> {
//! let backend = PrometheusRules::new("/etc/prometheus/rules.d", "http://127.0.0.1:9090")?
//!     .with_promtool("/usr/bin/promtool");
//! for (tenant, file) in rule_files(&spec) {
//!     let applied = backend.apply(&tenant, &file).await?;
//!     println!("{tenant}: {} created, {} updated, {} deleted",
//!         applied.created.len(), applied.updated.len(), applied.deleted.len());
//!     assert!(backend.confirm(&tenant, &file).await?);
//! }
//! # Ok(()) }
//! ```

pub mod conformance;
mod prometheus;
mod ruler_api;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use alert_router::builder::TenantKey;
use alert_router::rules::{AlertingRule, RecordingRule, Rule, RuleFile, RuleGroup};
use async_trait::async_trait;
use serde::Deserialize;

use crate::error::{Error, Result};

pub use prometheus::PrometheusRules;
pub use ruler_api::{CORTEX_RULES_PATH, DEFAULT_NAMESPACE, MIMIR_RULES_PATH, RulerApi};

/// The file of the rules bound to no tenant, as `alertctl build` names it.
pub const NO_TENANT_FILE: &str = "@no-tenant.yml";

/// The longest server message an error keeps (the rest is cut, marked `…`).
const MAX_MESSAGE_CHARS: usize = 1024;

/// A tenant's rule file name: `<tenant>.yml`, or [`NO_TENANT_FILE`]. Tenant ids cannot
/// hold `/` or be `.` or `..`, so the name never leaves the directory.
///
/// ```
/// use alert_cortex_adapter::ruler::rule_file_name;
/// use alert_router::builder::TenantKey;
/// assert_eq!(rule_file_name(&TenantKey::Tenant("cluster-a".parse()?)), "cluster-a.yml");
/// assert_eq!(rule_file_name(&TenantKey::Unbound), "@no-tenant.yml");
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn rule_file_name(tenant: &TenantKey) -> String {
    match tenant {
        TenantKey::Unbound => NO_TENANT_FILE.to_owned(),
        TenantKey::Tenant(id) => format!("{id}.yml"),
    }
}

/// What [`RuleBackend::apply`] changed, by group name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Groups the tenant did not have.
    pub created: Vec<String>,
    /// Groups whose rules changed.
    pub updated: Vec<String>,
    /// Groups the tenant had and the file no longer holds.
    pub deleted: Vec<String>,
    /// Groups that were already as the file says.
    pub unchanged: Vec<String>,
}

impl Applied {
    /// Whether anything was created, updated or deleted.
    pub fn changed(&self) -> bool {
        !(self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty())
    }
}

/// Where a tenant's rules go. Implementations translate; what the rules are is
/// `alert-router`'s business.
#[async_trait]
pub trait RuleBackend: Send + Sync {
    /// A short name for reports (`prometheus`, `cortex`, `mimir`).
    fn kind(&self) -> &'static str;

    /// Replaces the tenant's rules with exactly the groups of `file`: creates and updates
    /// what changed, deletes groups no longer present, sends nothing when nothing changed.
    /// An empty file removes the tenant's rules. Rules the backend refuses are
    /// [`Error::ConfigRejected`] (with the file's sync id, a SHA-256 of its YAML), and
    /// the tenant keeps the rules it had.
    async fn apply(&self, tenant: &TenantKey, file: &RuleFile) -> Result<Applied>;

    /// The tenant's rules as the backend shows them (empty when it has none). Prometheus
    /// shows expressions in its own rendering and `for` in seconds.
    async fn current(&self, tenant: &TenantKey) -> Result<RuleFile>;

    /// Whether the backend shows exactly the groups of `file` for the tenant, each with
    /// the same rules.
    async fn confirm(&self, tenant: &TenantKey, file: &RuleFile) -> Result<bool>;

    /// Removes all of the tenant's rules (nothing to remove is not an error).
    async fn remove(&self, tenant: &TenantKey) -> Result<()>;

    /// [`RuleBackend::confirm`] for many tenants at once: which of them the backend
    /// shows exactly as their files say. The default asks one tenant at a time; a
    /// backend that lists every tenant's rules in one call (Prometheus'
    /// `/api/v1/rules`) answers with one read.
    async fn confirm_many(
        &self,
        files: &BTreeMap<TenantKey, RuleFile>,
    ) -> Result<BTreeMap<TenantKey, bool>> {
        let mut out = BTreeMap::new();
        for (tenant, file) in files {
            out.insert(tenant.clone(), self.confirm(tenant, file).await?);
        }
        Ok(out)
    }
}

/// Implements [`RuleBackend`] for a pointer type by delegating to what it points to.
macro_rules! delegate_rule_backend {
    ($($ptr:ty),*) => {$(
        #[async_trait]
        impl<B: RuleBackend + ?Sized> RuleBackend for $ptr {
            fn kind(&self) -> &'static str {
                (**self).kind()
            }
            async fn apply(&self, tenant: &TenantKey, file: &RuleFile) -> Result<Applied> {
                (**self).apply(tenant, file).await
            }
            async fn current(&self, tenant: &TenantKey) -> Result<RuleFile> {
                (**self).current(tenant).await
            }
            async fn confirm(&self, tenant: &TenantKey, file: &RuleFile) -> Result<bool> {
                (**self).confirm(tenant, file).await
            }
            async fn remove(&self, tenant: &TenantKey) -> Result<()> {
                (**self).remove(tenant).await
            }
            async fn confirm_many(
                &self,
                files: &BTreeMap<TenantKey, RuleFile>,
            ) -> Result<BTreeMap<TenantKey, bool>> {
                (**self).confirm_many(files).await
            }
        }
    )*};
}

delegate_rule_backend!(Arc<B>, &B, Box<B>);

/// The refusal of a tenant's file, with its sync id.
pub(crate) fn rejected(tenant: &TenantKey, file: &RuleFile, message: impl Into<String>) -> Error {
    Error::ConfigRejected {
        tenant: tenant.to_string(),
        sync_id: alert_router::builder::sync_id(&file.to_yaml()),
        message: message.into(),
    }
}

/// Group names must be unique in a file (Prometheus: `groupname: "x" is repeated in the
/// same file`; Cortex and Mimir would keep only the last).
pub(crate) fn check_unique_groups(tenant: &TenantKey, file: &RuleFile) -> Result<()> {
    let mut seen = BTreeSet::new();
    for g in &file.groups {
        if !seen.insert(g.name.as_str()) {
            return Err(rejected(
                tenant,
                file,
                format!("groupname: {:?} is repeated in the same file", g.name),
            ));
        }
    }
    Ok(())
}

/// Which groups of `desired` are new, changed or the same as in `previous`, and which
/// groups of `previous` it no longer holds. Expressions are compared as text.
pub(crate) fn plan(previous: &RuleFile, desired: &RuleFile) -> Applied {
    let before: BTreeMap<&str, &RuleGroup> = previous
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g))
        .collect();
    let wanted: BTreeSet<&str> = desired.groups.iter().map(|g| g.name.as_str()).collect();
    let mut applied = Applied::default();
    for g in &desired.groups {
        match before.get(g.name.as_str()) {
            None => applied.created.push(g.name.clone()),
            Some(old) if same_group(old, g, true) => applied.unchanged.push(g.name.clone()),
            Some(_) => applied.updated.push(g.name.clone()),
        }
    }
    applied.deleted = previous
        .groups
        .iter()
        .filter(|g| !wanted.contains(g.name.as_str()))
        .map(|g| g.name.clone())
        .collect();
    applied
}

/// One rule as two backends can be compared on it.
#[derive(Debug, PartialEq)]
struct RuleShape<'a> {
    alerting: bool,
    name: &'a str,
    /// `None` when expressions are not compared.
    expr: Option<&'a str>,
    /// `for` in Go's rendering (`0s` when absent), so `300s` and `5m` agree.
    for_duration: String,
    labels: &'a BTreeMap<String, String>,
    annotations: Option<&'a BTreeMap<String, String>>,
}

fn shape(rule: &Rule, with_expr: bool) -> RuleShape<'_> {
    match rule {
        Rule::Alert(a) => RuleShape {
            alerting: true,
            name: &a.alert,
            expr: with_expr.then_some(a.expr.trim()),
            for_duration: canonical_duration(a.for_duration.as_deref()),
            labels: &a.labels,
            annotations: Some(&a.annotations),
        },
        Rule::Record(r) => RuleShape {
            alerting: false,
            name: &r.record,
            expr: with_expr.then_some(r.expr.trim()),
            for_duration: canonical_duration(None),
            labels: &r.labels,
            annotations: None,
        },
    }
}

fn canonical_duration(d: Option<&str>) -> String {
    let text = d.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("0s");
    text.parse::<alert_core::Duration>()
        .map(|d| d.to_string())
        .unwrap_or_else(|_| text.to_owned())
}

/// Whether two groups hold the same rules, in order: kind, name, `for`, labels and
/// annotations, and the expression text when `with_expr`.
pub(crate) fn same_group(a: &RuleGroup, b: &RuleGroup, with_expr: bool) -> bool {
    a.name == b.name
        && a.rules.len() == b.rules.len()
        && a.rules
            .iter()
            .zip(&b.rules)
            .all(|(x, y)| shape(x, with_expr) == shape(y, with_expr))
}

/// Whether two files hold the same groups (in any order), by [`same_group`].
pub(crate) fn same_groups(observed: &RuleFile, desired: &RuleFile, with_expr: bool) -> bool {
    let by_name: BTreeMap<&str, &RuleGroup> = observed
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g))
        .collect();
    by_name.len() == observed.groups.len()
        && observed.groups.len() == desired.groups.len()
        && desired.groups.iter().all(|g| {
            by_name
                .get(g.name.as_str())
                .is_some_and(|o| same_group(o, g, with_expr))
        })
}

/// A rule group as Prometheus' `rulefmt` writes it (unknown keys are ignored).
#[derive(Debug, Deserialize)]
pub(crate) struct GroupDoc {
    name: String,
    #[serde(default)]
    rules: Option<Vec<RuleDoc>>,
}

#[derive(Debug, Deserialize)]
struct RuleDoc {
    #[serde(default)]
    alert: Option<String>,
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    expr: Option<String>,
    #[serde(default, rename = "for")]
    for_duration: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

impl From<GroupDoc> for RuleGroup {
    fn from(g: GroupDoc) -> RuleGroup {
        RuleGroup {
            name: g.name,
            rules: g
                .rules
                .unwrap_or_default()
                .into_iter()
                .map(|r| match (r.alert, r.record) {
                    (Some(alert), _) => Rule::Alert(AlertingRule {
                        alert,
                        expr: r.expr.unwrap_or_default(),
                        for_duration: r.for_duration.filter(|d| !d.trim().is_empty()),
                        labels: r.labels.unwrap_or_default(),
                        annotations: r.annotations.unwrap_or_default(),
                    }),
                    (None, record) => Rule::Record(RecordingRule {
                        record: record.unwrap_or_default(),
                        expr: r.expr.unwrap_or_default(),
                        labels: r.labels.unwrap_or_default(),
                    }),
                })
                .collect(),
        }
    }
}

/// Reads a rule file (`groups: [...]`), as this crate writes it.
pub(crate) fn read_rule_file(yaml: &str) -> std::result::Result<RuleFile, String> {
    #[derive(Deserialize)]
    struct FileDoc {
        #[serde(default)]
        groups: Option<Vec<GroupDoc>>,
    }
    if yaml.trim().is_empty() {
        return Ok(RuleFile::default());
    }
    let doc: FileDoc = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
    Ok(RuleFile {
        groups: doc
            .groups
            .unwrap_or_default()
            .into_iter()
            .map(RuleGroup::from)
            .collect(),
    })
}

/// Keeps credentials in base URLs (`http://user:password@host`) out of errors, and
/// server messages short.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redact {
    /// The `user:password@` parts of the base URLs in use.
    userinfo: Vec<String>,
}

impl Redact {
    /// Learns the userinfo of a base URL, if it has one.
    pub(crate) fn add_url(&mut self, url: &str) {
        if let Some(info) = userinfo(url)
            && !self.userinfo.iter().any(|u| u == info)
        {
            self.userinfo.push(info.to_owned());
        }
    }

    /// `text` without any known userinfo.
    pub(crate) fn text(&self, text: &str) -> String {
        self.userinfo
            .iter()
            .fold(text.to_owned(), |t, info| t.replace(info.as_str(), ""))
    }

    /// `error` with every URL, reason and message redacted, and messages cut to
    /// [`MAX_MESSAGE_CHARS`].
    pub(crate) fn error(&self, error: Error) -> Error {
        let t = |s: String| self.text(&s);
        let m = |s: String| truncate(&self.text(&s));
        match error {
            Error::InvalidRequest {
                what,
                value,
                reason,
            } => Error::InvalidRequest {
                what,
                value: t(value),
                reason: t(reason),
            },
            Error::Transport {
                method,
                url,
                reason,
            } => Error::Transport {
                method,
                url: t(url),
                reason: t(reason),
            },
            Error::Timeout { method, url, after } => Error::Timeout {
                method,
                url: t(url),
                after,
            },
            Error::Unauthorized {
                method,
                url,
                message,
            } => Error::Unauthorized {
                method,
                url: t(url),
                message: m(message),
            },
            Error::NotFound {
                method,
                url,
                message,
            } => Error::NotFound {
                method,
                url: t(url),
                message: m(message),
            },
            Error::Rejected {
                method,
                url,
                status,
                message,
            } => Error::Rejected {
                method,
                url: t(url),
                status,
                message: m(message),
            },
            Error::Status {
                method,
                url,
                status,
                message,
            } => Error::Status {
                method,
                url: t(url),
                status,
                message: m(message),
            },
            Error::Decode {
                method,
                url,
                reason,
            } => Error::Decode {
                method,
                url: t(url),
                reason: m(reason),
            },
            Error::ConfigRejected {
                tenant,
                sync_id,
                message,
            } => Error::ConfigRejected {
                tenant,
                sync_id,
                message: m(message),
            },
            other => other,
        }
    }
}

/// The `user:password@` of a URL, as written.
fn userinfo(url: &str) -> Option<&str> {
    let after_scheme = url.find("://").map(|i| i + 3)?;
    let rest = &url[after_scheme..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &rest[..=at])
}

/// At most [`MAX_MESSAGE_CHARS`] characters, cut ones marked with `…`.
fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str, expr: &str, for_duration: Option<&str>) -> Rule {
        Rule::Alert(AlertingRule {
            alert: name.into(),
            expr: expr.into(),
            for_duration: for_duration.map(str::to_owned),
            labels: BTreeMap::from([("severity".into(), "page".into())]),
            annotations: BTreeMap::new(),
        })
    }

    fn group(name: &str, rules: Vec<Rule>) -> RuleGroup {
        RuleGroup {
            name: name.into(),
            rules,
        }
    }

    #[test]
    fn files_read_back_as_written() {
        let file = RuleFile {
            groups: vec![
                group("a", vec![alert("A", "up == 0", Some("5m"))]),
                group(
                    "b",
                    vec![Rule::Record(RecordingRule {
                        record: "r".into(),
                        expr: "sum(up)".into(),
                        labels: BTreeMap::new(),
                    })],
                ),
            ],
        };
        assert_eq!(read_rule_file(&file.to_yaml()).unwrap(), file);
        assert_eq!(read_rule_file("").unwrap(), RuleFile::default());
        assert!(read_rule_file("groups: 5").is_err());
    }

    #[test]
    fn plans_name_what_changes() {
        let before = RuleFile {
            groups: vec![
                group("keep", vec![alert("K", "up", None)]),
                group("change", vec![alert("C", "up", None)]),
                group("drop", vec![alert("D", "up", None)]),
            ],
        };
        let after = RuleFile {
            groups: vec![
                group("keep", vec![alert("K", "up", Some("0s"))]),
                group("change", vec![alert("C", "down", None)]),
                group("new", vec![alert("N", "up", None)]),
            ],
        };
        let applied = plan(&before, &after);
        assert_eq!(applied.created, ["new"]);
        assert_eq!(applied.updated, ["change"]);
        assert_eq!(applied.deleted, ["drop"]);
        assert_eq!(applied.unchanged, ["keep"]);
        assert!(applied.changed());
        assert!(!plan(&after, &after).changed());
    }

    #[test]
    fn comparisons_can_leave_expressions_out() {
        let a = group("g", vec![alert("A", "up==0", Some("300s"))]);
        let b = group("g", vec![alert("A", "up == 0", Some("5m"))]);
        assert!(same_group(&a, &b, false));
        assert!(!same_group(&a, &b, true));
        let c = group("g", vec![alert("B", "up == 0", Some("5m"))]);
        assert!(!same_group(&b, &c, false));
        let one = RuleFile {
            groups: vec![a.clone()],
        };
        let twice = RuleFile {
            groups: vec![a.clone(), a],
        };
        assert!(!same_groups(&twice, &one, false));
    }

    #[test]
    fn userinfo_is_redacted_and_messages_cut() {
        let mut r = Redact::default();
        r.add_url("http://admin:hunter2@prom:9090/prefix");
        r.add_url("http://prom-b:9090");
        assert_eq!(
            r.text("GET http://admin:hunter2@prom:9090/prefix/-/reload"),
            "GET http://prom:9090/prefix/-/reload"
        );
        let e = r.error(Error::Status {
            method: "POST".into(),
            url: "http://admin:hunter2@prom:9090/-/reload".into(),
            status: 500,
            message: "x".repeat(5000),
        });
        let text = e.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.chars().count() < 1200, "{}", text.len());
        assert_eq!(userinfo("http://h:1/a@b"), None);
        assert_eq!(userinfo("https://u@h"), Some("u@"));
    }
}
