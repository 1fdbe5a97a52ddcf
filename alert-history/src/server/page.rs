//! The health bar page (`GET /`): one bar per entity, segments coloured by state, and a
//! drill-down listing the episodes behind a segment. Server-rendered HTML with inline
//! CSS and no script; the page's whole state is in its URL.
//!
//! | parameter | meaning |
//! |---|---|
//! | `match[]` | a selector in Alertmanager's syntax (`{node=~".+",severity="critical"}`, or `severity="critical"`): all its matchers must match; several `match[]` are OR-ed, as the API reads them; empty values are ignored |
//! | `by` | a label: one bar per distinct value among the matching episodes (episodes without it are counted and left out); none: one bar of every episode |
//! | `range` | the period is the last `range` (a duration: `1d`, `7d`, `30d`; default `1d`) |
//! | `start`, `end` | the period, RFC 3339 or Unix seconds as the API reads them; when given they win over `range` (`end` defaults to now, `start` to `end` minus `range`) |
//! | `entity`, `from`, `to` | the drill-down: the episodes of entity `entity` (of every entity without it) that fired in `[from, to)`, which must lie within the period |
//!
//! A segment is a link to its own drill-down, with the period pinned (`start`/`end`
//! rather than `range`) so the link shows the same thing later. Bars are drawn for at
//! most [`crate::health_bar::MAX_BARS`] entities (the page says how many more there
//! are); stretches narrower than 1/[`NARROW`] of the period are drawn together in the
//! worst state among them (a short critical stays visible); a page of more than
//! [`MAX_SEGMENTS`] drawn segments is refused (422); a drill-down lists at most
//! [`MAX_DRILL_DOWN_ROWS`] episodes. Every label value, annotation and parameter is
//! escaped, and the page is served with a Content Security Policy that runs no script.

/// Escapes text for HTML ([`alert_core::html::escape`]).
pub use alert_core::html::escape;
use std::fmt::Write as _;

use alert_core::{Duration, Timestamp};

use super::params::{bad, parse_match_values, parse_time};
use crate::health_bar::HealthBars;
use crate::{
    EndReason, Episode, Error, HealthState, Segment, Selectors, TimeSpan, UnavailableCause,
};

/// The period shown when the URL names none.
pub const DEFAULT_RANGE: &str = "1d";

/// The "last X" links: `range` value and words.
pub const PERIODS: [(&str, &str); 3] = [("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days")];

/// Stretches narrower than 1/`NARROW` of the period are drawn together.
pub const NARROW: i128 = 500;

/// The most segments a page draws across its bars (more: 422).
pub const MAX_SEGMENTS: usize = 50_000;

/// The most episodes a drill-down lists.
pub const MAX_DRILL_DOWN_ROWS: usize = 500;

/// The page's query as given (strings, unparsed): what the form shows and every link is
/// built from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageQuery {
    /// `match[]` values, empty ones dropped.
    pub matchers: Vec<String>,
    /// `by`.
    pub by: String,
    /// `range`.
    pub range: String,
    /// `start`.
    pub start: String,
    /// `end`.
    pub end: String,
    /// `entity` (drill-down).
    pub entity: String,
    /// `from` (drill-down).
    pub from: String,
    /// `to` (drill-down).
    pub to: String,
}

/// A drill-down: which entity, which stretch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillDown {
    /// The entity (`None`: every entity).
    pub entity: Option<String>,
    /// The stretch.
    pub window: TimeSpan,
}

/// The page's query, read.
#[derive(Debug, Clone)]
pub struct PageParams {
    /// The `match[]` selectors, OR-ed.
    pub selectors: Selectors,
    /// The grouping label.
    pub by: Option<String>,
    /// The period.
    pub range: TimeSpan,
    /// `Some` when the period is the last this long, up to now (not pinned).
    pub last: Option<Duration>,
    /// The drill-down, if asked for.
    pub drill: Option<DrillDown>,
}

