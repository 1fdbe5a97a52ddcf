//! Alertmanager-compatible building blocks every alert-* crate shares.
//!
//! Label sets and their fingerprints, matchers in both of Alertmanager's grammars,
//! alerts, silences, the webhook payload (version 4), Go-style durations and timestamps,
//! and the alerting domain model (severities, tenants, conditions, SLOs, endpoints), and
//! [`redact`]ion of credentials in text that is shown.
//! Each item behaves as Alertmanager 0.25 does. This crate is pure: no I/O, no async
//! runtime.
//!
//! ```
//! use alert_core::{Duration, LabelSet};
//!
//! let labels = LabelSet::from_pairs([("alertname", "Test"), ("severity", "page")])?;
//! assert_eq!(labels.fingerprint().to_string(), "823de09697ca9348");
//!
//! let wait: Duration = "1h30m".parse()?;
//! assert_eq!(wait.as_secs(), 5400);
//! # Ok::<(), alert_core::Error>(())
//! ```

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

// `strategies` names this crate `alert_core`, so the same file also compiles when this
// crate's own integration tests include it (they cannot turn the feature on).
extern crate self as alert_core;

pub mod alert;
pub mod alertmanager_target;
pub mod base64;
pub mod condition;
pub mod duration;
pub mod endpoint;
pub mod error;
mod field_path;
pub mod fingerprint;
pub mod go_json;
pub mod go_quote;
pub mod go_sort;
pub mod html;
pub mod id;
pub mod labels;
pub mod matcher;
pub mod quorum;
pub mod redact;
pub mod secret;
pub mod severity;
pub mod silence;
pub mod slo;
pub mod spec;
#[cfg(any(test, feature = "proptest-strategies"))]
pub mod strategies;
pub mod tenant;
pub mod timestamp;
pub mod webhook;

pub use alert::{Alert, AlertStatus};
pub use alertmanager_target::{AlertmanagerBackend, AlertmanagerTarget};
pub use condition::{
    AgentDisconnectCondition, AlertCondition, AttachedEndpoint, BODY_ANNOTATION,
    CONDITION_ID_LABEL, CompareOp, ComponentHealthCondition, ConditionKind, ConditionMessage,
    CpuCondition, EvaluatedBy, FilesystemCondition, KubeObjectKind, KubeStateCondition,
    MemoryCondition, PrometheusCondition, TITLE_ANNOTATION, Throttle,
};
pub use duration::Duration;
pub use endpoint::{
    AlertEndpoint, BasicAuth, DiscordEndpoint, EmailEndpoint, EndpointKind, HttpClientOptions,
    MsTeamsEndpoint, OpsGenieEndpoint, OpsGenieResponder, PagerDutyEndpoint, PushoverEndpoint,
    SlackEndpoint, TelegramEndpoint, TelegramParseMode, TlsOptions, VictorOpsEndpoint,
    WebexEndpoint, WebhookEndpoint,
};
pub use error::{Error, Result};
pub use fingerprint::{Fingerprint, fingerprint_sorted};
pub use id::{ConditionId, EndpointId, SloId};
pub use labels::{LabelSet, NameId, ValueRef, is_valid_label_name, validate_label_name};
pub use matcher::{MatchType, Matcher, Matchers, ParserMode, parse_matcher, parse_matchers};
pub use quorum::Quorum;
pub use redact::{redact_secrets, redact_unexpected_values, redact_urls};
pub use secret::Secret;
pub use severity::{SEVERITY_LABEL, Severity};
pub use silence::{Silence, SilenceState, SilenceStatus};
pub use slo::{SLO_LABEL_PREFIX, Sli, Slo, WINDOW_PLACEHOLDER};
pub use spec::AlertingSpec;
pub use tenant::TenantId;
pub use timestamp::Timestamp;
pub use webhook::{WEBHOOK_VERSION, WebhookMessage};
