//! Services and Ingresses.
//!
//! - Service: judged on its Endpoints (the object of the same name the endpoints
//!   controller keeps): no ready address fails (`no ready endpoints`, with the not-ready
//!   count), some not ready is Degraded, all ready passes. An `ExternalName` Service has
//!   no endpoints and passes, naming its target. Its pods (`Service → Pods` by selector)
//!   are judged through the registry.
//! - Ingress: passes, noting its paths and load-balancer address. Each path
//!   (`Ingress#path`, the default backend too) must name a Service that exists with
//!   the port it names; a path to a missing Service or port fails. The Services
//!   themselves are judged through the registry (`Ingress#path → Service`).

use serde_json::Value;

use super::Finding;
use crate::kubernetes::object::{self, Lists};
use crate::kubernetes::resource;
use crate::state::State;

/// A Service's ready endpoints.
pub fn service(s: &Value, lists: &Lists) -> Vec<Finding> {
    if s["spec"]["type"].as_str() == Some("ExternalName") {
        let to = s["spec"]["externalName"].as_str().unwrap_or("?");
        return vec![(
            State::Passing,
            format!("ExternalName {to}: no endpoints to check"),
        )];
    }
    let ns = object::namespace(s);
    if !lists.has(&resource::ENDPOINTS, ns) {
        return vec![(State::Unknown, "endpoints were not listed".to_owned())];
    }
    let Some(ep) = lists.find(&resource::ENDPOINTS, ns, object::name(s)) else {
        return vec![(
            State::Failing,
            "no ready endpoints: no Endpoints object".to_owned(),
        )];
    };
    let (mut ready, mut not_ready) = (0, 0);
    for subset in object::array(&ep["subsets"]) {
        ready += object::array(&subset["addresses"]).len();
        not_ready += object::array(&subset["notReadyAddresses"]).len();
    }
    let f = match (ready, not_ready) {
        (0, 0) => (State::Failing, "no ready endpoints".to_owned()),
        (0, n) => (
            State::Failing,
            format!("no ready endpoints ({n} not ready)"),
        ),
        (r, 0) => (State::Passing, format!("{r} ready endpoints")),
        (r, n) => (
            State::Degraded,
            format!("{r} ready endpoints, {n} not ready"),
        ),
    };
    vec![f]
}

/// One path of an Ingress (or its default backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressPath {
    /// `example.com/api`, `*/`, or `default backend`.
    pub shown: String,
    /// The backend Service's name, when it is a Service.
    pub service: Option<String>,
    /// The backend port: `80` or `http`.
    pub port: Option<String>,
}

fn backend(b: &Value, shown: String) -> IngressPath {
    let svc = &b["service"];
    let port = &svc["port"];
    IngressPath {
        shown,
        service: svc["name"].as_str().map(str::to_owned),
        port: port["number"]
            .as_i64()
            .map(|n| n.to_string())
            .or_else(|| port["name"].as_str().map(str::to_owned)),
    }
}

/// Every path of an Ingress, the default backend first.
pub fn ingress_paths(ing: &Value) -> Vec<IngressPath> {
    let mut out = Vec::new();
    let default = &ing["spec"]["defaultBackend"];
    if default.is_object() {
        out.push(backend(default, "default backend".to_owned()));
    }
    for rule in object::array(&ing["spec"]["rules"]) {
        let host = rule["host"].as_str().unwrap_or("*");
        for p in object::array(&rule["http"]["paths"]) {
            let path = p["path"].as_str().unwrap_or("/");
            out.push(backend(&p["backend"], format!("{host}{path}")));
        }
    }
    out
}

/// An Ingress's own state.
pub fn ingress(ing: &Value) -> Vec<Finding> {
    let n = ingress_paths(ing).len();
    let addresses: Vec<&str> = object::array(&ing["status"]["loadBalancer"]["ingress"])
        .iter()
        .filter_map(|i| i["ip"].as_str().or_else(|| i["hostname"].as_str()))
        .collect();
    let at = if addresses.is_empty() {
        "no load-balancer address yet".to_owned()
    } else {
        format!("at {}", addresses.join(", "))
    };
    vec![(State::Passing, format!("{n} paths, {at}"))]
}

/// Each path's backend: the Service exists and has the port.
pub fn ingress_path_findings(ing: &Value, lists: &Lists) -> Vec<Finding> {
    let ns = object::namespace(ing);
    ingress_paths(ing)
        .into_iter()
        .map(|p| {
            let Some(name) = &p.service else {
                return (
                    State::Passing,
                    format!("path {}: a resource backend", p.shown),
                );
            };
            let port = p.port.clone().unwrap_or_else(|| "?".to_owned());
            let head = format!("path {} -> service {name}:{port}", p.shown);
            let Some(svc) = lists.find(&resource::SERVICE, ns, name) else {
                let key = ns.map_or(name.clone(), |ns| format!("{ns}/{name}"));
                return (State::Failing, format!("{head}: service {key} not found"));
            };
            let has_port = object::array(&svc["spec"]["ports"]).iter().any(|sp| {
                sp["port"].as_i64().map(|n| n.to_string()).as_deref() == Some(port.as_str())
                    || sp["name"].as_str() == Some(port.as_str())
            });
            if has_port {
                (State::Passing, head)
            } else {
                (
                    State::Failing,
                    format!("{head}: the service has no port {port}"),
                )
            }
        })
        .collect()
}
