//! The command line of `alert-history-server`.

use std::net::SocketAddr;
use std::path::PathBuf;

use alert_core::{Duration, Matchers, ParserMode, Secret, parse_matchers};
use alert_history::HeartbeatPolicy;
use clap::Parser;

/// Records every alert Alertmanager sends to it (its webhook receiver) and serves
/// episodes, health timelines and exports.
///
/// Routes: POST /webhook (Alertmanager's webhook receiver: make it the first route, with
/// continue: true), GET / (the health bar page), GET /api/v1/episodes, /api/v1/timeline,
/// /api/v1/export, GET /metrics, GET /-/healthy, /-/ready. See alert-history/README.md.
#[derive(Debug, Clone, Parser)]
#[command(name = "alert-history-server", version)]
pub struct Args {
    /// Without a command, the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9094")]
    pub listen: SocketAddr,
    /// The SQLite database file (created with its directory if missing).
    #[arg(long, default_value = "./data/history.db", global = true)]
    pub db: PathBuf,
    /// Keep episodes last heard of within this period (Alertmanager duration syntax,
    /// e.g. 14d); kept in the database, so later starts without the flag keep it.
    #[arg(long, value_parser = parse_duration)]
    pub retention: Option<Duration>,
    /// Store in PostgreSQL instead of SQLite: `postgres://USER:PASSWORD@HOST:PORT/DB`
    /// (or a `key=value` connection string). Several servers may share one database.
    /// The password is never printed (but a command line is visible to other local
    /// users).
    #[arg(long, value_name = "URL", value_parser = secret, conflicts_with_all = ["db", "loki_url", "synchronous"], global = true)]
    pub store: Option<Secret>,
    /// Store in Grafana Loki at this base URL instead of SQLite.
    #[arg(long, global = true)]
    pub loki_url: Option<String>,
    /// The Loki tenant (`X-Scope-OrgID`).
    #[arg(long, requires = "loki_url", global = true)]
    pub loki_tenant: Option<String>,
    /// The `repeat_interval` of the routes that notify this service: how far before a
    /// range Loki is searched for alerts firing since earlier, and how long an open
    /// episode may go unrepeated before it is taken to have ended (see --silent-grace).
    #[arg(long, default_value = "4h", value_parser = parse_duration)]
    pub repeat_interval: Duration,
    /// The `repeat_interval` of the route behind one receiver, as RECEIVER=DURATION
    /// (repeatable), where it differs from --repeat-interval.
    #[arg(long = "repeat-interval-for", value_name = "RECEIVER=DURATION", value_parser = parse_receiver_interval)]
    pub repeat_interval_for: Vec<(String, Duration)>,
    /// How long past its repeat interval an open episode may stay silent before its
    /// end is inferred (at its last notification plus the repeat interval; shown as
    /// `endReason: silent`). Alertmanager repeats at the group's next flush, up to a
    /// `group_interval` late.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub silent_grace: Duration,
    /// Infer the end of silent episodes (`false`: they stay open until resolved).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub silent_end: bool,
    /// Alerts matching these matchers are the heartbeat (Alertmanager syntax).
    #[arg(long, default_value = "alertname=\"Watchdog\"", value_parser = parse_heartbeat, global = true)]
    pub heartbeat_matchers: Matchers,
    /// The Watchdog route's `repeat_interval`.
    #[arg(long, default_value = "4h", value_parser = parse_duration, global = true)]
    pub heartbeat_repeat_interval: Duration,
    /// The Watchdog route's `group_interval`.
    #[arg(long, default_value = "5m", value_parser = parse_duration, global = true)]
    pub heartbeat_group_interval: Duration,
    /// Extra tolerance before a late heartbeat counts as an outage.
    #[arg(long, default_value = "1m", value_parser = parse_duration, global = true)]
    pub heartbeat_slack: Duration,
    /// How often the server records that it is alive (its downtime is measured from
    /// the last record).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub alive_interval: Duration,
    /// How often the retention purge runs.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub purge_interval: Duration,
    /// How often the store's counts are refreshed for /metrics.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub stats_interval: Duration,
    /// The largest webhook body accepted, in bytes (a larger declared
    /// `Content-Length` is refused before the body is read).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// How long a client may take to send a webhook body.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// How long a client may take to send a request's headers, and how long a
    /// kept-alive connection may sit idle.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// The most connections open at once (lowered to fit the open-file limit, which
    /// is raised to its hard limit at start); when reached, a new connection closes
    /// the oldest idle one.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// How long a timeline or an export may take, waiting for a slot included.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// The most episodes a timeline or an export reads.
    #[arg(long, default_value_t = alert_history::server::MAX_EPISODES_PER_REQUEST)]
    pub max_request_episodes: usize,
    /// How many timelines and exports run at once (default: half the cores, at least
    /// one), so that ingest and health keep a core.
    #[arg(long)]
    pub heavy_reads: Option<usize>,
    /// A file holding the bearer token requests must carry (webhook and API).
    #[arg(long, conflicts_with = "basic_auth_user")]
    pub bearer_token_file: Option<PathBuf>,
    /// The basic-auth user requests must carry (webhook and API).
    #[arg(long, requires = "basic_auth_password_file")]
    pub basic_auth_user: Option<String>,
    /// A file holding the basic-auth password.
    #[arg(long, requires = "basic_auth_user")]
    pub basic_auth_password_file: Option<PathBuf>,
    /// SQLite commit durability: `full` (survives power loss) or `normal` (survives a
    /// crash of the process).
    #[arg(long, default_value = "full", value_parser = ["full", "normal"], global = true)]
    pub synchronous: String,
}

