//! Where amtool users trip (issue #19): the `alertctl` binary and the real `amtool` 0.25
//! run side by side, with the same arguments, the same `HOME` and one real Alertmanager
//! 0.25 shared by every test here. Covered: label names of the classic matcher grammar
//! (`a:b`), global flags before, between and after the verbs, and amtool's
//! configuration file (Debian's build reads `$HOME/.config/prometheus/amtool.yml`),
//! `config show`, `cluster show`, `config routes` of a running Alertmanager, `silence
//! update` and `silence query --created-by`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use alert_testkit::{Alertmanager, amtool_bin};

const CONFIG: &str =
    "route:\n  receiver: hook\n  group_by: [alertname]\nreceivers:\n  - name: hook\n";

const ROUTES: &str = r#"route:
  receiver: default
  routes:
    - receiver: colon
      matchers: ['a:b="x"']
    - receiver: other
      matchers: ['__name__=~".+"', 'job:rate="1"']
receivers: [{name: default}, {name: colon}, {name: other}]
"#;

/// The one Alertmanager of this test binary (never stopped: the process ends with the
/// test binary's, and the test kit's temporary directory goes with it).
fn shared() -> &'static Alertmanager {
    static AM: OnceLock<Alertmanager> = OnceLock::new();
    AM.get_or_init(|| Alertmanager::start(CONFIG))
}

/// (exit status, stdout, stderr) of one program run with `HOME` set.
type Ran = (i32, String, String);

fn run(program: &Path, home: &Path, args: &[&str]) -> Ran {
    let out = Command::new(program)
        .args(args)
        .env("HOME", home)
        .env("USER", "tester")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// amtool's and alertctl's runs of `args` under `home`.
fn both(home: &Path, args: &[&str]) -> (Ran, Ran) {
    (
        run(&amtool_bin(), home, args),
        run(Path::new(env!("CARGO_BIN_EXE_alertctl")), home, args),
    )
}

/// Both succeed (or both fail) and print the same stdout.
fn same_stdout(home: &Path, args: &[&str]) -> String {
    let (judge, ours) = both(home, args);
    assert_eq!(
        (judge.0, &judge.1),
        (ours.0, &ours.1),
        "{args:?}\namtool stderr: {}\nalertctl stderr: {}",
        judge.2,
        ours.2
    );
    ours.1
}

fn write_amtool_yml(home: &Path, text: &str) {
    let dir = home.join(".config/prometheus");
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(dir.join("amtool.yml"), text).expect("amtool.yml");
}

/// prometheus/common's `LabelSet.Fingerprint`, written out: FNV-1a 64 over the sorted
/// names and values, each followed by 0xff.
fn go_fingerprint(pairs: &[(&str, &str)]) -> String {
    let mut pairs = pairs.to_vec();
    pairs.sort();
    let mut h: u64 = 14695981039346656037;
    for (n, v) in pairs {
        for b in n.bytes().chain([0xff]).chain(v.bytes()).chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(1099511628211);
        }
    }
    format!("{h:016x}\n")
}

