//! `alertctl gateway`: configuration as code against an alert-gateway's data plane (its
//! HTTP API is `alert_gateway::api`).
//!
//! ```text
//! alertctl gateway spec apply -f SPEC.yaml|- [--dry-run]
//! alertctl gateway spec get [-o yaml|json]
//! alertctl gateway condition list [--tenant T] [--severity S] [--kind K] [-o simple|json]
//! alertctl gateway condition get ID [-o yaml|json]
//! alertctl gateway condition delete ID [--if-match REV]
//! alertctl gateway tenants [--tenant T] [-o simple|json]
//!   with [--gateway.url URL] [--gateway.token-file FILE] [--timeout 30s]
//! ```
//!
//! `spec apply` sends the `endpoints`, `conditions` and `slos` of a spec file (the format
//! `alertctl config build --spec` reads) to `PUT /api/v1/spec`. The file is the whole
//! state: the gateway deletes what it does not name, so `--dry-run` first shows the
//! plan. The keys only `config build` uses (`base_config`, `history_webhook`,
//! `condition_group_by`) are left out, with a warning; other keys are refused, as
//! `config build` refuses them, and so is a file that names none of the three
//! collections (an empty file would otherwise delete everything). Endpoints may say
//! `<secret>` (as `spec get` prints them) to keep the stored secret. The plan is printed
//! one object a line, then a summary:
//!
//! ```text
//! created: endpoints/pager
//! updated: conditions/cpu-high
//! Applied at revision 12: 1 created, 1 updated, 0 deleted, 3 unchanged.
//! ```
//!
//! `condition list` prints `ID  TENANT  KIND  SEVERITY  ENDPOINTS  REVISION`; the
//! revision is what `condition delete --if-match` expects.
//!
//! `tenants` prints the control plane's report on each tenant (`GET /api/v1/tenants`):
//! `TENANT  STATE  DESIRED  APPLIED  RULES  LAST APPLIED  ERROR`, sync ids cut to 12
//! characters; `STATE` is `in-sync`, `applying` or `failed` (the tenant keeps its last
//! working configuration and the error says why).
//!
//! Failures are `alertctl: error: gateway answered 422: conditions[cpu-high].endpoints[0].id:
//! ...` (the gateway's own message and its HTTP status), or say which gateway could not
//! be reached; they exit with status 1. The token is never printed, nor the user and
//! password of a URL (`http://<secret>@host:9095`).

use alert_router::config::yaml::{MAX_NESTING, check_nesting};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use alert_core::AlertCondition;
use alert_gateway::control_plane::{TenantReport, TenantState};
use alert_gateway::store::redact_url;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, IF_MATCH};
use reqwest::{RequestBuilder, Response, Url};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::alertctl::tabwriter::align;
use crate::alertctl::{Run, fail};

/// Where `--gateway.url` points by default (the gateway's default `--listen`).
pub const DEFAULT_GATEWAY_URL: &str = "http://127.0.0.1:9095";

/// The keys of a spec file that only `alertctl config build` reads; `spec apply` does
/// not send them.
pub const BUILD_ONLY_KEYS: [&str; 3] = ["base_config", "history_webhook", "condition_group_by"];

/// `gateway`: configuration as code against an alert-gateway.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// Which gateway, and how to talk to it.
    #[command(flatten)]
    pub connection: GatewayConnection,
    /// `spec` or `condition`.
    #[command(subcommand)]
    pub command: GatewayCommand,
}

/// `--gateway.url`, `--gateway.token-file`, `--timeout`.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayConnection {
    /// The gateway's data-plane API.
    #[arg(
        long = "gateway.url",
        value_name = "URL",
        default_value = DEFAULT_GATEWAY_URL,
        global = true
    )]
    pub url: String,
    /// A file holding the gateway's bearer token (surrounding whitespace is trimmed).
    #[arg(long = "gateway.token-file", value_name = "FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// Timeout for each HTTP call (Go duration).
    #[arg(long, value_name = "DURATION", default_value = "30s", global = true)]
    pub timeout: String,
}

