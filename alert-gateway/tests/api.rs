//! The data plane's HTTP API, route by route and status by status, over a real socket.

use std::sync::Arc;

use alert_gateway::api::{ApiOptions, router};
use alert_gateway::server::{ServeOptions, serve};
use alert_gateway::store::sqlite::SqliteStore;
use alert_gateway::store::{ConfigStore, Key, Kind};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "s3cret-t0ken";

struct Gateway {
    base: String,
    client: Client,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Gateway {
    async fn start() -> Gateway {
        Gateway::start_with(|_| {}).await
    }

    async fn start_with(tweak: impl FnOnce(&mut ApiOptions)) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("gateway.db")).unwrap());
        let mut options = ApiOptions {
            token: Some(TOKEN.into()),
            ..ApiOptions::default()
        };
        tweak(&mut options);
        let app = router(store.clone(), options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));
        Gateway {
            base,
            client: Client::new(),
            store,
            _dir: dir,
            _stop: stop,
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }

    async fn put(&self, path: &str, body: Value) -> Response {
        self.request(Method::PUT, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }
}

fn etag(r: &Response) -> u64 {
    r.headers()["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap()
}

/// Asserts the status and the JSON error shape; answers the message.
async fn expect_error(r: Response, status: StatusCode, error_type: &str) -> String {
    assert_eq!(r.status(), status, "status");
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["errorType"], error_type, "{body}");
    body["error"].as_str().unwrap().to_owned()
}

