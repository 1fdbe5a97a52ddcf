//! Pods: the pod's own status (`Pod`) and its containers (`Pod#container`).
//!
//! - `phase`: `Succeeded` passes (a finished pod of a Job), `Failed` fails with its
//!   reason and message (a `restartPolicy: Never` pod whose container exited 1 ends
//!   here), `Pending` is Pending unless a condition says it cannot go on (`PodScheduled
//!   False`: `Unschedulable` fails), `Unknown` is Unknown (the node stopped reporting).
//! - For `Running` pods the conditions `PodScheduled`, `Initialized`, `ContainersReady`
//!   and `Ready`: `False` fails (a running pod that is not ready takes no traffic),
//!   `Unknown` is Unknown. Conditions of finished pods are not judged (`Ready False:
//!   PodCompleted` is how a finished pod reports).
//! - Containers, init containers first: waiting with `CrashLoopBackOff`,
//!   `ImagePullBackOff`, `ErrImagePull`, `InvalidImageName`, `CreateContainerConfigError`,
//!   `CreateContainerError`, `RunContainerError` fails (with the last exit code when the
//!   container ran); other waiting (`ContainerCreating`, `PodInitializing`) is Pending;
//!   terminated with exit code 0 passes, another code fails (`terminated: Error, exit code
//!   1`); running and ready passes (restarts noted), running and not ready fails; no
//!   status yet is Pending. An init container still waiting after another failed counts
//!   once, through the failed one.

use serde_json::Value;

use super::Finding;
use super::condition;
use crate::kubernetes::object;
use crate::state::State;

/// Waiting reasons Kubernetes gives when a container will not start without a change.
pub const FAILING_WAIT_REASONS: [&str; 7] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// The pod's phase and conditions.
pub fn status(pod: &Value) -> Vec<Finding> {
    let phase = pod["status"]["phase"].as_str().unwrap_or("Unknown");
    let reason_message = || {
        let parts: Vec<&str> = [&pod["status"]["reason"], &pod["status"]["message"]]
            .into_iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(": {}", parts.join(": "))
        }
    };
    match phase {
        "Succeeded" => return vec![(State::Passing, "phase Succeeded".to_owned())],
        "Failed" => {
            let mut text = format!("phase Failed{}", reason_message());
            if let Some(t) = first_failed_termination(pod) {
                text.push_str(&format!(" ({t})"));
            }
            return vec![(State::Failing, text)];
        }
        "Running" | "Pending" => {}
        other => return vec![(State::Unknown, format!("phase {other}{}", reason_message()))],
    }
    if phase == "Pending" {
        // Unschedulable is the one reason a pending pod will not go on by itself that
        // the pod reports; containers that cannot start report in `Pod#container`.
        if let Some(c) = object::condition(pod, "PodScheduled").filter(|c| !c.is_true()) {
            return vec![condition(&c, "True", State::Failing)];
        }
        return vec![(State::Pending, format!("phase Pending{}", reason_message()))];
    }
    let mut out: Vec<Finding> = ["PodScheduled", "Initialized", "ContainersReady", "Ready"]
        .into_iter()
        .filter_map(|kind| object::condition(pod, kind))
        .map(|c| condition(&c, "True", State::Failing))
        .filter(|(s, _)| !s.is_passing())
        .collect();
    if out.is_empty() {
        out.push((State::Passing, "phase Running".to_owned()));
    }
    out
}

/// `container app: terminated: Error, exit code 1` of the first container that ended
/// with a non-zero code.
fn first_failed_termination(pod: &Value) -> Option<String> {
    ["initContainerStatuses", "containerStatuses"]
        .into_iter()
        .flat_map(|f| object::array(&pod["status"][f]))
        .find_map(|s| {
            let t = &s["state"]["terminated"];
            let code = t["exitCode"].as_i64()?;
            (code != 0).then(|| {
                format!(
                    "container {}: {}",
                    s["name"].as_str().unwrap_or("?"),
                    terminated(t)
                )
            })
        })
}

fn terminated(t: &Value) -> String {
    let code = object::int(&t["exitCode"], 0);
    let mut text = format!(
        "terminated: {}, exit code {code}",
        t["reason"].as_str().unwrap_or("no reason")
    );
    if let Some(m) = t["message"].as_str().filter(|m| !m.is_empty()) {
        text.push_str(&format!(": {m}"));
    }
    text
}

/// Every container's state, init containers first.
pub fn containers(pod: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let finished = matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    );
    let mut init_failed = false;
    for (spec_field, status_field, what) in [
        ("initContainers", "initContainerStatuses", "init container"),
        ("containers", "containerStatuses", "container"),
    ] {
        let statuses = object::array(&pod["status"][status_field]);
        for c in object::array(&pod["spec"][spec_field]) {
            let name = c["name"].as_str().unwrap_or("?");
            let label = format!("{what} {name}");
            let Some(s) = statuses.iter().find(|s| s["name"].as_str() == Some(name)) else {
                out.push((State::Pending, format!("{label}: no status yet")));
                continue;
            };
            let finding = container(s, &label, what == "init container", finished);
            if what == "init container" && finding.0 == State::Failing {
                init_failed = true;
            } else if init_failed && finding.0 == State::Pending {
                // Waiting for the init container that failed: counted there.
                continue;
            }
            out.push(finding);
        }
    }
    out
}

fn container(s: &Value, label: &str, init: bool, finished: bool) -> Finding {
    let state = &s["state"];
    let restarts = object::int(&s["restartCount"], 0);
    let restarts_text = match restarts {
        0 => String::new(),
        1 => ", 1 restart".to_owned(),
        n => format!(", {n} restarts"),
    };
    if let Some(w) = state.get("waiting").filter(|w| w.is_object()) {
        let reason = w["reason"].as_str().unwrap_or("no reason");
        let mut text = format!("{label}: waiting: {reason}");
        if let Some(m) = w["message"].as_str().filter(|m| !m.is_empty()) {
            text.push_str(&format!(": {m}"));
        }
        let last = &s["lastState"]["terminated"];
        if last.is_object() {
            text.push_str(&format!(" (last {})", terminated(last)));
        }
        text.push_str(&restarts_text);
        let bad = FAILING_WAIT_REASONS.contains(&reason);
        return (if bad { State::Failing } else { State::Pending }, text);
    }
    if let Some(t) = state.get("terminated").filter(|t| t.is_object()) {
        let code = object::int(&t["exitCode"], 0);
        let text = format!("{label}: {}{restarts_text}", terminated(t));
        return (
            if code == 0 {
                State::Passing
            } else {
                State::Failing
            },
            text,
        );
    }
    if state.get("running").is_some_and(Value::is_object) {
        let ready = s["ready"].as_bool().unwrap_or(false);
        // An init container that is running is still initialising; started, not ready.
        return if ready || init {
            let st = if init { State::Pending } else { State::Passing };
            (st, format!("{label}: running{restarts_text}"))
        } else {
            (
                State::Failing,
                format!("{label}: running, not ready{restarts_text}"),
            )
        };
    }
    let st = if finished {
        State::Unknown
    } else {
        State::Pending
    };
    (st, format!("{label}: no state reported"))
}
