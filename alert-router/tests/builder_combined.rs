//! The combined configuration for a vanilla Alertmanager and the endpoint test routes,
//! without a real Alertmanager: the combined configuration routes every tenant's alerts
//! to exactly the receivers the tenant's own configuration does (this crate's routing,
//! for generated specs and alerts), passes validation, reads back to the same text and
//! follows incremental updates; test routes sit where the layout says, cover the
//! endpoints they should and send a test alert to its endpoint only.

mod builder_support;

use std::collections::{BTreeMap, BTreeSet};

use alert_core::{
    AlertingSpec, EndpointKind, LabelSet, MsTeamsEndpoint, Secret, SlackEndpoint, strategies,
};
use alert_router::builder::{
    BLACKHOLE_RECEIVER, BuildOptions, Builder, CombinedConfig, DefaultWebhook, ENDPOINT_TEST_LABEL,
    HISTORY_RECEIVER, TenantKey, sync_id,
};
use alert_router::config::{Config, Route};
use alert_router::route::RoutingTree;
use alert_router::rules::TENANT_LABEL;
use alert_router::validate::alertmanager::check;
use builder_support::{BASE_ONLY_LABEL, BASE_RICH, base, case, condition, endpoint, hook, key};
use proptest::prelude::*;

fn three_tenants() -> AlertingSpec {
    AlertingSpec {
        endpoints: vec![
            hook("shared"),
            hook("only-a"),
            hook("only-b"),
            hook("unused"),
        ],
        conditions: vec![
            condition("a1", Some("cluster-a"), &["shared", "only-a"]),
            condition("a2.x", Some("cluster-a"), &["only-a"]),
            condition("b1", Some("cluster-b"), &["only-b", "shared"]),
            condition("c1", Some("cluster-c"), &["only-b"]),
            condition("quiet", Some("cluster-d"), &[]),
            condition("u1", None, &["shared"]),
        ],
        slos: Vec::new(),
    }
}

fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> LabelSet {
    LabelSet::from_pairs(pairs).expect("labels")
}

/// The receivers `tree` routes `alert` to, without the blackhole.
fn receivers(tree: &RoutingTree, alert: &LabelSet) -> BTreeSet<String> {
    tree.receivers(alert)
        .into_iter()
        .filter(|r| *r != BLACKHOLE_RECEIVER)
        .map(str::to_owned)
        .collect()
}

fn tree(yaml: &str) -> RoutingTree {
    let config = Config::from_yaml(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    RoutingTree::new(&config.route).expect("compiles")
}

/// Checks what a combined configuration promises about itself.
fn assert_sound(builder: &Builder, combined: &CombinedConfig) {
    let config =
        Config::from_yaml(&combined.yaml).unwrap_or_else(|e| panic!("{e}\n{}", combined.yaml));
    check(&config).unwrap_or_else(|e| panic!("{e}\n{}", combined.yaml));
    assert_eq!(
        config.to_yaml(),
        combined.yaml,
        "the fast text differs from the model's"
    );
    assert_eq!(combined.sync_id, sync_id(&combined.yaml));
    assert_eq!(combined.routes, config.route.count() - 1);
    assert_eq!(combined.receivers, config.receivers.len());
    let tenants: BTreeMap<TenantKey, String> = builder
        .tenants()
        .map(|t| (t.tenant.clone(), t.sync_id.clone()))
        .collect();
    assert_eq!(combined.tenants, tenants);
    let names: BTreeSet<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), config.receivers.len(), "receivers repeat");
}

