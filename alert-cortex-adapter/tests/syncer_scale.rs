//! The syncer over many tenants against a scripted Cortex (wiremock standing in for the
//! store and the per-tenant status; the real-process behaviour is in `cortex_fixture.rs`):
//! 1,000 tenants with one changed send exactly one write, and a restarted syncer writes
//! nothing. (Concurrency bounds are checked in the syncer's unit tests: wiremock answers
//! one request at a time.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use alert_cortex_adapter::{
    Addressing, AlertmanagerClient, CortexBackend, DesiredConfig, SyncOptions, Syncer, TenantState,
    UserConfig,
};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Stores what is posted per `X-Scope-OrgID`, serves it back as the running config, and
/// counts writes.
#[derive(Default)]
struct FakeCortex {
    store: Mutex<HashMap<String, UserConfig>>,
    writes: AtomicUsize,
}

struct Responder(Arc<FakeCortex>);

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.answer(req)
    }
}

impl FakeCortex {
    fn answer(&self, req: &Request) -> ResponseTemplate {
        let Some(org) = req
            .headers
            .get("x-scope-orgid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
        else {
            return ResponseTemplate::new(401).set_body_string("no org id\n");
        };
        let mut store = self.store.lock().unwrap();
        match (req.method.as_str(), req.url.path()) {
            ("POST", "/api/v1/alerts") => {
                self.writes.fetch_add(1, Ordering::SeqCst);
                let body = String::from_utf8_lossy(&req.body);
                store.insert(org, UserConfig::from_yaml(&body).unwrap());
                ResponseTemplate::new(201)
            }
            ("DELETE", "/api/v1/alerts") => {
                self.writes.fetch_add(1, Ordering::SeqCst);
                store.remove(&org);
                ResponseTemplate::new(200)
            }
            ("GET", "/api/v1/alerts") => match store.get(&org) {
                Some(c) => ResponseTemplate::new(200).set_body_string(c.to_yaml().unwrap()),
                None => ResponseTemplate::new(404)
                    .set_body_string("alertmanager storage object not found\n"),
            },
            ("GET", "/alertmanager/api/v2/status") => match store.get(&org) {
                Some(c) => ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "cluster": {"status": "disabled", "peers": []},
                    "versionInfo": {"version": "0.25.0", "revision": "", "branch": "",
                                    "buildUser": "", "buildDate": "", "goVersion": ""},
                    "config": {"original": c.alertmanager_config},
                    "uptime": "2024-05-01T10:00:00.000Z"
                })),
                None => ResponseTemplate::new(404)
                    .set_body_string("the Alertmanager is not configured\n"),
            },
            _ => ResponseTemplate::new(404),
        }
    }
}

fn config(receiver: &str) -> String {
    format!("route:\n  receiver: {receiver}\nreceivers:\n  - name: {receiver}\n")
}

fn desired(n: usize, changed: Option<usize>) -> Vec<DesiredConfig> {
    (0..n)
        .map(|i| {
            let (cfg, id) = if Some(i) == changed {
                (config("changed"), "v2")
            } else {
                (config(&format!("r{i}")), "v1")
            };
            DesiredConfig::new(format!("tenant-{i:04}"), cfg, id).unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_tenants_one_changed_sends_one_write() {
    let server = MockServer::start().await;
    let fake = Arc::new(FakeCortex::default());
    Mock::given(wiremock::matchers::any())
        .respond_with(Responder(Arc::clone(&fake)))
        .mount(&server)
        .await;
    let client = AlertmanagerClient::builder(server.uri())
        .addressing(Addressing::cortex("any").unwrap())
        .build()
        .unwrap();
    let options = SyncOptions {
        concurrency: 16,
        ..SyncOptions::default()
    };
    let backend = CortexBackend::new(client);
    let mut syncer = Syncer::with_options(&backend, options.clone());

    let first = syncer.sync(&desired(1000, None)).await;
    assert_eq!(first.writes, 1000);
    assert_eq!(fake.writes.load(Ordering::SeqCst), 1000);
    assert!(first.all_in_sync());
    assert_eq!(first.in_state(TenantState::Applied).count(), 1000);

    // One tenant changes: exactly one write.
    let second = syncer.sync(&desired(1000, Some(417))).await;
    assert_eq!(second.writes, 1);
    assert_eq!(fake.writes.load(Ordering::SeqCst), 1001);
    assert_eq!(second.in_state(TenantState::InSync).count(), 999);
    let changed = second.tenant("tenant-0417").unwrap();
    assert_eq!(changed.state, TenantState::Applied);
    assert_eq!(changed.applied_sync_id.as_deref(), Some("v2"));

    // A restarted syncer finds everything stored and running: no write.
    let mut restarted = Syncer::with_options(&backend, options);
    let third = restarted.sync(&desired(1000, Some(417))).await;
    assert_eq!(third.writes, 0);
    assert_eq!(fake.writes.load(Ordering::SeqCst), 1001);
    assert_eq!(third.in_state(TenantState::InSync).count(), 1000);
}
