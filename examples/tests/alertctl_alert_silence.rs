//! `alertctl alert` and `alertctl silence` against REAL Alertmanager 0.25 processes, with
//! the real `amtool` 0.25 as the judge of output: the same state, queried by both, must
//! print the same bytes, JSON included.

mod alertctl_support;

use alert_testkit::{Alertmanager, Cluster, amtool};
use alertctl_support::alertctl;

const CONFIG: &str =
    "route:\n  receiver: hook\n  group_by: [alertname]\nreceivers:\n  - name: hook\n";

fn both(url: &str, args: &[&str]) -> (String, String) {
    let flag = format!("--alertmanager.url={url}");
    let mut am_args: Vec<&str> = args.to_vec();
    am_args.push(&flag);
    let judge = amtool(&am_args);
    assert!(judge.success(), "amtool {am_args:?}: {}", judge.stderr);
    let (code, ours, err) = alertctl(&am_args);
    assert_eq!(code, 0, "alertctl {am_args:?}: {err}");
    (judge.stdout, ours)
}

#[test]
fn alert_and_silence_output_matches_amtool() {
    let am = Alertmanager::start(CONFIG);
    let url = am.base_url();
    let url_flag = format!("--alertmanager.url={url}");

    // Alerts added by amtool and by alertctl, with fixed start times.
    let added = amtool([
        "alert",
        "add",
        "DiskFull",
        "severity=page",
        "instance=h1",
        "--annotation=summary=disk is full",
        "--start=2024-05-01T10:00:00Z",
        "--generator-url=http://prom/graph",
        url_flag.as_str(),
    ]);
    assert!(added.success(), "{}", added.stderr);
    let (code, _, err) = alertctl(&[
        "alert",
        "add",
        "CpuHigh",
        "severity=ticket",
        "--annotation=summary=cpu <busy> & hot",
        "--start=2024-05-01T11:00:00+02:00",
        "--end=2099-01-01T00:00:00Z",
        &url_flag,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = alertctl(&[
        "alert",
        "add",
        "alertname=Third",
        "--start=2024-05-01T12:00:00Z",
        &url_flag,
    ]);
    assert_eq!(code, 0);

    for output in ["simple", "extended"] {
        let (judge, ours) = both(&url, &["alert", "query", "-o", output]);
        assert_eq!(ours, judge, "alert query -o {output}");
        assert_eq!(judge.lines().count(), 4, "{judge}");
    }
    let (judge, ours) = both(&url, &["alert", "query", "-o", "json"]);
    assert!(judge.contains(r"\u003cbusy\u003e \u0026 hot"), "{judge}");
    assert_eq!(ours, judge, "alert query -o json");
    // Filters, the alertname shorthand, receivers and a custom date format.
    for args in [
        vec!["alert", "query", "DiskFull"],
        vec!["alert", "query", "severity=~page|ticket", "instance!=h2"],
        vec!["alert", "query", "-r", "ho.*"],
        vec!["alert", "query", "-r", "nobody"],
        vec!["alert", "query", "--date.format=Jan _2 15:04:05.000 -07:00"],
        vec!["alert", "--date.format=Mon 02 Jan 2006 3:04PM"],
    ] {
        let (judge, ours) = both(&url, &args);
        assert_eq!(ours, judge, "{args:?}");
    }

    // Silences: alertctl adds, both query.
    let (code, id, err) = alertctl(&[
        "silence",
        "add",
        "DiskFull",
        "instance=~h[0-9]+",
        "-c",
        "replacing disk",
        "-a",
        "ops",
        "--end=2099-01-01T00:00:00Z",
        &url_flag,
    ]);
    assert_eq!(code, 0, "{err}");
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    let added = amtool([
        "silence",
        "add",
        "alertname=CpuHigh",
        "-c",
        "maintenance",
        "-a",
        "me",
        "-d",
        "2h",
        url_flag.as_str(),
    ]);
    assert!(added.success(), "{}", added.stderr);
    let other = added.stdout.trim().to_owned();
    for output in ["simple", "extended"] {
        let (judge, ours) = both(&url, &["silence", "query", "-o", output]);
        assert_eq!(ours, judge, "silence query -o {output}");
    }
    let (judge, ours) = both(&url, &["silence", "query", "-o", "json"]);
    assert_eq!(ours, judge, "silence query -o json");
    let (judge, ours) = both(&url, &["silence", "query", "-q", "DiskFull"]);
    assert_eq!(ours, judge);
    assert_eq!(ours.trim(), id);
    let (judge, ours) = both(&url, &["silence", "query", "--within=3h"]);
    assert_eq!(ours, judge);
    assert!(ours.contains(&other) && !ours.contains(&id), "{ours}");

    // Silenced alerts leave the default (active) query.
    let (judge, ours) = both(&url, &["alert", "query", "-s"]);
    assert_eq!(ours, judge);

    // Expire, then the expired view agrees.
    let (code, _, err) = alertctl(&["silence", "expire", &id, &url_flag]);
    assert_eq!(code, 0, "{err}");
    let (judge, ours) = both(&url, &["silence", "query", "--expired"]);
    assert_eq!(ours, judge);
    assert!(ours.contains(&id));

    // Export with amtool, import with alertctl (force: new ids).
    let exported = amtool(["silence", "query", "-o", "json", url_flag.as_str()]);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &exported.stdout).unwrap();
    let (code, ids, err) = alertctl(&[
        "silence",
        "import",
        "-f",
        file.path().to_str().unwrap(),
        &url_flag,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ids.lines().count(), 1, "{ids}");
    assert_ne!(ids.trim(), other);
}

#[test]
fn errors_are_reported_amtools_way() {
    let am = Alertmanager::start(CONFIG);
    let url_flag = format!("--alertmanager.url={}", am.base_url());
    let (code, _, err) = alertctl(&["silence", "add", "DiskFull", &url_flag]);
    assert_eq!(code, 1);
    assert_eq!(err, "alertctl: error: comment required by config\n");
    let (code, _, err) = alertctl(&["silence", "add", "x", "-c", "c", "-d", "0s", &url_flag]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "alertctl: error: silence duration must be greater than 0\n"
        )
    );
    let (code, _, err) = alertctl(&["silence", "expire", &url_flag]);
    assert_eq!(
        (code, err.as_str()),
        (1, "alertctl: error: no silence IDs specified\n")
    );
    let (code, _, err) = alertctl(&["alert", "add", "a", "b=~c", &url_flag]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "alertctl: error: labels must be specified as key=value pairs\n"
        )
    );
    // A bad filter: the server's 400 and its message, with amtool's go-swagger prefix.
    let (code, _, err) = alertctl(&["alert", "query", "a=\"b", &url_flag]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "alertctl: error: [GET /alerts][400] getAlertsBadRequest  matcher value contains unescaped double quote: a=\"b\n"
        )
    );
    let (code, _, err) = alertctl(&["alert", "--backend", "cortex", &url_flag]);
    assert_eq!(code, 1);
    assert!(err.contains("--tenant is required"), "{err}");
}

