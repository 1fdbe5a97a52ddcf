//! `alertctl config show` and `alertctl cluster show`: amtool 0.25's views of a running
//! Alertmanager's `GET /api/v2/status` (with several `--alertmanager.url` members, the
//! first that answers, as amtool talks to one).
//!
//! ```text
//! alertctl config [show]   [-o simple|extended|json]
//! alertctl cluster [show]  [-o simple|extended|json]
//! ```
//!
//! Where amtool 0.25 prints Go pointers instead of values (`config show -o extended`
//! prints the addresses of the configuration and of each version field, and
//! `silence update -q` the address of each id), alertctl prints the values.

use std::io::Write;

use alert_cortex_adapter::{AlertmanagerStatus, ClusterState, ClusterStatus};
use serde_json::{Value, json};

use crate::alertctl::connection::{
    ConnectionArgs, OutputArgs, OutputFormat, api_error, check_version, warn_partial,
};
use crate::alertctl::tabwriter::align;
use crate::alertctl::{Run, fail};

/// `config show`: the running configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// Where to talk to.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How to print: the configuration (simple), with version and uptime (extended), or
    /// the whole status (json).
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `cluster`: the gossip cluster as the Alertmanager sees it.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Where to talk to.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How to print: state and node name (simple), with the peers (extended), or JSON.
    #[command(flatten)]
    pub output: OutputArgs,
    /// `show` (the default).
    #[command(subcommand)]
    pub command: Option<ClusterCommand>,
}

/// The subcommands of `cluster`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ClusterCommand {
    /// View cluster status and peers.
    Show,
}

impl Run for ShowArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        let result = status(&self.connection, err)
            .and_then(|s| format_config(&s, self.output.output))
            .and_then(|text| out.write_all(text.as_bytes()).map_err(|e| e.to_string()));
        match result {
            Ok(()) => 0,
            Err(e) => fail(err, e),
        }
    }
}

impl Run for ClusterArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        let result = status(&self.connection, err)
            .and_then(|s| format_cluster(&s.cluster, self.output.output))
            .and_then(|text| out.write_all(text.as_bytes()).map_err(|e| e.to_string()));
        match result {
            Ok(()) => 0,
            Err(e) => fail(err, e),
        }
    }
}

/// The status of the first member that answers; the others' failures are warned of.
pub fn status(
    connection: &ConnectionArgs,
    err: &mut dyn Write,
) -> Result<AlertmanagerStatus, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let cluster = connection.cluster()?;
    runtime.block_on(async {
        check_version(connection, &cluster, err).await;
        let answers = cluster.statuses().await.map_err(|e| api_error(&e))?;
        warn_partial(err, &answers.failed);
        answers
            .value
            .into_iter()
            .next()
            .map(|(_, status)| status)
            .ok_or_else(|| "no Alertmanager answered".to_owned())
    })
}

fn state_name(state: ClusterState) -> &'static str {
    match state {
        ClusterState::Ready => "ready",
        ClusterState::Settling => "settling",
        ClusterState::Disabled => "disabled",
        _ => "unknown",
    }
}

/// `strfmt.DateTime`'s text: RFC 3339 with milliseconds.
fn millis(t: &alert_core::Timestamp) -> String {
    let text = t.to_utc().to_string();
    // `Timestamp` prints Go's RFC3339Nano (trailing zeros dropped); pad or cut to three
    // fraction digits as strfmt does.
    let Some(body) = text.strip_suffix('Z') else {
        return text;
    };
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut frac: String = frac.chars().take(3).collect();
    while frac.len() < 3 {
        frac.push('0');
    }
    format!("{secs}.{frac}Z")
}

/// The cluster status as Go's encoder writes amtool's model: `name` (omitted when
/// empty), `peers`, `status`.
fn cluster_json(c: &ClusterStatus) -> Value {
    let mut v = serde_json::Map::new();
    if let Some(name) = c.name.as_deref().filter(|n| !n.is_empty()) {
        v.insert("name".into(), json!(name));
    }
    let peers: Vec<Value> = c
        .peers
        .iter()
        .map(|p| json!({"address": p.address, "name": p.name}))
        .collect();
    v.insert("peers".into(), Value::Array(peers));
    v.insert("status".into(), json!(state_name(c.status)));
    Value::Object(v)
}