/// The alerts the property test routes for `tenant`: every condition id of the spec
/// (the tenant's and the others'), one no condition has and none, each with nothing,
/// with labels the base routes match, and with extra labels; carrying the tenant label
/// of `tenant` (none for conditions bound to no tenant).
fn alerts_of(tenant: &TenantKey, spec: &AlertingSpec, extra: &LabelSet) -> Vec<LabelSet> {
    let mut ids: Vec<Option<&str>> = spec
        .conditions
        .iter()
        .map(|c| Some(c.id.as_str()))
        .collect();
    ids.push(Some("no-such-condition"));
    ids.push(None);
    let base_labels: [&[(&str, &str)]; 4] = [
        &[],
        &[(BASE_ONLY_LABEL, "db"), ("service", "db-1")],
        &[(BASE_ONLY_LABEL, "web")],
        &[(BASE_ONLY_LABEL, "~")],
    ];
    let mut out = Vec::new();
    for id in ids {
        for (i, base) in base_labels.iter().enumerate() {
            let mut map: BTreeMap<String, String> =
                match id.and_then(|id| spec.conditions.iter().find(|c| c.id.as_str() == id)) {
                    Some(c) => c.alert_labels().to_map(),
                    None => BTreeMap::new(),
                };
            if let Some(id) = id {
                map.insert("alert_condition_id".into(), id.into());
            }
            map.insert("alertname".into(), "Generated".into());
            if let Some(t) = tenant.tenant() {
                map.insert(TENANT_LABEL.into(), t.as_str().into());
            }
            for (k, v) in base.iter() {
                map.insert((*k).into(), (*v).into());
            }
            if i == 0 {
                map.extend(extra.to_map());
            }
            out.push(labels(map.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// An alert carrying a tenant's label reaches, through the combined configuration,
    /// exactly the receivers the tenant's own configuration sends it to (the blackhole
    /// aside); so does a test alert of an endpoint the tenant holds.
    #[test]
    fn the_combined_configuration_routes_like_each_tenants_own(
        (spec, options) in case(),
        extra in strategies::labels("x_"),
    ) {
        let builder = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
        let combined = builder.combined().expect("combines");
        assert_sound(&builder, &combined);
        let all = tree(&combined.yaml);
        for tenant in builder.tenants() {
            let own = tree(&tenant.yaml);
            for alert in alerts_of(&tenant.tenant, &spec, &extra) {
                prop_assert_eq!(
                    receivers(&all, &alert),
                    receivers(&own, &alert),
                    "tenant {}, alert {:?}\n{}\n{}",
                    &tenant.tenant,
                    &alert,
                    &tenant.yaml,
                    &combined.yaml
                );
            }
            if options.endpoint_tests {
                let held = Config::from_yaml(&tenant.yaml).expect("reads").receivers;
                for e in &spec.endpoints {
                    let mut map = BTreeMap::from([
                        ("alertname".to_owned(), "EndpointTest".to_owned()),
                        (ENDPOINT_TEST_LABEL.to_owned(), e.id.as_str().to_owned()),
                    ]);
                    if let Some(t) = tenant.tenant.tenant() {
                        map.insert(TENANT_LABEL.into(), t.as_str().into());
                    }
                    let alert = labels(map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    let mut expected = BTreeSet::from([e.id.as_str().to_owned()]);
                    if options.history.is_some() {
                        expected.insert(HISTORY_RECEIVER.to_owned());
                    }
                    prop_assert_eq!(&receivers(&all, &alert), &expected);
                    if held.iter().any(|r| r.name == e.id.as_str()) {
                        prop_assert_eq!(&receivers(&own, &alert), &expected);
                    }
                }
            }
        }
        // Deterministic.
        let again = Builder::from_spec(spec, options).expect("builds");
        prop_assert_eq!(again.combined().expect("combines"), combined);
    }
}

#[test]
fn tenant_routes_hold_their_conditions_in_tenant_order() {
    let options = BuildOptions {
        history: Some(DefaultWebhook::new("http://127.0.0.1:9/history")),
        ..BuildOptions::default()
    };
    let builder = Builder::from_spec(three_tenants(), options).expect("builds");
    let combined = builder.combined().expect("combines");
    assert_sound(&builder, &combined);
    let config = Config::from_yaml(&combined.yaml).expect("reads");
    let root = &config.route;
    assert_eq!(root.receiver.as_deref(), Some(BLACKHOLE_RECEIVER));
    assert_eq!(root.routes[0].receiver.as_deref(), Some(HISTORY_RECEIVER));
    let tenants: Vec<&[String]> = root.routes[1..]
        .iter()
        .map(|r| r.matchers.as_slice())
        .collect();
    // cluster-d has no routed condition, so no route; no tenant sorts first.
    assert_eq!(
        tenants,
        [
            &[
                r#"tenant="""#.to_owned(),
                r#"alert_condition_id=~"u1""#.to_owned()
            ][..],
            &[
                r#"tenant="cluster-a""#.to_owned(),
                r#"alert_condition_id=~"a1|a2[.]x""#.to_owned()
            ],
            &[
                r#"tenant="cluster-b""#.to_owned(),
                r#"alert_condition_id=~"b1""#.to_owned()
            ],
            &[
                r#"tenant="cluster-c""#.to_owned(),
                r#"alert_condition_id=~"c1""#.to_owned()
            ],
        ]
    );
    let a = &root.routes[2];
    assert!(a.r#continue);
    assert_eq!(a.receiver.as_deref(), Some(BLACKHOLE_RECEIVER));
    assert_eq!(
        (a.group_by.as_ref(), a.group_wait, a.group_interval),
        (None, None, None)
    );
    // Exactly the tenant's condition routes, as its own configuration has them.
    let own = builder
        .config(&key(Some("cluster-a")))
        .expect("tenant")
        .expect("config");
    assert_eq!(a.routes[..], own.route.routes[1..]);
    let names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            BLACKHOLE_RECEIVER,
            HISTORY_RECEIVER,
            "only-a",
            "only-b",
            "shared"
        ]
    );
    assert_eq!(combined.tenants.len(), 5);
    assert_eq!(
        combined.tenants[&key(Some("cluster-d"))],
        builder
            .tenant(&key(Some("cluster-d")))
            .expect("kept")
            .sync_id
    );
}

#[test]
fn with_a_base_the_tenant_routes_sit_beside_its_routes_and_its_fallback_stays() {
    let mut options = BuildOptions {
        base: Some(base(BASE_RICH)),
        endpoint_tests: true,
        ..BuildOptions::default()
    };
    let rich = base(BASE_RICH);
    for history in [false, true] {
        if history {
            options.history = Some(DefaultWebhook::new("http://127.0.0.1:9/history"));
        }
        let builder = Builder::from_spec(three_tenants(), options.clone()).expect("builds");
        let combined = builder.combined().expect("combines");
        assert_sound(&builder, &combined);
        let config = Config::from_yaml(&combined.yaml).expect("reads");
        assert_eq!(config.global, rich.global);
        assert_eq!(config.inhibit_rules, rich.inhibit_rules);
        assert_eq!(config.route.receiver, rich.route.receiver);
        let skip = usize::from(history);
        let tests: Vec<&str> = config.route.routes[skip..skip + 4]
            .iter()
            .map(|r| r.receiver.as_deref().unwrap_or_default())
            .collect();
        // Every endpoint, the unused one too.
        assert_eq!(tests, ["only-a", "only-b", "shared", "unused"]);
        let rest: &[Route] = if history {
            assert_eq!(config.route.routes.len(), 1 + 4 + 1);
            let wrapper = &config.route.routes[5];
            assert!(wrapper.is_catch_all() && wrapper.receiver.is_none());
            &wrapper.routes
        } else {
            &config.route.routes[4..]
        };
        assert_eq!(rest.len(), 4 + rich.route.routes.len());
        assert_eq!(rest[4..], rich.route.routes[..]);
        let names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
        let mut expected = vec![BLACKHOLE_RECEIVER];
        if history {
            expected.push(HISTORY_RECEIVER);
        }
        expected.extend([
            "only-a",
            "only-b",
            "shared",
            "unused",
            "base-default",
            "base-db",
            "base-db-page",
            "base-web",
        ]);
        assert_eq!(names, expected);

        let all = tree(&combined.yaml);
        let with_history = |mut r: Vec<&str>| {
            if history {
                r.insert(0, HISTORY_RECEIVER);
            }
            r.into_iter().map(str::to_owned).collect::<BTreeSet<_>>()
        };
        // A condition's alert: its endpoints only, no fallback.
        let a1 = labels([("alert_condition_id", "a1"), (TENANT_LABEL, "cluster-a")]);
        assert_eq!(receivers(&all, &a1), with_history(vec!["shared", "only-a"]));
        // The tenant's other alerts, and alerts of another tenant's condition: the
        // base's root receiver, as the tenant's own configuration sends them.
        for alert in [
            labels([("alertname", "Other"), (TENANT_LABEL, "cluster-a")]),
            labels([("alert_condition_id", "b1"), (TENANT_LABEL, "cluster-a")]),
        ] {
            assert_eq!(receivers(&all, &alert), with_history(vec!["base-default"]));
        }
        // The base's routes still take what they took.
        let db = labels([(BASE_ONLY_LABEL, "db"), (TENANT_LABEL, "cluster-b")]);
        assert_eq!(receivers(&all, &db), with_history(vec!["base-db"]));
    }
}

#[test]
fn endpoint_test_routes_follow_the_history_route_in_every_tenants_configuration() {
    let spec = three_tenants();
    let plain = Builder::from_spec(spec.clone(), BuildOptions::default()).expect("builds");
    let mut options = BuildOptions {
        endpoint_tests: true,
        ..BuildOptions::default()
    };
    let tested = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
    let a = key(Some("cluster-a"));
    let without = Config::from_yaml(&plain.tenant(&a).expect("a").yaml).expect("reads");
    let config = Config::from_yaml(&tested.tenant(&a).expect("a").yaml).expect("reads");
    // First without a history route: one per endpoint the tenant holds, by id.
    assert_eq!(config.route.routes.len(), 2 + without.route.routes.len());
    assert_eq!(config.route.routes[2..], without.route.routes[..]);
    for (route, id) in config.route.routes.iter().zip(["only-a", "shared"]) {
        assert_eq!(route.matchers, [format!("alert_endpoint_test=\"{id}\"")]);
        assert_eq!(route.receiver.as_deref(), Some(id));
        assert_eq!(route.group_by.as_deref(), Some(&["...".to_owned()][..]));
        assert!(!route.r#continue);
        assert_eq!(
            [
                route.group_wait,
                route.group_interval,
                route.repeat_interval
            ]
            .map(|d| d.map(|d| d.to_string())),
            [Some("0s".into()), Some("1m".into()), Some("1h".into())]
        );
        assert!(route.routes.is_empty());
    }
    let tenant = tested.tenant(&a).expect("a");
    assert_eq!(tenant.routes, config.route.count() - 1);
    // A tenant without routed conditions holds no endpoint, so it has no test route.
    let d = key(Some("cluster-d"));
    assert_eq!(tested.tenant(&d), plain.tenant(&d));

    // After the history route when there is one.
    options.history = Some(DefaultWebhook::new("http://127.0.0.1:9/history"));
    let tested = Builder::from_spec(spec, options).expect("builds");
    let config = Config::from_yaml(&tested.tenant(&a).expect("a").yaml).expect("reads");
    let receivers: Vec<&str> = config
        .route
        .routes
        .iter()
        .map(|r| r.receiver.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(receivers[..3], [HISTORY_RECEIVER, "only-a", "shared"]);
    let own = tree(&tested.tenant(&a).expect("a").yaml);
    let test = labels([("alertname", "Test"), (ENDPOINT_TEST_LABEL, "only-a")]);
    assert_eq!(own.receivers(&test), [HISTORY_RECEIVER, "only-a"]);
}

#[test]
fn combined_test_routes_cover_every_endpoint_that_can_be_written() {
    let mut spec = three_tenants();
    spec.endpoints.push(endpoint(
        "teams",
        EndpointKind::MsTeams(MsTeamsEndpoint {
            webhook_url: Secret::new("https://example.org/teams"),
            ..Default::default()
        }),
    ));
    let options = BuildOptions {
        endpoint_tests: true,
        ..BuildOptions::default()
    };
    let mut builder = Builder::from_spec(spec, options).expect("builds");
    let before = builder.combined().expect("combines");
    assert_sound(&builder, &before);
    let config = Config::from_yaml(&before.yaml).expect("reads");
    let tested: Vec<&str> = config
        .route
        .routes
        .iter()
        .filter(|r| {
            r.matchers
                .iter()
                .any(|m| m.starts_with(ENDPOINT_TEST_LABEL))
        })
        .map(|r| r.receiver.as_deref().unwrap_or_default())
        .collect();
    // Teams cannot be written for 0.25 and nothing routes to it: left out.
    assert_eq!(tested, ["only-a", "only-b", "shared", "unused"]);

    // Changing an endpoint no condition uses changes no tenant, but the combined
    // configuration, which tests it.
    let mut unused = hook("unused");
    unused.send_resolved = Some(false);
    assert_eq!(builder.upsert_endpoint(unused).expect("applies"), []);
    let after = builder.combined().expect("combines");
    assert_ne!(after.sync_id, before.sync_id);
    assert_eq!(after.tenants, before.tenants);
    builder
        .remove_endpoint(&"unused".parse().expect("id"))
        .expect("removes");
    let removed = builder.combined().expect("combines");
    assert_eq!(removed.receivers, before.receivers - 1);
    assert_eq!(removed.routes, before.routes - 1);

    // Without endpoint tests, only the endpoints some condition uses.
    let plain = Builder::from_spec(three_tenants(), BuildOptions::default()).expect("builds");
    let config = Config::from_yaml(&plain.combined().expect("combines").yaml).expect("reads");
    let names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [BLACKHOLE_RECEIVER, "only-a", "only-b", "shared"]);
}

#[test]
fn an_empty_builder_combines_to_its_layout() {
    let builder = Builder::new(BuildOptions::default()).expect("builds");
    let combined = builder.combined().expect("combines");
    assert_eq!(
        combined.yaml,
        "route:\n  receiver: alert-router:blackhole\nreceivers:\n- name: alert-router:blackhole\n"
    );
    assert_eq!((combined.routes, combined.receivers), (0, 1));
    assert!(combined.tenants.is_empty());
    // Endpoints but no conditions: only their test routes.
    let mut builder = Builder::new(BuildOptions {
        endpoint_tests: true,
        base: Some(base(builder_support::BASE_NO_ROUTES)),
        history: Some(DefaultWebhook::new("http://127.0.0.1:9/history")),
        ..BuildOptions::default()
    })
    .expect("builds");
    builder.upsert_endpoint(hook("ep")).expect("applies");
    let combined = builder.combined().expect("combines");
    assert_sound(&builder, &combined);
    assert_eq!((combined.routes, combined.receivers), (3, 4));
}

#[test]
fn a_base_receiver_named_like_the_blackhole_is_refused() {
    let options = BuildOptions {
        base: Some(base(&format!(
            "route: {{receiver: x}}\nreceivers: [{{name: x}}, {{name: '{BLACKHOLE_RECEIVER}'}}]\n"
        ))),
        ..BuildOptions::default()
    };
    let err = Builder::new(options).expect_err("collides");
    assert_eq!(
        err.to_string(),
        "base.receivers[1]: receiver \"alert-router:blackhole\" is reserved for the gateway's \
         own receivers (alert-router:blackhole, alert-router:history, alert-router:emitter); \
         rename it"
    );
}

#[test]
fn combined_debug_output_shows_no_secrets() {
    let mut spec = three_tenants();
    spec.endpoints.push(endpoint(
        "slack",
        EndpointKind::Slack(SlackEndpoint {
            api_url: Secret::new("https://hooks.slack.com/services/T/B/Zq9SECRET"),
            ..Default::default()
        }),
    ));
    spec.conditions
        .push(condition("s", Some("cluster-a"), &["slack"]));
    let builder = Builder::from_spec(spec, BuildOptions::default()).expect("builds");
    let combined = builder.combined().expect("combines");
    assert!(combined.yaml.contains("Zq9SECRET"));
    let shown = format!("{combined:?}");
    assert!(!shown.contains("Zq9SECRET"), "{shown}");
    assert!(shown.contains("bytes"), "{shown}");
}
