//! Proptest strategies for valid domain values: endpoints of every kind, conditions,
//! SLOs, whole specs, throttles and label sets, for the property tests of this crate and
//! of the crates built on it (feature `proptest-strategies`).
//!
//! Every generated secret contains [`MARK`] and no other generated text does, so a test
//! can tell whether a secret leaked.
//!
//! ```
//! use alert_core::strategies::{condition, endpoint, slo, spec};
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(8), |(e in endpoint(), c in condition(), s in slo())| {
//!     prop_assert_eq!(e.validate(), Ok(()));
//!     prop_assert_eq!(c.validate(), Ok(()));
//!     prop_assert_eq!(s.validate(), Ok(()));
//! });
//! proptest!(ProptestConfig::with_cases(8), |(spec in spec())| {
//!     prop_assert_eq!(spec.validate(), Ok(()));
//! });
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "proptest strategies are test code: generated values are valid by construction"
)]

use alert_core::slo::{MAX_WINDOW, MIN_WINDOW};
use alert_core::{
    AgentDisconnectCondition, AlertCondition, AlertEndpoint, AlertingSpec, AttachedEndpoint,
    BasicAuth, CompareOp, ComponentHealthCondition, ConditionId, ConditionKind, ConditionMessage,
    CpuCondition, DiscordEndpoint, Duration, EmailEndpoint, EndpointId, EndpointKind,
    FilesystemCondition, HttpClientOptions, KubeObjectKind, KubeStateCondition, LabelSet,
    MemoryCondition, MsTeamsEndpoint, OpsGenieEndpoint, OpsGenieResponder, PagerDutyEndpoint,
    PrometheusCondition, PushoverEndpoint, Secret, Severity, SlackEndpoint, Sli, Slo, SloId,
    TelegramEndpoint, TelegramParseMode, TenantId, Throttle, TlsOptions, VictorOpsEndpoint,
    WINDOW_PLACEHOLDER, WebexEndpoint, WebhookEndpoint,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

/// Every generated secret contains this, and nothing else does.
pub const MARK: &str = "Zq9SECRET";

/// A secret holding [`MARK`].
pub fn secret() -> impl Strategy<Value = Secret> {
    "[a-zA-Z0-9:/._-]{0,12}".prop_map(|s| Secret::new(format!("{MARK}{s}")))
}

/// A URL secret (for example a Slack webhook URL) holding [`MARK`] in its path.
pub fn secret_url() -> impl Strategy<Value = Secret> {
    url().prop_map(|u| Secret::new(format!("{u}/{MARK}")))
}

/// Free text as users write it, including YAML-hostile words and template braces.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{1,16}",
        Just("~".to_owned()),
        Just("null".to_owned()),
        Just("yes".to_owned()),
        Just("1.5".to_owned()),
        Just("{{ .CommonLabels.alertname }}".to_owned()),
        Just("- a: b".to_owned()),
    ]
    .prop_filter("no marker", |s| !s.contains(MARK))
}

/// [`text`] or nothing.
pub fn opt_text() -> impl Strategy<Value = Option<String>> {
    option::of(text())
}

/// An `http` or `https` URL with an optional port and path.
pub fn url() -> impl Strategy<Value = String> {
    "https?://[a-z]{1,8}(\\.[a-z]{2,3})?(:[0-9]{2,4})?(/[a-z0-9]{1,5}){0,2}"
}

/// A whole-second duration from `min_secs` up to about two days.
pub fn duration(min_secs: u64) -> impl Strategy<Value = Duration> {
    (min_secs..200_000u64).prop_map(|s| Duration::from_secs(s).unwrap_or(Duration::ZERO))
}

/// An id as condition and endpoint ids are spelt: lower case, digits, `_`, `.`, `-`.
pub fn id() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9_.-]{0,20}"
}

