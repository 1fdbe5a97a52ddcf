//! `deploy/grafana-history-postgres.json` against a real PostgreSQL database the store
//! wrote: every panel query and every variable query, expanded as Grafana's PostgreSQL
//! data source expands it, runs and returns the rows the seeded episodes call for.
//!
//! **The expansion** ([`grafana_expand`]), in Grafana's order:
//!
//! 1. The frontend (`templateSrv.replace` with the SQL data sources'
//!    `interpolateVariable`) replaces `$name`, `${name}`, `${name:format}` and `[[name]]`
//!    of dashboard variables and of the scoped `__interval` / `__interval_ms`; other
//!    names stay as written (`$__timeFilter`…):
//!    - a multi-value or include-All variable: every value quoted, `'v'` with `'`
//!      doubled, joined by `,`;
//!    - a single-value variable (a textbox): its value with `'` doubled, unquoted;
//!    - `:sqlstring`: every value quoted as above and joined by `,`, one value or many;
//!    - All with a custom `allValue`: that text as written, unformatted; All without
//!      one: every option's value, as a multi-value.
//! 2. The backend's global macros (`sqleng.Interpolate`): `$__interval_ms`,
//!    `$__interval`, `$__unixEpochFrom()`, `$__unixEpochTo()`.
//! 3. The PostgreSQL macro engine: each `$name(args)` (`\$([_a-zA-Z0-9]+)\(([^)]*)\)`,
//!    arguments split at `,` and trimmed):
//!    `$__timeFilter(c)` → `c BETWEEN 'FROM' AND 'TO'`, `$__timeFrom()` → `'FROM'`,
//!    `$__timeTo()` → `'TO'` (Go's RFC 3339 with nanoseconds, in UTC),
//!    `$__timeGroup(c, i)` → `floor(extract(epoch from c)/S)*S` (`S` the interval in
//!    seconds), `$__timeGroupAlias(c, i)` → the same with ` AS "time"` (so is
//!    `$__timeGroup` followed by `,`), `$__time(c)` → `c AS "time"`,
//!    `$__unixEpochNanoFrom()` / `To()` → nanoseconds; another macro is an error, as in
//!    Grafana.
//!
//! `$__interval` is what Grafana computes for a time series panel: the larger of the
//! panel's `interval` (1h) and the range over the panel's data points, so 1h for the
//! one-day ranges used here.
#![cfg(feature = "postgres")]

use std::collections::BTreeMap;

use alert_core::{Alert, AlertStatus, LabelSet, Timestamp};
use alert_history::postgres::PostgresStore;
use alert_history::{HistoryStore, Notification};
use alert_testkit::postgres::PostgresServer;
use serde_json::Value;

const DASHBOARD: &str = include_str!("../deploy/grafana-history-postgres.json");

/// What a variable holds when a query runs.
#[derive(Debug, Clone)]
enum Selected {
    /// "All".
    All,
    /// These values (one for a single-value variable).
    Values(Vec<String>),
}

/// A dashboard variable as Grafana holds it.
#[derive(Debug, Clone)]
struct Variable {
    multi: bool,
    include_all: bool,
    all_value: Option<String>,
    /// The values its query found (query variables).
    options: Vec<String>,
    selected: Selected,
}

/// A variable's value as the frontend's formatters see it.
enum JsValue {
    One(String),
    Many(Vec<String>),
}

/// PostgreSQL's `quoteLiteral`: `'v'`, `'` doubled.
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// The SQL data sources' `interpolateVariable` (the default format), or a named format.
fn format_value(value: &JsValue, format: Option<&str>, var: Option<&Variable>) -> String {
    let multi = var.is_some_and(|v| v.multi || v.include_all);
    match (format, value) {
        (None, JsValue::One(s)) if multi => quote(s),
        (None, JsValue::One(s)) => s.replace('\'', "''"),
        (None | Some("sqlstring"), JsValue::Many(vs)) => {
            vs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(",")
        }
        (Some("sqlstring"), JsValue::One(s)) => quote(s),
        (Some(other), _) => panic!("format {other:?} is not expanded by this test"),
    }
}

