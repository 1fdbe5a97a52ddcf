//! Prometheus rules from conditions and SLOs: what makes a ruler-evaluated condition
//! fire.
//!
//! Every enabled condition that a ruler evaluates ([`alert_core::EvaluatedBy::Ruler`])
//! becomes one rule group holding one alerting rule: the PromQL kind as written; CPU,
//! memory and filesystem thresholds over node_exporter's metrics; Kubernetes phases over
//! kube-state-metrics'. Every enabled SLO becomes one group of recording rules (its error
//! ratio over each burn-rate window) and two alerts, the multiwindow, multi-burn-rate
//! pair of the Google SRE workbook as Sloth and Pyrra generate it: **page** (2% of the
//! budget spent in 1h, confirmed over 5m; or 5% in 6h, confirmed over 30m) and
//! **ticket** (10% in 1d over 2h; or 10% in 3d over 6h), with burn factors scaled to the
//! SLO's window (14.4, 6, 3 and 1 for 30 days).
//!
//! Alerts carry what the routes match: [`CONDITION_ID_LABEL`], `severity`, and
//! [`TENANT_LABEL`] when the object has a tenant; the message goes into `summary` and
//! `description`. Files are one per tenant ([`rule_files`]), in the rule-file format
//! Prometheus, Cortex and Mimir read, and `promtool check rules` accepts them.
//!
//! ```
//! use alert_core::AlertingSpec;
//! use alert_router::builder::TenantKey;
//! use alert_router::rules::rule_files;
//!
//! let spec: AlertingSpec = serde_json::from_str(r#"{"conditions": [
//!     {"id": "cpu-high", "tenant": "cluster-a", "severity": "critical",
//!      "cpu": {"threshold_percent": 90, "for": "5m"}}
//! ]}"#)?;
//! let files = rule_files(&spec);
//! let file = &files[&TenantKey::Tenant("cluster-a".parse()?)];
//! let rule = &file.groups[0].rules[0];
//! assert_eq!(rule.name(), "cpu_high");
//! assert!(file.to_yaml().contains(
//!     "expr: 100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))) > 90"
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use alert_core::{
    AlertCondition, AlertingSpec, CONDITION_ID_LABEL, ConditionKind, CpuCondition, Duration,
    EvaluatedBy, FilesystemCondition, KubeObjectKind, KubeStateCondition, LabelSet,
    MemoryCondition, Slo,
};
use serde::Serialize;

use crate::builder::TenantKey;

/// The label that names an alert's tenant, which a shared Alertmanager routes on.
pub const TENANT_LABEL: &str = "tenant";

/// The label that tells an SLO's two alerts apart: `page` or `ticket`.
pub const SLO_BURN_LABEL: &str = "slo_burn";

/// The label of an SLO's recorded series: the SLO's id.
pub const SLO_ID_LABEL: &str = "slo_id";

/// The burn-rate windows an SLO's error ratio is recorded over.
pub const BURN_WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The range node_exporter rates are taken over.
const RATE_RANGE: &str = "5m";

/// Filesystems that are not disks (node_exporter reports them too).
const PSEUDO_FILESYSTEMS: &str = "tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs";

/// One rule file: the groups of one tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleFile {
    /// The groups, one per condition or SLO, ordered by id.
    pub groups: Vec<RuleGroup>,
}

impl RuleFile {
    /// The file in Prometheus' rule-file format.
    pub fn to_yaml(&self) -> String {
        // Plain strings, maps and lists: serialisation cannot fail.
        yaml_serde::to_string(self).unwrap_or_default()
    }
}

/// A rule group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleGroup {
    /// Unique in a file: `condition:<id>` or `slo:<id>`.
    pub name: String,
    /// The rules, evaluated in order.
    pub rules: Vec<Rule>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rule {
    /// An alerting rule.
    Alert(AlertingRule),
    /// A recording rule.
    Record(RecordingRule),
}

impl Rule {
    /// The alert's or the recorded series' name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Alert(a) => &a.alert,
            Rule::Record(r) => &r.record,
        }
    }

    /// The PromQL expression.
    pub fn expr(&self) -> &str {
        match self {
            Rule::Alert(a) => &a.expr,
            Rule::Record(r) => &r.expr,
        }
    }
}

