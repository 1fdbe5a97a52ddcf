//! Starting the demo's processes in order, each waited for until it answers, and
//! stopping them in reverse order.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::process::Process;
use super::sidecars::{DemoApp, Receiver};
use super::{Binaries, DemoArgs, DemoError};

/// The tenant, agent and job names the spec and the scenario share.
pub const TENANT: &str = "demo";
/// The agent the demo heartbeats as.
pub const AGENT: &str = "demo-agent";
/// How often the agent heartbeats.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// The usual ports, in the order of [`Ports`]' fields.
const USUAL: Ports = Ports {
    gateway: 9095,
    history: 9094,
    prometheus: 9090,
    health: 9096,
    receiver: 9097,
    app: 9098,
};

/// Where each service listens (127.0.0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// The gateway's API.
    pub gateway: u16,
    /// The history server.
    pub history: u16,
    /// Prometheus.
    pub prometheus: u16,
    /// The status page.
    pub health: u16,
    /// The team's receiver.
    pub receiver: u16,
    /// The demo app.
    pub app: u16,
}

/// Everything the demo runs.
#[derive(Debug)]
pub struct Stack {
    /// The working directory.
    pub dir: PathBuf,
    /// The ports.
    pub ports: Ports,
    /// The Alertmanager members' base URLs.
    pub members: Vec<String>,
    /// Whether the working directory has run the demo before (its gateway store
    /// existed).
    pub rerun: bool,
    /// The team's receiver.
    pub receiver: Receiver,
    /// The demo app.
    pub app: DemoApp,
    /// An HTTP client with a short timeout.
    pub http: reqwest::Client,
    processes: Mutex<Vec<Process>>,
}

/// The directories under the working directory.
struct Dirs {
    logs: PathBuf,
    prometheus: PathBuf,
    rules: PathBuf,
    sd: PathBuf,
}

impl Dirs {
    fn create(dir: &Path) -> Result<Dirs, DemoError> {
        let d = Dirs {
            logs: dir.join("logs"),
            prometheus: dir.join("prometheus"),
            rules: dir.join("prometheus").join("rules"),
            sd: dir.join("prometheus").join("sd"),
        };
        for path in [&d.logs, &d.rules, &d.sd, &dir.join("history")] {
            std::fs::create_dir_all(path).map_err(|e| DemoError::io(path.display(), e))?;
        }
        Ok(d)
    }
}

/// The file Prometheus reads the Alertmanager members from (`file_sd_configs`).
const MEMBERS_SD: &str = "alertmanagers.json";

