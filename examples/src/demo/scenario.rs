//! The demo's scenario: apply the spec, see it go live, break the demo app and silence
//! the agent, follow the alerts through the pipeline, repair, follow the resolutions.
//! Every step prints what was seen and when; a step that does not happen in time ends
//! the scenario with an error naming it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::stack::{AGENT, Stack, TENANT, percent_encode};
use super::{Binaries, DemoArgs, DemoError};

/// The conditions of `examples/data/demo-spec.yaml` the scenario drives.
const APP_DOWN: &str = "demo-app-down";
const AGENT_GONE: &str = "demo-agent-disconnected";
const WATCHDOG: &str = "watchdog";
const SLO: &str = "demo-app-availability";
/// The spec's endpoint (the team's receiver).
const ENDPOINT: &str = "team-receiver";
/// The spec's group_wait + group_interval: after this, Alertmanager has flushed every
/// change its aggregation groups held.
const SETTLE: Duration = Duration::from_secs(15);
/// How long the scenario silences the agent's condition.
const SILENCE_FOR: &str = "20s";
/// The URL the spec file gives the receiver, replaced when the demo's differs.
const SPEC_RECEIVER_URL: &str = "http://127.0.0.1:9097/hook";

/// Prints lines with the time since the scenario began and the wall-clock time.
struct Clock {
    started: Instant,
}

impl Clock {
    fn say(&self, text: impl AsRef<str>) {
        let now = jiff::Timestamp::now().strftime("%H:%M:%S");
        println!(
            "[{:>6.1}s {now}] {}",
            self.started.elapsed().as_secs_f64(),
            text.as_ref()
        );
    }
}

