//! The history benchmarks' data set: deterministic episodes spread over a number of
//! days before [`ANCHOR`], as the criterion benchmark (`benches/history.rs`) and
//! `history-scale` generate them.
//!
//! Each episode is one alert: 200 alert names (a skewed choice: low numbers are
//! frequent), 5,000 instances (`node-N`, with `job`, `namespace` and `severity`
//! labels) and a `seq` label numbering the episodes, so every episode has a
//! fingerprint of its own. 70 % last a minute to half an hour, 25 % up to six hours,
//! 5 % up to three days; 1 % are still firing at [`ANCHOR`].

use alert_core::{Alert, AlertStatus, LabelSet, Timestamp};
use alert_history::Notification;

/// The instant the generated data ends at (the "now" of the queries).
pub const ANCHOR: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
/// A day in seconds.
pub const DAY: i64 = 86_400;
/// How many alert names (`Alert0` to `Alert199`).
pub const NAMES: u64 = 200;
/// How many instances (`node-0` to `node-4999`).
pub const INSTANCES: u64 = 5_000;

/// xorshift64*: deterministic data without a dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// `secs` since 1970 as a timestamp.
///
/// # Panics
/// Outside the range of timestamps (never for the data set's instants).
pub fn ts(secs: i64) -> Timestamp {
    Timestamp::from_unix(secs, 0).expect("representable")
}

/// Episode `i` as its single notification: resolved (with its end) or, for 1 %,
/// firing; started within the `days` days before [`ANCHOR`].
///
/// # Panics
/// Never for the generated labels (they are valid).
pub fn episode_notification(rng: &mut Rng, i: usize, days: i64) -> Notification {
    // A skewed choice of alert name: low numbers are frequent.
    let name = rng.below(NAMES).min(rng.below(NAMES));
    let instance = rng.below(INSTANCES);
    let severity = ["critical", "warning", "warning", "info", "info"][rng.below(5) as usize];
    let labels = LabelSet::from_pairs([
        ("alertname", format!("Alert{name}")),
        ("instance", format!("node-{instance}")),
        ("job", format!("job-{}", instance % 20)),
        ("namespace", format!("ns-{}", instance % 50)),
        ("severity", severity.to_owned()),
        ("seq", i.to_string()),
    ])
    .expect("valid labels");
    let span = (days * DAY).max(1);
    let start = ANCHOR - span + rng.below(span as u64) as i64;
    let length = match rng.below(100) {
        0..=69 => 60 + rng.below(1800) as i64,
        70..=94 => 1800 + rng.below(6 * 3600) as i64,
        _ => 6 * 3600 + rng.below(3 * DAY as u64) as i64,
    };
    let mut alert = Alert::firing(labels, ts(start));
    alert.annotations =
        LabelSet::from_pairs([("summary", format!("Alert{name} on node-{instance}"))])
            .expect("valid annotations");
    let open = rng.below(100) == 0;
    let end = (start + length).min(ANCHOR - 1);
    if !open {
        alert.status = AlertStatus::Resolved;
        alert.ends_at = Some(ts(end));
    }
    Notification {
        alert,
        receiver: "history".into(),
        received_at: ts(if open { ANCHOR - 60 } else { end + 30 }),
    }
}

/// A batch of `size` notifications as Alertmanager sends them in time order: `size / 2`
/// new alerts firing (20 a second of alerting time from `first` on, numbered from
/// `*next`), then their resolutions, which update the episodes the first half opened.
pub fn ingest_batch(rng: &mut Rng, next: &mut usize, size: usize, first: i64) -> Vec<Notification> {
    let firing: Vec<Notification> = (0..size / 2)
        .map(|_| {
            *next += 1;
            let mut n = episode_notification(rng, *next, 30);
            let start = first + (*next / 20) as i64;
            n.alert.starts_at = ts(start);
            n.alert.status = AlertStatus::Firing;
            n.alert.ends_at = None;
            n.received_at = ts(start + 30);
            n
        })
        .collect();
    let mut all = firing.clone();
    all.extend(firing.into_iter().map(|mut n| {
        n.alert.status = AlertStatus::Resolved;
        n.alert.ends_at = Some(ts(n.alert.starts_at.unix_seconds() + 600));
        n.received_at = ts(n.alert.starts_at.unix_seconds() + 630);
        n
    }));
    all
}
