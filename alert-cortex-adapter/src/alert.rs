//! Alerts as the Alertmanager API v2 reads and writes them (`gettableAlert`,
//! `postableAlert`, `GET /api/v2/alerts` query parameters).
//!
//! Shapes are those of Alertmanager 0.25's `api/v2/openapi.yaml`. Fields this crate does
//! not know (the Grafana fork's `status.mutedBy`, HEAD's additions) are ignored when read.

use std::fmt;
use std::str::FromStr;

use alert_core::{Fingerprint, LabelSet, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// An alert's fingerprint as the API shows it: hexadecimal text, kept as sent.
///
/// Alertmanager prints `%016x`, but producers that drop leading zeros exist (a public
/// Mimir capture shows the 15-digit `3b1f00be786a41f`), so any non-empty run of hex
/// digits is accepted. Ordering is by the text, which is how Alertmanager and Cortex's
/// merger sort alerts.
///
/// ```
/// use alert_cortex_adapter::ApiFingerprint;
/// let f: ApiFingerprint = "3b1f00be786a41f".parse()?;
/// assert_eq!(f.as_str(), "3b1f00be786a41f");
/// assert_eq!(f.fingerprint().map(|f| f.as_u64()), Some(0x3b1f00be786a41f));
/// assert!("".parse::<ApiFingerprint>().is_err());
/// assert!("xyz".parse::<ApiFingerprint>().is_err());
/// # Ok::<(), alert_cortex_adapter::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiFingerprint(String);

impl ApiFingerprint {
    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The numeric fingerprint, when the text fits in 64 bits.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.0.parse().ok()
    }
}

impl From<Fingerprint> for ApiFingerprint {
    fn from(f: Fingerprint) -> Self {
        ApiFingerprint(f.to_string())
    }
}

impl FromStr for ApiFingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Core(alert_core::Error::InvalidField {
                field: "fingerprint".into(),
                value: s.to_owned(),
                expected: "one or more hexadecimal digits".into(),
            }));
        }
        Ok(ApiFingerprint(s.to_owned()))
    }
}

impl fmt::Display for ApiFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ApiFingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ApiFingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A receiver as the API names it (`{"name": "…"}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReceiverName {
    /// The receiver's name.
    pub name: String,
}

/// An alert's state in Alertmanager's pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Received, not yet through the inhibitor and silencer.
    Unprocessed,
    /// Neither silenced nor inhibited.
    Active,
    /// Silenced or inhibited.
    Suppressed,
    /// A state this crate does not know (forks add their own).
    #[serde(other)]
    Unknown,
}

impl AlertState {
    /// The API's word for the state (`unknown` for states this crate does not know).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Unprocessed => "unprocessed",
            AlertState::Active => "active",
            AlertState::Suppressed => "suppressed",
            AlertState::Unknown => "unknown",
        }
    }
}

/// `alertStatus`: the state and what mutes the alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatusInfo {
    /// Fingerprints of the alerts that inhibit it.
    #[serde(default)]
    pub inhibited_by: Vec<String>,
    /// Ids of the silences that mute the alert.
    #[serde(default)]
    pub silenced_by: Vec<String>,
    /// The state.
    pub state: AlertState,
}

/// `gettableAlert`: an alert as `GET /api/v2/alerts` shows it.
///
/// ```
/// use alert_cortex_adapter::{AlertState, GettableAlert};
/// let a: GettableAlert = serde_json::from_str(r#"{
///   "annotations": {}, "endsAt": "2024-05-01T10:05:00Z", "fingerprint": "823de09697ca9348",
///   "receivers": [{"name": "hook"}], "startsAt": "2024-05-01T10:00:00Z",
///   "status": {"inhibitedBy": [], "silencedBy": [], "state": "active", "mutedBy": []},
///   "updatedAt": "2024-05-01T10:00:00.5Z", "generatorURL": "",
///   "labels": {"alertname": "Test", "severity": "page"}, "somethingNew": 1
/// }"#)?;
/// assert_eq!(a.status.state, AlertState::Active);
/// assert_eq!(a.fingerprint.as_str(), "823de09697ca9348");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    /// The alert's annotations.
    #[serde(default)]
    pub annotations: LabelSet,
    /// When it ends (or ended).
    #[serde(serialize_with = "api_time::serialize")]
    pub ends_at: Timestamp,
    /// The labels' fingerprint.
    pub fingerprint: ApiFingerprint,
    /// The receivers the routing tree sends it to, in routing order.
    #[serde(default)]
    pub receivers: Vec<ReceiverName>,
    /// When it started firing.
    #[serde(serialize_with = "api_time::serialize")]
    pub starts_at: Timestamp,
    /// State and muting.
    pub status: AlertStatusInfo,
    /// When this Alertmanager last received it.
    #[serde(serialize_with = "api_time::serialize")]
    pub updated_at: Timestamp,
    /// Link to the source of the alert.
    #[serde(
        default,
        rename = "generatorURL",
        skip_serializing_if = "Option::is_none"
    )]
    pub generator_url: Option<String>,
    /// The alert's labels.
    pub labels: LabelSet,
}