#[test]
fn ha_members_get_every_alert_and_a_dead_one_is_named() {
    let mut cluster = Cluster::start(3, CONFIG);
    let urls: Vec<String> = cluster.members().iter().map(|m| m.base_url()).collect();
    let flag = format!("--alertmanager.url={}", urls.join(","));
    let (code, _, err) = alertctl(&[
        "alert",
        "add",
        "HaAlert",
        "--start=2024-05-01T10:00:00Z",
        &flag,
    ]);
    assert_eq!(code, 0, "{err}");
    for m in cluster.members() {
        assert_eq!(m.alerts().len(), 1, "posted to {}", m.base_url());
    }
    let (code, id, err) = alertctl(&["silence", "add", "HaAlert", "-c", "ha", &flag]);
    assert_eq!(code, 0, "{err}");
    cluster.kill(1);
    let (code, out, err) = alertctl(&["silence", "query", "-q", &flag]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), id.trim());
    assert!(
        err.starts_with(&format!("alertctl: warning: {} did not answer", urls[1])),
        "{err}"
    );
    let (code, out, _) = alertctl(&["alert", "query", "-s", &flag]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn cortex_and_mimir_backends_reach_the_tenant() {
    use alert_testkit::cortex::CortexFixture;
    let cortex = CortexFixture::start();
    let body = "alertmanager_config: |\n  route: {receiver: team}\n  receivers: [{name: team}]\n";
    assert_eq!(cortex.post_config("tenant-a", body).status, 201);
    cortex.wait_running("tenant-a");
    let url = format!("--alertmanager.url={}", cortex.url());
    for backend in ["cortex", "mimir"] {
        let (code, _, err) = alertctl(&[
            "alert",
            "add",
            &format!("Via{backend}"),
            "--start=2024-05-01T10:00:00Z",
            "--backend",
            backend,
            "--tenant",
            "tenant-a",
            &url,
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, err) = alertctl(&[
        "alert",
        "query",
        "--backend",
        "mimir",
        "--tenant",
        "tenant-a",
        &url,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Viacortex") && out.contains("Viamimir"),
        "{out}"
    );
    // Another tenant has no Alertmanager: Cortex's 404 and message.
    let (code, _, err) = alertctl(&[
        "alert",
        "query",
        "--backend",
        "cortex",
        "--tenant",
        "other",
        &url,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("HTTP 404: the Alertmanager is not configured"),
        "{err}"
    );
    // The request reached Cortex with the org id, under the prefix.
    assert!(
        cortex
            .requests()
            .iter()
            .any(|r| r.path == "/alertmanager/api/v2/alerts"
                && r.org_id.as_deref() == Some("tenant-a")
                && r.method == "POST")
    );
}
