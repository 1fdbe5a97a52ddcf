//! Alerts as Alertmanager shows them in webhook notifications and templates.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::labels::LabelSet;
use crate::timestamp::{self, JsonText, Timestamp};

/// Whether an alert is firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// Still firing.
    Firing,
    /// Resolved: its `endsAt` has passed.
    Resolved,
}

impl AlertStatus {
    /// `"firing"` or `"resolved"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert: Alertmanager's `template.Alert`, the element of a webhook message.
///
/// JSON fields and their order are Alertmanager 0.25's: `status`, `labels`,
/// `annotations`, `startsAt`, `endsAt`, `generatorURL`, `fingerprint`. A firing alert
/// whose end is not known carries `endsAt: "0001-01-01T00:00:00Z"`, read as `None`.
/// Reading an alert without a `fingerprint` (or with an empty one) computes it from the
/// labels.
///
/// ```
/// use alert_core::{Alert, AlertStatus};
/// let alert: Alert = serde_json::from_str(r#"{
///   "status": "firing", "labels": {"alertname": "Test", "severity": "page"},
///   "annotations": {}, "startsAt": "2024-05-01T10:00:00Z",
///   "endsAt": "0001-01-01T00:00:00Z", "generatorURL": ""
/// }"#)?;
/// assert_eq!(alert.status, AlertStatus::Firing);
/// assert_eq!(alert.ends_at, None);
/// assert_eq!(alert.fingerprint.to_string(), "823de09697ca9348");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: AlertStatus,
    /// The alert's identity.
    pub labels: LabelSet,
    /// Descriptive key/value pairs (names follow label-name rules).
    pub annotations: LabelSet,
    /// When the alert started firing.
    pub starts_at: Timestamp,
    /// When it resolved (or will, if set in the future); `None` while the end is unknown.
    #[serde(with = "timestamp::go_zero_as_none")]
    pub ends_at: Option<Timestamp>,
    /// A link to what produced the alert (a Prometheus graph, for example).
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// FNV-1a fingerprint of the labels.
    pub fingerprint: Fingerprint,
}

impl Alert {
    /// A firing alert with these labels, started at `starts_at`, fingerprint computed.
    pub fn firing(labels: LabelSet, starts_at: Timestamp) -> Alert {
        Alert {
            status: AlertStatus::Firing,
            fingerprint: labels.fingerprint(),
            labels,
            annotations: LabelSet::new(),
            starts_at,
            ends_at: None,
            generator_url: String::new(),
        }
    }

    /// Whether the alert is firing at `at`: started, and not yet ended.
    ///
    /// This is Alertmanager's `Alert.ResolvedAt`, negated: an alert is resolved once its
    /// `endsAt` is set and not after `at`.
    pub fn is_firing_at(&self, at: Timestamp) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| end > at)
    }
}

/// An alert as JSON has it, its timestamps still text: the one reading behind [`Alert`]'s
/// `Deserialize` and [`WebhookMessage::from_json`](crate::WebhookMessage::from_json).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawAlert<'a> {
    status: AlertStatus,
    labels: LabelSet,
    #[serde(default)]
    annotations: LabelSet,
    #[serde(borrow)]
    starts_at: JsonText<'a>,
    #[serde(default, borrow)]
    ends_at: Option<JsonText<'a>>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
    #[serde(default)]
    fingerprint: Option<String>,
}

