//! What the evaluator decides, as pure functions of what it knows: the conditions it
//! evaluates, the agents' last reports, the components' observed health, the state kept
//! from earlier passes, and the time. No I/O: the leader loop
//! ([`super::Evaluator`]) reads the store, calls [`judge`], and carries out the
//! [`Verdict`] (alerts to Alertmanager, state to the store).
//!
//! For every condition the evaluator runs and every **subject** of it (an agent of the
//! condition's tenant for `agent_disconnect`; a named component for `component_health`):
//!
//! | health | state kept | action |
//! |---|---|---|
//! | unhealthy, and `fire_at` (see below) has passed | not firing | **fire**: post the alert (`startsAt` = `fire_at`), keep `firing_since` |
//! | unhealthy, and `fire_at` has passed | firing | **resend** when the last send is older than the resend interval |
//! | unhealthy, `fire_at` not reached | – | pending: keep `unhealthy_since` (components), wake at `fire_at` |
//! | healthy, or the subject is gone | firing | **resolve**: post the alert with `endsAt` = now, forget the state |
//! | healthy | pending | forget the state |
//! | unknown (no source knows the component) | any | nothing changes: a gap in data neither fires nor resolves |
//!
//! `fire_at` is the last heartbeat + `timeout` for a disconnect (the heartbeat is in the
//! store, so a new leader keeps the schedule), and `unhealthy_since` + `for` for a
//! component (`unhealthy_since` is written to the store when first seen, for the same
//! reason).

use std::collections::{BTreeMap, BTreeSet};

use alert_core::{AlertCondition, ConditionId, ConditionKind, Duration, Timestamp};
use serde::{Deserialize, Serialize};

/// An agent's last report, as kept in the store (`agents/<tenant>:<agent>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRecord {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent's id within its tenant.
    pub agent: String,
    /// When the last heartbeat was received.
    pub last_heartbeat: Timestamp,
    /// The capabilities it reported with their health, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capabilities: BTreeMap<String, CapabilityHealth>,
}

/// One capability's health as its agent reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityHealth {
    /// Whether it works.
    pub healthy: bool,
    /// Why not, in the agent's words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Since when it has had this health (the first heartbeat that reported it so).
    pub since: Timestamp,
}

/// What the evaluator keeps per condition and subject between passes (and across
/// leaders), in the store (`evaluations/<condition>:<hash of subject>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectState {
    /// The condition.
    pub condition: ConditionId,
    /// The agent or component.
    pub subject: String,
    /// Since when the subject has been unhealthy (components; a disconnect's is its
    /// last heartbeat, kept with the agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_since: Option<Timestamp>,
    /// When the alert started firing (its `startsAt`), if it fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firing_since: Option<Timestamp>,
    /// Why, as last seen (the alert's description).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// A component's health as observed this pass (from agents' capabilities or a health
/// graph node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Works.
    Healthy,
    /// Does not, since `since` (when known; otherwise since it was first seen so),
    /// because `reason`.
    Unhealthy {
        /// When it was first seen unhealthy, if the source knows.
        since: Option<Timestamp>,
        /// Why.
        reason: String,
    },
}

/// Everything a pass looks at.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The enabled conditions the gateway evaluates (agent disconnect, component health).
    pub conditions: Vec<&'a AlertCondition>,
    /// The agents' last reports by tenant.
    pub agents: BTreeMap<&'a str, Vec<&'a AgentRecord>>,
    /// Components observed by a health graph, by node name (agents' capabilities are
    /// read from `agents`).
    pub components: &'a BTreeMap<String, Health>,
    /// The state kept from earlier passes, by condition and subject.
    pub kept: &'a BTreeMap<(ConditionId, String), SubjectState>,
    /// When each firing alert was last sent (this leader's memory; empty after a
    /// failover, so a new leader sends every firing alert once at its first pass).
    pub last_sent: &'a BTreeMap<(ConditionId, String), Timestamp>,
    /// How often a firing alert is sent again, so that Alertmanager keeps it.
    pub resend: Duration,
}

/// One alert to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    /// The condition.
    pub condition: ConditionId,
    /// The agent or component.
    pub subject: String,
    /// What kind of subject: `agent` or `component` (the alert's label name).
    pub subject_label: &'static str,
    /// `startsAt`.
    pub starts_at: Timestamp,
    /// `None`: firing; `Some`: resolved at that time.
    pub ends_at: Option<Timestamp>,
    /// Why (the alert's description).
    pub reason: String,
}

