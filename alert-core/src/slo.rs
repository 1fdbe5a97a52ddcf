//! Service level objectives: how reliable one tenant's service should be, and whom to tell
//! when its error budget burns too fast.
//!
//! An [`Slo`] names the tenant whose data it watches, an objective (the percentage of
//! good events, such as `99.9`), a compliance window (by default 30 days), the service
//! level indicator ([`Sli`]) as PromQL templates, and the endpoints its alerts notify. A
//! rule generator turns it into multiwindow, multi-burn-rate alerts (the Google SRE
//! workbook's, as Sloth writes them), rendering the SLI's error ratio once per burn-rate
//! window (5m, 30m, 1h, 2h, 6h, 1d, 3d) with [`Sli::error_ratio_query`]. The alerts carry
//! the SLO's id as [`CONDITION_ID_LABEL`], so they reach the SLO's endpoints through the
//! routes a condition's alerts take.
//!
//! In a spec file:
//!
//! ```
//! use alert_core::{Severity, Slo};
//!
//! let slo: Slo = serde_json::from_str(r#"{
//!     "id": "api-availability",
//!     "tenant": "cluster-a",
//!     "name": "API availability",
//!     "objective": 99.9,
//!     "severity": "critical",
//!     "labels": {"team": "api"},
//!     "sli": {
//!         "good": "sum(rate(http_requests_total{code!~\"5..\"}[{{.window}}]))",
//!         "total": "sum(rate(http_requests_total[{{.window}}]))"
//!     },
//!     "endpoints": ["ops-slack", {"id": "pager", "group_wait": "30s"}]
//! }"#)?;
//! assert_eq!(slo.window.to_string(), "30d");
//! assert!((slo.error_budget() - 0.001).abs() < 1e-9);
//! assert_eq!(
//!     slo.sli.error_ratio_query("5m"),
//!     r#"1 - ((sum(rate(http_requests_total{code!~"5.."}[5m]))) / (sum(rate(http_requests_total[5m]))))"#
//! );
//! let ids: Vec<&str> = slo.endpoint_ids().map(|id| id.as_str()).collect();
//! assert_eq!(ids, ["ops-slack", "pager"]);
//! assert_eq!(
//!     slo.alert_labels().to_string(),
//!     r#"{alert_condition_id="api-availability", severity="critical", team="api"}"#
//! );
//!
//! // Errors name the field path.
//! let err = serde_json::from_str::<Slo>(r#"{
//!     "id": "api", "tenant": "cluster-a", "objective": 100,
//!     "sli": {"error_ratio": "rate(errors[{{.window}}])"}
//! }"#).unwrap_err();
//! assert!(err.to_string().starts_with("slos[api].objective: "));
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::condition::{AttachedEndpoint, CONDITION_ID_LABEL};
use crate::duration::Duration;
use crate::error::{Error, Result};
use crate::field_path::FieldPath;
use crate::id::{EndpointId, SloId, check_id, display_name, serialize_identity};
use crate::labels::LabelSet;
use crate::severity::{SEVERITY_LABEL, Severity};
use crate::tenant::TenantId;

/// The placeholder every SLI query holds where its range goes (Sloth's convention):
/// `sum(rate(http_requests_total[{{.window}}]))`. [`Sli::error_ratio_query`] replaces it
/// with a burn-rate window such as `5m`.
pub const WINDOW_PLACEHOLDER: &str = "{{.window}}";

/// Label names starting with this are reserved for the labels the rule generator puts on
/// an SLO's rules and alerts (such as the burn-rate window); an SLO's own labels may not
/// use them.
pub const SLO_LABEL_PREFIX: &str = "slo_";

/// The compliance window of an SLO that names none: 30 days.
pub const DEFAULT_WINDOW: Duration = days(30);

/// The shortest compliance window: 7 days. The longest burn-rate window is 3 days; in a
/// window much shorter than twice that, the slow-burn alerts would fire while the budget
/// is still being spent at a sustainable rate.
pub const MIN_WINDOW: Duration = days(7);

/// The longest compliance window: 90 days, a quarter.
pub const MAX_WINDOW: Duration = days(90);

/// The name of the list SLOs live in, as error paths print it.
const SLOS: &str = "slos";

