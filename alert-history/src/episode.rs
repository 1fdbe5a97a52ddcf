//! Episodes: one firing of one alert, merged from Alertmanager's notifications.
//!
//! Alertmanager re-sends a firing alert every `repeat_interval`, retries a failed
//! delivery, and sends a resolved notification when the alert clears. An episode is the
//! stable record behind all of those: keyed by `(fingerprint, startsAt)`, it keeps the
//! alert's labels and the newest annotations, when it started and ended, and when it was
//! first and last heard of.
//!
//! The merge rules ([`Episode::merge`]) are idempotent and, for notifications with
//! distinct receive times, independent of arrival order:
//! - a firing notification never reopens a resolved episode;
//! - a resolved notification sets `endsAt` (the latest `endsAt` seen wins);
//! - the `endsAt` of a firing alert (Go's zero time, or the provisional end Prometheus
//!   sets) is not an end;
//! - annotations, receiver and generator URL come from the newest notification;
//! - first and last seen are the minimum and maximum receive times.
//!
//! Episodes also end without a resolved notification ([`EndReason`] says how; every end
//! but [`EndReason::Resolved`] is inferred, and a stated end replaces it):
//! - **superseded** ([`end_superseded`]): an open episode ends when a newer episode of
//!   the same fingerprint starts, at the newer `startsAt`. Alertmanager 0.25 replaces an
//!   alert that resolves and fires again within one group interval, and never sends a
//!   resolved notification for the old start;
//! - **silent** ([`SilentEnd`]): an open episode not heard of within its route's repeat
//!   interval plus a grace ended at its last notification plus that repeat interval:
//!   Alertmanager would have repeated it by then had it still fired (it sends nothing
//!   for an alert that is silenced, inhibited or resolved while `send_resolved` is off);
//! - **unavailable** ([`crate::close_open_episodes`]): the pipeline went down.

use std::collections::BTreeMap;

use alert_core::{Alert, AlertStatus, Duration, Fingerprint, LabelSet, Timestamp, WebhookMessage};
use serde::{Deserialize, Serialize};

use crate::range::TimeSpan;

/// One alert of one webhook notification, with when and through which receiver it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The alert as Alertmanager sent it (its fingerprint computed if it had none).
    pub alert: Alert,
    /// The receiver name, with Go's regex quoting undone.
    pub receiver: String,
    /// When this service received it.
    pub received_at: Timestamp,
}

impl Notification {
    /// The notifications of one webhook message, one per alert.
    ///
    /// ```
    /// use alert_core::{Alert, LabelSet, WebhookMessage};
    /// use alert_history::Notification;
    /// let body = br#"{"receiver":"history","status":"firing","alerts":[{"status":"firing",
    ///   "labels":{"alertname":"DiskFull"},"annotations":{},"startsAt":"2024-05-01T10:00:00Z",
    ///   "endsAt":"0001-01-01T00:00:00Z","generatorURL":""}],"version":"4"}"#;
    /// let msg = WebhookMessage::from_json(body)?;
    /// let got = Notification::from_message(&msg, "2024-05-01T10:00:30Z".parse()?);
    /// assert_eq!(got.len(), 1);
    /// assert_eq!(got[0].receiver, "history");
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn from_message(message: &WebhookMessage, received_at: Timestamp) -> Vec<Notification> {
        let receiver = message.receiver_unquoted();
        message
            .alerts
            .iter()
            .map(|alert| Notification {
                alert: alert.clone(),
                receiver: receiver.clone(),
                received_at,
            })
            .collect()
    }

    /// The key of the episode this notification belongs to.
    pub fn key(&self) -> EpisodeKey {
        EpisodeKey {
            fingerprint: self.alert.fingerprint,
            starts_at: self.alert.starts_at,
        }
    }

    /// The end this notification states: `endsAt` of a resolved alert (its receive time
    /// if a resolved alert carries no `endsAt`), `None` for a firing one.
    pub fn stated_end(&self) -> Option<Timestamp> {
        match self.alert.status {
            AlertStatus::Firing => None,
            AlertStatus::Resolved => Some(self.alert.ends_at.unwrap_or(self.received_at)),
        }
    }
}

