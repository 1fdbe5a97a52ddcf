//! The evaluator's alerts posted to Alertmanager with `alert-cortex-adapter`'s client
//! (needs the `http` feature).
//!
//! The sink posts each batch to every member of its [`AlertmanagerTarget`] (alerts are
//! not gossiped between HA members, so each must receive them), through whatever
//! addressing the target has: a vanilla Alertmanager, a Cortex or Mimir tenant, or a
//! per-tenant path behind a gateway. A post succeeds when the target's quorum of members
//! accepted it; the members that did not are kept for [`AlertmanagerSink::failed_members`].
//! Such a member catches up on the next pass for firing alerts (they are re-posted every
//! pass); a resolution it missed lapses by itself when the alert's `endsAt` passes.

use std::sync::Mutex;

use alert_cortex_adapter::Cluster;
use async_trait::async_trait;

use crate::alerting::NodeAlert;
use crate::alertmanager_target::{AlertmanagerTarget, request_error};
use crate::error::Result;
use crate::evaluator::AlertSink;

/// Posts to `POST /api/v2/alerts` of every member of a target.
///
/// ```no_run
/// use std::sync::Arc;
/// use alert_health_graph::{AlertmanagerSink, AlertmanagerTarget};
/// # fn run(evaluator: alert_health_graph::GraphEvaluator) -> alert_health_graph::Result<()> {
/// let target: AlertmanagerTarget = yaml_serde::from_str(
///     "{urls: ['http://am-0:9093', 'http://am-1:9093'], quorum: 1}",
/// ).unwrap();
/// let evaluator = evaluator.with_sink(Arc::new(AlertmanagerSink::for_target(&target, None)?));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AlertmanagerSink {
    cluster: Cluster,
    target: String,
    failed: Mutex<Vec<String>>,
}

impl AlertmanagerSink {
    /// A sink posting to every member of `cluster`; `target` names it in errors.
    pub fn new(cluster: Cluster, target: impl Into<String>) -> AlertmanagerSink {
        AlertmanagerSink {
            cluster,
            target: target.into(),
            failed: Mutex::new(Vec::new()),
        }
    }

    /// A sink for `target`, sharing `http`'s connection pool when given.
    pub fn for_target(
        target: &AlertmanagerTarget,
        http: Option<&reqwest::Client>,
    ) -> Result<AlertmanagerSink> {
        Ok(AlertmanagerSink::new(
            crate::alertmanager_target::cluster(target, http)?,
            target.to_string(),
        ))
    }

    /// The members posted to.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The members that did not accept the last post that succeeded, each as
    /// `member: error` with URLs without credentials (empty when every member accepted
    /// it).
    pub fn failed_members(&self) -> Vec<String> {
        self.failed
            .lock()
            .map(|f| f.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }
}

/// The API's `postableAlert` for one of the tracker's alerts.
fn to_api(alert: &NodeAlert) -> alert_cortex_adapter::PostableAlert {
    alert_cortex_adapter::PostableAlert {
        labels: alert.labels.clone(),
        annotations: alert.annotations.clone(),
        starts_at: Some(alert.starts_at),
        ends_at: Some(alert.ends_at),
        generator_url: Some(alert.generator_url.clone()).filter(|u| !u.is_empty()),
    }
}

#[async_trait]
impl AlertSink for AlertmanagerSink {
    async fn post(&self, alerts: &[NodeAlert]) -> Result<()> {
        let api: Vec<alert_cortex_adapter::PostableAlert> = alerts.iter().map(to_api).collect();
        let posted = self
            .cluster
            .post_alerts(&api)
            .await
            .map_err(|e| request_error(&self.target, e))?;
        let failed = posted
            .failed
            .iter()
            .map(|f| alert_core::redact_urls(&f.to_string()))
            .collect();
        *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = failed;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alert_core::LabelSet;

    #[test]
    fn alerts_translate_to_the_api_shape() {
        let t = |s: &str| s.parse::<alert_core::Timestamp>().expect("valid");
        let mut alert = NodeAlert {
            labels: LabelSet::from_pairs([("alertname", "X")]).expect("valid"),
            annotations: LabelSet::from_pairs([("summary", "db is failing")]).expect("valid"),
            starts_at: t("2024-05-01T10:00:00Z"),
            ends_at: t("2024-05-01T10:01:00Z"),
            generator_url: "http://status".into(),
        };
        assert_eq!(
            serde_json::to_value(to_api(&alert)).expect("serialises"),
            serde_json::to_value(&alert).expect("serialises"),
            "the same JSON either way"
        );
        alert.generator_url.clear();
        assert_eq!(to_api(&alert).generator_url, None);
    }
}
