//! The data plane: endpoints, conditions and SLOs as typed, validated, revisioned
//! objects over a [`ConfigStore`](crate::store::ConfigStore), and whole specs imported atomically.
//!
//! What to write is decided by pure functions ([`plan_spec`], [`restore_secrets`],
//! [`referencing`]); [`DataPlane`] reads the store, decides, and writes one transaction
//! whose checks make the decision safe against concurrent writers: a condition's write
//! checks that its endpoints exist; an endpoint's deletion checks that no condition or SLO
//! changed since it looked for references; a spec import checks that no collection
//! changed since it was read. A transaction that fails such an internal check (not the
//! client's own precondition) is re-planned and retried.

use std::collections::{BTreeMap, BTreeSet};

use alert_core::{AlertCondition, AlertEndpoint, AlertingSpec, EndpointId, Secret, Slo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::{
    Expect, Key, Kind, Listing, Op, Record, Revision, SharedStore, StoreError, Txn,
};

/// How often an operation is re-planned when a concurrent writer invalidated what it
/// read.
const REPLANS: usize = 8;

/// An object kind the data plane serves.
pub trait Document: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Its collection.
    const KIND: Kind;
    /// Its id.
    fn id(&self) -> &str;
    /// The endpoints it attaches.
    fn references(&self) -> Vec<EndpointId>;
    /// A copy safe to show: every secret replaced by `<secret>`.
    fn shown(&self) -> Self {
        self.clone()
    }
}

impl Document for AlertEndpoint {
    const KIND: Kind = Kind::Endpoint;
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn references(&self) -> Vec<EndpointId> {
        Vec::new()
    }
    fn shown(&self) -> Self {
        self.redacted()
    }
}

impl Document for AlertCondition {
    const KIND: Kind = Kind::Condition;
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn references(&self) -> Vec<EndpointId> {
        self.endpoint_ids().cloned().collect()
    }
}

impl Document for Slo {
    const KIND: Kind = Kind::Slo;
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn references(&self) -> Vec<EndpointId> {
        self.endpoint_ids().cloned().collect()
    }
}

/// An object with the revision of its last write (its ETag).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The object.
    pub value: T,
    /// Its modification revision.
    pub revision: Revision,
}

/// A client's condition on a write (`If-Match`, `If-None-Match: *`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precondition {
    /// None: create or replace.
    #[default]
    None,
    /// The object must be at this revision.
    IfMatch(Revision),
    /// The object must not exist (create only).
    IfNoneMatch,
    /// The object must exist (`If-Match: *`).
    IfExists,
}

impl Precondition {
    fn expect(self) -> Expect {
        match self {
            Precondition::None => Expect::Any,
            Precondition::IfMatch(r) => Expect::At(r),
            Precondition::IfNoneMatch => Expect::Absent,
            Precondition::IfExists => Expect::Exists,
        }
    }
}

/// Filters of the condition listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionFilter {
    /// Only this tenant's.
    pub tenant: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this kind (`prometheus`, `cpu`, `agent_disconnect`, ..., `external`).
    pub kind: Option<String>,
}

impl ConditionFilter {
    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.tenant.is_none() && self.severity.is_none() && self.kind.is_none()
    }

    /// Whether `condition` passes.
    pub fn admits(&self, condition: &AlertCondition) -> bool {
        self.tenant
            .as_deref()
            .is_none_or(|t| condition.tenant.as_ref().is_some_and(|c| c.as_str() == t))
            && self
                .severity
                .as_deref()
                .is_none_or(|s| condition.severity.as_str() == s)
            && self
                .kind
                .as_deref()
                .is_none_or(|k| condition.kind.name() == k)
    }
}

/// What importing a spec does (or would do, on a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpecPlan {
    /// The revision the current state was read at.
    pub based_on: Revision,
    /// The revision the import was written at (`None` on a dry run or when nothing
    /// changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
    /// Objects the spec adds (`endpoints/pager`, ...).
    pub created: Vec<String>,
    /// Objects it changes.
    pub updated: Vec<String>,
    /// Objects it removes.
    pub deleted: Vec<String>,
    /// How many objects stay as they are.
    pub unchanged: usize,
}