/// Instants as go-openapi's `strfmt.DateTime` writes them (`2006-01-02T15:04:05.000Z07:00`):
/// milliseconds, truncated, in the offset the value carries.
pub mod api_time {
    use alert_core::Timestamp;
    use serde::Serializer;

    /// The text of `t`, for example `2024-05-01T10:00:00.000Z` or
    /// `2030-01-01T00:00:00.000+02:00`.
    ///
    /// ```
    /// let t: alert_core::Timestamp = "2030-01-01T00:00:00.123456+02:00".parse()?;
    /// assert_eq!(alert_cortex_adapter::alert::api_time::format(&t), "2030-01-01T00:00:00.123+02:00");
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn format(t: &Timestamp) -> String {
        let dt = t.offset().to_datetime(t.instant());
        let secs = t.offset().seconds();
        let zone = if secs == 0 {
            "Z".to_owned()
        } else {
            let abs = secs.unsigned_abs();
            let sign = if secs < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{:02}", abs / 3600, (abs / 60) % 60)
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{zone}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.subsec_nanosecond() / 1_000_000
        )
    }

    /// Serde `serialize_with` for a [`Timestamp`].
    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format(t))
    }
}

/// `postableAlert`: an alert to send with `POST /api/v2/alerts`.
///
/// Unset times are filled in by Alertmanager: `startsAt` becomes now, `endsAt` now plus
/// `resolve_timeout`.
///
/// ```
/// use alert_core::LabelSet;
/// use alert_cortex_adapter::PostableAlert;
/// let a = PostableAlert::new(LabelSet::from_pairs([("alertname", "Test")])?);
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"labels":{"alertname":"Test"}}"#);
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// The alert's labels (at least one).
    pub labels: LabelSet,
    /// The alert's annotations.
    #[serde(default, skip_serializing_if = "LabelSet::is_empty")]
    pub annotations: LabelSet,
    /// When it started; Alertmanager uses now when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    /// When it ends; Alertmanager uses now + `resolve_timeout` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    /// Link to the source of the alert.
    #[serde(
        default,
        rename = "generatorURL",
        skip_serializing_if = "Option::is_none"
    )]
    pub generator_url: Option<String>,
}

impl PostableAlert {
    /// An alert with these labels and nothing else set.
    pub fn new(labels: LabelSet) -> PostableAlert {
        PostableAlert {
            labels,
            annotations: LabelSet::new(),
            starts_at: None,
            ends_at: None,
            generator_url: None,
        }
    }
}

/// The query of `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.
///
/// Unset flags are not sent, so Alertmanager's defaults (all `true`) apply. `filter`
/// holds matcher strings in Alertmanager's grammar (`alertname="Test"`, `severity=~"p.*"`);
/// `receiver` is a regular expression, anchored by the server.
///
/// ```
/// use alert_cortex_adapter::AlertQuery;
/// let q = AlertQuery::default().filter("alertname=\"Test\"").silenced(false);
/// assert_eq!(q.to_pairs(true), vec![
///     ("silenced".to_string(), "false".to_string()),
///     ("filter".to_string(), "alertname=\"Test\"".to_string()),
/// ]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    /// Matchers every returned alert satisfies.
    pub filter: Vec<String>,
    /// Regex the alert's receivers must match.
    pub receiver: Option<String>,
    /// Include active alerts.
    pub active: Option<bool>,
    /// Include silenced alerts.
    pub silenced: Option<bool>,
    /// Include inhibited alerts.
    pub inhibited: Option<bool>,
    /// Include unprocessed alerts (alerts only; groups have no such flag).
    pub unprocessed: Option<bool>,
}