impl PageQuery {
    /// The page's parameters from decoded query pairs (the last of a repeated single
    /// parameter wins; values are trimmed).
    pub fn from_pairs(pairs: &[(String, String)]) -> PageQuery {
        let mut q = PageQuery::default();
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            let slot = match k.as_str() {
                "match[]" | "match" => {
                    if !v.is_empty() {
                        q.matchers.push(v);
                    }
                    continue;
                }
                "by" => &mut q.by,
                "range" => &mut q.range,
                "start" => &mut q.start,
                "end" => &mut q.end,
                "entity" => &mut q.entity,
                "from" => &mut q.from,
                "to" => &mut q.to,
                _ => continue,
            };
            *slot = v;
        }
        q
    }

    /// Reads the query at `now`; errors name the parameter.
    pub fn parse(&self, now: Timestamp) -> Result<PageParams, Error> {
        let selectors = parse_match_values(self.matchers.iter().map(String::as_str))?;
        let by = (!self.by.is_empty()).then(|| self.by.clone());
        let range_text = if self.range.is_empty() {
            DEFAULT_RANGE
        } else {
            &self.range
        };
        let length = || {
            range_text
                .parse::<Duration>()
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    bad(
                        "range",
                        format!("expected a duration such as 1d, 7d or 30d, got {range_text:?}"),
                    )
                })
        };
        let end = match self.end.as_str() {
            "" => now,
            v => parse_time("end", v)?,
        };
        let start = match self.start.as_str() {
            "" => end
                .checked_sub(length()?)
                .ok_or_else(|| bad("range", format!("{range_text} before {end} is too early")))?,
            v => parse_time("start", v)?,
        };
        let range = TimeSpan::new(start, end)
            .map_err(|_| bad("end", format!("end {end} must be after start {start}")))?;
        let last = if self.start.is_empty() && self.end.is_empty() {
            Some(length()?)
        } else {
            None
        };
        let drill = self.drill_down(by.as_deref(), range)?;
        Ok(PageParams {
            selectors,
            by,
            range,
            last,
            drill,
        })
    }

    fn drill_down(&self, by: Option<&str>, range: TimeSpan) -> Result<Option<DrillDown>, Error> {
        if self.entity.is_empty() && self.from.is_empty() && self.to.is_empty() {
            return Ok(None);
        }
        if !self.entity.is_empty() && by.is_none() {
            return Err(bad(
                "entity",
                "an entity is a value of the by label: give by=LABEL too",
            ));
        }
        if self.from.is_empty() || self.to.is_empty() {
            return Err(bad("from", "a drill-down needs both from and to"));
        }
        let from = parse_time("from", &self.from)?;
        let to = parse_time("to", &self.to)?;
        let window = TimeSpan::new(from, to)
            .map_err(|_| bad("to", format!("to {to} must be after from {from}")))?;
        if window.start < range.start || window.end > range.end {
            return Err(bad(
                "from",
                format!(
                    "the drill-down {from} to {to} must lie within the period shown, {} to {}",
                    range.start, range.end
                ),
            ));
        }
        Ok(Some(DrillDown {
            entity: (!self.entity.is_empty()).then(|| self.entity.clone()),
            window,
        }))
    }

    /// `?…`: this query as a URL query string, empty values left out.
    pub fn to_query(&self) -> String {
        let mut out = String::from("?");
        let mut add = |k: &str, v: &str| {
            if v.is_empty() {
                return;
            }
            if out.len() > 1 {
                out.push('&');
            }
            out.push_str(&url_encode(k));
            out.push('=');
            out.push_str(&url_encode(v));
        };
        for m in &self.matchers {
            add("match[]", m);
        }
        add("by", &self.by);
        add("range", &self.range);
        add("start", &self.start);
        add("end", &self.end);
        add("entity", &self.entity);
        add("from", &self.from);
        add("to", &self.to);
        out
    }

    /// The same matchers and grouping over the last `range`.
    pub fn with_period(&self, range: &str) -> PageQuery {
        PageQuery {
            matchers: self.matchers.clone(),
            by: self.by.clone(),
            range: range.to_owned(),
            ..PageQuery::default()
        }
    }

    /// The drill-down into `window` of `entity`, the period pinned to `period`.
    pub fn drill(&self, period: TimeSpan, entity: Option<&str>, window: TimeSpan) -> PageQuery {
        PageQuery {
            matchers: self.matchers.clone(),
            by: self.by.clone(),
            range: String::new(),
            start: url_time(period.start),
            end: url_time(period.end),
            entity: entity.unwrap_or_default().to_owned(),
            from: url_time(window.start),
            to: url_time(window.end),
        }
    }

    /// This page without its drill-down.
    pub fn without_drill(&self) -> PageQuery {
        PageQuery {
            entity: String::new(),
            from: String::new(),
            to: String::new(),
            ..self.clone()
        }
    }
}

