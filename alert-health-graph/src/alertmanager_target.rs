//! Where an Alertmanager is: [`AlertmanagerTarget`], alert-core's one description of
//! "which Alertmanager" (one URL or the members of an HA cluster, a vanilla
//! Alertmanager, Cortex or Mimir with a tenant, or a gateway with a per-tenant path
//! template; its module documents the YAML forms). The Alertmanager-alerts sensor reads
//! from a target and the evaluator's [`AlertmanagerSink`](crate::AlertmanagerSink) posts
//! to one; with the `http` feature, [`cluster`] builds the clients (through
//! `alert-cortex-adapter`'s `Cluster::from_target`) and reports what it refuses as this
//! crate's errors.
//!
//! Keep `attempts` × `request_timeout` below the sensor's timeout (10 s by default) so
//! that a member that hangs is named as failed instead of the whole read timing out.

pub use alert_core::Quorum;
pub use alert_core::alertmanager_target::{
    AlertmanagerBackend, AlertmanagerTarget, DEFAULT_ATTEMPTS, DEFAULT_PREFIX,
    DEFAULT_REQUEST_TIMEOUT, FIELDS,
};

#[cfg(feature = "http")]
mod client {
    use alert_cortex_adapter::{Addressing, Cluster};

    use alert_core::redact_urls;

    use super::AlertmanagerTarget;
    use crate::error::{Error, Result};

    /// An error of `alert-cortex-adapter` while talking to `target`, its URLs without
    /// credentials.
    pub(crate) fn request_error(target: &str, e: alert_cortex_adapter::Error) -> Error {
        Error::Request {
            target: redact_urls(target),
            reason: redact_urls(&e.to_string()),
        }
    }

    /// An adapter's refusal to build a request, as a field error.
    fn build_error(e: alert_cortex_adapter::Error) -> Error {
        match e {
            alert_cortex_adapter::Error::Core(e) => Error::InvalidTarget(e),
            alert_cortex_adapter::Error::InvalidRequest {
                what,
                value,
                reason,
            } => Error::InvalidField {
                field: what.to_owned(),
                value: redact_urls(&value),
                expected: format!("a valid {what} ({})", redact_urls(&reason)),
            },
            other => Error::InvalidField {
                field: "alertmanager".to_owned(),
                value: String::new(),
                expected: redact_urls(&other.to_string()),
            },
        }
    }

    /// How `alert-cortex-adapter` builds paths and headers for `target`.
    ///
    /// ```
    /// use alert_health_graph::{AlertmanagerTarget, alertmanager_target};
    /// let t: AlertmanagerTarget = yaml_serde::from_str("{url: 'http://m:8080', backend: cortex, tenant: a}").unwrap();
    /// let addressing = alertmanager_target::addressing(&t)?;
    /// assert_eq!(addressing.api_path("alerts"), "/alertmanager/api/v2/alerts");
    /// assert_eq!(addressing.org_id(), Some("a"));
    /// # Ok::<(), alert_health_graph::Error>(())
    /// ```
    pub fn addressing(target: &AlertmanagerTarget) -> Result<Addressing> {
        Addressing::for_target(target).map_err(build_error)
    }

    /// A client per member of `target`, as a cluster with its quorum. The members share
    /// `http`'s connection pool when given; each call has the target's timeout and is
    /// tried up to `attempts` times when it fails transiently.
    pub fn cluster(target: &AlertmanagerTarget, http: Option<&reqwest::Client>) -> Result<Cluster> {
        Cluster::from_target(target, http).map_err(build_error)
    }
}

#[cfg(feature = "http")]
pub(crate) use client::request_error;
#[cfg(feature = "http")]
pub use client::{addressing, cluster};

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;

    fn read(yaml: &str) -> AlertmanagerTarget {
        yaml_serde::from_str(yaml).expect(yaml)
    }

    #[test]
    fn addressing_follows_the_backend() {
        let t = read("{url: 'http://m:8080/', backend: mimir, tenant: t}");
        let a = addressing(&t).expect("valid");
        assert_eq!(a.to_string(), "mimir (prefix /alertmanager, tenant t)");
        let t = read(
            "{url: http://gw, path_template: '/{tenant}/prom/alertmanager/api/v2', tenant: t}",
        );
        assert_eq!(
            addressing(&t).expect("valid").api_path("alerts"),
            "/t/prom/alertmanager/api/v2/alerts"
        );
        let three = read("{urls: [http://a:1, http://b:2, http://c:3], quorum: all}");
        let cluster = super::cluster(&three, None).expect("builds");
        assert_eq!(cluster.members().len(), 3);
        assert_eq!(cluster.members()[1].name(), "http://b:2");
        assert_eq!(cluster.quorum(), alert_cortex_adapter::Quorum::All);
        // The adapter's own URL check is reported as a field error.
        let bad = AlertmanagerTarget::new(["http://a b:1"]);
        let err = super::cluster(&bad, None).unwrap_err().to_string();
        assert!(
            err.starts_with("base URL: expected a valid base URL ("),
            "{err}"
        );
        // A target that fails its own check keeps alert-core's message.
        let mut no_tenant = AlertmanagerTarget::new(["http://a:1"]);
        no_tenant.backend = AlertmanagerBackend::Cortex;
        let err = super::cluster(&no_tenant, None).unwrap_err().to_string();
        assert_eq!(err, "tenant: missing required value");
    }
}
