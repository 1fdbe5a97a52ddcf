//! The message Alertmanager's webhook receiver sends (payload version 4).

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertStatus};
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookMessage {
    /// The receiver's name, as Alertmanager sent it (regex-quoted).
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: AlertStatus,
    /// The alerts of the notification.
    pub alerts: Vec<Alert>,
    /// The labels the group is keyed on.
    #[serde(default)]
    pub group_labels: LabelSet,
    /// Labels all alerts share.
    #[serde(default)]
    pub common_labels: LabelSet,
    /// Annotations all alerts share.
    #[serde(default)]
    pub common_annotations: LabelSet,
    /// Alertmanager's external URL.
    #[serde(rename = "externalURL", default)]
    pub external_url: String,
    /// The payload version, `"4"`.
    pub version: String,
    /// The aggregation group's key (route key, `:`, group labels).
    #[serde(default)]
    pub group_key: String,
    /// How many alerts `max_alerts` dropped from this message.
    #[serde(default)]
    pub truncated_alerts: u64,
}

impl WebhookMessage {
    /// Reads a message and checks what serde alone cannot: the version is `"4"`.
    pub fn from_json(body: &[u8]) -> Result<WebhookMessage> {
        let msg: WebhookMessage = serde_json::from_slice(body).map_err(|e| Error::Decode {
            field: json_path_hint(&e),
            reason: e.to_string(),
        })?;
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
    fn wrong_version_and_bad_json_are_named() {
        let v3 = CAPTURED.replace(r#""version":"4""#, r#""version":"3""#);
        let err = WebhookMessage::from_json(v3.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("version:"), "{err}");
        let err = WebhookMessage::from_json(&CAPTURED.as_bytes()[..40]).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
