//! The message Alertmanager's webhook receiver sends (payload version 4).

use serde::{Deserialize, Deserializer, Serialize};

use crate::alert::{Alert, AlertStatus, RawAlert};
use crate::error::{Error, Result};
use crate::go_json;
use crate::labels::LabelSet;

/// The payload version this crate reads and writes.
pub const WEBHOOK_VERSION: &str = "4";

/// One webhook notification: Alertmanager 0.25's `notify/webhook.Message`.
///
/// Field order on the wire is Alertmanager's: `receiver`, `status`, `alerts`,
/// `groupLabels`, `commonLabels`, `commonAnnotations`, `externalURL`, `version`,
/// `groupKey`, `truncatedAlerts`. Note that Alertmanager sends the receiver name through
/// Go's `regexp.QuoteMeta` (`hook.dot` arrives as `hook\.dot`).
///
/// ```
/// use alert_core::WebhookMessage;
/// let body = br#"{"receiver":"history","status":"firing","alerts":[{"status":"firing",
///   "labels":{"alertname":"Watchdog"},"annotations":{},"startsAt":"2024-05-01T10:00:00Z",
///   "endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"c6a45e4c2d6a0d4a"}],
///   "groupLabels":{},"commonLabels":{"alertname":"Watchdog"},"commonAnnotations":{},
///   "externalURL":"http://am:9093","version":"4","groupKey":"{}:{}","truncatedAlerts":0}"#;
/// let msg = WebhookMessage::from_json(body)?;
/// assert_eq!(msg.alerts.len(), 1);
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookMessage {
    /// The receiver's name, as Alertmanager sent it (regex-quoted).
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: AlertStatus,
    /// The alerts of the notification.
    pub alerts: Vec<Alert>,
    /// The labels the group is keyed on.
    pub group_labels: LabelSet,
    /// Labels all alerts share.
    pub common_labels: LabelSet,
    /// Annotations all alerts share.
    pub common_annotations: LabelSet,
    /// Alertmanager's external URL.
    #[serde(rename = "externalURL")]
    pub external_url: String,
    /// The payload version, `"4"`.
    pub version: String,
    /// The aggregation group's key (route key, `:`, group labels).
    pub group_key: String,
    /// How many alerts `max_alerts` dropped from this message.
    pub truncated_alerts: u64,
}

impl WebhookMessage {
    /// Reads a message and checks what serde alone cannot: the version is `"4"`.
    ///
    /// `startsAt` and `endsAt` are read exactly as Go 1.19's `encoding/json` reads a
    /// `time.Time` ([`Timestamp::parse_json_text`](crate::Timestamp::parse_json_text)),
    /// JSON escapes included (Go reads a string's raw bytes, so an escaped timestamp is
    /// refused); errors name the alert, as [`Error::InvalidTimestamp`] at
    /// `alerts[2].startsAt`. An `endsAt` of Go's zero time is `None`.
    ///
    /// ```
    /// use alert_core::WebhookMessage;
    /// let body = br#"{"receiver":"r","status":"firing","version":"4","alerts":[{"status":"firing",
    ///   "labels":{"alertname":"A"},"startsAt":"2024-05-01 10:00:00Z"}]}"#;
    /// let err = WebhookMessage::from_json(body).unwrap_err();
    /// assert!(err.to_string().starts_with(r#"alerts[0].startsAt: "2024-05-01 10:00:00Z": expected"#));
    /// ```
    pub fn from_json(body: &[u8]) -> Result<WebhookMessage> {
        let raw: RawMessage<'_> = serde_json::from_slice(body).map_err(|e| Error::Decode {
            field: json_path_hint(&e),
            reason: e.to_string(),
        })?;
        let msg = raw.into_message(true)?;
        msg.validate()?;
        Ok(msg)
    }

    /// Checks the version.
    pub fn validate(&self) -> Result<()> {
        if self.version != WEBHOOK_VERSION {
            return Err(Error::InvalidField {
                field: "version".into(),
                value: self.version.clone(),
                expected: format!("webhook payload version {WEBHOOK_VERSION:?}"),
            });
        }
        Ok(())
    }

    /// The JSON Alertmanager would send: compact, escaped as Go's `encoding/json` escapes
    /// (`<`, `>`, `&`, U+2028, U+2029, `\b` and `\f` as `\uXXXX`), with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising these types cannot fail: every map key is a string.
        let mut out = go_json::to_vec(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The receiver name with Go's `regexp.QuoteMeta` undone.
    pub fn receiver_unquoted(&self) -> String {
        let mut out = String::with_capacity(self.receiver.len());
        let mut chars = self.receiver.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}

impl<'de> Deserialize<'de> for WebhookMessage {
    /// As [`WebhookMessage::from_json`] reads it, less the version check and the refusal
    /// of escaped timestamps (a decoder in general does not say whether a string it hands
    /// over was escaped).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        RawMessage::deserialize(deserializer)?
            .into_message(false)
            .map_err(serde::de::Error::custom)
    }
}

/// A message as JSON has it, its alerts' timestamps still text: the one reading behind
/// [`WebhookMessage`]'s `Deserialize` and [`WebhookMessage::from_json`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage<'a> {
    receiver: String,
    status: AlertStatus,
    #[serde(borrow)]
    alerts: Vec<RawAlert<'a>>,
    #[serde(default)]
    group_labels: LabelSet,
    #[serde(default)]
    common_labels: LabelSet,
    #[serde(default)]
    common_annotations: LabelSet,
    #[serde(rename = "externalURL", default)]
    external_url: String,
    version: String,
    #[serde(default)]
    group_key: String,
    #[serde(default)]
    truncated_alerts: u64,
}