/// An instant as the page's links write it: RFC 3339 in UTC, nanoseconds kept.
fn url_time(t: Timestamp) -> String {
    t.to_utc().to_string()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `2024-05-01 10:00:00` (UTC, to the second).
fn human(t: Timestamp) -> String {
    let s = t.to_utc().to_string();
    match (s.get(..10), s.get(11..19)) {
        (Some(day), Some(time)) if s.as_bytes().get(10) == Some(&b'T') => {
            format!("{day} {time}")
        }
        _ => s,
    }
}

/// `2d 3h`, `45m`, `30s`: the two largest units of a span.
fn human_span(from: Timestamp, to: Timestamp) -> String {
    let secs = to.since(from).as_secs().max(0);
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, unit) in units {
        if rest >= size && parts.len() < 2 {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    if parts.is_empty() {
        "under 1s".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The words for a state in the legend and titles.
fn state_words(state: HealthState) -> &'static str {
    match state {
        HealthState::Healthy => "healthy (no alert firing)",
        HealthState::Info => "info",
        HealthState::Warning => "warning",
        HealthState::Critical => "critical",
        HealthState::Unavailable => "unavailable (alerting pipeline down)",
    }
}

fn nanos_between(from: Timestamp, to: Timestamp) -> i128 {
    to.unix_nanos() - from.unix_nanos()
}

/// One drawn stretch of a bar: a segment, or neighbouring narrow segments together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// Start (inclusive).
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// The worst state in it.
    pub state: HealthState,
    /// How many segments it draws (more than one: narrow ones together).
    pub segments: usize,
    /// How many alerts put the entity in `state` (for one segment).
    pub alerts: usize,
}

/// The stretches to draw for `segments` of `range`: a segment at least 1/`narrow` of
/// the range wide is drawn alone; runs of narrower neighbours are drawn together, in
/// the worst state among them, until the run is that wide.
///
/// At most about `2 × narrow + 1` stretches, whatever the segments.
pub fn drawn(segments: &[Segment], range: TimeSpan, narrow: i128) -> Vec<Drawn> {
    let min = nanos_between(range.start, range.end) / narrow.max(1);
    let mut out = Vec::new();
    let mut run: Option<Drawn> = None;
    for s in segments {
        let one = Drawn {
            start: s.start,
            end: s.end,
            state: s.state,
            segments: 1,
            alerts: s.episodes.len(),
        };
        if nanos_between(s.start, s.end) >= min {
            out.extend(run.take());
            out.push(one);
            continue;
        }
        let r = run.get_or_insert_with(|| Drawn {
            segments: 0,
            ..one.clone()
        });
        if r.segments > 0 {
            r.end = s.end;
            r.state = r.state.max(s.state);
        }
        r.segments += 1;
        if nanos_between(r.start, r.end) >= min {
            out.extend(run.take());
        }
    }
    out.extend(run);
    out
}

/// Where `t` lies in `range`, in percent.
fn percent(range: TimeSpan, t: Timestamp) -> f64 {
    let whole = nanos_between(range.start, range.end) as f64;
    (nanos_between(range.start, t) as f64 / whole * 100.0).clamp(0.0, 100.0)
}

/// The time axis: instants at a round step (at most about eight), with their labels.
pub fn ticks(range: TimeSpan) -> Vec<(Timestamp, String)> {
    const STEPS: [i64; 17] = [
        60,
        300,
        900,
        1_800,
        3_600,
        3 * 3_600,
        6 * 3_600,
        12 * 3_600,
        86_400,
        2 * 86_400,
        5 * 86_400,
        10 * 86_400,
        30 * 86_400,
        90 * 86_400,
        365 * 86_400,
        3_650 * 86_400,
        36_500 * 86_400,
    ];
    let span = (range.end.unix_seconds() - range.start.unix_seconds()).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 8)
        .unwrap_or(span / 8 + 1);
    let first = range.start.unix_seconds().div_euclid(step) * step
        + if range.start.unix_seconds().rem_euclid(step) == 0
            && range.start.unix_nanos() % 1_000_000_000 == 0
        {
            0
        } else {
            step
        };
    let mut out = Vec::new();
    let mut at = first;
    while let Ok(t) = Timestamp::from_unix(at, 0) {
        if t >= range.end || out.len() > 12 {
            break;
        }
        let full = human(t);
        let label = if step >= 86_400 {
            full.get(..10).unwrap_or(&full).to_owned()
        } else {
            full.get(5..16).unwrap_or(&full).to_owned()
        };
        out.push((t, label));
        at += step;
    }
    out
}

const STYLE: &str = "\
:root{--critical:#d55e00;--warning:#e69f00;--info:#56b4e9;--healthy:#009e73;--unavailable:#8c8c8c;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0}\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:var(--ink);background:#f6f8fa}\
header{background:#24292f;color:#fff;padding:.8rem 1.5rem;display:flex;align-items:baseline;gap:1rem;flex-wrap:wrap}\
header h1{font-size:1.2rem;margin:0}header .period{color:#d0d7de;font-size:.9rem}\
main{padding:1rem 1.5rem;max-width:110rem;margin:0 auto}\
.card{background:#fff;border:1px solid var(--line);border-radius:.4rem;padding:1rem;margin-bottom:1rem}\
nav.periods{display:flex;gap:.4rem;align-items:center;margin-bottom:.8rem;font-size:.9rem}\
nav.periods a{padding:.2rem .6rem;border:1px solid var(--line);border-radius:1rem;text-decoration:none;color:var(--ink);background:#fff}\
nav.periods a.current{background:#24292f;color:#fff;border-color:#24292f}\
form.query{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;font-size:.85rem}\
form.query label{display:flex;flex-direction:column;gap:.2rem;color:var(--muted)}\
form.query input{font:inherit;font-family:ui-monospace,monospace;padding:.3rem .4rem;border:1px solid var(--line);border-radius:.3rem;min-width:12rem}\
form.query button{font:inherit;padding:.35rem 1rem;border-radius:.3rem;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer}\
.legend{display:flex;flex-wrap:wrap;gap:1rem;font-size:.8rem;color:var(--muted);margin:.2rem 0 .8rem}\
.legend span{display:inline-flex;align-items:center;gap:.3rem}\
.swatch{display:inline-block;width:1.4rem;height:.8rem;border-radius:2px}\
.s-critical{background:var(--critical)}.s-warning{background:var(--warning)}.s-info{background:var(--info)}\
.s-healthy{background:var(--healthy)}\
.s-unavailable{background:repeating-linear-gradient(135deg,#8c8c8c 0 4px,#bdbdbd 4px 8px)}\
.notes{font-size:.85rem;color:var(--muted);margin:.3rem 0}.notes li{margin:.2rem 0}\
.chart{position:relative}\
.bar-row{display:grid;grid-template-columns:minmax(8rem,16rem) 1fr;gap:.8rem;align-items:center;margin:.25rem 0}\
.entity{font-family:ui-monospace,monospace;font-size:.85rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;text-align:right}\
.entity a{color:var(--ink);text-decoration:none}.entity a:hover{text-decoration:underline}\
.bar{position:relative;height:1.5rem;border-radius:3px;overflow:hidden;background:#eaeef2}\
.seg{position:absolute;top:0;bottom:0;min-width:2px;display:block}\
.seg:hover{filter:brightness(1.15);outline:2px solid var(--ink);outline-offset:-2px;z-index:2}\
.seg.merged{background-image:linear-gradient(0deg,rgba(255,255,255,.35) 0 2px,transparent 2px)}\
.seg.selected{outline:3px solid var(--ink);outline-offset:-3px;z-index:3}\
.window{position:absolute;top:0;bottom:0;border:2px dashed var(--ink);pointer-events:none;z-index:4}\
.axis{position:relative;height:1.4rem;font-size:.75rem;color:var(--muted)}\
.tick{position:absolute;top:.2rem;transform:translateX(-50%);white-space:nowrap}\
.tick::before{content:'';position:absolute;left:50%;top:-.35rem;height:.3rem;border-left:1px solid var(--muted)}\
.tz{font-size:.75rem;color:var(--muted);text-align:right;margin:0}\
.empty{padding:1rem;border:1px dashed var(--line);border-radius:.4rem;color:var(--muted)}\
.error{border-left:4px solid var(--critical);background:#fff1eb;padding:.8rem 1rem;border-radius:.3rem;margin-bottom:1rem}\
#drilldown h2{font-size:1rem;margin:0 0 .6rem;display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}\
#drilldown h2 a{font-size:.8rem;font-weight:normal}\
table.episodes{border-collapse:collapse;width:100%;font-size:.82rem}\
table.episodes th{text-align:left;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);padding:.3rem .5rem}\
table.episodes td{border-bottom:1px solid var(--line);padding:.35rem .5rem;vertical-align:top}\
.badge{display:inline-block;padding:0 .45rem;border-radius:.8rem;color:#fff;font-size:.75rem;font-weight:600}\
.badge.s-warning{color:#1f2328}.badge.s-info{color:#1f2328}\
ul.labels{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}\
ul.labels li{font-family:ui-monospace,monospace;background:#eef1f4;border-radius:.25rem;padding:0 .3rem;word-break:break-all}\
dl.annotations{margin:0;display:grid;grid-template-columns:auto 1fr;gap:0 .5rem}\
dl.annotations dt{color:var(--muted)}dl.annotations dd{margin:0;white-space:pre-wrap;word-break:break-word}\
.inferred{color:var(--muted);font-style:italic}\
footer{font-size:.75rem;color:var(--muted);padding:0 1.5rem 1.5rem;max-width:110rem;margin:0 auto}";

/// The document around `body` and `footer`.
fn document(title: &str, period: &str, body: &str, footer: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><h1>Alert history</h1><span class=\"period\">{period}</span></header>\
         <main>{body}</main><footer>{footer}</footer></body></html>",
        title = escape(title),
        period = escape(period),
    )
}

