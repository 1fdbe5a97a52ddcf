//! The gateway's own metrics, rendered in Prometheus' text format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Histogram bucket bounds in seconds (store latency).
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// Counters, gauges and histograms of one gateway process.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    store: Mutex<BTreeMap<(&'static str, &'static str), Histogram>>,
    watchers: AtomicI64,
    revision: AtomicU64,
    control_plane: Mutex<ControlPlaneMetrics>,
    evaluator: Mutex<EvaluatorMetrics>,
    /// Series rendered elsewhere (the alerting backend's), by source, appended as they are.
    extra: Mutex<BTreeMap<&'static str, String>>,
}

#[derive(Debug, Default)]
struct EvaluatorMetrics {
    leader: bool,
    pending: usize,
    firing: usize,
    /// Alerts posted, by firing (true) or resolved.
    alerts: [u64; 2],
    send_failures: u64,
}

/// Buckets of the control plane's time to live: from a change arriving to it being seen
/// live (the goal is one second; peers take from 15 s to minutes).
const LIVE_BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0,
];

#[derive(Debug, Default)]
struct ControlPlaneMetrics {
    leader: bool,
    live: Histogram,
    live_buckets: [u64; LIVE_BUCKETS.len()],
    failures: u64,
    failing: usize,
    fenced: u64,
}

impl Metrics {
    /// Counts a request by method, matched route and status.
    pub fn request(&self, method: &str, route: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
    }

    /// Records the latency of one store call (`op`: get, list, txn, ...; `outcome`: ok
    /// or error).
    pub fn store_call(&self, op: &'static str, outcome: &'static str, took: Duration) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store
            .entry((op, outcome))
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// One more (or, with `-1`, one fewer) open watch.
    pub fn watchers(&self, delta: i64) {
        self.watchers.fetch_add(delta, Ordering::Relaxed);
    }

    /// The newest store revision seen.
    /// Whether this replica's control plane leads.
    pub fn control_plane_leader(&self, leads: bool) {
        self.control_plane
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .leader = leads;
    }

