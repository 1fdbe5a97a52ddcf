//! The gateway as real processes on bad days: kill -9 during a write loop (nothing
//! acknowledged is lost), and (feature `etcd`) leader candidates killed or paused on a
//! real 3-member etcd cluster (the successor leads within the lease and the old leader's
//! fenced writes are refused), and two gateway replicas losing no update while the etcd
//! leader dies.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

use support::GatewayProcess;

/// PUTs a condition; `Some(revision)` when acknowledged.
fn put_condition(
    base: &str,
    id: &str,
    annotation: &str,
    if_match: Option<u64>,
) -> Result<u64, u16> {
    let body = json!({
        "tenant": "cluster-a",
        "prometheus": {"query": "up == 0"},
        "annotations": {"counter": annotation},
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(15)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent
        .put(&format!("{base}/api/v1/conditions/{id}"))
        .header("content-type", "application/json");
    if let Some(r) = if_match {
        request = request.header("if-match", &format!("\"{r}\""));
    }
    match request.send(body.to_string()) {
        Ok(r) if r.status() == 200 || r.status() == 201 => {
            let etag = r
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim_matches('"').parse().ok())
                .unwrap_or(0);
            Ok(etag)
        }
        Ok(r) => Err(r.status().as_u16()),
        Err(_) => Err(0),
    }
}

/// Writes the counter condition with `If-Match`, stamped with the writer's token.
fn put_counter(base: &str, value: u64, writer: &str, if_match: u64) -> Result<u64, u16> {
    let body = json!({
        "tenant": "cluster-a",
        "prometheus": {"query": "up == 0"},
        "annotations": {"counter": value.to_string(), "writer": writer},
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(15)))
        .http_status_as_error(false)
        .build()
        .into();
    let answer = agent
        .put(&format!("{base}/api/v1/conditions/counter"))
        .header("content-type", "application/json")
        .header("if-match", &format!("\"{if_match}\""))
        .send(body.to_string());
    match answer {
        Ok(r) if r.status() == 200 || r.status() == 201 => Ok(if_match),
        Ok(r) => Err(r.status().as_u16()),
        Err(_) => Err(0),
    }
}

fn get_condition(base: &str, id: &str) -> Option<(Value, u64)> {
    let r = ureq::get(&format!("{base}/api/v1/conditions/{id}"))
        .call()
        .ok()?;
    let etag = r
        .headers()
        .get("etag")?
        .to_str()
        .ok()?
        .trim_matches('"')
        .parse()
        .ok()?;
    let body: Value = serde_json::from_reader(r.into_body().into_reader()).ok()?;
    Some((body, etag))
}

#[test]
fn kill_9_during_writes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("gateway.db").display());
    let mut gw = GatewayProcess::start(&store);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    for round in 0..3 {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let base = gw.base.clone();
                let acked = Arc::clone(&acknowledged);
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let id = format!("r{round}-w{w}-{i}");
                        if let Ok(revision) = put_condition(&base, &id, &format!("{i}"), None) {
                            acked.lock().unwrap().push((id, i, revision));
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        // Let writes run, then kill -9 in the middle of them.
        let started = Instant::now();
        while acknowledged.lock().unwrap().len() < (round + 1) * 150
            && started.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        gw.kill();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        gw.restart();
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        acked.len() >= 450,
        "writes were acknowledged: {}",
        acked.len()
    );
    for (id, i, revision) in &acked {
        let (body, etag) = get_condition(&gw.base, id)
            .unwrap_or_else(|| panic!("acknowledged condition {id} is missing after kill -9"));
        assert_eq!(body["annotations"]["counter"], i.to_string(), "{id}");
        assert_eq!(
            etag, *revision,
            "{id} kept the revision it was acknowledged with"
        );
    }
}

#[cfg(feature = "etcd")]
mod etcd {
    use std::io::{BufRead, BufReader};

    use super::*;
    use alert_testkit::etcd::EtcdCluster;

    /// A candidate process (`gateway-candidate`) whose output lines are collected.
    struct Candidate {
        child: Child,
        lines: Arc<Mutex<Vec<(Instant, String)>>>,
    }

    impl Candidate {
        fn start(store: &str, holder: &str, ttl_ms: u64) -> Candidate {
            let mut child = Command::new(env!("CARGO_BIN_EXE_gateway-candidate"))
                .args([
                    "--store",
                    store,
                    "--holder",
                    holder,
                    "--ttl-ms",
                    &ttl_ms.to_string(),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push((Instant::now(), line));
                }
            });
            Candidate { child, lines }
        }