/// The "last X" links and the form, filled from `query`.
fn controls(out: &mut String, query: &PageQuery, params: Option<&PageParams>) {
    out.push_str("<section class=\"card\" id=\"controls\"><nav class=\"periods\">Last:");
    for (value, words) in PERIODS {
        let current =
            params.is_some_and(|p| p.last.is_some() && p.last == value.parse::<Duration>().ok());
        let _ = write!(
            out,
            " <a href=\"{}\"{}>{words}</a>",
            escape(&query.with_period(value).to_query()),
            if current { " class=\"current\"" } else { "" }
        );
    }
    out.push_str("</nav><form class=\"query\" method=\"get\" action=\"\">");
    // Every selector given, and an empty one to add another (OR-ed; empty ones dropped).
    let shown = query
        .matchers
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(""));
    for (i, m) in shown.enumerate() {
        let _ = write!(
            out,
            "<label>{}<input name=\"match[]\" value=\"{}\" placeholder=\"{}\"></label>",
            if i == 0 {
                "Alerts matching (all of one selector)"
            } else {
                "or"
            },
            escape(m),
            escape("{node=~\".+\",severity=\"critical\"}")
        );
    }
    let (start_hint, end_hint) = params.map_or((String::new(), String::new()), |p| {
        (url_time(p.range.start), url_time(p.range.end))
    });
    let _ = write!(
        out,
        "<label>One bar per label<input name=\"by\" value=\"{}\" placeholder=\"node\"></label>\
         <label>From (RFC 3339 or Unix seconds)<input name=\"start\" value=\"{}\" placeholder=\"{}\"></label>\
         <label>To<input name=\"end\" value=\"{}\" placeholder=\"{}\"></label>",
        escape(&query.by),
        escape(&query.start),
        escape(&start_hint),
        escape(&query.end),
        escape(&end_hint),
    );
    if query.start.is_empty() && query.end.is_empty() && !query.range.is_empty() {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"range\" value=\"{}\">",
            escape(&query.range)
        );
    }
    out.push_str("<button type=\"submit\">Show</button></form></section>");
}

fn legend(out: &mut String) {
    out.push_str("<div class=\"legend\" id=\"legend\">");
    for state in [
        HealthState::Critical,
        HealthState::Warning,
        HealthState::Info,
        HealthState::Healthy,
        HealthState::Unavailable,
    ] {
        let _ = write!(
            out,
            "<span><i class=\"swatch s-{}\"></i>{}</span>",
            state.as_str(),
            state_words(state)
        );
    }
    out.push_str("</div>");
}

/// The period in words: "last 7 days (…)" or the two instants.
fn period_words(params: &PageParams) -> String {
    let between = format!(
        "{} → {} UTC",
        human(params.range.start),
        human(params.range.end)
    );
    match params.last {
        Some(d) => {
            let words = PERIODS
                .iter()
                .find(|(v, _)| v.parse::<Duration>().ok() == Some(d))
                .map_or_else(|| d.to_string(), |(_, w)| (*w).to_owned());
            format!("Last {words}: {between}")
        }
        None => format!(
            "{between} ({})",
            human_span(params.range.start, params.range.end)
        ),
    }
}

fn matchers_words(params: &PageParams) -> String {
    if params.selectors.selects_all() {
        "any alert".to_owned()
    } else {
        params.selectors.to_string()
    }
}

fn segment_title(d: &Drawn) -> String {
    let what = if d.segments > 1 {
        format!(
            "{} short stretches drawn together, worst: {}",
            d.segments,
            d.state.as_str()
        )
    } else {
        match d.state {
            HealthState::Healthy | HealthState::Unavailable => state_words(d.state).to_owned(),
            s => format!(
                "{} · {} alert{}",
                s.as_str(),
                d.alerts,
                if d.alerts == 1 { "" } else { "s" }
            ),
        }
    };
    format!(
        "{what} · {} → {} UTC ({}) · click for the alerts",
        human(d.start),
        human(d.end),
        human_span(d.start, d.end)
    )
}

