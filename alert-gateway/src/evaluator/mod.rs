//! The evaluator deployment (`--target evaluator`): the conditions the gateway itself
//! evaluates — `agent_disconnect` (an agent of the condition's tenant has not sent a
//! heartbeat for `timeout`) and `component_health` (a named component stays unhealthy
//! for `for`, as the tenant's agents report their capabilities or a health graph judges
//! its nodes) — turned into alerts in the tenant's Alertmanager, carrying
//! `alert_condition_id` so that the control plane's routes deliver them.
//!
//! Every replica takes heartbeats ([`agents`]: group commit into the store) and keeps a
//! [`View`] of the store (the conditions, the tenants, the agents' records) through a
//! watch. One replica leads (election [`ELECTION`]): each pass it calls the pure
//! [`judge::judge`] and carries out the verdict — states written under its fence, alerts
//! posted, firing ones re-sent every `resend` with `endsAt` four resends ahead (as
//! Prometheus does), resolved ones posted with `endsAt` = now. It wakes at the earliest
//! deadline (a disconnect's last heartbeat + timeout), at every store change, and at
//! least every `interval`.
//!
//! **Timers survive failover**: a disconnect's deadline comes from the heartbeat in the
//! store; a component's `unhealthy_since` and every alert's `firing_since` are written
//! to the store (`evaluations/...`) before they matter. A new leader reads them and
//! fires on the original schedule, and resolves what the old leader fired.
//!
//! | route | what |
//! |---|---|
//! | `PUT /api/v1/agents/{tenant}/{agent}/heartbeat` | an agent reports in; optional JSON body `{"capabilities": [{"name", "healthy", "message"}]}`; 200 with the stored record once durable; 404 for a tenant no condition or SLO names |
//! | `GET /api/v1/agents[?tenant=]` | the agents' last reports |
//! | `GET /api/v1/evaluations[?condition=]` | what the evaluator keeps: pending and firing subjects |

pub mod agents;
pub mod judge;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_core::{AlertCondition, ConditionId, EvaluatedBy, LabelSet, Slo, TenantId, Timestamp};
use alert_cortex_adapter::PostableAlert;
use alert_health_graph::State;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::json;
use tokio::sync::Notify;

pub use agents::{HeartbeatBody, HeartbeatError, Ingest};
pub use judge::{AgentRecord, CapabilityHealth, Health, SubjectState};

use crate::api::{error_response, query_params, serialized};
use crate::election::{Elector, Leadership, TermMark, run_while_leading};
use crate::functional::AlertmanagerTenancy;
use crate::metrics::Metrics;
use crate::store::{Expect, Key, Kind, Op, Record, Revision, SharedStore, StoreError, Txn};

/// The evaluator's election.
pub const ELECTION: &str = "evaluator";

/// Writes per store transaction (etcd refuses more than 128 operations in one).
const OPS_PER_TXN: usize = 100;

/// How long the leader lets store changes gather before a pass.
const CHANGE_SETTLE: Duration = Duration::from_millis(250);

/// How the evaluator works.
#[derive(Debug, Clone)]
pub struct EvaluatorOptions {
    /// The longest pause between passes (deadlines and store changes wake it sooner).
    pub interval: Duration,
    /// How often a firing alert is posted again.
    pub resend: Duration,
    /// A health graph whose nodes are components, and how often it is evaluated.
    pub graph: Option<GraphOptions>,
}

impl Default for EvaluatorOptions {
    /// A pass at least every second, resend every minute, no graph.
    fn default() -> Self {
        EvaluatorOptions {
            interval: Duration::from_secs(1),
            resend: Duration::from_secs(60),
            graph: None,
        }
    }
}

/// A health graph (alert-health-graph's YAML) evaluated by the leader.
#[derive(Debug, Clone)]
pub struct GraphOptions {
    /// The graph file's text.
    pub text: String,
    /// Its name, for errors.
    pub file: String,
    /// How often it is evaluated.
    pub interval: Duration,
}