#[test]
fn label_arguments_take_the_classic_grammars_names() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let routes = home.join("routes.yml");
    std::fs::write(&routes, ROUTES).expect("routes");
    let file = format!("--config.file={}", routes.display());
    // Routed and tested locally: amtool takes `a:b`.
    for case in [
        vec!["config", "routes", "test", &file, "a:b=x"],
        vec!["config", "routes", "test", &file, "--tree", "a:b=x", "c=d"],
        vec![
            "config",
            "routes",
            "test",
            &file,
            "__name__=up",
            "job:rate=1",
        ],
        vec![
            "config",
            "routes",
            "test",
            &file,
            "--verify.receivers=colon",
            ":=x",
            "a:b=\"x\"",
        ],
        vec!["config", "routes", "test", &file, "1a=x"],
        vec!["config", "routes", "test", &file, "a-b=x"],
        vec!["config", "routes", "test", &file, "a:b=~x"],
    ] {
        same_stdout(home, &case);
    }
    // amtool has no `fingerprint`; the value is prometheus/common's.
    let (code, out, err) = run(
        Path::new(env!("CARGO_BIN_EXE_alertctl")),
        home,
        &["fingerprint", "a:b=x", "alertname=T"],
    );
    assert_eq!(
        (code, out),
        (0, go_fingerprint(&[("a:b", "x"), ("alertname", "T")])),
        "{err}"
    );

    // Against the API, Alertmanager refuses the name for both, with its own message.
    let url = format!("--alertmanager.url={}", shared().base_url());
    for (case, message) in [
        (
            vec!["alert", "add", "Colon", "a:b=x", &url],
            "invalid label set: invalid name \"a:b\"",
        ),
        (
            vec!["silence", "add", "-c", "c", "Colon", "a:b=x", &url],
            "invalid label matcher 1: invalid label name \"a:b\"",
        ),
    ] {
        let (judge, ours) = both(home, &case);
        assert_eq!((judge.0, ours.0), (1, 1), "{case:?}: {judge:?} {ours:?}");
        assert!(judge.2.contains(message), "{case:?}: {}", judge.2);
        assert!(ours.2.contains(message), "{case:?}: {}", ours.2);
    }
    // As filters, the server reads them: both agree.
    for case in [
        vec!["alert", "query", "a:b=x", &url],
        vec!["alert", "query", "Colon", "a:b=~x", &url],
        vec!["silence", "query", "a:b=x", &url],
        vec!["silence", "query", "-o", "json", "a:b!=x", &url],
    ] {
        same_stdout(home, &case);
    }
}

#[test]
fn global_flags_go_before_between_and_after_the_verbs() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let url = format!("--alertmanager.url={}", shared().base_url());
    let (code, _, err) = run(
        &amtool_bin(),
        home,
        &[
            "silence",
            "add",
            "-c",
            "global flags",
            "Global=1",
            "-d",
            "2h",
            &url,
        ],
    );
    assert_eq!(code, 0, "{err}");
    for case in [
        vec![url.as_str(), "-o", "json", "silence", "query", "Global=1"],
        vec!["-o", "extended", "silence", &url, "query", "Global=1"],
        vec![
            "--output=json",
            "--timeout=10s",
            "silence",
            "Global=1",
            &url,
        ],
        vec![
            "--date.format=2006",
            &url,
            "silence",
            "query",
            "-q",
            "Global=1",
        ],
        vec![
            "--date.format=15:04 Jan 2",
            "-o",
            "extended",
            &url,
            "alert",
            "query",
        ],
        vec!["-ojson", &url, "alert"],
        vec![
            "-v",
            "--no-version-check",
            &url,
            "silence",
            "query",
            "Global=1",
        ],
        vec![
            "silence",
            "-v",
            "query",
            "--version-check",
            "Global=1",
            &url,
        ],
        vec![
            "silence",
            "query",
            "Global=1",
            "-o",
            "extended",
            &url,
            "--timeout",
            "5s",
        ],
    ] {
        let out = same_stdout(home, &case);
        assert!(!out.is_empty(), "{case:?}");
    }
    // The version check finds 0.25, so neither warns.
    let (judge, ours) = both(home, &["silence", "query", "Global=1", &url]);
    assert_eq!((judge.2.as_str(), ours.2.as_str()), ("", ""));
    // A command with no use for a global flag ignores it, as amtool does.
    let routes = home.join("routes.yml");
    std::fs::write(&routes, ROUTES).expect("routes");
    let file = format!("--config.file={}", routes.display());
    assert_eq!(
        same_stdout(
            home,
            &[
                "-o", "json", &url, "config", "routes", "test", &file, "a:b=x"
            ]
        ),
        "colon\n"
    );
}