/// An alerting rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertingRule {
    /// The alert's name (`alertname`).
    pub alert: String,
    /// When it fires.
    pub expr: String,
    /// How long `expr` must hold first (omitted when zero).
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_duration: Option<String>,
    /// Labels added to the alert.
    pub labels: BTreeMap<String, String>,
    /// Annotations added to the alert.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A recording rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingRule {
    /// The series recorded.
    pub record: String,
    /// What it records.
    pub expr: String,
    /// Labels added to the series.
    pub labels: BTreeMap<String, String>,
}

fn label_map(labels: &LabelSet) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn duration(d: Duration) -> Option<String> {
    (!d.is_zero()).then(|| d.to_string())
}

/// A PromQL double-quoted string.
fn quoted(s: &str) -> String {
    alert_core::go_quote::go_quote(s)
}

/// A regular expression matching exactly one of `values` (RE2 meta characters escaped).
fn one_of(values: &[String]) -> String {
    values
        .iter()
        .map(|v| regex_syntax::escape(v))
        .collect::<Vec<_>>()
        .join("|")
}

/// A selector's matchers: `name=~"a|b"` for each non-empty list.
fn matchers(fixed: &[(&str, &str, String)], lists: &[(&str, &[String])]) -> String {
    let mut parts: Vec<String> = fixed
        .iter()
        .map(|(name, op, value)| format!("{name}{op}{}", quoted(value)))
        .collect();
    for (name, values) in lists {
        if !values.is_empty() {
            parts.push(format!("{name}=~{}", quoted(&one_of(values))));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// The name of an alert or group for an id: letters, digits and `_` only, as Prometheus
/// metric names (ids may hold `-` and `.`).
pub fn rule_name(id: &str) -> String {
    let mut out: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The PromQL expression of a ruler-evaluated kind; `None` for kinds a ruler does not
/// evaluate.
pub fn condition_expr(kind: &ConditionKind) -> Option<String> {
    match kind {
        ConditionKind::Prometheus(p) => Some(p.query.trim().to_owned()),
        ConditionKind::Cpu(c) => Some(cpu_expr(c)),
        ConditionKind::Memory(m) => Some(memory_expr(m)),
        ConditionKind::Filesystem(f) => Some(filesystem_expr(f)),
        ConditionKind::KubeState(k) => Some(kube_state_expr(k)),
        ConditionKind::External
        | ConditionKind::AgentDisconnect(_)
        | ConditionKind::ComponentHealth(_) => None,
    }
}

/// CPU usage per node (`instance`) in percent: the share of time not idle, or in the
/// given modes.
fn cpu_expr(c: &CpuCondition) -> String {
    let nodes: &[(&str, &[String])] = &[("instance", &c.nodes)];
    let usage = if c.modes.is_empty() {
        let idle = matchers(&[("mode", "=", "idle".to_owned())], nodes);
        format!("100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{idle}[{RATE_RANGE}])))")
    } else {
        let busy = matchers(&[], &[("instance", &c.nodes), ("mode", &c.modes)]);
        let all = matchers(&[], nodes);
        format!(
            "100 * sum by (instance) (rate(node_cpu_seconds_total{busy}[{RATE_RANGE}])) \
             / sum by (instance) (rate(node_cpu_seconds_total{all}[{RATE_RANGE}]))"
        )
    };
    format!("{usage} {} {}", c.operator.as_str(), c.threshold_percent)
}

/// Memory usage per node in percent: `1 - MemAvailable / MemTotal`.
fn memory_expr(m: &MemoryCondition) -> String {
    let sel = matchers(&[], &[("instance", &m.nodes)]);
    format!(
        "100 * (1 - node_memory_MemAvailable_bytes{sel} / node_memory_MemTotal_bytes{sel}) {} {}",
        m.operator.as_str(),
        m.threshold_percent
    )
}

/// Filesystem usage per mount in percent: `1 - avail / size`, pseudo filesystems left
/// out.
fn filesystem_expr(f: &FilesystemCondition) -> String {
    let sel = matchers(
        &[("fstype", "!~", PSEUDO_FILESYSTEMS.to_owned())],
        &[
            ("instance", &f.nodes),
            ("mountpoint", &f.mountpoints),
            ("device", &f.devices),
        ],
    );
    format!(
        "100 * (1 - node_filesystem_avail_bytes{sel} / node_filesystem_size_bytes{sel}) {} {}",
        f.operator.as_str(),
        f.threshold_percent
    )
}

/// Objects not in the expected phase: kube-state-metrics' phase series of the expected
/// phase is 0 (it is 1 for the phase an object is in).
fn kube_state_expr(k: &KubeStateCondition) -> String {
    let kind = k.object_kind.as_str();
    let mut fixed = vec![("phase", "=", k.expected_state.clone())];
    if let Some(ns) = &k.namespace {
        fixed.push(("namespace", "=", ns.clone()));
    }
    if let Some(name) = &k.name {
        fixed.push((kind, "=", name.clone()));
    }
    let by = match k.object_kind {
        KubeObjectKind::Pod | KubeObjectKind::PersistentVolumeClaim => {
            format!("namespace, {kind}")
        }
        KubeObjectKind::PersistentVolume | KubeObjectKind::Namespace => kind.to_owned(),
    };
    format!(
        "max by ({by}) (kube_{kind}_status_phase{}) == 0",
        matchers(&fixed, &[])
    )
}

fn routing_labels(labels: LabelSet, tenant: Option<&str>) -> BTreeMap<String, String> {
    let mut out = label_map(&labels);
    if let Some(t) = tenant {
        out.insert(TENANT_LABEL.to_owned(), t.to_owned());
    }
    out
}

/// The rule group of a condition, if a ruler evaluates it and it is enabled.
pub fn condition_group(condition: &AlertCondition) -> Option<RuleGroup> {
    if !condition.is_enabled() || condition.kind.evaluated_by() != EvaluatedBy::Ruler {
        return None;
    }
    let expr = condition_expr(&condition.kind)?;
    let rule = AlertingRule {
        alert: rule_name(condition.id.as_str()),
        expr,
        for_duration: condition.kind.for_duration().and_then(duration),
        labels: routing_labels(
            condition.alert_labels(),
            condition.tenant.as_ref().map(|t| t.as_str()),
        ),
        annotations: label_map(&condition.alert_annotations()),
    };
    Some(RuleGroup {
        name: format!("condition:{}", condition.id.as_str()),
        rules: vec![Rule::Alert(rule)],
    })
}

/// The recorded error ratio of an SLO over `window`.
pub fn slo_ratio_series(window: &str) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

/// One burn-rate pair: alert when both windows burn faster than `factor` times the
/// budget.
struct Burn {
    long: &'static str,
    short: &'static str,
    /// The share of the budget spent over `long` that alerts.
    budget_share: f64,
    /// `long` in hours.
    long_hours: f64,
}

const PAGE: [Burn; 2] = [
    Burn {
        long: "1h",
        short: "5m",
        budget_share: 0.02,
        long_hours: 1.0,
    },
    Burn {
        long: "6h",
        short: "30m",
        budget_share: 0.05,
        long_hours: 6.0,
    },
];

const TICKET: [Burn; 2] = [
    Burn {
        long: "1d",
        short: "2h",
        budget_share: 0.10,
        long_hours: 24.0,
    },
    Burn {
        long: "3d",
        short: "6h",
        budget_share: 0.10,
        long_hours: 72.0,
    },
];

/// The burn factor of spending `share` of the budget of a `window_hours` SLO window in
/// `long_hours`: 14.4 for 2% in 1h of 30 days.
fn burn_factor(share: f64, window_hours: f64, long_hours: f64) -> f64 {
    share * window_hours / long_hours
}

/// Rounds to at most 6 decimals for readable rule files.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The rule group of an SLO, if enabled: recording rules per burn window, then the page
/// and ticket alerts.
pub fn slo_group(slo: &Slo) -> Option<RuleGroup> {
    if !slo.is_enabled() {
        return None;
    }
    let id = slo.id.as_str();
    let series_labels = BTreeMap::from([
        (SLO_ID_LABEL.to_owned(), id.to_owned()),
        (TENANT_LABEL.to_owned(), slo.tenant.as_str().to_owned()),
    ]);
    let mut rules: Vec<Rule> = BURN_WINDOWS
        .iter()
        .map(|w| {
            Rule::Record(RecordingRule {
                record: slo_ratio_series(w),
                expr: slo.sli.error_ratio_query(w),
                labels: series_labels.clone(),
            })
        })
        .collect();
    let budget = slo.error_budget();
    let window_hours = slo.window.as_secs() as f64 / 3600.0;
    let selector = format!("{{{SLO_ID_LABEL}={}}}", quoted(id));
    let condition = |burns: &[Burn; 2]| -> String {
        burns
            .iter()
            .map(|b| {
                let threshold = round6(burn_factor(b.budget_share, window_hours, b.long_hours) * budget);
                format!(
                    "(max({long}{selector}) > {threshold} and max({short}{selector}) > {threshold})",
                    long = slo_ratio_series(b.long),
                    short = slo_ratio_series(b.short),
                )
            })
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let mut annotations = label_map(&slo.annotations);
    let title = format!("{}: error budget burning", slo.display_name());
    annotations.entry("summary".to_owned()).or_insert(title);
    annotations
        .entry("description".to_owned())
        .or_insert(format!(
            "{} has an objective of {}% over {}; its error ratio is burning the budget too fast.",
            slo.display_name(),
            slo.objective,
            slo.window
        ));
    for (burn, burns, wait) in [("page", &PAGE, "2m"), ("ticket", &TICKET, "15m")] {
        let mut labels = routing_labels(slo.alert_labels(), Some(slo.tenant.as_str()));
        labels.insert(SLO_BURN_LABEL.to_owned(), burn.to_owned());
        rules.push(Rule::Alert(AlertingRule {
            alert: format!("{}_{burn}", rule_name(id)),
            expr: condition(burns),
            for_duration: Some(wait.to_owned()),
            labels,
            annotations: annotations.clone(),
        }));
    }
    // The CONDITION_ID_LABEL of both alerts is the SLO's id: they route to its endpoints.
    debug_assert!(rules.iter().all(|r| match r {
        Rule::Alert(a) => a.labels.get(CONDITION_ID_LABEL).map(String::as_str) == Some(id),
        Rule::Record(_) => true,
    }));
    Some(RuleGroup {
        name: format!("slo:{id}"),
        rules,
    })
}

/// One rule file per tenant (conditions bound to no tenant under
/// [`TenantKey::Unbound`]), groups ordered by kind then id. Tenants with nothing a ruler
/// evaluates have no file.
pub fn rule_files(spec: &AlertingSpec) -> BTreeMap<TenantKey, RuleFile> {
    let mut files: BTreeMap<TenantKey, RuleFile> = BTreeMap::new();
    let mut conditions: Vec<&AlertCondition> = spec.conditions.iter().collect();
    conditions.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    for condition in conditions {
        if let Some(group) = condition_group(condition) {
            let key = match &condition.tenant {
                Some(t) => TenantKey::Tenant(t.clone()),
                None => TenantKey::Unbound,
            };
            files.entry(key).or_default().groups.push(group);
        }
    }
    let mut slos: Vec<&Slo> = spec.slos.iter().collect();
    slos.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    for slo in slos {
        if let Some(group) = slo_group(slo) {
            files
                .entry(TenantKey::Tenant(slo.tenant.clone()))
                .or_default()
                .groups
                .push(group);
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(json: &str) -> AlertCondition {
        serde_json::from_str(json).unwrap()
    }

    fn expr(json: &str) -> String {
        condition_group(&condition(json)).unwrap().rules[0]
            .expr()
            .to_owned()
    }

    #[test]
    fn node_kinds_render_node_exporter_queries() {
        assert_eq!(
            expr(r#"{"id":"c","tenant":"t","cpu":{"threshold_percent":90,"nodes":["n1","n.2"]}}"#),
            r#"100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance=~"n1|n\\.2"}[5m]))) > 90"#
        );
        assert_eq!(
            expr(
                r#"{"id":"c","tenant":"t","cpu":{"operator":"<","threshold_percent":5.5,"modes":["user","system"]}}"#
            ),
            r#"100 * sum by (instance) (rate(node_cpu_seconds_total{mode=~"user|system"}[5m])) / sum by (instance) (rate(node_cpu_seconds_total[5m])) < 5.5"#
        );
        assert_eq!(
            expr(r#"{"id":"m","tenant":"t","memory":{"threshold_percent":80}}"#),
            "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > 80"
        );
        assert_eq!(
            expr(
                r#"{"id":"f","tenant":"t","filesystem":{"threshold_percent":85,"mountpoints":["/"]}}"#
            ),
            r#"100 * (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs",mountpoint=~"/"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs",mountpoint=~"/"}) > 85"#
        );
        assert_eq!(
            expr(
                r#"{"id":"k","tenant":"t","kube_state":{"object_kind":"pod","namespace":"shop","name":"web-0","expected_state":"Running"}}"#
            ),
            r#"max by (namespace, pod) (kube_pod_status_phase{phase="Running",namespace="shop",pod="web-0"}) == 0"#
        );
        assert_eq!(
            expr(
                r#"{"id":"k","tenant":"t","kube_state":{"object_kind":"persistentvolume","expected_state":"Bound"}}"#
            ),
            r#"max by (persistentvolume) (kube_persistentvolume_status_phase{phase="Bound"}) == 0"#
        );
    }

    #[test]
    fn a_condition_group_carries_routing_labels_and_message() {
        let c = condition(
            r#"{"id":"api.down-1","tenant":"cluster-a","severity":"critical","name":"API down",
                "labels":{"team":"api"},"prometheus":{"query":" up{job=\"api\"} == 0 ","for":"2m"}}"#,
        );
        let group = condition_group(&c).unwrap();
        assert_eq!(group.name, "condition:api.down-1");
        let Rule::Alert(rule) = &group.rules[0] else {
            panic!("an alerting rule")
        };
        assert_eq!(rule.alert, "api_down_1");
        assert_eq!(rule.expr, r#"up{job="api"} == 0"#);
        assert_eq!(rule.for_duration.as_deref(), Some("2m"));
        assert_eq!(rule.labels["alert_condition_id"], "api.down-1");
        assert_eq!(rule.labels["severity"], "critical");
        assert_eq!(rule.labels["tenant"], "cluster-a");
        assert_eq!(rule.labels["team"], "api");
        assert_eq!(rule.annotations["summary"], "API down");
    }

    #[test]
    fn only_enabled_ruler_kinds_get_rules() {
        for json in [
            r#"{"id":"x"}"#,
            r#"{"id":"x","tenant":"t","agent_disconnect":{"timeout":"5m"}}"#,
            r#"{"id":"x","prometheus":{"query":"up"},"disabled":true}"#,
        ] {
            assert!(condition_group(&condition(json)).is_none(), "{json}");
        }
        assert_eq!(rule_name("9lives"), "_9lives");
    }

    #[test]
    fn burn_factors_match_the_workbook_for_30_days() {
        let hours = 30.0 * 24.0;
        let factors: Vec<f64> = PAGE
            .iter()
            .chain(TICKET.iter())
            .map(|b| round6(burn_factor(b.budget_share, hours, b.long_hours)))
            .collect();
        assert_eq!(factors, [14.4, 6.0, 3.0, 1.0]);
    }

    #[test]
    fn an_slo_records_every_window_and_alerts_twice() {
        let slo: Slo = serde_json::from_str(
            r#"{"id":"api","tenant":"cluster-a","objective":99.9,"severity":"critical",
                "sli":{"error_ratio":"sum(rate(errs[{{.window}}])) / sum(rate(reqs[{{.window}}]))"}}"#,
        )
        .unwrap();
        let group = slo_group(&slo).unwrap();
        let names: Vec<&str> = group.rules.iter().map(Rule::name).collect();
        assert_eq!(
            names,
            [
                "slo:sli_error:ratio_rate5m",
                "slo:sli_error:ratio_rate30m",
                "slo:sli_error:ratio_rate1h",
                "slo:sli_error:ratio_rate2h",
                "slo:sli_error:ratio_rate6h",
                "slo:sli_error:ratio_rate1d",
                "slo:sli_error:ratio_rate3d",
                "api_page",
                "api_ticket",
            ]
        );
        assert_eq!(
            group.rules[0].expr(),
            "(sum(rate(errs[5m])) / sum(rate(reqs[5m])))"
        );
        assert_eq!(
            group.rules[7].expr(),
            r#"(max(slo:sli_error:ratio_rate1h{slo_id="api"}) > 0.0144 and max(slo:sli_error:ratio_rate5m{slo_id="api"}) > 0.0144) or (max(slo:sli_error:ratio_rate6h{slo_id="api"}) > 0.006 and max(slo:sli_error:ratio_rate30m{slo_id="api"}) > 0.006)"#
        );
        let Rule::Alert(ticket) = &group.rules[8] else {
            panic!("an alert")
        };
        assert_eq!(ticket.labels["slo_burn"], "ticket");
        assert_eq!(ticket.labels["alert_condition_id"], "api");
        assert_eq!(ticket.labels["tenant"], "cluster-a");
    }
}
