//! The local alerting cluster driver against REAL Alertmanager 0.25 processes: a
//! controller and workers started as children, gossiping on loopback, configured through
//! the driver's `ConfigBackend`, killed, restarted, scaled and stopped; and the HTTP
//! routes over it.
//!
//! The members run with quick gossip timings (the options expose them). Waits poll the
//! driver's `GET /api/v1/backend` and the members' own APIs with the test kit's
//! `poll_until`, on a blocking thread, so the driver's tasks keep running meanwhile.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_cortex_adapter::config_live::covers;
use alert_cortex_adapter::syncer::conformance::{self, Fixture};
use alert_cortex_adapter::{ConfigBackend, DesiredConfig, FileReloadBackend};
use alert_gateway::backend::local::RestartBackoff;
use alert_gateway::backend::{
    self, Backend, BackendStatus, LocalCluster, LocalOptions, MemberlistSettings, Role,
};
use alert_gateway::control_plane::SHARED_CONFIG;
use alert_gateway::server::{ServeOptions, serve};
use alert_router::builder::sync_id;
use alert_router::validate::ClusterTiming;
use alert_testkit::{alertmanager_bin, http, poll_until};
use async_trait::async_trait;
use serde_json::{Value, json};

/// How long a cluster may take to form, a member to restart and rejoin, peers to drop.
const CONVERGE: Duration = Duration::from_secs(40);

fn duration(s: &str) -> alert_core::Duration {
    s.parse().expect("a duration")
}

/// Quick gossip and restarts; the test kit finds the binary (or fails with the install
/// command).
fn options(dir: &Path, workers: usize) -> LocalOptions {
    LocalOptions {
        data_dir: dir.join("cluster"),
        binary: Some(alertmanager_bin()),
        workers,
        memberlist: MemberlistSettings {
            gossip_interval: duration("50ms"),
            pushpull_interval: duration("1s"),
            peer_timeout: duration("2s"),
            settle_timeout: duration("1s"),
        },
        restart_backoff: RestartBackoff {
            initial: duration("100ms"),
            max: duration("1s"),
            reset_after: duration("10s"),
        },
        stop_grace: duration("5s"),
        extra_flags: vec![
            "--log.level=warn".into(),
            "--cluster.reconnect-interval=1s".into(),
            "--cluster.probe-interval=500ms".into(),
            // Silences are snapshotted to --storage.path every second.
            "--data.maintenance-interval=1s".into(),
        ],
        ..LocalOptions::default()
    }
}

/// A started cluster with its routes served on a loopback port.
struct Harness {
    cluster: LocalCluster,
    api: String,
    http: reqwest::Client,
    _stop: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(workers: usize) -> Harness {
        let dir = tempfile::tempdir().expect("temporary directory");
        let cluster = LocalCluster::start(options(dir.path(), workers))
            .await
            .expect("cluster starts");
        cluster
            .wait_ready(Duration::from_secs(30))
            .await
            .expect("members ready");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let app = backend::routes(Arc::new(cluster.clone()));
        tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));
        Harness {
            cluster,
            api,
            http: reqwest::Client::new(),
            _stop: stop,
            _dir: dir,
        }
    }

    /// Polls `GET /api/v1/backend` until `check` returns `Some`; fails naming `what` and
    /// showing the last status.
    async fn wait_status<T: Send + 'static>(
        &self,
        what: &str,
        mut check: impl FnMut(&BackendStatus) -> Option<T> + Send + 'static,
    ) -> T {
        let url = format!("{}/api/v1/backend", self.api);
        let what = what.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut last = String::from("no answer");
            poll_until(CONVERGE, || {
                let response = http::try_get(&url).ok()?;
                last = response.body.clone();
                let status: BackendStatus = serde_json::from_str(&response.body).ok()?;
                check(&status)
            })
            .unwrap_or_else(|| {
                panic!("timed out after {CONVERGE:?} waiting for {what}; last status: {last}")
            })
        })
        .await
        .expect("the wait ran")
    }

    /// Waits until there are `n` members, every one ready, each reporting every member
    /// as a peer, all running the configuration whose hash is `hash` (any one hash, the
    /// same everywhere, when `None`).
    async fn wait_formed(&self, n: usize, hash: Option<String>) -> BackendStatus {
        self.wait_status(
            &format!("{n} ready members that all see each other"),
            move |s| {
                let mut names: Vec<&str> = s.members.iter().map(|m| m.name.as_str()).collect();
                names.sort_unstable();
                let first_hash = s.members.first().and_then(|m| m.config_hash.clone());
                let formed = s.members.len() == n
                    && s.members.iter().all(|m| {
                        let mut peers: Vec<&str> = m.peers.iter().map(String::as_str).collect();
                        peers.sort_unstable();
                        m.ready
                            && peers == names
                            && m.config_hash.is_some()
                            && m.config_hash == first_hash
                            && hash
                                .as_ref()
                                .is_none_or(|h| m.config_hash.as_ref() == Some(h))
                    });
                formed.then(|| s.clone())
            },
        )
        .await
    }

    async fn put_workers(&self, body: &str, content_type: &str) -> (u16, Value) {
        let response = self
            .http
            .put(format!("{}/api/v1/backend/workers", self.api))
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("PUT answered");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }
}