impl Stack {
    /// Starts everything, or stops what it started and says why. On failure the partly
    /// started stack comes back with the error, for the caller to stop.
    pub async fn start(
        args: &DemoArgs,
        bins: &Binaries,
    ) -> Result<Stack, (DemoError, Option<Stack>)> {
        let dir = absolute(&args.dir).map_err(|e| (e, None))?;
        let dirs = Dirs::create(&dir).map_err(|e| (e, None))?;
        let rerun = dir.join("gateway.db").exists();
        let (ports, receiver_socket, app_socket) =
            choose_ports(args.free_ports).await.map_err(|e| (e, None))?;
        let receiver = Receiver::start(receiver_socket).map_err(|e| (e, None))?;
        let app = DemoApp::start(app_socket).map_err(|e| (e, None))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| (DemoError::Step(format!("HTTP client: {e}")), None))?;
        let mut stack = Stack {
            dir,
            ports,
            members: Vec::new(),
            rerun,
            receiver,
            app,
            http,
            processes: Mutex::new(Vec::new()),
        };
        println!("Working directory: {}", stack.dir.display());
        println!(
            "Started the team's receiver on {} and the demo app on {} (in this process)",
            stack.receiver.url(),
            stack.app.addr()
        );
        match stack.start_processes(args, bins, &dirs).await {
            Ok(()) => Ok(stack),
            Err(e) => Err((e, Some(stack))),
        }
    }

    async fn start_processes(
        &mut self,
        args: &DemoArgs,
        bins: &Binaries,
        dirs: &Dirs,
    ) -> Result<(), DemoError> {
        let timeout = args.step_timeout;
        let p = self.ports;

        // The history server first: the gateway's configurations send every alert to it.
        let history_db = self.dir.join("history").join("history.db");
        self.spawn(
            "alert-history-server",
            &bins.history,
            &[
                format!("--listen=127.0.0.1:{}", p.history),
                format!("--db={}", history_db.display()),
                "--retention=14d".into(),
                // The default webhooks' timers (below), so that silent-end inference and
                // the heartbeat check agree with what Alertmanager does.
                "--repeat-interval=1m".into(),
                "--silent-grace=1m".into(),
                "--heartbeat-matchers=alert_condition_id=\"watchdog\"".into(),
                "--heartbeat-repeat-interval=1m".into(),
                "--heartbeat-group-interval=10s".into(),
                "--heartbeat-slack=30s".into(),
            ],
            dirs,
        )?;
        self.wait_ready(
            "alert-history-server",
            &self.history_url("/-/ready"),
            timeout,
        )
        .await?;

        // Prometheus, before the gateway, whose control plane reloads it.
        let config = prometheus_config(p, dirs);
        let config_path = dirs.prometheus.join("prometheus.yml");
        write(&config_path, &config)?;
        let members_sd = dirs.sd.join(MEMBERS_SD);
        if !members_sd.exists() {
            write(&members_sd, "[]\n")?;
        }
        self.spawn(
            "prometheus",
            &bins.prometheus,
            &[
                format!("--config.file={}", config_path.display()),
                format!(
                    "--storage.tsdb.path={}",
                    dirs.prometheus.join("data").display()
                ),
                "--storage.tsdb.retention.time=7d".into(),
                format!("--web.listen-address=127.0.0.1:{}", p.prometheus),
                "--web.enable-lifecycle".into(),
                // Firing alerts are sent again every 2s, so that one lost while the
                // cluster forms does not hold the scenario up for a minute.
                "--rules.alert.resend-delay=2s".into(),
                "--log.level=warn".into(),
            ],
            dirs,
        )?;
        self.wait_ready("prometheus", &self.prometheus_url("/-/ready"), timeout)
            .await?;

        // The gateway and its Alertmanager cluster.
        let started = Instant::now();
        self.spawn(
            "alert-gateway",
            &bins.gateway,
            &gateway_flags(p, &self.dir, dirs),
            dirs,
        )?;
        self.wait_ready("alert-gateway", &self.gateway_url("/-/ready"), timeout)
            .await?;
        let members = self
            .wait_for(
                "the 3 Alertmanager members to be ready and see each other",
                timeout,
                async || {
                    let (status, v) = self
                        .get_json(&self.gateway_url("/api/v1/backend"))
                        .await
                        .ok()?;
                    let members = v["members"].as_array()?;
                    let formed = status == 200
                        && members.len() == 3
                        && members.iter().all(|m| {
                            m["ready"] == true
                                && m["peers"].as_array().is_some_and(|peers| peers.len() == 3)
                        });
                    formed.then(|| {
                        members
                            .iter()
                            .filter_map(|m| {
                                Some((
                                    m["name"].as_str()?.to_owned(),
                                    m["url"].as_str()?.to_owned(),
                                ))
                            })
                            .collect::<Vec<_>>()
                    })
                },
            )
            .await?;
        println!(
            "Alertmanager cluster formed {} ms after the gateway started: {}",
            started.elapsed().as_millis(),
            members
                .iter()
                .map(|(name, url)| format!("{name} {url}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.members = members.into_iter().map(|(_, url)| url).collect();
        let targets: Vec<String> = self
            .members
            .iter()
            .map(|u| {
                u.trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_owned()
            })
            .collect();
        write(
            &members_sd,
            &format!(
                "{}\n",
                json!([{"targets": targets, "labels": {"cluster": "demo"}}])
            ),
        )?;

        // The status page over all of it.
        let graph = dirs
            .prometheus
            .parent()
            .unwrap_or(&self.dir)
            .join("health.yml");
        write(&graph, &health_graph(p, &self.members))?;
        self.spawn(
            "alert-health",
            &bins.health,
            &[
                "serve".into(),
                format!("--graph={}", graph.display()),
                format!("--listen=127.0.0.1:{}", p.health),
                "--interval=2s".into(),
            ],
            dirs,
        )?;
        self.wait_ready("alert-health", &self.health_url("/-/healthy"), timeout)
            .await?;
        Ok(())
    }

    fn spawn(
        &self,
        name: &str,
        program: &Path,
        args: &[String],
        dirs: &Dirs,
    ) -> Result<(), DemoError> {
        let process = Process::start(name, program, args, &dirs.logs)?;
        println!(
            "Started {name} (pid {}): {} {}",
            process.pid().unwrap_or_default(),
            program.display(),
            args.join(" ")
        );
        self.lock().push(process);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Process>> {
        self.processes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An error for the first started process that has exited.
    pub fn check_processes(&self) -> Result<(), DemoError> {
        for p in self.lock().iter_mut() {
            if let Some(status) = p.exited() {
                return Err(DemoError::Exited {
                    name: p.name.clone(),
                    status,
                    log: p.log.display().to_string(),
                    tail: p.log_tail(20),
                });
            }
        }
        Ok(())
    }

    async fn wait_ready(&self, name: &str, url: &str, timeout: Duration) -> Result<(), DemoError> {
        let started = Instant::now();
        self.wait_for(&format!("{name} to answer {url}"), timeout, async || {
            let r = self.http.get(url).send().await.ok()?;
            r.status().is_success().then_some(())
        })
        .await?;
        println!("  {name} ready in {} ms", started.elapsed().as_millis());
        Ok(())
    }

    /// Polls `check` every 200 ms until it gives a value, a started process exits, or
    /// `timeout` passes.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl AsyncFnMut() -> Option<T>,
    ) -> Result<T, DemoError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check().await {
                return Ok(v);
            }
            self.check_processes()?;
            if Instant::now() >= deadline {
                return Err(DemoError::Timeout {
                    what: what.to_owned(),
                    timeout,
                    detail: String::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// GET, with the status and the JSON body (`null` when not JSON).
    pub async fn get_json(&self, url: &str) -> Result<(u16, Value), DemoError> {
        let r = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| DemoError::Step(format!("GET {url}: {e}")))?;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// A request with an optional JSON body, with the status and the JSON answer.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), DemoError> {
        let mut request = self.http.request(method.clone(), url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let r = request
            .send()
            .await
            .map_err(|e| DemoError::Step(format!("{method} {url}: {e}")))?;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// A URL of the gateway's API.
    pub fn gateway_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports.gateway)
    }

    /// A URL of the history server.
    pub fn history_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports.history)
    }

    /// A URL of Prometheus.
    pub fn prometheus_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports.prometheus)
    }

    /// A URL of the status page's server.
    pub fn health_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports.health)
    }

    /// The logs directory.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// One heartbeat of the demo agent.
    pub async fn heartbeat(&self) -> Result<(), DemoError> {
        let url = self.gateway_url(&format!("/api/v1/agents/{TENANT}/{AGENT}/heartbeat"));
        let (status, body) = self.send_json(reqwest::Method::PUT, &url, None).await?;
        if status == 200 {
            Ok(())
        } else {
            Err(DemoError::Step(format!("PUT {url}: {status} {body}")))
        }
    }

    /// Heartbeats every [`HEARTBEAT_EVERY`] until the task is aborted.
    pub fn keep_agent_alive(&self) -> JoinHandle<()> {
        let http = self.http.clone();
        let url = self.gateway_url(&format!("/api/v1/agents/{TENANT}/{AGENT}/heartbeat"));
        tokio::spawn(async move {
            loop {
                let _ = http.put(&url).send().await;
                tokio::time::sleep(HEARTBEAT_EVERY).await;
            }
        })
    }

    /// What a person opens.
    pub fn print_urls(&self) {
        let bar = format!(
            "/?match[]={}&by=alert_condition_id&range=1d",
            percent_encode(&format!("{{tenant=\"{TENANT}\"}}"))
        );
        println!("\nOpen:");
        println!("  history health bar   {}", self.history_url(&bar));
        println!("  status page          {}", self.health_url("/"));
        println!(
            "  gateway API          {} (e.g. /api/v1/spec, /api/v1/tenants, /api/v1/backend, /api/v1/messages)",
            self.gateway_url("/api/v1/status")
        );
        for (i, url) in self.members.iter().enumerate() {
            println!("  Alertmanager UI {i}    {url}");
        }
        println!(
            "  Prometheus           {} (alerts: /alerts, rules: /rules, targets: /targets)",
            self.prometheus_url("/")
        );
        println!("  team's receiver      http://{}/", self.receiver.addr);
    }

    /// Stops every process the demo started, last started first, and the demo app.
    pub async fn stop(&mut self) {
        let mut processes = std::mem::take(&mut *self.lock());
        while let Some(mut p) = processes.pop() {
            let started = Instant::now();
            p.stop().await;
            println!("Stopped {} in {} ms", p.name, started.elapsed().as_millis());
        }
        self.app.stop().await;
    }
}