/// What identifies an episode: the alert's fingerprint and when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpisodeKey {
    /// The alert's fingerprint.
    pub fingerprint: Fingerprint,
    /// When this firing started.
    pub starts_at: Timestamp,
}

/// How an episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EndReason {
    /// A resolved notification stated the end.
    Resolved,
    /// A newer episode of the same alert started; ended at its start (inferred).
    Superseded,
    /// Not heard of within its repeat interval plus a grace; ended at its last
    /// notification plus the repeat interval (inferred).
    Silent,
    /// The alerting pipeline went down while it was open; ended at the outage's start
    /// (inferred).
    Unavailable,
}

impl EndReason {
    /// Whether the end was inferred rather than stated.
    pub fn is_inferred(self) -> bool {
        self != EndReason::Resolved
    }
}

/// One firing of one alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    /// The alert's fingerprint.
    pub fingerprint: Fingerprint,
    /// When this firing started.
    pub starts_at: Timestamp,
    /// When it ended; `None` while it fires.
    pub ends_at: Option<Timestamp>,
    /// Whether `ends_at` was inferred rather than stated by a resolved notification
    /// (`end_reason` says how).
    #[serde(default)]
    pub end_inferred: bool,
    /// How the episode ended; `None` while open.
    #[serde(default)]
    pub end_reason: Option<EndReason>,
    /// The alert's labels.
    pub labels: LabelSet,
    /// The newest annotations.
    pub annotations: LabelSet,
    /// The `severity` label, if any.
    pub severity: Option<String>,
    /// When the first notification of this episode was received.
    pub first_seen: Timestamp,
    /// When the newest notification of this episode was received.
    pub last_seen: Timestamp,
    /// The receiver of the newest notification.
    pub receiver: String,
    /// The generator URL of the newest notification.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

impl Episode {
    /// The episode that a first notification opens (or, if it is resolved, records).
    pub fn from_notification(n: &Notification) -> Episode {
        Episode {
            fingerprint: n.alert.fingerprint,
            starts_at: n.alert.starts_at,
            ends_at: n.stated_end(),
            end_inferred: false,
            end_reason: n.stated_end().map(|_| EndReason::Resolved),
            severity: n
                .alert
                .labels
                .get(alert_core::SEVERITY_LABEL)
                .map(str::to_owned),
            labels: n.alert.labels.clone(),
            annotations: n.alert.annotations.clone(),
            first_seen: n.received_at,
            last_seen: n.received_at,
            receiver: n.receiver.clone(),
            generator_url: n.alert.generator_url.clone(),
        }
    }

    /// This episode's key.
    pub fn key(&self) -> EpisodeKey {
        EpisodeKey {
            fingerprint: self.fingerprint,
            starts_at: self.starts_at,
        }
    }

    /// The `alertname` label, or `""`.
    pub fn alertname(&self) -> &str {
        self.labels.get_or_empty("alertname")
    }

    /// Whether the episode is still open (no end stated or inferred).
    pub fn is_open(&self) -> bool {
        self.ends_at.is_none()
    }

    /// Ends the episode at `at` for an inferred `reason`, unless it already ended
    /// earlier or a resolved notification stated its end. Returns whether it changed.
    pub fn infer_end(&mut self, at: Timestamp, reason: EndReason) -> bool {
        let earlier = match (self.ends_at, self.end_reason) {
            (_, Some(EndReason::Resolved)) => false,
            (Some(current), _) if self.end_inferred => at < current,
            (Some(_), _) => false,
            (None, _) => true,
        };
        if earlier {
            self.ends_at = Some(at);
            self.end_inferred = true;
            self.end_reason = Some(reason);
        }
        earlier
    }

    /// Whether the episode shares an instant with `range`.
    pub fn overlaps(&self, range: &TimeSpan) -> bool {
        range.overlaps(self.starts_at, self.ends_at)
    }

