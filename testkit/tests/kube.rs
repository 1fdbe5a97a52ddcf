//! The Kubernetes API fixture speaks the protocol: the real kubectl 1.20 (Debian's
//! `kubernetes-client`) lists and filters what it serves, including events written
//! through events.k8s.io/v1; the events API validates as kube-apiserver does.

use std::process::Command;

use alert_testkit::kube::KubeApi;
use serde_json::{Value, json};

fn kubectl(kubeconfig: &std::path::Path, args: &[&str]) -> Value {
    let out = Command::new(alert_testkit::kubectl_bin())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("kubectl printed JSON")
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn pod(ns: &str, name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]},
           "status": {"phase": "Running"}})
}

fn event(name: &str, note: &str) -> Value {
    json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "eventTime": "2026-12-07T00:00:00.000000Z",
        "reportingController": "alert-gateway",
        "reportingInstance": "emitter-0",
        "action": "Notify",
        "reason": "AlertFiring",
        "type": "Warning",
        "note": note,
        "regarding": {"kind": "Deployment", "namespace": "default", "name": "web", "apiVersion": "apps/v1"}
    })
}

fn call(api: &KubeApi, method: &str, path: &str, content_type: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", api.url());
    let auth = format!("Bearer {}", api.token());
    let response = match method {
        "POST" => agent
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", content_type)
            .send(body.to_string()),
        "PATCH" => agent
            .patch(&url)
            .header("authorization", &auth)
            .header("content-type", content_type)
            .send(body.to_string()),
        _ => agent.get(&url).header("authorization", &auth).call(),
    }
    .unwrap();
    let status = response.status().as_u16();
    let body: Value =
        serde_json::from_reader(response.into_body().into_reader()).unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn kubectl_lists_and_filters_objects() {
    let api = KubeApi::start();
    api.add(pod("shop", "web-0", "web"));
    api.add(pod("shop", "api-0", "api"));
    api.add(pod("default", "web-1", "web"));
    api.add(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 2}}));
    let dir = tempfile::tempdir().unwrap();
    let config = api.write_kubeconfig(dir.path());

    let all = kubectl(&config, &["get", "pods", "-A", "-o", "json"]);
    let mut got = names(&all);
    got.sort();
    assert_eq!(got, ["api-0", "web-0", "web-1"]);
    let shop = kubectl(&config, &["get", "pods", "-n", "shop", "-o", "json"]);
    assert_eq!(names(&shop).len(), 2);
    let web = kubectl(
        &config,
        &["get", "pods", "-A", "-l", "app in (web)", "-o", "json"],
    );
    assert_eq!(names(&web).len(), 2);
    let one = kubectl(
        &config,
        &[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "metadata.name=api-0",
            "-o",
            "json",
        ],
    );
    assert_eq!(names(&one), ["api-0"]);
    let single = kubectl(
        &config,
        &["get", "deployment", "web", "-n", "shop", "-o", "json"],
    );
    assert_eq!(single["spec"]["replicas"], 2);
    assert!(api.count("GET", "/api") > 0, "kubectl used discovery");
}

