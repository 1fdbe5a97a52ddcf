//! Notifications as Kubernetes Events (`events.k8s.io/v1`), for the emitter.
//!
//! Each alert of a notification becomes one Event on a configured object (`regarding`):
//! `type` Warning while firing and Normal once resolved, `reason` the alert's condition
//! id (or alert name), `action` `Firing` or `Resolved`, `note` the title and body cut to
//! 1,024 bytes at a character boundary, `reportingController` and `reportingInstance`
//! set. The name is **deterministic** — the regarding object's name, the alert's
//! fingerprint, its status and its start — so two emitter replicas write the same Event
//! and Alertmanager's repeats of one alert land on it: the first write creates it (201),
//! a repeat (or the other replica's 409 `AlreadyExists`) merge-patches its `series`
//! (count and last observation). A 404 on the patch (the Event expired, the API server's
//! `--event-ttl`) creates it again. 5xx, 429 and timeouts are retried with backoff;
//! other 4xx are reported at once.
//!
//! [`event_for`] (what to write) is pure; [`EventRecorder`] does the HTTP.

use std::time::Duration;

use alert_core::{Alert, AlertStatus, CONDITION_ID_LABEL, Secret, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The longest `note` the API server accepts, in bytes.
pub const MAX_NOTE_BYTES: usize = 1024;

/// The longest `reason`, `action` and `reportingInstance`.
pub const MAX_FIELD_LEN: usize = 128;

/// The object Events are about, as a Kubernetes `ObjectReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// `apps/v1`, `v1`, ...
    pub api_version: String,
    /// `Deployment`, `StatefulSet`, ...
    pub kind: String,
    /// Its namespace; empty for a cluster-scoped object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// Who reports the Events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporter {
    /// `reportingController`: a qualified name such as `alert-gateway.io/emitter`.
    pub controller: String,
    /// `reportingInstance`: this replica (its pod or host name).
    pub instance: String,
}

/// The namespace an Event about `regarding` lives in: the object's, or `default` for a
/// cluster-scoped object (the API server refuses others).
pub fn event_namespace(regarding: &ObjectReference) -> &str {
    if regarding.namespace.is_empty() {
        "default"
    } else {
        &regarding.namespace
    }
}

/// A DNS-1123 subdomain made of `parts`: lowercase, `[a-z0-9.-]` only, at most 253
/// characters.
fn event_name(parts: &[&str]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let cleaned: String = part
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        out.push_str(cleaned.trim_matches('-'));
    }
    let mut out: String = out.chars().take(253).collect();
    while out.ends_with(['-', '.']) {
        out.pop();
    }
    out
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Kubernetes' MicroTime: RFC 3339 with exactly six fractional digits, UTC.
fn micro_time(t: Timestamp) -> String {
    let nanos = t.unix_nanos();
    let secs = nanos.div_euclid(1_000_000_000) as i64;
    let micros = (nanos.rem_euclid(1_000_000_000) / 1_000) as u32;
    let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{}.{micros:06}Z", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// The Event for one alert of a notification (in events.k8s.io/v1 form), and its name.
pub fn event_for(
    alert: &Alert,
    regarding: &ObjectReference,
    reporter: &Reporter,
    now: Timestamp,
) -> Value {
    let firing = alert.status == AlertStatus::Firing;
    let status = if firing { "firing" } else { "resolved" };
    let starts = alert.starts_at.unix_seconds().to_string();
    let fingerprint = alert.fingerprint.to_string();
    let name = event_name(&[&regarding.name, &fingerprint, status, &starts]);
    let reason = alert
        .labels
        .get(CONDITION_ID_LABEL)
        .or_else(|| alert.labels.get("alertname"))
        .unwrap_or("Alert");
    let title = alert
        .annotations
        .get("summary")
        .or_else(|| alert.labels.get("alertname"))
        .unwrap_or("");
    let body = alert.annotations.get("description").unwrap_or("");
    let note = if body.is_empty() {
        title.to_owned()
    } else {
        format!("{title}: {body}")
    };
    let mut annotations = serde_json::Map::new();
    annotations.insert("alert-gateway.io/fingerprint".into(), json!(fingerprint));
    if let Some(id) = alert.labels.get(CONDITION_ID_LABEL) {
        annotations.insert("alert-gateway.io/condition".into(), json!(id));
    }
    json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": event_namespace(regarding),
            "annotations": annotations,
        },
        "eventTime": micro_time(now),
        "reportingController": cut(&reporter.controller, 253),
        "reportingInstance": cut(&reporter.instance, MAX_FIELD_LEN),
        "action": if firing { "Firing" } else { "Resolved" },
        "reason": cut(reason, MAX_FIELD_LEN),
        "type": if firing { "Warning" } else { "Normal" },
        "note": cut(&note, MAX_NOTE_BYTES),
        "regarding": regarding,
    })
}