    /// Merges one more notification of the same episode (see the module docs for the
    /// rules). Returns `false`, changing nothing, when the notification has another key.
    ///
    /// ```
    /// use alert_core::{Alert, AlertStatus, LabelSet, Timestamp};
    /// use alert_history::{Episode, Notification};
    /// let t = |s: &str| s.parse::<Timestamp>().unwrap();
    /// let labels = LabelSet::from_pairs([("alertname", "DiskFull")])?;
    /// let firing = Notification {
    ///     alert: Alert::firing(labels, t("2024-05-01T10:00:00Z")),
    ///     receiver: "history".into(),
    ///     received_at: t("2024-05-01T10:00:30Z"),
    /// };
    /// let mut resolved = firing.clone();
    /// resolved.alert.status = AlertStatus::Resolved;
    /// resolved.alert.ends_at = Some(t("2024-05-01T10:20:00Z"));
    /// resolved.received_at = t("2024-05-01T10:20:30Z");
    ///
    /// let mut episode = Episode::from_notification(&firing);
    /// assert!(episode.merge(&resolved));
    /// // A late re-delivery of the firing notification does not reopen it.
    /// assert!(episode.merge(&firing));
    /// assert_eq!(episode.ends_at, Some(t("2024-05-01T10:20:00Z")));
    /// assert_eq!(episode.last_seen, t("2024-05-01T10:20:30Z"));
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn merge(&mut self, n: &Notification) -> bool {
        if n.key() != self.key() {
            return false;
        }
        if let Some(end) = n.stated_end() {
            // A stated end replaces an inferred one; among stated ends the latest wins.
            self.ends_at = Some(match self.ends_at {
                Some(current) if !self.end_inferred => current.max(end),
                _ => end,
            });
            self.end_inferred = false;
            self.end_reason = Some(EndReason::Resolved);
        }
        if n.received_at >= self.last_seen {
            self.annotations = n.alert.annotations.clone();
            self.receiver = n.receiver.clone();
            self.generator_url = n.alert.generator_url.clone();
            self.last_seen = n.received_at;
        }
        self.first_seen = self.first_seen.min(n.received_at);
        true
    }
}

/// Checks that every alert's `fingerprint` is the fingerprint of its labels.
///
/// Episodes are keyed by fingerprint, so a body that names another alert's fingerprint
/// would merge into (and could resolve) that alert's episode. Alertmanager computes the
/// fingerprint from the labels; anything else is refused, naming the alert.
///
/// ```
/// use alert_core::{Alert, Fingerprint, LabelSet, Timestamp};
/// use alert_history::{check_fingerprints, Notification};
/// let t: Timestamp = "2024-05-01T10:00:00Z".parse()?;
/// let alert = Alert::firing(LabelSet::from_pairs([("alertname", "A")])?, t);
/// let mut n = Notification { alert, receiver: "h".into(), received_at: t };
/// assert!(check_fingerprints(&[n.clone()]).is_ok());
/// n.alert.fingerprint = Fingerprint(0xff);
/// let err = check_fingerprints(&[n]).unwrap_err().to_string();
/// assert!(err.starts_with("alerts[0].fingerprint: fingerprint 00000000000000ff"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_fingerprints(notifications: &[Notification]) -> crate::Result<()> {
    for (i, n) in notifications.iter().enumerate() {
        let computed = n.alert.labels.fingerprint();
        if n.alert.fingerprint != computed {
            return Err(crate::Error::FingerprintMismatch {
                field: format!("alerts[{i}].fingerprint"),
                given: n.alert.fingerprint.to_string(),
                computed: computed.to_string(),
            });
        }
    }
    Ok(())
}

/// Ends every episode that a newer episode of the same fingerprint supersedes, at the
/// newer `startsAt` ([`EndReason::Superseded`]): open episodes, and those whose inferred
/// end is later. Stated ends are kept.
///
/// ```
/// use alert_core::{Alert, LabelSet, Timestamp};
/// use alert_history::{end_superseded, EndReason, Episode, Notification};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let labels = LabelSet::from_pairs([("alertname", "Flap")])?;
/// let episode = |starts: &str| Episode::from_notification(&Notification {
///     alert: Alert::firing(labels.clone(), t(starts)),
///     receiver: "history".into(),
///     received_at: t(starts),
/// });
/// let mut eps = [episode("2024-05-01T10:05:00Z"), episode("2024-05-01T10:00:00Z")];
/// end_superseded(&mut eps);
/// assert_eq!(eps[1].ends_at, Some(t("2024-05-01T10:05:00Z")));
/// assert_eq!(eps[1].end_reason, Some(EndReason::Superseded));
/// assert!(eps[0].is_open());
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn end_superseded(episodes: &mut [Episode]) {
    let mut starts: BTreeMap<Fingerprint, Vec<Timestamp>> = BTreeMap::new();
    for e in episodes.iter() {
        starts.entry(e.fingerprint).or_default().push(e.starts_at);
    }
    for list in starts.values_mut() {
        list.sort_unstable();
    }
    for e in episodes.iter_mut() {
        let Some(list) = starts.get(&e.fingerprint) else {
            continue;
        };
        if let Some(next) = list.get(list.partition_point(|s| *s <= e.starts_at)) {
            e.infer_end(*next, EndReason::Superseded);
        }
    }
}