#[test]
fn events_written_through_events_v1_read_back_through_kubectl() {
    let api = KubeApi::start();
    let (status, created) = call(
        &api,
        "POST",
        "/apis/events.k8s.io/v1/namespaces/default/events",
        "application/json",
        &event("web.1", "CPU high"),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["note"], "CPU high");
    let (status, body) = call(
        &api,
        "POST",
        "/apis/events.k8s.io/v1/namespaces/default/events",
        "application/json",
        &event("web.1", "again"),
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );

    // A repeat is a series: merge-patch it.
    let patch = json!({"series": {"count": 2, "lastObservedTime": "2026-12-07T00:01:00.000000Z"}});
    let (status, patched) = call(
        &api,
        "PATCH",
        "/apis/events.k8s.io/v1/namespaces/default/events/web.1",
        "application/merge-patch+json",
        &patch,
    );
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["series"]["count"], 2);
    let (status, body) = call(
        &api,
        "PATCH",
        "/apis/events.k8s.io/v1/namespaces/default/events/web.1",
        "application/merge-patch+json",
        &json!({"note": "changed"}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"]["causes"][0]["field"], "note");
    let (status, _) = call(
        &api,
        "PATCH",
        "/apis/events.k8s.io/v1/namespaces/default/events/web.1",
        "application/json-patch+json",
        &json!([]),
    );
    assert_eq!(status, 415);
    let (status, _) = call(
        &api,
        "PATCH",
        "/apis/events.k8s.io/v1/namespaces/default/events/nope",
        "application/merge-patch+json",
        &patch,
    );
    assert_eq!(status, 404);

    let dir = tempfile::tempdir().unwrap();
    let config = api.write_kubeconfig(dir.path());
    let events = kubectl(&config, &["get", "events", "-n", "default", "-o", "json"]);
    assert_eq!(
        events["items"][0]["message"], "CPU high",
        "core/v1 shows the note as message"
    );
    assert_eq!(events["items"][0]["reportingComponent"], "alert-gateway");
    assert_eq!(events["items"][0]["involvedObject"]["name"], "web");
    let by_object = kubectl(
        &config,
        &[
            "get",
            "events",
            "-A",
            "--field-selector",
            "involvedObject.name=web",
            "-o",
            "json",
        ],
    );
    assert_eq!(names(&by_object), ["web.1"]);
    let new_api = kubectl(
        &config,
        &[
            "get",
            "events.v1.events.k8s.io",
            "-n",
            "default",
            "-o",
            "json",
        ],
    );
    assert_eq!(new_api["items"][0]["note"], "CPU high");
}

#[test]
fn invalid_events_and_bad_requests_get_kubernetes_statuses() {
    let api = KubeApi::builder()
        .require_token()
        .forbid("patch", "events")
        .start();
    let path = "/apis/events.k8s.io/v1/namespaces/default/events";
    for (mutate, field) in [
        (json!({"eventTime": null}), "eventTime"),
        (json!({"type": "Error"}), "type"),
        (json!({"action": ""}), "action"),
        (json!({"reason": "x".repeat(129)}), "reason"),
        (json!({"note": "x".repeat(1025)}), "note"),
        (json!({"reportingController": ""}), "reportingController"),
        (json!({"deprecatedCount": 3}), "deprecatedCount"),
        (
            json!({"series": {"count": 1, "lastObservedTime": "2026-12-07T00:00:00Z"}}),
            "series.count",
        ),
        (
            json!({"regarding": {"kind": "Node", "name": "n1", "namespace": null}, "metadata": {"name": "e", "namespace": "shop"}}),
            "regarding.namespace",
        ),
    ] {
        let mut e = event("e", "n");
        merge(&mut e, &mutate);
        let target = if mutate["metadata"]["namespace"] == "shop" {
            "/apis/events.k8s.io/v1/namespaces/shop/events"
        } else {
            path
        };
        let (status, body) = call(&api, "POST", target, "application/json", &e);
        assert_eq!(status, 422, "{mutate}: {body}");
        assert_eq!(body["reason"], "Invalid");
        let fields: Vec<&str> = body["details"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{mutate}: {fields:?}");
    }
    let (status, body) = call(
        &api,
        "POST",
        "/apis/events.k8s.io/v1/namespaces/other/events",
        "application/json",
        &event("e", "n"),
    );
    assert_eq!((status, body["reason"].as_str()), (400, Some("BadRequest")));
    let (status, _) = call(&api, "POST", path, "application/json", &event("ok", "n"));
    assert_eq!(status, 201);
    let (status, body) = call(
        &api,
        "PATCH",
        &format!("{path}/ok"),
        "application/merge-patch+json",
        &json!({}),
    );
    assert_eq!((status, body["reason"].as_str()), (403, Some("Forbidden")));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let anonymous = agent
        .get(&format!("{}/api/v1/pods", api.url()))
        .call()
        .unwrap();
    assert_eq!(
        anonymous.status().as_u16(),
        401,
        "require_token refuses anonymous requests"
    );
    let wrong = agent
        .get(&format!("{}/api/v1/pods", api.url()))
        .header("authorization", "Bearer wrong")
        .call()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
}

fn merge(target: &mut Value, patch: &Value) {
    if let (Value::Object(t), Value::Object(p)) = (target, patch) {
        for (k, v) in p {
            match (t.get_mut(k), v) {
                (Some(existing @ Value::Object(_)), Value::Object(_)) => merge(existing, v),
                _ => {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
    }
}
