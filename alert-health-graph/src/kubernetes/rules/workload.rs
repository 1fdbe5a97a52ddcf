//! Workloads: Deployment, ReplicaSet, StatefulSet, DaemonSet.
//!
//! - Deployment: `Available False` fails (`MinimumReplicasUnavailable`); `Progressing
//!   False` with `ProgressDeadlineExceeded` fails (the rollout gave up); a rollout in
//!   progress (fewer updated replicas than wanted, old replicas still running, or a
//!   generation not yet observed) is Degraded, not Failing; available replicas against
//!   `spec.replicas` (default 1): none of some wanted fails, fewer Degraded. `Unknown`
//!   condition status is Unknown. `spec.paused` is noted.
//! - ReplicaSet: ready replicas against `spec.replicas`; `ReplicaFailure True` (quota,
//!   admission refusing pods) fails. A scaled-down old ReplicaSet (0 wanted) passes.
//! - StatefulSet: ready replicas against `spec.replicas`; `currentRevision` differing
//!   from `updateRevision` is a rollout in progress (Degraded).
//! - DaemonSet: `numberReady` against `desiredNumberScheduled`; misscheduled pods and a
//!   rollout in progress (`updatedNumberScheduled` below desired) are Degraded.

use serde_json::Value;

use super::{Finding, condition, replicas};
use crate::kubernetes::object;
use crate::state::State;

fn generation_pending(o: &Value) -> Option<Finding> {
    let generation = object::int(&o["metadata"]["generation"], 0);
    let observed = object::int(&o["status"]["observedGeneration"], generation);
    (observed < generation).then(|| {
        (
            State::Degraded,
            format!("rolling out: generation {generation} not yet observed (at {observed})"),
        )
    })
}

/// A Deployment's conditions and replica counts.
pub fn deployment(d: &Value) -> Vec<Finding> {
    let desired = object::int(&d["spec"]["replicas"], 1);
    let st = &d["status"];
    let mut out = Vec::new();
    if let Some(c) = object::condition(d, "Available") {
        out.push(condition(&c, "True", State::Failing));
    }
    if let Some(c) = object::condition(d, "Progressing") {
        let gave_up = c.reason.as_deref() == Some("ProgressDeadlineExceeded");
        let f = condition(&c, "True", State::Degraded);
        out.push(if gave_up { (State::Failing, f.1) } else { f });
    }
    let available = object::int(&st["availableReplicas"], 0);
    out.push(replicas("replicas available", available, desired));
    let updated = object::int(&st["updatedReplicas"], 0);
    let total = object::int(&st["replicas"], 0);
    if updated < desired || total > updated {
        out.push((
            State::Degraded,
            format!("rolling out: {updated}/{desired} replicas updated, {total} in total"),
        ));
    }
    out.extend(generation_pending(d));
    if d["spec"]["paused"].as_bool() == Some(true) {
        out.push((State::Passing, "rollouts paused".to_owned()));
    }
    out
}

/// A ReplicaSet's ready replicas and `ReplicaFailure`.
pub fn replica_set(rs: &Value) -> Vec<Finding> {
    let desired = object::int(&rs["spec"]["replicas"], 1);
    let ready = object::int(&rs["status"]["readyReplicas"], 0);
    let mut out = vec![replicas("replicas ready", ready, desired)];
    if let Some(c) = object::condition(rs, "ReplicaFailure") {
        out.push(condition(&c, "False", State::Failing));
    }
    out
}

/// A StatefulSet's ready replicas and revisions.
pub fn stateful_set(s: &Value) -> Vec<Finding> {
    let desired = object::int(&s["spec"]["replicas"], 1);
    let st = &s["status"];
    let mut out = vec![replicas(
        "replicas ready",
        object::int(&st["readyReplicas"], 0),
        desired,
    )];
    if let (Some(cur), Some(upd)) = (
        st["currentRevision"].as_str(),
        st["updateRevision"].as_str(),
    ) && cur != upd
    {
        let updated = object::int(&st["updatedReplicas"], 0);
        out.push((
            State::Degraded,
            format!("rolling out: {updated}/{desired} replicas at revision {upd} (from {cur})"),
        ));
    }
    out.extend(generation_pending(s));
    out
}

/// A DaemonSet's ready, misscheduled and updated pods.
pub fn daemon_set(ds: &Value) -> Vec<Finding> {
    let st = &ds["status"];
    let desired = object::int(&st["desiredNumberScheduled"], 0);
    let mut out = vec![replicas(
        "pods ready",
        object::int(&st["numberReady"], 0),
        desired,
    )];
    let mis = object::int(&st["numberMisscheduled"], 0);
    if mis > 0 {
        out.push((
            State::Degraded,
            format!("{mis} pods on nodes they should not run on"),
        ));
    }
    let updated = object::int(&st["updatedNumberScheduled"], desired);
    if updated < desired {
        out.push((
            State::Degraded,
            format!("rolling out: {updated}/{desired} pods updated"),
        ));
    }
    out.extend(generation_pending(ds));
    out
}