/// When an open episode that Alertmanager stopped repeating is taken to have ended.
///
/// Alertmanager repeats a firing alert every `repeat_interval` of its route (at the
/// group's next flush, so up to a `group_interval` later). An open episode whose last
/// notification is older than its repeat interval plus `grace` ended, as far as anyone
/// can tell, at that notification plus the repeat interval.
///
/// ```
/// use alert_core::{Alert, Duration, LabelSet, Timestamp};
/// use alert_history::{EndReason, Episode, Notification, SilentEnd};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let mut e = Episode::from_notification(&Notification {
///     alert: Alert::firing(LabelSet::from_pairs([("alertname", "A")])?, t("2024-05-01T10:00:00Z")),
///     receiver: "history".into(),
///     received_at: t("2024-05-01T10:00:30Z"),
/// });
/// let policy = SilentEnd::new("4h".parse()?, "10m".parse()?);
/// assert!(!policy.apply(std::slice::from_mut(&mut e), t("2024-05-01T14:10:00Z")));
/// assert!(policy.apply(std::slice::from_mut(&mut e), t("2024-05-01T14:11:00Z")));
/// assert_eq!(e.ends_at, Some(t("2024-05-01T14:00:30Z")));
/// assert_eq!(e.end_reason, Some(EndReason::Silent));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilentEnd {
    /// The repeat interval of routes not named in `per_receiver`.
    pub repeat_interval: Duration,
    /// The repeat interval of the route behind a receiver, by receiver name.
    pub per_receiver: BTreeMap<String, Duration>,
    /// How long past the repeat interval an episode may stay silent.
    pub grace: Duration,
}

impl SilentEnd {
    /// One repeat interval for every receiver.
    pub fn new(repeat_interval: Duration, grace: Duration) -> SilentEnd {
        SilentEnd {
            repeat_interval,
            per_receiver: BTreeMap::new(),
            grace,
        }
    }

    /// The repeat interval of the route that delivers to `receiver`.
    pub fn repeat_interval_of(&self, receiver: &str) -> Duration {
        self.per_receiver
            .get(receiver)
            .copied()
            .unwrap_or(self.repeat_interval)
    }

    /// Ends the open episodes silent at `now`; returns whether any was ended.
    pub fn apply(&self, episodes: &mut [Episode], now: Timestamp) -> bool {
        let mut changed = false;
        for e in episodes.iter_mut().filter(|e| e.is_open()) {
            let repeat = self.repeat_interval_of(&e.receiver);
            let Some(end) = e.last_seen.checked_add(repeat) else {
                continue;
            };
            let silent = end
                .checked_add(self.grace)
                .is_some_and(|deadline| deadline < now);
            if silent {
                changed |= e.infer_end(end.max(e.starts_at), EndReason::Silent);
            }
        }
        changed
    }
}

impl Default for SilentEnd {
    /// Alertmanager's default repeat interval (4h), with a grace of 10m (two default
    /// group intervals).
    fn default() -> SilentEnd {
        SilentEnd::new(
            Duration::from_secs(4 * 3600).unwrap_or_default(),
            Duration::from_secs(600).unwrap_or_default(),
        )
    }
}

