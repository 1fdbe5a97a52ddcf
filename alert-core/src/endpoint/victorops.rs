//! Splunk On-Call, formerly VictorOps (`victorops_configs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_optional_url_field;
use crate::endpoint::check_choice;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// Field names Alertmanager sets itself and refuses as custom fields, in the order
/// Alertmanager 0.25 checks them (`VictorOpsConfig.UnmarshalYAML`).
///
/// ```
/// use alert_core::endpoint::victorops::RESERVED_FIELDS;
/// assert!(RESERVED_FIELDS.contains(&"entity_state"));
/// ```
pub const RESERVED_FIELDS: [&str; 7] = [
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
];

/// A VictorOps (Splunk On-Call) routing key (Alertmanager's `victorops_config`).
///
/// ```
/// use alert_core::VictorOpsEndpoint;
/// let vo = VictorOpsEndpoint {
///     api_key: "k".into(),
///     routing_key: "ops".into(),
///     ..Default::default()
/// };
/// assert!(vo.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VictorOpsEndpoint {
    /// The REST integration's API key; required.
    pub api_key: Secret,
    /// The routing key that picks the escalation policy; required (template).
    pub routing_key: String,
    /// The integration URL (Alertmanager's default:
    /// `https://alert.victorops.com/integrations/generic/20131114/alert/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// `CRITICAL` (Alertmanager's default), `WARNING`, `INFO`, `ACKNOWLEDGEMENT`,
    /// `RECOVERY`, or a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    /// The incident summary (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_display_name: Option<String>,
    /// The long description (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    /// The monitoring tool named in the incident (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_tool: Option<String>,
    /// Extra fields (templates); Alertmanager's own field names are refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<String, String>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl VictorOpsEndpoint {
    /// Checks the endpoint; errors name fields under `victorops`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("victorops"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        path.field("api_key").require(self.api_key.expose())?;
        if self.routing_key.is_empty() {
            return Err(path
                .field("routing_key")
                .invalid("", "missing Routing key in VictorOps config"));
        }
        check_optional_url_field(&path.field("api_url"), self.api_url.as_deref())?;
        check_choice(
            &path.field("message_type"),
            self.message_type.as_deref(),
            &["CRITICAL", "WARNING", "INFO", "ACKNOWLEDGEMENT", "RECOVERY"],
        )?;
        if let Some(name) = self
            .custom_fields
            .keys()
            .find(|k| RESERVED_FIELDS.contains(&k.as_str()))
        {
            return Err(path.field("custom_fields").key(name).invalid(
                name,
                format!(
                    "victorOps config contains custom field {name} which cannot be used as it \
                     conflicts with the fixed/static fields"
                ),
            ));
        }
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
    fn reserved_custom_fields() {
        let vo = VictorOpsEndpoint {
            api_key: "k".into(),
            routing_key: "r".into(),
            custom_fields: [("entity_state".to_owned(), "x".to_owned())]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let err = vo.validate().unwrap_err().to_string();
        assert!(err.starts_with("victorops.custom_fields[entity_state]: victorOps config contains custom field entity_state"), "{err}");
        let err = VictorOpsEndpoint {
            api_key: "k".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("victorops.routing_key: missing Routing key"),
            "{err}"
        );
    }
}
