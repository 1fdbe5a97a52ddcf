//! The control plane's functional APIs against REAL processes: a 3-member Alertmanager 0.25
//! gossip cluster with a hand-written configuration, Prometheus 2.42, and the test kit's
//! webhook sink; conditions and endpoints in a SQLite store.
//!
//! The processes are started once and shared by the tests that run at the same time
//! (each test uses its own condition and endpoint ids and its own store); they are
//! stopped when the last test holding them ends. The two tests that watch the `webhook`
//! counters take turns, because those counters are per integration type.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use alert_core::{AlertCondition, AlertEndpoint};
use alert_cortex_adapter::{Addressing, AlertmanagerClient, Cluster};
use alert_gateway::api::{ApiOptions, guarded};
use alert_gateway::data_plane::{DataPlane, Precondition};
use alert_gateway::functional::{
    AlertmanagerTenancy, ENDPOINT_TEST_LABEL, Functional, PrometheusApi, TEST_ALERTNAME,
    TEST_ID_LABEL, routes,
};
use alert_gateway::server::{ServeOptions, serve};
use alert_gateway::store::sqlite::SqliteStore;
use alert_testkit::{Prometheus, WebhookSink, free_port, http};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The processes every test shares.
struct Backends {
    cluster: alert_testkit::Cluster,
    prometheus: Prometheus,
    sink: WebhookSink,
    /// A webhook URL on a port nothing listens on.
    refused_url: String,
}

/// The configuration the control plane would write, by hand: the history webhook first
/// (it sees every alert), one test route per endpoint receiver, then the condition routes.
/// Condition alerts go to a receiver with no integrations, and the history route waits an
/// hour, so that only test notifications move the `webhook` counters while tests run.
fn alertmanager_config(sink_url: &str, refused_url: &str) -> String {
    let test_route = |endpoint: &str| {
        format!(
            "  - receiver: {endpoint}\n    matchers: ['{ENDPOINT_TEST_LABEL}=\"{endpoint}\"']\n    \
             group_by: ['...']\n    group_wait: 0s\n    group_interval: 1m\n    \
             repeat_interval: 1h\n    continue: false\n"
        )
    };
    format!(
        "route:\n  receiver: blackhole\n  group_by: [alertname]\n  routes:\n  \
         - receiver: alert-router:history\n    continue: true\n    group_by: ['...']\n    \
         group_wait: 1h\n{}{}{}  \
         - receiver: untested\n    matchers: ['alert_condition_id=\"uses-untested\"']\n  \
         - receiver: conditions\n    matchers: ['alert_condition_id=~\".+\"']\n    \
         group_by: [alert_condition_id]\n\
         receivers:\n\
         - name: blackhole\n\
         - name: conditions\n\
         - name: alert-router:history\n  webhook_configs: [{{url: '{sink_url}history'}}]\n\
         - name: sink\n  webhook_configs: [{{url: '{sink_url}', send_resolved: false}}]\n\
         - name: refused\n  webhook_configs: [{{url: '{refused_url}', send_resolved: false}}]\n\
         - name: mismatched\n  webhook_configs: [{{url: '{sink_url}mismatched'}}]\n\
         - name: untested\n  webhook_configs: [{{url: '{sink_url}untested', send_resolved: false}}]\n",
        test_route("sink"),
        test_route("refused"),
        test_route("mismatched"),
    )
}

impl Backends {
    fn start() -> Backends {
        let sink = WebhookSink::start();
        let refused_url = format!("http://127.0.0.1:{}/hook", free_port());
        let cluster =
            alert_testkit::Cluster::start(3, &alertmanager_config(&sink.url(), &refused_url));
        let prometheus = Prometheus::start();
        Backends {
            cluster,
            prometheus,
            sink,
            refused_url,
        }
    }