/// Merges notifications into episodes, returned in key order (fingerprint, then start).
/// Open episodes that a newer one supersedes are ended ([`end_superseded`]).
///
/// ```
/// use alert_core::{Alert, LabelSet, Timestamp};
/// use alert_history::{merge_notifications, Notification};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let alert = Alert::firing(LabelSet::from_pairs([("alertname", "A")])?, t("2024-05-01T10:00:00Z"));
/// let n = Notification { alert, receiver: "h".into(), received_at: t("2024-05-01T10:00:30Z") };
/// // A re-delivery changes nothing.
/// assert_eq!(merge_notifications([&n, &n]).len(), 1);
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn merge_notifications<'a, I>(notifications: I) -> Vec<Episode>
where
    I: IntoIterator<Item = &'a Notification>,
{
    let mut episodes: BTreeMap<EpisodeKey, Episode> = BTreeMap::new();
    for n in notifications {
        episodes
            .entry(n.key())
            .and_modify(|e| {
                e.merge(n);
            })
            .or_insert_with(|| Episode::from_notification(n));
    }
    let mut episodes: Vec<Episode> = episodes.into_values().collect();
    end_superseded(&mut episodes);
    episodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn notification(
        status: AlertStatus,
        starts: &str,
        ends: Option<&str>,
        at: &str,
    ) -> Notification {
        let labels = LabelSet::from_pairs([("alertname", "DiskFull"), ("severity", "critical")])
            .expect("valid labels");
        let mut alert = Alert::firing(labels, t(starts));
        alert.status = status;
        alert.ends_at = ends.map(t);
        Notification {
            alert,
            receiver: "history".into(),
            received_at: t(at),
        }
    }

    #[test]
    fn resolved_sets_end_and_firing_never_reopens() {
        let firing = notification(
            AlertStatus::Firing,
            "2024-05-01T10:00:00Z",
            None,
            "2024-05-01T10:00:10Z",
        );
        let resolved = notification(
            AlertStatus::Resolved,
            "2024-05-01T10:00:00Z",
            Some("2024-05-01T10:30:00Z"),
            "2024-05-01T10:30:05Z",
        );
        let mut e = Episode::from_notification(&firing);
        assert!(e.is_open());
        assert_eq!(e.severity.as_deref(), Some("critical"));
        e.merge(&resolved);
        assert_eq!(e.ends_at, Some(t("2024-05-01T10:30:00Z")));
        let late_firing = notification(
            AlertStatus::Firing,
            "2024-05-01T10:00:00Z",
            None,
            "2024-05-01T10:40:00Z",
        );
        e.merge(&late_firing);
        assert_eq!(
            e.ends_at,
            Some(t("2024-05-01T10:30:00Z")),
            "firing must not reopen"
        );
        assert_eq!(e.last_seen, t("2024-05-01T10:40:00Z"));
        assert_eq!(e.first_seen, t("2024-05-01T10:00:10Z"));
    }

    #[test]
    fn provisional_end_of_a_firing_alert_is_not_an_end() {
        // Prometheus sends firing alerts with endsAt a few minutes ahead.
        let firing = notification(
            AlertStatus::Firing,
            "2024-05-01T10:00:00Z",
            Some("2024-05-01T10:04:00Z"),
            "2024-05-01T10:00:10Z",
        );
        assert_eq!(Episode::from_notification(&firing).ends_at, None);
    }

    #[test]
    fn go_zero_end_from_the_wire_means_no_end_and_missing_fingerprint_is_computed() {
        let body = br#"{"receiver":"hist\\.ory","status":"firing","alerts":[{"status":"firing",
          "labels":{"alertname":"Test","severity":"page"},"annotations":{},"startsAt":"2024-05-01T10:00:00Z",
          "endsAt":"0001-01-01T00:00:00Z","generatorURL":""}],"version":"4"}"#;
        let msg = WebhookMessage::from_json(body).expect("valid");
        let ns = Notification::from_message(&msg, t("2024-05-01T10:00:01Z"));
        let e = Episode::from_notification(&ns[0]);
        assert_eq!(e.ends_at, None);
        assert_eq!(e.fingerprint.to_string(), "823de09697ca9348");
        assert_eq!(e.receiver, "hist.ory");
    }

    #[test]
    fn resolved_first_then_firing_stays_resolved() {
        let resolved = notification(
            AlertStatus::Resolved,
            "2024-05-01T10:00:00Z",
            Some("2024-05-01T10:30:00Z"),
            "2024-05-01T10:30:05Z",
        );
        let firing = notification(
            AlertStatus::Firing,
            "2024-05-01T10:00:00Z",
            None,
            "2024-05-01T10:00:10Z",
        );
        let eps = merge_notifications([&resolved, &firing]);
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].ends_at, Some(t("2024-05-01T10:30:00Z")));
        assert_eq!(eps[0].first_seen, t("2024-05-01T10:00:10Z"));
    }

    #[test]
    fn different_start_is_a_different_episode_and_other_key_is_refused() {
        let a = notification(
            AlertStatus::Firing,
            "2024-05-01T10:00:00Z",
            None,
            "2024-05-01T10:00:10Z",
        );
        let b = notification(
            AlertStatus::Firing,
            "2024-05-01T12:00:00Z",
            None,
            "2024-05-01T12:00:10Z",
        );
        assert_eq!(merge_notifications([&a, &b]).len(), 2);
        let mut e = Episode::from_notification(&a);
        assert!(!e.merge(&b));
        assert_eq!(e, Episode::from_notification(&a));
    }

    #[test]
    fn stated_end_replaces_inferred_end() {
        let mut e = Episode::from_notification(&notification(
            AlertStatus::Firing,
            "2024-05-01T10:00:00Z",
            None,
            "2024-05-01T10:00:10Z",
        ));
        e.ends_at = Some(t("2024-05-01T11:00:00Z"));
        e.end_inferred = true;
        e.merge(&notification(
            AlertStatus::Resolved,
            "2024-05-01T10:00:00Z",
            Some("2024-05-01T10:20:00Z"),
            "2024-05-01T12:00:00Z",
        ));
        assert_eq!(e.ends_at, Some(t("2024-05-01T10:20:00Z")));
        assert!(!e.end_inferred);
    }

    fn arb_notification() -> impl Strategy<Value = Notification> {
        (0u8..3, 0i64..3, any::<bool>(), 0i64..50, 0i64..1000, 0u8..3).prop_map(
            |(name, start, resolved, end_off, seen, ann)| {
                let labels =
                    LabelSet::from_pairs([("alertname", format!("A{name}"))]).expect("valid");
                let starts = Timestamp::from_unix(1_700_000_000 + start * 3600, 0).expect("valid");
                let mut alert = Alert::firing(labels, starts);
                alert.annotations =
                    LabelSet::from_pairs([("summary", format!("s{ann}"))]).expect("valid");
                if resolved {
                    alert.status = AlertStatus::Resolved;
                    alert.ends_at = Some(
                        Timestamp::from_unix(1_700_000_000 + start * 3600 + end_off * 60, 0)
                            .expect("valid"),
                    );
                }
                Notification {
                    alert,
                    receiver: format!("r{ann}"),
                    // Distinct receive times: the tie-breaking case is order-dependent by design.
                    received_at: Timestamp::from_unix(1_700_000_000 + seen, 0).expect("valid"),
                }
            },
        )
    }

    proptest! {
        /// Re-deliveries and arrival order do not change the result.
        #[test]
        fn merge_is_idempotent_and_order_independent(
            ns in proptest::collection::vec(arb_notification(), 1..20)
                .prop_filter("distinct receive times", |ns| {
                    let mut seen: Vec<_> = ns.iter().map(|n| n.received_at).collect();
                    seen.sort();
                    seen.windows(2).all(|w| w[0] != w[1])
                }),
            seed in any::<u64>(),
        ) {
            let once = merge_notifications(&ns);
            let mut shuffled: Vec<&Notification> = ns.iter().chain(ns.iter()).collect();
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(&merge_notifications(shuffled), &once);
            for e in &once {
                // Stated end: the latest resolved one; otherwise the next start of the
                // same alert; otherwise open.
                let stated = ns.iter().filter(|n| n.key() == e.key()).filter_map(Notification::stated_end).max();
                let next = ns.iter()
                    .filter(|n| n.alert.fingerprint == e.fingerprint && n.alert.starts_at > e.starts_at)
                    .map(|n| n.alert.starts_at)
                    .min();
                let (end, reason) = match (stated, next) {
                    (Some(s), _) => (Some(s), Some(EndReason::Resolved)),
                    (None, Some(n)) => (Some(n), Some(EndReason::Superseded)),
                    (None, None) => (None, None),
                };
                prop_assert_eq!((e.ends_at, e.end_reason), (end, reason));
                prop_assert_eq!(e.end_inferred, reason == Some(EndReason::Superseded));
            }
        }
    }
}