/// The subcommands of `gateway`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum GatewayCommand {
    /// Apply a spec file to the gateway, or print the gateway's spec.
    Spec(SpecArgs),
    /// List, show and delete the gateway's conditions.
    Condition(ConditionArgs),
    /// The control plane's report on every tenant: whether its rules and Alertmanager
    /// configuration are live, and the last error.
    Tenants(TenantsArgs),
}

/// `gateway tenants`.
#[derive(Debug, Clone, clap::Args)]
pub struct TenantsArgs {
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Simple)]
    pub output: ListFormat,
}

/// `gateway spec`.
#[derive(Debug, Clone, clap::Args)]
pub struct SpecArgs {
    /// `apply` or `get`.
    #[command(subcommand)]
    pub command: SpecCommand,
}

/// The subcommands of `gateway spec`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SpecCommand {
    /// Replace the gateway's endpoints, conditions and SLOs with a spec file's.
    Apply(ApplyArgs),
    /// Print the gateway's spec (secrets shown as <secret>).
    Get(SpecGetArgs),
}

/// Arguments of `gateway spec apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    /// The spec file (`-` for standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// Only show what would change.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
}

/// A document's output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocumentFormat {
    /// YAML.
    Yaml,
    /// JSON, indented.
    Json,
}

/// A listing's output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned columns.
    Simple,
    /// The items as JSON: `[{"revision": r, "object": {...}}]`.
    Json,
}

/// Arguments of `gateway spec get`.
#[derive(Debug, Clone, clap::Args)]
pub struct SpecGetArgs {
    /// Output format (yaml, json).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DocumentFormat::Yaml)]
    pub output: DocumentFormat,
}

/// `gateway condition`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConditionArgs {
    /// `list`, `get` or `delete`.
    #[command(subcommand)]
    pub command: ConditionCommand,
}

/// The subcommands of `gateway condition`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConditionCommand {
    /// List conditions, filtered.
    List(ConditionListArgs),
    /// Print one condition.
    Get(ConditionGetArgs),
    /// Delete one condition.
    Delete(ConditionDeleteArgs),
}

/// Arguments of `gateway condition list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConditionListArgs {
    /// Only this tenant's conditions.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Only conditions of this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// Only conditions of this kind (prometheus, cpu, agent_disconnect, ..., external).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Output format (simple, json).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Simple)]
    pub output: ListFormat,
}

/// Arguments of `gateway condition get`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConditionGetArgs {
    /// The condition's id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Output format (yaml, json).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DocumentFormat::Yaml)]
    pub output: DocumentFormat,
}

/// Arguments of `gateway condition delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConditionDeleteArgs {
    /// The condition's id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Delete only if the condition is still at this revision (see `condition list`).
    #[arg(long = "if-match", value_name = "REV")]
    pub if_match: Option<u64>,
}

impl Run for GatewayArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match execute(self, out, err) {
            Ok(()) => 0,
            Err(message) => fail(err, message),
        }
    }
}

