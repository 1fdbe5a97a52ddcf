//! Every alert Alertmanager sent, with when it fired and cleared.
//!
//! Webhook notifications are merged into **episodes** (one firing of one alert, keyed by
//! fingerprint and `startsAt`); episodes live in a **store** behind one trait
//! ([`HistoryStore`]: the embedded SQLite store by default, PostgreSQL for replicas that
//! share one database, Grafana Loki for scale) that answers range-and-matcher queries;
//! **timelines** turn an entity's episodes and the pipeline's own outages (from the
//! Watchdog heartbeat and the server's downtime) into ordered health segments. The model
//! and the timeline are pure; stores are adapters behind the `sqlite` (default),
//! `postgres` and `loki` features, and the HTTP server (Alertmanager's webhook receiver
//! and the query API, an axum router) is behind the `server` feature.
//!
//! ```
//! use alert_core::{Timestamp, WebhookMessage};
//! use alert_history::{merge_notifications, timeline, HealthState, Notification, TimeSpan};
//!
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! let firing = WebhookMessage::from_json(br#"{"receiver":"history","status":"firing","alerts":[
//!   {"status":"firing","labels":{"alertname":"DiskFull","severity":"warning"},"annotations":{},
//!    "startsAt":"2024-05-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":""}],"version":"4"}"#)?;
//! let resolved = WebhookMessage::from_json(br#"{"receiver":"history","status":"resolved","alerts":[
//!   {"status":"resolved","labels":{"alertname":"DiskFull","severity":"warning"},"annotations":{},
//!    "startsAt":"2024-05-01T10:00:00Z","endsAt":"2024-05-01T10:45:00Z","generatorURL":""}],"version":"4"}"#)?;
//! let mut ns = Notification::from_message(&firing, t("2024-05-01T10:00:30Z"));
//! ns.extend(Notification::from_message(&resolved, t("2024-05-01T10:45:30Z")));
//! let episodes = merge_notifications(&ns);
//! assert_eq!(episodes.len(), 1);
//! assert_eq!(episodes[0].ends_at, Some(t("2024-05-01T10:45:00Z")));
//!
//! let range = TimeSpan::new(t("2024-05-01T10:00:00Z"), t("2024-05-01T11:00:00Z"))?;
//! let segments = timeline(range, &episodes, &[]);
//! let states: Vec<_> = segments.iter().map(|s| s.state).collect();
//! assert_eq!(states, [HealthState::Warning, HealthState::Healthy]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

pub mod availability;
pub mod conformance;
pub mod episode;
pub mod error;
pub mod health_bar;
#[cfg(feature = "loki")]
pub mod loki;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod range;
pub mod selector;
#[cfg(feature = "server")]
pub mod server;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;
pub mod timeline;

pub use availability::{
    Heartbeat, HeartbeatGap, HeartbeatLog, HeartbeatPolicy, ServerRun, Unavailable,
    UnavailableCause, runs_around, unavailable_periods,
};
pub use episode::{
    EndReason, Episode, EpisodeKey, Notification, SilentEnd, check_fingerprints, end_superseded,
    merge_notifications,
};
pub use error::{Error, Result};
pub use range::TimeSpan;
pub use selector::Selectors;
pub use store::{
    AppendOutcome, Cursor, EpisodePage, EpisodeQuery, HistoryStore, MAX_QUERY_LIMIT, PurgeOutcome,
    StoreStats,
};
pub use timeline::{HealthState, Segment, close_open_episodes, timeline, timeline_within};
