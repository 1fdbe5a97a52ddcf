//! Whether a time interval is active at an instant: Alertmanager 0.25's
//! `timeinterval.TimeInterval.ContainsTime`, exactly.
//!
//! The instant is read in the interval's `location` (time zone), or in UTC without one
//! (Alertmanager evaluates mute and active intervals on `now.UTC()`). Every field that is
//! set must contain the instant; within a field, any one range suffices:
//! - `times`: minute of the day in `[start, end)`;
//! - `days_of_month`: negative days count from the end of the month (`-1` is the last
//!   day); a range whose start lies past the month's end is skipped, the rest is clamped
//!   to the month;
//! - `weekdays` (Sunday is 0), `months` (January is 1), `years`: inclusive ranges.
//!
//! A field set to an empty list contains nothing (Go tests `!= nil`, and an empty YAML
//! list decodes to an empty, non-nil slice).

use alert_core::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::config::{Config, NamedTimeInterval, TimeInterval};
use crate::error::{Error, Result};
use crate::route::Route;

/// The fields of one time interval as numbers, the form the evaluation works on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ranges {
    /// `[start_minute, end_minute)` of the day.
    times: Option<Vec<(i32, i32)>>,
    /// Inclusive, 0 = Sunday.
    weekdays: Option<Vec<(i32, i32)>>,
    /// Inclusive; negative counts from the month's end.
    days_of_month: Option<Vec<(i32, i32)>>,
    /// Inclusive, 1 = January.
    months: Option<Vec<(i32, i32)>>,
    /// Inclusive.
    years: Option<Vec<(i32, i32)>>,
}

fn days_in_month(t: DateTime) -> i32 {
    i32::from(t.date().days_in_month())
}

fn clamp(n: i32, min: i32, max: i32) -> i32 {
    if n <= min {
        min
    } else if n >= max {
        max
    } else {
        n
    }
}

impl Ranges {
    /// `ContainsTime` on a civil date and time already in the interval's zone.
    fn contains(&self, t: DateTime) -> bool {
        let within = |ranges: &Option<Vec<(i32, i32)>>, v: i32| match ranges {
            None => true,
            Some(rs) => rs.iter().any(|&(b, e)| v >= b && v <= e),
        };
        if let Some(times) = &self.times {
            let minute = i32::from(t.hour()) * 60 + i32::from(t.minute());
            if !times.iter().any(|&(s, e)| minute >= s && minute < e) {
                return false;
            }
        }
        if let Some(days) = &self.days_of_month {
            let dim = days_in_month(t);
            let day = i32::from(t.day());
            let hit = days.iter().any(|&(b, e)| {
                let begin = if b < 0 { dim + b + 1 } else { b };
                let end = if e < 0 { dim + e + 1 } else { e };
                if begin > dim {
                    return false;
                }
                let begin = clamp(begin, -dim, dim);
                let end = clamp(end, -dim, dim);
                day >= begin && day <= end
            });
            if !hit {
                return false;
            }
        }
        if !within(&self.months, i32::from(t.month())) {
            return false;
        }
        let weekday = i32::from(t.weekday().to_sunday_zero_offset());
        if !within(&self.weekdays, weekday) {
            return false;
        }
        within(&self.years, i32::from(t.year()))
    }
}

fn civil_in(at: Timestamp, zone: &TimeZone) -> DateTime {
    jiff::Timestamp::from(at).to_zoned(zone.clone()).datetime()
}