/// Step 1: the frontend's variable replacement.
fn replace_variables(
    sql: &str,
    vars: &BTreeMap<String, Variable>,
    scoped: &BTreeMap<&str, String>,
) -> String {
    let word = |s: &str| s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    let mut out = String::new();
    let mut rest = sql;
    while let Some(i) = rest.find(['$', '[']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        // (the whole reference, name, format)
        let found: Option<(&str, &str, Option<&str>)> = if let Some(inner) = tail.strip_prefix("${")
        {
            inner.find('}').and_then(|end| {
                let body = &inner[..end];
                let (name, format) = match body.split_once(':') {
                    Some((n, f)) => (n, Some(f)),
                    None => (body, None),
                };
                let is_word = !name.is_empty() && word(name).is_none();
                assert!(!name.contains('.'), "field paths are not expanded: {body}");
                is_word.then_some((&tail[..end + 3], name, format))
            })
        } else if let Some(inner) = tail.strip_prefix("[[") {
            inner.find("]]").and_then(|end| {
                let body = &inner[..end];
                let (name, format) = match body.split_once(':') {
                    Some((n, f)) => (n, Some(f)),
                    None => (body, None),
                };
                (!name.is_empty() && word(name).is_none()).then_some((
                    &tail[..end + 4],
                    name,
                    format,
                ))
            })
        } else if let Some(inner) = tail.strip_prefix('$') {
            let end = word(inner).unwrap_or(inner.len());
            (end > 0).then(|| (&tail[..end + 1], &inner[..end], None))
        } else {
            None
        };
        let Some((whole, name, format)) = found else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        rest = &tail[whole.len()..];
        if let Some(v) = scoped.get(name) {
            out.push_str(&format_value(&JsValue::One(v.clone()), format, None));
            continue;
        }
        let Some(var) = vars.get(name) else {
            out.push_str(whole);
            continue;
        };
        let value = match &var.selected {
            Selected::All => match &var.all_value {
                // A custom all value is inserted as written (its variables replaced).
                Some(all) => {
                    out.push_str(&replace_variables(all, vars, scoped));
                    continue;
                }
                None => JsValue::Many(var.options.clone()),
            },
            Selected::Values(vs) if var.multi => JsValue::Many(vs.clone()),
            Selected::Values(vs) => JsValue::One(vs.first().cloned().unwrap_or_default()),
        };
        out.push_str(&format_value(&value, format, Some(var)));
    }
    out.push_str(rest);
    out
}

/// Go's `time.ParseInterval` for the units used here, in seconds.
fn interval_seconds(text: &str) -> f64 {
    let text = text.trim_matches('\'');
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let n: f64 = text[..split].parse().expect("an interval number");
    let unit = match &text[split..] {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        other => panic!("interval unit {other:?}"),
    };
    n * unit
}