    /// Replaces the series `source` contributes (complete `# HELP`/`# TYPE` blocks in the
    /// text format), appended to every rendering.
    pub fn set_extra(&self, source: &'static str, text: String) {
        self.extra
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source, text);
    }

    /// Whether this replica's evaluator leads.
    pub fn evaluator_leader(&self, leads: bool) {
        self.evaluator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .leader = leads;
    }

    /// The evaluator's subjects pending and firing after a pass.
    pub fn evaluator_subjects(&self, pending: usize, firing: usize) {
        let mut m = self.evaluator.lock().unwrap_or_else(|e| e.into_inner());
        m.pending = pending;
        m.firing = firing;
    }

    /// The evaluator posted an alert (firing or resolved).
    pub fn evaluator_alert(&self, firing: bool) {
        self.evaluator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .alerts[usize::from(firing)] += 1;
    }

    /// A post of the evaluator's alerts failed.
    pub fn evaluator_send_failure(&self) {
        self.evaluator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send_failures += 1;
    }

    /// A change went live `took` after it arrived.
    pub fn control_plane_live(&self, took: Duration) {
        let mut m = self.control_plane.lock().unwrap_or_else(|e| e.into_inner());
        let seconds = took.as_secs_f64();
        for (bound, count) in LIVE_BUCKETS.iter().zip(m.live_buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        m.live.count += 1;
        m.live.sum += seconds;
    }

    /// A tenant's apply failed.
    pub fn control_plane_failure(&self) {
        self.control_plane
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failures += 1;
    }

    /// How many tenants are failing now.
    pub fn control_plane_failing(&self, n: usize) {
        self.control_plane
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failing = n;
    }

    /// A write of this replica's control plane was refused by a newer term's fence.
    pub fn control_plane_fenced(&self) {
        self.control_plane
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fenced += 1;
    }

    /// Records a store revision seen (the gauge keeps the highest).
    pub fn revision(&self, revision: u64) {
        self.revision.fetch_max(revision, Ordering::Relaxed);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP alert_gateway_http_requests_total HTTP requests by method, route and status code.\n");
        out.push_str("# TYPE alert_gateway_http_requests_total counter\n");
        for ((method, route, code), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "alert_gateway_http_requests_total{{method=\"{method}\",route=\"{}\",code=\"{code}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP alert_gateway_store_duration_seconds Latency of store calls by operation and outcome.\n");
        out.push_str("# TYPE alert_gateway_store_duration_seconds histogram\n");
        for ((op, outcome), h) in self.store.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    out,
                    "alert_gateway_store_duration_seconds_bucket{{op=\"{op}\",outcome=\"{outcome}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "alert_gateway_store_duration_seconds_bucket{{op=\"{op}\",outcome=\"{outcome}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "alert_gateway_store_duration_seconds_sum{{op=\"{op}\",outcome=\"{outcome}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "alert_gateway_store_duration_seconds_count{{op=\"{op}\",outcome=\"{outcome}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP alert_gateway_store_watchers Open watches of the store served over HTTP.\n",
        );
        out.push_str("# TYPE alert_gateway_store_watchers gauge\n");
        let _ = writeln!(
            out,
            "alert_gateway_store_watchers {}",
            self.watchers.load(Ordering::Relaxed)
        );
        out.push_str("# HELP alert_gateway_store_revision The newest store revision this process has seen.\n");
        out.push_str("# TYPE alert_gateway_store_revision gauge\n");
        let _ = writeln!(
            out,
            "alert_gateway_store_revision {}",
            self.revision.load(Ordering::Relaxed)
        );
        let cp = self.control_plane.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP alert_gateway_control_plane_leader Whether this replica's control plane leads (1) or waits (0).\n");
        out.push_str("# TYPE alert_gateway_control_plane_leader gauge\n");
        let _ = writeln!(
            out,
            "alert_gateway_control_plane_leader {}",
            u8::from(cp.leader)
        );
        out.push_str("# HELP alert_gateway_control_plane_time_to_live_seconds From a store change arriving to its tenants' rules and configuration being seen live.\n");
        out.push_str("# TYPE alert_gateway_control_plane_time_to_live_seconds histogram\n");
        for (bound, count) in LIVE_BUCKETS.iter().zip(cp.live_buckets.iter()) {
            let _ = writeln!(
                out,
                "alert_gateway_control_plane_time_to_live_seconds_bucket{{le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "alert_gateway_control_plane_time_to_live_seconds_bucket{{le=\"+Inf\"}} {}\nalert_gateway_control_plane_time_to_live_seconds_sum {}\nalert_gateway_control_plane_time_to_live_seconds_count {}",
            cp.live.count, cp.live.sum, cp.live.count
        );
        out.push_str(
            "# HELP alert_gateway_control_plane_apply_failures_total Tenant applies that failed.\n",
        );
        out.push_str("# TYPE alert_gateway_control_plane_apply_failures_total counter\n");
        let _ = writeln!(
            out,
            "alert_gateway_control_plane_apply_failures_total {}",
            cp.failures
        );
        out.push_str(
            "# HELP alert_gateway_control_plane_failing_tenants Tenants whose last apply failed.\n",
        );
        out.push_str("# TYPE alert_gateway_control_plane_failing_tenants gauge\n");
        let _ = writeln!(
            out,
            "alert_gateway_control_plane_failing_tenants {}",
            cp.failing
        );
        out.push_str("# HELP alert_gateway_control_plane_fenced_writes_total Writes refused because a newer leader exists.\n");
        out.push_str("# TYPE alert_gateway_control_plane_fenced_writes_total counter\n");
        let _ = writeln!(
            out,
            "alert_gateway_control_plane_fenced_writes_total {}",
            cp.fenced
        );
        drop(cp);
        let ev = self.evaluator.lock().unwrap_or_else(|e| e.into_inner());
        let _ = write!(
            out,
            "# HELP alert_gateway_evaluator_leader Whether this replica's evaluator leads (1) or waits (0).\n\
             # TYPE alert_gateway_evaluator_leader gauge\n\
             alert_gateway_evaluator_leader {}\n\
             # HELP alert_gateway_evaluator_subjects Subjects (agents, components) of the evaluator's conditions by state, after the last pass.\n\
             # TYPE alert_gateway_evaluator_subjects gauge\n\
             alert_gateway_evaluator_subjects{{state=\"pending\"}} {}\n\
             alert_gateway_evaluator_subjects{{state=\"firing\"}} {}\n\
             # HELP alert_gateway_evaluator_alerts_total Alerts the evaluator posted, firing or resolved.\n\
             # TYPE alert_gateway_evaluator_alerts_total counter\n\
             alert_gateway_evaluator_alerts_total{{state=\"firing\"}} {}\n\
             alert_gateway_evaluator_alerts_total{{state=\"resolved\"}} {}\n\
             # HELP alert_gateway_evaluator_send_failures_total Posts of the evaluator's alerts that failed (retried next pass).\n\
             # TYPE alert_gateway_evaluator_send_failures_total counter\n\
             alert_gateway_evaluator_send_failures_total {}\n",
            u8::from(ev.leader),
            ev.pending,
            ev.firing,
            ev.alerts[1],
            ev.alerts[0],
            ev.send_failures
        );
        drop(ev);
        for text in self
            .extra
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            out.push_str(text);
        }
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/conditions/{id}", 404);
        m.request("GET", "/api/v1/conditions/{id}", 404);
        m.store_call("txn", "ok", Duration::from_millis(3));
        m.revision(7);
        m.revision(5);
        let text = m.render();
        assert!(text.contains(
            "alert_gateway_http_requests_total{method=\"GET\",route=\"/api/v1/conditions/{id}\",code=\"404\"} 2"
        ));
        assert!(text.contains(
            "alert_gateway_store_duration_seconds_bucket{op=\"txn\",outcome=\"ok\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "alert_gateway_store_duration_seconds_bucket{op=\"txn\",outcome=\"ok\",le=\"0.0025\"} 0"
        ));
        assert!(text.contains("alert_gateway_store_revision 7\n"));
    }
}