/// Optional HTTP client options: basic auth or a bearer token, proxy, TLS, redirects, HTTP/2.
pub fn http_config() -> impl Strategy<Value = Option<HttpClientOptions>> {
    let auth = prop_oneof![
        Just((None, None)),
        ("[a-z]{1,8}", option::of(secret()))
            .prop_map(|(username, password)| (Some(BasicAuth { username, password }), None)),
        secret().prop_map(|t| (None, Some(t))),
    ];
    let tls = option::of((option::of("[a-z/]{1,10}"), any::<bool>()).prop_map(
        |(ca_file, insecure_skip_verify)| TlsOptions {
            ca_file,
            insecure_skip_verify,
            ..Default::default()
        },
    ));
    option::of(
        (
            auth,
            option::of(url()),
            tls,
            option::of(any::<bool>()),
            option::of(any::<bool>()),
        )
            .prop_map(
                |((basic_auth, bearer_token), proxy_url, tls_config, follow, http2)| {
                    HttpClientOptions {
                        basic_auth,
                        bearer_token,
                        proxy_url,
                        tls_config,
                        follow_redirects: follow,
                        enable_http2: http2,
                    }
                },
            ),
    )
}

/// A valid endpoint of any kind Alertmanager 0.25 has.
pub fn endpoint_kind() -> impl Strategy<Value = EndpointKind> {
    prop_oneof![
        (
            secret_url(),
            option::of("[#@a-z0-9]{1,10}"),
            opt_text(),
            opt_text(),
            option::of(any::<bool>()),
            http_config()
        )
            .prop_map(|(api_url, channel, title, text, link_names, http_config)| {
                EndpointKind::Slack(SlackEndpoint {
                    api_url,
                    channel,
                    title,
                    text,
                    link_names,
                    http_config,
                    ..Default::default()
                })
            }),
        (
            "[a-z]{1,6}@[a-z]{1,6}\\.org",
            "[a-z]{1,6}@[a-z]{1,6}\\.org",
            "[a-z]{1,8}:[0-9]{2,4}",
            option::of(secret()),
            btree_map("[A-Z][a-z]{1,6}", text(), 0..3),
            option::of(any::<bool>()),
        )
            .prop_map(
                |(to, from, smarthost, auth_password, headers, require_tls)| {
                    EndpointKind::Email(EmailEndpoint {
                        to,
                        from,
                        smarthost,
                        auth_username: auth_password.as_ref().map(|_| "user".to_owned()),
                        auth_password,
                        headers,
                        require_tls,
                        ..Default::default()
                    })
                }
            ),
        (
            secret(),
            any::<bool>(),
            option::of(url()),
            option::of(prop::sample::select(vec![
                "critical", "error", "warning", "info"
            ])),
            btree_map("[a-z]{1,6}", text(), 0..3),
            http_config()
        )
            .prop_map(|(key, v2, url, severity, details, http_config)| {
                let (routing_key, service_key) = if v2 {
                    (Some(key), None)
                } else {
                    (None, Some(key))
                };
                EndpointKind::PagerDuty(PagerDutyEndpoint {
                    routing_key,
                    service_key,
                    url,
                    severity: severity.map(str::to_owned),
                    details,
                    http_config,
                    ..Default::default()
                })
            }),
        (url(), http_config(), 0u64..100, option::of(duration(1))).prop_map(
            |(url, http_config, max_alerts, timeout)| {
                EndpointKind::Webhook(WebhookEndpoint {
                    url,
                    http_config,
                    max_alerts,
                    timeout,
                })
            }
        ),
        (
            secret(),
            vec(
                (
                    "[a-z]{1,6}",
                    prop::sample::select(vec!["team", "user", "schedule"])
                ),
                0..3
            ),
            option::of(prop::sample::select(vec!["P1", "P3", "P5"])),
            opt_text()
        )
            .prop_map(|(api_key, responders, priority, message)| {
                EndpointKind::OpsGenie(OpsGenieEndpoint {
                    api_key,
                    responders: responders
                        .into_iter()
                        .map(|(name, kind)| OpsGenieResponder {
                            name: Some(name),
                            kind: kind.to_owned(),
                            ..Default::default()
                        })
                        .collect(),
                    priority: priority.map(str::to_owned),
                    message,
                    ..Default::default()
                })
            }),
        (
            secret(),
            any::<i64>().prop_filter("non-zero", |c| *c != 0),
            option::of(prop::sample::select(vec![
                TelegramParseMode::Html,
                TelegramParseMode::Markdown,
                TelegramParseMode::MarkdownV2
            ])),
            opt_text()
        )
            .prop_map(|(bot_token, chat_id, parse_mode, message)| {
                EndpointKind::Telegram(TelegramEndpoint {
                    bot_token,
                    chat_id,
                    parse_mode,
                    message,
                    ..Default::default()
                })
            }),
        (secret_url(), opt_text()).prop_map(|(webhook_url, title)| {
            EndpointKind::Discord(DiscordEndpoint {
                webhook_url,
                title,
                ..Default::default()
            })
        }),
        ("[A-Za-z0-9]{1,20}", secret(), option::of(url())).prop_map(
            |(room_id, bot_token, api_url)| {
                EndpointKind::Webex(WebexEndpoint {
                    room_id,
                    bot_token,
                    api_url,
                    ..Default::default()
                })
            }
        ),
        (secret_url(), opt_text(), opt_text()).prop_map(|(webhook_url, title, summary)| {
            EndpointKind::MsTeams(MsTeamsEndpoint {
                webhook_url,
                title,
                summary,
                ..Default::default()
            })
        }),
        (
            secret(),
            secret(),
            option::of(duration(30).prop_filter("<= 3h", |d| d.as_secs() <= 3 * 3600))
        )
            .prop_map(|(user_key, token, expire)| {
                EndpointKind::Pushover(PushoverEndpoint {
                    user_key,
                    token,
                    expire,
                    ..Default::default()
                })
            }),
        (
            secret(),
            "[a-z]{1,8}",
            btree_map("x_[a-z]{1,5}", text(), 0..3)
        )
            .prop_map(|(api_key, routing_key, custom_fields)| {
                EndpointKind::VictorOps(VictorOpsEndpoint {
                    api_key,
                    routing_key,
                    custom_fields,
                    ..Default::default()
                })
            }),
    ]
}