/// A float as Go's `%v` prints the ones used here.
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Steps 2 and 3: the backend's global substitutions and the PostgreSQL macro engine.
fn expand_macros(sql: &str, from: Timestamp, to: Timestamp, interval: &str) -> String {
    let interval_ms = (interval_seconds(interval) * 1000.0) as i64;
    let sql = sql
        .replace("$__interval_ms", &interval_ms.to_string())
        .replace("$__interval", interval)
        .replace("$__unixEpochFrom()", &from.unix_seconds().to_string())
        .replace("$__unixEpochTo()", &to.unix_seconds().to_string());
    let mut out = String::new();
    let mut rest = sql.as_str();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let name_end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let call = (name_end > 0 && tail[name_end..].starts_with('('))
            .then(|| tail[name_end + 1..].find(')'))
            .flatten();
        let Some(close) = call else {
            out.push('$');
            rest = tail;
            continue;
        };
        let mut name = &tail[..name_end];
        let args_text = &tail[name_end + 1..name_end + 1 + close];
        let after = &tail[name_end + 1 + close + 1..];
        if name == "__timeGroup" && after.starts_with(',') {
            name = "__timeGroupAlias";
        }
        let args: Vec<&str> = args_text.split(',').map(str::trim).collect();
        let group = |args: &[&str]| {
            let s = go_float(interval_seconds(args[1]));
            format!("floor(extract(epoch from {})/{s})*{s}", args[0])
        };
        let expanded = match name {
            "__time" => format!("{} AS \"time\"", args[0]),
            "__timeFilter" => format!("{} BETWEEN '{from}' AND '{to}'", args[0]),
            "__timeFrom" => format!("'{from}'"),
            "__timeTo" => format!("'{to}'"),
            "__timeGroup" => group(&args),
            "__timeGroupAlias" => format!("{} AS \"time\"", group(&args)),
            "__unixEpochNanoFrom" => from.unix_nanos().to_string(),
            "__unixEpochNanoTo" => to.unix_nanos().to_string(),
            other => panic!("Grafana knows no macro {other:?}"),
        };
        out.push_str(&expanded);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A query as Grafana's PostgreSQL data source sends it to the server.
fn grafana_expand(
    sql: &str,
    vars: &BTreeMap<String, Variable>,
    (from, to): (Timestamp, Timestamp),
    interval: &str,
) -> String {
    let scoped = BTreeMap::from([
        ("__interval", interval.to_owned()),
        (
            "__interval_ms",
            ((interval_seconds(interval) * 1000.0) as i64).to_string(),
        ),
    ]);
    let sql = expand_macros(&replace_variables(sql, vars, &scoped), from, to, interval);
    assert!(!sql.contains('$'), "left unexpanded: {sql}");
    sql
}

/// Column names and rows (as text) of `sql`, run as Grafana runs it (the simple query
/// protocol), in a session whose time zone is UTC.
fn run(client: &mut postgres::Client, sql: &str) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    let messages = client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{e:?}\n{sql}"));
    for m in messages {
        if let postgres::SimpleQueryMessage::Row(row) = m {
            if columns.is_empty() {
                columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
            }
            rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            );
        }
    }
    (columns, rows)
}

fn t(s: &str) -> Timestamp {
    s.parse().expect("valid timestamp")
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    LabelSet::from_pairs(pairs.iter().copied()).expect("valid labels")
}

fn notification(l: &LabelSet, starts: &str, ends: Option<&str>, received: &str) -> Notification {
    let mut alert = Alert::firing(l.clone(), t(starts));
    if let Some(end) = ends {
        alert.status = AlertStatus::Resolved;
        alert.ends_at = Some(t(end));
    }
    Notification {
        alert,
        receiver: "history".into(),
        received_at: t(received),
    }
}

const ODD: &str = r#"It's "odd""#;