#[test]
fn amtools_config_file_gives_defaults_and_the_command_line_wins() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let base = shared().base_url();
    let routes = home.join("routes.yml");
    std::fs::write(&routes, ROUTES).expect("routes");
    let file = format!("--config.file={}", routes.display());

    // URL and output from the file; -o on the command line wins.
    write_amtool_yml(home, &format!("alertmanager.url: {base}\noutput: json\n"));
    assert!(same_stdout(home, &["silence", "query", "InFile=1"]).starts_with('['));
    assert!(
        same_stdout(home, &["silence", "query", "-o", "simple", "InFile=1"]).starts_with("ID ")
    );
    assert!(same_stdout(home, &["-o", "extended", "alert"]).starts_with("Labels "));

    // author and require-comment reach `silence add`; the legacy key works too.
    for (n, yml) in [
        "author: from-file\nrequire-comment: false\n",
        "author: from-file\ncomment_required: false\n",
    ]
    .iter()
    .enumerate()
    {
        write_amtool_yml(home, &format!("alertmanager.url: {base}\n{yml}"));
        let filter = format!("ConfigFile={n}");
        let (judge, ours) = both(home, &["silence", "add", &filter]);
        assert_eq!((judge.0, ours.0), (0, 0), "{yml}: {judge:?} {ours:?}");
        let shown = same_stdout(home, &["silence", "query", "-o", "extended", &filter]);
        assert_eq!(shown.matches("from-file").count(), 2, "{shown}");
        // The command line wins: -a, and a comment required again.
        let (judge, ours) = both(home, &["silence", "add", "--require-comment", &filter]);
        assert_eq!((judge.0, ours.0), (1, 1), "{judge:?} {ours:?}");
        assert!(ours.2.contains("comment required"), "{}", ours.2);
    }

    // Values amtool refuses: `output` for every command, a command's flag only where
    // it applies. alertctl names the file and line.
    write_amtool_yml(home, "timeout: 5s\noutput: bogus\n");
    let (judge, ours) = both(home, &["config", "routes", "test", &file, "a:b=x"]);
    assert_eq!((judge.0, judge.1.as_str()), (ours.0, ours.1.as_str()));
    assert_eq!(ours.0, 1);
    let yml = home.join(".config/prometheus/amtool.yml");
    assert_eq!(
        ours.2,
        format!(
            "alertctl: error: {}: line 2: output: enum value must be one of simple,extended,json, got 'bogus'\n",
            yml.display()
        )
    );
    write_amtool_yml(
        home,
        &format!("alertmanager.url: {base}\nrequire-comment: nope\n"),
    );
    let (judge, ours) = both(home, &["silence", "add", "-c", "x", "Bad=1"]);
    assert_eq!((judge.0, ours.0), (1, 1));
    assert!(
        ours.2
            .contains(&format!("{}: line 2: require-comment:", yml.display())),
        "{}",
        ours.2
    );
    same_stdout(home, &["silence", "query", "Bad=1"]);
    write_amtool_yml(home, "output: [json]\n");
    let (judge, ours) = both(home, &["silence", "query", "InFile=1"]);
    assert_eq!((judge.0, ours.0), (1, 1));
    assert!(ours.2.contains("line 1 column 9"), "{}", ours.2);

    // `config.file` is a flag of `config routes`, not of `routes test`: amtool does not
    // apply it there (and then asks the Alertmanager at localhost:9093); alertctl does
    // not apply it either.
    write_amtool_yml(home, &format!("config.file: {}\n", routes.display()));
    let (judge, ours) = both(home, &["config", "routes", "test", "a:b=x"]);
    assert_eq!((judge.0, ours.0), (1, 1), "{judge:?} {ours:?}");

    // Upstream's path is not read by Debian's amtool, nor by alertctl.
    std::fs::remove_file(&yml).expect("remove");
    let upstream = home.join(".config/amtool");
    std::fs::create_dir_all(&upstream).expect("dir");
    std::fs::write(upstream.join("config.yml"), "output: bogus\n").expect("write");
    let url = format!("--alertmanager.url={base}");
    same_stdout(home, &["silence", "query", "Nothing=1", &url]);
}