fn execute(args: &GatewayArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    let connect = || Gateway::connect(&args.connection);
    let text = match &args.command {
        GatewayCommand::Spec(spec) => match &spec.command {
            SpecCommand::Apply(apply) => {
                // The file is read (and refused) before anything is sent.
                let spec = read_spec(&apply.file)?;
                if !spec.left_out.is_empty() {
                    let _ = writeln!(
                        err,
                        "alertctl: warning: {}: {} only configure{} `alertctl config build`; not sent to the gateway",
                        spec.source,
                        spec.left_out.join(", "),
                        if spec.left_out.len() == 1 { "s" } else { "" }
                    );
                }
                let gateway = connect()?;
                block_on(apply_spec(&gateway, &spec.body, apply.dry_run))?
            }
            SpecCommand::Get(get) => block_on(get_spec(&connect()?, get.output))?,
        },
        GatewayCommand::Tenants(tenants) => block_on(list_tenants(&connect()?, tenants))?,
        GatewayCommand::Condition(condition) => match &condition.command {
            ConditionCommand::List(list) => block_on(list_conditions(&connect()?, list))?,
            ConditionCommand::Get(get) => {
                block_on(get_condition(&connect()?, &get.id, get.output))?
            }
            ConditionCommand::Delete(delete) => {
                block_on(delete_condition(&connect()?, &delete.id, delete.if_match))?
            }
        },
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

/// Runs one request's future on a runtime of its own.
fn block_on<T>(future: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(future)
}

/// A spec file as `spec apply` sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecBody {
    /// Where it was read from (the path, or `<stdin>`).
    pub source: String,
    /// `{"endpoints": [...], "conditions": [...], "slos": [...]}`.
    pub body: Value,
    /// The build-only keys the file had, which are not sent.
    pub left_out: Vec<&'static str>,
}

/// The spec file's keys: those of `alertctl config build` and `slos`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    base_config: Option<IgnoredAny>,
    #[serde(default)]
    history_webhook: Option<IgnoredAny>,
    #[serde(default)]
    condition_group_by: Option<IgnoredAny>,
    #[serde(default)]
    endpoints: Option<Value>,
    #[serde(default)]
    conditions: Option<Value>,
    #[serde(default)]
    slos: Option<Value>,
}

/// Reads a spec file (`-`: standard input) into the body `PUT /api/v1/spec` takes.
fn read_spec(path: &Path) -> Result<SpecBody, String> {
    let (source, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("<stdin>: {e}"))?;
        ("<stdin>".to_owned(), text)
    } else {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        (shown, text)
    };
    spec_body(source, &text)
}

/// The body `PUT /api/v1/spec` takes from a spec file's text; `source` names it in
/// errors. Validation is the gateway's, which names the field path.
///
/// ```
/// use alert_examples::alertctl::gateway::spec_body;
///
/// let spec = spec_body("spec.yaml".into(), "history_webhook: http://h/x\nconditions:\n  - {id: a}\n")?;
/// assert_eq!(spec.body["conditions"][0]["id"], "a");
/// assert_eq!(spec.body["endpoints"], serde_json::json!([]));
/// assert_eq!(spec.left_out, ["history_webhook"]);
/// let refused = spec_body("spec.yaml".into(), "endpoint: []\n").unwrap_err();
/// assert!(refused.starts_with("spec.yaml: unknown field `endpoint`"), "{refused}");
/// let deep = format!("conditions: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
/// let refused = spec_body("spec.yaml".into(), &deep).unwrap_err();
/// assert_eq!(refused, "spec.yaml: line 1 column 140: nested more than 128 levels deep");
/// # Ok::<(), String>(())
/// ```
pub fn spec_body(source: String, text: &str) -> Result<SpecBody, String> {
    // yaml_serde's depth limit costs time quadratic in the depth: refuse deep files first.
    check_nesting(text, MAX_NESTING).map_err(|e| format!("{source}: {e}"))?;
    let file: SpecFile = yaml_serde::from_str(text).map_err(|e| format!("{source}: {e}"))?;
    let left_out: Vec<&'static str> = [
        file.base_config.is_some(),
        file.history_webhook.is_some(),
        file.condition_group_by.is_some(),
    ]
    .into_iter()
    .zip(BUILD_ONLY_KEYS)
    .filter_map(|(present, key)| present.then_some(key))
    .collect();
    if file.endpoints.is_none() && file.conditions.is_none() && file.slos.is_none() {
        return Err(format!(
            "{source}: names no endpoints, conditions or slos; applying it would delete \
             everything (to mean that, write `endpoints: []`)"
        ));
    }
    let list = |v: Option<Value>| v.unwrap_or_else(|| json!([]));
    let body = json!({
        "endpoints": list(file.endpoints),
        "conditions": list(file.conditions),
        "slos": list(file.slos),
    });
    Ok(SpecBody {
        source,
        body,
        left_out,
    })
}

