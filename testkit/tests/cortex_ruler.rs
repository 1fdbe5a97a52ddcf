//! The ruler configuration API of the Cortex/Mimir fixture: Cortex's and Mimir's paths,
//! status codes and error bodies.

use alert_testkit::cortex::{CortexConfig, CortexFixture};

const GROUP: &str =
    "name: always\nrules:\n- alert: Always\n  expr: vector(1) > 0\n  labels:\n    severity: page\n";
const ACCEPTED: &str = r#"{"status":"success","data":null,"errorType":"","error":""}"#;

#[test]
fn cortex_paths_answer_as_cortex() {
    let cortex = CortexFixture::start();
    // Nothing stored: Cortex answers 404.
    let none = cortex.get("t", "/api/v1/rules");
    assert_eq!(
        (none.status, none.body.as_str()),
        (404, "no rule groups found\n")
    );
    assert_eq!(cortex.get("t", "/api/v1/rules/ns").status, 404);

    let created = cortex.post("t", "/api/v1/rules/ns", GROUP);
    assert_eq!((created.status, created.body.as_str()), (202, ACCEPTED));
    let listed = cortex.get("t", "/api/v1/rules");
    assert_eq!(listed.status, 200);
    let yaml: yaml_serde::Value = yaml_serde::from_str(&listed.body).unwrap();
    assert_eq!(yaml["ns"][0]["name"], "always");
    assert_eq!(yaml["ns"][0]["rules"][0]["expr"], "vector(1) > 0");
    let one = cortex.get("t", "/api/v1/rules/ns/always");
    assert_eq!(one.status, 200);
    assert!(one.body.starts_with("name: always\n"), "{}", one.body);
    // The legacy prefix is the same store; other tenants see nothing.
    assert_eq!(cortex.get("t", "/api/prom/rules/ns/always").status, 200);
    assert_eq!(cortex.get("u", "/api/v1/rules").status, 404);
    assert_eq!(
        cortex.rule_groups("t"),
        [("ns".to_owned(), vec!["always".to_owned()])].into()
    );

    // Refusals, in Cortex's words.
    let undecodable = cortex.post("t", "/api/v1/rules/ns", "rules: 5\n");
    assert_eq!(
        (undecodable.status, undecodable.body.as_str()),
        (400, "unable to decoded rule group\n")
    );
    let unnamed = cortex.post("t", "/api/v1/rules/ns", "rules: []\n");
    assert_eq!(
        unnamed.body,
        "invalid rules config: rule group name must not be empty\n"
    );
    let empty = cortex.post("t", "/api/v1/rules/ns", "name: e\n");
    assert_eq!(
        empty.body,
        "invalid rules config: rule group 'e' has no rules\n"
    );
    let broken = cortex.post(
        "t",
        "/api/v1/rules/ns",
        &GROUP.replace("vector(1) > 0", "up =="),
    );
    assert_eq!(broken.status, 400);
    assert_eq!(
        broken.body,
        "group \"always\", rule 0, \"Always\": could not parse expression: 1:6: parse error: unexpected end of input\n"
    );
    let bad_for = cortex.post("t", "/api/v1/rules/ns", &format!("{GROUP}  for: 5x\n"));
    assert_eq!(bad_for.body, "unable to decoded rule group\n");

    // Deletes: 202, then 404 with the store's words.
    assert_eq!(cortex.delete("t", "/api/v1/rules/ns/always").status, 202);
    let gone = cortex.delete("t", "/api/v1/rules/ns/always");
    assert_eq!(
        (gone.status, gone.body.as_str()),
        (404, "group does not exist\n")
    );
    assert_eq!(cortex.get("t", "/api/v1/rules/ns/always").status, 404);
    let no_ns = cortex.delete("t", "/api/v1/rules/ns");
    assert_eq!(
        (no_ns.status, no_ns.body.as_str()),
        (404, "group namespace does not exist\n")
    );
    // Six POSTs and three DELETEs, refused ones included.
    assert_eq!(cortex.rule_writes(), 9);
}

#[test]
fn mimir_paths_answer_as_mimir() {
    let cortex = CortexFixture::start_with(CortexConfig {
        ruler_max_rules_per_rule_group: 1,
        ruler_max_rule_groups_per_tenant: 2,
        ..CortexConfig::default()
    });
    let base = "/prometheus/config/v1/rules";
    // Nothing stored: Mimir answers 200 and an empty map.
    let none = cortex.get("t", base);
    assert_eq!((none.status, none.body.trim()), (200, "{}"));
    assert_eq!(cortex.get("t", &format!("{base}/ns")).body.trim(), "{}");

    assert_eq!(cortex.post("t", &format!("{base}/ns"), GROUP).status, 202);
    // Names are path-escaped by clients.
    let odd = GROUP.replace("name: always", "name: 'condition:a/b'");
    assert_eq!(cortex.post("t", &format!("{base}/ns"), &odd).status, 202);
    assert_eq!(
        cortex
            .get("t", &format!("{base}/ns/condition%3Aa%2Fb"))
            .status,
        200
    );
    // A third group is over the limit of two (counted as stored + 1).
    let third = GROUP.replace("name: always", "name: third");
    let over = cortex.post("t", &format!("{base}/ns"), &third);
    assert_eq!(
        (over.status, over.body.as_str()),
        (
            400,
            "per-user rule groups limit (limit: 2 actual: 3) exceeded\n"
        )
    );
    let two_rules = format!("{GROUP}- record: r\n  expr: vector(1)\n");
    assert_eq!(
        cortex.post("t", &format!("{base}/ns"), &two_rules).body,
        "per-user rules per rule group limit (limit: 1 actual: 2) exceeded\n"
    );
    assert_eq!(
        cortex.post("t", &format!("{base}/ns"), "[").body,
        "unable to decode rule group\n"
    );
    assert_eq!(
        cortex.post("t", &format!("{base}/ns"), "name: e\n").body,
        "invalid rules configuration: rule group 'e' has no rules\n"
    );
    // Several rule errors are joined.
    let two_bad = "name: g\nrules:\n- alert: A\n  expr: 'up =='\n- alert: B\n  expr: 'down =='\n";
    let joined = cortex.post("t", &format!("{base}/x"), two_bad).body;
    assert!(
        joined.contains("rule 0, \"A\"") && joined.contains(", group \"g\", rule 1, \"B\""),
        "{joined}"
    );

    assert_eq!(cortex.delete("t", &format!("{base}/ns")).status, 202);
    assert_eq!(cortex.get("t", base).body.trim(), "{}");
}

#[test]
fn the_ruler_api_needs_a_tenant() {
    let cortex = CortexFixture::start();
    let answer = alert_testkit::http::get(&format!("{}/api/v1/rules", cortex.url()));
    assert_eq!((answer.status, answer.body.as_str()), (401, "no org id\n"));
}
