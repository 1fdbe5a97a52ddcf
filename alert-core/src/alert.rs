//! Alerts as Alertmanager shows them in webhook notifications and templates.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::fingerprint::Fingerprint;
use crate::labels::LabelSet;
use crate::timestamp::{self, Timestamp};

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAlert {
    status: AlertStatus,
    labels: LabelSet,
    #[serde(default)]
    annotations: LabelSet,
    starts_at: Timestamp,
    #[serde(default, with = "timestamp::go_zero_as_none")]
    ends_at: Option<Timestamp>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
    #[serde(default)]
    fingerprint: Option<String>,
}

impl<'de> Deserialize<'de> for Alert {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawAlert::deserialize(deserializer)?;
        let fingerprint = match raw.fingerprint.as_deref() {
            None | Some("") => raw.labels.fingerprint(),
            Some(s) => s.parse().map_err(serde::de::Error::custom)?,
        };
        Ok(Alert {
            status: raw.status,
            labels: raw.labels,
            annotations: raw.annotations,
            starts_at: raw.starts_at,
            ends_at: raw.ends_at,
            generator_url: raw.generator_url,
            fingerprint,
        })
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
        assert!(err.contains("invalid timestamp \"yesterday\""), "{err}");
        let bad = r#"{"status":"burning","labels":{},"startsAt":"2024-05-01T10:00:00Z"}"#;
        assert!(serde_json::from_str::<Alert>(bad).is_err());
    }
}