/// Episodes around 2024-05-01 (the period every panel is asked for):
/// - DiskFull db-1, critical: 10:00 to 11:30, resolved;
/// - DiskFull db-2, warning: since 22:00 the day before, open;
/// - CPUHigh web-1, warning: 12:00, superseded at 12:40 by its next start, resolved 13:00;
/// - `It's "odd"` (team o'brien), critical: 15:00 to 15:30;
/// - Old (info) on 2024-04-29, 00:00 to 01:00, and Later (critical) from 2024-05-02 05:00:
///   outside the period.
fn seed(store: &PostgresStore) {
    let disk1 = labels(&[
        ("alertname", "DiskFull"),
        ("instance", "db-1"),
        ("severity", "critical"),
    ]);
    let disk2 = labels(&[
        ("alertname", "DiskFull"),
        ("instance", "db-2"),
        ("severity", "warning"),
    ]);
    let cpu = labels(&[
        ("alertname", "CPUHigh"),
        ("instance", "web-1"),
        ("severity", "warning"),
    ]);
    let odd = labels(&[
        ("alertname", ODD),
        ("team", "o'brien"),
        ("severity", "critical"),
    ]);
    let old = labels(&[("alertname", "Old"), ("severity", "info")]);
    let later = labels(&[("alertname", "Later"), ("severity", "critical")]);
    let batches = [
        vec![
            notification(&old, "2024-04-29T00:00:00Z", None, "2024-04-29T00:00:30Z"),
            notification(
                &old,
                "2024-04-29T00:00:00Z",
                Some("2024-04-29T01:00:00Z"),
                "2024-04-29T01:00:30Z",
            ),
        ],
        vec![notification(
            &disk2,
            "2024-04-30T22:00:00Z",
            None,
            "2024-04-30T22:00:30Z",
        )],
        vec![
            notification(&disk1, "2024-05-01T10:00:00Z", None, "2024-05-01T10:00:30Z"),
            notification(
                &disk1,
                "2024-05-01T10:00:00Z",
                Some("2024-05-01T11:30:00Z"),
                "2024-05-01T11:30:30Z",
            ),
        ],
        vec![notification(
            &cpu,
            "2024-05-01T12:00:00Z",
            None,
            "2024-05-01T12:00:30Z",
        )],
        vec![
            notification(&cpu, "2024-05-01T12:40:00Z", None, "2024-05-01T12:40:30Z"),
            notification(
                &cpu,
                "2024-05-01T12:40:00Z",
                Some("2024-05-01T13:00:00Z"),
                "2024-05-01T13:00:30Z",
            ),
        ],
        vec![
            notification(&odd, "2024-05-01T15:00:00Z", None, "2024-05-01T15:00:30Z"),
            notification(
                &odd,
                "2024-05-01T15:00:00Z",
                Some("2024-05-01T15:30:00Z"),
                "2024-05-01T15:30:30Z",
            ),
            notification(&disk2, "2024-04-30T22:00:00Z", None, "2024-05-01T16:00:00Z"),
        ],
        vec![notification(
            &later,
            "2024-05-02T05:00:00Z",
            None,
            "2024-05-02T05:00:30Z",
        )],
    ];
    for batch in batches {
        store.append(&batch).expect("append");
    }
}

/// The dashboard's queries: `(panel title or "var NAME", format, rawSql)`.
fn queries(dashboard: &Value) -> Vec<(String, String, String)> {
    let ds = serde_json::json!({"type": "grafana-postgresql-datasource", "uid": "${datasource}"});
    let mut out = Vec::new();
    for v in dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
    {
        if v["type"] == "query" {
            assert_eq!(v["datasource"], ds, "{v}");
            let sql = v["query"]
                .as_str()
                .or(v["query"]["rawSql"].as_str())
                .expect("a SQL variable query");
            out.push((
                format!("var {}", v["name"].as_str().expect("name")),
                "table".to_owned(),
                sql.to_owned(),
            ));
        }
    }
    for p in dashboard["panels"].as_array().expect("panels") {
        assert_eq!(p["datasource"], ds, "{}", p["title"]);
        for target in p["targets"].as_array().expect("targets") {
            assert_eq!(target["datasource"], ds, "{}", p["title"]);
            assert_eq!(target["rawQuery"], true);
            out.push((
                p["title"].as_str().expect("title").to_owned(),
                target["format"].as_str().expect("format").to_owned(),
                target["rawSql"].as_str().expect("rawSql").to_owned(),
            ));
        }
    }
    out
}