/// A valid endpoint with an id, a name and a kind.
pub fn endpoint() -> impl Strategy<Value = AlertEndpoint> {
    (
        id(),
        "\\PC{0,10}",
        "\\PC{0,10}",
        option::of(any::<bool>()),
        endpoint_kind(),
    )
        .prop_map(
            |(id, name, description, send_resolved, kind)| AlertEndpoint {
                id: EndpointId::new(id).expect("generated ids are valid"),
                name,
                description,
                send_resolved,
                kind,
            },
        )
}

/// A valid throttle (group wait, group interval, repeat interval).
pub fn throttle() -> impl Strategy<Value = Throttle> {
    (
        option::of(duration(0)),
        option::of(duration(1)),
        option::of(duration(1)),
    )
        .prop_map(|(group_wait, group_interval, repeat_interval)| Throttle {
            group_wait,
            group_interval,
            repeat_interval,
        })
}

/// Label names to group by.
pub fn names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[a-z][a-z0-9-]{0,8}", 0..3).prop_map(|s| s.into_iter().collect())
}

/// A valid condition kind of any variant.
pub fn condition_kind() -> impl Strategy<Value = ConditionKind> {
    // Percentages with up to four decimals, as people write them. (serde_json's default
    // float reader may be one ULP off for long fractions; such thresholds are not real.)
    let percent = (0u32..=1_000_000).prop_map(|n| f64::from(n) / 10_000.0);
    let op = prop::sample::select(CompareOp::ALL.to_vec());
    prop_oneof![
        Just(ConditionKind::External),
        ("[a-z_]{1,10} [<>] [0-9]{1,3}", duration(0)).prop_map(|(query, for_duration)| {
            ConditionKind::Prometheus(PrometheusCondition {
                query,
                for_duration,
            })
        }),
        duration(1).prop_map(
            |timeout| ConditionKind::AgentDisconnect(AgentDisconnectCondition { timeout })
        ),
        (names().prop_filter("some", |n| !n.is_empty()), duration(0)).prop_map(
            |(components, for_duration)| {
                ConditionKind::ComponentHealth(ComponentHealthCondition {
                    components,
                    for_duration,
                })
            }
        ),
        (op.clone(), percent.clone(), duration(0), names()).prop_map(
            |(operator, threshold_percent, for_duration, nodes)| {
                ConditionKind::Cpu(CpuCondition {
                    operator,
                    threshold_percent,
                    for_duration,
                    nodes,
                    modes: vec!["user".into()],
                })
            }
        ),
        (op.clone(), percent.clone(), duration(0), names()).prop_map(
            |(operator, threshold_percent, for_duration, nodes)| {
                ConditionKind::Memory(MemoryCondition {
                    operator,
                    threshold_percent,
                    for_duration,
                    nodes,
                })
            }
        ),
        (op, percent, duration(0), names()).prop_map(
            |(operator, threshold_percent, for_duration, nodes)| {
                ConditionKind::Filesystem(FilesystemCondition {
                    operator,
                    threshold_percent,
                    for_duration,
                    nodes,
                    mountpoints: vec!["/".into(), "/var".into()],
                    devices: vec![],
                })
            }
        ),
        (
            option::of("[a-z]([a-z0-9-]{0,8}[a-z0-9])?"),
            option::of("[a-z0-9]{1,8}(\\.[a-z0-9]{1,8})?"),
            prop::sample::select(vec!["Pending", "Running", "Failed"]),
            duration(0)
        )
            .prop_map(|(namespace, name, state, for_duration)| {
                ConditionKind::KubeState(KubeStateCondition {
                    object_kind: KubeObjectKind::Pod,
                    namespace,
                    name,
                    expected_state: state.to_owned(),
                    for_duration,
                })
            }),
    ]
}