fn to_go_json(v: &Value) -> Result<String, String> {
    let mut s = alert_core::go_json::to_string(v).map_err(|e| e.to_string())?;
    s.push('\n');
    Ok(s)
}

/// `config show` as amtool prints it.
///
/// ```
/// use alert_examples::alertctl::connection::OutputFormat;
/// use alert_examples::alertctl::status::format_config;
/// let status: alert_cortex_adapter::AlertmanagerStatus = serde_json::from_value(serde_json::json!({
///     "cluster": {"status": "disabled", "peers": []},
///     "versionInfo": {"version": "0.25.0", "revision": "r", "branch": "b",
///                     "buildUser": "u", "buildDate": "d", "goVersion": "go1.19"},
///     "config": {"original": "route:\n  receiver: x\n"},
///     "uptime": "2024-05-01T10:00:00.5Z"}))?;
/// assert_eq!(format_config(&status, OutputFormat::Simple)?, "route:\n  receiver: x\n\n");
/// let json = format_config(&status, OutputFormat::Json)?;
/// assert!(json.starts_with(r#"{"cluster":{"peers":[],"status":"disabled"},"config":{"original":"route:\n  receiver: x\n"},"uptime":"2024-05-01T10:00:00.500Z","#), "{json}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn format_config(status: &AlertmanagerStatus, format: OutputFormat) -> Result<String, String> {
    let v = &status.version_info;
    Ok(match format {
        OutputFormat::Simple => format!("{}\n", status.config.original),
        OutputFormat::Extended => format!(
            "{}\nbuildUser {}\ngoVersion {}\nrevision {}\nversion {}\nbranch {}\nbuildDate {}\nuptime {}\n",
            status.config.original,
            v.build_user,
            v.go_version,
            v.revision,
            v.version,
            v.branch,
            v.build_date,
            millis(&status.uptime)
        ),
        OutputFormat::Json => to_go_json(&json!({
            "cluster": cluster_json(&status.cluster),
            "config": {"original": status.config.original},
            "uptime": millis(&status.uptime),
            "versionInfo": {
                "branch": v.branch, "buildDate": v.build_date, "buildUser": v.build_user,
                "goVersion": v.go_version, "revision": v.revision, "version": v.version,
            },
        }))?,
    })
}

/// `cluster show` as amtool prints it (Go's tabwriter; extended lists the peers by
/// address after a blank line, which starts a new block of columns).
///
/// ```
/// use alert_examples::alertctl::connection::OutputFormat;
/// use alert_examples::alertctl::status::format_cluster;
/// let cluster: alert_cortex_adapter::ClusterStatus = serde_json::from_value(serde_json::json!({
///     "name": "01ABC", "status": "ready",
///     "peers": [{"name": "01ABC", "address": "127.0.0.1:9094"}, {"name": "01B", "address": "10.0.0.1:9094"}]}))?;
/// assert_eq!(format_cluster(&cluster, OutputFormat::Simple)?, "Cluster Status:  ready\nNode Name:       01ABC\n");
/// assert_eq!(
///     format_cluster(&cluster, OutputFormat::Extended)?,
///     "Cluster Status:  ready\nNode Name:       01ABC\n\nAddress         Name\n10.0.0.1:9094   01B    \n127.0.0.1:9094  01ABC  \n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn format_cluster(cluster: &ClusterStatus, format: OutputFormat) -> Result<String, String> {
    let head = align(&[
        format!("Cluster Status:\t{}", state_name(cluster.status)),
        format!("Node Name:\t{}", cluster.name.as_deref().unwrap_or("")),
    ]);
    Ok(match format {
        OutputFormat::Simple => head,
        OutputFormat::Extended => {
            let mut peers: Vec<_> = cluster.peers.iter().collect();
            peers.sort_by(|a, b| a.address.cmp(&b.address));
            let mut lines = vec!["Address\tName".to_owned()];
            lines.extend(peers.iter().map(|p| format!("{}\t{}\t", p.address, p.name)));
            format!("{head}\n{}", align(&lines))
        }
        OutputFormat::Json => to_go_json(&cluster_json(cluster))?,
    })
}
