//! `alertctl silence add|query|update|expire|import`: amtool 0.25's verbs, flags and output,
//! over one Alertmanager or the members of an HA cluster (queries merged; a silence is
//! created or expired on one member and gossip spreads it), vanilla or Cortex/Mimir.
//!
//! ```text
//! alertctl silence add [-a AUTHOR] [--no-require-comment] [-d 1h] [--start=RFC3339]
//!                      [--end=RFC3339] [-c COMMENT] MATCHER...
//! alertctl silence [query] [-e] [-q] [--within=DURATION] [--created-by=AUTHOR] [MATCHER ...]
//! alertctl silence update [-q] [-d DURATION] [--start=RFC3339] [--end=RFC3339] [-c COMMENT] ID...
//! alertctl silence expire ID...
//! alertctl silence import [-f] [-w 8] [FILE]
//! ```

use std::io::{Read, Write};

use alert_core::silence::{PostableSilence, Silence};
use alert_core::{Matchers, ParserMode, Timestamp, parse_matcher};
use alert_cortex_adapter::{Cluster, Error};
use futures::StreamExt;

use crate::alertctl::alert::alertname_first;
use crate::alertctl::connection::{
    ConnectionArgs, OutputArgs, OutputFormat, api_error, check_version, warn_partial,
};
use crate::alertctl::date_format::format as format_date;
use crate::alertctl::tabwriter::align;
use crate::alertctl::{Run, fail};

/// `silence`: add, expire, view and import silences.
#[derive(Debug, Clone, clap::Args)]
pub struct SilenceArgs {
    /// Where to talk to.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
    /// `query` (the default), `add`, `expire` or `import`.
    #[command(subcommand)]
    pub command: Option<SilenceCommand>,
}

/// The subcommands of `silence`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SilenceCommand {
    /// Add a new alertmanager silence.
    Add(AddArgs),
    /// Query Alertmanager silences.
    Query(QueryArgs),
    /// Update silences: a new start, end (or duration from the start) or comment.
    Update(UpdateArgs),
    /// Expire an alertmanager silence.
    Expire(ExpireArgs),
    /// Import alertmanager silences from JSON file or stdin.
    Import(ImportArgs),
}

/// Arguments of `silence add`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AddArgs {
    /// Username for CreatedBy field (default: the OS user, as amtool).
    #[arg(short = 'a', long, value_name = "AUTHOR")]
    pub author: Option<String>,
    /// Require comment to be set (the default).
    #[arg(
        short = 'r',
        long = "require-comment",
        overrides_with = "no_require_comment"
    )]
    pub require_comment: bool,
    /// Do not require a comment.
    #[arg(long = "no-require-comment")]
    pub no_require_comment: bool,
    /// Duration of silence.
    #[arg(short = 'd', long, value_name = "DURATION", default_value = "1h")]
    pub duration: String,
    /// Set when the silence should start. RFC3339 format 2006-01-02T15:04:05-07:00.
    #[arg(long, value_name = "START")]
    pub start: Option<String>,
    /// Set when the silence should end (overwrites duration). RFC3339 format
    /// 2006-01-02T15:04:05-07:00.
    #[arg(long, value_name = "END")]
    pub end: Option<String>,
    /// A comment to help describe the silence.
    #[arg(short = 'c', long, value_name = "COMMENT", default_value = "")]
    pub comment: String,
    /// Query filter.
    #[arg(value_name = "MATCHER-GROUPS", required = true)]
    pub matcher_groups: Vec<String>,
}

/// Arguments of `silence query`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QueryArgs {
    /// Show expired silences instead of active.
    #[arg(short = 'e', long)]
    pub expired: bool,
    /// Only show silence ids.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Show silences that will expire or have expired within a duration.
    #[arg(long, value_name = "WITHIN")]
    pub within: Option<String>,
    /// Show silences that belong to this creator.
    #[arg(long = "created-by", value_name = "CREATED-BY")]
    pub created_by: Option<String>,
    /// Query filter.
    #[arg(value_name = "MATCHER-GROUPS")]
    pub matcher_groups: Vec<String>,
}