/// The dashboard's variables, every query variable's options found by its own query.
fn variables(
    dashboard: &Value,
    client: &mut postgres::Client,
    period: (Timestamp, Timestamp),
) -> BTreeMap<String, Variable> {
    let mut vars = BTreeMap::new();
    for v in dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
    {
        let name = v["name"].as_str().expect("name").to_owned();
        let var = match v["type"].as_str() {
            Some("datasource") => {
                assert_eq!(v["query"], "grafana-postgresql-datasource");
                continue;
            }
            Some("query") => {
                let sql = v["query"].as_str().expect("query");
                let (_, rows) = run(client, &grafana_expand(sql, &vars, period, "1h"));
                let mut options: Vec<String> = rows
                    .into_iter()
                    .map(|r| r[0].clone().expect("a value"))
                    .collect();
                assert_eq!(v["sort"], 1, "{name}: sorted by Grafana");
                options.sort();
                Variable {
                    multi: v["multi"] == true,
                    include_all: v["includeAll"] == true,
                    all_value: v["allValue"].as_str().map(str::to_owned),
                    options,
                    selected: Selected::All,
                }
            }
            Some("textbox") => Variable {
                multi: false,
                include_all: false,
                all_value: None,
                options: Vec::new(),
                selected: Selected::Values(vec![v["query"].as_str().unwrap_or("").to_owned()]),
            },
            other => panic!("{name}: variable type {other:?}"),
        };
        vars.insert(name, var);
    }
    vars
}

/// Runs every panel query with `vars` over `period`: rows by panel title.
fn panels(
    dashboard: &Value,
    client: &mut postgres::Client,
    vars: &BTreeMap<String, Variable>,
    period: (Timestamp, Timestamp),
) -> BTreeMap<String, Vec<Vec<Option<String>>>> {
    let mut out = BTreeMap::new();
    for (title, format, sql) in queries(dashboard) {
        if title.starts_with("var ") {
            continue;
        }
        let (columns, rows) = run(client, &grafana_expand(&sql, vars, period, "1h"));
        if format == "time_series" && !rows.is_empty() {
            assert_eq!(columns[0], "time", "{title}: Grafana needs a time column");
        }
        out.insert(title, rows);
    }
    out
}

fn select(vars: &mut BTreeMap<String, Variable>, name: &str, values: &[&str]) {
    let var = vars.get_mut(name).expect("a variable");
    var.selected = if values == ["All"] {
        Selected::All
    } else {
        Selected::Values(values.iter().map(|v| (*v).to_owned()).collect())
    };
}

/// `(start, end, end reason, alertname)` of the episodes table.
fn episode_rows(rows: &[Vec<Option<String>>]) -> Vec<(String, Option<String>, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r[0].clone().expect("start"),
                r[1].clone(),
                r[2].clone().expect("end reason"),
                r[3].clone().expect("alertname"),
            )
        })
        .collect()
}