/// What an SLI mapping must hold, as error messages say it.
const SLI_FORMS: &str = "exactly one form: good and total, or error_ratio";

/// `n` days.
const fn days(n: u64) -> Duration {
    match Duration::from_secs(n * 86_400) {
        Some(d) => d,
        None => Duration::ZERO,
    }
}

/// One service level objective. See the [module documentation](self) for the spec-file
/// shape.
///
/// Serialised as a mapping with `id`, the descriptive fields that are set, `tenant`,
/// `objective`, `window` (unless 30d), `severity`, `labels` and `annotations` (unless
/// empty), `sli`, `endpoints` (unless empty) and `disabled` (when set). Reading validates
/// the whole SLO; every error names its field path, like `slos[api-availability].objective`.
/// Endpoint references and ids shared with conditions are checked by
/// [`crate::AlertingSpec::validate`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawSlo")]
pub struct Slo {
    /// The id; unique among the SLOs and conditions of a spec, and the value of
    /// [`CONDITION_ID_LABEL`] on the SLO's alerts.
    pub id: SloId,
    /// A human name; may be empty (see [`Slo::display_name`]).
    pub name: String,
    /// Free text for people.
    pub description: String,
    /// The tenant (cluster) whose data the SLI queries.
    pub tenant: TenantId,
    /// The share of good events promised, in percent: strictly between 0 and 100, such
    /// as `99.9`.
    pub objective: f64,
    /// The compliance window the objective holds over; from [`MIN_WINDOW`] to
    /// [`MAX_WINDOW`], default [`DEFAULT_WINDOW`].
    pub window: Duration,
    /// How urgent the SLO's alerts are; default [`Severity::Warning`]. Its alerts carry
    /// it as the [`SEVERITY_LABEL`] label.
    pub severity: Severity,
    /// Labels added to the SLO's alerts. [`CONDITION_ID_LABEL`], [`SEVERITY_LABEL`] and
    /// names starting with [`SLO_LABEL_PREFIX`] are set by the SLO and its rules and may
    /// not be given here.
    pub labels: LabelSet,
    /// Annotations added to the SLO's alerts (a runbook URL, a dashboard link).
    pub annotations: LabelSet,
    /// What counts as an error, as PromQL templates.
    pub sli: Sli,
    /// The endpoints notified, each once, in order.
    pub endpoints: Vec<AttachedEndpoint>,
    /// A disabled SLO is kept but neither evaluated nor routed.
    pub disabled: bool,
}

/// A service level indicator: PromQL templates whose ratio is the share of failed events.
///
/// Every query holds [`WINDOW_PLACEHOLDER`] where its range goes. Written as a mapping
/// with either `good` and `total`, or `error_ratio`:
///
/// ```
/// use alert_core::Sli;
///
/// let sli: Sli = serde_json::from_str(
///     r#"{"error_ratio": "sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{.window}}]))"}"#,
/// )?;
/// assert_eq!(
///     sli.error_ratio_query("1h"),
///     "(sum(rate(errors_total[1h])) / sum(rate(requests_total[1h])))"
/// );
/// assert!(serde_json::from_str::<Sli>(r#"{"good": "good_total[{{.window}}]"}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "RawSli")]
pub enum Sli {
    /// Good and total events (`good`, `total`); the error ratio is `1 - good / total`.
    Events {
        /// The rate of good events over the window.
        good: String,
        /// The rate of all events over the window.
        total: String,
    },
    /// The error ratio itself (`error_ratio`), from 0 (no errors) to 1.
    ErrorRatio(String),
}