/// What every replica knows of the store.
#[derive(Debug, Default)]
struct ViewState {
    /// Whether the first read finished.
    ready: bool,
    /// The revision of the last change applied (of the first read, before any).
    revision: Revision,
    /// Enabled conditions the gateway evaluates, by id.
    conditions: BTreeMap<String, AlertCondition>,
    /// The tenant each condition or SLO names, by store key.
    named: HashMap<Key, String>,
    /// How many documents name each tenant.
    tenants: HashMap<String, usize>,
    /// Agents' records by store id.
    agents: BTreeMap<String, AgentRecord>,
}

impl ViewState {
    fn clear(&mut self) {
        *self = ViewState::default();
    }

    fn apply(&mut self, key: &Key, value: Option<&str>) {
        match key.kind {
            Kind::Condition | Kind::Slo => {
                if let Some(old) = self.named.remove(key)
                    && let Some(n) = self.tenants.get_mut(&old)
                {
                    *n -= 1;
                    if *n == 0 {
                        self.tenants.remove(&old);
                    }
                }
                if key.kind == Kind::Condition {
                    self.conditions.remove(&key.id);
                }
                let Some(value) = value else { return };
                let tenant = if key.kind == Kind::Condition {
                    match serde_json::from_str::<AlertCondition>(value) {
                        Ok(c) => {
                            let tenant = c.tenant.as_ref().map(|t| t.as_str().to_owned());
                            if c.is_enabled() && c.kind.evaluated_by() == EvaluatedBy::Gateway {
                                self.conditions.insert(key.id.clone(), c);
                            }
                            tenant
                        }
                        Err(e) => {
                            tracing::warn!(key = %key, error = %e, "evaluator: unreadable condition ignored");
                            None
                        }
                    }
                } else {
                    serde_json::from_str::<Slo>(value)
                        .ok()
                        .map(|s| s.tenant.as_str().to_owned())
                };
                if let Some(t) = tenant {
                    *self.tenants.entry(t.clone()).or_default() += 1;
                    self.named.insert(key.clone(), t);
                }
            }
            Kind::Agent => match value.map(serde_json::from_str::<AgentRecord>) {
                Some(Ok(record)) => {
                    let keep = self
                        .agents
                        .get(&key.id)
                        .is_some_and(|old| old.last_heartbeat > record.last_heartbeat);
                    if !keep {
                        self.agents.insert(key.id.clone(), record);
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(key = %key, error = %e, "evaluator: unreadable agent record ignored");
                }
                None => {
                    self.agents.remove(&key.id);
                }
            },
            _ => {}
        }
    }
}

/// A replica's view of the store, kept by a watch.
#[derive(Debug, Default)]
pub struct View {
    state: Mutex<ViewState>,
    changed: Notify,
}

impl View {
    fn lock(&self) -> std::sync::MutexGuard<'_, ViewState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a condition or an SLO names `tenant`; `None` before the first read.
    pub fn knows_tenant(&self, tenant: &str) -> Option<bool> {
        let state = self.lock();
        state.ready.then(|| state.tenants.contains_key(tenant))
    }

    /// The revision of the last change the view applied.
    fn revision(&self) -> Revision {
        self.lock().revision
    }

    /// An agent's record as last seen.
    pub fn agent(&self, id: &str) -> Option<AgentRecord> {
        self.lock().agents.get(id).cloned()
    }

