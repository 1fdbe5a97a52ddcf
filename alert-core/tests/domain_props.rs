//! Property tests of the domain model: id and tenant rules against reference regexes,
//! serde round trips of generated endpoints and conditions through JSON and YAML, and
//! secrets that never show in `Debug`, `Display` or redacted output.

use alert_core::endpoint::address::check_http_url;
use alert_core::{
    AlertCondition, AlertEndpoint, AlertingSpec, ConditionId, EndpointId, EndpointKind, Secret,
    Severity, TenantId,
};
use proptest::collection::vec;
use proptest::prelude::*;
use regex::Regex;

// The generators `alert_core::strategies` exports with feature `proptest-strategies`.
#[allow(dead_code)]
// The library's public strategies, compiled into this test crate.
#[allow(unreachable_pub)]
#[path = "../src/strategies.rs"]
mod domain_strategies;
use domain_strategies::{MARK, condition, endpoint, url};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_values_are_valid(e in endpoint(), c in condition()) {
        prop_assert_eq!(e.validate(), Ok(()));
        prop_assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn endpoints_round_trip(e in endpoint()) {
        let json = serde_json::to_string(&e).expect("to json");
        prop_assert_eq!(&serde_json::from_str::<AlertEndpoint>(&json).expect("from json"), &e);
        let yaml = yaml_serde::to_string(&e).expect("to yaml");
        let back: AlertEndpoint = yaml_serde::from_str(&yaml).map_err(|err| TestCaseError::fail(format!("{err}\n{yaml}")))?;
        prop_assert_eq!(back, e);
    }

    #[test]
    fn conditions_round_trip(c in condition()) {
        let json = serde_json::to_string(&c).expect("to json");
        prop_assert_eq!(&serde_json::from_str::<AlertCondition>(&json).expect("from json"), &c);
        let yaml = yaml_serde::to_string(&c).expect("to yaml");
        let back: AlertCondition = yaml_serde::from_str(&yaml).map_err(|err| TestCaseError::fail(format!("{err}\n{yaml}")))?;
        prop_assert_eq!(back, c);
    }

    #[test]
    fn secrets_never_print(e in endpoint()) {
        let shown = [
            format!("{e:?}"),
            format!("{e:#?}"),
            format!("{:?}", e.kind),
            serde_json::to_string(&e.redacted()).expect("json"),
            yaml_serde::to_string(&e.redacted()).expect("yaml"),
        ];
        for text in shown {
            prop_assert!(!text.contains(MARK), "{}", text);
        }
        // The real value is still there for configuration files.
        if e.redacted() != e {
            prop_assert!(serde_json::to_string(&e).expect("json").contains(MARK));
        }
    }

    #[test]
    fn validation_errors_never_print_secrets(e in endpoint(), junk in "[a-z]{1,5}") {
        // Break every secret URL (drop its scheme) and check what the error shows.
        let mut broken = e.clone();
        let mut touched = false;
        for url in match &mut broken.kind {
            EndpointKind::Slack(k) => vec![&mut k.api_url],
            EndpointKind::Discord(k) => vec![&mut k.webhook_url],
            EndpointKind::MsTeams(k) => vec![&mut k.webhook_url],
            _ => vec![],
        } {
            *url = Secret::new(format!("{junk}{MARK}"));
            touched = true;
        }
        if touched {
            let err = broken.validate().expect_err("a URL without scheme is refused").to_string();
            prop_assert!(!err.contains(MARK), "{}", err);
            prop_assert!(err.contains("unsupported scheme"), "{}", err);
        }
    }

    #[test]
    fn tenant_ids_follow_the_cortex_rules(s in "[A-Za-z0-9!_.*'()/| é-]{0,160}|[.]{1,3}|__markers__|user-index[.]json[.]gz") {
        let reference = Regex::new(r"^[A-Za-z0-9!\-_.*'()]{1,150}$").expect("regex");
        let reserved = [".", "..", "__markers__", "user-index.json.gz"];
        let expected = reference.is_match(&s) && !reserved.contains(&s.as_str());
        prop_assert_eq!(TenantId::new(s.as_str()).is_ok(), expected, "{:?}", s);
        if expected {
            let json = serde_json::to_string(&s).expect("json");
            let t: TenantId = serde_json::from_str(&json).expect("valid id reads");
            prop_assert_eq!(t.as_str(), s.as_str());
        } else {
            prop_assert!(serde_json::from_str::<TenantId>(&serde_json::to_string(&s).expect("json")).is_err());
        }
    }

    #[test]
    fn ids_follow_their_rule(s in "[A-Za-z0-9_. /-]{0,130}") {
        let reference = Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$").expect("regex");
        prop_assert_eq!(ConditionId::new(s.as_str()).is_ok(), reference.is_match(&s));
        prop_assert_eq!(EndpointId::new(s.as_str()).is_ok(), reference.is_match(&s));
    }

    #[test]
    fn severity_text_forms_agree(i in 0usize..4, upper in any::<bool>()) {
        let severity = Severity::ALL[i];
        let text = if upper { severity.as_str().to_uppercase() } else { severity.as_str().to_owned() };
        prop_assert_eq!(Severity::from_label_value(&text), Some(severity));
        prop_assert_eq!(text.parse::<Severity>().is_ok(), !upper);
    }

    #[test]
    fn url_scheme_rule(u in url(), scheme in "[a-z][a-z0-9+.-]{0,6}") {
        prop_assert_eq!(check_http_url(&u), Ok(()));
        let rest = u.split_once("://").map(|(_, r)| r).unwrap_or_default();
        let other = format!("{scheme}://{rest}");
        let expected = if scheme == "http" || scheme == "https" {
            Ok(())
        } else {
            Err(format!("unsupported scheme {scheme:?} for URL"))
        };
        prop_assert_eq!(check_http_url(&other), expected);
    }

    #[test]
    fn specs_with_resolvable_references_read_back(es in vec(endpoint(), 1..4), cs in vec(condition(), 0..4)) {
        // Deduplicate ids and point every attachment at an existing endpoint.
        let mut endpoints: Vec<AlertEndpoint> = Vec::new();
        for e in es {
            if !endpoints.iter().any(|x| x.id == e.id) {
                endpoints.push(e);
            }
        }
        let mut conditions: Vec<AlertCondition> = Vec::new();
        for mut c in cs {
            if conditions.iter().any(|x| x.id == c.id) {
                continue;
            }
            let target = &endpoints[0].id;
            c.endpoints.truncate(1);
            for a in &mut c.endpoints {
                a.id = target.clone();
            }
            conditions.push(c);
        }
        let spec = AlertingSpec { endpoints, conditions, slos: Vec::new() };
        prop_assert_eq!(spec.validate(), Ok(()));
        let yaml = yaml_serde::to_string(&spec).expect("yaml");
        let back: AlertingSpec = yaml_serde::from_str(&yaml).map_err(|err| TestCaseError::fail(format!("{err}\n{yaml}")))?;
        prop_assert_eq!(back, spec);
    }
}