/// What a pass decided.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Alerts to post: new, repeated and resolved.
    pub send: Vec<Send>,
    /// States to write (new or changed).
    pub write: Vec<SubjectState>,
    /// States to delete (healthy again, or the condition or subject is gone).
    pub delete: Vec<(ConditionId, String)>,
    /// The earliest time something is due (a pending subject fires, a resend), if any.
    pub next_due: Option<Timestamp>,
    /// Subjects pending (unhealthy, not yet firing), for reports.
    pub pending: usize,
    /// Subjects firing.
    pub firing: usize,
}

/// The label naming an agent in its disconnect alert.
pub const AGENT_LABEL: &str = "agent";
/// The label naming a component in its health alert.
pub const COMPONENT_LABEL: &str = "component";

/// Decides one pass at `now`.
pub fn judge(inputs: &Inputs<'_>, now: Timestamp) -> Verdict {
    let mut verdict = Verdict::default();
    let mut seen: BTreeSet<(ConditionId, String)> = BTreeSet::new();
    for condition in &inputs.conditions {
        for (subject, label, observed) in subjects(condition, inputs, now) {
            let key = (condition.id.clone(), subject.clone());
            seen.insert(key.clone());
            let kept = inputs.kept.get(&key);
            step(inputs, &mut verdict, (key, label), kept, observed, now);
        }
    }
    // Kept state whose condition or subject is gone: resolve what fired, forget the rest.
    for (key, state) in inputs.kept {
        if seen.contains(key) {
            continue;
        }
        if let Some(starts_at) = state.firing_since {
            let label = inputs
                .conditions
                .iter()
                .find(|c| c.id == key.0)
                .map_or(AGENT_LABEL, |c| subject_label(&c.kind));
            verdict.send.push(Send {
                condition: key.0.clone(),
                subject: key.1.clone(),
                subject_label: label,
                starts_at,
                ends_at: Some(now),
                reason: "no longer evaluated (the condition or its subject was removed)".into(),
            });
        }
        verdict.delete.push(key.clone());
    }
    verdict
}

/// What a subject was observed as this pass.
enum Observed {
    /// Unhealthy; fires at `fire_at`. `since` is written to the state (components).
    Unhealthy {
        fire_at: Timestamp,
        since: Option<Timestamp>,
        reason: String,
    },
    Healthy,
    Unknown,
}

fn subject_label(kind: &ConditionKind) -> &'static str {
    match kind {
        ConditionKind::ComponentHealth(_) => COMPONENT_LABEL,
        _ => AGENT_LABEL,
    }
}