/// The stored state of every collection at one revision.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The revision.
    pub revision: Revision,
    /// Every document by key.
    pub records: BTreeMap<Key, Record>,
}

/// Decides what replaces the stored `state` with `spec`: the plan and the operations
/// (each expecting the revision it was read at, plus an `Unchanged` guard per collection
/// so that nothing created meanwhile survives). `spec` must already carry its real
/// secrets (see [`restore_secrets`]).
pub fn plan_spec(state: &State, spec: &AlertingSpec) -> Result<(SpecPlan, Vec<Op>)> {
    let mut desired: BTreeMap<Key, String> = BTreeMap::new();
    fn add<T: Document>(desired: &mut BTreeMap<Key, String>, items: &[T]) -> Result<()> {
        for item in items {
            let key = Key::new(T::KIND, item.id())?;
            let json =
                serde_json::to_string(item).map_err(|e| Error::Invalid(format!("{key}: {e}")))?;
            desired.insert(key, json);
        }
        Ok(())
    }
    add(&mut desired, &spec.endpoints)?;
    add(&mut desired, &spec.conditions)?;
    add(&mut desired, &spec.slos)?;

    let mut plan = SpecPlan {
        based_on: state.revision,
        ..SpecPlan::default()
    };
    let mut ops = Vec::new();
    for (key, json) in &desired {
        match state.records.get(key) {
            None => {
                plan.created.push(key.to_string());
                ops.push(Op::Put {
                    key: key.clone(),
                    value: json.clone(),
                    expect: Expect::Absent,
                });
            }
            Some(record) if &record.value == json => plan.unchanged += 1,
            Some(record) => {
                plan.updated.push(key.to_string());
                ops.push(Op::Put {
                    key: key.clone(),
                    value: json.clone(),
                    expect: Expect::At(record.mod_revision),
                });
            }
        }
    }
    for (key, record) in &state.records {
        if !desired.contains_key(key) {
            plan.deleted.push(key.to_string());
            ops.push(Op::Delete {
                key: key.clone(),
                expect: Expect::At(record.mod_revision),
            });
        }
    }
    if !ops.is_empty() {
        for kind in Kind::ALL {
            ops.push(Op::Unchanged {
                kind,
                since: state.revision,
            });
        }
    }
    Ok((plan, ops))
}

/// Puts the stored secrets back where `new` (an endpoint as JSON) says `<secret>`, so a
/// client can GET an object, edit one field and PUT it back. `stored` is the stored
/// object. A `<secret>` where nothing secret is stored is an error naming the path.
///
/// ```
/// use alert_gateway::data_plane::restore_secrets;
/// use serde_json::json;
/// let stored = serde_json::from_value(json!({"id": "pd", "pagerduty": {"routing_key": "real"}}))?;
/// let mut new = json!({"id": "pd", "name": "Pager", "pagerduty": {"routing_key": "<secret>"}});
/// restore_secrets(&mut new, "pd", Some(&stored))?;
/// assert_eq!(new["pagerduty"]["routing_key"], "real");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn restore_secrets(new: &mut Value, id: &str, stored: Option<&AlertEndpoint>) -> Result<()> {
    let plain = match stored {
        Some(s) => serde_json::to_value(s).map_err(|e| Error::Invalid(e.to_string()))?,
        None => Value::Null,
    };
    let shown = match stored {
        Some(s) => serde_json::to_value(s.redacted()).map_err(|e| Error::Invalid(e.to_string()))?,
        None => Value::Null,
    };
    let mut path = format!("endpoints[{id}]");
    walk(new, &plain, &shown, &mut path)
}

