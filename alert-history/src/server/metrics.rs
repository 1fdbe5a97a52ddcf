//! The server's own metrics, in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Upper bounds (seconds) of the store latency histogram.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters and gauges of one server process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Alerts received in accepted webhook notifications.
    pub notifications_received: AtomicU64,
    webhook_requests: Mutex<BTreeMap<u16, u64>>,
    store_errors: Mutex<BTreeMap<&'static str, u64>>,
    store_latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// Episodes in the store (refreshed periodically).
    pub episodes: AtomicU64,
    /// Open episodes in the store (refreshed periodically).
    pub open_episodes: AtomicU64,
    /// Unix seconds of the newest Watchdog heartbeat received (0: none yet).
    pub last_heartbeat_seconds: AtomicI64,
    /// Unix seconds of the newest successful webhook write (0: none yet).
    pub last_write_seconds: AtomicI64,
    /// Unix seconds of the newest successful stats refresh (0: none yet).
    pub last_stats_seconds: AtomicI64,
    /// Unix seconds of the newest successful retention purge (0: none yet).
    pub last_purge_seconds: AtomicI64,
    /// Episodes removed by retention purges.
    pub purged_episodes: AtomicU64,
    /// The error of the newest store write, if it failed.
    write_failure: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// Counts one webhook request answered with `status`.
    pub fn webhook_request(&self, status: u16) {
        *lock(&self.webhook_requests).entry(status).or_default() += 1;
    }

    /// Counts a failed store operation.
    pub fn store_error(&self, op: &'static str) {
        *lock(&self.store_errors).entry(op).or_default() += 1;
    }

    /// Records that a store write (a webhook append, a liveness record) succeeded:
    /// writes work again.
    pub fn write_succeeded(&self) {
        *lock(&self.write_failure) = None;
    }

    /// Records that a store write failed with `error`: until the next success the
    /// server is not ready.
    pub fn write_failed(&self, error: &str) {
        *lock(&self.write_failure) = Some(error.to_owned());
    }

    /// The error of the newest store write, if it failed.
    pub fn write_failure(&self) -> Option<String> {
        lock(&self.write_failure).clone()
    }

    /// Records how long a store operation took.
    pub fn observe_store(&self, op: &'static str, seconds: f64) {
        let mut all = lock(&self.store_latency);
        let h = all.entry(op).or_default();
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self) -> String {
        let mut text = String::new();
        let mut section = |name: &str, kind: &str, help: &str, samples: Vec<String>| {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for s in samples {
                text.push_str(&s);
                text.push('\n');
            }
        };
        section(
            "alert_history_notifications_received_total",
            "counter",
            "Alerts received in webhook notifications that were stored.",
            vec![format!(
                "alert_history_notifications_received_total {}",
                self.notifications_received.load(Ordering::Relaxed)
            )],
        );
        let requests: Vec<String> = lock(&self.webhook_requests)
            .iter()
            .map(|(code, v)| format!("alert_history_webhook_requests_total{{code=\"{code}\"}} {v}"))
            .collect();
        section(
            "alert_history_webhook_requests_total",
            "counter",
            "Webhook requests by HTTP status answered.",
            requests,
        );
        let errors: Vec<String> = lock(&self.store_errors)
            .iter()
            .map(|(op, v)| format!("alert_history_store_errors_total{{operation=\"{op}\"}} {v}"))
            .collect();
        section(
            "alert_history_store_errors_total",
            "counter",
            "Failed store operations.",
            errors,
        );
        let mut latency = Vec::new();
        for (op, h) in lock(&self.store_latency).iter() {
            for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
                latency.push(format!(
                    "alert_history_store_latency_seconds_bucket{{operation=\"{op}\",le=\"{le}\"}} {}",
                    h.counts[i]
                ));
            }
            latency.push(format!(
                "alert_history_store_latency_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}",
                h.count
            ));
            latency.push(format!(
                "alert_history_store_latency_seconds_sum{{operation=\"{op}\"}} {}",
                h.sum
            ));
            latency.push(format!(
                "alert_history_store_latency_seconds_count{{operation=\"{op}\"}} {}",
                h.count
            ));
        }
        section(
            "alert_history_store_latency_seconds",
            "histogram",
            "Latency of store operations.",
            latency,
        );
        let gauge = |name: &str, v: String| vec![format!("{name} {v}")];
        section(
            "alert_history_episodes",
            "gauge",
            "Episodes in the store.",
            gauge(
                "alert_history_episodes",
                self.episodes.load(Ordering::Relaxed).to_string(),
            ),
        );
        section(
            "alert_history_open_episodes",
            "gauge",
            "Episodes in the store that are still firing.",
            gauge(
                "alert_history_open_episodes",
                self.open_episodes.load(Ordering::Relaxed).to_string(),
            ),
        );
        section(
            "alert_history_store_writable",
            "gauge",
            "1 when the newest store write succeeded (or none was made yet), 0 when it failed.",
            gauge(
                "alert_history_store_writable",
                u8::from(lock(&self.write_failure).is_none()).to_string(),
            ),
        );
        section(
            "alert_history_last_heartbeat_timestamp_seconds",
            "gauge",
            "When the newest Watchdog heartbeat arrived (0: none since start).",
            gauge(
                "alert_history_last_heartbeat_timestamp_seconds",
                self.last_heartbeat_seconds
                    .load(Ordering::Relaxed)
                    .to_string(),
            ),
        );
        section(
            "alert_history_last_write_timestamp_seconds",
            "gauge",
            "When a webhook notification was last stored (0: none since start).",
            gauge(
                "alert_history_last_write_timestamp_seconds",
                self.last_write_seconds.load(Ordering::Relaxed).to_string(),
            ),
        );
        section(
            "alert_history_last_stats_timestamp_seconds",
            "gauge",
            "When the store's counts were last refreshed (0: never).",
            gauge(
                "alert_history_last_stats_timestamp_seconds",
                self.last_stats_seconds.load(Ordering::Relaxed).to_string(),
            ),
        );
        section(
            "alert_history_last_purge_timestamp_seconds",
            "gauge",
            "When the retention purge last succeeded (0: never).",
            gauge(
                "alert_history_last_purge_timestamp_seconds",
                self.last_purge_seconds.load(Ordering::Relaxed).to_string(),
            ),
        );
        section(
            "alert_history_purged_episodes_total",
            "counter",
            "Episodes removed by the retention purge.",
            gauge(
                "alert_history_purged_episodes_total",
                self.purged_episodes.load(Ordering::Relaxed).to_string(),
            ),
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_help_and_type() {
        let m = Metrics::default();
        m.notifications_received.fetch_add(3, Ordering::Relaxed);
        m.webhook_request(200);
        m.webhook_request(400);
        m.webhook_request(200);
        m.store_error("append");
        m.observe_store("append", 0.003);
        let text = m.render();
        assert!(
            text.contains("alert_history_notifications_received_total 3\n"),
            "{text}"
        );
        assert!(text.contains("alert_history_webhook_requests_total{code=\"200\"} 2\n"));
        assert!(text.contains("alert_history_store_errors_total{operation=\"append\"} 1\n"));
        assert!(text.contains(
            "alert_history_store_latency_seconds_bucket{operation=\"append\",le=\"0.0025\"} 0\n"
        ));
        assert!(text.contains(
            "alert_history_store_latency_seconds_bucket{operation=\"append\",le=\"0.005\"} 1\n"
        ));
        assert!(
            text.contains("alert_history_store_latency_seconds_count{operation=\"append\"} 1\n")
        );
        assert!(text.contains("alert_history_store_writable 1\n"));
        m.write_failed("disk full");
        assert_eq!(m.write_failure().as_deref(), Some("disk full"));
        assert!(m.render().contains("alert_history_store_writable 0\n"));
        m.write_succeeded();
        assert_eq!(m.write_failure(), None);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "no TYPE for {name}"
            );
        }
    }
}
