//! The rules API's answer as the servers write it (pure): Prometheus's
//! `GET /api/v1/rules` and Grafana's `GET /api/prometheus/grafana/api/v1/rules`.
//!
//! Both answer `{"status": "success", "data": {"groups": [...]}}`, or
//! `{"status": "error", "errorType": "...", "error": "..."}` with a 4xx or 5xx status.
//! The shapes followed:
//!
//! - Prometheus 2.42, `web/api/v1/api.go` (`RuleGroup`, `AlertingRule`, `Alert`), checked
//!   against the real 2.42 binary: a group has `name`, `file` (the rule file's path as
//!   configured), `rules`, `interval`, `limit`, `evaluationTime`, `lastEvaluation`; an
//!   alerting rule has `state` (`firing`, `pending`, `inactive`), `name`, `query`,
//!   `duration` (its `for`, seconds), `labels`, `annotations`, `alerts` (each with `labels`,
//!   `annotations`, `state`, `activeAt`, `value`), `health` (`ok`, `err`, or `unknown`
//!   before the first evaluation), `lastError` (only when set), `type: alerting`.
//!   Recording rules (`type: recording`) have no `state` and are left out of judging.
//! - Grafana (the unified alerting of 10.x and 11.x),
//!   `pkg/services/ngalert/api/prometheus/api_prometheus.go` (`toRuleGroup`,
//!   `RuleAlertStateMutatorGenerator`) and `pkg/services/ngalert/api/tooling/definitions/prom.go`:
//!   a group's `file` is the folder's title (its full path in 11), `folderUid` names the
//!   folder; a rule has `uid`, `folderUid`, `health` `ok`, `error` or `nodata` (`ok` too for
//!   a rule not yet scheduled), its `state` `firing`, `pending`, `inactive` (12 adds
//!   `recovering`) derived from its instances, whose `state` is `Normal`, `Alerting`,
//!   `Pending`, `NoData`, `Error` (12: `Recovering`), followed by a reason in parentheses
//!   when there is one (`Alerting (NoData)`, `Normal (MissingSeries)`). Empty `alerts`,
//!   `labels` and `lastError` are omitted (`omitempty`). Dashboard panels are linked through
//!   the `__dashboardUid__` and `__panelId__` annotations.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A map the servers may omit or write as `null`.
fn map_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

/// A list the servers may omit or write as `null`.
fn list_or_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// `data` of a rules answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RulesAnswer {
    /// The rule groups, in the server's order.
    #[serde(default, deserialize_with = "list_or_empty")]
    pub groups: Vec<Group>,
}

/// One rule group.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// Prometheus: the rule file; Grafana: the folder's title (or full path).
    #[serde(default)]
    pub file: String,
    /// Grafana 11: the folder's UID.
    #[serde(default, rename = "folderUid")]
    pub folder_uid: Option<String>,
    /// Its rules, alerting and recording.
    #[serde(default, deserialize_with = "list_or_empty")]
    pub rules: Vec<Rule>,
}

/// One rule as the API reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Rule {
    /// The rule's name (`alert:`), Grafana's rule title.
    pub name: String,
    /// `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `firing`, `pending`, `inactive` (Grafana 12: `recovering`); absent for recording rules.
    #[serde(default)]
    pub state: Option<String>,
    /// `ok`; `err` (Prometheus) or `error` (Grafana); `nodata` (Grafana); `unknown`.
    #[serde(default)]
    pub health: String,
    /// Why the last evaluation failed.
    #[serde(default, rename = "lastError")]
    pub last_error: Option<String>,
    /// The rule's own labels.
    #[serde(default, deserialize_with = "map_or_empty")]
    pub labels: BTreeMap<String, String>,
    /// The rule's annotations (Grafana's `__dashboardUid__`, `__panelId__` among them).
    #[serde(default, deserialize_with = "map_or_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Its active alerts (Prometheus) or alert instances (Grafana, `Normal` ones too).
    #[serde(default, deserialize_with = "list_or_empty")]
    pub alerts: Vec<Instance>,
    /// Grafana: the rule's UID.
    #[serde(default)]
    pub uid: Option<String>,
    /// Grafana: the rule's folder UID.
    #[serde(default, rename = "folderUid")]
    pub folder_uid: Option<String>,
}

impl Rule {
    /// Whether this is an alerting rule (recording rules are not judged).
    pub fn is_alerting(&self) -> bool {
        self.kind == "alerting"
    }
}

/// One alert (Prometheus) or alert instance (Grafana).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Instance {
    /// Its labels (the rule's, the series', `alertname`).
    #[serde(default, deserialize_with = "map_or_empty")]
    pub labels: BTreeMap<String, String>,
    /// Prometheus `firing`/`pending`; Grafana `Alerting`, `Pending`, `Normal`, `NoData`,
    /// `Error`, `Recovering`, each perhaps followed by ` (Reason)`.
    pub state: String,
}

/// What an instance's state says, both servers' spellings read as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InstanceState {
    /// Prometheus `firing`, Grafana `Alerting` (with any reason).
    Firing,
    /// `pending`, `Pending`.
    Pending,
    /// Grafana `Recovering`.
    Recovering,
    /// Grafana `Error`.
    Error,
    /// Grafana `NoData`.
    NoData,
    /// Grafana `Normal` (Prometheus does not list inactive alerts).
    Normal,
    /// Anything else, as written.
    Other,
}

impl Instance {
    /// The state without its reason, read.
    pub fn state(&self) -> InstanceState {
        let base = self.state.split(" (").next().unwrap_or_default();
        match base.to_ascii_lowercase().as_str() {
            "firing" | "alerting" => InstanceState::Firing,
            "pending" => InstanceState::Pending,
            "recovering" => InstanceState::Recovering,
            "error" => InstanceState::Error,
            "nodata" => InstanceState::NoData,
            "normal" | "inactive" => InstanceState::Normal,
            _ => InstanceState::Other,
        }
    }
}

