//! Merging the answers of several HA members into one, by Cortex's and Mimir's rules
//! (`pkg/alertmanager/merger`, identical in both projects).
//!
//! - alerts: union by fingerprint; among duplicates the latest `updatedAt` wins, the
//!   first seen on a tie; sorted by fingerprint as text (as Alertmanager sorts);
//! - groups: keyed by (group labels, receiver name); alerts of groups with the same key
//!   are concatenated and merged as above; sorted as Alertmanager sorts aggregation
//!   groups (`LabelSet.Before`, then receiver name);
//! - silences: union by id; the latest `updatedAt` wins; sorted active (by `endsAt`),
//!   then pending (by `startsAt`), then expired (by `endsAt`, latest first).
//!
//! These are pure functions over already-decoded answers.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use alert_core::LabelSet;
use alert_core::silence::{Silence, SilenceState};

use crate::alert::{AlertGroup, GettableAlert};
use crate::error::{Error, Result};

/// Merges the alerts of several members (concatenated in any order).
///
/// ```
/// use alert_cortex_adapter::{merge, GettableAlert};
/// let a = |fp: &str, updated: &str| -> GettableAlert { serde_json::from_value(serde_json::json!({
///     "labels": {"alertname": fp}, "annotations": {}, "receivers": [], "fingerprint": fp,
///     "startsAt": "2024-05-01T10:00:00Z", "updatedAt": updated, "endsAt": "2024-05-01T11:00:00Z",
///     "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}})).unwrap() };
/// let merged = merge::merge_alerts(vec![
///     a("0b", "2024-05-01T10:00:00Z"), a("0a", "2024-05-01T10:00:00Z"),
///     a("0b", "2024-05-01T10:00:05Z"),
/// ]);
/// assert_eq!(merged.len(), 2);
/// assert_eq!(merged[0].fingerprint.as_str(), "0a");
/// assert_eq!(merged[1].updated_at.to_string(), "2024-05-01T10:00:05Z");
/// ```
pub fn merge_alerts(alerts: Vec<GettableAlert>) -> Vec<GettableAlert> {
    let order = merged_alert_order(&alerts);
    let mut rank = vec![usize::MAX; alerts.len()];
    for (pos, i) in order.iter().enumerate() {
        rank[*i] = pos;
    }
    let mut slots: Vec<Option<GettableAlert>> = Vec::new();
    slots.resize_with(order.len(), || None);
    for (alert, r) in alerts.into_iter().zip(rank) {
        if let Some(slot) = slots.get_mut(r) {
            *slot = Some(alert);
        }
    }
    slots.into_iter().flatten().collect()
}