/// The gateway's flags: every deployment in one process on SQLite, the local
/// Alertmanager cluster of one controller and two workers, Prometheus as the rule
/// backend, the history server as the default webhook, and a demo's timings.
fn gateway_flags(p: Ports, dir: &Path, dirs: &Dirs) -> Vec<String> {
    vec![
        "--target=all".into(),
        format!("--listen=127.0.0.1:{}", p.gateway),
        format!("--store=sqlite:{}", dir.join("gateway.db").display()),
        "--backend=local".into(),
        format!(
            "--backend.data-dir={}",
            dir.join("alerting-cluster").display()
        ),
        "--backend.controllers=1".into(),
        "--backend.workers=2".into(),
        // A loopback cluster: members wait 2 s per position before notifying instead
        // of 15 s, so a route may notify after 4 s.
        "--backend.peer-timeout=2s".into(),
        "--backend.settle-timeout=5s".into(),
        format!("--prometheus.url=http://127.0.0.1:{}", p.prometheus),
        format!("--rules.dir={}", dirs.rules.display()),
        format!("--history.url=http://127.0.0.1:{}/webhook", p.history),
        "--default-webhooks.group-wait=5s".into(),
        "--default-webhooks.group-interval=10s".into(),
        "--default-webhooks.repeat-interval=1m".into(),
        "--evaluator.interval=1s".into(),
        "--evaluator.resend=10s".into(),
        "--control-plane.live-timeout=60s".into(),
    ]
}