/// Rows with every column present, as strings.
fn plain(rows: &[Vec<Option<String>>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.clone().expect("a value")).collect())
        .collect()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn every_query_of_the_dashboard_returns_the_seeded_episodes() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    assert_eq!(dashboard["uid"], "alert-history-postgres");
    let titles: Vec<String> = queries(&dashboard).into_iter().map(|q| q.0).collect();
    assert_eq!(
        titles,
        [
            "var alertname",
            "var severity",
            "Episodes active in the period",
            "Episodes started, by alert name",
            "Top firing alerts",
        ]
    );

    let db = PostgresServer::shared().create_database();
    let store = PostgresStore::connect(&db.url()).expect("connect store");
    seed(&store);
    let mut client = postgres::Client::connect(&db.url(), postgres::NoTls).expect("connect");
    client
        .batch_execute("SET TimeZone TO 'UTC'")
        .expect("time zone");
    let day = (t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z"));

    // The variables' own queries: what fired in the period.
    let mut vars = variables(&dashboard, &mut client, day);
    assert_eq!(vars["alertname"].options, ["CPUHigh", "DiskFull", ODD]);
    assert_eq!(vars["severity"].options, ["critical", "warning"]);

    // Everything (All, All, no label filter).
    let got = panels(&dashboard, &mut client, &vars, day);
    let s = |v: &str| v.to_owned();
    assert_eq!(
        episode_rows(&got["Episodes active in the period"]),
        [
            (
                s("2024-05-01 15:00:00+00"),
                Some(s("2024-05-01 15:30:00+00")),
                s("resolved"),
                s(ODD)
            ),
            (
                s("2024-05-01 12:40:00+00"),
                Some(s("2024-05-01 13:00:00+00")),
                s("resolved"),
                s("CPUHigh")
            ),
            (
                s("2024-05-01 12:00:00+00"),
                Some(s("2024-05-01 12:40:00+00")),
                s("superseded"),
                s("CPUHigh")
            ),
            (
                s("2024-05-01 10:00:00+00"),
                Some(s("2024-05-01 11:30:00+00")),
                s("resolved"),
                s("DiskFull")
            ),
            (s("2024-04-30 22:00:00+00"), None, s("open"), s("DiskFull")),
        ]
    );
    // Labels as stored, the newest notification, the receiver.
    let open = got["Episodes active in the period"][4].clone();
    let stored: LabelSet =
        serde_json::from_str(open[4].as_deref().expect("labels")).expect("labels JSON");
    assert_eq!(stored.get("instance"), Some("db-2"));
    assert_eq!(
        (open[5].as_deref(), open[6].as_deref()),
        (Some("2024-05-01 16:00:00+00"), Some("history"))
    );
    // Episodes started per hour (10:00, 12:00 and 15:00 of 2024-05-01), by alertname.
    assert_eq!(
        plain(&got["Episodes started, by alert name"]),
        [
            row(&["1714557600", "DiskFull", "1"]),
            row(&["1714564800", "CPUHigh", "2"]),
            row(&["1714575600", ODD, "1"]),
        ]
    );
    // DiskFull: 90 minutes on db-1 and the whole day on db-2.
    assert_eq!(
        plain(&got["Top firing alerts"]),
        [
            row(&["DiskFull", "2", "91800"]),
            row(&["CPUHigh", "2", "3600"]),
            row(&[ODD, "1", "1800"]),
        ]
    );

    // Two alert names (one with quotes), critical only.
    select(&mut vars, "alertname", &["DiskFull", ODD]);
    select(&mut vars, "severity", &["critical"]);
    let got = panels(&dashboard, &mut client, &vars, day);
    let names = |rows: &[Vec<Option<String>>]| -> Vec<String> {
        episode_rows(rows).into_iter().map(|r| r.3).collect()
    };
    assert_eq!(
        names(&got["Episodes active in the period"]),
        [ODD, "DiskFull"]
    );
    assert_eq!(
        plain(&got["Episodes started, by alert name"]),
        [
            row(&["1714557600", "DiskFull", "1"]),
            row(&["1714575600", ODD, "1"]),
        ]
    );
    assert_eq!(
        plain(&got["Top firing alerts"]),
        [row(&["DiskFull", "1", "5400"]), row(&[ODD, "1", "1800"])]
    );

    // Warning only: CPUHigh's two episodes and the open DiskFull.
    select(&mut vars, "alertname", &["All"]);
    select(&mut vars, "severity", &["warning"]);
    let got = panels(&dashboard, &mut client, &vars, day);
    assert_eq!(
        names(&got["Episodes active in the period"]),
        ["CPUHigh", "CPUHigh", "DiskFull"]
    );
    assert_eq!(
        plain(&got["Top firing alerts"]),
        [
            row(&["CPUHigh", "2", "3600"]),
            row(&["DiskFull", "1", "86400"])
        ]
    );

    // The free label filter, its value with a quote; and on alertname.
    select(&mut vars, "severity", &["All"]);
    select(&mut vars, "label", &["team"]);
    select(&mut vars, "value", &["o'brien"]);
    let got = panels(&dashboard, &mut client, &vars, day);
    assert_eq!(names(&got["Episodes active in the period"]), [ODD]);
    select(&mut vars, "label", &["alertname"]);
    select(&mut vars, "value", &["CPUHigh"]);
    let got = panels(&dashboard, &mut client, &vars, day);
    assert_eq!(
        names(&got["Episodes active in the period"]),
        ["CPUHigh", "CPUHigh"]
    );
    assert_eq!(
        plain(&got["Top firing alerts"]),
        [row(&["CPUHigh", "2", "3600"])]
    );
    select(&mut vars, "label", &["instance"]);
    select(&mut vars, "value", &["db-404"]);
    let got = panels(&dashboard, &mut client, &vars, day);
    assert!(got.values().all(Vec::is_empty), "{got:?}");

    // Two days before: Old only, in the variables and the panels.
    select(&mut vars, "label", &[""]);
    select(&mut vars, "value", &[""]);
    let before = (t("2024-04-29T00:00:00Z"), t("2024-04-30T00:00:00Z"));
    let old_vars = variables(&dashboard, &mut client, before);
    assert_eq!(old_vars["alertname"].options, ["Old"]);
    assert_eq!(old_vars["severity"].options, ["info"]);
    let got = panels(&dashboard, &mut client, &old_vars, before);
    assert_eq!(names(&got["Episodes active in the period"]), ["Old"]);
    assert_eq!(
        plain(&got["Episodes started, by alert name"]),
        [row(&["1714348800", "Old", "1"])]
    );
    assert_eq!(
        plain(&got["Top firing alerts"]),
        [row(&["Old", "1", "3600"])]
    );
}