/// Runs the scenario on a started stack.
pub async fn run(stack: &mut Stack, args: &DemoArgs, bins: &Binaries) -> Result<(), DemoError> {
    let clock = Clock {
        started: Instant::now(),
    };
    let timeout = args.step_timeout;
    println!("\nThe scenario (seconds since its start, UTC):");

    // Written.
    let spec = spec_file(stack, args)?;
    let applied = Instant::now();
    let output = tokio::process::Command::new(&bins.alertctl)
        .args(["gateway", "spec", "apply", "-f"])
        .arg(&spec)
        .arg(format!("--gateway.url={}", stack.gateway_url("")))
        .output()
        .await
        .map_err(|e| DemoError::Start {
            what: format!("{}", bins.alertctl.display()),
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(DemoError::Step(format!(
            "alertctl gateway spec apply -f {} failed ({}): {}{}",
            spec.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    clock.say(format!(
        "written: alertctl gateway spec apply -f {}",
        spec.display()
    ));
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        println!("            {line}");
    }

    // The agent reports in (the gateway tracks the agents of tenants its conditions name).
    stack.heartbeat().await?;
    let heartbeats = stack.keep_agent_alive();
    clock.say(format!(
        "{AGENT} reports in every 2s (PUT /api/v1/agents/{TENANT}/{AGENT}/heartbeat)"
    ));

    // A silence left by an earlier run would mute the agent's alert.
    let (code, expired) = stack
        .send_json(
            Method::DELETE,
            &stack.gateway_url(&format!("/api/v1/conditions/{AGENT_GONE}/silence")),
            None,
        )
        .await?;
    if code == 200 && expired["expired"].as_array().is_some_and(|e| !e.is_empty()) {
        clock.say(format!(
            "expired the silences an earlier run left on {AGENT_GONE}: {}",
            expired["expired"]
        ));
    }

    // Live.
    let report = stack
        .wait_for(
            &format!("tenant {TENANT} to be live (GET /api/v1/tenants/{TENANT})"),
            timeout,
            async || {
                let (code, r) = stack
                    .get_json(&stack.gateway_url(&format!("/api/v1/tenants/{TENANT}")))
                    .await
                    .ok()?;
                (code == 200
                    && r["state"] == "in_sync"
                    && r["desired_sync_id"] == r["applied_sync_id"]
                    && r["rules"]["confirmed"] == true)
                    .then_some(r)
            },
        )
        .await?;
    clock.say(format!(
        "live in {} ms: tenant {TENANT} in sync (configuration {} on all {} Alertmanager members, rule groups {} loaded)",
        applied.elapsed().as_millis(),
        short(report["applied_sync_id"].as_str().unwrap_or("?")),
        stack.members.len(),
        report["rules"]["groups"]
    ));

    // Rule loaded.
    let groups = stack
        .wait_for(
            "Prometheus to load the conditions' rules",
            timeout,
            async || {
                let groups = prometheus_rule_groups(stack).await?;
                let rules = |group: &str| {
                    groups
                        .iter()
                        .find(|g| g["name"] == group)
                        .and_then(|g| g["rules"].as_array().cloned())
                };
                let app_down = rules(&format!("condition:{APP_DOWN}"))?.first()?.clone();
                let slo = rules(&format!("slo:{SLO}"))?.len();
                rules(&format!("condition:{WATCHDOG}"))?;
                Some((app_down, slo))
            },
        )
        .await?;
    clock.say(format!(
        "rules loaded by Prometheus: {} ({} for {}s), {WATCHDOG}, and the {} recording and alerting rules of SLO {SLO}",
        groups.0["name"].as_str().unwrap_or("?"),
        groups.0["query"].as_str().unwrap_or("?"),
        groups.0["duration"],
        groups.1
    ));

    // Before anything breaks: every target is scraped, nothing fires, the heartbeat flows.
    // This run's targets: an earlier run's (other ports) stay in `up` for Prometheus'
    // five-minute lookback.
    let p = stack.ports;
    let mut targets: BTreeSet<String> = [p.prometheus, p.gateway, p.history, p.health, p.app]
        .iter()
        .map(|port| format!("127.0.0.1:{port}"))
        .collect();
    targets.extend(stack.members.iter().map(|u| {
        u.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    }));
    let expected = targets.len();
    let jobs = stack
        .wait_for(
            &format!("Prometheus to scrape all {expected} targets (up == 1)"),
            timeout,
            async || {
                let series = prometheus_query(stack, "up == 1").await?;
                let up: Vec<String> = series
                    .iter()
                    .filter(|s| {
                        s["metric"]["instance"]
                            .as_str()
                            .is_some_and(|i| targets.contains(i))
                    })
                    .filter_map(|s| s["metric"]["job"].as_str().map(str::to_owned))
                    .collect();
                (up.len() == expected).then_some(up)
            },
        )
        .await?;
    let mut counted: std::collections::BTreeMap<String, usize> = Default::default();
    for job in jobs {
        *counted.entry(job).or_default() += 1;
    }
    let jobs: Vec<String> = counted
        .into_iter()
        .map(|(job, n)| if n == 1 { job } else { format!("{job} x{n}") })
        .collect();
    for id in [APP_DOWN, AGENT_GONE] {
        stack
            .wait_for(&format!("{id} to be inactive"), timeout, async || {
                (condition_state(stack, id).await? == "inactive").then_some(())
            })
            .await?;
    }
    clock.say(format!(
        "baseline: Prometheus scrapes all {expected} targets ({}), {APP_DOWN} and {AGENT_GONE} are inactive",
        jobs.join(", ")
    ));
    if stack.rerun {
        // The agent was gone while the demo was not running, so the evaluator fired
        // and (at the first heartbeat) resolved it again; Alertmanager flushes that at
        // the group's next ticks. A firing that arrived before them would be folded
        // into the stale group and not notified again.
        clock.say(format!(
            "this directory ran the demo before: waiting {}s (the routes' group_wait + group_interval) for Alertmanager to flush what changed while the demo was stopped",
            SETTLE.as_secs()
        ));
        tokio::time::sleep(SETTLE).await;
    }
    let heartbeat = stack
        .wait_for(
            "the pipeline heartbeat (watchdog) to reach the history server",
            timeout,
            async || {
                let episodes = history_episodes(stack, WATCHDOG, "1h").await?;
                episodes.into_iter().find(|e| e["endsAt"].is_null())
            },
        )
        .await?;
    clock.say(format!(
        "the pipeline heartbeat ({WATCHDOG}) is recorded by the history server (episode since {})",
        heartbeat["startsAt"].as_str().unwrap_or("?")
    ));

    // Break things.
    let broken = Instant::now();
    let broken_at = jiff::Timestamp::now();
    stack.app.stop().await;
    heartbeats.abort();
    clock.say(format!(
        "stopped the demo app ({}, job demo-app) and {AGENT}'s heartbeats",
        stack.app.addr()
    ));
    let mut milestones = vec![
        Milestone::new(APP_DOWN, Event::Pending, false),
        Milestone::new(APP_DOWN, Event::Firing, true),
        Milestone::new(APP_DOWN, Event::Delivered("firing"), true),
        Milestone::new(APP_DOWN, Event::Recorded, true),
        Milestone::new(APP_DOWN, Event::Cached, true),
        Milestone::new(AGENT_GONE, Event::Firing, true),
        Milestone::new(AGENT_GONE, Event::Delivered("firing"), true),
        Milestone::new(AGENT_GONE, Event::Recorded, true),
        Milestone::new(AGENT_GONE, Event::Cached, true),
        Milestone::new("Demo app", Event::StatusPage("failing"), true),
    ];
    follow(stack, &clock, &mut milestones, broken, broken_at, timeout).await?;

    // Silence the agent's condition through the gateway, for a little while.
    let (code, silence) = stack
        .send_json(
            Method::POST,
            &stack.gateway_url(&format!("/api/v1/conditions/{AGENT_GONE}/silence")),
            Some(&json!({
                "duration": SILENCE_FOR,
                "comment": "alert-demo: the agent is being replaced",
                "created_by": "alert-demo",
            })),
        )
        .await?;
    if code != 200 && code != 201 {
        return Err(DemoError::Step(format!(
            "POST /api/v1/conditions/{AGENT_GONE}/silence: {code} {silence}"
        )));
    }
    clock.say(format!(
        "silenced {AGENT_GONE} for {SILENCE_FOR} through the gateway (POST /api/v1/conditions/{AGENT_GONE}/silence): silence {} on {}",
        silence["silence_id"].as_str().unwrap_or("?"),
        silence["matchers"]
    ));
    let mut silenced = vec![Milestone::new(AGENT_GONE, Event::Silenced, true)];
    follow(stack, &clock, &mut silenced, broken, broken_at, timeout).await?;

    // Repair the app while the agent's alert is silenced.
    let repaired = Instant::now();
    stack.app.restart().await?;
    clock.say("restarted the demo app");
    let mut resolutions = vec![
        Milestone::new(APP_DOWN, Event::Inactive, true),
        Milestone::new(APP_DOWN, Event::Delivered("resolved"), true),
        Milestone::new(APP_DOWN, Event::Ended, true),
        Milestone::new("Demo app", Event::StatusPage("passing"), true),
    ];
    follow(
        stack,
        &clock,
        &mut resolutions,
        repaired,
        broken_at,
        timeout,
    )
    .await?;

    // The silence runs out while the agent is still gone; then it comes back.
    clock.say(format!(
        "{AGENT} is still gone: waiting for the silence to run out"
    ));
    let mut unsilenced = vec![Milestone::new(AGENT_GONE, Event::Firing, true)];
    follow(stack, &clock, &mut unsilenced, repaired, broken_at, timeout).await?;
    let back = Instant::now();
    let heartbeats = stack.keep_agent_alive();
    clock.say(format!("{AGENT} reports in again"));
    let mut agent_back = vec![
        Milestone::new(AGENT_GONE, Event::Inactive, true),
        Milestone::new(AGENT_GONE, Event::Delivered("resolved"), true),
        Milestone::new(AGENT_GONE, Event::Ended, true),
    ];
    let outcome = follow(stack, &clock, &mut agent_back, back, broken_at, timeout).await;
    heartbeats.abort();
    outcome?;

    // The operator's checks.
    let check = tokio::process::Command::new(&bins.history)
        .args(["check", "--url"])
        .arg(stack.history_url(""))
        .args([
            "--heartbeat-matchers=alert_condition_id=\"watchdog\"",
            "--heartbeat-repeat-interval=1m",
            "--heartbeat-group-interval=10s",
            "--heartbeat-slack=30s",
        ])
        .output()
        .await
        .map_err(|e| DemoError::Start {
            what: bins.history.display().to_string(),
            reason: e.to_string(),
        })?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout).trim(),
        String::from_utf8_lossy(&check.stderr).trim()
    );
    if !check.status.success() {
        return Err(DemoError::Step(format!(
            "alert-history-server check --url {} failed ({}): {said}",
            stack.history_url(""),
            check.status
        )));
    }
    clock.say(format!("alert-history-server check: {said}"));
    let bar_path = format!(
        "/?match[]={}&by=alert_condition_id&range=1d",
        percent_encode(&format!("{{tenant=\"{TENANT}\"}}"))
    );
    let page = stack
        .http
        .get(stack.history_url(&bar_path))
        .send()
        .await
        .map_err(|e| DemoError::Step(format!("GET {bar_path}: {e}")))?;
    let page_status = page.status();
    let page = page.text().await.unwrap_or_default();
    if !page_status.is_success() || !page.contains(APP_DOWN) || !page.contains(AGENT_GONE) {
        return Err(DemoError::Step(format!(
            "the history health bar ({bar_path}) answered {page_status} without bars for {APP_DOWN} and {AGENT_GONE}"
        )));
    }
    clock.say(format!(
        "the history health bar draws {APP_DOWN} and {AGENT_GONE} ({})",
        stack.history_url(&bar_path)
    ));

    Ok(())
}

/// The spec the scenario applies: the `--spec` file, or a copy in the working directory
/// with the receiver's URL changed when the demo's receiver is elsewhere.
fn spec_file(stack: &Stack, args: &DemoArgs) -> Result<PathBuf, DemoError> {
    let text =
        std::fs::read_to_string(&args.spec).map_err(|e| DemoError::io(args.spec.display(), e))?;
    let url = stack.receiver.url();
    if url == SPEC_RECEIVER_URL {
        return Ok(args.spec.clone());
    }
    if !text.contains(SPEC_RECEIVER_URL) {
        return Err(DemoError::Step(format!(
            "{}: the receiver's URL {SPEC_RECEIVER_URL} is not in it, so the demo cannot point it at {url}",
            args.spec.display()
        )));
    }
    let copy = stack.dir.join("demo-spec.yaml");
    std::fs::write(&copy, text.replace(SPEC_RECEIVER_URL, &url))
        .map_err(|e| DemoError::io(copy.display(), e))?;
    Ok(copy)
}

/// What the scenario waits to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// The gateway's condition status says `pending`.
    Pending,
    /// ... `firing`.
    Firing,
    /// ... `silenced`.
    Silenced,
    /// ... `inactive`.
    Inactive,
    /// The team's receiver got a notification with this status.
    Delivered(&'static str),
    /// The history server has an episode that began after the break.
    Recorded,
    /// ... and it ended, resolved.
    Ended,
    /// The emitter's message cache holds a notification of the condition.
    Cached,
    /// The status page shows the service in this state.
    StatusPage(&'static str),
}

#[derive(Debug)]
struct Milestone {
    subject: &'static str,
    event: Event,
    required: bool,
    seen: bool,
}

impl Milestone {
    fn new(subject: &'static str, event: Event, required: bool) -> Milestone {
        Milestone {
            subject,
            event,
            required,
            seen: false,
        }
    }
}

/// Polls every milestone not yet seen, printing each as it is first seen, until every
/// required one is.
async fn follow(
    stack: &Stack,
    clock: &Clock,
    milestones: &mut [Milestone],
    since: Instant,
    broken_at: jiff::Timestamp,
    timeout: Duration,
) -> Result<(), DemoError> {
    let deadline = Instant::now() + timeout;
    let mut last_seen: BTreeSet<String> = BTreeSet::new();
    loop {
        for m in milestones.iter_mut().filter(|m| !m.seen) {
            if let Some(text) = observe(stack, m.subject, m.event, since, broken_at).await {
                m.seen = true;
                clock.say(format!("{}: {text}", m.subject));
            }
        }
        if milestones.iter().all(|m| m.seen || !m.required) {
            return Ok(());
        }
        stack.check_processes()?;
        if Instant::now() >= deadline {
            let missing: Vec<String> = milestones
                .iter()
                .filter(|m| m.required && !m.seen)
                .map(|m| format!("{} {:?}", m.subject, m.event))
                .collect();
            for id in [APP_DOWN, AGENT_GONE] {
                if let Some(state) = condition_state(stack, id).await {
                    last_seen.insert(format!("{id} is {state}"));
                }
            }
            return Err(DemoError::Timeout {
                what: missing.join(", "),
                timeout,
                detail: format!(
                    " (last seen: {})",
                    last_seen.into_iter().collect::<Vec<_>>().join("; ")
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A description of `event` for `subject` when it has happened.
async fn observe(
    stack: &Stack,
    subject: &str,
    event: Event,
    since: Instant,
    broken_at: jiff::Timestamp,
) -> Option<String> {
    match event {
        Event::Pending | Event::Firing | Event::Silenced | Event::Inactive => {
            let wanted = match event {
                Event::Pending => "pending",
                Event::Firing => "firing",
                Event::Silenced => "silenced",
                _ => "inactive",
            };
            let state = condition_state(stack, subject).await?;
            (state == wanted).then(|| match event {
                Event::Pending => "pending (Prometheus waits for its `for: 5s`)".to_owned(),
                Event::Firing => "firing (the gateway's condition status)".to_owned(),
                Event::Silenced => "silenced on the Alertmanager cluster".to_owned(),
                _ => "resolved (the condition status is inactive again)".to_owned(),
            })
        }
        Event::Delivered(status) => {
            let got = stack.receiver.received();
            let n = got.iter().find(|r| {
                r.at >= since
                    && r.body["status"] == status
                    && r.body["alerts"].as_array().is_some_and(|a| {
                        a.iter()
                            .any(|a| a["labels"]["alert_condition_id"] == subject)
                    })
            })?;
            Some(format!(
                "delivered to receiver {ENDPOINT} ({}): {status}, {} alert(s), Alertmanager receiver {}",
                stack.receiver.url(),
                n.body["alerts"].as_array().map_or(0, Vec::len),
                n.body["receiver"]
            ))
        }
        Event::Recorded | Event::Ended => {
            let episodes = history_episodes(stack, subject, "1h").await?;
            let e = episodes.into_iter().find(|e| {
                e["firstSeen"]
                    .as_str()
                    .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|first| first >= broken_at)
            })?;
            let key = format!(
                "{}@{}",
                e["fingerprint"].as_str().unwrap_or("?"),
                e["startsAt"].as_str().unwrap_or("?")
            );
            match event {
                Event::Recorded => Some(format!("recorded by the history server as episode {key}")),
                _ => (e["endReason"] == "resolved").then(|| {
                    format!(
                        "episode {key} ended at {} (resolved)",
                        e["endsAt"].as_str().unwrap_or("?")
                    )
                }),
            }
        }
        Event::Cached => {
            let url = stack.gateway_url(&format!(
                "/api/v1/messages?tenant={TENANT}&condition={subject}&since={}",
                percent_encode(&broken_at.to_string())
            ));
            let (code, v) = stack.get_json(&url).await.ok()?;
            let n = v["messages"].as_array().map_or(0, Vec::len);
            (code == 200 && n > 0).then(|| {
                format!("in the emitter's message cache (GET /api/v1/messages: {n} message(s))")
            })
        }
        Event::StatusPage(state) => {
            let (_, v) = stack
                .get_json(&stack.health_url("/api/v1/status"))
                .await
                .ok()?;
            let root = v["roots"]
                .as_array()?
                .iter()
                .find(|r| r["name"] == subject)?
                .clone();
            (root["state"] == state).then(|| {
                let why = root["children"][0]["messages"][0]["text"]
                    .as_str()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default();
                format!("{state} on the status page{why}")
            })
        }
    }
}

async fn condition_state(stack: &Stack, id: &str) -> Option<String> {
    let (code, v) = stack
        .get_json(&stack.gateway_url(&format!("/api/v1/conditions/{id}/status")))
        .await
        .ok()?;
    (code == 200).then(|| v["state"].as_str().unwrap_or_default().to_owned())
}

/// The rule groups Prometheus has loaded.
async fn prometheus_rule_groups(stack: &Stack) -> Option<Vec<Value>> {
    let (code, v) = stack
        .get_json(&stack.prometheus_url("/api/v1/rules"))
        .await
        .ok()?;
    (code == 200).then(|| v["data"]["groups"].as_array().cloned())?
}

/// An instant query's vector.
async fn prometheus_query(stack: &Stack, query: &str) -> Option<Vec<Value>> {
    let url = stack.prometheus_url(&format!("/api/v1/query?query={}", percent_encode(query)));
    let (code, v) = stack.get_json(&url).await.ok()?;
    (code == 200).then(|| v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// The history server's episodes of one condition over the last `range`.
async fn history_episodes(stack: &Stack, condition: &str, range: &str) -> Option<Vec<Value>> {
    let now = jiff::Timestamp::now();
    let span: jiff::SignedDuration = range
        .parse::<alert_core::Duration>()
        .ok()
        .and_then(|d| jiff::SignedDuration::try_from(d.to_std()).ok())?;
    let start = now.checked_sub(span).ok()?;
    let url = stack.history_url(&format!(
        "/api/v1/episodes?match[]={}&start={}&end={}",
        percent_encode(&format!("{{alert_condition_id=\"{condition}\"}}")),
        percent_encode(&start.to_string()),
        percent_encode(
            &now.checked_add(jiff::SignedDuration::from_secs(60))
                .ok()?
                .to_string()
        ),
    ));
    let (code, v) = stack.get_json(&url).await.ok()?;
    if code != 200 {
        return None;
    }
    // The read API's `{"status": "success", "data": …}` envelope.
    v["data"]["episodes"].as_array().cloned()
}

/// The first 12 characters of a sync id.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
