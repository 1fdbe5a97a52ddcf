//! `alertctl alert query` and `alertctl alert add`: amtool 0.25's verbs, flags and
//! output, over one Alertmanager or the members of an HA cluster (reads merged, alerts
//! posted to every member), vanilla or Cortex/Mimir.
//!
//! ```text
//! alertctl alert [query] [-i] [-s] [-a] [-u] [-r RECEIVER] [MATCHER ...]
//! alertctl alert add [--annotation=NAME=VALUE ...] [--generator-url=URL]
//!                    [--start=RFC3339] [--end=RFC3339] [ALERTNAME] [NAME=VALUE ...]
//! ```
//!
//! As in amtool, a first argument that is not a matcher (label) is taken as the
//! alertname; `query` without a state flag shows active alerts only.
//!
//! Errors and warnings name the Alertmanager without the credentials of
//! `--alertmanager.url` (see [`crate::alertctl::connection`]). `-o extended` prints each
//! alert's generator URL as it is, because that is the alert's own data and amtool
//! prints the same.

use std::io::Write;

use alert_core::{LabelSet, ParserMode, Timestamp, parse_matcher};
use alert_cortex_adapter::{AlertQuery, GettableAlert, PostableAlert};

use crate::alertctl::connection::{
    ConnectionArgs, OutputArgs, OutputFormat, api_error, check_version, warn_partial,
};
use crate::alertctl::date_format::format as format_date;
use crate::alertctl::tabwriter::align;
use crate::alertctl::{Run, fail, parse_labels};

/// `alert`: view and add alerts.
#[derive(Debug, Clone, clap::Args)]
pub struct AlertArgs {
    /// Where to talk to.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
    /// `query` (the default) or `add`.
    #[command(subcommand)]
    pub command: Option<AlertCommand>,
}

/// The subcommands of `alert`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AlertCommand {
    /// View and search through current alerts.
    Query(QueryArgs),
    /// Add a new alert.
    Add(AddArgs),
}

/// Arguments of `alert query`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QueryArgs {
    /// Show inhibited alerts.
    #[arg(short = 'i', long)]
    pub inhibited: bool,
    /// Show silenced alerts.
    #[arg(short = 's', long)]
    pub silenced: bool,
    /// Show active alerts.
    #[arg(short = 'a', long)]
    pub active: bool,
    /// Show unprocessed alerts.
    #[arg(short = 'u', long)]
    pub unprocessed: bool,
    /// Show alerts matching receiver (Supports regex syntax).
    #[arg(short = 'r', long, value_name = "RECEIVER")]
    pub receiver: Option<String>,
    /// Query filter.
    #[arg(value_name = "MATCHER-GROUPS")]
    pub matcher_groups: Vec<String>,
}

/// Arguments of `alert add`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AddArgs {
    /// Set the URL of the source that generated the alert.
    #[arg(long = "generator-url", value_name = "GENERATOR-URL")]
    pub generator_url: Option<String>,
    /// Set when the alert should start. RFC3339 format 2006-01-02T15:04:05-07:00.
    #[arg(long, value_name = "START")]
    pub start: Option<String>,
    /// Set when the alert should should end. RFC3339 format 2006-01-02T15:04:05-07:00.
    #[arg(long, value_name = "END")]
    pub end: Option<String>,
    /// Set an annotation to be included with the alert.
    #[arg(long = "annotation", value_name = "ANNOTATION")]
    pub annotations: Vec<String>,
    /// List of labels to be included with the alert.
    #[arg(value_name = "LABELS")]
    pub labels: Vec<String>,
}

impl Run for AlertArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match run(self, out, err) {
            Ok(()) => 0,
            Err(e) => fail(err, e),
        }
    }
}

/// Runs `alert …`, writing results to `out` and warnings to `err`.
pub fn run(args: &AlertArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    match &args.command {
        None => runtime.block_on(query(args, &QueryArgs::default(), out, err)),
        Some(AlertCommand::Query(q)) => runtime.block_on(query(args, q, out, err)),
        Some(AlertCommand::Add(a)) => runtime.block_on(add(args, a, err)),
    }
}