impl RawAlert<'_> {
    /// The alert. Errors name its fields (`startsAt`), below `alerts[i]` when it is entry
    /// `i` of a message's `alerts`. `escapes_visible`: see [`JsonText::read`].
    ///
    /// `startsAt` and `endsAt` are read as Go's `time.Time` JSON decoding reads them; an
    /// `endsAt` of Go's zero time (or null, or left out) is `None`. A `fingerprint` left
    /// out or empty is computed from the labels.
    pub(crate) fn into_alert(self, index: Option<usize>, escapes_visible: bool) -> Result<Alert> {
        let path = |name: &str| match index {
            Some(i) => format!("alerts[{i}].{name}"),
            None => name.to_owned(),
        };
        let starts_at = self.starts_at.read(|| path("startsAt"), escapes_visible)?;
        let ends_at = match &self.ends_at {
            Some(text) => text.read(|| path("endsAt"), escapes_visible)?.non_zero(),
            None => None,
        };
        let fingerprint = match self.fingerprint.as_deref() {
            None | Some("") => self.labels.fingerprint(),
            Some(s) => s.parse().map_err(|e: Error| Error::Decode {
                field: path("fingerprint"),
                reason: e.to_string(),
            })?,
        };
        Ok(Alert {
            status: self.status,
            labels: self.labels,
            annotations: self.annotations,
            starts_at,
            ends_at,
            generator_url: self.generator_url,
            fingerprint,
        })
    }
}

impl<'de> Deserialize<'de> for Alert {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        RawAlert::deserialize(deserializer)?
            .into_alert(None, false)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fingerprint_is_computed_and_given_one_is_kept() {
        let json = r#"{"status":"resolved","labels":{"alertname":"E"},"annotations":{},
            "startsAt":"2024-05-01T10:00:00Z","endsAt":"2024-05-01T11:00:00Z","generatorURL":""}"#;
        let a: Alert = serde_json::from_str(json).expect("valid");
        assert_eq!(a.fingerprint.to_string(), "d2b8efc389d2cbcb");
        let json = json.replace(
            r#""generatorURL":"""#,
            r#""generatorURL":"","fingerprint":"00ff""#,
        );
        let a: Alert = serde_json::from_str(&json).expect("valid");
        assert_eq!(a.fingerprint, Fingerprint(0xff));
    }

    #[test]
    fn firing_window() {
        let t = |s: &str| s.parse::<Timestamp>().expect("valid");
        let mut a = Alert::firing(LabelSet::new(), t("2024-05-01T10:00:00Z"));
        assert!(!a.is_firing_at(t("2024-05-01T09:59:59Z")));
        assert!(a.is_firing_at(t("2030-01-01T00:00:00Z")));
        a.ends_at = Some(t("2024-05-01T11:00:00Z"));
        assert!(a.is_firing_at(t("2024-05-01T10:59:59Z")));
        assert!(!a.is_firing_at(t("2024-05-01T11:00:00Z")));
    }

    #[test]
    fn bad_fields_are_named() {
        let bad =
            r#"{"status":"firing","labels":{"bad-name":"x"},"startsAt":"2024-05-01T10:00:00Z"}"#;
        let err = serde_json::from_str::<Alert>(bad).unwrap_err().to_string();
        assert!(err.contains("invalid label name \"bad-name\""), "{err}");
        let bad = r#"{"status":"firing","labels":{},"startsAt":"yesterday"}"#;
        let err = serde_json::from_str::<Alert>(bad).unwrap_err().to_string();
        assert!(
            err.starts_with("startsAt: \"yesterday\": expected an RFC 3339"),
            "{err}"
        );
        let bad = r#"{"status":"firing","labels":{},"startsAt":"2024-05-01T10:00:00Z","endsAt":"2024-05-01T10:60:00Z"}"#;
        let err = serde_json::from_str::<Alert>(bad).unwrap_err().to_string();
        assert!(err.starts_with("endsAt: \"2024-05-01T10:60:00Z\""), "{err}");
        assert!(err.contains("with a minute from 00 to 59"), "{err}");
        let bad = r#"{"status":"firing","labels":{},"startsAt":"2024-05-01T10:00:00Z","fingerprint":"xyz"}"#;
        let err = serde_json::from_str::<Alert>(bad).unwrap_err().to_string();
        assert!(
            err.starts_with("fingerprint: invalid fingerprint \"xyz\""),
            "{err}"
        );
        let bad = r#"{"status":"burning","labels":{},"startsAt":"2024-05-01T10:00:00Z"}"#;
        assert!(serde_json::from_str::<Alert>(bad).is_err());
    }
}