impl Sli {
    /// Checks that every query is set and holds [`WINDOW_PLACEHOLDER`]; errors name
    /// fields under `sli`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("sli"))
    }

    fn validate_at(&self, path: &FieldPath) -> Result<()> {
        for (name, query) in self.queries() {
            let at = path.field(name);
            at.require(query.trim())?;
            if !query.contains(WINDOW_PLACEHOLDER) {
                return Err(at.invalid(
                    query,
                    format!("a PromQL template holding {WINDOW_PLACEHOLDER} where the range goes"),
                ));
            }
        }
        Ok(())
    }

    /// The queries with their spec-file keys, in the order they are written.
    fn queries(&self) -> Vec<(&'static str, &str)> {
        match self {
            Sli::Events { good, total } => vec![("good", good), ("total", total)],
            Sli::ErrorRatio(query) => vec![("error_ratio", query)],
        }
    }

    /// The PromQL expression of the error ratio over `window` (a PromQL duration such as
    /// `5m`): `1 - ((<good>) / (<total>))` or `(<error_ratio>)`, with every
    /// [`WINDOW_PLACEHOLDER`] replaced by `window`.
    pub fn error_ratio_query(&self, window: &str) -> String {
        let render = |query: &str| query.trim().replace(WINDOW_PLACEHOLDER, window);
        match self {
            Sli::Events { good, total } => {
                format!("1 - (({}) / ({}))", render(good), render(total))
            }
            Sli::ErrorRatio(query) => format!("({})", render(query)),
        }
    }

    /// Reads the spec-file shape, reporting faults under `path`.
    fn from_raw(raw: RawSli, path: &FieldPath) -> Result<Sli> {
        let sli = match raw {
            RawSli {
                good: Some(good),
                total: Some(total),
                error_ratio: None,
            } => Sli::Events { good, total },
            RawSli {
                good: None,
                total: None,
                error_ratio: Some(query),
            } => Sli::ErrorRatio(query),
            RawSli {
                good: Some(_),
                total: None,
                error_ratio: None,
            } => return Err(path.field("total").missing()),
            RawSli {
                good: None,
                total: Some(_),
                error_ratio: None,
            } => return Err(path.field("good").missing()),
            raw => {
                let found: Vec<&str> = [
                    ("good", raw.good.is_some()),
                    ("total", raw.total.is_some()),
                    ("error_ratio", raw.error_ratio.is_some()),
                ]
                .into_iter()
                .filter_map(|(key, set)| set.then_some(key))
                .collect();
                return Err(path.invalid(found.join(", "), SLI_FORMS));
            }
        };
        sli.validate_at(path)?;
        Ok(sli)
    }
}

impl Slo {
    /// An SLO with the required fields; everything else at its default.
    pub fn new(id: SloId, tenant: TenantId, objective: f64, sli: Sli) -> Slo {
        Slo {
            id,
            name: String::new(),
            description: String::new(),
            tenant,
            objective,
            window: DEFAULT_WINDOW,
            severity: Severity::default(),
            labels: LabelSet::new(),
            annotations: LabelSet::new(),
            sli,
            endpoints: Vec::new(),
            disabled: false,
        }
    }

    /// The path error messages use for this SLO: `slos[<id>]`.
    pub(crate) fn path(&self) -> FieldPath {
        FieldPath::keyed(SLOS, self.id.as_str())
    }

    /// Checks every field; the first fault is returned with its full path, such as
    /// `slos[api-availability].objective`.
    pub fn validate(&self) -> Result<()> {
        let path = self.path();
        if !self.objective.is_finite() || self.objective <= 0.0 || self.objective >= 100.0 {
            return Err(path.field("objective").invalid(
                self.objective.to_string(),
                "a percentage strictly between 0 and 100, such as 99.9",
            ));
        }
        if self.window < MIN_WINDOW || self.window > MAX_WINDOW {
            return Err(path.field("window").invalid(
                self.window.to_string(),
                format!("a window from {MIN_WINDOW} to {MAX_WINDOW}"),
            ));
        }
        for (name, value) in self.labels.iter() {
            let reason = match name {
                CONDITION_ID_LABEL => "it is set from the SLO's id",
                SEVERITY_LABEL => "it is set from the SLO's severity",
                _ if name.starts_with(SLO_LABEL_PREFIX) => "the SLO's rules set those",
                _ => continue,
            };
            let label = if name.starts_with(SLO_LABEL_PREFIX) {
                format!("label starting with {SLO_LABEL_PREFIX}")
            } else {
                format!("{name} label")
            };
            return Err(path
                .field("labels")
                .key(name)
                .invalid(value, format!("no {label}: {reason}")));
        }
        self.sli.validate_at(&path.field("sli"))?;
        let endpoints = path.field("endpoints");
        for (i, attached) in self.endpoints.iter().enumerate() {
            let at = endpoints.index(i);
            if self.endpoints[..i].iter().any(|a| a.id == attached.id) {
                return Err(at
                    .field("id")
                    .invalid(attached.id.as_str(), "each endpoint attached once"));
            }
            attached
                .throttle
                .validate()
                .map_err(|e| throttle_error_at(&at, e))?;
        }
        Ok(())
    }

