//! The ruler API backend against the Cortex/Mimir fixture of the test kit: Cortex's
//! paths (and its legacy prefix) and Mimir's, with the products' status codes.

use alert_cortex_adapter::ruler::conformance::Fixture;
use alert_cortex_adapter::{
    Addressing, AlertmanagerClient, Error, Flavor, RuleBackend, RulerApi, rule_backend_conformance,
};
use alert_router::builder::TenantKey;
use alert_router::rules::RuleFile;
use alert_testkit::cortex::CortexFixture;

fn tenant(id: &str) -> TenantKey {
    TenantKey::Tenant(id.parse().unwrap())
}

fn ruler(cortex: &CortexFixture, flavor: Flavor) -> RulerApi {
    let client = AlertmanagerClient::builder(cortex.url())
        .addressing(Addressing::multi_tenant(flavor, "/alertmanager", "any").unwrap())
        .build()
        .unwrap();
    RulerApi::new(client).unwrap()
}

fn setup(flavor: Flavor, path: Option<&str>) -> (RulerApi, Fixture, CortexFixture) {
    let cortex = CortexFixture::start();
    let mut api = ruler(&cortex, flavor)
        .with_unbound_tenant("anonymous")
        .unwrap();
    if let Some(p) = path {
        api = api.with_path(p).unwrap();
    }
    (
        api,
        Fixture::new(tenant("tenant-a"), TenantKey::Unbound),
        cortex,
    )
}

rule_backend_conformance!(cortex, setup(Flavor::Cortex, None));
rule_backend_conformance!(
    cortex_legacy_prefix,
    setup(Flavor::Cortex, Some("/api/prom/rules"))
);
rule_backend_conformance!(mimir, setup(Flavor::Mimir, None));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_changes_are_sent() {
    let (api, f, cortex) = setup(Flavor::Mimir, None);
    api.apply(&f.tenant, &f.first).await.unwrap();
    assert_eq!(cortex.rule_writes(), 2);
    assert_eq!(
        cortex.rule_groups("tenant-a"),
        [(
            "alert-gateway".to_owned(),
            vec!["condition:always".to_owned(), "slo:api".to_owned()]
        )]
        .into()
    );
    api.apply(&f.tenant, &f.first).await.unwrap();
    assert_eq!(cortex.rule_writes(), 2, "a repeated apply wrote");
    api.apply(&f.tenant, &f.changed).await.unwrap();
    assert_eq!(cortex.rule_writes(), 3, "one group changed, one POST");
    api.apply(&f.tenant, &f.fewer).await.unwrap();
    // condition:always back to its first form (POST), slo:api deleted (DELETE).
    assert_eq!(cortex.rule_writes(), 5);
    // The unbound rules went to their org id.
    api.apply(&f.other_tenant, &f.fewer).await.unwrap();
    assert_eq!(
        cortex.rule_groups("anonymous")["alert-gateway"],
        ["condition:always"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_group_undoes_the_groups_posted_before_it() {
    let (api, f, cortex) = setup(Flavor::Cortex, None);
    api.apply(&f.tenant, &f.first).await.unwrap();
    // The first group changes (and is posted), a new second one is posted, the third
    // does not parse.
    let mut bad = f.changed.clone();
    let mut extra = f.fewer.groups[0].clone();
    extra.name = "condition:extra".into();
    let mut broken = f.broken.groups[0].clone();
    broken.name = "condition:zz-broken".into();
    bad.groups.push(extra);
    bad.groups.push(broken);
    match api.apply(&f.tenant, &bad).await.unwrap_err() {
        Error::ConfigRejected {
            tenant, message, ..
        } => {
            assert_eq!(tenant, "tenant-a");
            assert_eq!(
                message,
                "group \"condition:zz-broken\", rule 0, \"always\": could not parse expression: 1:6: parse error: unexpected end of input"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(api.confirm(&f.tenant, &f.first).await.unwrap());
    assert_eq!(
        cortex.rule_groups("tenant-a")["alert-gateway"],
        ["condition:always", "slo:api"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_rules_need_an_org_id_and_names_are_escaped() {
    let cortex = CortexFixture::start();
    let api = ruler(&cortex, Flavor::Mimir)
        .with_namespace("ops/rules")
        .unwrap();
    let f = Fixture::new(tenant("tenant-a"), TenantKey::Unbound);
    assert!(matches!(
        api.apply(&TenantKey::Unbound, &f.first).await,
        Err(Error::UnknownTenant { .. })
    ));
    api.apply(&f.tenant, &f.first).await.unwrap();
    assert!(api.confirm(&f.tenant, &f.first).await.unwrap());
    assert_eq!(
        cortex.rule_groups("tenant-a")["ops/rules"],
        ["condition:always", "slo:api"]
    );
    api.remove(&f.tenant).await.unwrap();
    assert!(api.current(&f.tenant).await.unwrap().groups.is_empty());
    assert!(api.confirm(&f.tenant, &RuleFile::default()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_refuse_with_the_group_named_and_new_groups_are_taken_back() {
    let cortex = CortexFixture::start_with(alert_testkit::cortex::CortexConfig {
        ruler_max_rules_per_rule_group: 1,
        ..Default::default()
    });
    let api = ruler(&cortex, Flavor::Mimir);
    let f = Fixture::new(tenant("tenant-a"), TenantKey::Unbound);
    match api.apply(&f.tenant, &f.first).await.unwrap_err() {
        Error::ConfigRejected { message, .. } => assert_eq!(
            message,
            "group \"slo:api\": per-user rules per rule group limit (limit: 1 actual: 2) exceeded"
        ),
        other => panic!("unexpected {other:?}"),
    }
    // condition:always was created before slo:api was refused, and deleted again.
    assert!(cortex.rule_groups("tenant-a").is_empty());
    assert!(api.confirm(&f.tenant, &RuleFile::default()).await.unwrap());
}
