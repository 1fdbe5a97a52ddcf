//! Credentials never printed (issue #20): `--alertmanager.url`'s `user:password@` and
//! secret query parameters in `alertctl alert` and `alertctl silence` messages (held
//! against the real `amtool` 0.25, which prints neither), secrets in `config build`'s
//! type errors, and a backend's error body that echoes what `config sync` posted.

mod alertctl_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use alert_testkit::{Alertmanager, amtool};
use alertctl_support::alertctl;

const PASSWORD: &str = "hunter2-pw";
const TOKEN: &str = "tok-4711-sekrit";

/// Fails naming the secret that `text` shows.
fn assert_no_secret(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{s:?} printed in:\n{text}");
    }
}

#[test]
fn unreachable_alertmanager_is_named_without_credentials_as_amtool_does() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let flag = format!("--alertmanager.url=http://admin:{PASSWORD}@127.0.0.1:1");
    for (args, request) in [
        (vec!["alert", "query"], "127.0.0.1:1/api/v2/alerts"),
        (vec!["silence", "query"], "127.0.0.1:1/api/v2/silences"),
        (vec!["alert", "add", "Cred"], "127.0.0.1:1/api/v2/alerts"),
    ] {
        let mut args = args;
        args.push(&flag);
        let judge = amtool(&args);
        assert!(!judge.success(), "amtool {args:?} reached port 1?");
        // amtool 0.25 names the request without the userinfo …
        assert!(
            judge.stderr.contains(&format!("\"http://{request}")),
            "{}",
            judge.stderr
        );
        assert_no_secret(&judge.stderr, &[PASSWORD, "admin"]);
        // … and so does alertctl, with `<secret>` where the userinfo was.
        let (code, out, err) = alertctl(&args);
        assert_eq!(code, 1, "alertctl {args:?}: {out}");
        assert!(err.starts_with("alertctl: error: "), "{err}");
        assert!(
            err.contains(&format!("http://<secret>@{request}")),
            "alertctl {args:?}: {err}"
        );
        assert_no_secret(&err, &[PASSWORD, "admin"]);
    }
}

#[test]
fn a_url_with_a_token_is_refused_without_showing_it() {
    let flag = format!("--alertmanager.url=http://admin:{PASSWORD}@127.0.0.1:1/am?token={TOKEN}");
    for args in [
        vec!["alert", "query"],
        vec!["silence", "query"],
        vec!["alert", "add", "Cred"],
    ] {
        let mut args = args;
        args.push(&flag);
        let judge = amtool(&args);
        assert!(!judge.success());
        assert_no_secret(&judge.stderr, &[PASSWORD, TOKEN]);
        let (code, _, err) = alertctl(&args);
        assert_eq!(code, 1);
        assert!(
            err.contains("\"http://<secret>@127.0.0.1:1/am?token=<secret>\""),
            "{err}"
        );
        assert_no_secret(&err, &[PASSWORD, TOKEN]);
    }
}

#[test]
fn ha_members_that_fail_are_named_without_credentials() {
    let am = Alertmanager::start(alert_testkit::MINIMAL_CONFIG);
    // Alertmanager 0.25 without a web config ignores the Authorization header.
    let live = am
        .base_url()
        .replace("http://", &format!("http://live:{PASSWORD}@"));
    let dead = format!("http://dead:{PASSWORD}@127.0.0.1:1");
    // Three members (the live one twice), so that a majority answers.
    let flag = format!("--alertmanager.url={live},{},{dead}", am.base_url());
    let (code, _, err) = alertctl(&["silence", "query", &flag]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.starts_with("alertctl: warning: http://<secret>@127.0.0.1:1 did not answer"),
        "{err}"
    );
    assert_no_secret(&err, &[PASSWORD, "dead:"]);

    // No member answers: the quorum error names both, redacted.
    let flag = format!("--alertmanager.url={dead},http://other:{PASSWORD}@127.0.0.1:2");
    let (code, _, err) = alertctl(&["alert", "query", &flag]);
    assert_eq!(code, 1);
    assert!(err.contains("http://<secret>@127.0.0.1:2"), "{err}");
    assert_no_secret(&err, &[PASSWORD]);
}

/// A spec whose endpoints carry secrets.
fn secret_spec(dir: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        r##"
endpoints:
  - id: pager
    pagerduty: {{routing_key: "pd-{TOKEN}"}}
  - id: chat
    slack: {{api_url: "https://hooks.slack.com/services/T0/B0/{TOKEN}-slack", channel: "#ops"}}
  - id: hook
    webhook:
      url: "http://hook:{PASSWORD}@127.0.0.1:1/hook"
      http_config: {{basic_auth: {{username: u, password: "basic-{PASSWORD}"}}}}
conditions:
  - {{id: down, tenant: cluster-a, endpoints: [pager, chat, hook]}}
"##
    );
    let path = dir.join("spec.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_build_type_errors_name_the_field_not_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    for (endpoint, shown) in [
        (
            format!("{{id: pager, pagerduty: \"pd-{TOKEN}\"}}"),
            "endpoints[0].pagerduty: invalid type: string, expected struct PagerDutyEndpoint at line 2 column 28",
        ),
        (
            format!("{{id: chat, slack: \"https://hooks.slack.com/services/T0/B0/{TOKEN}\"}}"),
            "endpoints[0].slack: invalid type: string, expected struct SlackEndpoint at line 2 column 23",
        ),
        (
            format!(
                "{{id: hook, webhook: {{url: \"http://127.0.0.1:1/h\", http_config: {{basic_auth: \"u:{TOKEN}\"}}}}}}"
            ),
            "endpoints[0].webhook.http_config.basic_auth: invalid type: string, expected struct BasicAuth",
        ),
    ] {
        let spec = dir.path().join("bad.yaml");
        std::fs::write(
            &spec,
            format!("endpoints:\n  - {endpoint}\nconditions:\n  - {{id: down, tenant: a, endpoints: [pager]}}\n"),
        )
        .unwrap();
        let (code, _, err) = alertctl(&[
            "config",
            "build",
            "--spec",
            spec.to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
        ]);
        assert_eq!(code, 1);
        assert!(
            err.starts_with(&format!("alertctl: error: {}: {shown}", spec.display())),
            "{err}"
        );
        assert_no_secret(&err, &[TOKEN]);
        // `config sync` builds first and reports the same.
        let (code, _, err) = alertctl(&[
            "config",
            "sync",
            "--spec",
            spec.to_str().unwrap(),
            "--backend",
            "cortex",
            "--alertmanager.url=http://127.0.0.1:1",
        ]);
        assert_eq!(code, 1);
        assert!(err.contains(shown), "{err}");
        assert_no_secret(&err, &[TOKEN]);
    }
}