/// The bars, their axis and the notes about what was left out.
fn bars_section(
    out: &mut String,
    query: &PageQuery,
    params: &PageParams,
    bars: &HealthBars,
    drawn_bars: &[Vec<Drawn>],
) {
    let range = params.range;
    out.push_str("<section class=\"card\" id=\"bars\">");
    legend(out);
    let mut notes = Vec::new();
    if let Some(by) = &params.by {
        if bars.without_label > 0 {
            notes.push(format!(
                "{} episode{} without the label <code>{}</code> {} left out.",
                bars.without_label,
                if bars.without_label == 1 { "" } else { "s" },
                escape(by),
                if bars.without_label == 1 { "is" } else { "are" },
            ));
        }
        if bars.entities > bars.bars.len() {
            notes.push(format!(
                "Showing the first {} of {} entities (by name): narrow the matchers to see the others.",
                bars.bars.len(),
                bars.entities
            ));
        }
    }
    if !notes.is_empty() {
        out.push_str("<ul class=\"notes\" id=\"notes\">");
        for n in notes {
            let _ = write!(out, "<li>{n}</li>");
        }
        out.push_str("</ul>");
    }
    if bars.bars.is_empty() {
        let by = params.by.as_deref().unwrap_or_default();
        let _ = write!(
            out,
            "<p class=\"empty\" id=\"empty\">No alert matching <code>{}</code> with the label \
             <code>{}</code> fired in this period. An entity gets a bar once an alert about it \
             has fired; try a longer period, other matchers or another label.</p>",
            escape(&matchers_words(params)),
            escape(by)
        );
        out.push_str("</section>");
        return;
    }
    if params.by.is_none() && bars.bars.iter().all(|b| b.episodes == 0) {
        let _ = write!(
            out,
            "<p class=\"notes\" id=\"empty\">No alert matching <code>{}</code> fired in this \
             period.</p>",
            escape(&matchers_words(params))
        );
    }
    out.push_str("<div class=\"chart\">");
    for (bar, drawn) in bars.bars.iter().zip(drawn_bars) {
        let entity = params.by.as_ref().map(|_| bar.entity.as_str());
        let name = match entity {
            Some(e) => format!(
                "<a href=\"{}\" title=\"{} = {} · {} episode{} · click for all of them\">{}</a>",
                escape(&(query.drill(range, Some(e), range).to_query() + "#drilldown")),
                escape(params.by.as_deref().unwrap_or_default()),
                escape(e),
                bar.episodes,
                if bar.episodes == 1 { "" } else { "s" },
                escape(e)
            ),
            None => format!(
                "<a href=\"{}\" title=\"{} episode{}\">{}</a>",
                escape(&(query.drill(range, None, range).to_query() + "#drilldown")),
                bar.episodes,
                if bar.episodes == 1 { "" } else { "s" },
                if params.selectors.selects_all() {
                    "all alerts"
                } else {
                    "all matching alerts"
                }
            ),
        };
        let _ = write!(
            out,
            "<div class=\"bar-row\" data-entity=\"{}\" data-episodes=\"{}\"><div class=\"entity\">{name}</div><div class=\"bar\">",
            escape(&bar.entity),
            bar.episodes
        );
        let drill = params
            .drill
            .as_ref()
            .filter(|d| d.entity.is_none() || d.entity.as_deref() == entity);
        for d in drawn {
            let window = TimeSpan {
                start: d.start,
                end: d.end,
            };
            let selected = drill.is_some_and(|x| x.window == window);
            let left = percent(range, d.start);
            let width = percent(range, d.end) - left;
            let title = escape(&segment_title(d));
            let _ = write!(
                out,
                "<a class=\"seg s-{state}{merged}{selected}\" data-state=\"{state}\" data-start=\"{start}\" data-end=\"{end}\" href=\"{href}\" title=\"{title}\" aria-label=\"{title}\" style=\"left:{left:.4}%;width:{width:.4}%\"></a>",
                state = d.state.as_str(),
                merged = if d.segments > 1 { " merged" } else { "" },
                selected = if selected { " selected" } else { "" },
                start = url_time(d.start),
                end = url_time(d.end),
                href = escape(&(query.drill(range, entity, window).to_query() + "#drilldown")),
            );
        }
        if let Some(x) = drill {
            let left = percent(range, x.window.start);
            let width = percent(range, x.window.end) - left;
            let _ = write!(
                out,
                "<span class=\"window\" style=\"left:{left:.4}%;width:{width:.4}%\"></span>"
            );
        }
        out.push_str("</div></div>");
    }
    out.push_str(
        "<div class=\"bar-row\"><div class=\"entity\"></div><div class=\"axis\" id=\"axis\">",
    );
    for (t, label) in ticks(range) {
        let _ = write!(
            out,
            "<span class=\"tick\" style=\"left:{:.4}%\" title=\"{}\">{}</span>",
            percent(range, t),
            escape(&human(t)),
            escape(&label)
        );
    }
    out.push_str("</div></div></div><p class=\"tz\">Times in UTC. Hover a segment for its times; click it for the alerts behind it.</p></section>");
}

fn end_reason_words(reason: Option<EndReason>) -> &'static str {
    match reason {
        None => "open",
        Some(EndReason::Resolved) => "resolved",
        Some(EndReason::Superseded) => "superseded",
        Some(EndReason::Silent) => "silent",
        Some(EndReason::Unavailable) => "unavailable",
    }
}

