//! The `alert-gateway` binary's flags: `--help` lists the API, and every bad flag is a
//! clear error before anything starts.

use std::process::Command;

fn gateway(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_alert-gateway"))
        .args(args)
        .output()
        .expect("alert-gateway runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_flag_and_route() {
    let (ok, stdout, _) = gateway(&["--help"]);
    assert!(ok);
    for needle in [
        "--target",
        "--listen",
        "--store",
        "--auth.token-file",
        "--log.format",
        "GET    /api/v1/endpoints",
        "/api/v1/conditions[?tenant=&severity=&kind=]",
        "GET|PUT|DELETE /api/v1/slos/{id}",
        "PUT    /api/v1/spec[?dry_run=true]",
        "/api/v1/store/watch?after=REV",
        "/-/healthy, /-/ready",
        "/metrics",
        "  GET    /api/v1/endpoints ",
        "  POST   /api/v1/conditions/{id}/silence ",
        "  PUT    /api/v1/agents/{tenant}/{agent}/heartbeat ",
        "  GET    /api/v1/backend ",
        "  PUT    /api/v1/backend/workers ",
    ] {
        assert!(
            stdout.contains(needle),
            "--help lacks {needle:?}:\n{stdout}"
        );
    }
}

#[test]
fn bad_flags_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-token");
    std::fs::write(&empty, " \n").unwrap();
    let db = format!("sqlite:{}", dir.path().join("g.db").display());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--auth.token-file".into(),
                empty.display().to_string(),
                "--store".into(),
                db.clone(),
            ],
            "the file is empty",
        ),
        (
            vec![
                "--auth.token-file".into(),
                "/nonexistent/token".into(),
                "--store".into(),
                db.clone(),
            ],
            "--auth.token-file /nonexistent/token",
        ),
        (
            vec!["--target".into(), "bogus".into()],
            "--target \"bogus\": expected all",
        ),
        (
            vec![
                "--store".into(),
                db.clone(),
                "--backend".into(),
                "kubernetes".into(),
            ],
            "--backend \"kubernetes\": expected local or none",
        ),
        (
            vec![
                "--store".into(),
                db.clone(),
                "--backend.peer-timeout".into(),
                "soon".into(),
            ],
            "--backend.peer-timeout \"soon\"",
        ),
        (
            vec![
                "--store".into(),
                db.clone(),
                "--backend.workers".into(),
                "100".into(),
            ],
            "--backend.workers: 100 is out of range",
        ),
        (
            vec![
                "--target".into(),
                "evaluator".into(),
                "--store".into(),
                db.clone(),
                "--evaluator.resend".into(),
                "soon".into(),
            ],
            "--evaluator.resend \"soon\"",
        ),
        (
            vec![
                "--target".into(),
                "evaluator".into(),
                "--store".into(),
                db.clone(),
                "--evaluator.graph".into(),
                "/nonexistent/graph.yml".into(),
            ],
            "--evaluator.graph /nonexistent/graph.yml",
        ),
        (
            vec![
                "--target".into(),
                "control-plane".into(),
                "--store".into(),
                db.clone(),
                "--alertmanager.url".into(),
                "http://admin:hunter2@127.0.0.1:9093".into(),
            ],
            "--alertmanager.config-file: give one file per --alertmanager.url (1)",
        ),
        (
            vec![
                "--target".into(),
                "control-plane".into(),
                "--store".into(),
                db.clone(),
                "--alertmanager.backend".into(),
                "cortex".into(),
                "--alertmanager.url".into(),
                "http://a:9009".into(),
                "--alertmanager.url".into(),
                "http://b:9009".into(),
            ],
            "Cortex and Mimir take one base URL, not 2",
        ),
        (
            vec![
                "--target".into(),
                "control-plane".into(),
                "--store".into(),
                db.clone(),
                "--rules.backend".into(),
                "prometheus".into(),
            ],
            "--rules.backend prometheus needs --prometheus.url and --rules.dir",
        ),
        (
            vec![
                "--target".into(),
                "control-plane".into(),
                "--store".into(),
                db.clone(),
                "--alertmanager.peer-timeout".into(),
                "soon".into(),
            ],
            "--alertmanager.peer-timeout \"soon\"",
        ),
        (
            vec!["--store".into(), "mysql://root:hunter2@db/x".into()],
            "store \"mysql://<secret>@db/x\": expected sqlite:PATH",
        ),
        (
            vec!["--log.format".into(), "text".into()],
            "expected logfmt or json",
        ),
        (
            vec!["--listen".into(), "nowhere".into()],
            "invalid value 'nowhere'",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, stderr) = gateway(&args);
        assert!(!ok, "{args:?} must fail");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in:\n{stderr}"
        );
        assert!(
            !stderr.contains("hunter2"),
            "a password is never printed:\n{stderr}"
        );
    }
}
