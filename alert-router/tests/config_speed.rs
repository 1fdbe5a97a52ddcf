//! Parsing and validating a configuration of 100,000 routes. Not a timing assertion:
//! run it in release mode to read the figures,
//! `cargo test --release -p alert-router --test config_speed -- --ignored --nocapture`.
//! The same file also goes through the real `amtool check-config` for comparison.

use std::time::Instant;

use alert_router::config::{Config, Receiver, Route, WebhookConfig};
use alert_router::validate::alertmanager::check;

/// A tree of `1 + teams + teams * per_team` routes: one route per team, each with
/// `per_team` service routes; one service route in ten uses a regex, one in five uses
/// the deprecated `match`, one in seven has `continue`.
pub fn large_config(teams: usize, per_team: usize) -> Config {
    let mut root = Route::new("default");
    root.group_by = Some(vec!["alertname".into(), "cluster".into()]);
    let mut config = Config::default();
    config.receivers.push(Receiver::new("default"));
    for t in 0..teams {
        let name = format!("team-{t}");
        let mut receiver = Receiver::new(name.clone());
        receiver
            .webhook_configs
            .push(WebhookConfig::new(format!("http://hooks.example/{t}")));
        config.receivers.push(receiver);
        let mut team = Route::with_matchers([format!("team=\"{name}\"")]);
        team.receiver = Some(name);
        for s in 0..per_team {
            let mut service = if s % 10 == 0 {
                Route::with_matchers([format!("service=~\"svc-{s}|svc-{}\"", s + 1)])
            } else if s % 5 == 0 {
                let mut r = Route::default();
                r.r#match.insert("service".into(), format!("svc-{s}"));
                r
            } else {
                Route::with_matchers([format!("service=\"svc-{s}\",severity!=\"info\"")])
            };
            service.r#continue = s % 7 == 0;
            if s % 3 == 0 {
                service.group_wait = Some("10s".parse().expect("duration"));
            }
            team.routes.push(service);
        }
        root.routes.push(team);
    }
    config.route = root;
    config
}

#[test]
#[ignore = "a measurement: run in release mode with --ignored --nocapture"]
fn parse_and_validate_100k_routes() {
    let config = large_config(1000, 99);
    assert_eq!(config.route.count(), 100_001);
    let text = config.to_yaml();
    assert_eq!(Config::from_yaml(&text).as_ref(), Ok(&config));
    let start = Instant::now();
    check(&config).expect("valid");
    eprintln!(
        "100,001 routes built in code: validate::alertmanager::check {:.3} s",
        start.elapsed().as_secs_f64()
    );
    measure(
        &format!("100,001 routes, {} bytes of YAML", text.len()),
        &text,
    );
}

/// Times `Config::from_yaml` and `amtool check-config` on `text`.
fn measure(what: &str, text: &str) {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        Config::from_yaml(text).expect("valid");
        best = best.min(start.elapsed().as_secs_f64());
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("large.yml");
    std::fs::write(&path, text).expect("write");
    let start = Instant::now();
    let out = alert_testkit::amtool(["check-config".to_string(), path.display().to_string()]);
    let amtool = start.elapsed().as_secs_f64();
    assert!(out.success(), "{}", out.stdout);
    eprintln!("{what}: parse+validate best of 3 {best:.3} s; amtool check-config {amtool:.3} s");
}

#[test]
#[ignore = "a measurement: run in release mode with --ignored --nocapture"]
fn parse_and_validate_100k_routes_with_distinct_regexes() {
    // Every service route has its own regex: validation compiles each one.
    let mut config = large_config(1000, 99);
    for (t, team) in config.route.routes.iter_mut().enumerate() {
        for (s, service) in team.routes.iter_mut().enumerate() {
            service.matchers = vec![format!("service=~\"svc-{t}-{s}|other-{s}\"")];
        }
    }
    measure("100,001 routes, 99,000 distinct regexes", &config.to_yaml());
}