impl AlertQuery {
    /// Adds one matcher to the filter.
    pub fn filter(mut self, matcher: impl Into<String>) -> AlertQuery {
        self.filter.push(matcher.into());
        self
    }

    /// Sets the receiver regex.
    pub fn receiver(mut self, regex: impl Into<String>) -> AlertQuery {
        self.receiver = Some(regex.into());
        self
    }

    /// Sets whether active alerts are included.
    pub fn active(mut self, yes: bool) -> AlertQuery {
        self.active = Some(yes);
        self
    }

    /// Sets whether silenced alerts are included.
    pub fn silenced(mut self, yes: bool) -> AlertQuery {
        self.silenced = Some(yes);
        self
    }

    /// Sets whether inhibited alerts are included.
    pub fn inhibited(mut self, yes: bool) -> AlertQuery {
        self.inhibited = Some(yes);
        self
    }

    /// Sets whether unprocessed alerts are included.
    pub fn unprocessed(mut self, yes: bool) -> AlertQuery {
        self.unprocessed = Some(yes);
        self
    }

    /// The query pairs, in a fixed order. `with_unprocessed` is false for the groups
    /// endpoint, which has no `unprocessed` parameter.
    pub fn to_pairs(&self, with_unprocessed: bool) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let flags = [
            ("active", self.active),
            ("silenced", self.silenced),
            ("inhibited", self.inhibited),
            (
                "unprocessed",
                if with_unprocessed {
                    self.unprocessed
                } else {
                    None
                },
            ),
        ];
        for (name, value) in flags {
            if let Some(v) = value {
                pairs.push((name.to_owned(), v.to_string()));
            }
        }
        for f in &self.filter {
            pairs.push(("filter".to_owned(), f.clone()));
        }
        if let Some(r) = &self.receiver {
            pairs.push(("receiver".to_owned(), r.clone()));
        }
        pairs
    }
}

/// `alertGroup`: the alerts of one aggregation group, as `GET /api/v2/alerts/groups`
/// shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroup {
    /// The group's labels (the route's `group_by` values).
    pub labels: LabelSet,
    /// The receiver the group notifies.
    pub receiver: ReceiverName,
    /// The alerts in the group.
    #[serde(default)]
    pub alerts: Vec<GettableAlert>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_hex_is_a_fingerprint(s in "[0-9a-fA-F]{1,40}") {
            let f: ApiFingerprint = s.parse().expect("hex");
            prop_assert_eq!(f.as_str(), s.as_str());
            prop_assert_eq!(f.fingerprint().is_some(), s.len() <= 16);
            let json = serde_json::to_string(&f).expect("serialises");
            let back: ApiFingerprint = serde_json::from_str(&json).expect("reads back");
            prop_assert_eq!(back, f);
        }

        #[test]
        fn non_hex_is_refused(s in "[0-9a-f]{0,5}[g-z ]{1,3}[0-9a-f]{0,5}") {
            prop_assert!(s.parse::<ApiFingerprint>().is_err());
        }
    }

    #[test]
    fn serialises_as_alertmanager_writes_it() {
        let json = r#"{"annotations":{},"endsAt":"2030-01-01T00:00:00.000+02:00","fingerprint":"f7adcd3bf88b6874","receivers":[{"name":"hook"}],"startsAt":"2030-01-01T00:00:00.000+02:00","status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-21T05:30:47.167Z","labels":{"alertname":"Cpu"}}"#;
        let a: GettableAlert = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), json);
    }

    #[test]
    fn unknown_states_and_fields_are_tolerated() {
        let s: AlertStatusInfo =
            serde_json::from_str(r#"{"state":"muted","mutedBy":["x"]}"#).expect("lenient");
        assert_eq!(s.state, AlertState::Unknown);
        assert!(s.silenced_by.is_empty());
    }

    #[test]
    fn groups_query_has_no_unprocessed() {
        let q = AlertQuery::default().unprocessed(false).receiver("hook|x");
        assert_eq!(
            q.to_pairs(false),
            vec![("receiver".to_string(), "hook|x".to_string())]
        );
        assert_eq!(q.to_pairs(true)[0].0, "unprocessed");
    }
}
