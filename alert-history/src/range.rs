//! Half-open time ranges `[start, end)`.

use alert_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A half-open range of instants: `start` is inside, `end` is not.
///
/// ```
/// use alert_history::TimeSpan;
/// let r = TimeSpan::new("2024-05-01T10:00:00Z".parse()?, "2024-05-01T11:00:00Z".parse()?)?;
/// assert!(r.contains("2024-05-01T10:00:00Z".parse()?));
/// assert!(!r.contains("2024-05-01T11:00:00Z".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeSpan {
    /// The first instant inside the range.
    pub start: Timestamp,
    /// The first instant after the range.
    pub end: Timestamp,
}

impl TimeSpan {
    /// `[start, end)`; fails unless `start < end`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<TimeSpan> {
        if start < end {
            Ok(TimeSpan { start, end })
        } else {
            Err(Error::EmptyRange {
                field: "range".into(),
                start: start.to_string(),
                end: end.to_string(),
            })
        }
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether `[from, to)` (with `to = None` meaning "still going") shares an instant
    /// with this range.
    pub fn overlaps(&self, from: Timestamp, to: Option<Timestamp>) -> bool {
        from < self.end && to.is_none_or(|to| to > self.start && to > from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn overlap_is_half_open_on_both_sides() {
        let r = TimeSpan::new(t("2024-05-01T10:00:00Z"), t("2024-05-01T11:00:00Z")).expect("ok");
        // Ends exactly at start: outside. Starts exactly at end: outside.
        assert!(!r.overlaps(t("2024-05-01T09:00:00Z"), Some(t("2024-05-01T10:00:00Z"))));
        assert!(!r.overlaps(t("2024-05-01T11:00:00Z"), None));
        assert!(r.overlaps(t("2024-05-01T09:00:00Z"), Some(t("2024-05-01T10:00:00.1Z"))));
        assert!(r.overlaps(t("2024-05-01T10:59:59Z"), None));
        assert!(r.overlaps(t("2024-04-01T00:00:00Z"), None));
        // An empty interval overlaps nothing.
        assert!(!r.overlaps(t("2024-05-01T10:30:00Z"), Some(t("2024-05-01T10:30:00Z"))));
        assert!(TimeSpan::new(r.end, r.start).is_err());
        assert!(TimeSpan::new(r.start, r.start).is_err());
    }
}