/// Serves `status` for `GET /api/v2/status` and `[]` for anything else, on a loopback
/// port, until the test binary ends. Stands in for an Alertmanager of another version.
fn serve_status(status: String) -> String {
    serve_recording(status).0
}

/// [`serve_status`], also recording each request's `Authorization` header (`""` when it
/// has none).
fn serve_recording(status: String) -> (String, Arc<Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut line = String::new();
            let mut authorization = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("authorization")
                {
                    authorization = value.trim().to_owned();
                }
                line.clear();
            }
            record.lock().expect("record").push(authorization);
            let body = if request_line.contains("/api/v2/status") {
                status.as_str()
            } else {
                "[]"
            };
            let _ = write!(
                &stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

#[test]
fn another_alertmanager_version_is_warned_of_unless_unchecked() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let real = ureq::get(&format!("{}/api/v2/status", shared().base_url()))
        .call()
        .expect("status")
        .body_mut()
        .read_to_string()
        .expect("body");
    assert!(real.contains("\"version\":\"0.25.0\""), "{real}");
    let url = serve_status(real.replace("\"version\":\"0.25.0\"", "\"version\":\"0.27.0\""));
    let flag = format!("--alertmanager.url={url}");
    let (judge, ours) = both(home, &["silence", "query", &flag]);
    assert_eq!((judge.0, &judge.1), (ours.0, &ours.1));
    assert!(
        judge
            .2
            .contains("alertmanager version (0.27.0) are different"),
        "{}",
        judge.2
    );
    assert!(
        ours.2.contains("alertmanager version (0.27.0) is not 0.25"),
        "{}",
        ours.2
    );
    // --no-version-check, on the command line or in the config file, silences both.
    let (judge, ours) = both(home, &["--no-version-check", "silence", "query", &flag]);
    assert_eq!((judge.2.as_str(), ours.2.as_str()), ("", ""));
    write_amtool_yml(home, "version-check: false\n");
    let (judge, ours) = both(home, &["alert", "query", &flag]);
    assert_eq!((judge.0, &judge.1), (ours.0, &ours.1));
    assert_eq!((judge.2.as_str(), ours.2.as_str()), ("", ""));
}

/// `config [show]` and `cluster [show]` read the running Alertmanager's status as amtool
/// does; `config routes` without `--config.file` routes with its running configuration.
#[test]
fn config_show_cluster_show_and_routes_of_a_running_alertmanager() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let url = format!("--alertmanager.url={}", shared().base_url());
    let shown = same_stdout(home, &["config", "show", &url]);
    assert!(shown.starts_with("global:\n"), "{shown}");
    assert_eq!(
        same_stdout(home, &["config", &url]),
        shown,
        "show is the default"
    );
    let json = same_stdout(home, &["-o", "json", "config", &url]);
    assert!(json.contains("\"versionInfo\":{"), "{json}");
    // Extended: amtool 0.25 prints Go pointers for the configuration and the version
    // fields (a bug); alertctl prints their values. The keys and the uptime agree.
    let (judge, ours) = both(home, &["config", "show", "-o", "extended", &url]);
    assert_eq!((judge.0, ours.0), (0, 0), "{}\n{}", judge.2, ours.2);
    let tail = |text: &str| -> Vec<String> {
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len() - 7..]
            .iter()
            .map(|l| l.to_string())
            .collect()
    };
    let (theirs, mine) = (tail(&judge.1), tail(&ours.1));
    let keys = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .map(|l| l.split(' ').next().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(keys(&theirs), keys(&mine));
    assert_eq!(theirs[6], mine[6], "uptime");
    assert!(mine.contains(&"version 0.25.0".to_owned()), "{mine:?}");
    assert!(ours.1.starts_with(&shown), "{}", ours.1);

    // Routes of the running configuration.
    for args in [
        vec!["config", "routes", &url],
        vec!["config", "routes", "show", &url],
        vec!["config", "routes", "test", &url, "alertname=x"],
        vec!["config", "routes", "test", "--tree", &url, "alertname=x"],
    ] {
        same_stdout(home, &args);
    }

    // A clustered member: state, node name and peers.
    let clustered = Alertmanager::builder(CONFIG).clustered().start();
    let url = format!("--alertmanager.url={}", clustered.base_url());
    let simple = same_stdout(home, &["cluster", "show", &url]);
    assert!(simple.starts_with("Cluster Status:  "), "{simple}");
    assert_eq!(same_stdout(home, &["cluster", &url]), simple);
    let extended = same_stdout(home, &["cluster", "-o", "extended", &url]);
    assert!(extended.contains("\nAddress "), "{extended}");
    let json = same_stdout(home, &["cluster", "-o", "json", &url]);
    assert!(json.contains("\"peers\":[{\"address\":"), "{json}");
    // And one with gossip off.
    let url = format!("--alertmanager.url={}", shared().base_url());
    for output in ["simple", "extended", "json"] {
        same_stdout(home, &["cluster", "-o", output, &url]);
    }
}