/// The subjects of a condition and how each was observed.
fn subjects(
    condition: &AlertCondition,
    inputs: &Inputs<'_>,
    now: Timestamp,
) -> Vec<(String, &'static str, Observed)> {
    let tenant = condition.tenant.as_ref().map(|t| t.as_str());
    let agents: &[&AgentRecord] = tenant
        .and_then(|t| inputs.agents.get(t))
        .map_or(&[], Vec::as_slice);
    match &condition.kind {
        ConditionKind::AgentDisconnect(k) => agents
            .iter()
            .map(|a| {
                // A live agent is "unhealthy from `fire_at` on" until its next heartbeat
                // moves `fire_at`: the caller wakes at the earliest one.
                let fire_at = a.last_heartbeat.checked_add(k.timeout).unwrap_or(now);
                let reason = if fire_at <= now {
                    format!(
                        "agent {} of tenant {} has not reported since {} (timeout {})",
                        a.agent, a.tenant, a.last_heartbeat, k.timeout
                    )
                } else {
                    String::new()
                };
                let observed = Observed::Unhealthy {
                    fire_at,
                    since: None,
                    reason,
                };
                (a.agent.clone(), AGENT_LABEL, observed)
            })
            .collect(),
        ConditionKind::ComponentHealth(k) => k
            .components
            .iter()
            .map(|name| {
                let key = (condition.id.clone(), name.clone());
                let health = component_health(name, agents, inputs.components);
                let observed = match health {
                    None => Observed::Unknown,
                    Some(Health::Healthy) => Observed::Healthy,
                    Some(Health::Unhealthy { since, reason }) => {
                        let since = inputs
                            .kept
                            .get(&key)
                            .and_then(|s| s.unhealthy_since)
                            .or(since)
                            .unwrap_or(now);
                        Observed::Unhealthy {
                            fire_at: since.checked_add(k.for_duration).unwrap_or(now),
                            since: Some(since),
                            reason,
                        }
                    }
                };
                (name.clone(), COMPONENT_LABEL, observed)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A component's health from the agents' capabilities (unhealthy when any agent of the
/// tenant reports it unhealthy, since the earliest such report) and the health graph
/// (the worse of the two); `None` when neither knows it.
fn component_health(
    name: &str,
    agents: &[&AgentRecord],
    graph: &BTreeMap<String, Health>,
) -> Option<Health> {
    let mut known = false;
    let mut unhealthy: Option<(Option<Timestamp>, Vec<String>)> = None;
    for agent in agents {
        let Some(cap) = agent.capabilities.get(name) else {
            continue;
        };
        known = true;
        if !cap.healthy {
            let entry = unhealthy.get_or_insert((Some(cap.since), Vec::new()));
            entry.0 = entry.0.map(|s| s.min(cap.since));
            let why = if cap.message.is_empty() {
                "unhealthy".to_owned()
            } else {
                cap.message.clone()
            };
            entry.1.push(format!("agent {}: {why}", agent.agent));
        }
    }
    match graph.get(name) {
        Some(Health::Healthy) => known = true,
        Some(Health::Unhealthy { since, reason }) => {
            known = true;
            let entry = unhealthy.get_or_insert((*since, Vec::new()));
            entry.0 = match (entry.0, since) {
                (Some(a), Some(b)) => Some(a.min(*b)),
                (a, b) => a.or(*b),
            };
            entry.1.push(format!("health graph: {reason}"));
        }
        None => {}
    }
    match unhealthy {
        Some((since, reasons)) => Some(Health::Unhealthy {
            since,
            reason: format!("component {name} is unhealthy: {}", reasons.join("; ")),
        }),
        None if known => Some(Health::Healthy),
        None => None,
    }
}

fn step(
    inputs: &Inputs<'_>,
    verdict: &mut Verdict,
    (key, label): ((ConditionId, String), &'static str),
    kept: Option<&SubjectState>,
    observed: Observed,
    now: Timestamp,
) {
    let firing_since = kept.and_then(|s| s.firing_since);
    match observed {
        Observed::Unknown => {
            if firing_since.is_some() {
                verdict.firing += 1;
            }
        }
        Observed::Healthy => {
            if let Some(starts_at) = firing_since {
                verdict
                    .send
                    .push(resolution(&key, label, starts_at, kept, now));
            }
            if kept.is_some() {
                verdict.delete.push(key);
            }
        }
        Observed::Unhealthy {
            fire_at,
            since,
            reason,
        } => {
            if fire_at > now {
                // Not due yet. For a component that is pending (its `since` is kept);
                // for an agent it is the normal state of a live one, whose schedule is
                // its heartbeat, so nothing is kept for it.
                if let Some(starts_at) = firing_since {
                    // It fired, and is no longer due (a heartbeat came): resolved.
                    verdict
                        .send
                        .push(resolution(&key, label, starts_at, kept, now));
                    if since.is_none() {
                        verdict.delete.push(key.clone());
                    }
                }
                if since.is_some() {
                    verdict.pending += 1;
                }
                verdict.next_due = earliest(verdict.next_due, fire_at);
                if since.is_some() {
                    let state = SubjectState {
                        condition: key.0.clone(),
                        subject: key.1.clone(),
                        unhealthy_since: since,
                        firing_since: None,
                        reason,
                    };
                    if kept != Some(&state) {
                        verdict.write.push(state);
                    }
                }
                return;
            }
            verdict.firing += 1;
            let starts_at = firing_since.unwrap_or(fire_at);
            let state = SubjectState {
                condition: key.0.clone(),
                subject: key.1.clone(),
                unhealthy_since: since,
                firing_since: Some(starts_at),
                reason: reason.clone(),
            };
            let last = inputs.last_sent.get(&key).copied();
            let due = match last {
                None => true,
                Some(at) => at.checked_add(inputs.resend).is_none_or(|next| next <= now),
            };
            if due || firing_since.is_none() {
                verdict.send.push(Send {
                    condition: key.0.clone(),
                    subject: key.1.clone(),
                    subject_label: label,
                    starts_at,
                    ends_at: None,
                    reason,
                });
                if let Some(next) = now.checked_add(inputs.resend) {
                    verdict.next_due = earliest(verdict.next_due, next);
                }
            } else if let Some(next) = last.and_then(|at| at.checked_add(inputs.resend)) {
                verdict.next_due = earliest(verdict.next_due, next);
            }
            if kept != Some(&state) {
                verdict.write.push(state);
            }
        }
    }
}

/// The resolution, at `now`, of the alert that started at `starts_at`.
fn resolution(
    key: &(ConditionId, String),
    label: &'static str,
    starts_at: Timestamp,
    kept: Option<&SubjectState>,
    now: Timestamp,
) -> Send {
    Send {
        condition: key.0.clone(),
        subject: key.1.clone(),
        subject_label: label,
        starts_at,
        ends_at: Some(now),
        reason: kept.map(|s| s.reason.clone()).unwrap_or_default(),
    }
}

fn earliest(a: Option<Timestamp>, b: Timestamp) -> Option<Timestamp> {
    Some(a.map_or(b, |a| a.min(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + secs, 0).expect("time")
    }

    fn condition(json: &str) -> AlertCondition {
        serde_json::from_str(json).expect("condition")
    }

    fn agent(name: &str, last: Timestamp) -> AgentRecord {
        AgentRecord {
            tenant: "t1".into(),
            agent: name.into(),
            last_heartbeat: last,
            capabilities: BTreeMap::new(),
        }
    }

    struct World {
        conditions: Vec<AlertCondition>,
        agents: Vec<AgentRecord>,
        components: BTreeMap<String, Health>,
        kept: BTreeMap<(ConditionId, String), SubjectState>,
        last_sent: BTreeMap<(ConditionId, String), Timestamp>,
    }

    impl World {
        fn new(conditions: &[&str]) -> World {
            World {
                conditions: conditions.iter().map(|c| condition(c)).collect(),
                agents: Vec::new(),
                components: BTreeMap::new(),
                kept: BTreeMap::new(),
                last_sent: BTreeMap::new(),
            }
        }

        /// Judges at `now` and carries the verdict out as the leader does when every
        /// write and send succeeds.
        fn pass(&mut self, now: Timestamp) -> Verdict {
            let mut agents: BTreeMap<&str, Vec<&AgentRecord>> = BTreeMap::new();
            for a in &self.agents {
                agents.entry(a.tenant.as_str()).or_default().push(a);
            }
            let inputs = Inputs {
                conditions: self.conditions.iter().collect(),
                agents,
                components: &self.components,
                kept: &self.kept,
                last_sent: &self.last_sent,
                resend: "60s".parse().expect("duration"),
            };
            let verdict = judge(&inputs, now);
            for s in &verdict.write {
                self.kept
                    .insert((s.condition.clone(), s.subject.clone()), s.clone());
            }
            for k in &verdict.delete {
                self.kept.remove(k);
                self.last_sent.remove(k);
            }
            for s in verdict.send.iter().filter(|s| s.ends_at.is_none()) {
                self.last_sent
                    .insert((s.condition.clone(), s.subject.clone()), now);
            }
            verdict
        }
    }

    const DISCONNECT: &str =
        r#"{"id": "gone", "tenant": "t1", "agent_disconnect": {"timeout": "60s"}}"#;
    const COMPONENT: &str = r#"{"id": "metrics-down", "tenant": "t1", "component_health": {"components": ["metrics", "ingester"], "for": "5m"}}"#;

    #[test]
    fn a_silent_agent_fires_at_its_deadline_repeats_and_resolves_when_it_reports() {
        let mut w = World::new(&[DISCONNECT]);
        w.agents.push(agent("a1", at(0)));
        let v = w.pass(at(59));
        assert!(v.send.is_empty() && v.write.is_empty());
        assert_eq!(v.next_due, Some(at(60)), "wakes exactly at the deadline");

        let v = w.pass(at(60));
        assert_eq!(v.send.len(), 1);
        let fired = &v.send[0];
        assert_eq!(
            (fired.subject.as_str(), fired.subject_label),
            ("a1", AGENT_LABEL)
        );
        assert_eq!((fired.starts_at, fired.ends_at), (at(60), None));
        assert!(
            fired.reason.contains("has not reported since"),
            "{}",
            fired.reason
        );
        assert_eq!(v.write[0].firing_since, Some(at(60)));
        assert_eq!(v.firing, 1);

        // Within the resend interval nothing is sent; after it, the same alert again.
        assert!(w.pass(at(90)).send.is_empty());
        let v = w.pass(at(121));
        assert_eq!(v.send.len(), 1);
        assert_eq!(v.send[0].starts_at, at(60), "a resend keeps startsAt");
        assert!(v.write.is_empty(), "nothing new to keep");

        // The agent reports again: resolved, forgotten.
        w.agents[0].last_heartbeat = at(130);
        let v = w.pass(at(131));
        assert_eq!(v.send.len(), 1);
        assert_eq!(v.send[0].ends_at, Some(at(131)));
        assert_eq!(v.delete.len(), 1);
        assert!(w.kept.is_empty());
        assert_eq!(v.next_due, Some(at(190)));
    }

    #[test]
    fn a_new_leader_keeps_the_schedule_and_resends_what_fired() {
        // The old leader fired a1 and kept it; a new leader starts with the kept state
        // but no memory of sends: it sends once at its first pass, with the old startsAt.
        let mut w = World::new(&[DISCONNECT]);
        w.agents.push(agent("a1", at(0)));
        w.agents.push(agent("a2", at(30)));
        w.pass(at(60));
        w.last_sent.clear();
        let v = w.pass(at(75));
        assert_eq!(v.send.len(), 1);
        assert_eq!(
            (v.send[0].subject.as_str(), v.send[0].starts_at),
            ("a1", at(60))
        );
        // a2 fires on its own schedule, not the failover's.
        assert_eq!(v.next_due, Some(at(90)));
        let v = w.pass(at(90));
        assert_eq!(v.send.len(), 1);
        assert_eq!(
            (v.send[0].subject.as_str(), v.send[0].starts_at),
            ("a2", at(90))
        );
    }

    #[test]
    fn a_component_fires_after_for_from_the_first_unhealthy_report_even_across_leaders() {
        let mut w = World::new(&[COMPONENT]);
        let mut a = agent("a1", at(0));
        a.capabilities.insert(
            "metrics".into(),
            CapabilityHealth {
                healthy: false,
                message: "remote write failing".into(),
                since: at(0),
            },
        );
        w.agents.push(a);
        let v = w.pass(at(10));
        assert!(v.send.is_empty());
        assert_eq!(v.pending, 1, "metrics pending; ingester unknown");
        assert_eq!(v.write.len(), 1);
        assert_eq!(v.write[0].unhealthy_since, Some(at(0)));
        assert_eq!(v.next_due, Some(at(300)));

        // The graph also reports it, but only since it was first evaluated (a new
        // leader's graph starts late): the kept `since` wins.
        w.components.insert(
            "metrics".into(),
            Health::Unhealthy {
                since: Some(at(240)),
                reason: "prometheus down".into(),
            },
        );
        let v = w.pass(at(300));
        assert_eq!(v.send.len(), 1);
        assert_eq!(v.send[0].starts_at, at(300));
        assert!(
            v.send[0].reason.contains("agent a1: remote write failing")
                && v.send[0].reason.contains("health graph: prometheus down"),
            "{}",
            v.send[0].reason
        );
        assert_eq!(v.send[0].subject_label, COMPONENT_LABEL);

        // Healthy everywhere: resolved.
        w.agents[0]
            .capabilities
            .get_mut("metrics")
            .expect("cap")
            .healthy = true;
        w.components.insert("metrics".into(), Health::Healthy);
        let v = w.pass(at(320));
        assert_eq!(v.send.len(), 1);
        assert_eq!(v.send[0].ends_at, Some(at(320)));
        assert!(w.kept.is_empty());
    }

    #[test]
    fn no_data_neither_fires_nor_resolves() {
        let mut w = World::new(&[COMPONENT]);
        w.components.insert(
            "ingester".into(),
            Health::Unhealthy {
                since: Some(at(0)),
                reason: "down".into(),
            },
        );
        assert_eq!(w.pass(at(300)).send.len(), 1);
        // The graph stops knowing the component (its sensor has no data).
        w.components.clear();
        let v = w.pass(at(400));
        assert!(v.send.is_empty() && v.delete.is_empty());
        assert_eq!(v.firing, 1);
    }

    #[test]
    fn state_of_a_removed_condition_is_resolved_and_forgotten() {
        let mut w = World::new(&[DISCONNECT]);
        w.agents.push(agent("a1", at(0)));
        w.pass(at(60));
        w.conditions.clear();
        let v = w.pass(at(61));
        assert_eq!(v.send.len(), 1);
        assert_eq!(v.send[0].ends_at, Some(at(61)));
        assert!(w.kept.is_empty());
        // Agents of other tenants are not the condition's subjects.
        let mut w = World::new(&[DISCONNECT]);
        let mut other = agent("b1", t("2020-01-01T00:00:00Z"));
        other.tenant = "t2".into();
        w.agents.push(other);
        assert!(w.pass(at(0)).send.is_empty());
    }
}
