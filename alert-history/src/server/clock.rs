//! The wall clock as an Alertmanager-style timestamp (when a notification was received,
//! "now" for default query ranges).

use alert_core::Timestamp;

/// Now, in UTC.
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    // subsec_nanos is below 1e9, so it fits an i32.
    let nanos = i32::try_from(d.subsec_nanos()).unwrap_or(0);
    Timestamp::from_unix(secs, nanos).unwrap_or(Timestamp::UNIX_EPOCH)
}