/// The gateway's answer to `PUT /api/v1/spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Plan {
    /// Whether nothing was written.
    #[serde(default)]
    pub dry_run: bool,
    /// The revision the gateway's state was read at.
    pub based_on: u64,
    /// Objects added (`endpoints/pager`, ...).
    #[serde(default)]
    pub created: Vec<String>,
    /// Objects changed.
    #[serde(default)]
    pub updated: Vec<String>,
    /// Objects removed.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// How many objects stay as they were.
    #[serde(default)]
    pub unchanged: u64,
    /// The revision the changes were written at (none on a dry run or when nothing
    /// changed).
    #[serde(default)]
    pub revision: Option<u64>,
}

/// The plan for people: one line per object, then a summary.
///
/// ```
/// use alert_examples::alertctl::gateway::{Plan, format_plan};
///
/// let plan = Plan {
///     based_on: 11,
///     revision: Some(12),
///     created: vec!["endpoints/pager".into(), "conditions/cpu-high".into()],
///     updated: vec!["conditions/disk-full".into()],
///     unchanged: 3,
///     ..Plan::default()
/// };
/// assert_eq!(
///     format_plan(&plan),
///     "created: endpoints/pager\ncreated: conditions/cpu-high\nupdated: conditions/disk-full\n\
///      Applied at revision 12: 2 created, 1 updated, 0 deleted, 3 unchanged.\n"
/// );
/// let dry = Plan { dry_run: true, revision: None, ..plan };
/// assert!(format_plan(&dry).ends_with(
///     "would update: conditions/disk-full\n\
///      Dry run against revision 11: would create 2, update 1, delete 0; 3 unchanged.\n"
/// ));
/// ```
pub fn format_plan(plan: &Plan) -> String {
    let (create, update, delete) = if plan.dry_run {
        ("would create", "would update", "would delete")
    } else {
        ("created", "updated", "deleted")
    };
    let mut text = String::new();
    for (verb, keys) in [
        (create, &plan.created),
        (update, &plan.updated),
        (delete, &plan.deleted),
    ] {
        for key in keys {
            text.push_str(&format!("{verb}: {key}\n"));
        }
    }
    let (c, u, d, n) = (
        plan.created.len(),
        plan.updated.len(),
        plan.deleted.len(),
        plan.unchanged,
    );
    let summary = match (plan.dry_run, plan.revision) {
        (true, _) => format!(
            "Dry run against revision {}: would create {c}, update {u}, delete {d}; {n} unchanged.",
            plan.based_on
        ),
        (false, Some(r)) => {
            format!(
                "Applied at revision {r}: {c} created, {u} updated, {d} deleted, {n} unchanged."
            )
        }
        (false, None) => format!(
            "Up to date at revision {}: {c} created, {u} updated, {d} deleted, {n} unchanged.",
            plan.based_on
        ),
    };
    text.push_str(&summary);
    text.push('\n');
    text
}

/// One item of a listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Item<T> {
    revision: u64,
    object: T,
}

/// A listing: `{"revision": R, "items": [...]}`.
#[derive(Debug, Clone, Deserialize)]
struct Listing<T> {
    items: Vec<Item<T>>,
}

/// The condition table: `ID  TENANT  KIND  SEVERITY  ENDPOINTS  REVISION`.
fn format_conditions(items: &[Item<AlertCondition>]) -> String {
    let mut lines = vec!["ID\tTENANT\tKIND\tSEVERITY\tENDPOINTS\tREVISION\t".to_owned()];
    for Item { revision, object } in items {
        let endpoints: Vec<&str> = object.endpoints.iter().map(|e| e.id.as_str()).collect();
        lines.push(format!(
            "{}\t{}\t{}\t{}\t{}\t{revision}\t",
            object.id.as_str(),
            object.tenant.as_ref().map_or("-", |t| t.as_str()),
            object.kind.name(),
            object.severity.as_str(),
            if endpoints.is_empty() {
                "-".to_owned()
            } else {
                endpoints.join(",")
            },
        ));
    }
    align(&lines)
}