fn walk(new: &mut Value, plain: &Value, shown: &Value, path: &mut String) -> Result<()> {
    match new {
        Value::String(s) if s == Secret::REDACTED => {
            if shown.as_str() == Some(Secret::REDACTED)
                && let Some(real) = plain.as_str()
            {
                *s = real.to_owned();
                Ok(())
            } else {
                Err(Error::Invalid(format!(
                    "{path}: {:?} keeps a stored secret, but none is stored here",
                    Secret::REDACTED
                )))
            }
        }
        Value::Object(map) => {
            for (name, value) in map.iter_mut() {
                let len = path.len();
                path.push('.');
                path.push_str(name);
                walk(value, &plain[name.as_str()], &shown[name.as_str()], path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, value) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(value, &plain[i], &shown[i], path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The conditions and SLOs in `state` that attach `endpoint`, as keys.
pub fn referencing(state: &State, endpoint: &str) -> Result<Vec<Key>> {
    let mut out = Vec::new();
    for (key, record) in &state.records {
        let refs = match key.kind {
            Kind::Condition => decode::<AlertCondition>(record)?.references(),
            Kind::Slo => decode::<Slo>(record)?.references(),
            _ => continue,
        };
        if refs.iter().any(|e| e.as_str() == endpoint) {
            out.push(key.clone());
        }
    }
    Ok(out)
}

/// Decodes a stored document.
pub fn decode<T: Document>(record: &Record) -> Result<T> {
    serde_json::from_str(&record.value).map_err(|e| {
        Error::Store(StoreError::Data(format!(
            "{}: stored document does not read: {e}",
            record.key
        )))
    })
}

/// Reads an object of kind `T` from a JSON body for `id`: fills in a missing `id`, and
/// refuses one that differs. Errors name the field path.
pub fn parse_body<T: Document>(id: &str, mut body: Value) -> Result<T> {
    let Value::Object(map) = &mut body else {
        return Err(Error::BadRequest(format!(
            "{}[{id}]: expected a JSON object",
            T::KIND
        )));
    };
    match map.get("id") {
        None => {
            map.insert("id".to_owned(), Value::String(id.to_owned()));
        }
        Some(Value::String(given)) if given == id => {}
        Some(given) => {
            return Err(Error::Invalid(format!(
                "{}[{id}].id: {given} differs from the id in the path",
                T::KIND
            )));
        }
    }
    serde_json::from_value(body).map_err(|e| Error::Invalid(e.to_string()))
}

/// Typed access to the store.
#[derive(Debug, Clone)]
pub struct DataPlane {
    store: SharedStore,
}

impl DataPlane {
    /// The data plane over `store`.
    pub fn new(store: SharedStore) -> DataPlane {
        DataPlane { store }
    }

    /// The store.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// One object.
    pub async fn get<T: Document>(&self, id: &str) -> Result<Versioned<T>> {
        let key = Key::new(T::KIND, id)?;
        let record = self.store.get(&key).await?.ok_or(Error::NotFound(key))?;
        Ok(Versioned {
            value: decode(&record)?,
            revision: record.mod_revision,
        })
    }

    /// Every object of a kind, as stored, at the listing's revision.
    pub async fn list_raw(&self, kind: Kind) -> Result<Listing> {
        Ok(self.store.list(kind, None).await?)
    }

    /// Every object of a kind, decoded.
    pub async fn list<T: Document>(&self) -> Result<(Revision, Vec<Versioned<T>>)> {
        let listing = self.store.list(T::KIND, None).await?;
        let items = listing
            .records
            .iter()
            .map(|r| {
                Ok(Versioned {
                    value: decode(r)?,
                    revision: r.mod_revision,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((listing.revision, items))
    }

    /// Every collection at one revision.
    pub async fn state(&self) -> Result<State> {
        let first = self.store.list(Kind::ALL[0], None).await?;
        let revision = first.revision;
        let mut records = BTreeMap::new();
        for r in first.records {
            records.insert(r.key.clone(), r);
        }
        for kind in &Kind::ALL[1..] {
            for r in self.store.list(*kind, Some(revision)).await?.records {
                records.insert(r.key.clone(), r);
            }
        }
        Ok(State { revision, records })
    }

    /// The whole state as a spec (secrets as stored: redact before showing).
    pub async fn spec(&self) -> Result<(Revision, AlertingSpec)> {
        let state = self.state().await?;
        let mut spec = AlertingSpec::default();
        for (key, record) in &state.records {
            match key.kind {
                Kind::Endpoint => spec.endpoints.push(decode(record)?),
                Kind::Condition => spec.conditions.push(decode(record)?),
                Kind::Slo => spec.slos.push(decode(record)?),
                Kind::Tenant | Kind::Agent | Kind::Evaluation => {}
            }
        }
        Ok((state.revision, spec))
    }

    /// Creates or replaces an object from a JSON body; answers the stored object and
    /// whether it was created.
    pub async fn put<T: Document>(
        &self,
        id: &str,
        body: Value,
        precondition: Precondition,
    ) -> Result<(Versioned<T>, bool)> {
        let key = Key::new(T::KIND, id)?;
        for _ in 0..REPLANS {
            let stored = self.store.get(&key).await?;
            let mut attempt = body.clone();
            if T::KIND == Kind::Endpoint {
                let stored: Option<AlertEndpoint> = stored.as_ref().map(decode).transpose()?;
                restore_secrets(&mut attempt, id, stored.as_ref())?;
            }
            let value = parse_body::<T>(id, attempt)?;
            match self
                .put_parsed(&key, value, precondition, stored.is_none())
                .await
            {
                // An endpoint it attaches was deleted meanwhile: look again.
                Err(Error::Store(StoreError::Conflict { key: k, .. })) if k != key => continue,
                other => return other,
            }
        }
        Err(Error::Store(StoreError::Unavailable(format!(
            "{key}: too many concurrent changes, try again"
        ))))
    }

    async fn put_parsed<T: Document>(
        &self,
        key: &Key,
        value: T,
        precondition: Precondition,
        created: bool,
    ) -> Result<(Versioned<T>, bool)> {
        let json = serde_json::to_string(&value).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut ops = vec![Op::Put {
            key: key.clone(),
            value: json,
            expect: precondition.expect(),
        }];
        let refs = value.references();
        for (i, endpoint) in refs.iter().enumerate() {
            let ekey = Key::new(Kind::Endpoint, endpoint.as_str())?;
            if self.store.get(&ekey).await?.is_none() {
                return Err(Error::Invalid(format!(
                    "{}[{}].endpoints[{i}].id: no endpoint {:?} exists",
                    key.kind,
                    key.id,
                    endpoint.as_str()
                )));
            }
            ops.push(Op::Check {
                key: ekey,
                expect: Expect::Exists,
            });
        }
        // Conditions and SLOs share the alert_condition_id label: one id, one owner.
        let other = match key.kind {
            Kind::Condition => Some(Kind::Slo),
            Kind::Slo => Some(Kind::Condition),
            _ => None,
        };
        if let Some(other) = other {
            let okey = Key::new(other, &key.id)?;
            ops.push(Op::Check {
                key: okey,
                expect: Expect::Absent,
            });
        }
        match self.store.txn(Txn::new(ops)).await {
            Ok(revision) => Ok((Versioned { value, revision }, created)),
            Err(StoreError::Conflict {
                key: k,
                expected,
                actual,
            }) if &k == key => Err(precondition_failed(k, expected, actual)),
            Err(StoreError::Conflict { key: k, .. }) if k.kind != Kind::Endpoint => {
                Err(Error::Conflict(format!(
                    "{}[{}].id: the id is taken by {k}; conditions and SLOs share the alert_condition_id label",
                    key.kind, key.id
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes an object. An endpoint that conditions or SLOs attach is refused with a
    /// conflict naming them, unless `detach` removes it from them in the same transaction.
    pub async fn delete(
        &self,
        kind: Kind,
        id: &str,
        precondition: Precondition,
        detach: bool,
    ) -> Result<Revision> {
        let key = Key::new(kind, id)?;
        if precondition == Precondition::IfNoneMatch {
            return Err(Error::BadRequest(
                "If-None-Match: * does not apply to a deletion".to_owned(),
            ));
        }
        for _ in 0..REPLANS {
            let mut ops = Vec::new();
            if kind == Kind::Endpoint {
                let state = self.state().await?;
                if !state.records.contains_key(&key) {
                    return Err(Error::NotFound(key));
                }
                let users = referencing(&state, id)?;
                if !users.is_empty() && !detach {
                    let names: Vec<String> = users.iter().map(Key::to_string).collect();
                    return Err(Error::Conflict(format!(
                        "endpoints[{id}] is attached by {}; detach it first or delete with ?detach=true",
                        names.join(", ")
                    )));
                }
                for user in &users {
                    let Some(record) = state.records.get(user) else {
                        continue;
                    };
                    let value = match user.kind {
                        Kind::Condition => {
                            let mut c: AlertCondition = decode(record)?;
                            c.endpoints.retain(|a| a.id.as_str() != id);
                            serde_json::to_string(&c)
                        }
                        _ => {
                            let mut s: Slo = decode(record)?;
                            s.endpoints.retain(|a| a.id.as_str() != id);
                            serde_json::to_string(&s)
                        }
                    }
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                    ops.push(Op::Put {
                        key: user.clone(),
                        value,
                        expect: Expect::At(record.mod_revision),
                    });
                }
                ops.push(Op::Unchanged {
                    kind: Kind::Condition,
                    since: state.revision,
                });
                ops.push(Op::Unchanged {
                    kind: Kind::Slo,
                    since: state.revision,
                });
            }
            ops.push(Op::Delete {
                key: key.clone(),
                expect: precondition.expect(),
            });
            match self.store.txn(Txn::new(ops)).await {
                Ok(r) => return Ok(r),
                Err(StoreError::Conflict {
                    key: k,
                    actual: None,
                    ..
                }) if k == key => return Err(Error::NotFound(key)),
                Err(StoreError::Conflict {
                    key: k,
                    expected,
                    actual,
                }) if k == key => return Err(precondition_failed(k, expected, actual)),
                Err(StoreError::Conflict { .. } | StoreError::Changed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Store(StoreError::Unavailable(format!(
            "{key}: too many concurrent changes, try again"
        ))))
    }

    /// Replaces the whole state with `spec` atomically (or, on a dry run, only says what
    /// that would do). Endpoints may say `<secret>` to keep a stored secret.
    pub async fn apply_spec(&self, spec: Value, dry_run: bool) -> Result<SpecPlan> {
        for _ in 0..REPLANS {
            let state = self.state().await?;
            let spec = restore_spec_secrets(spec.clone(), &state)?;
            let (mut plan, ops) = plan_spec(&state, &spec)?;
            if dry_run || ops.is_empty() {
                return Ok(plan);
            }
            match self.store.txn(Txn::new(ops)).await {
                Ok(r) => {
                    plan.revision = Some(r);
                    return Ok(plan);
                }
                Err(StoreError::Conflict { .. } | StoreError::Changed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Store(StoreError::Unavailable(
            "spec: too many concurrent changes, try again".to_owned(),
        )))
    }
}

fn precondition_failed(key: Key, expected: Expect, actual: Option<Revision>) -> Error {
    let reason = match (expected, actual) {
        (Expect::Absent, Some(r)) => format!("it exists (revision {r})"),
        (Expect::At(want), Some(r)) => format!("it is at revision {r}, not {want}"),
        (_, None) => "it does not exist".to_owned(),
        (_, Some(r)) => format!("it is at revision {r}"),
    };
    Error::PreconditionFailed { key, reason }
}

/// Reads a spec body, putting stored secrets back where endpoints say `<secret>`.
fn restore_spec_secrets(mut spec: Value, state: &State) -> Result<AlertingSpec> {
    if !spec.is_object() {
        return Err(Error::BadRequest("spec: expected a mapping".to_owned()));
    }
    if let Some(Value::Array(endpoints)) = spec.get_mut("endpoints") {
        for endpoint in endpoints.iter_mut() {
            let id = endpoint
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let stored = Key::new(Kind::Endpoint, &id)
                .ok()
                .and_then(|k| state.records.get(&k))
                .map(decode::<AlertEndpoint>)
                .transpose()?;
            restore_secrets(endpoint, &id, stored.as_ref())?;
        }
    }
    serde_json::from_value(spec).map_err(|e| Error::Invalid(e.to_string()))
}

/// The ids of a spec's objects, by collection (for messages and tests).
pub fn spec_keys(spec: &AlertingSpec) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.extend(
        spec.endpoints
            .iter()
            .map(|e| format!("endpoints/{}", e.id.as_str())),
    );
    out.extend(
        spec.conditions
            .iter()
            .map(|c| format!("conditions/{}", c.id.as_str())),
    );
    out.extend(spec.slos.iter().map(|s| format!("slos/{}", s.id.as_str())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state_of(spec: &AlertingSpec, revision: Revision) -> State {
        let (_, ops) = plan_spec(&State::default(), spec).unwrap();
        let mut records = BTreeMap::new();
        for op in ops {
            if let Op::Put { key, value, .. } = op {
                records.insert(
                    key.clone(),
                    Record {
                        key,
                        value,
                        create_revision: revision,
                        mod_revision: revision,
                    },
                );
            }
        }
        State { revision, records }
    }

    fn spec(v: Value) -> AlertingSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_spec_plan_creates_updates_and_deletes() {
        let before = spec(json!({
            "endpoints": [{"id": "pager", "pagerduty": {"routing_key": "k"}},
                          {"id": "old", "webhook": {"url": "http://x/"}}],
            "conditions": [{"id": "up", "prometheus": {"query": "up == 0"}, "endpoints": ["pager"]}]
        }));
        let state = state_of(&before, 5);
        let after = spec(json!({
            "endpoints": [{"id": "pager", "pagerduty": {"routing_key": "k"}}],
            "conditions": [{"id": "up", "prometheus": {"query": "up == 1"}, "endpoints": ["pager"]},
                           {"id": "new", "prometheus": {"query": "x"}}]
        }));
        let (plan, ops) = plan_spec(&state, &after).unwrap();
        assert_eq!(plan.created, ["conditions/new"]);
        assert_eq!(plan.updated, ["conditions/up"]);
        assert_eq!(plan.deleted, ["endpoints/old"]);
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.based_on, 5);
        assert!(ops.contains(&Op::Unchanged {
            kind: Kind::Endpoint,
            since: 5
        }));
        assert!(ops.iter().any(|op| matches!(
            op,
            Op::Delete {
                expect: Expect::At(5),
                ..
            }
        )));
        // The same spec again changes nothing, and writes nothing.
        let (plan, ops) = plan_spec(&state, &before).unwrap();
        assert_eq!(plan.unchanged, 3);
        assert!(ops.is_empty());
    }

    #[test]
    fn secrets_are_kept_only_where_stored() {
        let stored: AlertEndpoint = serde_json::from_value(json!({
            "id": "s", "slack": {"api_url": "https://hooks.slack.com/services/T/B/X", "channel": "#a"}
        }))
        .unwrap();
        let mut new = serde_json::to_value(stored.redacted()).unwrap();
        new["slack"]["channel"] = json!("#b");
        restore_secrets(&mut new, "s", Some(&stored)).unwrap();
        let back: AlertEndpoint = serde_json::from_value(new).unwrap();
        assert_eq!(back.kind, {
            let mut k = stored.kind.clone();
            if let alert_core::EndpointKind::Slack(s) = &mut k {
                s.channel = Some("#b".into());
            }
            k
        });

        let mut fresh = json!({"id": "s", "slack": {"api_url": "<secret>"}});
        let err = restore_secrets(&mut fresh, "s", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "endpoints[s].slack.api_url: \"<secret>\" keeps a stored secret, but none is stored here"
        );
        let mut elsewhere =
            json!({"id": "s", "slack": {"api_url": "https://h/x", "channel": "<secret>"}});
        assert!(restore_secrets(&mut elsewhere, "s", Some(&stored)).is_err());
    }

    #[test]
    fn bodies_take_the_path_id() {
        let c: AlertCondition = parse_body("up", json!({"prometheus": {"query": "up"}})).unwrap();
        assert_eq!(c.id.as_str(), "up");
        let err = parse_body::<AlertCondition>("up", json!({"id": "down"})).unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(err.to_string().starts_with("conditions[up].id: "), "{err}");
        let err = parse_body::<AlertCondition>("up", json!([1])).unwrap_err();
        assert_eq!(err.status(), 400);
        let err = parse_body::<AlertCondition>(
            "up",
            json!({"endpoints": [{"id": "p", "repeat_interval": "0s"}]}),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("conditions[up].endpoints[0].repeat_interval: "),
            "{err}"
        );
    }

    #[test]
    fn references_are_found() {
        let s = spec(json!({
            "endpoints": [{"id": "pager", "pagerduty": {"routing_key": "k"}}],
            "conditions": [{"id": "a", "prometheus": {"query": "x"}, "endpoints": ["pager"]},
                           {"id": "b", "prometheus": {"query": "y"}}]
        }));
        let state = state_of(&s, 1);
        assert_eq!(
            referencing(&state, "pager").unwrap(),
            [Key::new(Kind::Condition, "a").unwrap()]
        );
        assert!(referencing(&state, "none").unwrap().is_empty());
    }
}
