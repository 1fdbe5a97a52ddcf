//! The HTML status page: one self-contained document (inline CSS; a few lines of
//! plain JavaScript when served live).
//!
//! From top to bottom: the page title and a banner with the overall state
//! (`#banner`, `data-state`, `data-indicator`) in the same words as `summary.json`'s
//! `status.description` ([`indicator_description`]); "What is failing now"
//! (`#failing`), one line per explanation path of every root that is not passing; the
//! component tree (`#components`), each node with its state, messages,
//! 90 one-day uptime bars from the [state history](crate::StateHistory) and the
//! window's uptime percentage; a shared node is shown in full once and as a link to it
//! elsewhere. Bars are classed by the day's uptime: `bar-ok` (100%), `bar-minor`
//! (≥ 99%), `bar-partial` (≥ 90%), `bar-major` (below), `bar-none` (no data); each has a
//! `title` with the date and figures.
//!
//! Under the bars (`.uptime-legend`), the left end says "90 days ago", or "since
//! 2024-05-03" (the first sample's UTC date, in a `<time>` with the instant) while the
//! node's history is shorter than the window, the days before it being `bar-none`; the
//! right end says "today". The percentage says "over 90 days" or "since 2024-05-03" to
//! match, and the footer says since when the page as a whole has history.
//!
//! What sensors report (their messages carry addresses, queries and error texts) is
//! shown only for the sensors [`PageInfo::messages`] names; systems' and services'
//! messages, which name only nodes, always are (see [`ShownMessages`](super::statuspage::ShownMessages)).
//!
//! Served live ([`HtmlStatusPage::live`]), the page fetches itself again every
//! [`PageInfo::refresh`] and swaps its content in place (`#page`; the scroll position
//! stays, `body[data-refreshes]` counts the swaps); when a fetch fails, a notice
//! (`#stale`) says since when the page has not been refreshed and why. Without
//! JavaScript, a `<noscript>` meta refresh reloads it at the same interval.

use alert_core::html::escape as esc;
use std::collections::HashSet;
use std::fmt::Write as _;

use super::Visualiser;
use super::statuspage::{
    PageInfo, date, indicator, indicator_description, shows_path_messages, uptime_start_label,
};
use crate::graph::NodeId;
use crate::history::{DayUptime, StateHistory};
use crate::snapshot::Snapshot;
use crate::state::State;

/// The HTML status page visualiser.
#[derive(Debug, Clone, Copy)]
pub struct HtmlStatusPage<'a> {
    /// Title, uptime window and weights.
    pub page: &'a PageInfo,
    /// Where the uptime bars come from.
    pub history: &'a StateHistory,
    /// The end of the uptime window: the latest snapshot's states are taken to hold
    /// until then (a server passes the time of the request). `None`: the snapshot's
    /// evaluation time.
    pub now: Option<alert_core::Timestamp>,
    /// Whether a server serves the page: it then refreshes itself (see the module docs).
    pub live: bool,
}

/// The script of a live page: fetch the page again every `ms` milliseconds and swap
/// `#page` in place; on a failure, say since when the page is stale and why.
const REFRESH_SCRIPT: &str = r#"(function(){
var every=Number(document.body.dataset.refreshMs),failedSince=null;
function stale(why){
if(failedSince===null)failedSince=new Date();
var s=document.getElementById("stale");
s.textContent="Not refreshed since "+failedSince.toLocaleTimeString()+" ("+why+"); the state below may be out of date.";
s.hidden=false;}
function refresh(){
fetch(location.href,{cache:"no-store",headers:{Accept:"text/html"}})
.then(function(r){if(!r.ok)throw new Error("HTTP "+r.status);return r.text();})
.then(function(text){
var doc=new DOMParser().parseFromString(text,"text/html"),next=doc.getElementById("page");
if(!next)throw new Error("the answer is not this status page");
document.getElementById("page").replaceWith(document.adoptNode(next));
document.title=doc.title;
document.body.dataset.refreshes=String(Number(document.body.dataset.refreshes||0)+1);
failedSince=null;document.getElementById("stale").hidden=true;})
.catch(function(e){stale(e.message||String(e));})
.finally(function(){setTimeout(refresh,every);});}
setTimeout(refresh,every);})();"#;

