//! Whether a desired configuration is the one running, judged from
//! `GET /api/v2/status`'s `config.original`.
//!
//! `config.original` is not the file's text: Alertmanager parses the file and writes the
//! parsed configuration back as YAML, with every default filled in (`send_resolved: true`,
//! `http_config: {follow_redirects: true, …}`, a `global` full of URLs), durations
//! re-spelled (`90s` becomes `1m30s`), matchers re-quoted and sorted
//! (`severity=page` becomes `severity="page"`), secrets hidden as `<secret>`, template
//! paths made absolute, `bearer_token` moved to `authorization.credentials` and email
//! header names capitalised. So the check is *coverage*: every value the desired YAML
//! sets must appear, equal after those normalisations, at the same place in the running
//! configuration. Keys the desired YAML leaves out (defaults) are not looked at, and a
//! desired empty value (`[]`, `{}`, `""`, `false`, `0`, `null`) also matches a missing key.
//!
//! Lists must have the same length and match element by element, so an added or removed
//! route, receiver or inhibit rule is seen. What coverage cannot see is a change that
//! only *drops* an optional setting (the old running value covers the new desired one);
//! the file backend's reload answer, which comes only after the new file is loaded, covers
//! that case.

use std::str::FromStr;

use alert_core::matcher::{ParserMode, parse_matchers};
use alert_router::config::MONTHS;
use yaml_serde::Value;

use crate::error::{Error, Result};

/// Whether the configuration in `running` (a `config.original`) covers `desired` (the
/// YAML that was written or posted).
///
/// ```
/// use alert_cortex_adapter::config_live::covers;
/// let desired = "route:\n  receiver: hook\n  group_wait: 90s\n  routes:\n  - matchers: [severity=page]\n    receiver: hook\nreceivers:\n- name: hook\n";
/// let running = "global:\n  resolve_timeout: 5m\nroute:\n  receiver: hook\n  continue: false\n  routes:\n  - receiver: hook\n    matchers:\n    - severity=\"page\"\n    continue: false\n  group_wait: 1m30s\nreceivers:\n- name: hook\ntemplates: []\n";
/// assert!(covers(desired, running)?);
/// assert!(!covers(&desired.replace("90s", "30s"), running)?);
/// # Ok::<(), alert_cortex_adapter::Error>(())
/// ```
pub fn covers(desired: &str, running: &str) -> Result<bool> {
    // Alertmanager's `config.original` is the file as loaded: the bytes written are
    // live without parsing either (a large configuration takes tens of milliseconds).
    if desired == running {
        return Ok(true);
    }
    Ok(first_difference(desired, running)?.is_none())
}

/// The first place where `running` does not cover `desired`, as `path: what`, or `None`
/// when it covers it.
pub fn first_difference(desired: &str, running: &str) -> Result<Option<String>> {
    let d = parse(desired, "desired configuration")?;
    let r = parse(running, "running configuration (config.original)")?;
    Ok(diff(&d, &r, "", Context::Other))
}