/// `silence update` changes what amtool changes and prints what amtool prints (the ids
/// aside); `silence query --created-by` keeps one author's silences.
#[test]
fn silence_update_and_query_by_creator_as_amtool() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let url = format!("--alertmanager.url={}", shared().base_url());
    let add = |author: &str| -> String {
        let (code, out, err) = run(
            &amtool_bin(),
            home,
            &[
                "silence",
                "add",
                &url,
                "-a",
                author,
                "-c",
                "first",
                "--start=2030-01-01T00:00:00Z",
                "--end=2030-01-01T01:00:00Z",
                "Update=1",
            ],
        );
        assert_eq!(code, 0, "{err}");
        out.trim().to_owned()
    };
    let (a, b) = (add("alice"), add("alice"));
    let bob = add("bob");

    // --created-by.
    let by = |who: &str| -> (Vec<String>, Vec<String>) {
        let flag = format!("--created-by={who}");
        let (judge, ours) = both(home, &["silence", "query", "-q", &flag, &url, "Update=1"]);
        assert_eq!((judge.0, ours.0), (0, 0), "{}\n{}", judge.2, ours.2);
        let sorted = |s: &str| {
            let mut v: Vec<String> = s.lines().map(str::to_owned).collect();
            v.sort();
            v
        };
        (sorted(&judge.1), sorted(&ours.1))
    };
    let (judge, ours) = by("alice");
    assert_eq!(judge, ours);
    let mut alice = vec![a.clone(), b.clone()];
    alice.sort();
    assert_eq!(ours, alice);
    assert_eq!(by("bob").1, [bob]);

    // The same update on twin silences, one by each tool: the same output, ids aside.
    let amtool_bin = amtool_bin();
    let alertctl = Path::new(env!("CARGO_BIN_EXE_alertctl"));
    for (extra, output) in [
        (vec!["-c", "second", "--end=2030-01-01T02:00:00Z"], "simple"),
        (vec!["-d", "3h"], "extended"),
        (vec!["--start=2030-01-01T00:30:00Z", "-c", "third"], "json"),
    ] {
        let mut shown = Vec::new();
        for (program, id) in [(amtool_bin.as_path(), &a), (alertctl, &b)] {
            let mut args = vec!["silence", "update", &url, "-o", output];
            args.extend(extra.iter().copied());
            args.push(id);
            let (code, out, err) = run(program, home, &args);
            assert_eq!(code, 0, "{args:?}: {err}");
            shown.push(out.replace(id.as_str(), "ID"));
        }
        if output == "json" {
            // The silence as read before the update: updatedAt differs between the twins.
            let strip = |s: &str| -> serde_json::Value {
                let mut v: serde_json::Value = serde_json::from_str(s).expect("json");
                v[0]["updatedAt"] = serde_json::Value::Null;
                v
            };
            assert_eq!(strip(&shown[0]), strip(&shown[1]));
        } else {
            assert_eq!(shown[0], shown[1], "{extra:?}");
        }
    }
    // Both twins read back alike (equal end times: compared as sets of lines).
    let (judge, ours) = both(
        home,
        &[
            "silence",
            "query",
            "-o",
            "extended",
            &url,
            "Update=1",
            "--created-by=alice",
        ],
    );
    let lines = |s: &str| {
        let mut v: Vec<String> = s.lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    assert_eq!(lines(&judge.1), lines(&ours.1));
    assert_eq!(ours.1.lines().count(), 3, "{}", ours.1);

    // Refusals: no id, a zero duration, a start after the end.
    for args in [
        vec!["silence", "update", url.as_str()],
        vec!["silence", "update", url.as_str(), "-d", "0s", &a],
        vec![
            "silence",
            "update",
            url.as_str(),
            "--start=2031-01-01T00:00:00Z",
            &a,
        ],
    ] {
        let (judge, ours) = both(home, &args);
        assert_eq!(
            (judge.0, ours.0),
            (1, 1),
            "{args:?}: {}\n{}",
            judge.2,
            ours.2
        );
        let said = judge.2.trim().trim_start_matches("amtool: error: ");
        assert!(
            ours.2.contains(said),
            "{args:?}: amtool says {said:?}, alertctl {}",
            ours.2
        );
    }
}

