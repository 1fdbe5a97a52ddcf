//! Opsgenie (`opsgenie_configs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_optional_url_field;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::endpoint::{check_choice, is_templated};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// The responder types Opsgenie knows (Alertmanager checks them case-insensitively).
const RESPONDER_TYPES: [&str; 5] = ["team", "teams", "user", "escalation", "schedule"];

/// An Opsgenie integration (Alertmanager's `opsgenie_config`).
///
/// ```
/// use alert_core::{OpsGenieEndpoint, OpsGenieResponder};
/// let og = OpsGenieEndpoint {
///     api_key: "key".into(),
///     responders: vec![OpsGenieResponder {
///         name: Some("sre".into()),
///         kind: "team".into(),
///         ..Default::default()
///     }],
///     priority: Some("P1".into()),
///     ..Default::default()
/// };
/// assert!(og.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsGenieEndpoint {
    /// The integration's API key; required.
    pub api_key: Secret,
    /// The API base URL (Alertmanager's default: `https://api.opsgenie.com/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// The alert message (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The alert description (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The source field (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Extra details (templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// Who is notified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<OpsGenieResponder>,
    /// Comma-separated tags (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// A note (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `P1` to `P5`, or a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// The entity field (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Comma-separated custom actions (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<String>,
    /// Whether to update message and description of an open alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_alerts: Option<bool>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

/// One Opsgenie responder: at least one of `id`, `name`, `username`, and a type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsGenieResponder {
    /// The responder's id (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The responder's name (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The responder's user name (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `team`, `teams`, `user`, `escalation`, `schedule`, or a template. Written `type`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl OpsGenieEndpoint {
    /// Checks the endpoint; errors name fields under `opsgenie`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("opsgenie"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        path.field("api_key").require(self.api_key.expose())?;
        check_optional_url_field(&path.field("api_url"), self.api_url.as_deref())?;
        for (i, responder) in self.responders.iter().enumerate() {
            let at = path.field("responders").index(i);
            let named = [&responder.id, &responder.name, &responder.username]
                .iter()
                .any(|v| v.as_deref().is_some_and(|v| !v.is_empty()));
            if !named {
                return Err(at.invalid(
                    "",
                    "a responder with at least one of id, username or name specified",
                ));
            }
            let kind = &responder.kind;
            let known = RESPONDER_TYPES.contains(&kind.to_ascii_lowercase().as_str());
            if !known && !is_templated(kind) {
                return Err(at.field("type").invalid(
                    kind,
                    "one of team, teams, user, escalation, schedule, or a template",
                ));
            }
        }
        check_choice(
            &path.field("priority"),
            self.priority.as_deref(),
            &["P1", "P2", "P3", "P4", "P5"],
        )?;
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        std::iter::once(&mut self.api_key).chain(http_config_secrets(&mut self.http_config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responders_are_checked() {
        let with = |r: OpsGenieResponder| OpsGenieEndpoint {
            api_key: "k".into(),
            responders: vec![r],
            ..Default::default()
        };
        let err = with(OpsGenieResponder {
            kind: "team".into(),
            ..Default::default()
        })
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("opsgenie.responders[0]: a responder with at least one"),
            "{err}"
        );
        let err = with(OpsGenieResponder {
            name: Some("x".into()),
            kind: "squad".into(),
            ..Default::default()
        })
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("opsgenie.responders[0].type: one of team"),
            "{err}"
        );
        let ok = with(OpsGenieResponder {
            name: Some("x".into()),
            kind: "Team".into(),
            ..Default::default()
        });
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn api_key_and_priority() {
        assert_eq!(
            OpsGenieEndpoint::default()
                .validate()
                .unwrap_err()
                .to_string(),
            "opsgenie.api_key: missing required value"
        );
        let p6 = OpsGenieEndpoint {
            api_key: "k".into(),
            priority: Some("P6".into()),
            ..Default::default()
        };
        assert!(
            p6.validate()
                .unwrap_err()
                .to_string()
                .starts_with("opsgenie.priority:")
        );
    }

    #[test]
    fn responder_type_is_written_type() {
        let r = OpsGenieResponder {
            id: Some("1".into()),
            kind: "user".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&r).expect("ser"),
            r#"{"id":"1","type":"user"}"#
        );
    }
}
