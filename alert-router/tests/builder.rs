//! The per-tenant builder without a real Alertmanager: what it writes agrees with the
//! configuration model (same YAML as `Config::to_yaml`, passes validation, reads back),
//! is deterministic, updates incrementally exactly like a full rebuild, and refuses what
//! it cannot write with errors that name the culprit.

mod builder_support;

use std::collections::BTreeMap;

use alert_core::{
    AlertCondition, AlertEndpoint, AlertingSpec, EndpointKind, MsTeamsEndpoint, Secret, TlsOptions,
};
use alert_router::builder::{
    BLACKHOLE_RECEIVER, BuildOptions, Builder, DefaultWebhook, EMITTER_RECEIVER, HISTORY_RECEIVER,
    TenantChange, TenantKey, sync_id,
};
use alert_router::config::{Config, Receiver, Route};
use alert_router::error::Error;
use alert_router::validate::alertmanager::check;
use builder_support::{BASE_MINIMAL, BASE_RICH, base, case, condition, endpoint, hook, key};
use proptest::prelude::*;

/// Every tenant's YAML, by tenant.
fn yamls(builder: &Builder) -> BTreeMap<TenantKey, String> {
    builder
        .tenants()
        .map(|t| (t.tenant.clone(), t.yaml.clone()))
        .collect()
}

