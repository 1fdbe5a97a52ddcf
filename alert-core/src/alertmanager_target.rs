//! Where an Alertmanager is: one URL or the members of an HA cluster, and how each is
//! addressed (a vanilla Alertmanager, Cortex or Mimir with a tenant, or a gateway with a
//! per-tenant path template). The Alertmanager-alerts sensor reads from a target and the
//! evaluator's sink posts to one. This is the one description of "which Alertmanager"
//! the family shares: the health graph reads it from graph files, `alertctl` and the
//! gateway build it from their flags, and `alert-cortex-adapter` turns it into clients
//! (`Cluster::from_target`).
//!
//! Written (YAML, JSON) a target is a mapping, or for a plain Alertmanager just its
//! URL(s); it serializes as the mapping:
//!
//! ```yaml
//! alertmanager: http://127.0.0.1:9093                      # one member
//! alertmanager: "http://am-0:9093,http://am-1:9093"        # HA members, comma-separated
//! alertmanager:
//!   urls: [http://am-0:9093, http://am-1:9093, http://am-2:9093]   # or url: one URL
//!   backend: mimir            # alertmanager (default), cortex or mimir
//!   tenant: team-a            # X-Scope-OrgID; required for cortex and mimir
//!   prefix: /alertmanager     # cortex/mimir: the Alertmanager HTTP prefix (default)
//!   quorum: majority          # members that must answer: majority (default), all, or N
//!   request_timeout: 4s       # per HTTP call (default 4s)
//!   attempts: 2               # tries of a call that failed transiently (default 2)
//! alertmanager:
//!   url: http://gateway:8080
//!   path_template: "/{tenant}/prom/alertmanager"   # the tenant in the path, no header
//!   tenant: team-a
//! ```
//!
//! Reads go to every member and are merged as Cortex merges them (alerts are not
//! gossiped, so each member may hold a different subset); a read succeeds when a quorum
//! of members answered and says which did not. Alerts are posted to every member. With
//! two members (the usual HA pair) a majority is both: set `quorum: 1` to keep reading
//! and posting while one is down.
//!
//! The target itself is plain data, checked when read; `alert-cortex-adapter` builds the
//! clients from it. Keep `attempts` × `request_timeout` below the sensor's timeout (10 s by default) so
//! that a member that hangs is named as failed instead of the whole read timing out.

use std::fmt;
use std::str::FromStr;

use crate::{Duration, Quorum, TenantId};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// The default timeout of one HTTP call to a member.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = match Duration::from_millis(4_000) {
    Some(d) => d,
    None => Duration::ZERO,
};

/// The default number of tries of a call that failed transiently (no connection,
/// timeout, 429, 502, 503, 504).
pub const DEFAULT_ATTEMPTS: u32 = 2;

/// Cortex's and Mimir's default Alertmanager HTTP prefix.
pub const DEFAULT_PREFIX: &str = "/alertmanager";

/// What kind of server the URLs point at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum AlertmanagerBackend {
    /// A vanilla Alertmanager: `<url>/api/v2/...` (or `<url><path_template>/api/v2/...`).
    #[default]
    Alertmanager,
    /// Cortex: `<url><prefix>/api/v2/...` with `X-Scope-OrgID: <tenant>`.
    Cortex,
    /// Grafana Mimir: as Cortex.
    Mimir,
}

impl AlertmanagerBackend {
    /// `alertmanager`, `cortex` or `mimir`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertmanagerBackend::Alertmanager => "alertmanager",
            AlertmanagerBackend::Cortex => "cortex",
            AlertmanagerBackend::Mimir => "mimir",
        }
    }

    /// Whether the backend takes the tenant in `X-Scope-OrgID` under a prefix.
    pub const fn is_multi_tenant(self) -> bool {
        matches!(
            self,
            AlertmanagerBackend::Cortex | AlertmanagerBackend::Mimir
        )
    }
}

impl fmt::Display for AlertmanagerBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertmanagerBackend {
    type Err = Error;