    /// The processes, started by the first test that asks while none run.
    async fn shared() -> Arc<Backends> {
        static SHARED: Mutex<Weak<Backends>> = Mutex::new(Weak::new());
        tokio::task::spawn_blocking(|| {
            let mut slot = SHARED.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(running) = slot.upgrade() {
                return running;
            }
            let started = Arc::new(Backends::start());
            *slot = Arc::downgrade(&started);
            started
        })
        .await
        .unwrap()
    }

    fn cluster_target(&self) -> AlertmanagerTenancy {
        let members = self
            .cluster
            .members()
            .iter()
            .map(|m| AlertmanagerClient::builder(m.base_url()).build().unwrap())
            .collect();
        AlertmanagerTenancy::Shared(Cluster::new(members).unwrap())
    }

    fn prometheus_api(&self) -> PrometheusApi {
        PrometheusApi::prometheus(&self.prometheus.base_url()).unwrap()
    }

    /// Every member's active silences for `condition`, as `(id, matchers)`.
    fn active_silences(&self, condition: &str) -> Vec<Vec<(String, Vec<String>)>> {
        self.cluster
            .members()
            .iter()
            .map(|m| {
                let Value::Array(all) = http::get_json(&m.api_url("/silences")) else {
                    panic!("GET /api/v2/silences did not answer an array");
                };
                let mut mine: Vec<(String, Vec<String>)> =
                    all.iter()
                        .filter(|s| s["status"]["state"] == "active")
                        .filter(|s| {
                            s["matchers"].as_array().unwrap().iter().any(|m| {
                                m["name"] == "alert_condition_id" && m["value"] == condition
                            })
                        })
                        .map(|s| {
                            let mut matchers: Vec<String> = s["matchers"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|m| format!("{}={}", m["name"], m["value"]))
                                .collect();
                            matchers.sort();
                            (s["id"].as_str().unwrap().to_owned(), matchers)
                        })
                        .collect();
                mine.sort();
                mine
            })
            .collect()
    }

    /// Each member's state of silence `id`.
    fn silence_states(&self, id: &str) -> Vec<String> {
        self.cluster
            .members()
            .iter()
            .map(|m| {
                let s = http::get_json(&m.api_url(&format!("/silence/{id}")));
                s["status"]["state"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

/// The webhook counters of the cluster are watched by one test at a time.
static WEBHOOK_COUNTERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The functional routes over a store of their own, served on a free port.
struct Gateway {
    base: String,
    client: reqwest::Client,
    plane: DataPlane,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Gateway {
    async fn start(
        alertmanager: AlertmanagerTenancy,
        prometheus: Option<PrometheusApi>,
    ) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("gateway.db")).unwrap());
        let functional = Functional::new(store.clone(), alertmanager, prometheus);
        let app = guarded(routes(Arc::new(functional)), ApiOptions::default(), None);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));
        Gateway {
            base,
            client: reqwest::Client::new(),
            plane: DataPlane::new(store),
            _dir: dir,
            _stop: stop,
        }
    }

    async fn condition(&self, id: &str, body: Value) {
        self.plane
            .put::<AlertCondition>(id, body, Precondition::None)
            .await
            .unwrap();
    }

    async fn endpoint(&self, id: &str, body: Value) {
        self.plane
            .put::<AlertEndpoint>(id, body, Precondition::None)
            .await
            .unwrap();
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} answered {status} with no JSON ({e}): {text}"));
        (status, value)
    }

    async fn silence(&self, condition: &str, body: Value) -> (StatusCode, Value) {
        let path = format!("/api/v1/conditions/{condition}/silence");
        self.call(Method::POST, &path, Some(body)).await
    }

    async fn unsilence(&self, condition: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/conditions/{condition}/silence");
        self.call(Method::DELETE, &path, None).await
    }