/// Prometheus: scrapes itself, the gateway, the history server, the status page, the
/// Alertmanager members and the demo app (every second: the scenario stops it), loads
/// the control plane's rule files and sends alerts to the members.
fn prometheus_config(p: Ports, dirs: &Dirs) -> String {
    let members_sd = dirs.sd.join(MEMBERS_SD);
    let job = |name: &str, port: u16| {
        format!("  - job_name: {name}\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n")
    };
    format!(
        "# Written by alert-demo on every start.\n\
         global:\n  scrape_interval: 5s\n  evaluation_interval: 1s\n\
         rule_files: ['{rules}/*.yml']\n\
         alerting:\n  alertmanagers:\n  - file_sd_configs: [{{files: ['{sd}'], refresh_interval: 5s}}]\n\
         scrape_configs:\n{prom}{gw}{hist}{health}\
         \x20 - job_name: alertmanager\n    file_sd_configs: [{{files: ['{sd}'], refresh_interval: 5s}}]\n\
         \x20 - job_name: demo-app\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    \
         static_configs: [{{targets: ['127.0.0.1:{app}']}}]\n",
        rules = dirs.rules.display(),
        sd = members_sd.display(),
        prom = job("prometheus", p.prometheus),
        gw = job("alert-gateway", p.gateway),
        hist = job("alert-history", p.history),
        health = job("alert-health", p.health),
        app = p.app,
    )
}