    /// ```
    /// use alert_core::AlertmanagerBackend;
    /// assert_eq!("mimir".parse::<AlertmanagerBackend>()?, AlertmanagerBackend::Mimir);
    /// assert!("loki".parse::<AlertmanagerBackend>().is_err());
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<AlertmanagerBackend> {
        match s {
            "alertmanager" => Ok(AlertmanagerBackend::Alertmanager),
            "cortex" => Ok(AlertmanagerBackend::Cortex),
            "mimir" => Ok(AlertmanagerBackend::Mimir),
            other => Err(Error::InvalidField {
                field: "backend".to_owned(),
                value: other.to_owned(),
                expected: "expected alertmanager, cortex or mimir".to_owned(),
            }),
        }
    }
}

impl<'de> Deserialize<'de> for AlertmanagerBackend {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One Alertmanager, or the members of one HA Alertmanager, and how to address them.
///
/// ```
/// use alert_core::{AlertmanagerTarget, AlertmanagerBackend};
/// let t: AlertmanagerTarget = yaml_serde::from_str(
///     "{urls: ['http://am-0:8080', 'http://am-1:8080'], backend: mimir, tenant: team-a}",
/// ).unwrap();
/// assert_eq!(t.backend, AlertmanagerBackend::Mimir);
/// assert_eq!(t.urls.len(), 2);
/// assert_eq!(t.to_string(), "mimir tenant team-a at http://am-0:8080, http://am-1:8080");
///
/// let short: AlertmanagerTarget = yaml_serde::from_str("http://a:9093,http://b:9093").unwrap();
/// assert_eq!(short.urls, ["http://a:9093", "http://b:9093"]);
///
/// let err = yaml_serde::from_str::<AlertmanagerTarget>("{url: 'http://m:8080', backend: cortex}")
///     .unwrap_err().to_string();
/// assert!(err.starts_with("tenant: missing required value"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlertmanagerTarget {
    /// The members' base URLs (one for a single Alertmanager).
    pub urls: Vec<String>,
    /// What the URLs point at.
    pub backend: AlertmanagerBackend,
    /// The tenant: `X-Scope-OrgID` for Cortex and Mimir, the `{tenant}` of a path template.
    pub tenant: Option<TenantId>,
    /// Cortex's/Mimir's Alertmanager HTTP prefix ([`DEFAULT_PREFIX`] when absent).
    pub prefix: Option<String>,
    /// A per-tenant path such as `/{tenant}/prom/alertmanager` (a vanilla backend behind
    /// a gateway that puts the tenant in the path).
    pub path_template: Option<String>,
    /// How many members must answer.
    pub quorum: Quorum,
    /// The timeout of one HTTP call to a member.
    pub request_timeout: Duration,
    /// How many times a call that failed transiently is tried (at least 1).
    pub attempts: u32,
}