/// `-o extended` with values holding newlines (an annotation, a silence comment): Go's
/// tabwriter cuts the line there and aligns what follows as new lines; so does alertctl.
#[test]
fn extended_output_pads_multi_line_values_as_amtool() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let am = shared();
    let url = format!("--alertmanager.url={}", am.base_url());
    am.post_alerts(&serde_json::json!([
        {"labels": {"alertname": "MultiLine", "instance": "a"},
         "annotations": {"summary": "first line\nsecond line", "runbook": "x"}},
        {"labels": {"alertname": "MultiLine", "instance": "bb"},
         "annotations": {"summary": "one line"}},
    ]))
    .ensure_success();
    let shown = same_stdout(
        home,
        &["alert", "query", "-o", "extended", &url, "MultiLine"],
    );
    assert!(shown.contains("second line"), "{shown}");
    let (code, _, err) = run(
        &amtool_bin(),
        home,
        &[
            "silence",
            "add",
            &url,
            "-c",
            "why:\nbecause",
            "--start=2030-01-01T00:00:00Z",
            "--end=2030-01-01T01:00:00Z",
            "MultiLine=1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    for output in ["simple", "extended"] {
        let shown = same_stdout(
            home,
            &["silence", "query", "-o", output, &url, "MultiLine=1"],
        );
        assert!(shown.contains("because"), "{shown}");
    }
}

/// Without `-a`, the author is the OS user as amtool finds it (its passwd entry, not
/// `$USER`, which these runs set to `tester`).
#[test]
fn the_default_author_is_the_os_user() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let url = format!("--alertmanager.url={}", shared().base_url());
    let (judge, ours) = both(home, &["silence", "add", &url, "-c", "who", "Author=1"]);
    assert_eq!((judge.0, ours.0), (0, 0), "{}\n{}", judge.2, ours.2);
    let json = same_stdout(home, &["silence", "query", "-o", "json", &url, "Author=1"]);
    let silences: serde_json::Value = serde_json::from_str(&json).expect("json");
    let authors: Vec<&str> = silences
        .as_array()
        .expect("silences")
        .iter()
        .map(|s| s["createdBy"].as_str().expect("createdBy"))
        .collect();
    assert_eq!(authors.len(), 2, "{json}");
    assert_eq!(authors[0], authors[1], "{json}");
    assert_ne!(authors[0], "tester", "{json}");
}