/// Arguments of `silence update`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct UpdateArgs {
    /// Only show silence ids.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Duration of silence (from its start; --end wins).
    #[arg(short = 'd', long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Set when the silence should start. RFC3339 format 2006-01-02T15:04:05-07:00.
    #[arg(long, value_name = "START")]
    pub start: Option<String>,
    /// Set when the silence should end (overwrites duration). RFC3339 format
    /// 2006-01-02T15:04:05-07:00.
    #[arg(long, value_name = "END")]
    pub end: Option<String>,
    /// A comment to help describe the silence.
    #[arg(short = 'c', long, value_name = "COMMENT")]
    pub comment: Option<String>,
    /// Silence IDs to update.
    #[arg(value_name = "UPDATE-IDS")]
    pub ids: Vec<String>,
}

/// Arguments of `silence expire`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExpireArgs {
    /// Ids of silences to expire.
    #[arg(value_name = "SILENCE-IDS")]
    pub ids: Vec<String>,
}

/// Arguments of `silence import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// Force adding new silences even if it already exists.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Number of concurrent workers to use for import.
    #[arg(short = 'w', long = "worker", default_value_t = 8)]
    pub workers: usize,
    /// JSON file with silences (standard input when absent).
    #[arg(value_name = "INPUT-FILE")]
    pub file: Option<std::path::PathBuf>,
}

impl Run for SilenceArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match run(self, out, err) {
            Ok(()) => 0,
            Err(e) => fail(err, e),
        }
    }
}

/// Runs `silence …`, writing results to `out` and warnings and per-item errors to `err`.
pub fn run(args: &SilenceArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let cluster = args.connection.cluster()?;
    runtime.block_on(async {
        check_version(&args.connection, &cluster, err).await;
        match &args.command {
            None => query(&cluster, &args.output, &QueryArgs::default(), out, err).await,
            Some(SilenceCommand::Query(q)) => query(&cluster, &args.output, q, out, err).await,
            Some(SilenceCommand::Add(a)) => add(&cluster, a, out, err).await,
            Some(SilenceCommand::Update(u)) => update(&cluster, &args.output, u, out, err).await,
            Some(SilenceCommand::Expire(e)) => expire(&cluster, e).await,
            Some(SilenceCommand::Import(i)) => import(&cluster, i, out, err).await,
        }
    })
}

fn now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_unix(since.as_secs() as i64, since.subsec_nanos() as i32)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// amtool's default author: Go's `user.Current().Username`, the name of this process's
/// real uid in `/etc/passwd` (not `$USER`), `""` when it has none. Where `/proc` cannot
/// say the uid, `$USER` stands in, as Go's fallback does.
pub fn os_username() -> String {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next().map(str::to_owned))
        });
    let Some(uid) = uid else {
        return std::env::var("USER").unwrap_or_default();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                (fields.nth(1)? == uid).then(|| name.to_owned())
            })
        })
        .unwrap_or_default()
}

fn parse_time(flag: &str, value: &str) -> Result<Timestamp, String> {
    value
        .parse()
        .map_err(|e: alert_core::Error| format!("--{flag}: {e}"))
}