fn end_reason_explained(reason: Option<EndReason>) -> &'static str {
    match reason {
        None => "still firing",
        Some(EndReason::Resolved) => "resolved (stated by Alertmanager)",
        Some(EndReason::Superseded) => {
            "superseded: a newer episode of the same alert started (inferred)"
        }
        Some(EndReason::Silent) => "silent: not repeated within its repeat interval (inferred)",
        Some(EndReason::Unavailable) => "the alerting pipeline went down (inferred)",
    }
}

fn cause_words(cause: UnavailableCause) -> &'static str {
    match cause {
        UnavailableCause::HeartbeatMissing => "the Watchdog heartbeat did not arrive",
        UnavailableCause::ServerDown => "the history server was not running",
    }
}

fn episode_row(out: &mut String, e: &Episode) {
    let state = HealthState::from_severity(e.severity.as_deref());
    let reason = end_reason_words(e.end_reason);
    let _ = write!(
        out,
        "<tr class=\"episode\" data-fingerprint=\"{fp}\" data-alertname=\"{name}\" data-state=\"{state}\" data-end-reason=\"{reason}\" data-end-inferred=\"{inferred}\">\
         <td><span class=\"badge s-{state}\">{state}</span></td><td><strong>{name}</strong><br><code>{fp}</code></td><td><ul class=\"labels\">",
        fp = e.fingerprint,
        name = escape(e.alertname()),
        state = state.as_str(),
        inferred = e.end_inferred,
    );
    for (k, v) in e.labels.iter() {
        let _ = write!(out, "<li>{}=&quot;{}&quot;</li>", escape(k), escape(v));
    }
    out.push_str("</ul></td><td><dl class=\"annotations\">");
    for (k, v) in e.annotations.iter() {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    let end = e.ends_at.map_or_else(|| "—".to_owned(), human);
    let _ = write!(
        out,
        "</dl></td><td><time datetime=\"{}\">{}</time></td><td>{}{}</td><td class=\"end-reason{}\">{}</td></tr>",
        url_time(e.starts_at),
        human(e.starts_at),
        e.ends_at.map_or_else(String::new, |t| format!(
            "<time datetime=\"{}\">",
            url_time(t)
        )),
        if e.ends_at.is_some() {
            format!("{end}</time>")
        } else {
            end
        },
        if e.end_inferred { " inferred" } else { "" },
        end_reason_explained(e.end_reason),
    );
}

fn drill_down_section(
    out: &mut String,
    query: &PageQuery,
    params: &PageParams,
    bars: &HealthBars,
    drill: &DrillDown,
) {
    let w = drill.window;
    let who = match (&params.by, &drill.entity) {
        (Some(by), Some(e)) => format!("<code>{}=&quot;{}&quot;</code>", escape(by), escape(e)),
        (Some(_), None) => "every entity".to_owned(),
        (None, _) => "all matching alerts".to_owned(),
    };
    let _ = write!(
        out,
        "<section class=\"card\" id=\"drilldown\" data-entity=\"{}\" data-from=\"{}\" data-to=\"{}\">\
         <h2><span>{who} · {} → {} UTC ({})</span><a href=\"{}\">close</a></h2>",
        escape(drill.entity.as_deref().unwrap_or_default()),
        url_time(w.start),
        url_time(w.end),
        human(w.start),
        human(w.end),
        human_span(w.start, w.end),
        escape(&query.without_drill().to_query()),
    );
    for u in bars.unavailable_in(w) {
        let _ = write!(
            out,
            "<p class=\"notes unavailable\">The alerting pipeline was unavailable from {} to {} UTC ({}): \
             nothing is known about the entities then, and alerts still open when it began are ended there.</p>",
            human(u.start),
            human(u.end),
            cause_words(u.cause)
        );
    }
    let episodes = bars.active_in(drill.entity.as_deref(), w);
    if episodes.is_empty() {
        let why = match &drill.entity {
            Some(e) if !bars.has_entity(e) => format!(
                "No alert about <code>{}</code> fired in this period.",
                escape(e)
            ),
            _ => "No alert fired in this stretch.".to_owned(),
        };
        let _ = write!(out, "<p class=\"empty\">{why}</p></section>");
        return;
    }
    let _ = write!(
        out,
        "<p class=\"notes\">{} episode{} fired in this stretch, worst first.</p>\
         <table class=\"episodes\"><thead><tr><th>State</th><th>Alert</th><th>Labels</th>\
         <th>Annotations</th><th>Started</th><th>Ended</th><th>How it ended</th></tr></thead><tbody>",
        episodes.len(),
        if episodes.len() == 1 { "" } else { "s" }
    );
    for e in episodes.iter().take(MAX_DRILL_DOWN_ROWS) {
        episode_row(out, e);
    }
    out.push_str("</tbody></table>");
    if episodes.len() > MAX_DRILL_DOWN_ROWS {
        let _ = write!(
            out,
            "<p class=\"notes\">Listing the first {MAX_DRILL_DOWN_ROWS} of {}: pick a shorter stretch or narrow the matchers.</p>",
            episodes.len()
        );
    }
    out.push_str("</section>");
}

/// The stretches each bar draws, or `None` when they are more than [`MAX_SEGMENTS`].
pub fn drawn_bars(bars: &HealthBars) -> Option<Vec<Vec<Drawn>>> {
    let mut total = 0usize;
    let mut all = Vec::with_capacity(bars.bars.len());
    for bar in &bars.bars {
        let d = drawn(&bar.segments, bars.range, NARROW);
        total += d.len();
        if total > MAX_SEGMENTS {
            return None;
        }
        all.push(d);
    }
    Some(all)
}

/// The whole page.
pub fn render(
    query: &PageQuery,
    params: &PageParams,
    bars: &HealthBars,
    drawn_bars: &[Vec<Drawn>],
    now: Timestamp,
) -> String {
    let mut body = String::new();
    controls(&mut body, query, Some(params));
    bars_section(&mut body, query, params, bars, drawn_bars);
    if let Some(drill) = &params.drill {
        drill_down_section(&mut body, query, params, bars, drill);
    }
    let api = PageQuery {
        matchers: query.matchers.clone(),
        start: url_time(params.range.start),
        end: url_time(params.range.end),
        ..PageQuery::default()
    }
    .to_query();
    let footer = format!(
        "Rendered at {} UTC · the same data as JSON: \
         <a href=\"api/v1/timeline{api}\">timeline</a>, <a href=\"api/v1/episodes{api}\">episodes</a>, \
         <a href=\"api/v1/export{api}\">export</a>",
        human(now),
        api = escape(&api)
    );
    document(
        &match &params.by {
            Some(by) => format!("Alert history by {by}"),
            None => "Alert history".to_owned(),
        },
        &format!("{} · {}", period_words(params), matchers_words(params)),
        &body,
        &footer,
    )
}

/// A page that says what was wrong, with the form to fix it.
pub fn render_error(status: u16, reason: &str, query: &PageQuery, message: &str) -> String {
    let mut body = format!(
        "<div class=\"error\" role=\"alert\" id=\"error\"><strong>{status} {}</strong>: {}</div>",
        escape(reason),
        escape(message)
    );
    controls(&mut body, query, None);
    document("Alert history: error", "", &body, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::params::parse_query_string;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn now() -> Timestamp {
        t("2024-05-08T12:00:00Z")
    }

    fn query(q: &str) -> PageQuery {
        PageQuery::from_pairs(&parse_query_string(q))
    }

    fn seg(start: &str, end: &str, state: HealthState) -> Segment {
        Segment {
            start: t(start),
            end: t(end),
            state,
            episodes: Vec::new(),
        }
    }

    #[test]
    fn the_period_from_range_or_start_and_end() {
        let p = query("").parse(now()).expect("ok");
        assert_eq!(p.range.end, now());
        assert_eq!(p.range.start, t("2024-05-07T12:00:00Z"));
        assert_eq!(p.last, "1d".parse().ok());
        let p = query("range=7d").parse(now()).expect("ok");
        assert_eq!(p.range.start, t("2024-05-01T12:00:00Z"));
        // start and end win over range, and pin the period.
        let p = query("range=7d&start=2024-05-01T00:00:00Z&end=1714608000")
            .parse(now())
            .expect("ok");
        assert_eq!(
            (p.range.start, p.range.end),
            (t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z"))
        );
        assert_eq!(p.last, None);
        let p = query("range=30d&end=2024-05-02T00:00:00Z")
            .parse(now())
            .expect("ok");
        assert_eq!(p.range.start, t("2024-04-02T00:00:00Z"));
    }

    #[test]
    fn bad_parameters_are_named() {
        for (q, param) in [
            ("range=yesterday", "range"),
            ("range=0s", "range"),
            ("start=tomorrow", "start"),
            ("start=2024-05-02T00:00:00Z&end=2024-05-01T00:00:00Z", "end"),
            ("match[]=%7Ba%3D~%22(%22%7D", "match[]"),
            ("entity=n1&from=1&to=2", "entity"),
            ("by=node&entity=n1", "from"),
            ("by=node&from=2024-05-08T00:00:00Z", "from"),
            (
                "by=node&from=2024-05-08T02:00:00Z&to=2024-05-08T01:00:00Z",
                "to",
            ),
            (
                "by=node&from=2024-05-01T00:00:00Z&to=2024-05-08T01:00:00Z",
                "from",
            ),
        ] {
            let err = query(q).parse(now()).unwrap_err();
            let named = match &err {
                Error::InvalidParameter { param, .. } => param.clone(),
                Error::Core(alert_core::Error::InvalidTimestamp { field, .. }) => field.clone(),
                other => panic!("{q}: {other}"),
            };
            assert_eq!(named, param, "{q}: {err}");
        }
    }

    #[test]
    fn a_segment_links_to_its_own_drill_down_and_the_link_reads_back() {
        let q = query("match[]=%7Bnode%3D~%22.%2B%22%7D&by=node&range=7d");
        let p = q.parse(now()).expect("ok");
        let window =
            TimeSpan::new(t("2024-05-03T10:00:00.5Z"), t("2024-05-03T11:00:00Z")).expect("valid");
        let link = q.drill(p.range, Some("db <1>&"), window).to_query();
        assert_eq!(
            link,
            "?match%5B%5D=%7Bnode%3D~%22.%2B%22%7D&by=node&start=2024-05-01T12%3A00%3A00Z\
             &end=2024-05-08T12%3A00%3A00Z&entity=db%20%3C1%3E%26\
             &from=2024-05-03T10%3A00%3A00.5Z&to=2024-05-03T11%3A00%3A00Z"
        );
        let back = query(&link[1..]);
        assert_eq!(back.entity, "db <1>&");
        let read = back.parse(t("2030-01-01T00:00:00Z")).expect("ok");
        // Pinned: the same period and window whenever it is opened.
        assert_eq!(read.range, p.range);
        assert_eq!(read.last, None);
        assert_eq!(
            read.drill,
            Some(DrillDown {
                entity: Some("db <1>&".into()),
                window
            })
        );
        assert_eq!(
            back.without_drill().to_query(),
            "?match%5B%5D=%7Bnode%3D~%22.%2B%22%7D&by=node&start=2024-05-01T12%3A00%3A00Z&end=2024-05-08T12%3A00%3A00Z"
        );
        assert_eq!(
            back.with_period("30d").to_query(),
            "?match%5B%5D=%7Bnode%3D~%22.%2B%22%7D&by=node&range=30d"
        );
    }

    #[test]
    fn narrow_stretches_are_drawn_together_in_their_worst_state() {
        use HealthState::{Critical, Healthy, Warning};
        let range =
            TimeSpan::new(t("2024-05-01T00:00:00Z"), t("2024-05-01T10:00:00Z")).expect("valid");
        // 1/10 of the range is 1h.
        let segs = [
            seg("2024-05-01T00:00:00Z", "2024-05-01T04:00:00Z", Healthy),
            // A lone short critical stays drawn as itself.
            seg("2024-05-01T04:00:00Z", "2024-05-01T04:01:00Z", Critical),
            seg("2024-05-01T04:01:00Z", "2024-05-01T06:00:00Z", Healthy),
            // Many short flaps: drawn together until an hour wide.
            seg("2024-05-01T06:00:00Z", "2024-05-01T06:30:00Z", Warning),
            seg("2024-05-01T06:30:00Z", "2024-05-01T06:40:00Z", Critical),
            seg("2024-05-01T06:40:00Z", "2024-05-01T07:10:00Z", Healthy),
            seg("2024-05-01T07:10:00Z", "2024-05-01T07:20:00Z", Warning),
            seg("2024-05-01T07:20:00Z", "2024-05-01T10:00:00Z", Healthy),
        ];
        let d = drawn(&segs, range, 10);
        let got: Vec<(String, HealthState, usize)> = d
            .iter()
            .map(|d| {
                (
                    format!("{}-{}", human(d.start), human(d.end)),
                    d.state,
                    d.segments,
                )
            })
            .collect();
        let want = [
            ("2024-05-01 00:00:00-2024-05-01 04:00:00", Healthy, 1),
            ("2024-05-01 04:00:00-2024-05-01 04:01:00", Critical, 1),
            ("2024-05-01 04:01:00-2024-05-01 06:00:00", Healthy, 1),
            ("2024-05-01 06:00:00-2024-05-01 07:10:00", Critical, 3),
            ("2024-05-01 07:10:00-2024-05-01 07:20:00", Warning, 1),
            ("2024-05-01 07:20:00-2024-05-01 10:00:00", Healthy, 1),
        ];
        let want: Vec<(String, HealthState, usize)> = want
            .iter()
            .map(|(s, st, n)| (s.to_string(), *st, *n))
            .collect();
        assert_eq!(got, want);
        // Drawn stretches still cover the range exactly.
        assert_eq!(d[0].start, range.start);
        assert_eq!(d[d.len() - 1].end, range.end);
        for w in d.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }

    #[test]
    fn the_axis_has_round_ticks() {
        let day =
            TimeSpan::new(t("2024-05-07T12:34:00Z"), t("2024-05-08T12:34:00Z")).expect("valid");
        let ticks = ticks(day);
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "05-07 15:00",
                "05-07 18:00",
                "05-07 21:00",
                "05-08 00:00",
                "05-08 03:00",
                "05-08 06:00",
                "05-08 09:00",
                "05-08 12:00"
            ]
        );
        let month =
            TimeSpan::new(t("2024-04-08T12:00:00Z"), t("2024-05-08T12:00:00Z")).expect("valid");
        let labels: Vec<String> = super::ticks(month).into_iter().map(|(_, l)| l).collect();
        assert!(labels.len() >= 4 && labels.len() <= 9, "{labels:?}");
        assert!(labels.iter().all(|l| l.len() == 10), "{labels:?}");
    }

    #[test]
    fn spans_in_words() {
        assert_eq!(
            human_span(t("2024-05-01T00:00:00Z"), t("2024-05-03T03:04:05Z")),
            "2d 3h"
        );
        assert_eq!(
            human_span(t("2024-05-01T00:00:00Z"), t("2024-05-01T00:45:00Z")),
            "45m"
        );
        assert_eq!(
            human_span(t("2024-05-01T00:00:00Z"), t("2024-05-01T00:00:00.5Z")),
            "under 1s"
        );
        assert_eq!(
            human(t("2024-05-01T12:00:00.25+02:00")),
            "2024-05-01 10:00:00"
        );
    }

    #[test]
    fn every_value_from_the_network_is_escaped() {
        use alert_core::{Alert, LabelSet};
        let evil = "<script>alert(1)</script>\"'&";
        let labels = LabelSet::from_pairs([
            ("alertname", evil),
            ("node", evil),
            ("severity", "critical"),
        ])
        .expect("valid");
        let mut alert = Alert::firing(labels, t("2024-05-08T10:00:00Z"));
        alert.annotations = LabelSet::from_pairs([("summary", evil)]).expect("valid");
        let e = Episode::from_notification(&crate::Notification {
            alert,
            receiver: "history".into(),
            received_at: t("2024-05-08T10:00:00Z"),
        });
        let q = PageQuery {
            matchers: vec![format!("node={evil:?}")],
            by: "node".into(),
            ..PageQuery::default()
        };
        let mut p = q.parse(now()).expect("ok");
        let bars = HealthBars::build(
            p.range,
            vec![e],
            Vec::new(),
            Some("node"),
            Default::default(),
        )
        .expect("fits");
        p.drill = Some(DrillDown {
            entity: Some(evil.into()),
            window: p.range,
        });
        let drawn = drawn_bars(&bars).expect("few");
        let html = render(&q, &p, &bars, &drawn, now());
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
        assert_eq!(html.matches("<tr class=\"episode\"").count(), 1);
        let err = render_error(400, "Bad Request", &q, evil);
        assert!(!err.contains("<script>"), "{err}");
    }
}
