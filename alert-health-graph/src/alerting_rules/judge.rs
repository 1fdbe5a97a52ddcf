//! Which rules a sensor reads, and what they say (pure): every decision about alert
//! rules is here.
//!
//! | what the API says | state | message |
//! |---|---|---|
//! | rule `state: firing` | Failing | `rule R (group G): firing, 2 instances: {instance="web-1"}, …` |
//! | health `err` / `error` | Unknown | `rule R (group G): evaluation failed: <lastError>` |
//! | health `nodata` (Grafana) | Unknown | `rule R (group G): no data` |
//! | health `unknown` (not evaluated yet) | Unknown | `rule R (group G): not evaluated yet` |
//! | rule `state: pending` | Degraded | `rule R (group G): pending, 1 instance: {}` |
//! | `recovering` (Grafana 12) | Degraded | `rule R (group G): recovering` |
//! | `inactive` | Passing | `rule R (group G): inactive` |
//!
//! Firing wins over a failed evaluation (the alerts still fire), which wins over pending.
//! An instance's labels are shown without `alertname`, Grafana's internal `__…__` labels
//! and the labels every instance of the rule shares with the rule itself, so what is shown
//! tells the instances apart; [`SHOWN_INSTANCES`] of them, then `and N more`.
//!
//! **A rule or group the sensor names but the answer lacks is Unknown**, with what the
//! answer has (`group cpu not found in folder Platform (groups: disk, memory)`): the rule
//! is the measurement, and a measurement that is gone says nothing about what it measured,
//! as a sensor that cannot read says nothing (Unknown is worse than Degraded, so
//! `--fail-on warning` and the evaluator's alerts still see it). This differs from the
//! Kubernetes instrumentors, where a missing named object *is* the fault (Failing).

use std::collections::BTreeMap;

use super::answer::{Group, InstanceState, Rule, RulesAnswer};
use crate::state::State;
use crate::status::Reading;

/// How many instances a rule's message lists.
pub const SHOWN_INSTANCES: usize = 3;

/// How many rules a reading lists before `and N more rules`.
const LISTED: usize = 10;

/// How many names a "not found" message offers.
const OFFERED: usize = 8;

/// Whose API answered: how groups are placed and named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Prometheus: groups in rule files.
    Prometheus,
    /// Grafana: groups in folders.
    Grafana,
}

impl Flavor {
    /// What holds groups: `file` or `folder`.
    pub fn container(self) -> &'static str {
        match self {
            Flavor::Prometheus => "file",
            Flavor::Grafana => "folder",
        }
    }
}

/// Which rules of an answer a sensor judges; every field set narrows the choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// Whose answer it reads.
    pub flavor: Flavor,
    /// Prometheus: the rule file, its path as Prometheus reports it or its file name;
    /// Grafana: the folder's title (or full path).
    pub container: Option<String>,
    /// Grafana: the folder's UID.
    pub folder_uid: Option<String>,
    /// The group's name.
    pub group: Option<String>,
    /// The rule's name (Grafana: its title).
    pub rule: Option<String>,
    /// Grafana: the rule's UID.
    pub rule_uid: Option<String>,
    /// Grafana: the dashboard the rule is linked to (`__dashboardUid__`).
    pub dashboard_uid: Option<String>,
    /// Grafana: with `dashboard_uid`, the panel (`__panelId__`).
    pub panel_id: Option<String>,
}

impl Selector {
    /// Selects every alerting rule of `flavor`'s answer.
    pub fn all(flavor: Flavor) -> Selector {
        Selector {
            flavor,
            container: None,
            folder_uid: None,
            group: None,
            rule: None,
            rule_uid: None,
            dashboard_uid: None,
            panel_id: None,
        }
    }