/// What writing one Event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Created (the first notification of this alert and status).
    Created,
    /// A repeat: the series now counts this many observations.
    Repeated(u64),
}

/// Why an Event could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The API server refused it (4xx other than 404/409/429); the message is its
    /// `Status.message`.
    #[error("the Kubernetes API refused the event ({status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// What the server said.
        message: String,
    },
    /// Retries ran out (5xx, 429, timeouts, connection failures).
    #[error("the Kubernetes API did not take the event after {attempts} attempts: {last}")]
    Unavailable {
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// Writes Events to one API server.
#[derive(Clone)]
pub struct EventRecorder {
    base: String,
    token: Option<Secret>,
    client: reqwest::Client,
    regarding: ObjectReference,
    reporter: Reporter,
    attempts: u32,
    backoff: Duration,
}

impl std::fmt::Debug for EventRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRecorder")
            .field("base", &crate::store::redact_url(&self.base))
            .field("regarding", &self.regarding)
            .finish()
    }
}

enum Attempt {
    Done(Value),
    Status(u16, String),
    Retry(String),
}

impl EventRecorder {
    /// A recorder writing to the API server at `base` with a bearer `token`.
    pub fn new(
        base: &str,
        token: Option<Secret>,
        regarding: ObjectReference,
        reporter: Reporter,
    ) -> Result<EventRecorder, EventError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| EventError::Refused {
                status: 0,
                message: e.to_string(),
            })?;
        Ok(EventRecorder {
            base: base.trim_end_matches('/').to_owned(),
            token,
            client,
            regarding,
            reporter,
            attempts: 5,
            backoff: Duration::from_millis(200),
        })
    }

    /// The same recorder with `attempts` tries per request, the first retry after
    /// `backoff` (doubling).
    pub fn with_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    fn collection(&self) -> String {
        format!(
            "{}/apis/events.k8s.io/v1/namespaces/{}/events",
            self.base,
            event_namespace(&self.regarding)
        )
    }

    async fn once(&self, request: reqwest::RequestBuilder) -> Attempt {
        let request = match &self.token {
            Some(t) => request.bearer_auth(t.expose()),
            None => request,
        };
        match request.send().await {
            Err(e) => Attempt::Retry(crate::store::redact_url(&e.without_url().to_string())),
            Ok(r) => {
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                if (200..300).contains(&status) {
                    Attempt::Done(body)
                } else if status >= 500 || status == 429 {
                    Attempt::Retry(format!(
                        "{status}: {}",
                        body["message"].as_str().unwrap_or("")
                    ))
                } else {
                    Attempt::Status(status, body["message"].as_str().unwrap_or("").to_owned())
                }
            }
        }
    }

    /// Sends with retries; answers the success body or the final 4xx.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Result<Value, (u16, String)>, EventError> {
        let mut delay = self.backoff;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            match self.once(build()).await {
                Attempt::Done(v) => return Ok(Ok(v)),
                Attempt::Status(s, m) => return Ok(Err((s, m))),
                Attempt::Retry(why) => last = why,
            }
            if attempt < self.attempts {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
        }
        Err(EventError::Unavailable {
            attempts: self.attempts,
            last,
        })
    }

    /// Writes the Event of one alert: creates it, or counts a repeat in its series.
    pub async fn record(&self, alert: &Alert, now: Timestamp) -> Result<Written, EventError> {
        let event = event_for(alert, &self.regarding, &self.reporter, now);
        let name = event["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let item = format!("{}/{name}", self.collection());
        // Two tries: a create that meets an existing Event patches it; a patch that
        // meets a missing one (expired) creates it.
        for _ in 0..2 {
            let created = self
                .send(|| self.client.post(self.collection()).json(&event))
                .await?;
            match created {
                Ok(_) => return Ok(Written::Created),
                Err((409, _)) => {}
                Err((status, message)) => return Err(EventError::Refused { status, message }),
            }
            let current = self.send(|| self.client.get(&item)).await?;
            let count = match current {
                Ok(v) => v["series"]["count"].as_u64().unwrap_or(1) + 1,
                Err((404, _)) => continue,
                Err((status, message)) => return Err(EventError::Refused { status, message }),
            };
            let patch = json!({"series": {"count": count, "lastObservedTime": micro_time(now)}});
            let patched = self
                .send(|| {
                    self.client
                        .patch(&item)
                        .header("content-type", "application/merge-patch+json")
                        .body(patch.to_string())
                })
                .await?;
            match patched {
                Ok(_) => return Ok(Written::Repeated(count)),
                Err((404, _)) => continue,
                Err((status, message)) => return Err(EventError::Refused { status, message }),
            }
        }
        Err(EventError::Unavailable {
            attempts: 2,
            last: format!("event {name} kept appearing and disappearing"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alert_core::LabelSet;

    fn alert(status: AlertStatus) -> Alert {
        let mut a = Alert::firing(
            LabelSet::from_pairs([("alertname", "CPUHigh"), (CONDITION_ID_LABEL, "cpu-high")])
                .unwrap(),
            "2026-12-07T00:00:00Z".parse().unwrap(),
        );
        a.status = status;
        a.annotations = LabelSet::from_pairs([
            ("summary", "CPU high"),
            ("description", "é".repeat(600).as_str()),
        ])
        .unwrap();
        a
    }

    fn target() -> (ObjectReference, Reporter) {
        (
            ObjectReference {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "Web_Front".into(),
            },
            Reporter {
                controller: "alert-gateway.io/emitter".into(),
                instance: "emitter-0".into(),
            },
        )
    }

    #[test]
    fn events_follow_the_api_rules() {
        let (regarding, reporter) = target();
        let now: Timestamp = "2026-12-07T00:01:02.123456789Z".parse().unwrap();
        let firing = event_for(&alert(AlertStatus::Firing), &regarding, &reporter, now);
        let name = firing["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("web-front."), "{name}");
        assert!(name.ends_with(".firing.1796601600"), "{name}");
        assert!(
            name.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        );
        assert_eq!(firing["type"], "Warning");
        assert_eq!(firing["reason"], "cpu-high");
        assert_eq!(firing["eventTime"], "2026-12-07T00:01:02.123456Z");
        let note = firing["note"].as_str().unwrap();
        assert!(
            note.len() <= MAX_NOTE_BYTES && note.starts_with("CPU high: é"),
            "{}",
            note.len()
        );
        let resolved = event_for(&alert(AlertStatus::Resolved), &regarding, &reporter, now);
        assert_eq!(resolved["type"], "Normal");
        assert_ne!(resolved["metadata"]["name"], firing["metadata"]["name"]);
        let cluster = ObjectReference {
            namespace: String::new(),
            ..regarding
        };
        assert_eq!(event_namespace(&cluster), "default");
    }
}