        /// The term it leads in, if its last LEADING was not followed by FENCED/LOST.
        fn leading(&self) -> Option<u64> {
            let lines = self.lines.lock().unwrap();
            let mut term = None;
            for (_, l) in lines.iter() {
                if let Some(t) = l.strip_prefix("LEADING ") {
                    term = t.parse().ok();
                } else if l.starts_with("FENCED") || l.starts_with("LOST") {
                    term = None;
                }
            }
            term
        }

        fn saw(&self, prefix: &str) -> Option<Instant> {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .find(|(_, l)| l.starts_with(prefix))
                .map(|(t, _)| *t)
        }

        fn signal(&self, signal: &str) {
            let status = Command::new("kill")
                .args([signal, &self.child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    impl Drop for Candidate {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f() {
                return Some(v);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every write to the fence log, in revision order: (revision, term).
    fn fence_log(endpoints: &[String]) -> Vec<(u64, u64)> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let url = format!("etcd:{}", endpoints.join(","));
            let store = alert_gateway::store::open(&url, None).await.unwrap();
            let mut watch = store.watch(0).await.unwrap();
            let now = store.revision().await.unwrap();
            let mut out = Vec::new();
            while let Ok(Some(Ok(event))) =
                tokio::time::timeout(Duration::from_secs(2), watch.next()).await
            {
                if let Some(value) = event.value {
                    let v: Value = serde_json::from_str(&value).unwrap();
                    out.push((event.revision, v["term"].as_u64().unwrap()));
                }
                if event.revision >= now {
                    break;
                }
            }
            out
        })
    }

    fn assert_terms_never_go_back(log: &[(u64, u64)]) {
        for pair in log.windows(2) {
            assert!(
                pair[1].1 >= pair[0].1,
                "a write of term {} (revision {}) came after term {} (revision {}): a stale leader wrote",
                pair[1].1,
                pair[1].0,
                pair[0].1,
                pair[0].0
            );
        }
    }

    const TTL_MS: u64 = 2000;

    #[test]
    fn a_killed_leader_is_succeeded_within_the_lease() {
        let cluster = EtcdCluster::start(3);
        let store = format!("etcd:{}", cluster.endpoints().join(","));
        let candidates: Vec<Candidate> = ["a", "b", "c"]
            .iter()
            .map(|h| Candidate::start(&store, h, TTL_MS))
            .collect();
        let leader = wait_for(Duration::from_secs(20), || {
            candidates.iter().position(|c| c.leading().is_some())
        })
        .expect("someone leads");
        let old_term = candidates[leader].leading().unwrap();
        let mut candidates = candidates;
        let killed_at = Instant::now();
        let _ = candidates[leader].child.kill();
        let _ = candidates[leader].child.wait();
        let next = wait_for(Duration::from_millis(TTL_MS + 3000), || {
            candidates
                .iter()
                .enumerate()
                .find(|(i, c)| *i != leader && c.leading().is_some_and(|t| t > old_term))
                .map(|(i, _)| i)
        })
        .expect("a successor leads");
        let took = candidates[next]
            .saw(&format!("LEADING {}", candidates[next].leading().unwrap()))
            .unwrap()
            - killed_at;
        assert!(
            took <= Duration::from_millis(TTL_MS + 1000),
            "the successor led {took:?} after the kill; the lease is {TTL_MS} ms"
        );
        assert_terms_never_go_back(&fence_log(&cluster.endpoints()));
    }

    #[test]
    fn a_paused_leader_is_fenced_when_it_resumes() {
        let cluster = EtcdCluster::start(3);
        let store = format!("etcd:{}", cluster.endpoints().join(","));
        let candidates: Vec<Candidate> = ["a", "b", "c"]
            .iter()
            .map(|h| Candidate::start(&store, h, TTL_MS))
            .collect();
        let leader = wait_for(Duration::from_secs(20), || {
            candidates.iter().position(|c| c.leading().is_some())
        })
        .expect("someone leads");
        let old_term = candidates[leader].leading().unwrap();
        candidates[leader].signal("-STOP");
        let stopped_at = Instant::now();
        let next = wait_for(Duration::from_millis(TTL_MS + 3000), || {
            candidates
                .iter()
                .enumerate()
                .find(|(i, c)| *i != leader && c.leading().is_some_and(|t| t > old_term))
                .map(|(i, _)| i)
        })
        .expect("a successor leads while the old leader is paused");
        let new_term = candidates[next].leading().unwrap();
        let took = candidates[next]
            .saw(&format!("LEADING {new_term}"))
            .unwrap()
            - stopped_at;
        assert!(
            took <= Duration::from_millis(TTL_MS + 1000),
            "the successor led {took:?} after the pause; the lease is {TTL_MS} ms"
        );
        // Let the new leader write, then resume the old one: its next write is fenced.
        std::thread::sleep(Duration::from_millis(300));
        candidates[leader].signal("-CONT");
        let fenced = wait_for(Duration::from_secs(10), || {
            candidates[leader].saw(&format!("FENCED {old_term}"))
        });
        assert!(
            fenced.is_some(),
            "the resumed leader's write of term {old_term} was refused"
        );
        let log = fence_log(&cluster.endpoints());
        assert!(
            log.iter().any(|(_, t)| *t == new_term),
            "the new leader wrote"
        );
        assert_terms_never_go_back(&log);
    }

    #[test]
    fn two_replicas_lose_no_update_while_the_etcd_leader_dies() {
        let mut cluster = EtcdCluster::start(3);
        let store = format!("etcd:{}", cluster.endpoints().join(","));
        let replicas = [GatewayProcess::start(&store), GatewayProcess::start(&store)];
        let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
        put_condition(&bases[0], "counter", "0", None).expect("the counter is created");
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let base = bases[w % 2].clone();
                let done = Arc::clone(&done);
                std::thread::spawn(move || {
                    let mut retries = 0;
                    for i in 0..250 {
                        // Each write carries its writer's token, so that a write whose
                        // answer was lost (a 503 or a dropped connection while etcd
                        // elects: the outcome is unknown) is recognised by reading back,
                        // as a careful client of any compare-and-set store must.
                        let token = format!("w{w}-{i}");
                        loop {
                            let Some((body, etag)) = get_condition(&base, "counter") else {
                                retries += 1;
                                std::thread::sleep(Duration::from_millis(20));
                                continue;
                            };
                            if body["annotations"]["writer"] == token.as_str() {
                                break; // the previous attempt was applied
                            }
                            let n: u64 = body["annotations"]["counter"]
                                .as_str()
                                .unwrap()
                                .parse()
                                .unwrap();
                            match put_counter(&base, n + 1, &token, etag) {
                                Ok(_) => break,
                                Err(412) => retries += 1,
                                Err(_) => {
                                    retries += 1;
                                    std::thread::sleep(Duration::from_millis(20));
                                }
                            }
                        }
                        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    retries
                })
            })
            .collect();
        wait_for(Duration::from_secs(60), || {
            (done.load(std::sync::atomic::Ordering::Relaxed) >= 300).then_some(())
        })
        .expect("writes progress");
        let leader = cluster.wait_for_leader();
        cluster.kill(leader);
        for w in writers {
            w.join().unwrap();
        }
        let (body, _) = get_condition(&bases[1], "counter").unwrap();
        assert_eq!(
            body["annotations"]["counter"], "1000",
            "every increment counted exactly once"
        );
        drop(replicas);
    }

    #[test]
    fn without_quorum_writes_answer_503_and_resume_with_it() {
        let mut cluster = EtcdCluster::start(3);
        let gw = GatewayProcess::start(&format!("etcd:{}", cluster.endpoints().join(",")));
        let first = put_condition(&gw.base, "before", "1", None).expect("a write with quorum");
        cluster.kill(0);
        cluster.kill(1);
        let started = Instant::now();
        let refused = put_condition(&gw.base, "during", "1", None);
        let took = started.elapsed();
        assert_eq!(
            refused,
            Err(503),
            "no quorum: 503, not a hang or a false acknowledgement"
        );
        assert!(took < Duration::from_secs(14), "answered in {took:?}");
        cluster.restart(0);
        cluster.restart(1);
        let resumed = wait_for(Duration::from_secs(30), || {
            put_condition(&gw.base, "after", "1", None).ok()
        });
        assert!(
            resumed.is_some(),
            "writes resume once the cluster has quorum again"
        );
        let (_, etag) = get_condition(&gw.base, "before").expect("the acknowledged write is there");
        assert_eq!(etag, first);
    }
}
