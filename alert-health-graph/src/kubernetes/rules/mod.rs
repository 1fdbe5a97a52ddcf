//! The pure rules: one object, as the API server reports it, judged into findings (a
//! state and why). No I/O: a rule reads the object and, where it must, the [`Lists`] of
//! the same pass (a Service's Endpoints, an Ingress's Services).
//!
//! Shared decisions, made once here:
//!
//! - A condition whose status is `Unknown` gives [`State::Unknown`], not Failing.
//!   Kubernetes reports `Unknown` when the component that owns the condition has not
//!   said (a node controller that lost the kubelet: `Ready Unknown`,
//!   `NodeStatusUnknown`); that is what this crate's Unknown means, and it ranks just
//!   below Failing, so an all-of system over it is still unhealthy. Alpacalert treats
//!   `Unknown` as failing; here a dashboard can tell "we cannot see it" from "it is
//!   broken".
//! - Work in progress that Kubernetes is expected to finish on its own (a rollout, a pod
//!   being created, a job running) is [`State::Pending`] or [`State::Degraded`], never
//!   Failing; it fails when Kubernetes itself says it gave up (`ProgressDeadlineExceeded`,
//!   `BackoffLimitExceeded`, `CrashLoopBackOff`, `ImagePullBackOff`).
//!
//! # Where this differs from Alpacalert 0.1.2 (`alpacalert/instrumentors/k8s.py`)
//!
//! The same kinds, sub-kinds and dependencies; these verdicts differ on purpose
//! (`tests/kubernetes.rs` runs Alpacalert on the same fixture and names the objects of
//! its scenarios where the passing/not-passing verdict differs):
//!
//! | case | Alpacalert | here |
//! |---|---|---|
//! | condition status `Unknown` | failing (`status == "true"`) | Unknown |
//! | Deployment rolling out (updated, ready or available below `spec.replicas`) | failing (every count must equal the spec) | Degraded; Failing only with `ProgressDeadlineExceeded`, `Available False` or none available |
//! | container waiting `ContainerCreating` / `PodInitializing` | failing | Pending |
//! | pod phase `Pending` | unknown | Pending (Failing when unschedulable) |
//! | Job still running | failing (`Complete` must be `True`) | passing, with its counts |
//! | CronJob | every Job it owns must pass | only its newest Job counts |
//! | Service | any selected pod passing passes; Endpoints not read | its Endpoints: no ready address fails, some not ready Degraded; its pods as replicas |
//! | node `MemoryPressure`/`DiskPressure`/`PIDPressure` | failing | Degraded |
//! | StatefulSet `collisionCount` ≠ 0 | failing | not judged (a hash-collision counter, not a fault) |
//! | ReplicaSet → Pods, Deployment → ReplicaSets | by `matchLabels` only | by owner reference |
//! | PVC's StorageClass | looked up in the claim's namespace, never found: every claim naming a class fails | found cluster-wide |
//! | ConfigMap/Secret keys | of volume `items` and `subPath` | of volume `items` and `env` (`configMapKeyRef`, `secretKeyRef`); `subPath` not checked |
//! | ConfigMaps/Secrets named by `env`/`envFrom` | not checked | must exist unless `optional` |

use serde_json::Value;

use super::object::{Condition, Lists};
use super::resource::{self, Resource};
use crate::state::State;

pub mod batch;
pub mod cluster;
pub mod network;
pub mod pod;
pub mod storage;
pub mod workload;

/// One judgement about an object: a state and why.
pub type Finding = (State, String);

/// The findings of `object`'s own rule (its kind's), without its dependencies.
pub fn judge(resource: &Resource, object: &Value, lists: &Lists) -> Vec<Finding> {
    match resource.kind {
        "Pod" => pod::status(object),
        "Deployment" => workload::deployment(object),
        "ReplicaSet" => workload::replica_set(object),
        "StatefulSet" => workload::stateful_set(object),
        "DaemonSet" => workload::daemon_set(object),
        "Job" => batch::job(object),
        "CronJob" => batch::cron_job(object),
        "Service" => network::service(object, lists),
        "Ingress" => network::ingress(object),
        "PersistentVolumeClaim" => storage::pvc(object, lists),
        "PersistentVolume" => storage::pv(object),
        "StorageClass" => storage::storage_class(object),
        "ConfigMap" | "Secret" => storage::exists(resource, object),
        "Node" => cluster::node(object),
        "Namespace" => cluster::namespace(object),
        _ => vec![(State::Passing, "exists".to_owned())],
    }
}

/// The lists a kind's own rule reads besides its objects (a Service: the namespace's
/// Endpoints).
pub fn needs(resource: &Resource) -> Vec<Resource> {
    match resource.kind {
        "Service" => vec![resource::ENDPOINTS],
        "PersistentVolumeClaim" => vec![resource::STORAGE_CLASS],
        _ => Vec::new(),
    }
}