impl AlertmanagerTarget {
    /// A vanilla Alertmanager with these members and the defaults.
    ///
    /// ```
    /// use alert_core::AlertmanagerTarget;
    /// let t = AlertmanagerTarget::new(["http://127.0.0.1:9093"]);
    /// assert_eq!(t.to_string(), "alertmanager at http://127.0.0.1:9093");
    /// ```
    pub fn new<I, S>(urls: I) -> AlertmanagerTarget
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AlertmanagerTarget {
            urls: urls.into_iter().map(Into::into).collect(),
            backend: AlertmanagerBackend::Alertmanager,
            tenant: None,
            prefix: None,
            path_template: None,
            quorum: Quorum::Majority,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
        }
    }

    /// The URLs of `URL[,URL...]`, trimmed, empty pieces dropped.
    ///
    /// ```
    /// use alert_core::AlertmanagerTarget;
    /// assert_eq!(AlertmanagerTarget::split_urls(" http://a:1 ,, http://b:2"), ["http://a:1", "http://b:2"]);
    /// ```
    pub fn split_urls(text: &str) -> Vec<String> {
        text.split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// A tenant id, or an error naming `field` and the rule of Cortex's the id breaks.
    ///
    /// ```
    /// use alert_core::AlertmanagerTarget;
    /// assert_eq!(AlertmanagerTarget::tenant_id("team-a", "--tenant")?.as_str(), "team-a");
    /// let err = AlertmanagerTarget::tenant_id("a|b", "--tenant").unwrap_err().to_string();
    /// assert!(err.starts_with("--tenant: expected a tenant id Cortex and Mimir accept ("), "{err}");
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn tenant_id(raw: &str, field: &str) -> Result<TenantId> {
        TenantId::new(raw).map_err(|e| Error::InvalidField {
            field: field.to_owned(),
            value: raw.to_owned(),
            expected: match e {
                Error::InvalidTenantId { reason, .. } => {
                    format!("expected a tenant id Cortex and Mimir accept ({reason})")
                }
                other => other.to_string(),
            },
        })
    }

    /// Checks that the fields go together; `field` turns a field name (`tenant`) into
    /// what errors call it (`alerting.alertmanager.tenant`, or a flag `--tenant`).
    pub fn check(&self, field: &dyn Fn(&str) -> String) -> Result<()> {
        let unexpected = |name: &str, value: &str, expected: &str| Error::InvalidField {
            field: field(name),
            value: value.to_owned(),
            expected: expected.to_owned(),
        };
        if self.urls.is_empty() {
            return Err(Error::MissingField {
                field: field("url"),
            });
        }
        for url in &self.urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(unexpected(
                    "url",
                    &crate::redact_urls(url),
                    "expected an http:// or https:// base URL such as http://127.0.0.1:9093",
                ));
            }
        }
        if self.attempts == 0 {
            return Err(unexpected("attempts", "0", "expected at least 1"));
        }
        if self.request_timeout.is_zero() {
            return Err(unexpected(
                "request_timeout",
                "0s",
                "expected a positive duration",
            ));
        }
        if let Quorum::AtLeast(n) = self.quorum
            && (n == 0 || n > self.urls.len())
        {
            return Err(unexpected(
                "quorum",
                &n.to_string(),
                &format!(
                    "expected from 1 to the number of members, {}",
                    self.urls.len()
                ),
            ));
        }
        let tenant_needed = self.backend.is_multi_tenant() || self.path_template.is_some();
        match (&self.tenant, tenant_needed) {
            (None, true) => {
                return Err(Error::MissingField {
                    field: field("tenant"),
                });
            }
            (Some(t), false) => {
                return Err(unexpected(
                    "tenant",
                    t.as_str(),
                    "expected no tenant for a vanilla Alertmanager (set backend: cortex or mimir, \
                     or a path_template)",
                ));
            }
            _ => {}
        }
        if let Some(prefix) = &self.prefix {
            if !self.backend.is_multi_tenant() {
                return Err(unexpected(
                    "prefix",
                    prefix,
                    "expected no prefix except with backend cortex or mimir",
                ));
            }
            if !(prefix.is_empty() || prefix.starts_with('/')) {
                return Err(unexpected(
                    "prefix",
                    prefix,
                    "expected an absolute path such as /alertmanager",
                ));
            }
        }
        if let Some(template) = &self.path_template {
            if self.backend.is_multi_tenant() {
                return Err(unexpected(
                    "path_template",
                    template,
                    "expected no path_template with backend cortex or mimir (they take the tenant in \
                     X-Scope-OrgID under prefix)",
                ));
            }
            if !template.contains("{tenant}") {
                return Err(unexpected(
                    "path_template",
                    template,
                    "expected a path with a {tenant} placeholder, such as /{tenant}/prom/alertmanager",
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for AlertmanagerTarget {
    /// `alertmanager at URL`, `mimir tenant T at URL, URL`, `alertmanager /{tenant}/am
    /// tenant T at URL`; each URL without credentials (`http://<secret>@am:9093`).
    ///
    /// ```
    /// use alert_core::AlertmanagerTarget;
    /// let t = AlertmanagerTarget::new(["http://admin:pw@am-0:9093", "http://am-1:9093/?token=t"]);
    /// assert_eq!(t.to_string(), "alertmanager at http://<secret>@am-0:9093, http://am-1:9093/?token=<secret>");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.backend.as_str())?;
        if let Some(template) = &self.path_template {
            write!(f, " {template}")?;
        }
        if let Some(prefix) = self.prefix.as_deref().filter(|p| *p != DEFAULT_PREFIX) {
            write!(f, " prefix {prefix}")?;
        }
        if let Some(tenant) = &self.tenant {
            write!(f, " tenant {tenant}")?;
        }
        write!(f, " at {}", crate::redact_urls(&self.urls.join(", ")))
    }
}

/// The mapping form, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    urls: Option<Vec<String>>,
    #[serde(default)]
    backend: AlertmanagerBackend,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    path_template: Option<String>,
    #[serde(default)]
    quorum: Quorum,
    #[serde(default)]
    request_timeout: Option<Duration>,
    #[serde(default)]
    attempts: Option<u32>,
}

/// The field names of the mapping form (for callers that flatten a target into a larger
/// mapping, such as the Alertmanager-alerts sensor's parameters).
pub const FIELDS: [&str; 9] = [
    "url",
    "urls",
    "backend",
    "tenant",
    "prefix",
    "path_template",
    "quorum",
    "request_timeout",
    "attempts",
];

impl TryFrom<Fields> for AlertmanagerTarget {
    type Error = Error;

    fn try_from(f: Fields) -> Result<AlertmanagerTarget> {
        let urls = match (f.url, f.urls) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidField {
                    field: "urls".to_owned(),
                    value: "(set)".to_owned(),
                    expected: "expected either url or urls, not both".to_owned(),
                });
            }
            (Some(one), None) => vec![one],
            (None, Some(many)) => many,
            (None, None) => Vec::new(),
        };
        let tenant = f
            .tenant
            .map(|t| AlertmanagerTarget::tenant_id(&t, "tenant"))
            .transpose()?;
        let target = AlertmanagerTarget {
            urls,
            backend: f.backend,
            tenant,
            prefix: f.prefix,
            path_template: f.path_template,
            quorum: f.quorum,
            request_timeout: f.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
            attempts: f.attempts.unwrap_or(DEFAULT_ATTEMPTS),
        };
        target.check(&str::to_owned)?;
        Ok(target)
    }
}