/// Checks everything a rendering promises, for every tenant of `builder`.
fn assert_sound(builder: &Builder) {
    for tenant in builder.tenants() {
        let config = builder
            .config(&tenant.tenant)
            .expect("tenant exists")
            .expect("config");
        assert_eq!(
            tenant.yaml,
            config.to_yaml(),
            "fast YAML differs for {}",
            tenant.tenant
        );
        assert_eq!(tenant.sync_id, sync_id(&tenant.yaml));
        check(&config).unwrap_or_else(|e| panic!("{}: {e}\n{}", tenant.tenant, tenant.yaml));
        let back = Config::from_yaml(&tenant.yaml)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", tenant.tenant, tenant.yaml));
        assert_eq!(back, config, "{} does not read back", tenant.tenant);
        assert_eq!(tenant.routes, config.route.count() - 1);
        assert_eq!(tenant.receivers, config.receivers.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The fast renderer writes what `Config::to_yaml` writes, the configuration passes
    /// validation and reads back to the same value.
    #[test]
    fn renderings_agree_with_the_configuration_model((spec, options) in case()) {
        let builder = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
        assert_sound(&builder);
        // One configuration per tenant of the spec (and for unbound conditions).
        let keys: Vec<TenantKey> = builder.tenants().map(|t| t.tenant.clone()).collect();
        let mut expected: Vec<TenantKey> =
            spec.conditions.iter().map(|c| TenantKey::of(c.tenant.as_ref())).collect();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(keys, expected);
        // One receiver per endpoint used, never per condition.
        for tenant in builder.tenants() {
            let config = Config::from_yaml(&tenant.yaml).expect("reads");
            let mut names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
            let count = names.len();
            names.sort();
            names.dedup();
            prop_assert_eq!(names.len(), count);
        }
    }

    /// Same input, in any order, gives the same bytes and sync ids.
    #[test]
    fn deterministic_in_any_input_order(
        (spec, options) in case(),
        seed in any::<u64>(),
    ) {
        let first = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
        let again = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
        prop_assert_eq!(yamls(&first), yamls(&again));
        let mut shuffled = spec.clone();
        shuffle(&mut shuffled.endpoints, seed);
        shuffle(&mut shuffled.conditions, seed.rotate_left(17));
        let other = Builder::from_spec(shuffled, options).expect("builds");
        prop_assert_eq!(first.into_configs(), other.into_configs());
    }

    /// Any sequence of updates leaves the builder exactly where a full build of the
    /// resulting spec would be, and each update reports exactly the tenants whose sync
    /// id changed.
    #[test]
    fn updates_match_a_full_rebuild(
        (spec, options) in case(),
        (more, _) in case(),
        ops in proptest::collection::vec((0u8..4, any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..12),
    ) {
        let mut builder = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
        let mut current = spec.clone();
        for (op, a, b) in ops {
            let before = sync_ids(&builder);
            let result = match op {
                // Add or replace a condition (re-pointing its endpoints at known ones).
                0 if !more.conditions.is_empty() => {
                    let mut c = more.conditions[a.index(more.conditions.len())].clone();
                    retarget(&mut c, &current.endpoints);
                    if let Some(existing) = current.conditions.iter_mut().find(|x| x.id == c.id) {
                        *existing = c.clone();
                    } else {
                        current.conditions.push(c.clone());
                    }
                    builder.upsert_condition(c)
                }
                1 if !current.conditions.is_empty() => {
                    let c = current.conditions.remove(a.index(current.conditions.len()));
                    builder.remove_condition(&c.id)
                }
                // Replace an endpoint's settings with another endpoint's.
                2 if !more.endpoints.is_empty() => {
                    let mut e = more.endpoints[a.index(more.endpoints.len())].clone();
                    let target = &current.endpoints[b.index(current.endpoints.len())];
                    e.id = target.id.clone();
                    let i = b.index(current.endpoints.len());
                    current.endpoints[i] = e.clone();
                    builder.upsert_endpoint(e)
                }
                3 => {
                    let i = a.index(current.endpoints.len());
                    let id = current.endpoints[i].id.clone();
                    let used = current.conditions.iter().any(|c| c.endpoint_ids().any(|e| *e == id));
                    let result = builder.remove_endpoint(&id);
                    if used {
                        let in_use = matches!(result, Err(Error::EndpointInUse { .. }));
                        prop_assert!(in_use, "{:?}", result);
                        continue;
                    }
                    if current.endpoints.len() > 1 {
                        current.endpoints.remove(i);
                    } else {
                        // Keep one endpoint so that later steps have something to use.
                        builder.upsert_endpoint(current.endpoints[i].clone()).expect("re-add");
                    }
                    result
                }
                _ => continue,
            };
            let changes = result.expect("update applies");
            let rebuilt = Builder::from_spec(current.clone(), options.clone()).expect("rebuilds");
            prop_assert_eq!(yamls(&builder), yamls(&rebuilt));
            prop_assert_eq!(
                builder.combined().expect("combines"),
                rebuilt.combined().expect("combines")
            );
            let after = sync_ids(&builder);
            prop_assert_eq!(changes, diff(&before, &after));
            for e in &current.endpoints {
                let users: Vec<&TenantKey> = builder.tenants_using(&e.id).collect();
                let expected: Vec<&TenantKey> = rebuilt.tenants_using(&e.id).collect();
                prop_assert_eq!(users, expected);
            }
        }
        assert_sound(&builder);
    }
}

#[test]
fn debug_output_shows_no_secrets() {
    let mut spec = three_tenants();
    spec.endpoints.push(endpoint(
        "slack",
        EndpointKind::Slack(alert_core::SlackEndpoint {
            api_url: Secret::new("https://hooks.slack.com/services/T/B/Zq9SECRET"),
            ..Default::default()
        }),
    ));
    spec.conditions
        .push(condition("s", Some("cluster-a"), &["slack"]));
    let builder = Builder::from_spec(spec, BuildOptions::default()).expect("builds");
    let tenant = builder.tenant(&key(Some("cluster-a"))).expect("tenant");
    assert!(
        tenant.yaml.contains("Zq9SECRET"),
        "the configuration needs the secret"
    );
    for shown in [format!("{builder:?}"), format!("{tenant:?}")] {
        assert!(!shown.contains("Zq9SECRET"), "{shown}");
    }
}

fn sync_ids(builder: &Builder) -> BTreeMap<TenantKey, String> {
    builder
        .tenants()
        .map(|t| (t.tenant.clone(), t.sync_id.clone()))
        .collect()
}

/// The changes between two sets of sync ids, as the builder reports them.
fn diff(
    before: &BTreeMap<TenantKey, String>,
    after: &BTreeMap<TenantKey, String>,
) -> Vec<TenantChange> {
    let mut keys: Vec<&TenantKey> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| TenantChange {
            tenant: k.clone(),
            sync_id: after.get(k).cloned(),
        })
        .collect()
}

/// Points a condition's attachments at endpoints of `endpoints`, keeping their number
/// (up to how many there are) and throttles.
fn retarget(c: &mut AlertCondition, endpoints: &[AlertEndpoint]) {
    c.endpoints.truncate(endpoints.len());
    for (i, attached) in c.endpoints.iter_mut().enumerate() {
        attached.id = endpoints[(i * 7 + c.id.as_str().len()) % endpoints.len()]
            .id
            .clone();
    }
    let mut seen = std::collections::BTreeSet::new();
    c.endpoints.retain(|a| seen.insert(a.id.clone()));
}

/// A deterministic Fisher-Yates shuffle.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (seed >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

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
            condition("a2", Some("cluster-a"), &["only-a"]),
            condition("b1", Some("cluster-b"), &["only-b", "shared"]),
            condition("c1", Some("cluster-c"), &["only-b"]),
            condition("u1", None, &["shared"]),
        ],
        slos: Vec::new(),
    }
}

