//! `alert-health eval` and `serve` on a graph naming Kubernetes objects, against the
//! test kit's Kubernetes API server fixture (there is no API server on these machines):
//! the cluster read through `--kubeconfig` or `$KUBECONFIG`, and `--fail-on` exit codes.

mod health_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use alert_testkit::http;
use alert_testkit::kube::KubeApi;
use health_support::{HealthServer, eval, write_graph};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The health graph's scenarios (`alert-health-graph/tests/fixtures/kubernetes`).
fn cluster() -> KubeApi {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../alert-health-graph/tests/fixtures/kubernetes/shop.json");
    let text = std::fs::read_to_string(&path).expect("the scenarios");
    let objects: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON");
    let api = KubeApi::builder().require_token().start();
    for o in objects {
        api.add(o);
    }
    api
}

const SHOP: &str = "\
sensors:
  - {name: bad-image, kind: kubernetes.io/Pod, params: {namespace: shop, name: bad-image}}
  - {name: logs, kind: kubernetes.io/PersistentVolumeClaim, params: {namespace: shop, name: logs}}
  - {name: nodes, kind: kubernetes.io/Node}
services:
  - {name: frontend, system: bad-image}
  - {name: storage, system: logs}
  - {name: compute, system: nodes}
";

fn graph(dir: &Path, yaml: &str) -> PathBuf {
    write_graph(dir, "cluster.yml", yaml)
}

#[test]
fn eval_reads_the_cluster_of_the_kubeconfig_and_fails_on_a_state() {
    let api = cluster();
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = api.write_kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().expect("UTF-8 path");
    let path = graph(dir.path(), SHOP);

    let out = eval(&path, &["--kubeconfig", kubeconfig, "--only-failing"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("container app: waiting: ImagePullBackOff"),
        "{}",
        stdout(&out)
    );

    let out = eval(&path, &["--kubeconfig", kubeconfig, "--fail-on", "failing"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "alert-health: 1 service at or worse than failing: frontend (failing)\n"
    );
    let out = eval(&path, &["--kubeconfig", kubeconfig, "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "alert-health: services at or worse than degraded: frontend (failing), compute (degraded)\n"
    );

    // `$KUBECONFIG` when there is no flag; a passing graph exits 0 with --fail-on.
    let passing = graph(
        dir.path(),
        "sensors:\n  - {name: logs, kind: kubernetes.io/PersistentVolumeClaim, params: {namespace: shop, name: logs}}\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_alert-health"))
        .args(["eval", "--fail-on", "warning", "--graph"])
        .arg(&passing)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run alert-health");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("logs"), "{}", stdout(&out));
}

#[test]
fn a_kubeconfig_that_cannot_be_read_is_a_bad_graph() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = graph(dir.path(), SHOP);
    let missing = dir.path().join("no-such-kubeconfig");
    let out = eval(&path, &["--kubeconfig", missing.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "alert-health: kubernetes {}: reading the client configuration: ",
            missing.display()
        )),
        "{err}"
    );
    // A graph without Kubernetes kinds never reads a kubeconfig.
    let plain = write_graph(
        dir.path(),
        "plain.yml",
        "sensors:\n  - {name: a, constant: passing}\n",
    );
    let out = eval(&plain, &["--kubeconfig", missing.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn serve_reads_the_cluster_of_the_kubeconfig() {
    let api = cluster();
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = api.write_kubeconfig(dir.path());
    let path = graph(dir.path(), SHOP);
    let server = HealthServer::start(
        dir.path(),
        &path,
        &["--kubeconfig", kubeconfig.to_str().expect("UTF-8 path")],
    );
    let explain = http::get_json(&server.url("/api/v1/explain/frontend"));
    assert_eq!(
        explain["paths"],
        serde_json::json!([
            "frontend -> bad-image -> bad-image/containers (failing): pod shop/bad-image: \
             container app: waiting: ImagePullBackOff: Back-off pulling image \"nginx:1.99-nope\""
        ])
    );
    assert!(api.count("GET", "/api/v1/namespaces/shop/pods") >= 1);
}