impl RawMessage<'_> {
    /// The message, its alerts' fields named by position (`alerts[2].startsAt`);
    /// `escapes_visible`: see [`RawAlert::into_alert`].
    fn into_message(self, escapes_visible: bool) -> Result<WebhookMessage> {
        let alerts = self
            .alerts
            .into_iter()
            .enumerate()
            .map(|(i, alert)| alert.into_alert(Some(i), escapes_visible))
            .collect::<Result<Vec<Alert>>>()?;
        Ok(WebhookMessage {
            receiver: self.receiver,
            status: self.status,
            alerts,
            group_labels: self.group_labels,
            common_labels: self.common_labels,
            common_annotations: self.common_annotations,
            external_url: self.external_url,
            version: self.version,
            group_key: self.group_key,
            truncated_alerts: self.truncated_alerts,
        })
    }
}

/// Where in the document serde_json stopped, as `line L column C`.
fn json_path_hint(e: &serde_json::Error) -> String {
    format!("body (line {} column {})", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &str = concat!(
        r#"{"receiver":"hook\\.dot\\+x","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Test","severity":"page"},"#,
        r#""annotations":{"summary":"s"},"startsAt":"2026-11-21T04:54:29.771219237Z","endsAt":"0001-01-01T00:00:00Z","#,
        r#""generatorURL":"http://gen","fingerprint":"823de09697ca9348"}],"groupLabels":{"alertname":"Test"},"#,
        r#""commonLabels":{"alertname":"Test","severity":"page"},"commonAnnotations":{"summary":"s"},"#,
        r#""externalURL":"http://127.0.0.1:9093","version":"4","groupKey":"{}:{alertname=\"Test\"}","truncatedAlerts":0}"#,
        "\n"
    );

    #[test]
    fn round_trip_is_byte_for_byte() {
        let msg = WebhookMessage::from_json(CAPTURED.as_bytes()).expect("valid");
        assert_eq!(String::from_utf8(msg.to_json()).expect("utf8"), CAPTURED);
        assert_eq!(msg.receiver_unquoted(), "hook.dot+x");
    }

    #[test]
    fn timestamps_are_read_as_go_reads_them_and_named_by_alert() {
        let two = CAPTURED.replace(
            r#""alerts":[{"#,
            r#""alerts":[{"status":"firing","labels":{"alertname":"Ok"},"startsAt":"2024-05-01T10:00:00Z"},{"#,
        );
        let msg = WebhookMessage::from_json(two.as_bytes()).expect("valid");
        assert_eq!(msg.alerts.len(), 2);
        assert_eq!(msg.alerts[1].ends_at, None, "Go's zero time is not set");
        for (bad, field, expected) in [
            (
                "2026-11-21 04:54:29Z",
                "alerts[1].startsAt",
                "2006-01-02T15:04:05Z07:00",
            ),
            (
                "2026-11-21T04:54:60Z",
                "alerts[1].startsAt",
                "no leap second",
            ),
            (
                "2026-11-21T04:54:29\\u005a",
                "alerts[1].startsAt",
                "2006-01-02T15:04:05Z07:00",
            ),
            (
                "2026-11-21T04:54:29\\u002e5Z",
                "alerts[1].startsAt",
                "2006-01-02T15:04:05Z07:00",
            ),
        ] {
            let body = two.replace("2026-11-21T04:54:29.771219237Z", bad);
            let err = WebhookMessage::from_json(body.as_bytes()).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidTimestamp { field: f, .. } if f == field),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains(expected), "{bad}: {err}");
        }
        let escaped = two.replace(
            "2026-11-21T04:54:29.771219237Z",
            "2026-11-21T04:54:29\\u002e5Z",
        );
        let err = WebhookMessage::from_json(escaped.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("JSON escapes"), "{err}");
        // A general decoder cannot see escapes; it reads the unescaped text.
        let msg: WebhookMessage = serde_json::from_str(&escaped).expect("unescaped text is valid");
        assert_eq!(
            msg.alerts[1].starts_at.to_string(),
            "2026-11-21T04:54:29.5Z"
        );
        let bad_end = two.replace(
            r#""endsAt":"0001-01-01T00:00:00Z""#,
            r#""endsAt":"0001-01-01T00:00:00""#,
        );
        let err = WebhookMessage::from_json(bad_end.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidTimestamp { field, .. } if field == "alerts[1].endsAt"),
            "{err:?}"
        );
        let null_end = two.replace(r#""endsAt":"0001-01-01T00:00:00Z""#, r#""endsAt":null"#);
        let msg = WebhookMessage::from_json(null_end.as_bytes()).expect("null endsAt");
        assert_eq!(msg.alerts[1].ends_at, None);
    }

    #[test]
    fn wrong_version_and_bad_json_are_named() {
        let v3 = CAPTURED.replace(r#""version":"4""#, r#""version":"3""#);
        let err = WebhookMessage::from_json(v3.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("version:"), "{err}");
        let err = WebhookMessage::from_json(&CAPTURED.as_bytes()[..40]).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