    /// The share of events allowed to fail over the window: `1 - objective / 100`
    /// (`0.001` for 99.9).
    pub fn error_budget(&self) -> f64 {
        1.0 - self.objective / 100.0
    }

    /// The ids of the attached endpoints, in order.
    pub fn endpoint_ids(&self) -> impl ExactSizeIterator<Item = &EndpointId> + '_ {
        self.endpoints.iter().map(|a| &a.id)
    }

    /// The name, or the id when the name is empty.
    pub fn display_name(&self) -> &str {
        display_name(self.id.as_str(), &self.name)
    }

    /// Whether the SLO is evaluated and routed (it is not disabled).
    pub fn is_enabled(&self) -> bool {
        !self.disabled
    }

    /// The labels the SLO's alerts carry: its labels plus [`CONDITION_ID_LABEL`] (the
    /// SLO's id, on which they route as a condition's alerts do) and [`SEVERITY_LABEL`].
    pub fn alert_labels(&self) -> LabelSet {
        crate::condition::with_routing_labels(&self.labels, self.id.as_str(), self.severity)
    }

    /// The condition a route builder routes this SLO's alerts with: an
    /// [`External`](crate::ConditionKind::External) condition with the SLO's id (its
    /// alerts carry it as [`CONDITION_ID_LABEL`]), tenant, severity, endpoints and
    /// enablement. The rules that make the alerts fire are the SLO's own.
    ///
    /// ```
    /// use alert_core::{AttachedEndpoint, Slo, Sli};
    /// let mut slo = Slo::new("api-availability".parse()?, "cluster-a".parse()?, 99.9,
    ///     Sli::ErrorRatio("sum(rate(errors[{{.window}}])) / sum(rate(requests[{{.window}}]))".into()));
    /// slo.endpoints.push(AttachedEndpoint::new("pager".parse()?));
    /// let routed = slo.routing_condition();
    /// assert_eq!(routed.id.as_str(), "api-availability");
    /// assert_eq!(routed.tenant.as_ref().map(|t| t.as_str()), Some("cluster-a"));
    /// assert_eq!(routed.endpoints.len(), 1);
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn routing_condition(&self) -> crate::AlertCondition {
        // Condition ids and SLO ids share one grammar (`validated_id!`).
        let id = crate::ConditionId::from_validated(self.id.as_str().to_owned());
        let mut condition = crate::AlertCondition::new(id, crate::ConditionKind::External);
        condition.name = self.name.clone();
        condition.description = self.description.clone();
        condition.tenant = Some(self.tenant.clone());
        condition.severity = self.severity;
        condition.labels = self.labels.clone();
        condition.endpoints = self.endpoints.clone();
        condition.disabled = self.disabled;
        condition
    }
}

/// Moves a fault of [`crate::Throttle::validate`], whose paths start at `throttle`, to
/// the attachment at `path`, where an attachment's timing fields are written.
fn throttle_error_at(path: &FieldPath, err: Error) -> Error {
    match err {
        Error::InvalidField {
            field,
            value,
            expected,
        } => {
            let name = field.strip_prefix("throttle.").unwrap_or(&field);
            path.field(name).invalid(value, expected)
        }
        other => other,
    }
}

impl Serialize for Slo {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        serialize_identity(&mut map, self.id.as_str(), &self.name, &self.description)?;
        map.serialize_entry("tenant", &self.tenant)?;
        map.serialize_entry("objective", &self.objective)?;
        if self.window != DEFAULT_WINDOW {
            map.serialize_entry("window", &self.window)?;
        }
        map.serialize_entry("severity", &self.severity)?;
        if !self.labels.is_empty() {
            map.serialize_entry("labels", &self.labels)?;
        }
        if !self.annotations.is_empty() {
            map.serialize_entry("annotations", &self.annotations)?;
        }
        map.serialize_entry("sli", &self.sli)?;
        if !self.endpoints.is_empty() {
            map.serialize_entry("endpoints", &self.endpoints)?;
        }
        if self.disabled {
            map.serialize_entry("disabled", &true)?;
        }
        map.end()
    }
}