/// The decision of [`merge_alerts`] without moving anything: the positions in `alerts`
/// of the copies that survive, in output order (by fingerprint text).
///
/// ```
/// use alert_cortex_adapter::{merge, GettableAlert};
/// let a = |fp: &str, updated: &str| -> GettableAlert { serde_json::from_value(serde_json::json!({
///     "labels": {}, "fingerprint": fp, "startsAt": "2024-05-01T10:00:00Z",
///     "updatedAt": updated, "endsAt": "2024-05-01T11:00:00Z", "status": {"state": "active"}})).unwrap() };
/// let alerts = [a("0b", "2024-05-01T10:00:00Z"), a("0a", "2024-05-01T10:00:00Z"),
///               a("0b", "2024-05-01T10:00:05Z")];
/// assert_eq!(merge::merged_alert_order(&alerts), [1, 2]);
/// ```
pub fn merged_alert_order(alerts: &[GettableAlert]) -> Vec<usize> {
    let mut winner: HashMap<&str, usize> = HashMap::with_capacity(alerts.len());
    for (i, alert) in alerts.iter().enumerate() {
        match winner.entry(alert.fingerprint.as_str()) {
            Entry::Occupied(mut slot) => {
                if alert.updated_at > alerts[*slot.get()].updated_at {
                    slot.insert(i);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }
    let mut order: Vec<(&str, usize)> = winner.into_iter().collect();
    order.sort_unstable_by(|a, b| a.0.cmp(b.0));
    order.into_iter().map(|(_, i)| i).collect()
}

/// Merges the alert groups of several members.
pub fn merge_alert_groups(groups: Vec<AlertGroup>) -> Vec<AlertGroup> {
    let mut index: HashMap<(LabelSet, String), usize> = HashMap::new();
    let mut out: Vec<AlertGroup> = Vec::new();
    for group in groups {
        match index.entry((group.labels.clone(), group.receiver.name.clone())) {
            Entry::Occupied(slot) => out[*slot.get()].alerts.extend(group.alerts),
            Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push(group);
            }
        }
    }
    for group in &mut out {
        group.alerts = merge_alerts(std::mem::take(&mut group.alerts));
    }
    out.sort_by(|a, b| {
        if a.labels == b.labels {
            a.receiver.name.cmp(&b.receiver.name)
        } else {
            labels_before(&a.labels, &b.labels)
        }
    });
    out
}

/// Merges the silences of several members: union by id, the latest `updatedAt` wins
/// (the first seen on a tie), sorted by [`sort_silences`].
pub fn merge_silences(silences: Vec<Silence>) -> Vec<Silence> {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(silences.len());
    let mut out: Vec<Silence> = Vec::with_capacity(silences.len());
    for silence in silences {
        match index.entry(silence.id.clone()) {
            Entry::Occupied(slot) => {
                let current = &mut out[*slot.get()];
                if silence.updated_at > current.updated_at {
                    *current = silence;
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push(silence);
            }
        }
    }
    sort_silences(&mut out);
    out
}

/// Merges the answers of several members to `GET /api/v2/silence/{id}`: the latest copy,
/// which must carry the asked id (Cortex: `unexpected mismatched silence ids`).
pub fn merge_silence(id: &str, silences: Vec<Silence>) -> Result<Silence> {
    let mismatched = || Error::Merge {
        reason: "unexpected mismatched silence ids".into(),
    };
    match <[Silence; 1]>::try_from(merge_silences(silences)) {
        Ok([one]) if one.id == id => Ok(one),
        Ok(_) => Err(mismatched()),
        Err(none) if none.is_empty() => Err(Error::Merge {
            reason: format!("no member returned silence {id}"),
        }),
        Err(_) => Err(mismatched()),
    }
}

/// Alertmanager's `SortSilences`: active first (ending soonest first), then pending
/// (starting soonest first), then expired (ended most recently first). Go's sort is not
/// stable; ties are broken by id here so that the order is deterministic.
pub fn sort_silences(silences: &mut [Silence]) {
    fn rank(s: SilenceState) -> u8 {
        match s {
            SilenceState::Active => 1,
            SilenceState::Pending => 2,
            SilenceState::Expired => 3,
        }
    }
    silences.sort_by(|a, b| {
        let (sa, sb) = (a.status.state, b.status.state);
        rank(sa)
            .cmp(&rank(sb))
            .then_with(|| match sa {
                SilenceState::Active => a.ends_at.cmp(&b.ends_at),
                SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
                SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
            })
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// Alertmanager's order of label sets (`model.LabelSet.Before`): fewer labels first;
/// then, walking the sorted union of names, the set missing a name first, else the
/// lower value first.
///
/// ```
/// use std::cmp::Ordering;
/// use alert_core::LabelSet;
/// use alert_cortex_adapter::merge::labels_before;
/// let ls = |p: &[(&str, &str)]| LabelSet::from_pairs(p.iter().copied()).unwrap();
/// assert_eq!(labels_before(&ls(&[("b", "1")]), &ls(&[("a", "1"), ("b", "1")])), Ordering::Less);
/// assert_eq!(labels_before(&ls(&[("b", "1")]), &ls(&[("a", "9")])), Ordering::Less);
/// assert_eq!(labels_before(&ls(&[("a", "1")]), &ls(&[("a", "2")])), Ordering::Less);
/// ```
pub fn labels_before(a: &LabelSet, b: &LabelSet) -> Ordering {
    match a.len().cmp(&b.len()) {
        Ordering::Equal => {}
        other => return other,
    }
    let mut names: Vec<&str> = a.names().chain(b.names()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        match (a.get(name), b.get(name)) {
            (None, None) => {}
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertState, AlertStatusInfo, ApiFingerprint, ReceiverName};
    use alert_core::Timestamp;
    use proptest::prelude::*;

    fn alert(labels: &[(&str, &str)], updated_secs: i64) -> GettableAlert {
        let labels = LabelSet::from_pairs(labels.iter().copied()).unwrap();
        let t = |s| Timestamp::from_unix(s, 0).unwrap();
        GettableAlert {
            fingerprint: ApiFingerprint::from(labels.fingerprint()),
            labels,
            annotations: LabelSet::new(),
            receivers: vec![ReceiverName { name: "r".into() }],
            starts_at: t(1_700_000_000),
            updated_at: t(1_700_000_000 + updated_secs),
            ends_at: t(1_700_100_000),
            status: AlertStatusInfo {
                state: AlertState::Active,
                silenced_by: vec![],
                inhibited_by: vec![],
            },
            generator_url: None,
        }
    }

    #[test]
    fn ties_keep_the_first_seen() {
        let mut first = alert(&[("a", "1")], 5);
        first.generator_url = Some("first".into());
        let mut second = alert(&[("a", "1")], 5);
        second.generator_url = Some("second".into());
        let merged = merge_alerts(vec![first, second]);
        assert_eq!(merged[0].generator_url.as_deref(), Some("first"));
    }

    #[test]
    fn fingerprints_sort_as_text() {
        let mut short = alert(&[("a", "1")], 0);
        short.fingerprint = "f".parse().unwrap();
        let mut long = alert(&[("a", "2")], 0);
        long.fingerprint = "0123456789abcdef".parse().unwrap();
        let merged = merge_alerts(vec![short, long]);
        assert_eq!(merged[0].fingerprint.as_str(), "0123456789abcdef");
    }

    #[test]
    fn groups_merge_by_labels_and_receiver() {
        let g = |labels: &[(&str, &str)], receiver: &str, alerts: Vec<GettableAlert>| AlertGroup {
            labels: LabelSet::from_pairs(labels.iter().copied()).unwrap(),
            receiver: ReceiverName {
                name: receiver.into(),
            },
            alerts,
        };
        let a1 = alert(&[("alertname", "A"), ("i", "1")], 0);
        let a1_newer = alert(&[("alertname", "A"), ("i", "1")], 9);
        let a2 = alert(&[("alertname", "A"), ("i", "2")], 0);
        let merged = merge_alert_groups(vec![
            g(&[("alertname", "A")], "team-b", vec![a1.clone()]),
            g(
                &[("alertname", "A")],
                "team-a",
                vec![a1.clone(), a2.clone()],
            ),
            g(&[], "default", vec![a2.clone()]),
            g(&[("alertname", "A")], "team-a", vec![a1_newer.clone()]),
        ]);
        let keys: Vec<(usize, &str)> = merged
            .iter()
            .map(|g| (g.labels.len(), g.receiver.name.as_str()))
            .collect();
        assert_eq!(keys, vec![(0, "default"), (1, "team-a"), (1, "team-b")]);
        assert_eq!(merged[1].alerts.len(), 2);
        let kept = merged[1]
            .alerts
            .iter()
            .find(|a| a.labels.get("i") == Some("1"))
            .unwrap();
        assert_eq!(kept.updated_at, a1_newer.updated_at);
    }

    fn silence(id: &str, state: SilenceState, starts: i64, ends: i64, updated: i64) -> Silence {
        let t = |s| Timestamp::from_unix(1_700_000_000 + s, 0).unwrap();
        Silence {
            id: id.into(),
            matchers: alert_core::parse_matchers("a=\"b\"", alert_core::ParserMode::Classic)
                .unwrap(),
            starts_at: t(starts),
            ends_at: t(ends),
            created_by: "me".into(),
            comment: String::new(),
            status: alert_core::silence::SilenceStatus { state },
            updated_at: t(updated),
        }
    }

    #[test]
    fn silences_sort_as_alertmanager_sorts_them() {
        use SilenceState::*;
        let merged = merge_silences(vec![
            silence("e1", Expired, 0, 10, 0),
            silence("p2", Pending, 50, 90, 0),
            silence("a2", Active, 0, 80, 0),
            silence("e2", Expired, 0, 20, 0),
            silence("p1", Pending, 40, 90, 0),
            silence("a1", Active, 0, 70, 0),
            silence("a1", Expired, 0, 5, 9), // a1 expired later on another member
        ]);
        let ids: Vec<&str> = merged.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a2", "p1", "p2", "e2", "e1", "a1"]);
    }

    #[test]
    fn one_silence_must_keep_its_id() {
        let s = merge_silence(
            "x",
            vec![
                silence("x", SilenceState::Active, 0, 9, 1),
                silence("x", SilenceState::Active, 0, 9, 2),
            ],
        )
        .unwrap();
        assert_eq!(
            s.updated_at,
            silence("x", SilenceState::Active, 0, 9, 2).updated_at
        );
        let err = merge_silence("x", vec![silence("y", SilenceState::Active, 0, 9, 1)]);
        assert_eq!(
            err.unwrap_err().to_string(),
            "cannot merge answers: unexpected mismatched silence ids"
        );
        assert!(merge_silence("x", vec![]).is_err());
    }

    fn arb_alert() -> impl Strategy<Value = GettableAlert> {
        ("[a-c]", "[0-2]", 0i64..5).prop_map(|(n, v, u)| alert(&[("alertname", &n), ("v", &v)], u))
    }

    proptest! {
        /// The merge is the union, keeps the latest copy and is sorted, whatever the
        /// order and split of the members' answers.
        #[test]
        fn merge_is_union_latest_sorted(members in proptest::collection::vec(
            proptest::collection::vec(arb_alert(), 0..12), 1..4)) {
            let all: Vec<GettableAlert> = members.iter().flatten().cloned().collect();
            let merged = merge_alerts(all.clone());
            let mut fps: Vec<&str> = all.iter().map(|a| a.fingerprint.as_str()).collect();
            fps.sort_unstable();
            fps.dedup();
            let got: Vec<&str> = merged.iter().map(|a| a.fingerprint.as_str()).collect();
            prop_assert_eq!(got, fps);
            for m in &merged {
                let latest = all.iter().filter(|a| a.fingerprint == m.fingerprint)
                    .map(|a| a.updated_at).max().unwrap();
                prop_assert_eq!(m.updated_at, latest);
            }
            // Merging again changes nothing.
            prop_assert_eq!(merge_alerts(merged.clone()), merged);
        }

        #[test]
        fn silence_merge_keeps_latest_of_each_id(
            raw in proptest::collection::vec(("[a-d]", 0u8..3, 0i64..50, 0i64..50, 0i64..5), 0..20)) {
            let all: Vec<Silence> = raw.iter().map(|(id, st, s, e, u)| {
                let state = [SilenceState::Active, SilenceState::Pending, SilenceState::Expired][*st as usize];
                silence(id, state, *s, *e, *u)
            }).collect();
            let merged = merge_silences(all.clone());
            let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(merged.len(), ids.len());
            for m in &merged {
                let latest = all.iter().filter(|s| s.id == m.id).map(|s| s.updated_at).max().unwrap();
                prop_assert_eq!(m.updated_at, latest);
            }
            let mut resorted = merged.clone();
            resorted.reverse();
            sort_silences(&mut resorted);
            prop_assert_eq!(resorted, merged);
        }

        #[test]
        fn labels_before_is_a_total_order(a in proptest::collection::btree_map("[a-c]", "[0-2]", 0..3),
                                          b in proptest::collection::btree_map("[a-c]", "[0-2]", 0..3)) {
            let a = LabelSet::from_pairs(a).unwrap();
            let b = LabelSet::from_pairs(b).unwrap();
            prop_assert_eq!(labels_before(&a, &b), labels_before(&b, &a).reverse());
            prop_assert_eq!(labels_before(&a, &b) == Ordering::Equal, a == b);
        }
    }
}