fn pagerduty(key: &str) -> Value {
    json!({"name": "Pager", "pagerduty": {"routing_key": key}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_create_read_replace_with_revisions() {
    let gw = Gateway::start().await;
    let created = gw.put("/api/v1/endpoints/pager", pagerduty("rk-1")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let r1 = etag(&created);
    let body: Value = created.json().await.unwrap();
    assert_eq!(
        body["pagerduty"]["routing_key"], "<secret>",
        "answers never show secrets"
    );
    assert_eq!(body["id"], "pager", "the id comes from the path");

    let got = gw.get("/api/v1/endpoints/pager").await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(etag(&got), r1);
    let mut shown: Value = got.json().await.unwrap();
    assert_eq!(shown["pagerduty"]["routing_key"], "<secret>");

    // GET, edit one field, PUT back with If-Match: the secret is kept.
    shown["name"] = json!("Pager duty");
    let replaced = gw
        .request(Method::PUT, "/api/v1/endpoints/pager")
        .header("if-match", format!("\"{r1}\""))
        .json(&shown)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::OK);
    let r2 = etag(&replaced);
    assert!(r2 > r1);
    let stored = gw
        .store
        .get(&Key::new(Kind::Endpoint, "pager").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.value.contains("\"rk-1\""), "{}", stored.value);
    assert!(stored.value.contains("Pager duty"));

    // A stale If-Match, and a create-only on an existing object.
    let stale = gw
        .request(Method::PUT, "/api/v1/endpoints/pager")
        .header("if-match", format!("\"{r1}\""))
        .json(&pagerduty("rk-2"))
        .send()
        .await
        .unwrap();
    let message = expect_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert!(message.contains(&format!("revision {r2}")), "{message}");
    let exists = gw
        .request(Method::PUT, "/api/v1/endpoints/pager")
        .header("if-none-match", "*")
        .json(&pagerduty("rk-2"))
        .send()
        .await
        .unwrap();
    expect_error(
        exists,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    let new = gw
        .request(Method::PUT, "/api/v1/endpoints/other")
        .header("if-none-match", "*")
        .json(&pagerduty("rk-3"))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), StatusCode::CREATED);
    let must_exist = gw
        .request(Method::PUT, "/api/v1/endpoints/ghost")
        .header("if-match", "*")
        .json(&pagerduty("x"))
        .send()
        .await
        .unwrap();
    expect_error(
        must_exist,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;

    let list: Value = gw.get("/api/v1/endpoints").await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(list["revision"].as_u64().unwrap() >= r2);
    assert_eq!(items[1]["object"]["pagerduty"]["routing_key"], "<secret>");
    assert_eq!(items[1]["revision"], r2);

    expect_error(
        gw.get("/api/v1/endpoints/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_change_nothing() {
    let gw = Gateway::start_with(|o| o.max_body_bytes = 4096).await;
    let before = gw.store.revision().await.unwrap();

    let malformed = gw
        .request(Method::PUT, "/api/v1/endpoints/a")
        .header("content-type", "application/json")
        .body("{\"pagerduty\": ")
        .send()
        .await
        .unwrap();
    expect_error(malformed, StatusCode::BAD_REQUEST, "bad_data").await;
    let wrong_type = gw
        .request(Method::PUT, "/api/v1/endpoints/a")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_error(
        wrong_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let invalid = gw
        .put(
            "/api/v1/endpoints/a",
            json!({"slack": {"api_url": "not a url"}}),
        )
        .await;
    let message = expect_error(invalid, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(
        message.starts_with("endpoints[a].slack.api_url: "),
        "{message}"
    );
    let mismatched = gw
        .put(
            "/api/v1/endpoints/a",
            json!({"id": "b", "pagerduty": {"routing_key": "k"}}),
        )
        .await;
    let message = expect_error(mismatched, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(message.starts_with("endpoints[a].id: "), "{message}");
    let bad_id = gw.put("/api/v1/endpoints/a%20b", pagerduty("k")).await;
    let message = expect_error(bad_id, StatusCode::BAD_REQUEST, "bad_data").await;
    assert!(message.starts_with("invalid key id \"a b\""), "{message}");
    let bad_revision = gw
        .request(Method::PUT, "/api/v1/endpoints/a")
        .header("if-match", "yesterday")
        .json(&pagerduty("k"))
        .send()
        .await
        .unwrap();
    let message = expect_error(bad_revision, StatusCode::BAD_REQUEST, "bad_data").await;
    assert!(message.starts_with("If-Match: "), "{message}");
    let bad_param = gw.get("/api/v1/conditions?tenat=x").await;
    let message = expect_error(bad_param, StatusCode::BAD_REQUEST, "bad_data").await;
    assert!(message.contains("\"tenat\""), "{message}");
    let too_large = gw
        .put(
            "/api/v1/endpoints/a",
            json!({"pagerduty": {"routing_key": "k".repeat(5000)}}),
        )
        .await;
    expect_error(too_large, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await;
    let secret_nowhere = gw
        .put(
            "/api/v1/endpoints/a",
            json!({"pagerduty": {"routing_key": "<secret>"}}),
        )
        .await;
    let message = expect_error(secret_nowhere, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(
        message.starts_with("endpoints[a].pagerduty.routing_key: "),
        "{message}"
    );
    expect_error(
        gw.get("/api/v1/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let wrong_method = gw
        .request(Method::POST, "/api/v1/endpoints/a")
        .send()
        .await
        .unwrap();
    expect_error(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "bad_data").await;

    assert_eq!(
        gw.store.revision().await.unwrap(),
        before,
        "nothing was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_reference_endpoints_and_deletes_respect_them() {
    let gw = Gateway::start().await;
    let cpu = json!({"tenant": "cluster-a", "severity": "critical",
                     "cpu": {"threshold_percent": 90, "for": "5m"}, "endpoints": ["pager"]});
    let missing = gw.put("/api/v1/conditions/cpu-high", cpu.clone()).await;
    let message = expect_error(missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(
        message.starts_with("conditions[cpu-high].endpoints[0].id: "),
        "{message}"
    );

    assert_eq!(
        gw.put("/api/v1/endpoints/pager", pagerduty("k"))
            .await
            .status(),
        201
    );
    assert_eq!(
        gw.put("/api/v1/conditions/cpu-high", cpu).await.status(),
        201
    );
    let disk = json!({"tenant": "cluster-b", "filesystem": {"threshold_percent": 80}});
    assert_eq!(gw.put("/api/v1/conditions/disk", disk).await.status(), 201);

    let by_tenant: Value = gw
        .get("/api/v1/conditions?tenant=cluster-a")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = by_tenant["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["object"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cpu-high"]);
    for (query, expected) in [
        ("severity=critical", 1),
        ("severity=warning", 1),
        ("kind=filesystem", 1),
        ("kind=prometheus", 0),
        ("tenant=cluster-b&kind=cpu", 0),
        ("", 2),
    ] {
        let list: Value = gw
            .get(&format!("/api/v1/conditions?{query}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), expected, "{query}");
    }

    // The endpoint is attached: deleting it is a conflict naming the condition.
    let refused = gw.delete("/api/v1/endpoints/pager").await;
    let message = expect_error(refused, StatusCode::CONFLICT, "conflict").await;
    assert!(message.contains("conditions/cpu-high"), "{message}");
    let detached = gw.delete("/api/v1/endpoints/pager?detach=true").await;
    assert_eq!(detached.status(), StatusCode::OK);
    let cpu: Value = gw
        .get("/api/v1/conditions/cpu-high")
        .await
        .json()
        .await
        .unwrap();
    assert!(cpu.get("endpoints").is_none(), "detached: {cpu}");
    expect_error(
        gw.get("/api/v1/endpoints/pager").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Deletes with preconditions.
    let disk = gw.get("/api/v1/conditions/disk").await;
    let r = etag(&disk);
    let stale = gw
        .request(Method::DELETE, "/api/v1/conditions/disk")
        .header("if-match", format!("\"{}\"", r - 1))
        .send()
        .await
        .unwrap();
    expect_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    let ok = gw
        .request(Method::DELETE, "/api/v1/conditions/disk")
        .header("if-match", format!("\"{r}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    expect_error(
        gw.delete("/api/v1/conditions/disk").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let bad_detach = gw.delete("/api/v1/conditions/cpu-high?detach=true").await;
    expect_error(bad_detach, StatusCode::BAD_REQUEST, "bad_data").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slos_are_served_and_share_ids_with_conditions() {
    let gw = Gateway::start().await;
    let slo = json!({"tenant": "cluster-a", "objective": 99.9, "window": "28d",
                     "sli": {"error_ratio": "sum(rate(errors[{{.window}}])) / sum(rate(requests[{{.window}}]))"}});
    let created = gw.put("/api/v1/slos/api-availability", slo).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let got: Value = gw
        .get("/api/v1/slos/api-availability")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["objective"], 99.9);
    assert_eq!(
        got["window"], "4w",
        "durations print as Prometheus prints them"
    );
    let list: Value = gw.get("/api/v1/slos").await.json().await.unwrap();
    assert_eq!(list["items"][0]["object"]["id"], "api-availability");

    let invalid = gw
        .put("/api/v1/slos/bad", json!({"tenant": "cluster-a", "objective": 100, "sli": {"error_ratio": "x[{{.window}}]"}}))
        .await;
    let message = expect_error(invalid, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(message.starts_with("slos[bad].objective: "), "{message}");

    let clash = gw
        .put(
            "/api/v1/conditions/api-availability",
            json!({"prometheus": {"query": "up == 0"}}),
        )
        .await;
    let message = expect_error(clash, StatusCode::CONFLICT, "conflict").await;
    assert!(message.contains("slos/api-availability"), "{message}");
    assert_eq!(
        gw.delete("/api/v1/slos/api-availability").await.status(),
        200
    );
    let after = gw
        .put(
            "/api/v1/conditions/api-availability",
            json!({"prometheus": {"query": "up == 0"}}),
        )
        .await;
    assert_eq!(after.status(), StatusCode::CREATED);
}

const SPEC_YAML: &str = "\
endpoints:
  - id: pager
    pagerduty: {routing_key: real-key}
  - id: hook
    webhook: {url: 'http://127.0.0.1:1/hook'}
conditions:
  - id: cpu-high
    tenant: cluster-a
    cpu: {threshold_percent: 90, for: 5m}
    endpoints: [pager]
  - id: down
    tenant: cluster-a
    prometheus: {query: up == 0}
    endpoints: [hook]
slos:
  - id: api
    tenant: cluster-a
    objective: 99.5
    sli: {good: 'sum(rate(ok[{{.window}}]))', total: 'sum(rate(all[{{.window}}]))'}
    endpoints: [pager]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn specs_import_atomically_with_dry_runs() {
    let gw = Gateway::start().await;
    let put_spec = |body: String, query: &'static str, content_type: &'static str| {
        gw.request(Method::PUT, &format!("/api/v1/spec{query}"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // A body nested 100,000 levels deep is refused at once, naming where (yaml_serde
    // alone spends about 25 s refusing it, on the async worker).
    let n = 100_000;
    let deep = put_spec(
        format!("conditions: {}{}\n", "[".repeat(n), "]".repeat(n)),
        "",
        "application/yaml",
    )
    .await
    .unwrap();
    assert_eq!(deep.status(), 400);
    let deep: Value = deep.json().await.unwrap();
    assert_eq!(
        deep["error"], "body: line 1 column 140: nested more than 128 levels deep",
        "{deep}"
    );

    let dry: Value = put_spec(SPEC_YAML.into(), "?dry_run=true", "application/yaml")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["created"].as_array().unwrap().len(), 5, "{dry}");
    assert!(dry.get("revision").is_none());
    assert_eq!(
        gw.store.revision().await.unwrap(),
        0,
        "a dry run changes nothing"
    );

    let applied: Value = put_spec(SPEC_YAML.into(), "", "application/yaml")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = applied["revision"].as_u64().unwrap();
    assert_eq!(r, 1, "one import, one revision: {applied}");
    for key in ["endpoints/pager", "conditions/down", "slos/api"] {
        let key: Key = key.parse().unwrap();
        assert_eq!(gw.store.get(&key).await.unwrap().unwrap().mod_revision, r);
    }

    // The spec reads back as YAML and JSON, secrets redacted; sent back, it keeps them.
    let yaml = gw
        .request(Method::GET, "/api/v1/spec")
        .header("accept", "application/yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(yaml.headers()["content-type"], "application/yaml");
    assert_eq!(etag(&yaml), r);
    let text = yaml.text().await.unwrap();
    assert!(
        text.contains("routing_key: <secret>") || text.contains("routing_key: '<secret>'"),
        "{text}"
    );
    assert!(!text.contains("real-key"));
    let again: Value = put_spec(text, "", "application/yaml")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["unchanged"], 5, "{again}");
    assert!(again.get("revision").is_none(), "nothing to write: {again}");
    let pager = gw
        .store
        .get(&"endpoints/pager".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(pager.value.contains("real-key"));

    // Replace: one condition dropped, one changed, in one revision.
    let json_spec: Value = gw.get("/api/v1/spec").await.json().await.unwrap();
    let mut next = json_spec.clone();
    next["conditions"] = json!([{"id": "down", "tenant": "cluster-a", "prometheus": {"query": "up == 0"},
                                 "severity": "critical", "endpoints": ["hook"]}]);
    let plan: Value = put_spec(next.to_string(), "", "application/json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plan["deleted"], json!(["conditions/cpu-high"]));
    assert_eq!(plan["updated"], json!(["conditions/down"]));
    assert_eq!(plan["revision"], r + 1);

    // An invalid spec changes nothing and names the path.
    let mut broken = json_spec.clone();
    broken["conditions"][0]["endpoints"] = json!(["nope"]);
    let refused = put_spec(broken.to_string(), "", "application/json")
        .await
        .unwrap();
    let message = expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(message.contains("endpoints[0].id"), "{message}");
    assert_eq!(gw.store.revision().await.unwrap(), r + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_guards_everything_but_health() {
    let gw = Gateway::start().await;
    for path in [
        "/api/v1/endpoints",
        "/api/v1/spec",
        "/metrics",
        "/api/v1/store/revision",
    ] {
        let r = gw
            .client
            .get(format!("{}{path}", gw.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let r = gw
            .client
            .get(format!("{}{path}", gw.base))
            .header("authorization", format!("bearer {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{path}: the scheme is case-insensitive"
        );
    }
    for path in ["/-/healthy", "/-/ready"] {
        let r = gw
            .client
            .get(format!("{}{path}", gw.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let metrics = gw.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("alert_gateway_http_requests_total{method=\"GET\",route=\"/api/v1/endpoints\",code=\"401\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("alert_gateway_store_duration_seconds_count{op=\"list\",outcome=\"ok\"}")
    );
    assert!(!metrics.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_declared_body_is_refused_before_it_is_read() {
    let gw = Gateway::start_with(|o| o.max_body_bytes = 1024).await;
    let addr = gw.base.trim_start_matches("http://").to_owned();
    // Declare 10 MB and send only headers: the answer must come at once.
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        write!(
            s,
            "PUT /api/v1/endpoints/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        )
        .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"errorType\":\"too_large\""), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("g.db")).unwrap());
    let app = router(store, ApiOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let options = ServeOptions {
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(500),
        max_connections: 64,
    };
    tokio::spawn(serve(listener, app, options, stopped));

    let closed_after = |request: &'static [u8]| {
        move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(request).unwrap();
            let started = Instant::now();
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            (
                started.elapsed(),
                String::from_utf8_lossy(&buf).into_owned(),
            )
        }
    };
    // Nothing sent; half the headers; a body that never comes.
    for request in [
        &b""[..],
        b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n",
        b"PUT /api/v1/endpoints/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    ] {
        let (took, answer) = tokio::task::spawn_blocking(closed_after(request)).await.unwrap();
        assert!(took < Duration::from_secs(5), "closed after {took:?}: {answer:?}");
    }
    // Health still answers.
    let r = reqwest::get(format!("http://{addr}/-/healthy"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_up_to_the_configured_limit_are_accepted() {
    // Larger than axum's own 2 MiB default: the configured limit is what counts.
    let gw = Gateway::start_with(|o| o.max_body_bytes = 8 * 1024 * 1024).await;
    let conditions: Vec<Value> = (0..12_000)
        .map(|i| json!({"id": format!("c-{i}"), "prometheus": {"query": format!("up{{job=\"j{i}\"}} == 0")},
                        "description": "x".repeat(200)}))
        .collect();
    let body = json!({"conditions": conditions});
    assert!(body.to_string().len() > 3 * 1024 * 1024);
    let r = gw.put("/api/v1/spec", body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let plan: Value = r.json().await.unwrap();
    assert_eq!(plan["created"].as_array().unwrap().len(), 12_000);
}