impl Serialize for Sli {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let queries = self.queries();
        let mut map = serializer.serialize_map(Some(queries.len()))?;
        for (name, query) in queries {
            map.serialize_entry(name, query)?;
        }
        map.end()
    }
}

/// The spec-file shape of an SLI before validation: either form's keys are optional here
/// and exactly one form must be present.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSli {
    #[serde(default)]
    good: Option<String>,
    #[serde(default)]
    total: Option<String>,
    #[serde(default)]
    error_ratio: Option<String>,
}

impl TryFrom<RawSli> for Sli {
    type Error = Error;

    fn try_from(raw: RawSli) -> Result<Sli> {
        Sli::from_raw(raw, &FieldPath::root("sli"))
    }
}

/// The spec-file shape of an SLO before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    objective: Option<f64>,
    #[serde(default)]
    window: Option<Duration>,
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    labels: LabelSet,
    #[serde(default)]
    annotations: LabelSet,
    #[serde(default)]
    sli: Option<RawSli>,
    /// Each attachment as read, kept whole until the SLO's id is known, so that a bad
    /// endpoint id is reported at `slos[<id>].endpoints[<i>].id` as a condition's is.
    #[serde(default)]
    endpoints: Vec<serde_json::Value>,
    #[serde(default)]
    disabled: bool,
}

/// Reads one attachment kept whole by [`RawSlo`], reporting faults under `path`.
fn attached_from_raw(path: &FieldPath, raw: serde_json::Value) -> Result<AttachedEndpoint> {
    use serde_json::Value;

    let id = match &raw {
        Value::String(id) => Some(id.as_str()),
        Value::Object(map) => map.get("id").map_or(Some(""), Value::as_str),
        _ => None,
    };
    if let Some(id) = id {
        check_id(&path.field("id"), id)?;
    }
    AttachedEndpoint::deserialize(raw).map_err(|e| Error::Decode {
        field: path.to_string(),
        reason: e.to_string(),
    })
}

impl TryFrom<RawSlo> for Slo {
    type Error = Error;