/// Reads a 2xx answer's body: the `data` of a `success`, else the `error` it carries.
///
/// ```
/// use alert_health_graph::alerting_rules::answer::parse;
/// let ok = parse(br#"{"status":"success","data":{"groups":[{"name":"g","file":"f.yml","rules":[]}]}}"#)?;
/// assert_eq!(ok.groups[0].name, "g");
/// let err = parse(br#"{"status":"error","errorType":"bad_data","error":"nope"}"#).unwrap_err();
/// assert_eq!(err, "status error: bad_data: nope");
/// # Ok::<(), String>(())
/// ```
pub fn parse(body: &[u8]) -> Result<RulesAnswer, String> {
    #[derive(Deserialize)]
    struct Envelope {
        status: String,
        #[serde(default)]
        data: Option<Value>,
    }
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| format!("not a rules API answer: {e}"))?;
    if envelope.status != "success" {
        return Err(format!(
            "status {}: {}",
            envelope.status,
            error_text(body).unwrap_or_else(|| "no error given".to_owned())
        ));
    }
    let data = envelope.data.ok_or("status success without data")?;
    RulesAnswer::deserialize(data).map_err(|e| format!("data: {e}"))
}

/// The error an API error body carries: Prometheus's `errorType: error`, or Grafana's
/// `message (messageId)`; `None` when the body is neither.
///
/// ```
/// use alert_health_graph::alerting_rules::answer::error_text;
/// let prom = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"type\""}"#;
/// assert_eq!(error_text(prom).as_deref(), Some(r#"bad_data: invalid parameter "type""#));
/// let grafana = br#"{"message":"Invalid API key","messageId":"api-key.invalid","statusCode":401,"traceID":""}"#;
/// assert_eq!(error_text(grafana).as_deref(), Some("Invalid API key (api-key.invalid)"));
/// assert_eq!(error_text(b"<html>"), None);
/// ```
pub fn error_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match (text("errorType"), text("error"), text("message")) {
        (Some(kind), Some(error), _) => Some(format!("{kind}: {error}")),
        (None, Some(error), _) => Some(error.to_owned()),
        (_, None, Some(message)) => Some(match text("messageId") {
            Some(id) => format!("{message} ({id})"),
            None => message.to_owned(),
        }),
        _ => None,
    }
}

/// How a non-2xx answer reads in a sensor's error: `HTTP 401: Invalid API key
/// (api-key.invalid)`, or the body's start when it says nothing known.
pub fn describe_failure(status: u16, body: &[u8]) -> String {
    match error_text(body) {
        Some(text) => format!("HTTP {status}: {text}"),
        None => {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            let cut: String = raw.chars().take(200).collect();
            if cut.is_empty() {
                format!("HTTP {status}")
            } else if cut.len() < raw.len() {
                format!("HTTP {status}: {cut}…")
            } else {
                format!("HTTP {status}: {cut}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grafana_omissions_and_nulls_read_as_empty() {
        let body = br#"{"status":"success","data":{"groups":[{"name":"cpu","file":"Platform",
            "folderUid":"pl4tf0rm","rules":[{"state":"inactive","name":"High CPU","query":"",
            "health":"ok","type":"alerting","uid":"r1","folderUid":"pl4tf0rm","annotations":null,
            "lastEvaluation":"0001-01-01T00:00:00Z","evaluationTime":0}],"totals":null,
            "interval":60,"lastEvaluation":"0001-01-01T00:00:00Z","evaluationTime":0}],"totals":{"inactive":1}}}"#;
        let answer = parse(body).expect("valid");
        let rule = &answer.groups[0].rules[0];
        assert!(rule.alerts.is_empty() && rule.labels.is_empty() && rule.annotations.is_empty());
        assert_eq!(rule.uid.as_deref(), Some("r1"));
        assert_eq!(answer.groups[0].folder_uid.as_deref(), Some("pl4tf0rm"));
    }

    #[test]
    fn instance_states_read_both_spellings_and_reasons() {
        for (text, expected) in [
            ("firing", InstanceState::Firing),
            ("Alerting", InstanceState::Firing),
            ("Alerting (NoData)", InstanceState::Firing),
            ("Alerting (Error)", InstanceState::Firing),
            ("pending", InstanceState::Pending),
            ("Pending", InstanceState::Pending),
            ("Normal (MissingSeries)", InstanceState::Normal),
            ("NoData", InstanceState::NoData),
            ("Error", InstanceState::Error),
            ("Recovering", InstanceState::Recovering),
            ("Sleeping", InstanceState::Other),
        ] {
            let i = Instance {
                labels: BTreeMap::new(),
                state: text.to_owned(),
            };
            assert_eq!(i.state(), expected, "{text}");
        }
    }

    #[test]
    fn failures_name_the_status_and_what_the_server_said() {
        let prom =
            br#"{"status":"error","errorType":"unavailable","error":"rule manager not ready"}"#;
        assert_eq!(
            describe_failure(503, prom),
            "HTTP 503: unavailable: rule manager not ready"
        );
        assert_eq!(
            describe_failure(401, br#"{"message":"Unauthorized"}"#),
            "HTTP 401: Unauthorized"
        );
        assert_eq!(describe_failure(502, b""), "HTTP 502");
        let long = "x".repeat(300);
        assert!(describe_failure(500, long.as_bytes()).ends_with("x…"));
        assert!(
            parse(b"{}")
                .unwrap_err()
                .starts_with("not a rules API answer")
        );
        assert_eq!(
            parse(br#"{"status":"success"}"#).unwrap_err(),
            "status success without data"
        );
    }
}