/// The tenant table: `TENANT  STATE  DESIRED  APPLIED  RULES  LAST APPLIED  ERROR`
/// (sync ids shortened to 12 characters, as git shortens hashes).
fn format_tenants(reports: &[TenantReport]) -> String {
    let short = |id: &Option<String>| {
        id.as_deref()
            .map_or("-".to_owned(), |s| s.chars().take(12).collect())
    };
    let mut lines =
        vec!["TENANT\tSTATE\tDESIRED\tAPPLIED\tRULES\tLAST APPLIED\tERROR\t".to_owned()];
    for r in reports {
        let state = match r.state {
            TenantState::Applying => "applying",
            TenantState::InSync => "in-sync",
            TenantState::Failed => "failed",
        };
        let rules = r.rules.as_ref().map_or("-".to_owned(), |rules| {
            format!(
                "{} group{}{}",
                rules.groups.len(),
                if rules.groups.len() == 1 { "" } else { "s" },
                if rules.confirmed {
                    ""
                } else {
                    " (unconfirmed)"
                }
            )
        });
        let error: String = r
            .last_error
            .as_deref()
            .map_or("-".to_owned(), |e| e.replace(['\t', '\n'], " "));
        lines.push(format!(
            "{}\t{state}\t{}\t{}\t{rules}\t{}\t{error}\t",
            r.tenant.as_deref().unwrap_or("(no tenant)"),
            short(&r.desired_sync_id),
            short(&r.applied_sync_id),
            r.last_applied.as_deref().unwrap_or("-"),
        ));
    }
    align(&lines)
}

async fn list_tenants(gateway: &Gateway, args: &TenantsArgs) -> Result<String, String> {
    let reports: Vec<TenantReport> = match &args.tenant {
        Some(t) => vec![
            gateway
                .json(gateway.http.get(gateway.url(&["api", "v1", "tenants", t])?))
                .await?,
        ],
        None => {
            #[derive(Deserialize)]
            struct Tenants {
                tenants: Vec<TenantReport>,
            }
            let all: Tenants = gateway
                .json(gateway.http.get(gateway.url(&["api", "v1", "tenants"])?))
                .await?;
            all.tenants
        }
    };
    match args.output {
        ListFormat::Simple => Ok(format_tenants(&reports)),
        ListFormat::Json => document(&reports, DocumentFormat::Json),
    }
}