#[test]
fn changing_one_condition_re_renders_only_its_tenant() {
    let mut builder = Builder::from_spec(three_tenants(), BuildOptions::default()).expect("builds");
    let before = sync_ids(&builder);
    let mut a2 = builder
        .condition(&"a2".parse().expect("id"))
        .expect("a2")
        .clone();
    a2.throttle.group_interval = Some("7m".parse().expect("duration"));
    let changes = builder.upsert_condition(a2).expect("applies");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].tenant, key(Some("cluster-a")));
    let after = sync_ids(&builder);
    for (tenant, id) in &before {
        if *tenant != key(Some("cluster-a")) {
            assert_eq!(after[tenant], *id, "{tenant} changed");
        }
    }
    assert_ne!(
        after[&key(Some("cluster-a"))],
        before[&key(Some("cluster-a"))]
    );
    // Things no configuration holds (name, labels, severity) change nothing.
    let mut a1 = builder
        .condition(&"a1".parse().expect("id"))
        .expect("a1")
        .clone();
    a1.name = "renamed".into();
    a1.severity = alert_core::Severity::Critical;
    assert_eq!(builder.upsert_condition(a1).expect("applies"), []);
}

#[test]
fn changing_one_endpoint_re_renders_exactly_the_tenants_using_it() {
    let mut builder = Builder::from_spec(three_tenants(), BuildOptions::default()).expect("builds");
    let users: Vec<String> = builder
        .tenants_using(&"shared".parse().expect("id"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(users, ["(no tenant)", "cluster-a", "cluster-b"]);
    let mut shared = hook("shared");
    shared.send_resolved = Some(false);
    let changed: Vec<String> = builder
        .upsert_endpoint(shared)
        .expect("applies")
        .iter()
        .map(|c| c.tenant.to_string())
        .collect();
    assert_eq!(changed, ["(no tenant)", "cluster-a", "cluster-b"]);
    let changed: Vec<String> = builder
        .upsert_endpoint({
            let mut e = hook("only-b");
            e.send_resolved = Some(true);
            e
        })
        .expect("applies")
        .iter()
        .map(|c| c.tenant.to_string())
        .collect();
    assert_eq!(changed, ["cluster-b", "cluster-c"]);
    // An endpoint no routed condition uses changes no configuration.
    let mut unused = hook("unused");
    unused.send_resolved = Some(false);
    assert_eq!(builder.upsert_endpoint(unused).expect("applies"), []);
    // Re-submitting an identical endpoint changes nothing either.
    assert_eq!(
        builder.upsert_endpoint(hook("only-a")).expect("applies"),
        []
    );
}

#[test]
fn a_condition_moving_between_tenants_re_renders_both() {
    let mut builder = Builder::from_spec(three_tenants(), BuildOptions::default()).expect("builds");
    let mut c1 = builder
        .condition(&"c1".parse().expect("id"))
        .expect("c1")
        .clone();
    c1.tenant = Some("cluster-b".parse().expect("tenant"));
    let changes = builder.upsert_condition(c1).expect("applies");
    // cluster-c lost its only condition and is gone; cluster-b gained one.
    assert_eq!(
        changes,
        [
            TenantChange {
                tenant: key(Some("cluster-b")),
                sync_id: builder
                    .tenant(&key(Some("cluster-b")))
                    .map(|t| t.sync_id.clone()),
            },
            TenantChange {
                tenant: key(Some("cluster-c")),
                sync_id: None
            },
        ]
    );
    assert!(builder.tenant(&key(Some("cluster-c"))).is_none());
    let users: Vec<String> = builder
        .tenants_using(&"only-b".parse().expect("id"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(users, ["cluster-b"]);
    // Moving it back brings cluster-c back with the very same configuration.
    let before = Builder::from_spec(three_tenants(), BuildOptions::default()).expect("builds");
    let mut c1 = builder
        .condition(&"c1".parse().expect("id"))
        .expect("c1")
        .clone();
    c1.tenant = Some("cluster-c".parse().expect("tenant"));
    builder.upsert_condition(c1).expect("applies");
    assert_eq!(yamls(&builder), yamls(&before));
}

#[test]
fn disabled_conditions_and_conditions_without_endpoints_are_not_routed() {
    let mut spec = three_tenants();
    spec.conditions[3].disabled = true; // c1, cluster-c's only condition
    spec.conditions
        .push(condition("quiet", Some("cluster-d"), &[]));
    let builder = Builder::from_spec(spec, BuildOptions::default()).expect("builds");
    for tenant in ["cluster-c", "cluster-d"] {
        let t = builder.tenant(&key(Some(tenant))).expect("tenant kept");
        assert_eq!((t.conditions, t.routes, t.receivers), (0, 0, 1), "{tenant}");
        assert_eq!(
            t.yaml,
            "route:\n  receiver: alert-router:blackhole\nreceivers:\n- name: alert-router:blackhole\n"
        );
    }
    assert_eq!(
        builder
            .tenants_using(&"only-b".parse().expect("id"))
            .count(),
        1
    );
}

#[test]
fn the_layout_keeps_the_base_and_puts_our_routes_first() {
    let mut options = BuildOptions {
        base: Some(base(BASE_RICH)),
        ..BuildOptions::default()
    };
    let spec = AlertingSpec {
        endpoints: vec![hook("ep")],
        conditions: vec![condition("cpu", Some("a"), &["ep"])],
        slos: Vec::new(),
    };
    let built = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
    let config = Config::from_yaml(&built.tenants().next().expect("one").yaml).expect("reads");
    let rich = base(BASE_RICH);
    assert_eq!(config.global, rich.global);
    assert_eq!(config.templates, rich.templates);
    assert_eq!(config.inhibit_rules, rich.inhibit_rules);
    assert_eq!(config.time_intervals, rich.time_intervals);
    assert_eq!(config.mute_time_intervals, rich.mute_time_intervals);
    assert_eq!(config.route.receiver, rich.route.receiver);
    assert_eq!(config.route.group_by, rich.route.group_by);
    assert_eq!(config.route.routes.len(), 1 + rich.route.routes.len());
    assert_eq!(
        config.route.routes[0].matchers,
        [r#"alert_condition_id="cpu""#]
    );
    assert_eq!(config.route.routes[1..], rich.route.routes[..]);
    let names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["ep", "base-default", "base-db", "base-db-page", "base-web"]
    );

    // With a history webhook: history first, then a wrapper holding ours and the base's.
    options.history = Some(DefaultWebhook::new("http://127.0.0.1:9/history"));
    let built = Builder::from_spec(spec, options).expect("builds");
    let config = Config::from_yaml(&built.tenants().next().expect("one").yaml).expect("reads");
    assert_eq!(config.route.routes.len(), 2);
    let history = &config.route.routes[0];
    assert_eq!(history.receiver.as_deref(), Some(HISTORY_RECEIVER));
    assert!(history.r#continue && history.is_catch_all());
    assert_eq!(history.group_by.as_deref(), Some(&["...".to_owned()][..]));
    assert_eq!(
        [
            history.group_wait,
            history.group_interval,
            history.repeat_interval
        ]
        .map(|d| d.map(|d| d.to_string())),
        [Some("30s".into()), Some("5m".into()), Some("4h".into())]
    );
    let wrapper = &config.route.routes[1];
    assert!(wrapper.is_catch_all() && !wrapper.r#continue && wrapper.receiver.is_none());
    assert_eq!(wrapper.routes[0].matchers, [r#"alert_condition_id="cpu""#]);
    assert_eq!(wrapper.routes[1..], rich.route.routes[..]);
}

#[test]
fn msteams_is_refused_naming_the_endpoint_only_when_used() {
    let teams = endpoint(
        "teams",
        EndpointKind::MsTeams(MsTeamsEndpoint {
            webhook_url: Secret::new("https://example.org/teams"),
            ..Default::default()
        }),
    );
    let mut spec = AlertingSpec {
        endpoints: vec![hook("ep"), teams.clone()],
        conditions: vec![condition("cpu", None, &["ep"])],
        slos: Vec::new(),
    };
    // Unused: no receiver is written for it, so nothing to refuse.
    let mut builder = Builder::from_spec(spec.clone(), BuildOptions::default()).expect("builds");
    let err = builder
        .upsert_condition(condition("cpu", None, &["ep", "teams"]))
        .expect_err("refused");
    assert!(matches!(err, Error::EndpointNotExpressible { .. }));
    assert_eq!(
        err.to_string(),
        "endpoints[teams].msteams: endpoint \"teams\" is a Microsoft Teams webhook, which \
         Alertmanager 0.25 cannot express (msteams_configs arrived in 0.26)"
    );
    spec.conditions[0] = condition("cpu", None, &["ep", "teams"]);
    let err = Builder::from_spec(spec, BuildOptions::default()).expect_err("refused");
    assert_eq!(err.path(), Some("endpoints[teams].msteams"));
    // Replacing a used endpoint by one that cannot be written is refused too.
    let mut teams_ep = teams;
    teams_ep.id = "ep".parse().expect("id");
    let before = yamls(&builder);
    assert!(builder.upsert_endpoint(teams_ep).is_err());
    assert_eq!(yamls(&builder), before);
}

#[test]
fn webhook_timeout_and_inline_ca_are_refused_for_0_25() {
    let mut timed = hook("timed");
    if let EndpointKind::Webhook(w) = &mut timed.kind {
        w.timeout = Some("10s".parse().expect("duration"));
    }
    let mut builder = Builder::new(BuildOptions::default()).expect("builds");
    builder.upsert_endpoint(timed).expect("stored while unused");
    let err = builder
        .upsert_condition(condition("c", None, &["timed"]))
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "endpoints[timed].webhook.timeout: Alertmanager 0.25 has no webhook timeout (it \
         arrived in 0.28): remove timeout 10s"
    );
    let mut tls = hook("tls");
    if let EndpointKind::Webhook(w) = &mut tls.kind {
        w.http_config = Some(alert_core::HttpClientOptions {
            tls_config: Some(TlsOptions {
                ca: Some("-----BEGIN CERTIFICATE-----".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    builder.upsert_endpoint(tls).expect("stored while unused");
    let err = builder
        .upsert_condition(condition("c", None, &["tls"]))
        .expect_err("refused");
    assert_eq!(
        err.path(),
        Some("endpoints[tls].webhook.http_config.tls_config.ca")
    );
    assert_eq!(builder.tenants().count(), 0);
}

#[test]
fn name_collisions_with_the_base_name_both_sides() {
    let options = BuildOptions {
        base: Some(base(
            "route: {receiver: a}\nreceivers: [{name: a}, {name: b}, {name: ops-slack}]\n",
        )),
        ..BuildOptions::default()
    };
    let spec = AlertingSpec {
        endpoints: vec![hook("ops-slack")],
        conditions: vec![condition("cpu", None, &["ops-slack"])],
        slos: Vec::new(),
    };
    let err = Builder::from_spec(spec, options).expect_err("collides");
    assert!(matches!(err, Error::NameCollision { .. }));
    assert_eq!(
        err.to_string(),
        "endpoints[ops-slack]: receiver \"ops-slack\" from endpoint \"ops-slack\" collides \
         with base config receivers[2] \"ops-slack\""
    );

    let options = BuildOptions {
        base: Some(base(&format!(
            "route: {{receiver: x}}\nreceivers: [{{name: x}}, {{name: '{HISTORY_RECEIVER}'}}]\n"
        ))),
        history: Some(DefaultWebhook::new("http://127.0.0.1:9/history")),
        ..BuildOptions::default()
    };
    let err = Builder::new(options).expect_err("collides");
    assert_eq!(
        err.to_string(),
        "base.receivers[1]: receiver \"alert-router:history\" is reserved for the gateway's \
         own receivers (alert-router:blackhole, alert-router:history, alert-router:emitter); \
         rename it"
    );
}

/// The default webhooks cannot be replaced or fed by a base configuration, whether or
/// not this builder has them: a base that defines or names one is refused, naming where.
#[test]
fn a_base_cannot_define_or_name_the_default_receivers() {
    let cases = [
        (
            format!(
                "route: {{receiver: x}}\nreceivers: [{{name: x}}, {{name: '{EMITTER_RECEIVER}'}}]\n"
            ),
            "base.receivers[1]: receiver \"alert-router:emitter\" is reserved",
        ),
        (
            format!(
                "route:\n  receiver: x\n  routes:\n  - receiver: x\n  - receiver: x\n    routes:\n    - receiver: '{HISTORY_RECEIVER}'\nreceivers: [{{name: x}}, {{name: '{HISTORY_RECEIVER}'}}]\n"
            ),
            "base.receivers[1]: receiver \"alert-router:history\" is reserved",
        ),
    ];
    for (yaml, expected) in cases {
        for with_defaults in [false, true] {
            let options = BuildOptions {
                base: Some(base(&yaml)),
                history: with_defaults.then(|| DefaultWebhook::new("http://127.0.0.1:9/history")),
                emitter: with_defaults.then(|| DefaultWebhook::new("http://127.0.0.1:9/emitter")),
                ..BuildOptions::default()
            };
            let err = Builder::new(options).expect_err("reserved");
            assert!(matches!(err, Error::NameCollision { .. }), "{err}");
            assert!(err.to_string().starts_with(expected), "{err}");
        }
    }
    // A route naming a reserved receiver the base does not define: the base is refused
    // as Alertmanager refuses it, before the gateway's receivers are added.
    let mut config = Config::new(Route::new("x"));
    config.receivers.push(Receiver::new("x"));
    let mut leaf = Route::new(BLACKHOLE_RECEIVER);
    leaf.matchers.push("team=\"a\"".parse().expect("matcher"));
    let mut middle = Route::default();
    middle.routes.push(leaf);
    config.route.routes.push(Route::new("x"));
    config.route.routes.push(middle);
    let options = BuildOptions {
        base: Some(config),
        ..BuildOptions::default()
    };
    let err = Builder::new(options).expect_err("reserved");
    assert_eq!(
        err.to_string(),
        "route.routes[1].routes[0].receiver: undefined receiver \"alert-router:blackhole\" used \
         in route"
    );
}

/// With both default webhooks every configuration sends every alert first to history,
/// then to the emitter, both continuing, before the test and condition routes; with a
/// base, its routes come after them under the wrapper.
#[test]
fn default_webhooks_come_first_and_continue() {
    for with_base in [false, true] {
        let options = BuildOptions {
            base: with_base.then(|| base("route: {receiver: team, routes: [{receiver: team, matchers: ['x=\"1\"']}]}\nreceivers: [{name: team}]\n")),
            history: Some(DefaultWebhook::new("http://127.0.0.1:9/history")),
            emitter: Some(DefaultWebhook::new("http://127.0.0.1:9/emitter")),
            endpoint_tests: true,
            ..BuildOptions::default()
        };
        let builder = Builder::from_spec(three_tenants(), options).expect("builds");
        assert_sound(&builder);
        for (tenant, yaml) in yamls(&builder) {
            let config = Config::from_yaml(&yaml).expect("parses");
            let routes = &config.route.routes;
            assert_eq!(
                routes[0].receiver.as_deref(),
                Some(HISTORY_RECEIVER),
                "{tenant:?}"
            );
            assert_eq!(
                routes[1].receiver.as_deref(),
                Some(EMITTER_RECEIVER),
                "{tenant:?}"
            );
            for route in &routes[..2] {
                assert!(route.r#continue && route.matchers.is_empty(), "{tenant:?}");
            }
            let names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
            let emitter = config
                .receivers
                .iter()
                .find(|r| r.name == EMITTER_RECEIVER)
                .expect("emitter receiver");
            assert_eq!(
                emitter.webhook_configs[0].url.as_deref(),
                Some("http://127.0.0.1:9/emitter"),
                "{names:?}"
            );
            if with_base {
                let wrapper = routes.last().expect("wrapper");
                assert!(wrapper.receiver.is_none() && wrapper.matchers.is_empty());
                assert_eq!(
                    wrapper.routes.last().and_then(|r| r.receiver.as_deref()),
                    Some("team")
                );
            }
        }
    }
}

#[test]
fn invalid_input_is_refused_and_changes_nothing() {
    let mut builder = Builder::from_spec(three_tenants(), BuildOptions::default()).expect("builds");
    let before = yamls(&builder);
    let err = builder
        .upsert_condition(condition("x", Some("cluster-a"), &["shared", "nope"]))
        .expect_err("unknown endpoint");
    assert_eq!(
        err.to_string(),
        "conditions[x].endpoints[1].id: the id of an endpoint in endpoints, got \"nope\""
    );
    let err = builder
        .remove_endpoint(&"shared".parse().expect("id"))
        .expect_err("in use");
    assert_eq!(
        err.to_string(),
        "endpoints[shared]: endpoint \"shared\" is attached by conditions a1, b1, u1; detach \
         it first"
    );
    let mut bad = condition("y", None, &["shared"]);
    bad.throttle.repeat_interval = Some(alert_core::Duration::ZERO);
    assert!(matches!(
        builder.upsert_condition(bad),
        Err(Error::InvalidSpec(_))
    ));
    assert_eq!(yamls(&builder), before);
    // Removing what is not there is not an error.
    assert_eq!(
        builder
            .remove_condition(&"nope".parse().expect("id"))
            .expect("ok"),
        []
    );
    assert_eq!(
        builder
            .remove_endpoint(&"nope".parse().expect("id"))
            .expect("ok"),
        []
    );
    // The unused endpoint can go.
    assert_eq!(
        builder
            .remove_endpoint(&"unused".parse().expect("id"))
            .expect("ok"),
        []
    );
    assert!(builder.endpoint(&"unused".parse().expect("id")).is_none());
}

#[test]
fn invalid_options_are_refused() {
    let err = Builder::new(BuildOptions {
        condition_group_by: vec!["not-a-label".into()],
        ..BuildOptions::default()
    })
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "condition_group_by: invalid label name \"not-a-label\" in group_by list"
    );
    let mut history = DefaultWebhook::new("ftp://example.org/");
    let err = Builder::new(BuildOptions {
        history: Some(history.clone()),
        ..BuildOptions::default()
    })
    .expect_err("refused");
    assert!(err.to_string().starts_with("history: "), "{err}");
    assert!(
        err.to_string().contains("unsupported scheme \"ftp\""),
        "{err}"
    );
    history.url = "http://127.0.0.1:9/history".into();
    history.group_interval = alert_core::Duration::ZERO;
    let err = Builder::new(BuildOptions {
        history: Some(history),
        ..BuildOptions::default()
    })
    .expect_err("refused");
    assert!(
        err.to_string().contains("group_interval cannot be zero"),
        "{err}"
    );
    let err = Builder::new(BuildOptions {
        base: Some({
            let mut b = base(BASE_MINIMAL);
            b.route.receiver = Some("missing".into());
            b
        }),
        ..BuildOptions::default()
    })
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "route.receiver: undefined receiver \"missing\" used in route"
    );
}

/// A builder for a cluster of `peers` Alertmanagers (15s peer timeout: the last of 3
/// waits 30s), with `three_tenants`' endpoints and no conditions.
fn clustered(peers: usize, options: BuildOptions) -> Builder {
    let mut spec = three_tenants();
    spec.conditions.clear();
    Builder::from_spec(
        spec,
        BuildOptions {
            cluster: Some(alert_router::validate::ClusterTiming::new(peers)),
            ..options
        },
    )
    .expect("builds")
}

fn with_group_wait(mut c: AlertCondition, attachment: Option<usize>, wait: &str) -> AlertCondition {
    let wait = Some(wait.parse().expect("duration"));
    match attachment {
        Some(i) => c.endpoints[i].throttle.group_wait = wait,
        None => c.throttle.group_wait = wait,
    }
    c
}

#[test]
fn a_group_wait_shorter_than_the_cluster_waits_is_refused_naming_the_route() {
    let mut builder = clustered(3, BuildOptions::default());
    builder
        .upsert_condition(condition("ok", Some("cluster-a"), &["shared"]))
        .expect("the default 30s is enough for 3 peers");
    let before = yamls(&builder);
    let short = with_group_wait(
        condition("cpu", Some("cluster-a"), &["shared", "only-a"]),
        Some(1),
        "10s",
    );
    let err = builder.upsert_condition(short).expect_err("refused");
    assert!(matches!(err, Error::GroupWaitShorterThanClusterWait { .. }));
    assert_eq!(
        err.to_string(),
        "conditions[cpu].endpoints[1].group_wait: route to endpoint \"only-a\": group_wait 10s \
         is shorter than the 30s the last of 3 peers waits before notifying (2 x peer_timeout \
         15s); a group's first notification may be sent twice"
    );
    assert_eq!(yamls(&builder), before, "a refused update changes nothing");
    assert!(builder.condition(&"cpu".parse().expect("id")).is_none());

    // From the condition's throttle.
    let short = with_group_wait(condition("cpu", None, &["shared"]), None, "29s");
    let err = builder.upsert_condition(short).expect_err("refused");
    assert_eq!(err.path(), Some("conditions[cpu].throttle.group_wait"));
    assert!(
        err.to_string().contains(
            "route to endpoint \"shared\" (from the condition's throttle): group_wait 29s"
        ),
        "{err}"
    );
    // Inherited from the root: a base whose root waits 5s.
    let mut inheriting = clustered(
        2,
        BuildOptions {
            base: Some(base(
                "route: {receiver: r, group_wait: 5s}\nreceivers: [{name: r}]\n",
            )),
            ..BuildOptions::default()
        },
    );
    let err = inheriting
        .upsert_condition(condition("cpu", None, &["shared"]))
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "conditions[cpu].endpoints[0]: route to endpoint \"shared\" (inherited from the root \
         route): group_wait 5s is shorter than the 15s the last of 2 peers waits before \
         notifying (1 x peer_timeout 15s); a group's first notification may be sent twice"
    );
    // A disabled condition has no route to refuse; enabling it is refused.
    let mut disabled = with_group_wait(condition("cpu", None, &["shared"]), Some(0), "1s");
    disabled.disabled = true;
    assert_eq!(
        builder
            .upsert_condition(disabled.clone())
            .expect("applies")
            .len(),
        1
    );
    disabled.disabled = false;
    assert!(builder.upsert_condition(disabled).is_err());

    // A whole spec: the fault of the smallest condition id.
    let mut spec = three_tenants();
    spec.conditions[1] = with_group_wait(spec.conditions[1].clone(), Some(0), "1s"); // a2
    spec.conditions[3] = with_group_wait(spec.conditions[3].clone(), None, "2s"); // c1
    let err = Builder::from_spec(
        spec,
        BuildOptions {
            cluster: Some(alert_router::validate::ClusterTiming::new(3)),
            ..BuildOptions::default()
        },
    )
    .expect_err("refused");
    assert_eq!(err.path(), Some("conditions[a2].endpoints[0].group_wait"));
}

#[test]
fn a_group_wait_equal_to_the_cluster_wait_is_accepted() {
    let mut builder = clustered(3, BuildOptions::default());
    let exact = with_group_wait(
        condition("cpu", Some("cluster-a"), &["shared"]),
        Some(0),
        "30s",
    );
    assert_eq!(builder.upsert_condition(exact).expect("applies").len(), 1);
    // 4 peers wait 45s: now the default 30s is too short, 45s is not.
    let mut builder = clustered(4, BuildOptions::default());
    assert!(
        builder
            .upsert_condition(condition("cpu", None, &["shared"]))
            .is_err()
    );
    let exact = with_group_wait(condition("cpu", None, &["shared"]), None, "45s");
    builder.upsert_condition(exact).expect("applies");
}

#[test]
fn the_history_webhook_must_wait_for_the_cluster_too() {
    let mut history = DefaultWebhook::new("http://127.0.0.1:9/history");
    history.group_wait = "10s".parse().expect("duration");
    let options = |history: &DefaultWebhook| BuildOptions {
        history: Some(history.clone()),
        cluster: Some(alert_router::validate::ClusterTiming::new(3)),
        ..BuildOptions::default()
    };
    let err = Builder::new(options(&history)).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "history.group_wait: route to the history webhook: group_wait 10s is shorter than \
         the 30s the last of 3 peers waits before notifying (2 x peer_timeout 15s); a \
         group's first notification may be sent twice"
    );
    history.group_wait = "30s".parse().expect("duration");
    Builder::new(options(&history)).expect("equal is enough");
}

#[test]
fn endpoint_test_routes_are_exempt_from_the_cluster_wait() {
    // Test routes wait 0s, far less than the 30s of 3 peers: a test must be fast, and a
    // test notification sent twice is harmless.
    let mut builder = clustered(
        3,
        BuildOptions {
            endpoint_tests: true,
            ..BuildOptions::default()
        },
    );
    builder
        .upsert_condition(condition("cpu", Some("cluster-a"), &["shared"]))
        .expect("applies");
    let tenant = builder.tenant(&key(Some("cluster-a"))).expect("tenant");
    let config = Config::from_yaml(&tenant.yaml).expect("reads");
    assert_eq!(
        config.route.routes[0].group_wait.map(|d| d.to_string()),
        Some("0s".to_owned())
    );
    let combined = builder.combined().expect("combines");
    assert!(combined.yaml.contains("group_wait: 0s"));
}

#[test]
fn without_a_cluster_any_group_wait_goes() {
    let mut builder = Builder::from_spec(three_tenants(), BuildOptions::default()).expect("builds");
    let zero = with_group_wait(
        condition("cpu", Some("cluster-a"), &["shared"]),
        Some(0),
        "0s",
    );
    builder.upsert_condition(zero).expect("applies");
    let mut history = DefaultWebhook::new("http://127.0.0.1:9/history");
    history.group_wait = "0s".parse().expect("duration");
    Builder::new(BuildOptions {
        history: Some(history),
        ..BuildOptions::default()
    })
    .expect("builds");
}