/// What else the binary does.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Post-install check: exits 0 when the server at --url recorded the heartbeat
    /// (--heartbeat-matchers) within its repeat interval plus group interval and slack,
    /// 1 with the reason when it did not, 2 when the server cannot be asked.
    Check(CheckArgs),
    /// The support-bundle dump: every episode of a period (those --match selects) as JSON
    /// lines on standard output, read from the store the flags name (--db, --store or
    /// --loki-url).
    Export(ExportArgs),
}

/// Arguments of `check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The server's base URL (`http://127.0.0.1:9094`).
    #[arg(long)]
    pub url: String,
}

/// Arguments of `export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Start of the period (RFC 3339 or Unix seconds).
    #[arg(long)]
    pub since: String,
    /// End of the period (RFC 3339 or Unix seconds; default: now).
    #[arg(long)]
    pub until: Option<String>,
    /// Only the episodes this selector selects (`{alertname="DiskFull",severity="critical"}`,
    /// all its matchers must match); repeated, the selectors are OR-ed, as the API's
    /// `match[]`. None: every episode.
    #[arg(long = "match", value_name = "SELECTOR")]
    pub selectors: Vec<String>,
}

/// `RECEIVER=DURATION`, the receiver name as Alertmanager's webhook sends it.
fn parse_receiver_interval(text: &str) -> Result<(String, Duration), String> {
    let (receiver, duration) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("{text:?} is not RECEIVER=DURATION"))?;
    if receiver.is_empty() {
        return Err(format!("{text:?}: the receiver is empty"));
    }
    Ok((receiver.to_owned(), parse_duration(duration)?))
}

impl Args {
    /// When silent episodes are taken to have ended, from the flags (`None` with
    /// `--silent-end=false`).
    pub fn silent_end(&self) -> Option<alert_history::SilentEnd> {
        self.silent_end.then(|| {
            let mut policy = alert_history::SilentEnd::new(self.repeat_interval, self.silent_grace);
            policy.per_receiver = self.repeat_interval_for.iter().cloned().collect();
            policy
        })
    }

    /// The heartbeat expectations from the flags.
    pub fn heartbeat_policy(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            repeat_interval: self.heartbeat_repeat_interval,
            group_interval: self.heartbeat_group_interval,
            slack: self.heartbeat_slack,
        }
    }
}

/// Any text, kept as a [`Secret`]: clap would echo a refused value in its error, so
/// the URL is checked when the store opens, where its error names no password.
fn secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<Duration>().map_err(|e| e.to_string())
}

fn parse_heartbeat(s: &str) -> Result<Matchers, String> {
    let m = parse_matchers(s, ParserMode::Fallback).map_err(|e| e.to_string())?;
    if m.is_empty() {
        return Err("at least one matcher is needed to recognise the heartbeat".into());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let a = Args::try_parse_from(["alert-history-server"]).expect("defaults");
        assert_eq!(a.listen.to_string(), "127.0.0.1:9094");
        assert_eq!(a.heartbeat_matchers.len(), 1);
        assert_eq!(a.retention, None);
        let a = Args::try_parse_from(["x", "--retention", "14d", "--db", "/tmp/h.db"]).expect("ok");
        assert_eq!(a.retention.map(|d| d.as_secs()), Some(14 * 86400));
        assert!(Args::try_parse_from(["x", "--retention", "fortnight"]).is_err());
        assert!(
            Args::try_parse_from(["x", "--loki-tenant", "t"]).is_err(),
            "tenant needs a URL"
        );
        assert!(Args::try_parse_from(["x", "--heartbeat-matchers", "{}"]).is_err());
        assert!(Args::try_parse_from(["x", "--basic-auth-user", "u"]).is_err());
        let a = Args::try_parse_from(["x", "--header-timeout", "2s", "--body-timeout", "3s"])
            .expect("ok");
        assert_eq!(
            (a.header_timeout.as_secs(), a.body_timeout.as_secs()),
            (2, 3)
        );
        assert_eq!(a.heavy_reads, None);
        assert!(a.store.is_none());
    }

    #[test]
    fn store_url_is_a_secret_and_excludes_the_other_stores() {
        let url = "postgres://history:pw-123@db:5432/history";
        let a = Args::try_parse_from(["x", "--store", url]).expect("ok");
        assert_eq!(a.store.as_ref().map(Secret::expose), Some(url));
        assert!(!format!("{a:?}").contains("pw-123"));
        for other in [
            ["--db", "/tmp/h.db"],
            ["--loki-url", "http://loki:3100"],
            ["--synchronous", "normal"],
        ] {
            let err = Args::try_parse_from(["x", "--store", url, other[0], other[1]])
                .expect_err("conflict");
            assert!(!err.to_string().contains("pw-123"), "{err}");
        }
    }

    #[test]
    fn silent_end_flags() {
        let a = Args::try_parse_from(["x"]).expect("defaults");
        assert_eq!(a.silent_end(), Some(alert_history::SilentEnd::default()));
        let a = Args::try_parse_from([
            "x",
            "--repeat-interval",
            "1h",
            "--repeat-interval-for",
            "alert-router:history=12h",
            "--silent-grace",
            "2m",
        ])
        .expect("ok");
        let policy = a.silent_end().expect("on");
        assert_eq!(policy.repeat_interval_of("other").as_secs(), 3600);
        assert_eq!(
            policy.repeat_interval_of("alert-router:history").as_secs(),
            12 * 3600
        );
        assert_eq!(policy.grace.as_secs(), 120);
        let off = Args::try_parse_from(["x", "--silent-end", "false"]).expect("ok");
        assert_eq!(off.silent_end(), None);
        for bad in ["12h", "=12h", "r=soon"] {
            assert!(
                Args::try_parse_from(["x", "--repeat-interval-for", bad]).is_err(),
                "{bad}"
            );
        }
    }
}