    fn container_matches(&self, group: &Group) -> bool {
        let by_name = self.container.as_deref().is_none_or(|c| {
            group.file == c || (self.flavor == Flavor::Prometheus && file_name(&group.file) == c)
        });
        let by_uid = self.folder_uid.as_deref().is_none_or(|u| {
            group.folder_uid.as_deref() == Some(u)
                || group
                    .rules
                    .iter()
                    .any(|r| r.folder_uid.as_deref() == Some(u))
        });
        by_name && by_uid
    }

    fn group_matches(&self, group: &Group) -> bool {
        self.container_matches(group) && self.group.as_deref().is_none_or(|g| group.name == g)
    }

    fn rule_matches(&self, rule: &Rule) -> bool {
        let annotation = |k: &str| rule.annotations.get(k).map(String::as_str);
        rule.is_alerting()
            && self.rule.as_deref().is_none_or(|n| rule.name == n)
            && self
                .rule_uid
                .as_deref()
                .is_none_or(|u| rule.uid.as_deref() == Some(u))
            && self
                .dashboard_uid
                .as_deref()
                .is_none_or(|d| annotation("__dashboardUid__") == Some(d))
            && self
                .panel_id
                .as_deref()
                .is_none_or(|p| annotation("__panelId__") == Some(p))
    }

    /// The selected rules with their groups, in the answer's order.
    pub fn select<'a>(&self, answer: &'a RulesAnswer) -> Vec<(&'a Group, &'a Rule)> {
        answer
            .groups
            .iter()
            .filter(|g| self.group_matches(g))
            .flat_map(|g| g.rules.iter().map(move |r| (g, r)))
            .filter(|(_, r)| self.rule_matches(r))
            .collect()
    }

    /// The rule part of [`describe`](Self::describe): `rule HighCPU`, `rule uid r1`,
    /// `rule linked to dashboard d panel 4`; `None` when no rule is named.
    fn named_rule(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(r) = &self.rule {
            parts.push(r.clone());
        }
        if let Some(u) = &self.rule_uid {
            parts.push(format!("uid {u}"));
        }
        if let Some(d) = &self.dashboard_uid {
            parts.push(match &self.panel_id {
                Some(p) => format!("linked to dashboard {d} panel {p}"),
                None => format!("linked to dashboard {d}"),
            });
        }
        (!parts.is_empty()).then(|| format!("rule {}", parts.join(" ")))
    }

    /// What this selector names, for messages: `rule HighCPU in group cpu in folder
    /// Platform`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.named_rule().into_iter().collect();
        if let Some(g) = &self.group {
            parts.push(format!("in group {g}"));
        }
        if let Some(c) = &self.container {
            parts.push(format!("in {} {c}", self.flavor.container()));
        }
        if let Some(u) = &self.folder_uid {
            parts.push(format!("in folder uid {u}"));
        }
        if parts.is_empty() {
            "alerting rules".to_owned()
        } else {
            parts.join(" ")
        }
    }

    /// Why nothing was selected: the first level (container, group, rule) that is
    /// missing, with what the answer has there.
    fn absence(&self, answer: &RulesAnswer) -> String {
        let offer = |mut names: Vec<String>| -> String {
            names.dedup();
            let more = names.len().saturating_sub(OFFERED);
            names.truncate(OFFERED);
            let mut text = names.join(", ");
            if more > 0 {
                text.push_str(&format!(", and {more} more"));
            }
            if text.is_empty() {
                "none".to_owned()
            } else {
                text
            }
        };
        let in_container: Vec<&Group> = answer
            .groups
            .iter()
            .filter(|g| self.container_matches(g))
            .collect();
        if in_container.is_empty() && (self.container.is_some() || self.folder_uid.is_some()) {
            let mut names: Vec<String> = answer
                .groups
                .iter()
                .map(|g| match self.flavor {
                    Flavor::Prometheus => file_name(&g.file).to_owned(),
                    Flavor::Grafana => g.file.clone(),
                })
                .collect();
            names.sort();
            let what = match (&self.container, &self.folder_uid) {
                (Some(c), _) => format!("{} {c}", self.flavor.container()),
                (None, Some(u)) => format!("folder uid {u}"),
                (None, None) => self.flavor.container().to_owned(),
            };
            let plural = match self.flavor {
                Flavor::Prometheus => "files",
                Flavor::Grafana => "folders",
            };
            return format!("{what} not found ({plural}: {})", offer(names));
        }
        let where_ = match (&self.container, &self.folder_uid) {
            (Some(c), _) => format!(" in {} {c}", self.flavor.container()),
            (None, Some(u)) => format!(" in folder uid {u}"),
            (None, None) => String::new(),
        };
        let groups: Vec<&Group> = in_container
            .iter()
            .copied()
            .filter(|g| self.group_matches(g))
            .collect();
        if let (Some(name), true) = (&self.group, groups.is_empty()) {
            let names = in_container.iter().map(|g| g.name.clone()).collect();
            return format!("group {name} not found{where_} (groups: {})", offer(names));
        }
        let rules: Vec<String> = groups
            .iter()
            .flat_map(|g| g.rules.iter())
            .filter(|r| r.is_alerting())
            .map(|r| r.name.clone())
            .collect();
        let in_group = match &self.group {
            Some(g) => format!(" in group {g}"),
            None => where_,
        };
        if let Some(what) = self.named_rule() {
            return format!(
                "{what} not found{in_group} (alerting rules: {})",
                offer(rules)
            );
        }
        format!("no alerting rules{in_group}")
    }
}