async fn add(
    cluster: &Cluster,
    a: &AddArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    let matchers: Vec<_> = alertname_first(a.matcher_groups.clone())
        .iter()
        .map(|m| parse_matcher(m, ParserMode::Classic).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    if matchers.is_empty() {
        return Err("no matchers specified".into());
    }
    let now = now();
    let ends_at = match &a.end {
        Some(end) => parse_time("end", end)?,
        None => {
            let d: alert_core::Duration = a
                .duration
                .parse()
                .map_err(|e: alert_core::Error| e.to_string())?;
            if d.is_zero() {
                return Err("silence duration must be greater than 0".into());
            }
            now.to_utc()
                .checked_add(d)
                .ok_or_else(|| format!("--duration {} is too long", a.duration))?
        }
    };
    if !a.no_require_comment && a.comment.is_empty() {
        return Err("comment required by config".into());
    }
    let starts_at = match &a.start {
        Some(start) => parse_time("start", start)?,
        None => now.to_utc(),
    };
    if starts_at > ends_at {
        return Err("silence cannot start after it ends".into());
    }
    let author = a.author.clone().unwrap_or_else(os_username);
    let silence = PostableSilence::new(
        &Matchers::new(matchers),
        starts_at,
        ends_at,
        author,
        a.comment.clone(),
    );
    let created = cluster
        .create_silence(&silence, None)
        .await
        .map_err(|e| api_error(&e))?;
    warn_partial(err, &created.failed);
    writeln!(out, "{}", created.value).map_err(|e| e.to_string())
}

async fn query(
    cluster: &Cluster,
    output: &OutputArgs,
    q: &QueryArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    let within = q
        .within
        .as_deref()
        .map(|w| w.parse::<alert_core::Duration>().map_err(|e| e.to_string()))
        .transpose()?
        .filter(|d| !d.is_zero());
    let filter = alertname_first(q.matcher_groups.clone());
    let result = cluster.silences(&filter).await.map_err(|e| api_error(&e))?;
    warn_partial(err, &result.failed);
    let now = now();
    let shown: Vec<Silence> = result
        .value
        .into_iter()
        .filter(|s| {
            if q.expired {
                s.ends_at <= now
                    && within
                        .is_none_or(|w| now.checked_sub(w).is_none_or(|from| s.ends_at >= from))
            } else {
                s.ends_at >= now
                    && within.is_none_or(|w| now.checked_add(w).is_none_or(|to| s.ends_at <= to))
            }
        })
        .filter(|s| {
            q.created_by
                .as_deref()
                .is_none_or(|by| by.is_empty() || s.created_by == by)
        })
        .collect();
    let text = if q.quiet {
        shown.iter().map(|s| format!("{}\n", s.id)).collect()
    } else {
        format_silences(shown, output)?
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

/// The silences as amtool prints them (`simple`, `extended` or `json`).
pub fn format_silences(mut silences: Vec<Silence>, output: &OutputArgs) -> Result<String, String> {
    if output.output == OutputFormat::Json {
        let mut s = alert_core::go_json::to_string(&silences).map_err(|e| e.to_string())?;
        s.push('\n');
        return Ok(s);
    }
    // amtool's ByEndAt with Go's (unstable) sort.Sort: equal end times come out in the
    // order Go's pdqsort leaves them.
    alert_core::go_sort::sort_by(&mut silences, |a, b| a.ends_at < b.ends_at);
    let date = |t: &Timestamp| format_date(t, &output.date_format);
    let mut lines = Vec::with_capacity(silences.len() + 1);
    if output.output == OutputFormat::Simple {
        lines.push("ID\tMatchers\tEnds At\tCreated By\tComment\t".to_owned());
        for s in &silences {
            let matchers: Vec<String> = s.matchers.iter().map(ToString::to_string).collect();
            lines.push(format!(
                "{}\t{}\t{}\t{}\t{}\t",
                s.id,
                matchers.join(" "),
                date(&s.ends_at),
                s.created_by,
                s.comment
            ));
        }
    } else {
        lines
            .push("ID\tMatchers\tStarts At\tEnds At\tUpdated At\tCreated By\tComment\t".to_owned());
        for s in &silences {
            lines.push(format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
                s.id,
                s.matchers,
                date(&s.starts_at),
                date(&s.ends_at),
                date(&s.updated_at),
                s.created_by,
                s.comment
            ));
        }
    }
    Ok(align(&lines))
}

/// `silence update` as amtool 0.25 does it: each silence is read, changed and posted
/// back with its id (Alertmanager updates it in place or, when it cannot, expires it and
/// answers with a new id, which is what is printed).
async fn update(
    cluster: &Cluster,
    output: &OutputArgs,
    u: &UpdateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    if u.ids.is_empty() {
        return Err("no silence IDs specified".into());
    }
    let mut updated = Vec::with_capacity(u.ids.len());
    for id in &u.ids {
        let found = cluster.silence(id).await.map_err(|e| api_error(&e))?;
        warn_partial(err, &found.failed);
        let mut s = found.value;
        if let Some(start) = &u.start {
            s.starts_at = parse_time("start", start)?;
        }
        if let Some(end) = &u.end {
            s.ends_at = parse_time("end", end)?;
        } else if let Some(duration) = &u.duration {
            let d: alert_core::Duration = duration
                .parse()
                .map_err(|e: alert_core::Error| e.to_string())?;
            if d.is_zero() {
                return Err("silence duration must be greater than 0".into());
            }
            s.ends_at = s
                .starts_at
                .to_utc()
                .checked_add(d)
                .ok_or_else(|| format!("--duration {duration} is too long"))?;
        }
        if s.starts_at > s.ends_at {
            return Err("silence cannot start after it ends".into());
        }
        if let Some(comment) = u.comment.as_ref().filter(|c| !c.is_empty()) {
            s.comment = comment.clone();
        }
        let mut post = PostableSilence::new(
            &s.matchers,
            s.starts_at,
            s.ends_at,
            s.created_by.clone(),
            s.comment.clone(),
        );
        post.id = Some(s.id.clone());
        let posted = cluster
            .create_silence(&post, None)
            .await
            .map_err(|e| api_error(&e))?;
        warn_partial(err, &posted.failed);
        s.id = posted.value;
        updated.push(s);
    }
    let text = if u.quiet {
        updated.iter().map(|s| format!("{}\n", s.id)).collect()
    } else {
        format_silences(updated, output)?
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

async fn expire(cluster: &Cluster, e: &ExpireArgs) -> Result<(), String> {
    if e.ids.is_empty() {
        return Err("no silence IDs specified".into());
    }
    for id in &e.ids {
        cluster
            .expire_silence(id)
            .await
            .map_err(|e| api_error(&e))?;
    }
    Ok(())
}

async fn import(
    cluster: &Cluster,
    i: &ImportArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    let mut text = String::new();
    match &i.file {
        Some(path) => {
            text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        None => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("standard input: {e}"))?;
        }
    }
    let silences: Vec<Silence> = serde_json::from_str(&text)
        .map_err(|e| format!("couldn't unmarshal input data, is it JSON?: {e}"))?;
    let count = silences.len();
    let results: Vec<(String, Result<String, Error>)> = futures::stream::iter(silences)
        .map(|s| async move {
            let original = s.id.clone();
            let mut post =
                PostableSilence::new(&s.matchers, s.starts_at, s.ends_at, s.created_by, s.comment);
            post.id = (!i.force).then(|| s.id.clone());
            let mut result = cluster.create_silence(&post, None).await.map(|p| p.value);
            // An id the server does not know: create the silence anew, as amtool does.
            if post.id.is_some()
                && result
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("not found"))
            {
                post.id = None;
                result = cluster.create_silence(&post, None).await.map(|p| p.value);
            }
            (original, result)
        })
        .buffer_unordered(i.workers.max(1))
        .collect()
        .await;
    let mut failures = 0;
    for (original, result) in results {
        match result {
            Ok(id) => {
                let _ = writeln!(out, "{id}");
            }
            Err(e) => {
                failures += 1;
                let e = alert_core::redact_urls(&e.to_string());
                let _ = writeln!(err, "Error importing silence id {original}: {e}");
            }
        }
    }
    if failures > 0 {
        return Err(format!(
            "couldn't import {failures} out of {count} silences"
        ));
    }
    Ok(())
}