/// The `id` attribute of a node's element.
fn anchor(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    format!("node-{}", esc(&slug))
}

fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

fn bar_class(day: &DayUptime) -> &'static str {
    match day.uptime {
        None => "bar-none",
        Some(u) if u >= 1.0 => "bar-ok",
        Some(u) if u >= 0.99 => "bar-minor",
        Some(u) if u >= 0.9 => "bar-partial",
        Some(_) => "bar-major",
    }
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}\
.banner{padding:1rem;border-radius:.4rem;color:#fff;font-size:1.3rem;font-weight:600}\
.state-passing{background:#2e9e5b}.state-pending{background:#7a8da3}\
.state-degraded{background:#e69b00}.state-unknown{background:#6c757d}\
.state-failing{background:#d33a2c}\
.state{display:inline-block;padding:0 .5rem;border-radius:.3rem;color:#fff;font-size:.85rem;margin-left:.5rem}\
ul.tree,ul.children{list-style:none;padding-left:1.2rem}\
li.component{margin:.6rem 0}.name{font-weight:600}\
ul.messages{margin:.2rem 0;color:#555;font-size:.9rem}\
.uptime{display:flex;gap:1px;height:1.6rem;margin-top:.3rem}\
.bar{flex:1;border-radius:1px}.bar-ok{background:#2e9e5b}.bar-minor{background:#b5c93a}\
.bar-partial{background:#e69b00}.bar-major{background:#d33a2c}.bar-none{background:#ccc}\
.uptime-legend{display:flex;justify-content:space-between;font-size:.75rem;color:#888}\
.uptime-percent{font-size:.8rem;color:#666}\
.stale{padding:.5rem 1rem;background:#fff3cd;border:1px solid #e6c36a;border-radius:.3rem}\
footer{margin-top:2rem;font-size:.8rem;color:#666}";

impl HtmlStatusPage<'_> {
    fn state_badge(out: &mut String, state: State) {
        let _ = write!(
            out,
            "<span class=\"state state-{s}\" data-state=\"{s}\">{s}</span>",
            s = state.as_str()
        );
    }

    fn uptime(&self, out: &mut String, snap: &Snapshot, name: &str) {
        let now = self.window_end(snap);
        let up = self
            .history
            .uptime(name, now, self.page.days, self.page.weights);
        let _ = write!(
            out,
            "<div class=\"uptime\" data-days=\"{}\">",
            up.days.len()
        );
        for day in &up.days {
            let title = match day.uptime {
                None => format!("{}: no data", day.date),
                Some(u) => format!(
                    "{}: {} uptime, {}m failing, {}m degraded",
                    day.date,
                    percent(u),
                    day.failing_secs / 60,
                    day.degraded_secs / 60
                ),
            };
            let _ = write!(
                out,
                "<span class=\"bar {}\" title=\"{}\"></span>",
                bar_class(day),
                esc(&title)
            );
        }
        out.push_str("</div>");
        let start = match up.since {
            Some(t) => format!(
                "<span class=\"uptime-start\" data-since=\"{t}\">since <time datetime=\"{t}\">{}</time></span>",
                date(t)
            ),
            None => format!(
                "<span class=\"uptime-start\">{}</span>",
                uptime_start_label(None, self.page.days)
            ),
        };
        let _ = write!(
            out,
            "<div class=\"uptime-legend\">{start}<span class=\"uptime-end\">today</span></div>"
        );
        let span = match up.since {
            Some(t) => format!("since {}", date(t)),
            None => format!("over {} days", self.page.days),
        };
        let text = match up.overall {
            Some(u) => format!("{} uptime {span}", percent(u)),
            None if up.since.is_some() => format!("no data {span}"),
            None => format!("no data in {} days", self.page.days),
        };
        let _ = write!(out, "<div class=\"uptime-percent\">{text}</div>");
    }

    /// The end of the uptime window (see [`HtmlStatusPage::now`]).
    fn window_end(&self, snap: &Snapshot) -> alert_core::Timestamp {
        self.now
            .map_or(snap.evaluated_at(), |n| n.max(snap.evaluated_at()))
    }

    fn component(&self, out: &mut String, snap: &Snapshot, id: NodeId, seen: &mut HashSet<NodeId>) {
        let node = snap.graph().node(id);
        let status = snap.status(id);
        let state = status.state.as_str();
        if !seen.insert(id) {
            let _ = write!(
                out,
                "<li class=\"component ref\" data-name=\"{n}\" data-state=\"{state}\">\
                 <a href=\"#{a}\">{n}</a>",
                n = esc(&node.name),
                a = anchor(&node.name)
            );
            HtmlStatusPage::state_badge(out, status.state);
            out.push_str(" (shown above)</li>");
            return;
        }
        let _ = write!(
            out,
            "<li class=\"component\" id=\"{a}\" data-name=\"{n}\" data-role=\"{r}\" \
             data-state=\"{state}\"><div class=\"row\"><span class=\"name\">{n}</span>",
            a = anchor(&node.name),
            n = esc(&node.name),
            r = node.role.as_str()
        );
        HtmlStatusPage::state_badge(out, status.state);
        out.push_str("</div>");
        if !status.messages.is_empty() && self.page.messages.shows(node.role, &node.name) {
            out.push_str("<ul class=\"messages\">");
            for m in &status.messages {
                let _ = write!(out, "<li>{}</li>", esc(&m.to_string()));
            }
            out.push_str("</ul>");
        }
        self.uptime(out, snap, &node.name);
        if !node.edges.is_empty() {
            out.push_str("<ul class=\"children\">");
            for e in &node.edges {
                self.component(out, snap, e.child, seen);
            }
            out.push_str("</ul>");
        }
        out.push_str("</li>");
    }
}

impl Visualiser for HtmlStatusPage<'_> {
    fn render(&self, snapshot: &Snapshot) -> String {
        let overall = snapshot.overall();
        let indicator = indicator(snapshot);
        let title = esc(&self.page.name);
        let refresh_ms = self.page.refresh.as_millis().max(1);
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style>"
        );
        if self.live {
            let _ = write!(
                out,
                "<noscript><meta http-equiv=\"refresh\" content=\"{}\"></noscript>\
                 </head><body data-refresh-ms=\"{refresh_ms}\">\
                 <p id=\"stale\" class=\"stale\" role=\"status\" hidden></p>",
                refresh_ms.div_ceil(1000)
            );
        } else {
            out.push_str("</head><body>");
        }
        let _ = write!(
            out,
            "<div id=\"page\"><header><h1>{title}</h1><div id=\"banner\" \
             class=\"banner state-{s}\" data-state=\"{s}\" data-indicator=\"{indicator}\">{b}</div></header>",
            s = overall.as_str(),
            b = indicator_description(indicator)
        );
        out.push_str("<section id=\"failing\"><h2>What is failing now</h2>");
        let failing: Vec<NodeId> = snapshot
            .graph()
            .roots()
            .iter()
            .copied()
            .filter(|&r| !snapshot.status(r).state.is_passing())
            .collect();
        if failing.is_empty() {
            out.push_str("<p class=\"all-clear\">Nothing is failing.</p>");
        } else {
            out.push_str("<ul class=\"paths\">");
            for root in failing {
                for path in snapshot.explain(root).paths() {
                    let _ = write!(
                        out,
                        "<li class=\"path\" data-state=\"{s}\"><span class=\"path-nodes\">{p}</span>",
                        s = path.state.as_str(),
                        p = esc(&path.nodes.join(" → "))
                    );
                    HtmlStatusPage::state_badge(&mut out, path.state);
                    if shows_path_messages(snapshot, &path, &self.page.messages) {
                        for m in &path.messages {
                            let _ = write!(out, " <span class=\"why\">{}</span>", esc(&m.text));
                        }
                    }
                    out.push_str("</li>");
                }
            }
            out.push_str("</ul>");
        }
        out.push_str("</section><section id=\"components\"><h2>Components</h2><ul class=\"tree\">");
        let mut seen = HashSet::new();
        for &root in snapshot.graph().roots() {
            self.component(&mut out, snapshot, root, &mut seen);
        }
        let _ = write!(
            out,
            "</ul></section><footer>Evaluated at <time>{}</time>",
            snapshot.evaluated_at()
        );
        if let Some(t) = self
            .history
            .since(self.window_end(snapshot), self.page.days)
        {
            let _ = write!(
                out,
                "<span class=\"history-since\"> · history since <time datetime=\"{t}\">{}</time></span>",
                date(t)
            );
        }
        out.push_str("</footer></div>");
        if self.live {
            let _ = write!(out, "<script>{REFRESH_SCRIPT}</script>");
        }
        out.push_str("</body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use alert_core::Timestamp;

    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    /// One sensor, `db`, passing at `at`.
    fn snapshot(at: Timestamp) -> Snapshot {
        crate::visualiser::one_sensor_snapshot(State::Passing, at)
    }

    fn render(history: &StateHistory, now: Timestamp) -> String {
        HtmlStatusPage {
            page: &PageInfo::default(),
            history,
            now: None,
            live: false,
        }
        .render(&snapshot(now))
    }

    #[test]
    fn a_short_history_says_since_its_first_sample() {
        let mut h = StateHistory::default();
        h.record("db", State::Passing, t("2024-05-03T10:00:00Z"));
        let html = render(&h, t("2024-05-04T12:00:00Z"));
        assert!(
            html.contains(
                "<div class=\"uptime-legend\"><span class=\"uptime-start\" \
                 data-since=\"2024-05-03T10:00:00Z\">since <time \
                 datetime=\"2024-05-03T10:00:00Z\">2024-05-03</time></span>\
                 <span class=\"uptime-end\">today</span></div>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<div class=\"uptime-percent\">100.00% uptime since 2024-05-03</div>")
        );
        assert!(!html.contains("90 days ago"));
        assert!(!html.contains("over 90 days"));
        // The 88 days before the first sample have no data; the 3rd and 4th are up.
        assert_eq!(html.matches("class=\"bar bar-none\"").count(), 88);
        assert_eq!(html.matches("class=\"bar bar-ok\"").count(), 2);
        assert!(html.contains(
            "<span class=\"history-since\"> · history since <time \
             datetime=\"2024-05-03T10:00:00Z\">2024-05-03</time></span></footer>"
        ));
    }

    #[test]
    fn a_full_window_says_90_days_ago() {
        let mut h = StateHistory::default();
        h.record("db", State::Passing, t("2024-01-01T00:00:00Z"));
        let now = t("2024-05-04T12:00:00Z");
        h.prune(now);
        let html = render(&h, now);
        assert!(html.contains(
            "<div class=\"uptime-legend\"><span class=\"uptime-start\">90 days ago</span>\
             <span class=\"uptime-end\">today</span></div>"
        ));
        assert!(html.contains("100.00% uptime over 90 days"));
        assert!(!html.contains("since"), "{html}");
        assert_eq!(html.matches("class=\"bar bar-ok\"").count(), 90);
    }

    #[test]
    fn a_history_starting_at_the_window_start_covers_it() {
        let mut h = StateHistory::default();
        // The window of 90 days ending 2024-05-04 starts on 2024-02-05.
        h.record("db", State::Passing, t("2024-02-05T00:00:00Z"));
        let html = render(&h, t("2024-05-04T12:00:00Z"));
        assert!(html.contains("90 days ago"));
        assert!(!html.contains("since"));
        h = StateHistory::default();
        h.record("db", State::Passing, t("2024-02-05T00:00:01Z"));
        let html = render(&h, t("2024-05-04T12:00:00Z"));
        assert!(html.contains("100.00% uptime since 2024-02-05"));
    }
}