/// A path's last component (`/etc/prometheus/rules/shop.yml` → `shop.yml`).
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// One rule judged: its state and `rule R (group G): why`.
pub fn judge_rule(flavor: Flavor, group: &Group, rule: &Rule) -> (State, String) {
    let place = match flavor {
        Flavor::Prometheus => format!("group {}", group.name),
        Flavor::Grafana => format!("folder {}, group {}", group.file, group.name),
    };
    let head = format!("rule {} ({place})", rule.name);
    let count = |s: InstanceState| rule.alerts.iter().filter(|a| a.state() == s).count();
    let error = rule
        .last_error
        .as_deref()
        .filter(|e| !e.is_empty())
        .unwrap_or("no error given");
    let health = rule.health.to_ascii_lowercase();
    let failed_evaluation = matches!(health.as_str(), "err" | "error");
    let state = rule.state.as_deref().unwrap_or("").to_ascii_lowercase();
    let (verdict, why) = if state == "firing" || count(InstanceState::Firing) > 0 {
        let mut why = instances(rule, InstanceState::Firing, "firing");
        if failed_evaluation {
            why.push_str(&format!("; last evaluation failed: {error}"));
        }
        (State::Failing, why)
    } else if failed_evaluation {
        (State::Unknown, format!("evaluation failed: {error}"))
    } else if health == "nodata" || (count(InstanceState::NoData) > 0 && state != "pending") {
        let n = count(InstanceState::NoData);
        let why = if n > 0 {
            format!("no data ({n} instance{} NoData)", plural(n))
        } else {
            "no data".to_owned()
        };
        (State::Unknown, why)
    } else if health == "unknown" {
        (State::Unknown, "not evaluated yet".to_owned())
    } else if state == "pending" || count(InstanceState::Pending) > 0 {
        (
            State::Degraded,
            instances(rule, InstanceState::Pending, "pending"),
        )
    } else if state == "recovering" || count(InstanceState::Recovering) > 0 {
        (
            State::Degraded,
            instances(rule, InstanceState::Recovering, "recovering"),
        )
    } else if state == "inactive" || state == "normal" {
        (State::Passing, "inactive".to_owned())
    } else {
        (
            State::Unknown,
            format!(
                "unknown state {:?}, health {:?}",
                rule.state.as_deref().unwrap_or(""),
                rule.health
            ),
        )
    };
    (verdict, format!("{head}: {why}"))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `firing, 2 instances: {instance="web-1"}, {instance="web-2"}`.
fn instances(rule: &Rule, state: InstanceState, word: &str) -> String {
    // Sorted by labels: Prometheus lists alerts in no particular order.
    let mut picked: Vec<&BTreeMap<String, String>> = rule
        .alerts
        .iter()
        .filter(|a| a.state() == state)
        .map(|a| &a.labels)
        .collect();
    picked.sort();
    if picked.is_empty() {
        return word.to_owned();
    }
    // Labels all picked instances share with the rule itself say nothing about which.
    let shared = |k: &str, v: &str| {
        rule.labels.get(k).is_some_and(|r| r == v)
            && picked.iter().all(|l| l.get(k).is_some_and(|x| x == v))
    };
    let shown: Vec<String> = picked
        .iter()
        .take(SHOWN_INSTANCES)
        .map(|labels| {
            let pairs: Vec<String> = labels
                .iter()
                .filter(|(k, v)| {
                    let internal = k.as_str() == "alertname"
                        || (k.starts_with("__") && k.ends_with("__"))
                        || k.starts_with("grafana_");
                    !internal && !shared(k, v)
                })
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        })
        .collect();
    let n = picked.len();
    let mut text = format!("{word}, {n} instance{}: {}", plural(n), shown.join(", "));
    if n > SHOWN_INSTANCES {
        text.push_str(&format!(", and {} more", n - SHOWN_INSTANCES));
    }
    text
}

/// The reading of `selector`'s rules in `answer`: the worst rule decides, every rule has
/// a line (worst first, [`LISTED`] of them); nothing selected is Unknown, saying what is
/// missing.
pub fn judge(selector: &Selector, answer: &RulesAnswer) -> Reading {
    let picked = selector.select(answer);
    if picked.is_empty() {
        let why = selector.absence(answer);
        let state = if why.starts_with("no alerting rules") {
            State::Passing
        } else {
            State::Unknown
        };
        return Reading::explained(state, why);
    }
    let items = picked
        .into_iter()
        .map(|(g, r)| judge_rule(selector.flavor, g, r))
        .collect();
    Reading::worst_of(items, LISTED, "rules").unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alerting_rules::answer::parse;

    /// Prometheus 2.42's answer to `GET /api/v1/rules?type=alert` for the rule file of the
    /// integration test, as the real binary wrote it (timestamps and durations kept).
    pub(crate) const PROMETHEUS: &str =
        include_str!("../../tests/fixtures/rules/prometheus-2.42.json");

    /// Grafana's answer for two folders: a firing rule with three instances (one Normal),
    /// a NoData rule, a rule whose query errors, a pending one linked to a dashboard panel,
    /// and a healthy one; authored as `toRuleGroup` writes it.
    pub(crate) const GRAFANA: &str = include_str!("../../tests/fixtures/rules/grafana.json");

    fn lines(r: &Reading) -> Vec<String> {
        r.messages.iter().map(ToString::to_string).collect()
    }

    fn prometheus() -> RulesAnswer {
        parse(PROMETHEUS.as_bytes()).expect("valid")
    }

    fn grafana() -> RulesAnswer {
        parse(GRAFANA.as_bytes()).expect("valid")
    }

    fn rule(flavor: Flavor, group: &str, rule: &str) -> Selector {
        Selector {
            group: Some(group.to_owned()),
            rule: Some(rule.to_owned()),
            ..Selector::all(flavor)
        }
    }

    #[test]
    fn prometheus_rules_are_judged_by_state_and_health() {
        let answer = prometheus();
        let r = judge(&rule(Flavor::Prometheus, "shop", "AlwaysFiring"), &answer);
        assert_eq!(r.state, State::Failing);
        assert_eq!(
            lines(&r),
            [
                r#"ERROR: rule AlwaysFiring (group shop): firing, 2 instances: {instance="web-1"}, {instance="web-2"}"#
            ]
        );
        let r = judge(&rule(Flavor::Prometheus, "shop", "SlowBurn"), &answer);
        assert_eq!(
            (r.state, lines(&r)),
            (
                State::Degraded,
                vec!["WARN: rule SlowBurn (group shop): pending, 1 instance: {}".to_owned()]
            )
        );
        let r = judge(&rule(Flavor::Prometheus, "shop", "NeverFires"), &answer);
        assert_eq!(lines(&r), ["INFO: rule NeverFires (group shop): inactive"]);
        assert_eq!(r.state, State::Passing);
        let r = judge(&rule(Flavor::Prometheus, "broken", "ManyToMany"), &answer);
        assert_eq!(r.state, State::Unknown);
        assert!(
            lines(&r)[0].starts_with(
                "WARN: rule ManyToMany (group broken): evaluation failed: found duplicate series \
                 for the match group {} on the right hand-side of the operation"
            ),
            "{:?}",
            lines(&r)
        );
    }

    #[test]
    fn a_group_is_its_worst_rule_and_recording_rules_do_not_count() {
        let answer = prometheus();
        let group = Selector {
            group: Some("shop".to_owned()),
            ..Selector::all(Flavor::Prometheus)
        };
        let r = judge(&group, &answer);
        assert_eq!(r.state, State::Failing);
        assert_eq!(lines(&r).len(), 3);
        assert!(lines(&r)[1].starts_with("WARN: rule SlowBurn"));
        let broken = Selector {
            group: Some("broken".to_owned()),
            ..Selector::all(Flavor::Prometheus)
        };
        let r = judge(&broken, &answer);
        assert_eq!(r.state, State::Unknown);
        assert!(
            lines(&r).iter().all(|l| !l.contains("job:up")),
            "{:?}",
            lines(&r)
        );
    }

    #[test]
    fn files_match_by_path_or_name_and_absences_are_unknown_and_explained() {
        let answer = prometheus();
        let by_name = Selector {
            container: Some("shop.yml".to_owned()),
            ..Selector::all(Flavor::Prometheus)
        };
        assert_eq!(by_name.select(&answer).len(), 5);
        let by_path = Selector {
            container: Some(answer.groups[0].file.clone()),
            ..Selector::all(Flavor::Prometheus)
        };
        assert_eq!(by_path.select(&answer).len(), 5);
        for (selector, expected) in [
            (
                Selector {
                    container: Some("gone.yml".to_owned()),
                    ..Selector::all(Flavor::Prometheus)
                },
                "WARN: file gone.yml not found (files: shop.yml)",
            ),
            (
                Selector {
                    container: Some("shop.yml".to_owned()),
                    group: Some("checkout".to_owned()),
                    ..Selector::all(Flavor::Prometheus)
                },
                "WARN: group checkout not found in file shop.yml (groups: broken, shop)",
            ),
            (
                rule(Flavor::Prometheus, "shop", "Gone"),
                "WARN: rule Gone not found in group shop (alerting rules: AlwaysFiring, SlowBurn, NeverFires)",
            ),
        ] {
            let r = judge(&selector, &answer);
            assert_eq!(
                (r.state, lines(&r)),
                (State::Unknown, vec![expected.to_owned()])
            );
        }
        let empty = RulesAnswer::default();
        let r = judge(&Selector::all(Flavor::Prometheus), &empty);
        assert_eq!(
            (r.state, lines(&r)),
            (State::Passing, vec!["INFO: no alerting rules".to_owned()])
        );
    }

    #[test]
    fn grafana_rules_read_folders_instances_nodata_and_errors() {
        let answer = grafana();
        let firing = Selector {
            rule_uid: Some("cpu-high".to_owned()),
            ..Selector::all(Flavor::Grafana)
        };
        let r = judge(&firing, &answer);
        assert_eq!(
            (r.state, lines(&r)),
            (
                State::Failing,
                vec![r#"ERROR: rule High CPU (folder Platform, group cpu): firing, 2 instances: {host="db-1"}, {host="db-2"}"#.to_owned()]
            )
        );
        let nodata = rule(Flavor::Grafana, "disk", "Disk full");
        let r = judge(&nodata, &answer);
        assert_eq!(
            lines(&r),
            ["WARN: rule Disk full (folder Platform, group disk): no data (1 instance NoData)"]
        );
        assert_eq!(r.state, State::Unknown);
        let errored = rule(Flavor::Grafana, "disk", "Inode usage");
        let r = judge(&errored, &answer);
        assert_eq!(r.state, State::Unknown);
        assert_eq!(
            lines(&r),
            [
                "WARN: rule Inode usage (folder Platform, group disk): evaluation failed: \
              [sse.dataQueryError] failed to execute query [A]: Post \"http://prometheus:9090/api/v1/query\": dial tcp: connection refused"
            ]
        );
        let folder = Selector {
            container: Some("Platform".to_owned()),
            ..Selector::all(Flavor::Grafana)
        };
        let r = judge(&folder, &answer);
        assert_eq!(r.state, State::Failing);
        assert_eq!(lines(&r).len(), 3);
        let by_uid = Selector {
            folder_uid: Some("shop-uid".to_owned()),
            ..Selector::all(Flavor::Grafana)
        };
        let r = judge(&by_uid, &answer);
        assert_eq!(r.state, State::Degraded, "{:?}", lines(&r));
        assert_eq!(
            lines(&r),
            [
                r#"WARN: rule Checkout latency (folder Shop, group checkout): pending, 1 instance: {route="/pay"}"#,
                "INFO: rule Checkout errors (folder Shop, group checkout): inactive"
            ]
        );
    }

    #[test]
    fn grafana_dashboards_select_by_annotation() {
        let answer = grafana();
        let dashboard = Selector {
            dashboard_uid: Some("checkout-dash".to_owned()),
            ..Selector::all(Flavor::Grafana)
        };
        assert_eq!(dashboard.select(&answer).len(), 2);
        let panel = Selector {
            panel_id: Some("4".to_owned()),
            ..dashboard.clone()
        };
        let picked = panel.select(&answer);
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].1.name, "Checkout latency");
        let gone = Selector {
            dashboard_uid: Some("nope".to_owned()),
            ..Selector::all(Flavor::Grafana)
        };
        let r = judge(&gone, &answer);
        assert_eq!(r.state, State::Unknown);
        assert!(
            lines(&r)[0].starts_with(
                "WARN: rule linked to dashboard nope not found (alerting rules: High CPU,"
            ),
            "{:?}",
            lines(&r)
        );
    }

    #[test]
    fn many_instances_are_cut_and_unknown_states_are_named() {
        let answer = prometheus();
        let shop = answer
            .groups
            .iter()
            .find(|g| g.name == "shop")
            .expect("present");
        let mut rule_at = shop
            .rules
            .iter()
            .find(|r| r.name == "AlwaysFiring")
            .expect("present")
            .clone();
        let template = rule_at.alerts[0].clone();
        rule_at.alerts = (0..7)
            .map(|i| {
                let mut a = template.clone();
                a.labels.insert("instance".to_owned(), format!("web-{i}"));
                a
            })
            .collect();
        let (state, text) = judge_rule(Flavor::Prometheus, shop, &rule_at);
        assert_eq!(state, State::Failing);
        assert!(
            text.ends_with(r#"{instance="web-2"}, and 4 more"#),
            "{text}"
        );
        rule_at.state = Some("sleeping".to_owned());
        rule_at.alerts.clear();
        let (state, text) = judge_rule(Flavor::Prometheus, shop, &rule_at);
        assert_eq!(state, State::Unknown);
        assert!(
            text.ends_with(r#"unknown state "sleeping", health "ok""#),
            "{text}"
        );
        rule_at.state = Some("inactive".to_owned());
        rule_at.health = "unknown".to_owned();
        let (state, text) = judge_rule(Flavor::Prometheus, shop, &rule_at);
        assert_eq!(
            (state, text.as_str()),
            (
                State::Unknown,
                "rule AlwaysFiring (group shop): not evaluated yet"
            )
        );
    }
}