/// A label set whose names all start with `prefix`.
pub fn labels(prefix: &'static str) -> impl Strategy<Value = LabelSet> {
    btree_map("[a-z][a-z0-9_]{0,8}", "\\PC{0,8}", 0..4).prop_map(move |m| {
        LabelSet::from_pairs(m.into_iter().map(|(k, v)| (format!("{prefix}{k}"), v)))
            .expect("valid names")
    })
}

/// A valid condition with attached endpoints.
pub fn condition() -> impl Strategy<Value = AlertCondition> {
    (
        (
            id(),
            "\\PC{0,10}",
            "\\PC{0,10}",
            option::of("[a-zA-Z0-9_-]{1,12}"),
            prop::sample::select(Severity::ALL.to_vec()),
        ),
        (labels("l_"), labels("a_"), condition_kind(), throttle()),
        (
            prop::collection::btree_map(id(), throttle(), 0..4),
            option::of(text()),
            option::of(text()),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (id, name, description, tenant, severity),
                (labels, annotations, kind, throttle),
                (attached, title, body, disabled),
            )| {
                let tenant =
                    tenant.or_else(|| kind.requires_tenant().then(|| "cluster-a".to_owned()));
                AlertCondition {
                    id: ConditionId::new(id).expect("valid id"),
                    name,
                    description,
                    tenant: tenant.map(|t| TenantId::new(t).expect("valid tenant")),
                    severity,
                    labels,
                    annotations,
                    kind,
                    throttle,
                    endpoints: attached
                        .into_iter()
                        .map(|(id, throttle)| AttachedEndpoint {
                            id: EndpointId::new(id).expect("valid"),
                            throttle,
                        })
                        .collect(),
                    message: ConditionMessage { title, body },
                    disabled,
                }
            },
        )
}

/// A valid SLI in either form, its queries PromQL templates holding
/// [`WINDOW_PLACEHOLDER`] (once or twice).
pub fn sli() -> impl Strategy<Value = Sli> {
    let rate = r#"[a-z_]{1,10}(\{code!~"5\.\."\})?"#
        .prop_map(|metric| format!("sum(rate({metric}[{WINDOW_PLACEHOLDER}]))"));
    prop_oneof![
        (rate.clone(), rate.clone()).prop_map(|(good, total)| Sli::Events { good, total }),
        (rate.clone(), rate)
            .prop_map(|(errors, total)| Sli::ErrorRatio(format!("{errors} / {total}"))),
    ]
}