#[test]
fn base_config_type_errors_leave_the_value_out_but_check_config_keeps_amtools_text() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.yml");
    std::fs::write(
        &base,
        format!("route: {{receiver: x}}\nreceivers:\n  - name: x\n    pagerduty_configs: [\"{TOKEN}\"]\n"),
    )
    .unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "base_config: base.yml\nendpoints:\n  - {id: pager, pagerduty: {routing_key: abc}}\nconditions:\n  - {id: down, tenant: a, endpoints: [pager]}\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let (code, _, err) = alertctl(&[
        "config",
        "build",
        "--spec",
        spec.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.ends_with(": cannot unmarshal !!str into config.plain\n"),
        "{err}"
    );
    assert_no_secret(&err, &["tok-471"]);
    // check-config is amtool's, byte for byte: both print the value's first characters.
    let path = base.to_str().unwrap();
    let judge = amtool(["check-config", path]);
    let (code, out, err) = alertctl(&["check-config", path]);
    assert_eq!(code, 1);
    assert!(
        judge.stdout.contains("!!str `tok-471...`"),
        "{}",
        judge.stdout
    );
    assert_eq!(out, judge.stdout);
    assert_eq!(
        err.trim_start_matches("alertctl"),
        judge.stderr.trim_start_matches("amtool")
    );
}

/// How [`EchoingBackend`] answers a POST.
#[derive(Clone, Copy)]
enum Echo {
    /// 400 with the whole body it was sent.
    Body,
    /// 400 quoting the lines of the body that hold a credential, as a validator that
    /// names the offending value does.
    SecretLines,
}

/// A backend (or a proxy before it) that answers every POST with 400 and what it was
/// sent, and every GET with 404: the worst case for `config sync`'s error column.
struct EchoingBackend {
    url: String,
}

impl EchoingBackend {
    fn start(echo: Echo) -> EchoingBackend {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body);
                let (status, answer) = if request_line.starts_with("POST") {
                    let echoed = match echo {
                        Echo::Body => body.into_owned(),
                        Echo::SecretLines => body
                            .lines()
                            .filter(|l| {
                                ["routing_key", "api_url", "password", "url:"]
                                    .iter()
                                    .any(|k| l.contains(k))
                            })
                            .map(str::trim)
                            .collect::<Vec<_>>()
                            .join("; "),
                    };
                    ("400 Bad Request", format!("invalid request: {echoed}"))
                } else {
                    (
                        "404 Not Found",
                        "alertmanager storage object not found".to_owned(),
                    )
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        EchoingBackend { url }
    }
}

/// `config sync` of the secret spec to `backend`: (exit status, the tenant's row, stdout,
/// stderr).
fn sync_to(backend: &EchoingBackend) -> (i32, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let spec = secret_spec(dir.path());
    let (code, out, err) = alertctl(&[
        "config",
        "sync",
        "--spec",
        spec.to_str().unwrap(),
        "--backend",
        "cortex",
        &format!("--alertmanager.url={}", backend.url),
    ]);
    let row = out.lines().nth(1).unwrap_or_default().trim_end().to_owned();
    (code, row, out, err)
}

#[test]
fn config_sync_never_prints_the_secrets_a_backend_echoes() {
    // A validator that quotes the offending values: each shows as `<secret>`.
    let (code, row, out, err) = sync_to(&EchoingBackend::start(Echo::SecretLines));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(row.starts_with("cluster-a  failed"), "{out}");
    assert!(
        row.ends_with(
            "rejected: invalid request: - api_url: <secret>; password: <secret>; \
             url: http://<secret>@127.0.0.1:1/hook; - routing_key: <secret>"
        ),
        "{row}"
    );
    assert_no_secret(&out, &[TOKEN, PASSWORD]);
    assert_no_secret(&err, &[TOKEN, PASSWORD]);

    // A proxy that echoes the whole configuration: cut short, and still no secret.
    let (code, row, out, err) = sync_to(&EchoingBackend::start(Echo::Body));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        row.contains("rejected: invalid request: template_files"),
        "{row}"
    );
    assert!(row.ends_with(" more bytes)"), "{row}");
    assert_no_secret(&out, &[TOKEN, PASSWORD]);
    assert_no_secret(&err, &[TOKEN, PASSWORD]);
}