#[test]
fn the_expansion_is_grafanas() {
    let var = |multi: bool, all_value: Option<&str>, selected: Selected| Variable {
        multi,
        include_all: multi,
        all_value: all_value.map(str::to_owned),
        options: vec!["a".into(), "it's".into()],
        selected,
    };
    let vars = BTreeMap::from([
        (
            "m".to_owned(),
            var(true, None, Selected::Values(vec!["x".into(), "o'k".into()])),
        ),
        ("all".to_owned(), var(true, None, Selected::All)),
        ("custom".to_owned(), var(true, Some("'*'"), Selected::All)),
        (
            "text".to_owned(),
            var(false, None, Selected::Values(vec!["o'k".into()])),
        ),
    ]);
    let from = t("2024-05-01T00:00:00Z");
    let to = t("2024-05-01T06:00:00.5Z");
    let sql = "$m ${m} ${m:sqlstring} [[m]] $all ${custom:sqlstring} '$text' ${text:sqlstring} \
               $nope $__timeFilter(c) $__timeFrom() $__timeTo() $__timeGroupAlias(c, $__interval) \
               $__timeGroup(c, '5m'), $__interval_ms";
    let scoped = BTreeMap::from([("__interval", "1h".to_owned())]);
    assert_eq!(
        replace_variables(sql, &vars, &scoped),
        "'x','o''k' 'x','o''k' 'x','o''k' 'x','o''k' 'a','it''s' '*' 'o''k' 'o''k' \
         $nope $__timeFilter(c) $__timeFrom() $__timeTo() $__timeGroupAlias(c, 1h) \
         $__timeGroup(c, '5m'), $__interval_ms"
    );
    assert_eq!(
        expand_macros(
            "$__timeFilter(c) $__timeFrom() $__timeTo() $__timeGroupAlias(c, 1h) \
             $__timeGroup(c, '5m'), $__interval_ms $__unixEpochNanoFrom()",
            from,
            to,
            "1h"
        ),
        "c BETWEEN '2024-05-01T00:00:00Z' AND '2024-05-01T06:00:00.5Z' '2024-05-01T00:00:00Z' \
         '2024-05-01T06:00:00.5Z' floor(extract(epoch from c)/3600)*3600 AS \"time\" \
         floor(extract(epoch from c)/300)*300 AS \"time\", 3600000 1714521600000000000"
    );
}