impl<'de> Deserialize<'de> for AlertmanagerTarget {
    /// A mapping (see the module docs), or a string of comma-separated URLs.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AlertmanagerTarget;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a URL, comma-separated URLs, or {url | urls, backend, tenant, …}")
            }

            fn visit_str<E: serde::de::Error>(
                self,
                text: &str,
            ) -> std::result::Result<Self::Value, E> {
                let target = AlertmanagerTarget::new(AlertmanagerTarget::split_urls(text));
                target.check(&str::to_owned).map_err(E::custom)?;
                Ok(target)
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let fields =
                    Fields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                AlertmanagerTarget::try_from(fields).map_err(serde::de::Error::custom)
            }
        }

        d.deserialize_any(Visitor)
    }
}

impl Serialize for AlertmanagerTarget {
    /// The mapping form: `urls`, `backend`, the optional `tenant`, `prefix` and
    /// `path_template` when set, `quorum`, `request_timeout`, `attempts`; it reads back
    /// as the same target.
    ///
    /// ```
    /// use alert_core::AlertmanagerTarget;
    /// let t = AlertmanagerTarget::new(["http://am-0:9093"]);
    /// assert_eq!(
    ///     serde_json::to_string(&t)?,
    ///     r#"{"urls":["http://am-0:9093"],"backend":"alertmanager","quorum":"majority","request_timeout":"4s","attempts":2}"#,
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("urls", &self.urls)?;
        map.serialize_entry("backend", self.backend.as_str())?;
        if let Some(tenant) = &self.tenant {
            map.serialize_entry("tenant", tenant)?;
        }
        if let Some(prefix) = &self.prefix {
            map.serialize_entry("prefix", prefix)?;
        }
        if let Some(template) = &self.path_template {
            map.serialize_entry("path_template", template)?;
        }
        map.serialize_entry("quorum", &self.quorum)?;
        map.serialize_entry("request_timeout", &self.request_timeout)?;
        map.serialize_entry("attempts", &self.attempts)?;
        map.end()
    }
}

impl Serialize for AlertmanagerBackend {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> std::result::Result<AlertmanagerTarget, String> {
        yaml_serde::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn short_and_long_forms_read() {
        let t = read("http://a:9093").expect("valid");
        assert_eq!(t, AlertmanagerTarget::new(["http://a:9093"]));
        let t = read("{urls: [http://a:8080, http://b:8080], backend: cortex, tenant: t1, prefix: /api/prom/alertmanager, quorum: 1, request_timeout: 2s, attempts: 3}")
            .expect("valid");
        assert_eq!(t.backend, AlertmanagerBackend::Cortex);
        assert_eq!(t.quorum, Quorum::AtLeast(1));
        assert_eq!(t.request_timeout.as_millis(), 2_000);
        assert_eq!(t.attempts, 3);
        assert_eq!(
            t.to_string(),
            "cortex prefix /api/prom/alertmanager tenant t1 at http://a:8080, http://b:8080"
        );
        let t = read("{url: http://gw, path_template: '/{tenant}/am', tenant: t}").expect("valid");
        assert_eq!(
            t.to_string(),
            "alertmanager /{tenant}/am tenant t at http://gw"
        );
    }