/// A range bound as `i32`; bounds beyond `i32` (which validation refuses) saturate.
fn bound(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

impl TimeInterval {
    fn ranges(&self) -> Ranges {
        fn each<T>(v: &Option<Vec<T>>, f: impl Fn(&T) -> (i32, i32)) -> Option<Vec<(i32, i32)>> {
            v.as_ref().map(|rs| rs.iter().map(f).collect())
        }
        Ranges {
            times: each(&self.times, |r| {
                (
                    bound(i64::from(r.start_minute)),
                    bound(i64::from(r.end_minute)),
                )
            }),
            weekdays: each(&self.weekdays, |r| (i32::from(r.begin), i32::from(r.end))),
            days_of_month: each(&self.days_of_month, |r| (bound(r.begin), bound(r.end))),
            months: each(&self.months, |r| (bound(r.begin), bound(r.end))),
            years: each(&self.years, |r| (bound(r.begin), bound(r.end))),
        }
    }

    /// Whether this interval contains the instant `at`: Alertmanager's `ContainsTime`
    /// on `at` in UTC, or in the interval's `location` when it has one.
    ///
    /// Fails only when the location names no known time zone.
    ///
    /// ```
    /// use alert_core::Timestamp;
    /// use alert_router::config::{TimeInterval, TimeRange, WeekdayRange};
    ///
    /// // 9am to 5pm, Monday to Friday.
    /// let office = TimeInterval {
    ///     times: Some(vec![TimeRange::parse("09:00", "17:00")?]),
    ///     weekdays: Some(vec!["monday:friday".parse::<WeekdayRange>()?]),
    ///     ..Default::default()
    /// };
    /// let monday_3pm: Timestamp = "2020-05-04T15:04:00Z".parse()?;
    /// let sunday_3pm: Timestamp = "2020-05-03T15:04:00Z".parse()?;
    /// assert!(office.contains(monday_3pm)?);
    /// assert!(!office.contains(sunday_3pm)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, at: Timestamp) -> Result<bool> {
        let zone = match &self.location {
            Some(location) => location.time_zone()?,
            None => TimeZone::UTC,
        };
        Ok(self.ranges().contains(civil_in(at, &zone)))
    }
}