fn parse(yaml: &str, what: &str) -> Result<Value> {
    let mut v: Value = yaml_serde::from_str(yaml).map_err(|e| Error::Yaml {
        what: what.to_owned(),
        reason: e.to_string(),
    })?;
    v.apply_merge().map_err(|e| Error::Yaml {
        what: what.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(v)
}

/// What the value at hand is, where that changes how it is compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// A list of matcher strings (`matchers`, `source_matchers`, `target_matchers`).
    Matchers,
    /// The top-level `templates` list: running entries are absolute paths.
    Templates,
    /// A mapping whose keys Alertmanager may re-case (email `headers`).
    Headers,
    /// A time interval's `months`: Alertmanager writes month names as numbers.
    Months,
    Other,
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn diff(desired: &Value, running: &Value, path: &str, ctx: Context) -> Option<String> {
    if matches!(desired, Value::Null) {
        return None;
    }
    if running.as_str() == Some("<secret>") {
        return None;
    }
    let here = if path.is_empty() { "(top level)" } else { path };
    match (desired, running) {
        (Value::Tagged(t), _) => diff(&t.value, running, path, ctx),
        (_, Value::Tagged(t)) => diff(desired, &t.value, path, ctx),
        (Value::Mapping(d), Value::Mapping(r)) => {
            for (k, dv) in d {
                let Some(key) = scalar_text(k) else {
                    return Some(format!("{here}: a key that is not a scalar"));
                };
                let found = r.get(k).or_else(|| {
                    // Email header names are canonicalised (`subject` → `Subject`).
                    r.iter()
                        .find(|(rk, _)| {
                            scalar_text(rk).is_some_and(|rk| rk.eq_ignore_ascii_case(&key))
                        })
                        .map(|(_, v)| v)
                });
                let child = child_path(path, &key);
                let child_ctx = match key.as_str() {
                    "matchers" | "source_matchers" | "target_matchers" => Context::Matchers,
                    "templates" if path.is_empty() => Context::Templates,
                    "headers" => Context::Headers,
                    "months" => Context::Months,
                    _ => Context::Other,
                };
                match found {
                    Some(rv) => {
                        if let Some(d) = diff(dv, rv, &child, child_ctx) {
                            return Some(d);
                        }
                    }
                    None if is_empty(dv) => {}
                    // prometheus/common moves `bearer_token(_file)` into `authorization`.
                    None if key.starts_with("bearer_token") && r.get("authorization").is_some() => {
                    }
                    None => {
                        return Some(format!(
                            "{child}: set in the desired configuration, missing from the running one"
                        ));
                    }
                }
            }
            None
        }
        (Value::Sequence(d), Value::Sequence(r)) => match ctx {
            Context::Matchers => {
                let (dm, rm) = (normalise_matchers(d), normalise_matchers(r));
                (dm != rm).then(|| format!("{here}: matchers {dm:?} desired, {rm:?} running"))
            }
            Context::Templates => {
                if d.len() != r.len() {
                    return Some(format!(
                        "{here}: {} templates desired, {} running",
                        d.len(),
                        r.len()
                    ));
                }
                d.iter().zip(r).find_map(|(dv, rv)| {
                    let (dt, rt) = (scalar_text(dv)?, scalar_text(rv)?);
                    let same = rt == dt || rt.ends_with(&format!("/{dt}"));
                    (!same).then(|| format!("{here}: template {dt:?} desired, {rt:?} running"))
                })
            }
            Context::Months => {
                let norm = |v: &[Value]| -> Vec<String> {
                    v.iter()
                        .filter_map(scalar_text)
                        .map(|m| month_range_numbers(&m))
                        .collect()
                };
                let (dm, rm) = (norm(d), norm(r));
                (dm != rm).then(|| format!("{here}: months {dm:?} desired, {rm:?} running"))
            }
            _ => {
                if d.len() != r.len() {
                    return Some(format!(
                        "{here}: {} entries desired, {} running",
                        d.len(),
                        r.len()
                    ));
                }
                d.iter()
                    .zip(r)
                    .enumerate()
                    .find_map(|(i, (dv, rv))| diff(dv, rv, &format!("{path}[{i}]"), Context::Other))
            }
        },
        (Value::Mapping(_) | Value::Sequence(_), _)
        | (_, Value::Mapping(_) | Value::Sequence(_)) => Some(format!(
            "{here}: desired {} but running {}",
            kind(desired),
            kind(running)
        )),
        _ => {
            let (Some(dt), Some(rt)) = (scalar_text(desired), scalar_text(running)) else {
                return Some(format!(
                    "{here}: desired {} but running {}",
                    kind(desired),
                    kind(running)
                ));
            };
            (!scalars_agree(&dt, &rt)).then(|| format!("{here}: desired {dt:?}, running {rt:?}"))
        }
    }
}

/// Equal text, equal numbers, or equal durations (`90s` and `1m30s`).
fn scalars_agree(d: &str, r: &str) -> bool {
    if d == r {
        return true;
    }
    if let (Ok(a), Ok(b)) = (d.parse::<f64>(), r.parse::<f64>()) {
        return a == b;
    }
    matches!(
        (alert_core::Duration::from_str(d), alert_core::Duration::from_str(r)),
        (Ok(a), Ok(b)) if a == b
    )
}

/// Each entry parsed as Alertmanager's config parser reads it (one entry may hold
/// several matchers), written back in its canonical form and sorted. An entry that
/// does not parse is kept as written, so that it still compares.
fn normalise_matchers(entries: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for e in entries {
        let Some(text) = scalar_text(e) else { continue };
        match parse_matchers(&text, ParserMode::Classic) {
            Ok(ms) => out.extend(ms.iter().map(|m| m.to_string())),
            Err(_) => out.push(text),
        }
    }
    out.sort();
    out
}

/// `january:march` → `1:3`, `December` → `12`; numbers are kept.
fn month_range_numbers(range: &str) -> String {
    range
        .split(':')
        .map(|part| {
            let lower = part.trim().to_ascii_lowercase();
            MONTHS
                .iter()
                .position(|m| *m == lower)
                .map_or(lower, |i| (i + 1).to_string())
        })
        .collect::<Vec<_>>()
        .join(":")
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some(String::new()),
        Value::Tagged(t) => scalar_text(&t.value),
        _ => None,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => m.is_empty(),
        Value::Tagged(t) => is_empty(&t.value),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNING: &str = r#"global:
  resolve_timeout: 1m30s
  http_config:
    follow_redirects: true
route:
  receiver: hook
  continue: false
  routes:
  - receiver: hook
    match:
      foo: bar
    matchers:
    - severity="page"
    - team=~"a|b"
    continue: false
  group_wait: 1m30s
receivers:
- name: hook
  webhook_configs:
  - send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials: <secret>
      basic_auth:
        username: u
        password: <secret>
    url: http://127.0.0.1:1/x
    max_alerts: 0
  email_configs:
  - to: a@b
    headers:
      Subject: hi
templates:
- /var/lib/am/tenant-a/default.tmpl
"#;

    const DESIRED: &str = r#"global:
  resolve_timeout: 90s
route:
  receiver: hook
  group_wait: 90s
  routes:
    - matchers: [ 'team=~"a|b"', severity=page ]
      receiver: hook
      match: {foo: bar}
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:1/x
        max_alerts: 0
        http_config:
          bearer_token: tok
          basic_auth: {username: u, password: secretpw}
    email_configs:
      - to: a@b
        headers: {subject: hi}
templates: [default.tmpl]
inhibit_rules: []
"#;

    #[test]
    fn normalised_running_config_covers_the_file() {
        assert_eq!(first_difference(DESIRED, RUNNING).unwrap(), None);
    }

    #[test]
    fn every_kind_of_change_is_seen() {
        let cases = [
            ("group_wait: 90s", "group_wait: 30s", "route.group_wait"),
            (
                "severity=page",
                "severity=ticket",
                "route.routes[0].matchers",
            ),
            ("to: a@b", "to: c@d", "receivers[0].email_configs[0].to"),
            ("{username: u,", "{username: v,", "basic_auth.username"),
            ("[default.tmpl]", "[other.tmpl]", "templates"),
            (
                "  - name: hook\n",
                "  - name: hook\n    slack_configs: [{channel: x}]\n",
                "slack_configs",
            ),
            (
                "inhibit_rules: []",
                "inhibit_rules: [{equal: [a]}]",
                "inhibit_rules",
            ),
        ];
        for (from, to, where_) in cases {
            let changed = DESIRED.replacen(from, to, 1);
            assert_ne!(changed, DESIRED, "{from}");
            let d = first_difference(&changed, RUNNING).unwrap();
            assert!(
                d.as_deref().is_some_and(|d| d.contains(where_)),
                "{from} -> {to}: {d:?}"
            );
        }
    }

    #[test]
    fn extra_routes_are_seen() {
        let more = DESIRED.replace(
            "      match: {foo: bar}\n",
            "      match: {foo: bar}\n    - receiver: hook\n",
        );
        let d = first_difference(&more, RUNNING).unwrap().unwrap();
        assert!(
            d.contains("route.routes: 2 entries desired, 1 running"),
            "{d}"
        );
    }

    #[test]
    fn unreadable_yaml_is_an_error() {
        let err = covers("route: [", RUNNING).unwrap_err().to_string();
        assert!(err.starts_with("desired configuration:"), "{err}");
    }
}