/// amtool's rule: a first argument that does not parse as a matcher is the alertname.
pub fn alertname_first(mut args: Vec<String>) -> Vec<String> {
    if let Some(first) = args.first_mut()
        && parse_matcher(first, ParserMode::Classic).is_err()
    {
        *first = format!("alertname={first}");
    }
    args
}

async fn query(
    args: &AlertArgs,
    q: &QueryArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    let cluster = args.connection.cluster()?;
    check_version(&args.connection, &cluster, err).await;
    let active = q.active || !(q.silenced || q.inhibited || q.unprocessed);
    let query = AlertQuery {
        filter: alertname_first(q.matcher_groups.clone()),
        receiver: q.receiver.clone().filter(|r| !r.is_empty()),
        active: Some(active),
        silenced: Some(q.silenced),
        inhibited: Some(q.inhibited),
        unprocessed: Some(q.unprocessed),
    };
    let result = cluster.alerts(&query).await.map_err(|e| api_error(&e))?;
    warn_partial(err, &result.failed);
    let text = format_alerts(result.value, &args.output)?;
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

/// The alerts as amtool prints them (`simple`, `extended` or `json`).
pub fn format_alerts(
    mut alerts: Vec<GettableAlert>,
    output: &OutputArgs,
) -> Result<String, String> {
    if output.output == OutputFormat::Json {
        let mut s = alert_core::go_json::to_string(&alerts).map_err(|e| e.to_string())?;
        s.push('\n');
        return Ok(s);
    }
    // amtool sorts by start time with Go's (unstable) sort.Sort: alerts that started
    // together come out in the order Go's pdqsort leaves them.
    alert_core::go_sort::sort_by(&mut alerts, |a, b| a.starts_at < b.starts_at);
    let date = |t: &Timestamp| format_date(t, &output.date_format);
    let state = |a: &GettableAlert| a.status.state.as_str();
    let mut lines = Vec::with_capacity(alerts.len() + 1);
    if output.output == OutputFormat::Simple {
        lines.push("Alertname\tStarts At\tSummary\tState\t".to_owned());
        for a in &alerts {
            lines.push(format!(
                "{}\t{}\t{}\t{}\t",
                a.labels.get_or_empty("alertname"),
                date(&a.starts_at),
                a.annotations.get_or_empty("summary"),
                state(a)
            ));
        }
    } else {
        lines.push("Labels\tAnnotations\tStarts At\tEnds At\tGenerator URL\tState\t".to_owned());
        for a in &alerts {
            lines.push(format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t",
                quoted_pairs(&a.labels),
                quoted_pairs(&a.annotations),
                date(&a.starts_at),
                date(&a.ends_at),
                a.generator_url.as_deref().unwrap_or_default(),
                state(a)
            ));
        }
    }
    Ok(align(&lines))
}

/// `name="value"` pairs joined by spaces, sorted as strings (amtool's
/// `extendedFormatLabels`).
fn quoted_pairs(labels: &LabelSet) -> String {
    let mut pairs: Vec<String> = labels.iter().map(|(n, v)| format!("{n}=\"{v}\"")).collect();
    pairs.sort();
    pairs.join(" ")
}

async fn add(args: &AlertArgs, a: &AddArgs, err: &mut dyn Write) -> Result<(), String> {
    let labels = parse_labels(&alertname_first(a.labels.clone()))?;
    let annotations = parse_labels(&a.annotations)?;
    let time = |flag: &str, v: &Option<String>| -> Result<Option<Timestamp>, String> {
        v.as_deref()
            .map(|s| {
                s.parse()
                    .map_err(|e: alert_core::Error| format!("--{flag}: {e}"))
            })
            .transpose()
    };
    let alert = PostableAlert {
        labels,
        annotations,
        starts_at: time("start", &a.start)?,
        ends_at: time("end", &a.end)?,
        generator_url: a.generator_url.clone().filter(|u| !u.is_empty()),
    };
    let cluster = args.connection.cluster()?;
    check_version(&args.connection, &cluster, err).await;
    let result = cluster
        .post_alerts(&[alert])
        .await
        .map_err(|e| api_error(&e))?;
    warn_partial(err, &result.failed);
    Ok(())
}