    fn try_from(raw: RawSlo) -> Result<Slo> {
        let path = FieldPath::keyed(SLOS, &raw.id);
        check_id(&path.field("id"), &raw.id)?;
        let tenant = match raw.tenant {
            Some(tenant) => TenantId::new(tenant).map_err(|e| match e {
                Error::InvalidTenantId { id, reason } => path.field("tenant").invalid(id, reason),
                other => other,
            })?,
            None => return Err(path.field("tenant").missing()),
        };
        let Some(objective) = raw.objective else {
            return Err(path.field("objective").missing());
        };
        let Some(sli) = raw.sli else {
            return Err(path.field("sli").missing());
        };
        let sli = Sli::from_raw(sli, &path.field("sli"))?;
        let mut endpoints = Vec::with_capacity(raw.endpoints.len());
        for (i, attached) in raw.endpoints.into_iter().enumerate() {
            endpoints.push(attached_from_raw(
                &path.field("endpoints").index(i),
                attached,
            )?);
        }
        let slo = Slo {
            id: SloId::new(raw.id)?,
            name: raw.name,
            description: raw.description,
            tenant,
            objective,
            window: raw.window.unwrap_or(DEFAULT_WINDOW),
            severity: raw.severity,
            labels: raw.labels,
            annotations: raw.annotations,
            sli,
            endpoints,
            disabled: raw.disabled,
        };
        slo.validate()?;
        Ok(slo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies;
    use proptest::prelude::*;

    const GOOD: &str = r#"sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))"#;
    const TOTAL: &str = "sum(rate(http_requests_total[{{.window}}]))";

    fn slo() -> Slo {
        let mut slo = Slo::new(
            "api".parse().expect("id"),
            "cluster-a".parse().expect("tenant"),
            99.9,
            Sli::Events {
                good: GOOD.into(),
                total: TOTAL.into(),
            },
        );
        slo.endpoints = vec![AttachedEndpoint::new("pager".parse().expect("id"))];
        slo
    }

    /// The path of the fault `validate` finds in `slo`.
    fn field(slo: &Slo) -> String {
        match slo.validate() {
            Err(Error::MissingField { field } | Error::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    /// The error text of reading `json` as an SLO.
    fn read_error(json: &str) -> String {
        match serde_json::from_str::<Slo>(json) {
            Ok(slo) => panic!("accepted: {slo:?}\n{json}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn windows_are_days() {
        assert_eq!(DEFAULT_WINDOW.to_string(), "30d");
        assert_eq!(MIN_WINDOW.to_string(), "1w");
        assert_eq!(MAX_WINDOW.to_string(), "90d");
        // The longest burn-rate window fits in the shortest compliance window twice.
        assert!(days(3).checked_mul(2) < Some(MIN_WINDOW));
    }

    #[test]
    fn validate_names_every_field() {
        assert_eq!(slo().validate(), Ok(()));
        for bad in [0.0, 100.0, -1.0, 100.5, f64::NAN, f64::INFINITY] {
            let mut s = slo();
            s.objective = bad;
            assert_eq!(field(&s), "slos[api].objective", "{bad}");
        }
        for ok in [0.001, 50.0, 99.999_99] {
            let mut s = slo();
            s.objective = ok;
            assert_eq!(s.validate(), Ok(()), "{ok}");
        }
        let at = |ms: u64| Duration::from_millis(ms).expect("in range");
        for bad in [
            Duration::ZERO,
            at(MIN_WINDOW.as_millis() - 1),
            at(MAX_WINDOW.as_millis() + 1),
        ] {
            let mut s = slo();
            s.window = bad;
            assert_eq!(field(&s), "slos[api].window", "{bad}");
        }
        for ok in [MIN_WINDOW, days(28), MAX_WINDOW] {
            let mut s = slo();
            s.window = ok;
            assert_eq!(s.validate(), Ok(()), "{ok}");
        }
        for name in ["alert_condition_id", "severity", "slo_window"] {
            let mut s = slo();
            s.labels = LabelSet::from_pairs([("team", "api"), (name, "x")]).expect("labels");
            assert_eq!(field(&s), format!("slos[api].labels[{name}]"));
        }
        let mut s = slo();
        s.labels = LabelSet::from_pairs([("sloth", "x"), ("team_slo_x", "y")]).expect("labels");
        assert_eq!(s.validate(), Ok(()));

        let mut s = slo();
        s.sli = Sli::Events {
            good: " ".into(),
            total: TOTAL.into(),
        };
        assert_eq!(field(&s), "slos[api].sli.good");
        s.sli = Sli::Events {
            good: GOOD.into(),
            total: "sum(rate(http_requests_total[5m]))".into(),
        };
        assert_eq!(field(&s), "slos[api].sli.total");
        s.sli = Sli::ErrorRatio("errors[{{ .window }}]".into());
        assert_eq!(field(&s), "slos[api].sli.error_ratio");

        let mut s = slo();
        s.endpoints.push(s.endpoints[0].clone());
        assert_eq!(field(&s), "slos[api].endpoints[1].id");
        let mut s = slo();
        s.endpoints[0].throttle.group_interval = Some(Duration::ZERO);
        assert_eq!(field(&s), "slos[api].endpoints[0].group_interval");
        assert_eq!(
            s.validate().map_err(|e| e.to_string()),
            Err(
                "slos[api].endpoints[0].group_interval: group_interval cannot be zero, got \"0s\""
                    .into()
            )
        );
    }

    #[test]
    fn reading_names_every_field() {
        let sli = r#""sli": {"error_ratio": "rate(errors[{{.window}}])"}"#;
        let cases = [
            (format!(r#"{{"tenant": "t", "objective": 99, {sli}}}"#), "slos[].id: missing required value"),
            (format!(r#"{{"id": "-a", "tenant": "t", "objective": 99, {sli}}}"#), "slos[-a].id: 1 to 128 characters"),
            (format!(r#"{{"id": "a", "objective": 99, {sli}}}"#), "slos[a].tenant: missing required value"),
            (
                format!(r#"{{"id": "a", "tenant": "a/b", "objective": 99, {sli}}}"#),
                "slos[a].tenant: tenant ID contains unsupported character '/'",
            ),
            (format!(r#"{{"id": "a", "tenant": "t", {sli}}}"#), "slos[a].objective: missing required value"),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 0, {sli}}}"#),
                "slos[a].objective: a percentage strictly between 0 and 100, such as 99.9, got \"0\"",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, "window": "1h", {sli}}}"#),
                "slos[a].window: a window from 1w to 90d, got \"1h\"",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, "labels": {{"slo_x": "1"}}, {sli}}}"#),
                "slos[a].labels[slo_x]: no label starting with slo_: the SLO's rules set those",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, "labels": {{"severity": "page"}}, {sli}}}"#),
                "slos[a].labels[severity]: no severity label: it is set from the SLO's severity",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, "labels": {{"alert_condition_id": "x"}}, {sli}}}"#),
                "slos[a].labels[alert_condition_id]: no alert_condition_id label: it is set from the SLO's id",
            ),
            (r#"{"id": "a", "tenant": "t", "objective": 99}"#.into(), "slos[a].sli: missing required value"),
            (
                r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {}}"#.into(),
                "slos[a].sli: exactly one form: good and total, or error_ratio, got \"\"",
            ),
            (
                r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {"good": "g[{{.window}}]", "total": "t[{{.window}}]", "error_ratio": "e[{{.window}}]"}}"#.into(),
                "slos[a].sli: exactly one form: good and total, or error_ratio, got \"good, total, error_ratio\"",
            ),
            (
                r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {"good": "x", "error_ratio": "y"}}"#.into(),
                "slos[a].sli: exactly one form: good and total, or error_ratio, got \"good, error_ratio\"",
            ),
            (
                r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {"good": "g[{{.window}}]"}}"#.into(),
                "slos[a].sli.total: missing required value",
            ),
            (
                r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {"total": "t[{{.window}}]"}}"#.into(),
                "slos[a].sli.good: missing required value",
            ),
            (
                r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {"error_ratio": ""}}"#.into(),
                "slos[a].sli.error_ratio: missing required value",
            ),
            (
                r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {"good": "g[5m]", "total": "t[{{.window}}]"}}"#.into(),
                "slos[a].sli.good: a PromQL template holding {{.window}} where the range goes, got \"g[5m]\"",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, {sli}, "endpoints": ["a b"]}}"#),
                "slos[a].endpoints[0].id: 1 to 128 characters",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, {sli}, "endpoints": [{{"group_wait": "1m"}}]}}"#),
                "slos[a].endpoints[0].id: missing required value",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, {sli}, "endpoints": ["p", {{"id": "-p"}}]}}"#),
                "slos[a].endpoints[1].id: 1 to 128 characters",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, {sli}, "endpoints": [{{"id": "p", "wait": "1m"}}]}}"#),
                "slos[a].endpoints[0]: unknown field `wait`",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, {sli}, "endpoints": [{{"id": "p", "group_wait": "soon"}}]}}"#),
                "slos[a].endpoints[0]: not a valid duration string: \"soon\"",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, {sli}, "endpoints": [{{"id": "p", "repeat_interval": "0s"}}]}}"#),
                "slos[a].endpoints[0].repeat_interval: repeat_interval cannot be zero",
            ),
            (
                format!(r#"{{"id": "a", "tenant": "t", "objective": 99, {sli}, "endpoints": ["p", "p"]}}"#),
                "slos[a].endpoints[1].id: each endpoint attached once",
            ),
        ];
        for (json, want) in cases {
            let err = read_error(&json);
            assert!(
                err.starts_with(want),
                "{json}\n  wanted: {want}\n  got:    {err}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = read_error(
            r#"{"id": "a", "tenant": "t", "objective": 99, "throttle": {}, "sli": {"error_ratio": "e[{{.window}}]"}}"#,
        );
        assert!(
            err.starts_with("unknown field `throttle`, expected one of `id`"),
            "{err}"
        );
        let err = read_error(
            r#"{"id": "a", "tenant": "t", "objective": 99, "sli": {"error_query": "e[{{.window}}]"}}"#,
        );
        assert!(
            err.starts_with(
                "unknown field `error_query`, expected one of `good`, `total`, `error_ratio`"
            ),
            "{err}"
        );
    }

    #[test]
    fn error_ratio_queries_render_the_window() {
        let events = Sli::Events {
            good: GOOD.into(),
            total: format!("  {TOTAL}\n"),
        };
        assert_eq!(
            events.error_ratio_query("30m"),
            r#"1 - ((sum(rate(http_requests_total{code!~"5.."}[30m]))) / (sum(rate(http_requests_total[30m]))))"#
        );
        let ratio = Sli::ErrorRatio("sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))".into());
        assert_eq!(
            ratio.error_ratio_query("3d"),
            "(sum(rate(e[3d])) / sum(rate(t[3d])))"
        );
        for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
            let query = ratio.error_ratio_query(window);
            assert!(
                !query.contains(WINDOW_PLACEHOLDER) && query.contains(window),
                "{query}"
            );
        }
        assert_eq!(Sli::ErrorRatio("x".into()).validate().map_err(|e| e.to_string()), Err(
            "sli.error_ratio: a PromQL template holding {{.window}} where the range goes, got \"x\"".into()
        ));
    }

    #[test]
    fn facts() {
        let mut s = slo();
        assert!((s.error_budget() - 0.001).abs() < 1e-12);
        s.objective = 99.0;
        assert!((s.error_budget() - 0.01).abs() < 1e-12);
        assert_eq!(s.display_name(), "api");
        s.name = "API".into();
        assert_eq!(s.display_name(), "API");
        assert!(s.is_enabled());
        s.severity = Severity::Critical;
        s.labels = LabelSet::from_pairs([("team", "api")]).expect("labels");
        assert_eq!(
            s.alert_labels().to_string(),
            r#"{alert_condition_id="api", severity="critical", team="api"}"#
        );
        let ids: Vec<&str> = s.endpoint_ids().map(EndpointId::as_str).collect();
        assert_eq!(ids, ["pager"]);
    }

    #[test]
    fn serialises_in_a_fixed_order_without_defaults() {
        let minimal = serde_json::to_string(&slo()).expect("json");
        assert_eq!(
            minimal,
            r#"{"id":"api","tenant":"cluster-a","objective":99.9,"severity":"warning","sli":{"good":"sum(rate(http_requests_total{code!~\"5..\"}[{{.window}}]))","total":"sum(rate(http_requests_total[{{.window}}]))"},"endpoints":["pager"]}"#
        );
        let mut full = slo();
        full.name = "API".into();
        full.description = "Requests that do not fail".into();
        full.window = days(28);
        full.severity = Severity::Critical;
        full.labels = LabelSet::from_pairs([("team", "api")]).expect("labels");
        full.annotations = LabelSet::from_pairs([("runbook_url", "https://r")]).expect("ann");
        full.sli = Sli::ErrorRatio("e[{{.window}}]".into());
        full.endpoints[0].throttle.group_wait = Some(Duration::from_secs(30).expect("30s"));
        full.disabled = true;
        let json = serde_json::to_string(&full).expect("json");
        assert_eq!(
            json,
            r#"{"id":"api","name":"API","description":"Requests that do not fail","tenant":"cluster-a","objective":99.9,"window":"4w","severity":"critical","labels":{"team":"api"},"annotations":{"runbook_url":"https://r"},"sli":{"error_ratio":"e[{{.window}}]"},"endpoints":[{"id":"pager","group_wait":"30s"}],"disabled":true}"#
        );
        assert_eq!(serde_json::from_str::<Slo>(&json).expect("reads"), full);
        let yaml = yaml_serde::to_string(&full).expect("yaml");
        assert_eq!(yaml_serde::from_str::<Slo>(&yaml).expect("reads"), full);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn generated_slos_are_valid(s in strategies::slo()) {
            prop_assert_eq!(s.validate(), Ok(()));
        }

        #[test]
        fn slos_round_trip(s in strategies::slo()) {
            let json = serde_json::to_string(&s).expect("to json");
            prop_assert_eq!(&serde_json::from_str::<Slo>(&json).expect("from json"), &s);
            let yaml = yaml_serde::to_string(&s).expect("to yaml");
            let back: Slo = yaml_serde::from_str(&yaml)
                .map_err(|err| TestCaseError::fail(format!("{err}\n{yaml}")))?;
            prop_assert_eq!(back, s);
        }
    }
}