/// Whether `pid` is a live process (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

/// The command line of `pid`, one argument an entry.
fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn pids(status: &BackendStatus) -> Vec<u32> {
    status.members.iter().filter_map(|m| m.pid).collect()
}

fn desired(yaml: &str) -> DesiredConfig {
    DesiredConfig::new(SHARED_CONFIG, yaml, sync_id(yaml)).unwrap()
}

/// The hash members show for the configuration the first of them runs.
async fn running_hash(cluster: &LocalCluster) -> String {
    let tenant = SHARED_CONFIG.parse().unwrap();
    let running = cluster
        .running(&tenant)
        .await
        .unwrap()
        .expect("a member runs");
    sync_id(&running)
}

/// Runs a blocking check (the test kit's synchronous HTTP) off the runtime's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("the check ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_and_two_workers_form_one_cluster() {
    let h = Harness::start(2).await;
    let status = h.wait_formed(3, None).await;

    let names: Vec<(&str, Role)> = status
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.role))
        .collect();
    assert_eq!(
        names,
        [
            ("controller-0", Role::Controller),
            ("worker-0", Role::Worker),
            ("worker-1", Role::Worker)
        ]
    );
    assert_eq!(status.kind, "local");
    assert_eq!(status.memberlist.peer_timeout, duration("2s"));
    // Nothing applied yet: every member runs the minimal configuration the driver wrote.
    let minimal = desired(alert_gateway::backend::local::MINIMAL_CONFIG);
    assert!(h.cluster.is_live(&minimal).await.unwrap());
    let hash = running_hash(&h.cluster).await;
    assert!(
        status
            .members
            .iter()
            .all(|m| m.config_hash.as_deref() == Some(hash.as_str()) && m.restarts == 0),
        "{status:?}"
    );

    // Each Alertmanager itself reports the three peers.
    let urls = h.cluster.alertmanager_urls();
    assert_eq!(urls.len(), 3);
    let peers = blocking(move || {
        urls.iter()
            .map(|u| {
                http::get_json(&format!("{u}/api/v2/status"))["cluster"]["peers"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(peers, [3, 3, 3]);

    // The controller advertises; the workers join it with --cluster.peer; each member
    // has its own storage, configuration file and memberlist flags as configured.
    let controller = &status.members[0];
    let controller_args = cmdline(controller.pid.unwrap());
    let advertise = controller_args
        .iter()
        .find_map(|a| a.strip_prefix("--cluster.advertise-address="))
        .expect("the controller advertises")
        .to_owned();
    assert!(
        !controller_args
            .iter()
            .any(|a| a.starts_with("--cluster.peer="))
    );
    for worker in &status.members[1..] {
        let args = cmdline(worker.pid.unwrap());
        assert!(
            args.contains(&format!("--cluster.peer={advertise}")),
            "{args:?}"
        );
        let dir = h.cluster.member_dir(&worker.name);
        assert!(args.contains(&format!("--storage.path={}", dir.join("data").display())));
        assert!(args.contains(&format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        )));
        assert!(
            args.contains(&"--cluster.peer-timeout=2000ms".to_owned()),
            "{args:?}"
        );
        assert!(args.contains(&format!("--web.external-url={}", worker.url)));
    }

    // What the router's group_wait check needs: the real peer timeout and member count.
    assert_eq!(
        h.cluster.cluster_timing(),
        ClusterTiming {
            peer_timeout: duration("2s"),
            peers: 3
        }
    );
    // Ports are kept in the data directory.
    let ports: Value = serde_json::from_str(
        &std::fs::read_to_string(h.cluster.data_dir().join("ports.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ports.as_object().map(|o| o.len()), Some(3), "{ports}");

    let metrics = backend::render_metrics(&h.cluster.status().await.unwrap());
    assert!(metrics.contains("alert_gateway_backend_members{role=\"worker\",ready=\"true\"} 2\n"));
    assert!(
        metrics.contains("alert_gateway_backend_members{role=\"controller\",ready=\"true\"} 1\n")
    );
    assert!(
        metrics.contains("alert_gateway_backend_member_restarts_total{member=\"worker-1\"} 0\n")
    );

    h.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_restarted_with_its_storage_config_and_peers() {
    let h = Harness::start(2).await;
    h.wait_formed(3, None).await;

    let yaml = "route:\n  receiver: team\n  group_wait: 10s\nreceivers:\n  - name: team\n";
    let config = desired(yaml);
    let backend = Backend::config_backend(&h.cluster);
    backend.apply(&config).await.expect("applied");
    assert!(backend.is_live(&config).await.unwrap());
    assert!(backend.is_stored(&config).await.unwrap());
    let running = backend
        .running(&config.tenant)
        .await
        .unwrap()
        .expect("a running config");
    assert!(covers(yaml, &running).unwrap(), "{running}");
    let hash = running_hash(&h.cluster).await;
    let status = h.wait_formed(3, Some(hash.clone())).await;

    // A silence made on the controller reaches worker-1 and its storage.
    let controller = status.members[0].url.clone();
    let worker = status.member("worker-1").unwrap().clone();
    let worker_dir = h.cluster.member_dir("worker-1");
    let (silence, worker_url, snapshot) = (
        json!({
            "matchers": [{"name": "alertname", "value": "BackendTest", "isRegex": false, "isEqual": true}],
            "startsAt": jiff::Timestamp::now().to_string(),
            "endsAt": (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string(),
            "createdBy": "backend test",
            "comment": "kept across a kill"
        }),
        worker.url.clone(),
        worker_dir.join("data").join("silences"),
    );
    let id = blocking(move || {
        let posted = http::post_json(&format!("{controller}/api/v2/silences"), &silence)
            .ensure_success()
            .json();
        let id = posted["silenceID"]
            .as_str()
            .expect("a silence id")
            .to_owned();
        let url = format!("{worker_url}/api/v2/silence/{id}");
        poll_until(CONVERGE, || {
            let seen = http::try_get(&url)
                .ok()
                .filter(|r| r.status == 200)
                .is_some();
            let stored = std::fs::metadata(&snapshot).is_ok_and(|m| m.len() > 0);
            (seen && stored).then_some(())
        })
        .expect("the silence reaches worker-1 and its snapshot");
        id
    })
    .await;

    let old_pid = worker.pid.expect("worker-1 runs");
    let old_args = cmdline(old_pid);
    let killed = std::process::Command::new("kill")
        .args(["-9", &old_pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // The driver starts it again; it rejoins and runs the applied configuration.
    h.wait_status("worker-1 restarted once", move |s| {
        let w = s.member("worker-1")?;
        (w.restarts == 1 && w.ready && w.pid.is_some_and(|p| p != old_pid)).then_some(())
    })
    .await;
    let status = h.wait_formed(3, Some(hash)).await;
    let restarted = status.member("worker-1").unwrap();
    assert_eq!(restarted.restarts, 1);
    assert!(
        restarted
            .last_exit
            .as_deref()
            .is_some_and(|e| e.contains("signal")),
        "{restarted:?}"
    );
    assert!(!alive(old_pid));
    let new_args = cmdline(restarted.pid.unwrap());
    assert_eq!(
        new_args, old_args,
        "same flags: storage path, ports, config file"
    );
    assert!(new_args.contains(&format!(
        "--storage.path={}",
        worker_dir.join("data").display()
    )));

    // The silence is on it.
    let url = format!("{}/api/v2/silence/{id}", restarted.url);
    let silence = blocking(move || http::get_json(&url)).await;
    assert_eq!(silence["status"]["state"], "active", "{silence}");
    assert_eq!(silence["comment"], "kept across a kill");
    assert!(backend.is_live(&config).await.unwrap());

    let metrics = backend::render_metrics(&h.cluster.status().await.unwrap());
    assert!(
        metrics.contains("alert_gateway_backend_member_restarts_total{member=\"worker-1\"} 1\n")
    );
    h.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_scale_up_on_the_applied_config_and_down_highest_first() {
    let h = Harness::start(2).await;
    h.wait_formed(3, None).await;
    let yaml = "route:\n  receiver: scaled\n  group_wait: 45s\nreceivers:\n  - name: scaled\n";
    let config = desired(yaml);
    h.cluster
        .config_backend()
        .apply(&config)
        .await
        .expect("applied");
    let hash = running_hash(&h.cluster).await;

    let (code, body) = h.put_workers(r#"{"workers": 3}"#, "application/json").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["members"].as_array().map(Vec::len), Some(4), "{body}");
    let status = h.wait_formed(4, Some(hash.clone())).await;
    let new = status.member("worker-2").expect("worker-2 started");
    assert_eq!(new.restarts, 0);
    assert_eq!(
        std::fs::read_to_string(h.cluster.member_dir("worker-2").join("alertmanager.yml")).unwrap(),
        yaml
    );
    assert_eq!(h.cluster.cluster_timing().peers, 4);

    let stopped: Vec<u32> = ["worker-1", "worker-2"]
        .iter()
        .filter_map(|n| status.member(n).and_then(|m| m.pid))
        .collect();
    assert_eq!(stopped.len(), 2);
    let (code, body) = h.put_workers(r#"{"workers": 1}"#, "application/json").await;
    assert_eq!(code, 200, "{body}");
    let names: Vec<&str> = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["controller-0", "worker-0"]);
    for pid in &stopped {
        assert!(!alive(*pid), "pid {pid} still runs after scaling down");
    }
    h.wait_formed(2, Some(hash)).await;
    assert_eq!(h.cluster.alertmanager_urls().len(), 2);
    assert_eq!(h.cluster.cluster_timing().peers, 2);
    h.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_drop_stop_every_child() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(options(dir.path(), 2)).await.unwrap();
    cluster.wait_ready(Duration::from_secs(30)).await.unwrap();
    let running = pids(&cluster.status().await.unwrap());
    assert_eq!(running.len(), 3);
    assert!(running.iter().all(|p| alive(*p)));
    cluster.shutdown().await;
    for pid in &running {
        assert!(!alive(*pid), "pid {pid} still runs after shutdown");
    }
    assert!(cluster.status().await.unwrap().members.is_empty());
    let refused = cluster.scale_workers(1).await.unwrap_err();
    assert!(refused.to_string().contains("shut down"), "{refused}");
    cluster.shutdown().await;

    // Without shutdown, dropping the last handle kills the children.
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(options(dir.path(), 1)).await.unwrap();
    cluster.wait_ready(Duration::from_secs(30)).await.unwrap();
    let running = pids(&cluster.status().await.unwrap());
    assert_eq!(running.len(), 2);
    drop(cluster);
    blocking(move || {
        poll_until(Duration::from_secs(10), || {
            running.iter().all(|p| !alive(*p)).then_some(())
        })
        .expect("children gone after the driver was dropped")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_cluster_passes_the_config_backend_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(options(dir.path(), 1)).await.unwrap();
    cluster.wait_ready(Duration::from_secs(30)).await.unwrap();
    let mut fixture = Fixture::new(
        SHARED_CONFIG,
        "route: {receiver: a}\nreceivers: [{name: a}]\n",
        "route: {receiver: b, group_wait: 45s}\nreceivers: [{name: b}]\n",
        "route: {receiver: nope}\nreceivers: [{name: a}]\n",
    );
    fixture.live_timeout = Duration::from_secs(20);
    conformance::run_all(&cluster, &fixture).await.unwrap();

    // Only the shared configuration is served.
    let other = DesiredConfig::new("tenant-a", "route: {receiver: a}\n", "x").unwrap();
    let refused = cluster.apply(&other).await.unwrap_err().to_string();
    assert!(refused.contains(SHARED_CONFIG), "{refused}");

    // A member that is down at apply time gets the file, and runs it once it is back.
    let worker = cluster.status().await.unwrap().members[1].clone();
    let signal = |sig: &str| {
        let pid = worker.pid.expect("worker-0 runs").to_string();
        let sent = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    signal("-STOP");
    let deadline = tokio::time::Instant::now() + CONVERGE;
    while cluster.status().await.unwrap().members[1].ready {
        assert!(
            tokio::time::Instant::now() < deadline,
            "worker-0 still ready while stopped"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let while_down = desired("route:\n  receiver: while-down\nreceivers:\n  - name: while-down\n");
    cluster
        .apply(&while_down)
        .await
        .expect("applied to the ready members");
    assert!(
        cluster.is_stored(&while_down).await.unwrap(),
        "every file written"
    );
    signal("-CONT");
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        // Live first, then the status: read the other way round, a member could be
        // reloaded in between and show its old hash.
        if cluster.is_live(&while_down).await.unwrap() {
            let s = cluster.status().await.unwrap();
            if s.members.iter().all(|m| m.ready) {
                assert_eq!(s.members[0].config_hash, s.members[1].config_hash, "{s:?}");
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "worker-0 did not pick up the file: {:?}",
            cluster.status().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(cluster.status().await.unwrap().members[1].restarts, 0);

    // The configuration applied last is remembered: a member started later runs it.
    let last = desired("route:\n  receiver: last\nreceivers:\n  - name: last\n");
    cluster.apply(&last).await.unwrap();
    cluster.scale_workers(2).await.unwrap();
    cluster.wait_ready(Duration::from_secs(30)).await.unwrap();
    let status = cluster.status().await.unwrap();
    assert!(cluster.is_live(&last).await.unwrap());
    assert_eq!(
        status
            .member("worker-1")
            .and_then(|m| m.config_hash.clone()),
        Some(running_hash(&cluster).await)
    );
    let applied = std::fs::read_to_string(cluster.data_dir().join("applied.json")).unwrap();
    assert!(applied.contains(&last.sync_id), "{applied}");
    cluster.shutdown().await;

    // A restarted driver keeps every member's ports and starts them on it.
    let again = LocalCluster::start(options(dir.path(), 1)).await.unwrap();
    again.wait_ready(Duration::from_secs(30)).await.unwrap();
    let restarted = again.status().await.unwrap();
    assert_eq!(
        restarted.members.iter().map(|m| &m.url).collect::<Vec<_>>(),
        status
            .members
            .iter()
            .take(2)
            .map(|m| &m.url)
            .collect::<Vec<_>>()
    );
    assert!(again.is_live(&last).await.unwrap());
    again.shutdown().await;
}

/// A backend that records what it is asked, for the routes' input checks.
#[derive(Default)]
struct Recording {
    scaled: Mutex<Vec<usize>>,
}

#[async_trait]
impl Backend for Recording {
    fn driver(&self) -> &'static str {
        "recording"
    }
    async fn status(&self) -> alert_gateway::Result<BackendStatus> {
        Ok(BackendStatus {
            kind: "recording".into(),
            members: Vec::new(),
            memberlist: MemberlistSettings::default(),
        })
    }
    async fn scale_workers(&self, workers: usize) -> alert_gateway::Result<()> {
        backend::check_workers(workers as u64)?;
        self.scaled.lock().unwrap().push(workers);
        Ok(())
    }
    fn alertmanager_urls(&self) -> Vec<String> {
        Vec::new()
    }
    fn cluster_timing(&self) -> ClusterTiming {
        ClusterTiming::new(0)
    }
    fn config_backend(&self) -> Arc<dyn ConfigBackend> {
        Arc::new(FileReloadBackend::new())
    }
}

#[tokio::test]
async fn bad_worker_counts_are_refused_with_json_errors_naming_the_field() {
    let recording = Arc::new(Recording::default());
    let app = backend::routes(recording.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));
    let client = reqwest::Client::new();
    let put = |body: &'static str, content_type: &'static str| {
        let request = client
            .put(format!("{api}/api/v1/backend/workers"))
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let code = response.status().as_u16();
            (code, response.json::<Value>().await.unwrap())
        }
    };
    for (body, content_type, code, needle) in [
        (
            r#"{"workers": 1000}"#,
            "application/json",
            400,
            "workers: 1000 is out of range; expected 0 to 32",
        ),
        (
            r#"{"workers": -1}"#,
            "application/json",
            400,
            "workers: expected an integer",
        ),
        (
            r#"{"workers": "two"}"#,
            "application/json",
            400,
            "workers: expected an integer",
        ),
        (r#"{}"#, "application/json", 400, "workers: missing"),
        (
            r#"{"replicas": 2}"#,
            "application/json",
            400,
            "replicas: unknown field",
        ),
        (r#"{"workers": "#, "application/json", 400, "body:"),
        (r#"{"workers": 2}"#, "text/plain", 415, "application/json"),
    ] {
        let (got, answer) = put(body, content_type).await;
        assert_eq!(got, code, "{body}: {answer}");
        assert_eq!(answer["status"], "error", "{answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(needle), "{body}: {error}");
        if code == 400 {
            assert_eq!(answer["errorType"], "bad_data");
        }
    }
    assert!(
        recording.scaled.lock().unwrap().is_empty(),
        "nothing reached the backend"
    );

    let (got, answer) = put(r#"{"workers": 32}"#, "application/json").await;
    assert_eq!(got, 200, "{answer}");
    assert_eq!(answer["kind"], "recording");
    assert_eq!(*recording.scaled.lock().unwrap(), [32]);
    let shown = client
        .get(format!("{api}/api/v1/backend"))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status().as_u16(), 200);
}
