//! Storage and configuration: PersistentVolumeClaim, PersistentVolume, StorageClass,
//! ConfigMap, Secret.
//!
//! - PersistentVolumeClaim: `Bound` passes; `Pending` fails with why it is not bound
//!   (the storage class named is missing, or no volume was provisioned or matched),
//!   except a claim of a `WaitForFirstConsumer` class that no pod has been scheduled
//!   with yet, which is Pending (Kubernetes binds it when a pod uses it); `Lost` fails.
//!   Its StorageClass and bound PersistentVolume are judged through the registry.
//! - PersistentVolume: `Bound` and `Available` pass; `Released` (its claim deleted, not
//!   reclaimed) is Degraded; `Failed` fails with its message; `Pending` is Pending.
//! - StorageClass, ConfigMap, Secret: exist (a reference to a missing one fails where
//!   it is referenced; an optional reference passes). Secrets' keys are never named.

use serde_json::Value;

use super::Finding;
use crate::kubernetes::object::Lists;
use crate::kubernetes::resource::{self, Resource};
use crate::state::State;

/// The annotation the scheduler sets on a claim of a `WaitForFirstConsumer` class.
const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";

/// A claim's phase.
pub fn pvc(c: &Value, lists: &Lists) -> Vec<Finding> {
    let class = c["spec"]["storageClassName"]
        .as_str()
        .filter(|s| !s.is_empty());
    match c["status"]["phase"].as_str().unwrap_or("Pending") {
        "Bound" => {
            let volume = c["spec"]["volumeName"].as_str().unwrap_or("?");
            vec![(State::Passing, format!("Bound to volume {volume}"))]
        }
        "Lost" => {
            let volume = c["spec"]["volumeName"].as_str().unwrap_or("?");
            vec![(State::Failing, format!("Lost: its volume {volume} is gone"))]
        }
        "Pending" => {
            let Some(class) = class else {
                return vec![(
                    State::Failing,
                    "Pending: no storageClassName and no volume matches the claim".to_owned(),
                )];
            };
            let sc = lists.find(&resource::STORAGE_CLASS, None, class);
            let Some(sc) = sc else {
                let state = if lists.has(&resource::STORAGE_CLASS, None) {
                    State::Failing
                } else {
                    State::Unknown
                };
                return vec![(state, format!("Pending: storage class {class} not found"))];
            };
            let waits = sc["volumeBindingMode"].as_str() == Some("WaitForFirstConsumer");
            let scheduled = c["metadata"]["annotations"][SELECTED_NODE].is_string();
            if waits && !scheduled {
                return vec![(
                    State::Pending,
                    format!("Pending: storage class {class} binds when a pod first uses the claim"),
                )];
            }
            let provisioner = sc["provisioner"].as_str().unwrap_or("?");
            vec![(
                State::Failing,
                format!(
                    "Pending: not bound; no volume provisioned by {provisioner} (storage class {class})"
                ),
            )]
        }
        other => vec![(State::Unknown, format!("phase {other}"))],
    }
}

/// A volume's phase.
pub fn pv(v: &Value) -> Vec<Finding> {
    let claim = &v["spec"]["claimRef"];
    let claim_key = match (claim["namespace"].as_str(), claim["name"].as_str()) {
        (Some(ns), Some(n)) => format!("{ns}/{n}"),
        _ => "none".to_owned(),
    };
    let message = v["status"]["message"].as_str().unwrap_or("no message");
    vec![match v["status"]["phase"].as_str().unwrap_or("Pending") {
        "Bound" => (State::Passing, format!("Bound to claim {claim_key}")),
        "Available" => (State::Passing, "Available".to_owned()),
        "Released" => (
            State::Degraded,
            format!("Released by claim {claim_key}, not reclaimed"),
        ),
        "Failed" => (State::Failing, format!("Failed: {message}")),
        "Pending" => (State::Pending, "Pending".to_owned()),
        other => (State::Unknown, format!("phase {other}")),
    }]
}

/// A StorageClass's provisioner and binding mode.
pub fn storage_class(sc: &Value) -> Vec<Finding> {
    vec![(
        State::Passing,
        format!(
            "provisioner {}, binding {}",
            sc["provisioner"].as_str().unwrap_or("?"),
            sc["volumeBindingMode"].as_str().unwrap_or("Immediate")
        ),
    )]
}

/// A ConfigMap or Secret exists; the number of keys (never their names for Secrets).
pub fn exists(resource: &Resource, o: &Value) -> Vec<Finding> {
    let keys = ["data", "binaryData", "stringData"]
        .into_iter()
        .filter_map(|f| o[f].as_object())
        .map(serde_json::Map::len)
        .sum::<usize>();
    let s = if keys == 1 { "" } else { "s" };
    vec![(
        State::Passing,
        format!("{} exists ({keys} key{s})", resource.noun()),
    )]
}