/// A value as YAML or indented JSON, ending in a newline.
fn document(value: &impl Serialize, format: DocumentFormat) -> Result<String, String> {
    let mut text = match format {
        DocumentFormat::Yaml => yaml_serde::to_string(value).map_err(|e| e.to_string())?,
        DocumentFormat::Json => serde_json::to_string_pretty(value).map_err(|e| e.to_string())?,
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

async fn apply_spec(gateway: &Gateway, body: &Value, dry_run: bool) -> Result<String, String> {
    let mut url = gateway.url(&["api", "v1", "spec"])?;
    if dry_run {
        url.query_pairs_mut().append_pair("dry_run", "true");
    }
    let plan: Plan = gateway.json(gateway.http.put(url).json(body)).await?;
    Ok(format_plan(&plan))
}

async fn get_spec(gateway: &Gateway, format: DocumentFormat) -> Result<String, String> {
    let url = gateway.url(&["api", "v1", "spec"])?;
    match format {
        DocumentFormat::Yaml => {
            let request = gateway.http.get(url).header(ACCEPT, "application/yaml");
            let mut text = gateway.text(request).await?;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            Ok(text)
        }
        DocumentFormat::Json => {
            let spec: Value = gateway.json(gateway.http.get(url)).await?;
            document(&spec, format)
        }
    }
}

async fn list_conditions(gateway: &Gateway, args: &ConditionListArgs) -> Result<String, String> {
    let mut url = gateway.url(&["api", "v1", "conditions"])?;
    for (name, value) in [
        ("tenant", &args.tenant),
        ("severity", &args.severity),
        ("kind", &args.kind),
    ] {
        if let Some(value) = value {
            url.query_pairs_mut().append_pair(name, value);
        }
    }
    let listing: Listing<AlertCondition> = gateway.json(gateway.http.get(url)).await?;
    match args.output {
        ListFormat::Simple => Ok(format_conditions(&listing.items)),
        ListFormat::Json => document(&listing.items, DocumentFormat::Json),
    }
}

async fn get_condition(
    gateway: &Gateway,
    id: &str,
    format: DocumentFormat,
) -> Result<String, String> {
    let url = gateway.url(&["api", "v1", "conditions", id])?;
    let value: Value = gateway.json(gateway.http.get(url)).await?;
    // Read as a condition, it prints in the condition's own field order.
    match serde_json::from_value::<AlertCondition>(value.clone()) {
        Ok(condition) => document(&condition, format),
        Err(_) => document(&value, format),
    }
}

async fn delete_condition(
    gateway: &Gateway,
    id: &str,
    if_match: Option<u64>,
) -> Result<String, String> {
    let url = gateway.url(&["api", "v1", "conditions", id])?;
    let mut request = gateway.http.delete(url);
    if let Some(revision) = if_match {
        request = request.header(IF_MATCH, format!("\"{revision}\""));
    }
    #[derive(Deserialize)]
    struct Deleted {
        revision: u64,
    }
    let deleted: Deleted = gateway.json(request).await?;
    Ok(format!(
        "Deleted conditions/{id} at revision {}.\n",
        deleted.revision
    ))
}

/// Reads a token file as the gateway reads its own: surrounding whitespace trimmed, an
/// empty token refused. Messages never show the token.
fn read_token(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--gateway.token-file {shown}: {e}"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("--gateway.token-file {shown}: the file is empty"));
    }
    Ok(token.to_owned())
}

/// A client of one gateway.
struct Gateway {
    http: reqwest::Client,
    base: Url,
    /// The URL as messages show it (userinfo and secret parameters redacted).
    shown: String,
    /// The URL as given, to scrub from messages.
    given: String,
    timeout: String,
    has_token: bool,
}

impl Gateway {
    fn connect(args: &GatewayConnection) -> Result<Gateway, String> {
        let given = args.url.trim().to_owned();
        let shown = redact_url(&given);
        let expected = || format!("--gateway.url {shown}: expected an http:// or https:// URL");
        if !given.contains("://") {
            return Err(expected());
        }
        let base = Url::parse(&given).map_err(|e| format!("--gateway.url {shown}: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(expected());
        }
        let timeout: alert_core::Duration = args
            .timeout
            .parse()
            .map_err(|e: alert_core::Error| format!("--timeout: {e}"))?;
        let mut headers = HeaderMap::new();
        let has_token = match &args.token_file {
            Some(path) => {
                let token = read_token(path)?;
                let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    format!(
                        "--gateway.token-file {}: the token holds characters an HTTP header cannot carry",
                        path.display()
                    )
                })?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
                true
            }
            None => false,
        };
        let timeout_std: Duration = timeout.to_std();
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(timeout_std)
            .connect_timeout(timeout_std)
            // The token goes to the URL given, never to where a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("alertctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {}", e.without_url()))?;
        Ok(Gateway {
            http,
            base,
            shown,
            given,
            timeout: args.timeout.clone(),
            has_token,
        })
    }

    /// The base URL with `segments` appended to its path, each percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url, String> {
        let mut url = self.base.clone();
        url.set_query(None);
        url.path_segments_mut()
            .map_err(|()| format!("--gateway.url {}: cannot be a base URL", self.shown))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends `request`; a transport failure or an answer other than 2xx is an error.
    async fn send(&self, request: RequestBuilder) -> Result<Response, String> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| {
                let text = body.trim();
                if text.is_empty() {
                    status.canonical_reason().unwrap_or("no message").to_owned()
                } else {
                    text.chars().take(500).collect()
                }
            });
        let mut text = format!("gateway answered {}: {message}", status.as_u16());
        if status == reqwest::StatusCode::UNAUTHORIZED && !self.has_token {
            text.push_str(" (give the token with --gateway.token-file)");
        }
        Err(self.scrub(text))
    }

    async fn text(&self, request: RequestBuilder) -> Result<String, String> {
        let response = self.send(request).await?;
        response.text().await.map_err(|e| self.reading(e))
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, String> {
        let text = self.text(request).await?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "the answer of the gateway at {} does not read: {e}",
                self.shown
            )
        })
    }

    fn transport(&self, e: reqwest::Error) -> String {
        if e.is_timeout() {
            return format!(
                "the gateway at {} did not answer within {} (--timeout)",
                self.shown, self.timeout
            );
        }
        format!(
            "cannot reach the gateway at {}: {}",
            self.shown,
            self.cause(e)
        )
    }

    fn reading(&self, e: reqwest::Error) -> String {
        format!(
            "reading the answer of the gateway at {}: {}",
            self.shown,
            self.cause(e)
        )
    }

    /// What went wrong at the bottom (the innermost cause, such as `Connection refused
    /// (os error 111)`; reqwest's own layers only say "error sending request"), without
    /// the URL.
    fn cause(&self, e: reqwest::Error) -> String {
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            text = cause.to_string();
            source = cause.source();
        }
        self.scrub(text)
    }

    /// `text` with the URL as given (and as parsed) replaced by its redacted form.
    fn scrub(&self, text: String) -> String {
        let mut text = text;
        for raw in [self.given.as_str(), self.base.as_str()] {
            if !raw.is_empty() && raw != self.shown {
                text = text.replace(raw, &self.shown);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_only_keys_are_left_out_and_unknown_keys_refused() {
        let spec = spec_body(
            "s.yaml".into(),
            "base_config: b.yml\ncondition_group_by: [x]\nslos: []\n",
        )
        .unwrap();
        assert_eq!(spec.left_out, ["base_config", "condition_group_by"]);
        assert_eq!(
            spec.body,
            json!({"endpoints": [], "conditions": [], "slos": []})
        );
        let err = spec_body("s.yaml".into(), "conditions: []\nnope: 1\n").unwrap_err();
        assert!(err.starts_with("s.yaml: unknown field `nope`"), "{err}");
        for empty in ["", "# nothing\n", "history_webhook: http://h/x\n"] {
            let err = spec_body("s.yaml".into(), empty).unwrap_err();
            assert!(err.contains("would delete everything"), "{empty:?}: {err}");
        }
        assert!(spec_body("s.yaml".into(), "- a\n").is_err());
    }

    #[test]
    fn nothing_changed_says_up_to_date() {
        let plan = Plan {
            based_on: 7,
            unchanged: 5,
            ..Plan::default()
        };
        assert_eq!(
            format_plan(&plan),
            "Up to date at revision 7: 0 created, 0 updated, 0 deleted, 5 unchanged.\n"
        );
    }

    #[test]
    fn urls_keep_a_prefix_and_encode_ids() {
        let gateway = Gateway::connect(&GatewayConnection {
            url: "http://u:p@h:9095/gw/?token=abc".into(),
            token_file: None,
            timeout: "5s".into(),
        })
        .unwrap();
        assert_eq!(gateway.shown, "http://<secret>@h:9095/gw/?token=<secret>");
        assert_eq!(
            gateway
                .url(&["api", "v1", "conditions", "a/b c"])
                .unwrap()
                .as_str(),
            "http://u:p@h:9095/gw/api/v1/conditions/a%2Fb%20c"
        );
        assert_eq!(
            gateway.scrub("at http://u:p@h:9095/gw/?token=abc".into()),
            "at http://<secret>@h:9095/gw/?token=<secret>"
        );
        for bad in ["h:9095", "not a url", "ftp://h/"] {
            let err = Gateway::connect(&GatewayConnection {
                url: bad.into(),
                token_file: None,
                timeout: "5s".into(),
            })
            .err()
            .unwrap();
            assert!(err.starts_with("--gateway.url "), "{bad}: {err}");
        }
    }

    #[test]
    fn token_files_are_trimmed_and_never_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  t0k\n").unwrap();
        assert_eq!(read_token(&path).unwrap(), "t0k");
        std::fs::write(&path, " \n").unwrap();
        assert!(
            read_token(&path)
                .unwrap_err()
                .ends_with("the file is empty")
        );
        assert!(read_token(&dir.path().join("missing")).is_err());
    }
}
