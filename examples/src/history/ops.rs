//! `alert-history-server check` and `export`: the post-install check of the design's
//! test plan, and the support-bundle dump.

use std::io::Write;

use alert_core::Timestamp;
use alert_core::redact::redact_urls;
use alert_history::server::now;
use alert_history::server::params::parse_time;
use alert_history::{EpisodeQuery, MAX_QUERY_LIMIT, Selectors, TimeSpan};

use super::config::{Args, CheckArgs, ExportArgs};

/// How a check ended: the exit status and what to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// 0 when the heartbeat was recorded in time, 1 when not, 2 when the server could not
    /// be asked.
    pub status: u8,
    /// One line saying why.
    pub message: String,
}

/// Asks the server at `check.url` for the heartbeat's episodes (`--heartbeat-matchers`)
/// and passes when one was last heard of within the heartbeat's repeat interval plus
/// its group interval and slack (the same bound as the timelines' outages).
pub async fn check(args: &Args, check: &CheckArgs) -> CheckOutcome {
    let policy = args.heartbeat_policy();
    let Some(window) = policy.max_gap() else {
        return CheckOutcome {
            status: 2,
            message: "the heartbeat intervals are too long to add up".into(),
        };
    };
    let at = now();
    let Some(since) = at.checked_sub(window) else {
        return CheckOutcome {
            status: 2,
            message: "the heartbeat window reaches before 1970".into(),
        };
    };
    let matchers = args.heartbeat_matchers.to_string();
    let base = check.url.trim_end_matches('/');
    let url = match reqwest::Url::parse_with_params(
        &format!("{base}/api/v1/episodes"),
        &[
            ("start", since.unix_seconds().to_string()),
            ("end", (at.unix_seconds() + 1).to_string()),
            ("match[]", matchers.clone()),
        ],
    ) {
        Ok(url) => url,
        Err(e) => {
            return CheckOutcome {
                status: 2,
                message: redact_urls(&format!("--url {base}: {e}")),
            };
        }
    };
    let failed = |e: String| CheckOutcome {
        status: 2,
        message: redact_urls(&format!("GET {base}/api/v1/episodes: {e}")),
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build();
    let answer = match client {
        Ok(client) => client.get(url).send().await,
        Err(e) => return failed(e.to_string()),
    };
    let answer = match answer {
        Ok(a) if a.status().is_success() => a,
        Ok(a) => return failed(format!("HTTP {}", a.status().as_u16())),
        Err(e) => return failed(e.to_string()),
    };
    let body: serde_json::Value = match answer.json().await {
        Ok(body) => body,
        Err(e) => return failed(e.to_string()),
    };
    // The API's envelope: {"status": "success", "data": {"episodes": [...], ...}}.
    let Some(episodes) = body
        .get("data")
        .and_then(|d| d.get("episodes"))
        .and_then(serde_json::Value::as_array)
        .filter(|_| body["status"] == "success")
    else {
        return failed(
            "the answer is not {\"status\": \"success\", \"data\": {\"episodes\": [...]}}: \
             is the URL an alert-history-server's?"
                .into(),
        );
    };
    let newest = episodes
        .iter()
        .filter_map(|e| e["lastSeen"].as_str())
        .filter_map(|t| t.parse::<Timestamp>().ok())
        .max();
    match newest {
        Some(last) => CheckOutcome {
            status: 0,
            message: format!(
                "OK: the heartbeat {matchers} was last recorded at {last}, within the last {window}"
            ),
        },
        None => CheckOutcome {
            status: 1,
            message: format!(
                "FAILED: no heartbeat {matchers} recorded within the last {window} \
                 (repeat interval {} + group interval {} + slack {}): is the Watchdog \
                 routed to this server's webhook?",
                policy.repeat_interval, policy.group_interval, policy.slack
            ),
        },
    }
}

/// Writes every episode overlapping `[--since, --until)` that the `--match` selectors
/// select (OR-ed; none: every episode) as JSON lines to `out`, read from
/// the store the flags name (not through a running server), oldest first. Returns how
/// many were written.
pub fn export(args: &Args, export: &ExportArgs, out: &mut dyn Write) -> Result<usize, String> {
    let since = parse_time("--since", &export.since).map_err(|e| e.to_string())?;
    let until = match &export.until {
        Some(until) => parse_time("--until", until).map_err(|e| e.to_string())?,
        None => now(),
    };
    let range = TimeSpan::new(since, until).map_err(|e| format!("--since/--until: {e}"))?;
    let selectors =
        Selectors::parse(export.selectors.iter().map(String::as_str)).map_err(|e| match e {
            alert_history::Error::InvalidParameter { message, .. } => format!("--match: {message}"),
            other => format!("--match: {other}"),
        })?;
    let (store, _) = super::run::open_store(args)?;
    let mut query = EpisodeQuery::new(range);
    query.selectors = selectors;
    query.limit = MAX_QUERY_LIMIT;
    let mut written = 0;
    loop {
        let page = store.query(&query).map_err(|e| e.to_string())?;
        for episode in &page.episodes {
            serde_json::to_writer(&mut *out, episode).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
            written += 1;
        }
        match page.next {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(written)
}