/// A condition judged: its good status gives Passing, `Unknown` gives Unknown (see the
/// module docs), the other status `bad`.
pub fn condition(c: &Condition, good: &str, bad: State) -> Finding {
    let state = if c.status == good {
        State::Passing
    } else if c.status == "Unknown" {
        State::Unknown
    } else {
        bad
    };
    (state, c.explain())
}

/// `ready/desired` replica counts judged: all ready Passing, none (of some wanted)
/// Failing, some Degraded.
pub fn replicas(what: &str, ready: i64, desired: i64) -> Finding {
    let text = format!("{ready}/{desired} {what}");
    let state = if ready >= desired {
        State::Passing
    } else if ready == 0 {
        State::Failing
    } else {
        State::Degraded
    };
    (state, text)
}

#[cfg(test)]
pub(crate) mod tests {
    //! The rules on the scenarios of `tests/fixtures/kubernetes/shop.json`, objects
    //! authored as a real cluster reports them (the integration test loads the same file
    //! into the test kit's API server).
    use super::*;
    use crate::kubernetes::object;
    use serde_json::json;

    /// Every object of the scenarios.
    pub(crate) fn shop() -> Vec<Value> {
        serde_json::from_str(include_str!("../../../tests/fixtures/kubernetes/shop.json"))
            .expect("the scenarios are JSON")
    }

    pub(crate) fn get(kind: &str, name: &str) -> Value {
        shop()
            .into_iter()
            .find(|o| o["kind"] == kind && object::name(o) == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in shop.json"))
    }

    fn worst(findings: &[Finding]) -> State {
        findings.iter().map(|f| f.0).max().expect("findings")
    }

    fn texts(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{:?}: {}", f.0, f.1))
            .collect()
    }

    #[test]
    fn a_bad_image_tag_fails_its_container_while_the_pod_is_pending() {
        let pod = get("Pod", "bad-image");
        assert_eq!(texts(&pod::status(&pod)), ["Pending: phase Pending"]);
        assert_eq!(
            texts(&pod::containers(&pod)),
            [
                "Failing: container app: waiting: ImagePullBackOff: Back-off pulling image \"nginx:1.99-nope\""
            ]
        );
    }

    #[test]
    fn a_never_restarted_pod_that_exited_1_fails() {
        let pod = get("Pod", "exit-one");
        assert_eq!(
            texts(&pod::status(&pod)),
            ["Failing: phase Failed (container task: terminated: Error, exit code 1)"]
        );
        assert_eq!(
            texts(&pod::containers(&pod)),
            ["Failing: container task: terminated: Error, exit code 1"]
        );
    }

    #[test]
    fn a_failing_init_container_fails_once_and_the_app_waiting_on_it_is_not_counted() {
        let pod = get("Pod", "init-fail");
        assert_eq!(
            texts(&pod::containers(&pod)),
            [
                "Failing: init container migrate: waiting: CrashLoopBackOff: back-off 1m20s restarting \
              failed container=migrate pod=init-fail_shop(pod-init-fail) (last terminated: Error, \
              exit code 2), 4 restarts"
            ]
        );
        assert_eq!(worst(&pod::status(&pod)), State::Pending);
    }

    #[test]
    fn a_pod_waiting_on_its_volumes_is_pending_and_running_pods_judge_readiness() {
        let pod = get("Pod", "volumes");
        assert_eq!(
            texts(&pod::containers(&pod)),
            ["Pending: container app: waiting: ContainerCreating"]
        );
        assert_eq!(
            texts(&pod::status(&get("Pod", "web-5d4f6b-k2x8p"))),
            ["Passing: phase Running"]
        );
        assert_eq!(
            texts(&pod::status(&get("Pod", "api-6b7f-x1"))),
            [
                "Failing: ContainersReady False: ContainersNotReady: containers with unready status: [api]",
                "Failing: Ready False: ContainersNotReady: containers with unready status: [api]"
            ]
        );
        assert_eq!(
            texts(&pod::containers(&get("Pod", "api-6b7f-x1"))),
            ["Failing: container api: running, not ready, 7 restarts"]
        );
    }

    #[test]
    fn an_unschedulable_pod_fails_with_the_schedulers_reason() {
        let pod = json!({"status": {"phase": "Pending", "conditions": [{"type": "PodScheduled",
            "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu."}]}});
        assert_eq!(
            texts(&pod::status(&pod)),
            [
                "Failing: PodScheduled False: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."
            ]
        );
    }

    #[test]
    fn a_deployment_rolling_out_is_degraded_not_failing() {
        let d = get("Deployment", "web");
        let f = deployment_findings(&d);
        assert_eq!(worst(&f), State::Degraded, "{f:?}");
        assert!(
            texts(&f)
                .contains(&"Degraded: rolling out: 2/3 replicas updated, 4 in total".to_owned())
        );
        let mut gave_up = d.clone();
        gave_up["status"]["conditions"][1] = json!({"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-7c9d8f\" has timed out progressing."});
        assert!(texts(&deployment_findings(&gave_up)).contains(
            &"Failing: Progressing False: ProgressDeadlineExceeded: ReplicaSet \"web-7c9d8f\" has \
              timed out progressing."
                .to_owned()
        ));
        let mut unknown = d;
        unknown["status"]["conditions"][0]["status"] = json!("Unknown");
        assert!(texts(&deployment_findings(&unknown)).contains(
            &"Unknown: Available Unknown: MinimumReplicasAvailable: Deployment has minimum availability."
                .to_owned()
        ));
    }

    fn deployment_findings(d: &Value) -> Vec<Finding> {
        judge(&resource::DEPLOYMENT, d, &Lists::new())
    }

    #[test]
    fn replica_sets_statefulsets_and_daemonsets_count_ready_replicas() {
        let lists = Lists::new();
        assert_eq!(
            texts(&judge(
                &resource::REPLICA_SET,
                &get("ReplicaSet", "web-7c9d8f"),
                &lists
            )),
            ["Degraded: 1/2 replicas ready"]
        );
        let sts = json!({"metadata": {"generation": 2}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
                       "currentRevision": "db-6d5b", "updateRevision": "db-7f8c", "updatedReplicas": 1}});
        assert_eq!(
            texts(&workload::stateful_set(&sts)),
            [
                "Passing: 3/3 replicas ready",
                "Degraded: rolling out: 1/3 replicas at revision db-7f8c (from db-6d5b)"
            ]
        );
        let ds = json!({"status": {"desiredNumberScheduled": 3, "numberReady": 0,
            "updatedNumberScheduled": 3, "numberMisscheduled": 0}});
        assert_eq!(
            texts(&workload::daemon_set(&ds)),
            ["Failing: 0/3 pods ready"]
        );
    }