    #[test]
    fn fields_that_do_not_go_together_are_named() {
        let cases = [
            ("{backend: mimir, tenant: t}", "url: missing required value"),
            (
                "{url: http://a, urls: [http://b]}",
                "urls: expected either url or urls",
            ),
            (
                "{url: http://a, backend: mimir}",
                "tenant: missing required value",
            ),
            (
                "{url: http://a, tenant: t}",
                "tenant: expected no tenant for a vanilla",
            ),
            (
                "{url: http://a, path_template: /am}",
                "tenant: missing required value",
            ),
            (
                "{url: http://a, path_template: /am, tenant: t}",
                "path_template: expected a path with a {tenant} placeholder",
            ),
            (
                "{url: http://a, backend: cortex, tenant: t, path_template: '/{tenant}'}",
                "path_template: expected no path_template with backend cortex",
            ),
            (
                "{url: http://a, prefix: /am}",
                "prefix: expected no prefix except",
            ),
            (
                "{url: http://a, backend: cortex, tenant: 'a|b'}",
                "tenant: expected a tenant id Cortex and Mimir accept (tenant ID contains unsupported character '|'",
            ),
            (
                "{url: a:9093}",
                "url: expected an http:// or https:// base URL",
            ),
            (
                "{urls: [http://a, http://b], quorum: 3}",
                "quorum: expected from 1 to the number of members, 2",
            ),
            (
                "{url: http://a, quorum: some}",
                "quorum: expected majority, all",
            ),
            (
                "{url: http://a, attempts: 0}",
                "attempts: expected at least 1",
            ),
            (
                "{url: http://a, backend: loki}",
                "backend: expected alertmanager, cortex or mimir",
            ),
            ("{url: http://a, colour: red}", "unknown field `colour`"),
            ("''", "url: missing required value"),
        ];
        for (yaml, expected) in cases {
            let err = read(yaml).expect_err(yaml);
            assert!(
                err.contains(expected),
                "{yaml}\n=> {err}\nexpected: {expected}"
            );
        }
    }

    #[test]
    fn serialized_targets_read_back() {
        let cases = [
            "http://a:9093",
            "{urls: [http://a:8080, http://b:8080], backend: cortex, tenant: t1, prefix: /api/prom/alertmanager, quorum: 1, request_timeout: 2s, attempts: 3}",
            "{url: http://gw, path_template: '/{tenant}/am', tenant: t, quorum: all}",
            "{url: http://m, backend: mimir, tenant: team-a, request_timeout: 1m30s}",
        ];
        for yaml in cases {
            let t = read(yaml).expect(yaml);
            let json = serde_json::to_string(&t).expect("serializes");
            let back: AlertmanagerTarget = serde_json::from_str(&json).expect(&json);
            assert_eq!(back, t, "{json}");
            let yaml_again = yaml_serde::to_string(&t).expect("serializes");
            assert_eq!(read(&yaml_again).expect(&yaml_again), t);
        }
    }

    proptest::proptest! {
        /// The short form and `urls` agree on any list of URLs.
        #[test]
        fn short_form_equals_urls(hosts in proptest::collection::vec("[a-z]{1,8}:[0-9]{1,4}", 1..5)) {
            let urls: Vec<String> = hosts.iter().map(|h| format!("http://{h}")).collect();
            let short: AlertmanagerTarget = yaml_serde::from_str(&format!("'{}'", urls.join(","))).unwrap();
            let long: AlertmanagerTarget = yaml_serde::from_str(&format!("{{urls: [{}]}}", urls.join(", "))).unwrap();
            proptest::prop_assert_eq!(&short, &long);
            proptest::prop_assert_eq!(short.urls, urls);
        }
    }
}