    /// Keeps the view from the store until the store goes away.
    pub async fn run(self: Arc<Self>, store: SharedStore) {
        let mut pause = Duration::from_millis(200);
        loop {
            match self.follow(&store).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "evaluator: the store view is read again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// One read and the watch after it; returns `Ok` when the store closes the watch.
    async fn follow(&self, store: &SharedStore) -> Result<(), StoreError> {
        let revision = store.revision().await?;
        let mut records: Vec<Record> = Vec::new();
        for kind in [Kind::Condition, Kind::Slo, Kind::Agent] {
            records.extend(store.list(kind, Some(revision)).await?.records);
        }
        {
            let mut state = self.lock();
            state.clear();
            for r in &records {
                state.apply(&r.key, Some(&r.value));
            }
            state.ready = true;
            state.revision = revision;
        }
        self.changed.notify_waiters();
        let mut watch = store.watch(revision).await?;
        while let Some(event) = watch.next().await {
            let event = event?;
            let mut state = self.lock();
            state.revision = state.revision.max(event.revision);
            if matches!(event.key.kind, Kind::Condition | Kind::Slo | Kind::Agent) {
                state.apply(&event.key, event.value.as_deref());
                drop(state);
                self.changed.notify_waiters();
            }
        }
        Err(StoreError::Unavailable("the store closed the watch".into()))
    }
}

/// The evaluator of one replica.
pub struct Evaluator {
    store: SharedStore,
    target: Option<AlertmanagerTenancy>,
    options: EvaluatorOptions,
    metrics: Arc<Metrics>,
    holder: String,
    view: Arc<View>,
    ingest: Ingest,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("holder", &self.holder)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Evaluator {
    /// An evaluator over `store`, posting alerts to `target` (`None`: alerts go
    /// nowhere, and are logged). Starts the view and the heartbeat writer.
    pub fn start(
        store: SharedStore,
        target: Option<AlertmanagerTenancy>,
        options: EvaluatorOptions,
        metrics: Arc<Metrics>,
        holder: impl Into<String>,
    ) -> Arc<Evaluator> {
        let view = Arc::new(View::default());
        tokio::spawn(Arc::clone(&view).run(Arc::clone(&store)));
        let known_view = Arc::clone(&view);
        let ingest = Ingest::start(
            Arc::clone(&store),
            Arc::new(move |id: &str| known_view.agent(id)),
        );
        Arc::new(Evaluator {
            store,
            target,
            options,
            metrics,
            holder: holder.into(),
            view,
            ingest,
        })
    }

    /// This replica's view of the store.
    pub fn view(&self) -> &Arc<View> {
        &self.view
    }

    /// Campaigns, and evaluates while leading, until elections fail.
    pub async fn run(self: Arc<Self>, elector: Elector) -> Result<(), StoreError> {
        run_while_leading(elector, |lead| {
            let me = Arc::clone(&self);
            async move { me.lead(lead).await }
        })
        .await
    }

    /// Evaluates for one term of leadership; returns when the lead is lost.
    pub async fn lead(&self, lead: Arc<Leadership>) {
        tracing::info!(term = lead.term(), holder = %self.holder, "evaluator leads");
        let _leading = TermMark::new("evaluator", lead.term(), |leads| {
            self.metrics.evaluator_leader(leads);
        });
        let graph = Arc::new(Mutex::new(BTreeMap::new()));
        let graph_task = self
            .options
            .graph
            .clone()
            .map(|options| tokio::spawn(evaluate_graph(options, Arc::clone(&graph))));
        let mut term = Term {
            evaluator: self,
            lead: &lead,
            kept: BTreeMap::new(),
            last_sent: BTreeMap::new(),
            graph,
        };
        let mut pause = Duration::from_millis(200);
        while lead.is_current() {
            match term.run().await {
                Ok(()) => break,
                Err(StoreError::Fenced { .. }) => {
                    tracing::warn!("evaluator: fenced, a newer leader writes now");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "evaluator: the pass failed; reading the store again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
        if let Some(task) = graph_task {
            task.abort();
        }
    }
}

/// One term's state.
struct Term<'a> {
    evaluator: &'a Evaluator,
    lead: &'a Arc<Leadership>,
    kept: BTreeMap<(ConditionId, String), SubjectState>,
    last_sent: BTreeMap<(ConditionId, String), Timestamp>,
    graph: Arc<Mutex<BTreeMap<String, Health>>>,
}

fn now() -> Timestamp {
    Timestamp::from_jiff(jiff::Timestamp::now())
}

/// The store id of a subject's state: `<condition>:<16 hex digits of SHA-256(subject)>`
/// (a subject may hold any character, and the id must fit a store key).
pub fn evaluation_store_id(condition: &ConditionId, subject: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(subject.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}:{hex}", condition.as_str())
}

impl Term<'_> {
    /// Reads the kept states, then passes until the lead is lost (`Ok`) or a store
    /// operation fails.
    async fn run(&mut self) -> Result<(), StoreError> {
        let ev = self.evaluator;
        self.kept.clear();
        for record in ev.store.list(Kind::Evaluation, None).await?.records {
            match serde_json::from_str::<SubjectState>(&record.value) {
                Ok(state) => {
                    self.kept
                        .insert((state.condition.clone(), state.subject.clone()), state);
                }
                Err(e) => {
                    tracing::warn!(key = %record.key, error = %e, "evaluator: unreadable state dropped");
                    let delete = Op::Delete {
                        key: record.key.clone(),
                        expect: Expect::Any,
                    };
                    ev.store
                        .txn(Txn::new(vec![delete]).fenced(Some(self.lead.fence())))
                        .await?;
                }
            }
        }
        tracing::info!(kept = self.kept.len(), "evaluator: state read");
        let lost = self.lead.lost_signal();
        tokio::pin!(lost);
        loop {
            // Register for changes before reading, so none is missed.
            let changed = ev.view.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let next_due = self.pass().await?;
            let mut wait = ev.options.interval;
            if let Some(due) = next_due {
                let until = Duration::try_from(due.since(now())).unwrap_or(Duration::ZERO);
                wait = wait.min(until);
            }
            tokio::select! {
                () = &mut lost => return Ok(()),
                () = tokio::time::sleep(wait) => {}
                () = &mut changed => {
                    // Let a burst of changes (heartbeats) settle into one pass. A
                    // change never makes a deadline come sooner (a heartbeat moves its
                    // agent's later), so this delays only resolutions and new
                    // conditions, never a detection: deadlines wake the loop above.
                    tokio::time::sleep(CHANGE_SETTLE).await;
                }
            }
        }
    }

    /// One pass: judge, write, send. Returns the next deadline.
    async fn pass(&mut self) -> Result<Option<Timestamp>, StoreError> {
        let ev = self.evaluator;
        let now = now();
        let components = self
            .graph
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let verdict = {
            let view = ev.view.lock();
            if !view.ready {
                return Ok(None);
            }
            let mut agents: BTreeMap<&str, Vec<&AgentRecord>> = BTreeMap::new();
            for record in view.agents.values() {
                agents
                    .entry(record.tenant.as_str())
                    .or_default()
                    .push(record);
            }
            let inputs = judge::Inputs {
                conditions: view.conditions.values().collect(),
                agents,
                components: &components,
                kept: &self.kept,
                last_sent: &self.last_sent,
                resend: alert_core::Duration::try_from(ev.options.resend)
                    .unwrap_or(alert_core::Duration::ZERO),
            };
            let verdict = judge::judge(&inputs, now);
            // The alerts need the conditions' labels: built while the view is held.
            let alerts: Vec<(Option<TenantId>, PostableAlert, bool)> = verdict
                .send
                .iter()
                .filter_map(|send| {
                    let condition = view.conditions.get(send.condition.as_str());
                    alert_of(condition, send, ev.options.resend)
                })
                .collect();
            (verdict, alerts)
        };
        let (verdict, alerts) = verdict;
        ev.metrics
            .evaluator_subjects(verdict.pending, verdict.firing);

        // 1. What must outlive this leader: new and changed states, under the fence.
        let mut ops = Vec::new();
        for state in &verdict.write {
            let key = Key::new(
                Kind::Evaluation,
                evaluation_store_id(&state.condition, &state.subject),
            )?;
            let value =
                serde_json::to_string(state).map_err(|e| StoreError::Data(e.to_string()))?;
            ops.push(Op::Put {
                key,
                value,
                expect: Expect::Any,
            });
        }
        self.commit(ops).await?;
        for state in &verdict.write {
            self.kept.insert(
                (state.condition.clone(), state.subject.clone()),
                state.clone(),
            );
        }

        // 2. The alerts.
        let sent_ok = self.send(alerts).await;

        // 3. Forget what is over, once its resolution went out.
        let mut ops = Vec::new();
        let mut forgotten = Vec::new();
        for key in &verdict.delete {
            let resolving = verdict
                .send
                .iter()
                .any(|s| s.ends_at.is_some() && s.condition == key.0 && s.subject == key.1);
            if resolving && !sent_ok {
                continue;
            }
            if self.kept.contains_key(key) {
                ops.push(Op::Delete {
                    key: Key::new(Kind::Evaluation, evaluation_store_id(&key.0, &key.1))?,
                    expect: Expect::Any,
                });
            }
            forgotten.push(key.clone());
        }
        self.commit_deletes(ops).await?;
        for key in forgotten {
            self.kept.remove(&key);
            self.last_sent.remove(&key);
        }
        if sent_ok {
            for send in verdict.send.iter().filter(|s| s.ends_at.is_none()) {
                self.last_sent
                    .insert((send.condition.clone(), send.subject.clone()), now);
            }
        }
        Ok(verdict.next_due)
    }

    async fn commit(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        for chunk in ops.chunks(OPS_PER_TXN) {
            self.evaluator
                .store
                .txn(Txn::new(chunk.to_vec()).fenced(Some(self.lead.fence())))
                .await?;
        }
        Ok(())
    }

    /// Deletes one by one when a batch fails on a key already gone.
    async fn commit_deletes(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        for chunk in ops.chunks(OPS_PER_TXN) {
            let txn = Txn::new(chunk.to_vec()).fenced(Some(self.lead.fence()));
            match self.evaluator.store.txn(txn).await {
                Ok(_) => {}
                Err(StoreError::Conflict { .. }) => {
                    for op in chunk {
                        let txn = Txn::new(vec![op.clone()]).fenced(Some(self.lead.fence()));
                        match self.evaluator.store.txn(txn).await {
                            Ok(_) | Err(StoreError::Conflict { .. }) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Posts the alerts, grouped by the Alertmanager they go to. True when every post
    /// succeeded.
    async fn send(&self, alerts: Vec<(Option<TenantId>, PostableAlert, bool)>) -> bool {
        if alerts.is_empty() {
            return true;
        }
        let ev = self.evaluator;
        let Some(target) = &ev.target else {
            for (tenant, alert, firing) in &alerts {
                tracing::info!(?tenant, labels = %alert.labels, firing, "evaluator: alert (no Alertmanager configured)");
            }
            return true;
        };
        let mut by_tenant: BTreeMap<Option<TenantId>, Vec<PostableAlert>> = BTreeMap::new();
        for (tenant, alert, firing) in alerts {
            ev.metrics.evaluator_alert(firing);
            by_tenant.entry(tenant).or_default().push(alert);
        }
        let mut ok = true;
        for (tenant, alerts) in by_tenant {
            let scope = match target.scope(tenant.as_ref(), "the condition is bound to no tenant") {
                Ok(scope) => scope,
                Err(e) => {
                    tracing::warn!(?tenant, error = %e, "evaluator: no Alertmanager for the alerts");
                    ok = false;
                    continue;
                }
            };
            match scope.cluster.post_alerts(&alerts).await {
                Ok(partial) if partial.is_complete() => {}
                Ok(_) => {
                    tracing::warn!(
                        ?tenant,
                        "evaluator: some Alertmanager members did not take the alerts"
                    );
                }
                Err(e) => {
                    tracing::warn!(?tenant, error = %alert_core::redact_urls(&e.to_string()), "evaluator: alerts not posted; retried next pass");
                    ev.metrics.evaluator_send_failure();
                    ok = false;
                }
            }
        }
        ok
    }
}

/// The alert for `send`, with the condition's labels and annotations (none when the
/// condition is gone: a resolution with the labels it had cannot be rebuilt, so it is
/// left to expire by its `endsAt`).
fn alert_of(
    condition: Option<&AlertCondition>,
    send: &judge::Send,
    resend: Duration,
) -> Option<(Option<TenantId>, PostableAlert, bool)> {
    let condition = condition?;
    let mut labels: Vec<(String, String)> = condition
        .alert_labels()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    labels.push((
        "alertname".to_owned(),
        alert_router::rules::rule_name(condition.id.as_str()),
    ));
    if let Some(t) = &condition.tenant {
        labels.push((
            alert_router::rules::TENANT_LABEL.to_owned(),
            t.as_str().to_owned(),
        ));
    }
    labels.push((send.subject_label.to_owned(), send.subject.clone()));
    let labels = LabelSet::from_pairs(labels).ok()?;
    let mut annotations: Vec<(String, String)> = condition
        .alert_annotations()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if !send.reason.is_empty() {
        annotations.retain(|(k, _)| k != "description");
        annotations.push(("description".to_owned(), send.reason.clone()));
    }
    let annotations = LabelSet::from_pairs(annotations).unwrap_or_default();
    let mut alert = PostableAlert::new(labels);
    alert.annotations = annotations;
    alert.starts_at = Some(send.starts_at);
    let firing = send.ends_at.is_none();
    alert.ends_at = match send.ends_at {
        Some(at) => Some(at),
        None => {
            let hold = alert_core::Duration::try_from(resend * 4).ok()?;
            now().checked_add(hold)
        }
    };
    Some((condition.tenant.clone(), alert, firing))
}

/// Evaluates the health graph every `interval`, publishing each node's health.
async fn evaluate_graph(options: GraphOptions, out: Arc<Mutex<BTreeMap<String, Health>>>) {
    use alert_health_graph::{Engine, GraphFile, builtin};
    let built = match GraphFile::parse(&options.text, &options.file)
        .and_then(|f| f.assemble(&builtin::registry(&builtin::Sources::default())))
    {
        Ok(built) => built,
        Err(e) => {
            tracing::error!(file = %options.file, error = %e, "evaluator: the health graph does not load");
            return;
        }
    };
    let engine = Engine::new(built.graph, built.sensors);
    let mut since: HashMap<String, Timestamp> = HashMap::new();
    loop {
        let snapshot = engine.evaluate().await;
        let graph = snapshot.graph();
        let mut health = BTreeMap::new();
        for id in graph.ids() {
            let name = graph.node(id).name.clone();
            let status = snapshot.status(id);
            match status.state {
                State::Passing => {
                    since.remove(&name);
                    health.insert(name, Health::Healthy);
                }
                State::Failing | State::Degraded => {
                    let first = *since.entry(name.clone()).or_insert(status.observed_at);
                    let reason = status
                        .messages
                        .iter()
                        .map(|m| m.text.as_str())
                        .collect::<Vec<_>>()
                        .join("; ");
                    let reason = if reason.is_empty() {
                        format!("{:?}", status.state).to_lowercase()
                    } else {
                        reason
                    };
                    health.insert(
                        name,
                        Health::Unhealthy {
                            since: Some(first),
                            reason,
                        },
                    );
                }
                // No data: neither fires nor resolves.
                State::Pending | State::Unknown => {}
            }
        }
        *out.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = health;
        tokio::time::sleep(options.interval).await;
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

/// The routes every list above names.
pub const ROUTES: &str = "  PUT    /api/v1/agents/{tenant}/{agent}/heartbeat  an agent reports in (optional JSON: capabilities and their health)
  GET    /api/v1/agents[?tenant=]                 the agents' last reports
  GET    /api/v1/evaluations[?condition=]         the evaluator's pending and firing subjects
";

/// The evaluator's routes.
pub fn routes(evaluator: Arc<Evaluator>) -> Router {
    Router::new()
        .route("/api/v1/agents/{tenant}/{agent}/heartbeat", put(heartbeat))
        .route("/api/v1/agents", get(list_agents))
        .route("/api/v1/evaluations", get(list_evaluations))
        .with_state(evaluator)
}

async fn heartbeat(
    AxumState(ev): AxumState<Arc<Evaluator>>,
    Path((tenant, agent)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let at = now();
    if let Err(e) = TenantId::new(tenant.as_str()) {
        return error_response(StatusCode::BAD_REQUEST, "bad_data", &format!("tenant: {e}"));
    }
    if let Err(e) = agents::check_agent_id(&agent) {
        return error_response(StatusCode::BAD_REQUEST, "bad_data", &e.to_string());
    }
    let empty = matches!(&body, Ok(b) if b.iter().all(u8::is_ascii_whitespace));
    let body = if empty {
        HeartbeatBody::default()
    } else {
        let value = match crate::api::json_body(&headers, body, false) {
            Ok(v) => v,
            Err(response) => return *response,
        };
        match serde_json::from_value::<HeartbeatBody>(value) {
            Ok(b) => b,
            Err(e) => {
                return error_response(StatusCode::BAD_REQUEST, "bad_data", &format!("body: {e}"));
            }
        }
    };
    if let Err(e) = body.check() {
        return error_response(StatusCode::BAD_REQUEST, "bad_data", &e.to_string());
    }
    match ev.view.knows_tenant(&tenant) {
        None => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the evaluator has not read the store yet; retry",
            );
        }
        // The view follows the store through a watch: a tenant whose first condition was
        // written a moment ago may not be in it yet. Only while the view is behind the
        // store is the store itself asked (so that a client writing a spec and then
        // reporting in is not refused, and an unknown tenant costs no reads).
        Some(false) if !named_in_store(&ev, &tenant).await => {
            return error_response(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!(
                    "tenant {tenant:?}: no condition or SLO names this tenant, so its agents are \
                     not tracked; create the tenant's conditions first"
                ),
            );
        }
        Some(_) => {}
    }
    match ev.ingest.heartbeat(&tenant, &agent, at, body).await {
        Ok(record) => serialized(StatusCode::OK, &record),
        Err(HeartbeatError::Invalid(field, what)) => error_response(
            StatusCode::BAD_REQUEST,
            "bad_data",
            &format!("{field}: {what}"),
        ),
        Err(e) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &e.to_string(),
        ),
    }
}

/// Whether a condition or SLO in the store names `tenant`, read from the store only when
/// the view has not yet applied the store's latest revision (`false` otherwise, and when
/// the store cannot be read: the view's answer stands).
async fn named_in_store(ev: &Evaluator, tenant: &str) -> bool {
    let Ok(revision) = ev.store.revision().await else {
        return false;
    };
    if ev.view.revision() >= revision {
        return false;
    }
    for kind in [Kind::Condition, Kind::Slo] {
        let Ok(listing) = ev.store.list(kind, Some(revision)).await else {
            return false;
        };
        let mut probe = ViewState::default();
        for record in &listing.records {
            probe.apply(&record.key, Some(&record.value));
        }
        if probe.tenants.contains_key(tenant) {
            return true;
        }
    }
    false
}

async fn list_agents(
    AxumState(ev): AxumState<Arc<Evaluator>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = match query_params(raw.as_deref(), &["tenant"]) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let tenant = params.get("tenant");
    let state = ev.view.lock();
    if !state.ready {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the evaluator has not read the store yet; retry",
        );
    }
    let agents: Vec<&AgentRecord> = state
        .agents
        .values()
        .filter(|a| tenant.is_none_or(|t| &a.tenant == t))
        .collect();
    serialized(StatusCode::OK, &json!({ "agents": agents }))
}

async fn list_evaluations(
    AxumState(ev): AxumState<Arc<Evaluator>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = match query_params(raw.as_deref(), &["condition"]) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let listing = match ev.store.list(Kind::Evaluation, None).await {
        Ok(l) => l,
        Err(e) => return crate::Error::Store(e).into_response(),
    };
    let states: Vec<SubjectState> = listing
        .records
        .iter()
        .filter_map(|r| serde_json::from_str::<SubjectState>(&r.value).ok())
        .filter(|s| {
            params
                .get("condition")
                .is_none_or(|c| s.condition.as_str() == c)
        })
        .collect();
    serialized(
        StatusCode::OK,
        &json!({ "revision": listing.revision, "evaluations": states }),
    )
}