    #[test]
    fn jobs_fail_with_their_reason() {
        assert_eq!(
            texts(&batch::job(&get("Job", "nightly-29420280"))),
            [
                "Failing: Failed True: BackoffLimitExceeded: Job has reached the specified backoff limit"
            ]
        );
        assert_eq!(
            worst(&batch::job(&get("Job", "nightly-29418840"))),
            State::Passing
        );
    }

    #[test]
    fn services_are_judged_on_ready_endpoints() {
        let lists = Lists::from_objects(shop());
        assert_eq!(
            texts(&judge(&resource::SERVICE, &get("Service", "api"), &lists)),
            ["Failing: no ready endpoints (1 not ready)"]
        );
        assert_eq!(
            texts(&judge(&resource::SERVICE, &get("Service", "web"), &lists)),
            ["Degraded: 3 ready endpoints, 1 not ready"]
        );
    }

    #[test]
    fn an_ingress_path_to_a_missing_service_fails() {
        let lists = Lists::from_objects(shop());
        assert_eq!(
            texts(&network::ingress_path_findings(
                &get("Ingress", "shop"),
                &lists
            )),
            [
                "Passing: path shop.example.com/ -> service web:80",
                "Failing: path shop.example.com/checkout -> service checkout:http: service shop/checkout not found"
            ]
        );
    }

    #[test]
    fn an_unbound_claim_fails_unless_it_waits_for_its_first_pod() {
        let lists = Lists::from_objects(shop());
        assert_eq!(
            texts(&storage::pvc(&get("PersistentVolumeClaim", "data"), &lists)),
            [
                "Failing: Pending: not bound; no volume provisioned by ebs.csi.aws.com (storage class standard)"
            ]
        );
        let mut waiting = get("StorageClass", "standard");
        waiting["volumeBindingMode"] = json!("WaitForFirstConsumer");
        let lists = Lists::from_objects([waiting]);
        assert_eq!(
            worst(&storage::pvc(&get("PersistentVolumeClaim", "data"), &lists)),
            State::Pending
        );
        let mut missing = get("PersistentVolumeClaim", "data");
        missing["spec"]["storageClassName"] = json!("fast");
        assert_eq!(
            texts(&storage::pvc(&missing, &lists)),
            ["Failing: Pending: storage class fast not found"]
        );
    }

    #[test]
    fn node_pressure_degrades_and_unknown_readiness_is_unknown() {
        let node = get("Node", "node-1");
        assert_eq!(
            texts(&cluster::node(&node)),
            [
                "Passing: Ready True: KubeletReady: kubelet is posting ready status",
                "Degraded: MemoryPressure True: KubeletHasInsufficientMemory: kubelet has insufficient memory available"
            ]
        );
        let mut lost = node;
        lost["status"]["conditions"][3] = json!({"type": "Ready", "status": "Unknown",
            "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."});
        assert_eq!(worst(&cluster::node(&lost)), State::Unknown);
        assert_eq!(
            texts(&cluster::namespace(
                &json!({"status": {"phase": "Terminating"}})
            )),
            ["Degraded: Terminating"]
        );
    }
}
