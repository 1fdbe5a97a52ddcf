//! `alertctl gateway ...`, the real binary, against a real alert-gateway data plane
//! (SQLite store, bearer token) served in-process on a free loopback port.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use alert_gateway::api::{ApiOptions, data_plane_routes, guarded};
use alert_gateway::server::{ServeOptions, serve};
use alert_gateway::store::sqlite::SqliteStore;
use alert_gateway::store::{ConfigStore, Key, Kind};
use serde_json::Value;

const TOKEN: &str = "gw-s3cret-t0ken";

/// The sample spec: two endpoints, three conditions, and a build-only key.
const SAMPLE: &str = include_str!("../data/spec.yaml");

/// A data plane on a runtime of its own; stops when dropped.
struct Gateway {
    url: String,
    store: Arc<SqliteStore>,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Gateway {
    fn start() -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("gateway.db")).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // The data plane and the control plane's tenant reports, as `--target all` serves them.
        let options = ApiOptions {
            token: Some(TOKEN.into()),
            ..ApiOptions::default()
        };
        let shared: alert_gateway::store::SharedStore = store.clone();
        let routes = data_plane_routes(Arc::clone(&shared), &options).merge(
            alert_gateway::control_plane::report::routes(Arc::clone(&shared)),
        );
        let app = guarded(routes, options, Some(shared));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        runtime.spawn(serve(listener, app, ServeOptions::default(), stopped));
        std::fs::write(dir.path().join("token"), format!("  {TOKEN}\n")).unwrap();
        Gateway {
            url,
            store,
            runtime,
            dir,
            stop,
        }
    }

    fn token_file(&self) -> PathBuf {
        self.dir.path().join("token")
    }

    /// Writes `text` to a file in the gateway's directory.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `alertctl gateway ARGS` with this gateway's URL and token.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let token = self.token_file();
        let mut all = vec![
            "gateway",
            "--gateway.url",
            &self.url,
            "--gateway.token-file",
            token.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        alertctl(&all, stdin)
    }

    /// Runs a command that must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        run.stdout
    }

    /// The stored JSON of one object.
    fn stored(&self, kind: Kind, id: &str) -> Option<String> {
        let key = Key::new(kind, id).unwrap();
        self.runtime
            .block_on(self.store.get(&key))
            .unwrap()
            .map(|r| r.value)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn alertctl(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alertctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("alertctl starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    let out = child.wait_with_output().expect("alertctl ends");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 errors"),
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The summary (last) line of a plan.
fn summary(out: &str) -> &str {
    out.lines().last().unwrap_or_default()
}

#[test]
fn apply_is_idempotent_dry_runs_change_nothing_and_get_round_trips() {
    let gw = Gateway::start();
    let spec = gw.file("spec.yaml", SAMPLE);

    let run = gw.run(&["spec", "apply", "-f", path_str(&spec)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "created: endpoints/ops-slack\n\
         created: endpoints/pager\n\
         created: conditions/cpu-high\n\
         created: conditions/disk-full\n\
         created: conditions/watchdog\n\
         Applied at revision 1: 5 created, 0 updated, 0 deleted, 0 unchanged.\n",
        "the plan lists keys in the store's order"
    );
    assert_eq!(
        run.stderr,
        format!(
            "alertctl: warning: {}: history_webhook only configures `alertctl config build`; not sent to the gateway\n",
            spec.display()
        )
    );
    let pager = gw.stored(Kind::Endpoint, "pager").unwrap();
    assert!(
        pager.contains("0123456789abcdef0123456789abcdef"),
        "{pager}"
    );

    // Again: nothing to do.
    let out = gw.ok(&["spec", "apply", "-f", path_str(&spec)]);
    assert_eq!(
        out,
        "Up to date at revision 1: 0 created, 0 updated, 0 deleted, 5 unchanged.\n"
    );

    // A dry run says what would change and changes nothing.
    let changed = SAMPLE
        .replace("severity: warning", "severity: critical")
        .replace(
            "  - id: watchdog\n    name: Alerting pipeline heartbeat\n    severity: info\n    endpoints: [ops-slack]\n",
            "",
        )
        .replace(
            "conditions:\n",
            "conditions:\n  - {id: mem-high, tenant: cluster-a, endpoints: [pager]}\n",
        );
    let changed = gw.file("changed.yaml", &changed);
    let out = gw.ok(&["spec", "apply", "--dry-run", "-f", path_str(&changed)]);
    assert_eq!(
        out,
        "would create: conditions/mem-high\n\
         would update: conditions/disk-full\n\
         would delete: conditions/watchdog\n\
         Dry run against revision 1: would create 1, update 1, delete 1; 3 unchanged.\n"
    );
    assert!(gw.stored(Kind::Condition, "watchdog").is_some());
    assert!(gw.stored(Kind::Condition, "mem-high").is_none());
    let listed = gw.ok(&["condition", "list", "--severity", "warning"]);
    assert!(listed.contains("disk-full"), "{listed}");

    // spec get prints secrets as <secret>; applied back, it changes nothing and the
    // stored secrets stay.
    let yaml = gw.ok(&["spec", "get"]);
    assert!(yaml.contains("<secret>"), "{yaml}");
    assert!(!yaml.contains("0123456789abcdef"), "{yaml}");
    let got = gw.file("got.yaml", &yaml);
    let out = gw.ok(&["spec", "apply", "-f", path_str(&got)]);
    assert_eq!(
        summary(&out),
        "Up to date at revision 1: 0 created, 0 updated, 0 deleted, 5 unchanged."
    );
    assert_eq!(gw.stored(Kind::Endpoint, "pager").unwrap(), pager);

    let json: Value = serde_json::from_str(&gw.ok(&["spec", "get", "-o", "json"])).unwrap();
    assert_eq!(json["endpoints"][1]["pagerduty"]["routing_key"], "<secret>");
    assert_eq!(json["conditions"].as_array().unwrap().len(), 3);

    // Applied for real, from standard input.
    let run = gw.run_with_stdin(
        &["spec", "apply", "-f", "-"],
        &std::fs::read_to_string(&changed).unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        summary(&run.stdout),
        "Applied at revision 2: 1 created, 1 updated, 1 deleted, 3 unchanged."
    );
    assert!(
        run.stderr.contains("<stdin>: history_webhook"),
        "{}",
        run.stderr
    );
    assert!(gw.stored(Kind::Condition, "watchdog").is_none());
    assert!(gw.stored(Kind::Condition, "mem-high").is_some());
}

#[test]
fn conditions_list_filter_get_and_delete() {
    let gw = Gateway::start();
    let spec = gw.file("spec.yaml", SAMPLE);
    gw.ok(&["spec", "apply", "-f", path_str(&spec)]);

    let table = gw.ok(&["condition", "list"]);
    assert_eq!(
        table,
        "ID         TENANT     KIND        SEVERITY  ENDPOINTS        REVISION  \n\
         cpu-high   cluster-a  prometheus  critical  ops-slack,pager  1         \n\
         disk-full  cluster-b  external    warning   ops-slack        1         \n\
         watchdog   -          external    info      ops-slack        1         \n"
    );
    let ids = |out: &str| -> Vec<String> {
        out.lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&gw.ok(&["condition", "list", "--tenant", "cluster-a"])),
        ["cpu-high"]
    );
    assert_eq!(
        ids(&gw.ok(&["condition", "list", "--severity", "info"])),
        ["watchdog"]
    );
    assert_eq!(
        ids(&gw.ok(&["condition", "list", "--kind", "external"])),
        ["disk-full", "watchdog"]
    );
    assert_eq!(
        gw.ok(&["condition", "list", "--tenant", "nobody"]),
        "ID  TENANT  KIND  SEVERITY  ENDPOINTS  REVISION  \n"
    );
    let items: Value =
        serde_json::from_str(&gw.ok(&["condition", "list", "--tenant", "cluster-b", "-o", "json"]))
            .unwrap();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["revision"], 1);
    assert_eq!(items[0]["object"]["id"], "disk-full");

    let yaml = gw.ok(&["condition", "get", "cpu-high"]);
    assert!(yaml.starts_with("id: cpu-high\n"), "{yaml}");
    assert!(yaml.contains("tenant: cluster-a\n"), "{yaml}");
    let json: Value =
        serde_json::from_str(&gw.ok(&["condition", "get", "cpu-high", "-o", "json"])).unwrap();
    assert_eq!(json["severity"], "critical");

    // A stale revision is refused with the gateway's 412; the condition stays.
    let run = gw.run(&["condition", "delete", "cpu-high", "--if-match", "7"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "alertctl: error: gateway answered 412: conditions/cpu-high: precondition failed: \
         it is at revision 1, not 7\n"
    );
    assert!(gw.stored(Kind::Condition, "cpu-high").is_some());

    let out = gw.ok(&["condition", "delete", "cpu-high", "--if-match", "1"]);
    assert_eq!(out, "Deleted conditions/cpu-high at revision 2.\n");
    let run = gw.run(&["condition", "get", "cpu-high"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "alertctl: error: gateway answered 404: conditions/cpu-high not found\n"
    );
}

#[test]
fn errors_say_what_and_keep_secrets() {
    let gw = Gateway::start();

    // The gateway's 422 names the field path.
    let bad = gw.file(
        "bad.yaml",
        "endpoints:\n  - {id: pager, pagerduty: {routing_key: k}}\nconditions:\n  - {id: cpu-high, endpoints: [nope]}\n",
    );
    let run = gw.run(&["spec", "apply", "-f", path_str(&bad)]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with(
            "alertctl: error: gateway answered 422: conditions[cpu-high].endpoints[0].id: "
        ),
        "{}",
        run.stderr
    );
    assert!(
        gw.stored(Kind::Endpoint, "pager").is_none(),
        "nothing applied"
    );

    // Unknown keys are refused before anything is sent.
    let typo = gw.file("typo.yaml", "endpoint: []\nconditions: []\n");
    let run = gw.run(&["spec", "apply", "-f", path_str(&typo)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(&format!(
            "alertctl: error: {}: unknown field `endpoint`",
            typo.display()
        )),
        "{}",
        run.stderr
    );
    let run = gw.run_with_stdin(&["spec", "apply", "-f", "-"], "");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("<stdin>: "), "{}", run.stderr);

    // A wrong token: 401, and the token is not printed.
    let wrong = gw.file("wrong-token", "not-the-token\n");
    let run = alertctl(
        &[
            "gateway",
            "condition",
            "list",
            "--gateway.url",
            &gw.url,
            "--gateway.token-file",
            path_str(&wrong),
        ],
        "",
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "alertctl: error: gateway answered 401: missing or wrong bearer token\n"
    );
    // No token at all: the message says how to give one.
    let run = alertctl(&["gateway", "spec", "get", "--gateway.url", &gw.url], "");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "alertctl: error: gateway answered 401: missing or wrong bearer token \
         (give the token with --gateway.token-file)\n"
    );
    let empty = gw.file("empty-token", " \n");
    let run = alertctl(
        &[
            "gateway",
            "spec",
            "get",
            "--gateway.token-file",
            path_str(&empty),
        ],
        "",
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "alertctl: error: --gateway.token-file {}: the file is empty\n",
            empty.display()
        )
    );

    // Nothing listening: the message names the URL, its credentials redacted.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://admin:hunter2@127.0.0.1:{port}");
    let run = gw.run(&["spec", "get", "--gateway.url", &url]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(&format!(
            "alertctl: error: cannot reach the gateway at http://<secret>@127.0.0.1:{port}: "
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("onnection refused"), "{}", run.stderr);
    // Something listening that never answers: the timeout says so.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let run = gw.run(&["spec", "get", "--gateway.url", &url, "--timeout", "300ms"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!("alertctl: error: the gateway at {url} did not answer within 300ms (--timeout)\n")
    );
    drop(silent);

    let run = gw.run(&["spec", "get", "--gateway.url", "127.0.0.1:9095"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "alertctl: error: --gateway.url 127.0.0.1:9095: expected an http:// or https:// URL\n"
    );
}

#[test]
fn secrets_never_reach_the_output() {
    let gw = Gateway::start();
    let spec = gw.file("spec.yaml", SAMPLE);
    let mut outputs = vec![gw.run(&["spec", "apply", "-f", path_str(&spec)])];
    let url = format!("http://admin:hunter2@127.0.0.1:1/?token={TOKEN}");
    outputs.push(gw.run(&["spec", "get", "--gateway.url", &url]));
    outputs.push(gw.run(&["spec", "get", "-o", "json"]));
    outputs.push(gw.run(&["condition", "delete", "nope"]));
    for run in &outputs {
        for secret in [TOKEN, "hunter2", "0123456789abcdef", "T000/B000"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{secret} shown: {}{}",
                run.stdout,
                run.stderr
            );
        }
    }
    assert!(
        outputs[1]
            .stderr
            .contains("http://<secret>@127.0.0.1:1/?token=<secret>")
    );
}

#[test]
fn tenants_prints_the_control_planes_reports() {
    use alert_gateway::control_plane::TenantReport;
    use alert_gateway::store::{Expect, Op, Txn};
    let gw = Gateway::start();
    let report = |tenant: Option<&str>, state: &str, error: Option<&str>| -> TenantReport {
        serde_json::from_value(serde_json::json!({
            "tenant": tenant,
            "state": state,
            "desired_sync_id": "0123456789abcdef0123",
            "applied_sync_id": if error.is_some() { "fedcba9876543210" } else { "0123456789abcdef0123" },
            "rules": {"backend": "prometheus", "groups": ["condition:a", "condition:b"], "confirmed": error.is_none()},
            "last_error": error,
            "failures": u32::from(error.is_some()),
            "last_applied": "2026-12-07T03:00:00Z",
            "revision": 7,
            "leader": "replica-a",
            "term": 3,
        }))
        .unwrap()
    };
    let reports = [
        report(Some("cluster-a"), "in_sync", None),
        report(
            Some("cluster-b"),
            "failed",
            Some("conditions/x: Alertmanager refused:\tunable to load CA"),
        ),
        report(None, "in_sync", None),
    ];
    let ops = reports
        .iter()
        .map(|r| Op::Put {
            key: Key::new(Kind::Tenant, TenantReport::store_id(r.tenant.as_deref())).unwrap(),
            value: serde_json::to_string(r).unwrap(),
            expect: Expect::Absent,
        })
        .collect();
    gw.runtime.block_on(gw.store.txn(Txn::new(ops))).unwrap();

    let run = gw.run(&["tenants"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(lines[0].starts_with("TENANT"), "{}", lines[0]);
    let a = lines.iter().find(|l| l.starts_with("cluster-a")).unwrap();
    assert!(
        a.contains("in-sync") && a.contains("0123456789ab ") && a.contains("2 groups"),
        "{a}"
    );
    let b = lines.iter().find(|l| l.starts_with("cluster-b")).unwrap();
    assert!(
        b.contains("failed") && b.contains("fedcba987654") && b.contains("(unconfirmed)"),
        "{b}"
    );
    assert!(
        b.contains("Alertmanager refused: unable to load CA"),
        "tabs in errors do not break the table: {b}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("(no tenant)")),
        "{}",
        run.stdout
    );

    let one = gw.run(&["tenants", "--tenant", "cluster-b", "-o", "json"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let parsed: Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(parsed[0]["state"], "failed");
    let missing = gw.run(&["tenants", "--tenant", "nope"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("404"), "{}", missing.stderr);
}