    async fn status(&self, condition: &str) -> Value {
        let path = format!("/api/v1/conditions/{condition}/status");
        let (status, body) = self.call(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn test_send(&self, endpoint: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/endpoints/{endpoint}/test");
        self.call(Method::POST, &path, None).await
    }
}

/// Asserts the JSON error shape; answers the message.
fn expect_error(answer: &(StatusCode, Value), status: StatusCode, error_type: &str) -> String {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["errorType"], error_type, "{body}");
    body["error"].as_str().unwrap().to_owned()
}

/// Asks `check` until it answers `Some`, for at most 30 s.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 30 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_are_replaced_not_piled_up_and_expire_on_every_member() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), None).await;
    gw.condition("silence-a", json!({"tenant": "cluster-a"}))
        .await;
    let ours = vec![
        r#""alert_condition_id"="silence-a""#.to_owned(),
        r#""tenant"="cluster-a""#.to_owned(),
    ];

    let created = gw
        .silence(
            "silence-a",
            json!({"duration": "2h", "comment": "maintenance", "created_by": "ops"}),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let first = created.1["silence_id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.1["matchers"],
        json!([r#"alert_condition_id="silence-a""#, r#"tenant="cluster-a""#])
    );
    assert_eq!(created.1["replaced"], json!([]));
    // The call waited until every member showed it.
    for (i, member) in backends.active_silences("silence-a").iter().enumerate() {
        assert_eq!(member, &[(first.clone(), ours.clone())], "member {i}");
    }

    let again = gw
        .silence("silence-a", json!({"duration": "3h", "comment": "longer"}))
        .await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    // Alertmanager updates the silence in place or expires it for a new one; either way
    // one silence stands, with the new end.
    let second = again.1["silence_id"].as_str().unwrap().to_owned();
    assert_eq!(again.1["replaced"], json!([first.clone()]));
    assert!(
        again.1["ends_at"].as_str() > created.1["ends_at"].as_str(),
        "{} then {}",
        created.1,
        again.1
    );
    eventually("one active silence on every member", async || {
        let members = backends.active_silences("silence-a");
        members
            .iter()
            .all(|m| m == &[(second.clone(), ours.clone())])
            .then_some(())
    })
    .await;

    let (status, expired) = gw.unsilence("silence-a").await;
    assert_eq!(status, StatusCode::OK, "{expired}");
    assert_eq!(expired, json!({"expired": [second.clone()]}));
    assert_eq!(backends.silence_states(&second), ["expired"; 3]);
    assert_eq!(backends.silence_states(&first), ["expired"; 3]);

    let (status, none) = gw.unsilence("silence-a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none, json!({"expired": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_alertmanager_from_firing_to_silenced() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), Some(backends.prometheus_api())).await;
    gw.condition("status-am", json!({})).await;

    let quiet = gw.status("status-am").await;
    assert_eq!(quiet["state"], "inactive", "{quiet}");
    assert_eq!(quiet["tenant"], Value::Null);
    assert!(quiet.get("reason").is_none(), "{quiet}");

    let alert = json!([{"labels": {"alertname": "StatusTest", "alert_condition_id": "status-am"}}]);
    for member in backends.cluster.members() {
        member.post_alerts(&alert).ensure_success();
    }
    let firing = gw.status("status-am").await;
    assert_eq!(firing["state"], "firing", "{firing}");
    assert_eq!(firing["alerts"].as_array().unwrap().len(), 1, "{firing}");
    assert_eq!(firing["alerts"][0]["labels"]["alertname"], "StatusTest");
    assert_eq!(firing["alerts"][0]["source"], "alertmanager");
    assert_eq!(firing["silences"], json!([]));

    let (code, silence) = gw
        .silence("status-am", json!({"duration": "1h", "comment": "quiet"}))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{silence}");
    let silenced = gw.status("status-am").await;
    assert_eq!(silenced["state"], "silenced", "{silenced}");
    assert_eq!(silenced["alerts"][0]["state"], "silenced");
    assert_eq!(
        silenced["alerts"][0]["silencedBy"],
        json!([silence["silence_id"]])
    );
    assert_eq!(silenced["silences"], json!([silence["silence_id"]]));

    let (code, _) = gw.unsilence("status-am").await;
    assert_eq!(code, StatusCode::OK);
    let again = gw.status("status-am").await;
    assert_eq!(again["state"], "firing", "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_pending_and_firing_alerts_from_prometheus() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), Some(backends.prometheus_api())).await;
    gw.condition("prom-pending", json!({})).await;
    gw.condition("prom-firing", json!({})).await;
    std::fs::write(
        backends.prometheus.rules_dir().join("functional.yml"),
        r"groups:
- name: functional
  rules:
  - alert: PromPending
    expr: vector(1) > 0
    for: 1h
    labels: {alert_condition_id: prom-pending}
  - alert: PromFiring
    expr: vector(1) > 0
    for: 0s
    labels: {alert_condition_id: prom-firing}
",
    )
    .unwrap();
    backends.prometheus.reload().ensure_success();

    let pending = eventually("prom-pending to be pending", async || {
        let s = gw.status("prom-pending").await;
        (s["state"] == "pending").then_some(s)
    })
    .await;
    assert_eq!(pending["alerts"][0]["source"], "prometheus", "{pending}");
    assert_eq!(pending["alerts"][0]["labels"]["alertname"], "PromPending");
    assert!(pending["alerts"][0]["startsAt"].is_string(), "{pending}");

    let firing = eventually("prom-firing to fire", async || {
        let s = gw.status("prom-firing").await;
        (s["state"] == "firing").then_some(s)
    })
    .await;
    assert_eq!(firing["alerts"].as_array().unwrap().len(), 1, "{firing}");
    assert_eq!(firing["alerts"][0]["source"], "prometheus");
    assert_eq!(firing["alerts"][0]["labels"]["alertname"], "PromFiring");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_conditions_and_a_missing_prometheus_are_explained() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), None).await;
    gw.condition(
        "disabled-one",
        json!({"disabled": true, "tenant": "cluster-b"}),
    )
    .await;
    gw.condition("no-prometheus", json!({})).await;

    let disabled = gw.status("disabled-one").await;
    assert_eq!(disabled["state"], "inactive");
    assert_eq!(disabled["tenant"], "cluster-b");
    assert!(
        disabled["reason"].as_str().unwrap().contains("disabled"),
        "{disabled}"
    );

    let alone = gw.status("no-prometheus").await;
    assert_eq!(alone["state"], "inactive");
    assert!(
        alone["reason"]
            .as_str()
            .unwrap()
            .contains("no Prometheus is configured"),
        "{alone}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_notification_reaches_only_its_endpoint_and_is_delivered() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), None).await;
    gw.endpoint(
        "sink",
        json!({"send_resolved": false, "webhook": {"url": backends.sink.url()}}),
    )
    .await;

    let _turn = WEBHOOK_COUNTERS.lock().await;
    let (status, answer) = gw.test_send("sink").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "delivered", "{answer}");
    assert_eq!(answer["integration"], "webhook");
    assert_eq!(answer["endpoint"], "sink");
    assert_eq!(answer["resolved"], true);
    assert!(
        answer["caveats"][0]
            .as_str()
            .unwrap()
            .contains("alert-router:history"),
        "the history webhook shares the counters: {answer}"
    );
    let member = answer["member"].as_str().unwrap();
    assert!(
        backends
            .cluster
            .members()
            .iter()
            .any(|m| m.base_url() == member),
        "{answer}"
    );

    // Alertmanager answered its counters only after the sink answered it.
    let received = backends.sink.received();
    assert_eq!(received.len(), 1, "exactly the test notification");
    let message = received[0].json();
    assert_eq!(message["receiver"], "sink");
    assert_eq!(message["status"], "firing");
    let alerts = message["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{message}");
    assert_eq!(alerts[0]["labels"]["alertname"], TEST_ALERTNAME);
    assert_eq!(alerts[0]["labels"][ENDPOINT_TEST_LABEL], "sink");
    assert_eq!(alerts[0]["labels"][TEST_ID_LABEL], answer["test_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_notification_to_a_refusing_endpoint_fails() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), None).await;
    gw.endpoint(
        "refused",
        json!({"send_resolved": false, "webhook": {"url": backends.refused_url}}),
    )
    .await;

    let _turn = WEBHOOK_COUNTERS.lock().await;
    let (status, answer) = gw.test_send("refused").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "failed", "{answer}");
    assert_eq!(answer["integration"], "webhook");
    let detail = answer["detail"].as_str().unwrap();
    assert!(
        detail
            .contains(r#"alertmanager_notification_requests_failed_total{integration="webhook"}"#),
        "{detail}"
    );
    assert!(detail.contains("log"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_notification_needs_the_endpoints_test_route() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), None).await;
    let hook = json!({"webhook": {"url": "http://127.0.0.1:9/never"}});
    gw.endpoint("unrouted", hook.clone()).await;
    gw.endpoint("untested", hook).await;

    let missing = gw.test_send("unrouted").await;
    let message = expect_error(&missing, StatusCode::CONFLICT, "conflict");
    assert!(message.contains("no receiver \"unrouted\""), "{message}");

    let misrouted = gw.test_send("untested").await;
    let message = expect_error(&misrouted, StatusCode::CONFLICT, "conflict");
    assert!(
        message.contains(r#"would reach ["alert-router:history"] rather than"#),
        "{message}"
    );
    assert!(message.contains("test route"), "{message}");

    // A receiver of another kind than the endpoint (a stale configuration).
    gw.endpoint(
        "mismatched",
        json!({"slack": {"api_url": "https://hooks.slack.com/services/T/B/X", "channel": "#ops"}}),
    )
    .await;
    let stale = gw.test_send("mismatched").await;
    let message = expect_error(&stale, StatusCode::CONFLICT, "conflict");
    assert!(message.contains("has no slack integration"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_objects_are_404_and_bad_requests_name_the_field() {
    let backends = Backends::shared().await;
    let gw = Gateway::start(backends.cluster_target(), None).await;
    gw.condition("bad-requests", json!({})).await;

    let good = json!({"duration": "1h", "comment": "c"});
    expect_error(
        &gw.silence("nope", good.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    expect_error(
        &gw.unsilence("nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    expect_error(
        &gw.call(Method::GET, "/api/v1/conditions/nope/status", None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    expect_error(
        &gw.test_send("nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    for (body, field) in [
        (json!({"duration": "soon", "comment": "c"}), "duration: "),
        (json!({"duration": "0s", "comment": "c"}), "duration: "),
        (json!({"comment": "c"}), "duration: "),
        (json!({"duration": "1h"}), "comment: "),
        (
            json!({"duration": "1h", "comment": "c", "matchers": []}),
            "matchers: unknown field",
        ),
    ] {
        let message = expect_error(
            &gw.silence("bad-requests", body.clone()).await,
            StatusCode::BAD_REQUEST,
            "bad_data",
        );
        assert!(message.starts_with(field), "{body}: {message}");
    }
    let text = gw
        .client
        .post(format!(
            "{}/api/v1/conditions/bad-requests/silence",
            gw.base
        ))
        .header("content-type", "text/plain")
        .body("duration=1h")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    expect_error(
        &gw.call(Method::POST, "/api/v1/endpoints/x/test?tenant=a&x=1", None)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_data",
    );
    assert_eq!(
        backends.active_silences("bad-requests"),
        vec![Vec::<(String, Vec<String>)>::new(); 3],
        "nothing was silenced"
    );

    // A per-tenant (Cortex/Mimir) Alertmanager cannot address a condition bound to no
    // tenant without an `unbound` tenant.
    let client = AlertmanagerClient::builder(backends.cluster[0].base_url())
        .addressing(Addressing::cortex("placeholder").unwrap())
        .build()
        .unwrap();
    let per_tenant = Gateway::start(
        AlertmanagerTenancy::PerTenant {
            client,
            unbound: None,
        },
        None,
    )
    .await;
    per_tenant.condition("unbound", json!({})).await;
    let message = expect_error(
        &per_tenant
            .call(Method::GET, "/api/v1/conditions/unbound/status", None)
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert!(message.contains("bound to no tenant"), "{message}");
}