/// A valid SLO with attached endpoints.
pub fn slo() -> impl Strategy<Value = Slo> {
    // Objectives with up to four decimals, strictly between 0 and 100.
    let objective = (1u32..1_000_000).prop_map(|n| f64::from(n) / 10_000.0);
    let window = (MIN_WINDOW.as_secs()..=MAX_WINDOW.as_secs())
        .prop_map(|s| Duration::from_secs(s).unwrap_or(MIN_WINDOW));
    (
        (
            id(),
            "\\PC{0,10}",
            "\\PC{0,10}",
            "[a-zA-Z0-9_-]{1,12}",
            prop::sample::select(Severity::ALL.to_vec()),
        ),
        (objective, window, labels("l_"), labels("a_"), sli()),
        (
            prop::collection::btree_map(id(), throttle(), 0..4),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (id, name, description, tenant, severity),
                (objective, window, labels, annotations, sli),
                (attached, disabled),
            )| Slo {
                id: SloId::new(id).expect("valid id"),
                name,
                description,
                tenant: TenantId::new(tenant).expect("valid tenant"),
                objective,
                window,
                severity,
                labels,
                annotations,
                sli,
                endpoints: attached
                    .into_iter()
                    .map(|(id, throttle)| AttachedEndpoint {
                        id: EndpointId::new(id).expect("valid"),
                        throttle,
                    })
                    .collect(),
                disabled,
            },
        )
}

/// Points `attached` at `endpoints`, in order, dropping attachments beyond their number,
/// so that every reference resolves and none repeats.
fn attach_existing(attached: &mut Vec<AttachedEndpoint>, endpoints: &[AlertEndpoint]) {
    attached.truncate(endpoints.len());
    for (a, e) in attached.iter_mut().zip(endpoints) {
        a.id = e.id.clone();
    }
}

/// A valid spec: endpoints, conditions and SLOs with unique ids (no SLO sharing a
/// condition's), every attachment naming an endpoint of the spec.
pub fn spec() -> impl Strategy<Value = AlertingSpec> {
    (
        vec(endpoint(), 0..4),
        vec(condition(), 0..4),
        vec(slo(), 0..4),
    )
        .prop_map(|(es, cs, ss)| {
            let mut spec = AlertingSpec::default();
            for e in es {
                if spec.endpoint(e.id.as_str()).is_none() {
                    spec.endpoints.push(e);
                }
            }
            for mut c in cs {
                if spec.condition(c.id.as_str()).is_none() {
                    attach_existing(&mut c.endpoints, &spec.endpoints);
                    spec.conditions.push(c);
                }
            }
            for mut s in ss {
                let id = s.id.as_str();
                if spec.slo(id).is_none() && spec.condition(id).is_none() {
                    attach_existing(&mut s.endpoints, &spec.endpoints);
                    spec.slos.push(s);
                }
            }
            spec
        })
}

/// Regex patterns built from the pieces the matcher's literal fast paths handle and
/// some they do not (case folding with K/ſ, `\\d`, classes, alternations, `(?s)`): for
/// properties that a fast path agrees with the regex engine and with Go.
pub fn fast_path_pattern() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        "[abkKsS.-]{1,3}",
        Just(".*".to_owned()),
        Just(".+".to_owned()),
        Just("(?s:.*)".to_owned()),
        Just("[a-c]".to_owned()),
        Just("[Kk]".to_owned()),
        Just("(?i:ks)".to_owned()),
        Just("x?".to_owned()),
        Just("(a|bc)".to_owned()),
        Just("\\.".to_owned()),
        Just("é".to_owned()),
        Just("(?i:é)".to_owned()),
        Just(".".to_owned()),
        Just("\\d+".to_owned()),
        Just("[a-c]*".to_owned()),
        Just("(?i:[k-s])+".to_owned()),
        Just("[^a]*".to_owned()),
    ];
    let branch = vec(atom, 1..4).prop_map(|v| v.concat());
    (any::<bool>(), vec(branch, 1..4)).prop_map(|(fold, branches)| {
        let body = branches.join("|");
        if fold { format!("(?i){body}") } else { body }
    })
}

/// Label values for [`fast_path_pattern`]: the letters those patterns name, their case
/// folds (Kelvin sign, long s), a non-ASCII digit that Go's `\\d` does not match, and a
/// newline that `.` does not match.
pub fn fast_path_value() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("c"),
            Just("k"),
            Just("K"),
            Just("s"),
            Just("S"),
            Just("ſ"),
            Just("\u{212A}"),
            Just("7"),
            Just("٣"),
            Just("\n"),
            Just("é"),
            Just("É"),
            Just("."),
            Just("-"),
            Just("x"),
        ],
        0..8,
    )
    .prop_map(|v| v.concat())
}