impl NamedTimeInterval {
    /// Whether any of the intervals contains `at`: for a route's `mute_time_intervals`,
    /// whether it is muted; for its `active_time_intervals`, whether it is active.
    pub fn contains(&self, at: Timestamp) -> Result<bool> {
        for interval in &self.time_intervals {
            if interval.contains(at)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Whether notifications of `route` are muted at `at` by its time intervals, as
/// Alertmanager 0.25's notification pipeline decides (`TimeMuteStage`, then
/// `TimeActiveStage`): muted when any of its `mute_time_intervals` contains `at`, or when
/// it has `active_time_intervals` and none of them contains `at`. The route's own lists
/// count, never its parent's. Interval names are looked up in both of `config`'s lists.
///
/// ```
/// use alert_core::Timestamp;
/// use alert_router::config::Config;
/// use alert_router::route::RoutingTree;
/// use alert_router::time_interval_eval::route_muted_at;
///
/// let config = Config::from_yaml(r#"
/// route:
///   receiver: default
///   routes:
///     - receiver: office
///       active_time_intervals: [office-hours]
/// receivers: [{name: default}, {name: office}]
/// time_intervals:
///   - name: office-hours
///     time_intervals: [{weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}]}]
/// "#)?;
/// let tree = RoutingTree::new(&config.route)?;
/// let office = tree.root().children().next().unwrap();
/// let monday_noon: Timestamp = "2020-05-04T12:00:00Z".parse()?;
/// let sunday_noon: Timestamp = "2020-05-03T12:00:00Z".parse()?;
/// assert!(!route_muted_at(office, &config, monday_noon)?);
/// assert!(route_muted_at(office, &config, sunday_noon)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn route_muted_at(route: Route<'_>, config: &Config, at: Timestamp) -> Result<bool> {
    let lookup = |name: &String, field: &str| {
        config
            .time_interval(name)
            .ok_or_else(|| Error::UndefinedTimeInterval {
                path: format!("{}.{field}", route.path()),
                name: name.clone(),
            })
    };
    let opts = route.opts();
    for name in &opts.mute_time_intervals {
        if lookup(name, "mute_time_intervals")?.contains(at)? {
            return Ok(true);
        }
    }
    if opts.active_time_intervals.is_empty() {
        return Ok(false);
    }
    for name in &opts.active_time_intervals {
        if lookup(name, "active_time_intervals")?.contains(at)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    //! Alertmanager's own tables (`timeinterval/timeinterval_test.go`): the intervals,
    //! and the instants (Go's RFC 822 with numeric zone) each must and must not contain.

    use super::*;
    use crate::config::{
        DayOfMonthRange, Location, MonthRange, TimeRange, WeekdayRange, YearRange,
    };

    fn at(s: &str) -> Timestamp {
        let parsed = jiff::fmt::strtime::parse("%d %b %y %H:%M %z", s).unwrap();
        Timestamp::from(parsed.to_timestamp().unwrap())
    }

    fn times(s: u32, e: u32) -> Option<Vec<TimeRange>> {
        Some(vec![TimeRange {
            start_minute: s,
            end_minute: e,
        }])
    }
    fn weekdays(b: u8, e: u8) -> Option<Vec<WeekdayRange>> {
        Some(vec![WeekdayRange { begin: b, end: e }])
    }
    fn days(b: i64, e: i64) -> Option<Vec<DayOfMonthRange>> {
        Some(vec![DayOfMonthRange { begin: b, end: e }])
    }
    fn months(b: i64, e: i64) -> Option<Vec<MonthRange>> {
        Some(vec![MonthRange { begin: b, end: e }])
    }
    fn years(b: i64, e: i64) -> Option<Vec<YearRange>> {
        Some(vec![YearRange { begin: b, end: e }])
    }

    fn check(ti: &TimeInterval, valid: &[&str], invalid: &[&str]) {
        for s in valid {
            assert!(ti.contains(at(s)).unwrap(), "{ti:?} should contain {s}");
        }
        for s in invalid {
            assert!(
                !ti.contains(at(s)).unwrap(),
                "{ti:?} should not contain {s}"
            );
        }
    }

    #[test]
    fn contains_time_table() {
        check(
            &TimeInterval::default(),
            &[
                "02 Jan 06 15:04 +0000",
                "03 Jan 07 10:04 +0000",
                "04 Jan 06 09:04 +0000",
            ],
            &[],
        );
        // 9am to 5pm, monday to friday.
        check(
            &TimeInterval {
                times: times(540, 1020),
                weekdays: weekdays(1, 5),
                ..Default::default()
            },
            &[
                "04 May 20 15:04 +0000",
                "05 May 20 10:04 +0000",
                "09 Jun 20 09:04 +0000",
            ],
            &[
                "03 May 20 15:04 +0000",
                "04 May 20 08:59 +0000",
                "05 May 20 05:00 +0000",
            ],
        );
        // Easter 2020.
        check(
            &TimeInterval {
                days_of_month: days(4, 6),
                months: months(4, 4),
                years: years(2020, 2020),
                ..Default::default()
            },
            &[
                "04 Apr 20 15:04 +0000",
                "05 Apr 20 00:00 +0000",
                "06 Apr 20 23:05 +0000",
            ],
            &[
                "03 May 18 15:04 +0000",
                "03 Apr 20 23:59 +0000",
                "04 Jun 20 23:59 +0000",
                "06 Apr 19 23:59 +0000",
                "07 Apr 20 00:00 +0000",
            ],
        );
        // Negative days of month: the last 3 days of each month.
        check(
            &TimeInterval {
                days_of_month: days(-3, -1),
                ..Default::default()
            },
            &[
                "31 Jan 20 15:04 +0000",
                "30 Jan 20 15:04 +0000",
                "29 Jan 20 15:04 +0000",
                "30 Jun 20 00:00 +0000",
                "29 Feb 20 23:05 +0000",
            ],
            &[
                "03 May 18 15:04 +0000",
                "27 Jan 20 15:04 +0000",
                "03 Apr 20 23:59 +0000",
                "04 Jun 20 23:59 +0000",
                "06 Apr 19 23:59 +0000",
                "07 Apr 20 00:00 +0000",
                "01 Mar 20 00:00 +0000",
            ],
        );
        // Out of bound days are clamped to the month's boundaries.
        check(
            &TimeInterval {
                months: months(6, 6),
                days_of_month: days(-31, 31),
                ..Default::default()
            },
            &["30 Jun 20 00:00 +0000", "01 Jun 20 00:00 +0000"],
            &["31 May 20 00:00 +0000", "1 Jul 20 00:00 +0000"],
        );
        // Other time zones: AEST 9am to 5pm, Monday to Friday.
        let sydney = Some(Location::new("Australia/Sydney").unwrap());
        check(
            &TimeInterval {
                times: times(540, 1020),
                weekdays: weekdays(1, 5),
                location: sydney.clone(),
                ..Default::default()
            },
            &["06 Apr 21 13:00 +1000"],
            &["06 Apr 21 13:00 +0000"],
        );
        // ... during daylight saving time.
        check(
            &TimeInterval {
                times: times(540, 1020),
                weekdays: weekdays(1, 5),
                months: months(11, 11),
                location: sydney,
                ..Default::default()
            },
            &["01 Nov 21 09:00 +1100", "31 Oct 21 22:00 +0000"],
            &["31 Oct 21 21:00 +0000"],
        );
    }

    fn parsed(
        weekdays: &[&str],
        months: &[&str],
        days: &[&str],
        years: &[&str],
        times: &[(&str, &str)],
    ) -> TimeInterval {
        fn list<T: std::str::FromStr>(v: &[&str]) -> Option<Vec<T>>
        where
            T::Err: std::fmt::Debug,
        {
            (!v.is_empty()).then(|| v.iter().map(|s| s.parse().unwrap()).collect())
        }
        TimeInterval {
            weekdays: list(weekdays),
            months: list(months),
            days_of_month: list(days),
            years: list(years),
            times: (!times.is_empty()).then(|| {
                times
                    .iter()
                    .map(|(s, e)| TimeRange::parse(s, e).unwrap())
                    .collect()
            }),
            location: None,
        }
    }

    #[test]
    fn yaml_tables() {
        // Simple business hours.
        check(
            &parsed(&["monday:friday"], &[], &[], &[], &[("09:00", "17:00")]),
            &["08 Jul 20 09:00 +0000", "08 Jul 20 16:59 +0000"],
            &["08 Jul 20 05:00 +0000", "08 Jul 20 08:59 +0000"],
        );
        // Last week, excluding Saturday, of the first quarter, business hours, 2020-2025
        // and 2030-2035.
        check(
            &parsed(
                &["monday:friday", "sunday"],
                &["january:march"],
                &["-7:-1"],
                &["2020:2025", "2030:2035"],
                &[("09:00", "17:00")],
            ),
            &[
                "27 Jan 21 09:00 +0000",
                "28 Jan 21 16:59 +0000",
                "29 Jan 21 13:00 +0000",
                "31 Mar 25 13:00 +0000",
                "31 Jan 35 13:00 +0000",
            ],
            &[
                "30 Jan 21 13:00 +0000",
                "01 Apr 21 13:00 +0000",
                "30 Jan 26 13:00 +0000",
                "31 Jan 35 17:01 +0000",
            ],
        );
        // TestTimeIntervalComplete.
        check(
            &parsed(
                &["monday:wednesday", "saturday", "sunday"],
                &["january:march"],
                &["1", "10", "20:-1"],
                &["2020:2023"],
                &[("13:00", "15:00")],
            ),
            &["10 Jan 21 13:00 +0000", "30 Jan 21 14:24 +0000"],
            &[
                "09 Jan 21 13:00 +0000",
                "20 Jan 21 12:59 +0000",
                "02 Feb 21 13:00 +0000",
            ],
        );
        // A start day after the end of the month is skipped, not clamped.
        check(
            &parsed(&[], &["february"], &["30:31"], &["2020:2023"], &[]),
            &[],
            &["28 Feb 21 13:00 +0000"],
        );
    }

    #[test]
    fn an_empty_list_contains_nothing_and_any_interval_suffices() {
        let never = TimeInterval {
            weekdays: Some(Vec::new()),
            ..Default::default()
        };
        assert!(!never.contains(at("04 May 20 15:04 +0000")).unwrap());
        let named = NamedTimeInterval {
            name: "n".into(),
            time_intervals: vec![
                never,
                TimeInterval {
                    years: years(2020, 2020),
                    ..Default::default()
                },
            ],
        };
        assert!(named.contains(at("04 May 20 15:04 +0000")).unwrap());
        assert!(!named.contains(at("04 May 21 15:04 +0000")).unwrap());
    }

    #[test]
    fn routes_are_muted_by_their_own_intervals_only() {
        let config = crate::config::Config::from_yaml(
            r#"
route:
  receiver: default
  routes:
    - receiver: night-off
      mute_time_intervals: [night]
      routes:
        - receiver: child
          matchers: ['a="1"']
receivers: [{name: default}, {name: night-off}, {name: child}]
mute_time_intervals:
  - name: night
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
"#,
        )
        .unwrap();
        let tree = crate::route::RoutingTree::new(&config.route).unwrap();
        let parent = tree.root().children().next().unwrap();
        let child = parent.children().next().unwrap();
        let night = at("04 May 20 03:00 +0000");
        let day = at("04 May 20 12:00 +0000");
        assert!(route_muted_at(parent, &config, night).unwrap());
        assert!(!route_muted_at(parent, &config, day).unwrap());
        // Not inherited (Alertmanager issues #2833, #3211).
        assert!(!route_muted_at(child, &config, night).unwrap());
        assert!(!route_muted_at(tree.root(), &config, night).unwrap());
        // A name the configuration lacks is an error naming the route.
        let mut other = config.clone();
        other.mute_time_intervals.clear();
        let e = route_muted_at(parent, &other, night).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("route.routes[0].mute_time_intervals"),
            "{e}"
        );
    }
}