/// Usage errors exit with kingpin's status (1, where clap's is 2) and amtool's prefix.
#[test]
fn usage_errors_exit_as_amtool() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    for args in [
        vec!["--bogus-flag", "silence"],
        vec!["silence", "query", "--bogus"],
        vec!["nosuchcommand"],
        vec!["silence", "add", "-c", "x"],
    ] {
        let (judge, ours) = both(home, &args);
        assert_eq!(
            (judge.0, ours.0),
            (1, 1),
            "{args:?}: {}\n{}",
            judge.2,
            ours.2
        );
        assert!(judge.2.starts_with("amtool: error: "), "{}", judge.2);
        assert!(ours.2.starts_with("alertctl: error: "), "{}", ours.2);
    }
    // Help is not an error.
    let (judge, ours) = both(home, &["--help"]);
    assert_eq!((judge.0, ours.0), (0, 0));
}

/// Errors Alertmanager answers are printed with amtool's go-swagger prefix
/// (`[POST /alerts][400] postAlertsBadRequest  ...`).
#[test]
fn alertmanager_errors_keep_amtools_prefix() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let url = format!("--alertmanager.url={}", shared().base_url());
    for args in [
        vec!["alert", "add", &url, "foo", "a:b=x"],
        vec!["silence", "add", &url, "-c", "hi", "foo", "a:b=x"],
        vec!["alert", "query", &url, "a=\"b"],
        vec![
            "silence",
            "update",
            &url,
            "-c",
            "x",
            "00000000-0000-0000-0000-000000000000",
        ],
    ] {
        let (judge, ours) = both(home, &args);
        assert_eq!((judge.0, ours.0), (1, 1), "{args:?}");
        assert_eq!(
            judge.2.trim_end().replacen("amtool: error: ", "", 1),
            ours.2.trim_end().replacen("alertctl: error: ", "", 1),
            "{args:?}"
        );
    }
}

/// `--http.config.file`: the credentials it names reach the server as amtool sends them
/// (the same `Authorization` header: types, files read relative to the directory above
/// the config's, as prometheus/common 0.39 reads them, and trimmed; basic auth), and a
/// file prometheus/common refuses is refused.
#[test]
fn http_config_file_sends_what_amtool_sends() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let real = shared().get("/api/v2/status").body;
    let (url, seen) = serve_recording(real);
    let url = format!("--alertmanager.url={url}");
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("token"), " tok3n \n").expect("token");
    std::fs::write(dir.path().join("pw"), "s3cret\n").expect("password");
    // prometheus/common 0.39 reads relative names from the directory above the file's.
    std::fs::create_dir(dir.path().join("conf")).expect("conf dir");
    let config = dir.path().join("conf/http.yml");
    let flag = format!("--http.config.file={}", config.display());
    for text in [
        "authorization:\n  credentials_file: token\n",
        "authorization:\n  type: Custom\n  credentials: abc\n",
        "bearer_token: xyz\n",
        "bearer_token_file: token\n",
        "basic_auth:\n  username: u\n  password_file: pw\n",
        "basic_auth:\n  username: u\n  password: p\n",
        "follow_redirects: false\nenable_http2: false\n",
    ] {
        std::fs::write(&config, text).expect("http config");
        let mut sent = Vec::new();
        for program in [
            amtool_bin(),
            Path::new(env!("CARGO_BIN_EXE_alertctl")).to_path_buf(),
        ] {
            seen.lock().expect("seen").clear();
            let (code, _, err) = run(&program, home, &["silence", "query", &url, &flag]);
            assert_eq!(code, 0, "{text}: {}: {err}", program.display());
            let mut headers = seen.lock().expect("seen").clone();
            headers.sort();
            headers.dedup();
            sent.push(headers);
        }
        assert_eq!(sent[0], sent[1], "{text}");
        assert!(!sent[0].is_empty());
    }
    std::fs::write(&config, "bearer_token: a\nbearer_token_file: b\n").expect("http config");
    let (judge, ours) = both(home, &["silence", "query", &url, &flag]);
    assert_eq!((judge.0, ours.0), (1, 1), "{}\n{}", judge.2, ours.2);
    assert!(
        ours.2
            .contains("at most one of bearer_token & bearer_token_file must be configured"),
        "{}",
        ours.2
    );
}