/// The status page's graph: the demo app, and the alerting pipeline (gateway,
/// Prometheus, history, and the Alertmanager cluster, which holds with two of its
/// three members).
fn health_graph(p: Ports, members: &[String]) -> String {
    let mut sensors = String::new();
    let mut member_names = Vec::new();
    for (i, url) in members.iter().enumerate() {
        let name = format!("alertmanager-{i}");
        sensors.push_str(&format!(
            "  - {{name: {name}, http: {{url: '{}/-/ready'}}, timeout: 2s}}\n",
            url.trim_end_matches('/')
        ));
        member_names.push(name);
    }
    format!(
        "# Written by alert-demo on every start.\n\
         sensors:\n\
         \x20 - {{name: demo-app, http: {{url: 'http://127.0.0.1:{app}/'}}, timeout: 2s}}\n\
         \x20 - {{name: gateway, http: {{url: 'http://127.0.0.1:{gw}/-/ready'}}, timeout: 2s}}\n\
         \x20 - {{name: prometheus, http: {{url: 'http://127.0.0.1:{prom}/-/ready'}}, timeout: 2s}}\n\
         \x20 - {{name: history, http: {{url: 'http://127.0.0.1:{hist}/-/ready'}}, timeout: 2s}}\n\
         {sensors}\
         systems:\n\
         \x20 - {{name: alertmanager-cluster, op: at_least, n: {quorum}, children: [{members}]}}\n\
         \x20 - {{name: pipeline, children: [gateway, prometheus, alertmanager-cluster, history]}}\n\
         services:\n\
         \x20 - {{name: Demo app, children: [demo-app]}}\n\
         \x20 - {{name: Alerting, children: [pipeline]}}\n\
         page: {{name: \"alert-crates demo\"}}\n",
        app = p.app,
        gw = p.gateway,
        prom = p.prometheus,
        hist = p.history,
        quorum = members.len() / 2 + 1,
        members = member_names.join(", "),
    )
}

/// The usual ports, or free ones (`free`, or where a usual one is taken). The receiver's
/// and the app's sockets are bound here and kept.
async fn choose_ports(free: bool) -> Result<(Ports, TcpListener, TcpListener), DemoError> {
    async fn bind(usual: u16, free: bool) -> Result<TcpListener, DemoError> {
        if !free && let Ok(l) = TcpListener::bind(("127.0.0.1", usual)).await {
            return Ok(l);
        }
        TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| DemoError::io("a free loopback port", e))
    }
    async fn port(usual: u16, free: bool) -> Result<u16, DemoError> {
        let l = bind(usual, free).await?;
        let port = l
            .local_addr()
            .map_err(|e| DemoError::io("a free loopback port", e))?
            .port();
        if !free && port != usual {
            println!("Port {usual} is taken: using {port} instead");
        }
        Ok(port)
    }
    let receiver = bind(USUAL.receiver, free).await?;
    let app = bind(USUAL.app, free).await?;
    let local = |l: &TcpListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(|e| DemoError::io("a loopback port", e))
    };
    let ports = Ports {
        gateway: port(USUAL.gateway, free).await?,
        history: port(USUAL.history, free).await?,
        prometheus: port(USUAL.prometheus, free).await?,
        health: port(USUAL.health, free).await?,
        receiver: local(&receiver)?,
        app: local(&app)?,
    };
    Ok((ports, receiver, app))
}

fn write(path: &Path, text: &str) -> Result<(), DemoError> {
    std::fs::write(path, text).map_err(|e| DemoError::io(path.display(), e))
}

fn absolute(dir: &Path) -> Result<PathBuf, DemoError> {
    std::fs::create_dir_all(dir).map_err(|e| DemoError::io(dir.display(), e))?;
    std::fs::canonicalize(dir).map_err(|e| DemoError::io(dir.display(), e))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
