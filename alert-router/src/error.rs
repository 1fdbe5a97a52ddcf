//! The one error type of `alert-router`.
//!
//! Variants are named for what went wrong. Each says *where* (a configuration path such as
//! `route.routes[2].routes[0].receiver` or `receivers[3].slack_configs[0].api_url`, and a
//! line number where the fault is in YAML text) and *what*, in Alertmanager 0.25's own
//! words where it has them. [`Error::alertmanager_message`] gives the text exactly as
//! `amtool check-config` prints it after `FAILED: `; `Display` adds the path in front.

use std::borrow::Cow;
use std::fmt;

/// One fault found by the strict YAML decoder: an unknown field, a key set twice, or a
/// value of the wrong type. Alertmanager reports all of these together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeFault {
    /// 1-based line of the node the fault is about, as Go's yaml.v2 counts it.
    pub line: usize,
    /// Configuration path of the node (`route.routes[0].recevier`).
    pub path: String,
    /// Alertmanager's wording (`field recevier not found in type config.plain`).
    pub message: String,
}

impl fmt::Display for DecodeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.path, self.message)
    }
}

/// Everything that can go wrong while reading, validating, routing or building
/// Alertmanager configurations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not well-formed YAML (`yaml: line 3: mapping values are not allowed in
    /// this context`).
    #[error("{}", yaml_syntax_text(*.line, .problem))]
    YamlSyntax {
        /// The line Go's yaml.v2 names (it counts parser errors from 0 and scanner errors
        /// from 1); `None` when it names none.
        line: Option<usize>,
        /// libyaml's description of the problem.
        problem: String,
    },

    /// Strict decoding found unknown fields, keys set twice or values of the wrong type
    /// (`yaml: unmarshal errors:` followed by one line per fault).
    #[error("yaml: unmarshal errors:{}", faults_text(.faults, true))]
    YamlDecode {
        /// The faults in document order.
        faults: Vec<DecodeFault>,
    },

    /// The file holds no document, or only `null`: `no route provided in config`.
    #[error("no route provided in config")]
    EmptyConfig,

    /// The configuration has no `route`: `no routes provided`.
    #[error("route: no routes provided")]
    MissingRoute,

    /// A list entry is `null` where Alertmanager 0.25 dereferences it (`receivers: [~]`,
    /// `routes: [~]`, `webhook_configs: [~]`): the real `amtool` crashes on these.
    #[error("{path}: {message}")]
    NullEntry {
        /// Path of the entry.
        path: String,
        /// What is missing.
        message: String,
    },

    /// The root route breaks one of its rules (`root route must specify a default
    /// receiver`, `root route must not have any matchers`, `cannot have continue in root
    /// route`, ...).
    #[error("{path}: {message}")]
    InvalidRootRoute {
        /// Path of the offending field.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A route names a receiver that is not defined: `undefined receiver "nope" used in
    /// route`.
    #[error("{path}: undefined receiver {} used in route", go_quote(.name))]
    UndefinedReceiver {
        /// Path of the route's `receiver` field.
        path: String,
        /// The receiver name.
        name: String,
    },

    /// A route names a time interval that is not defined: `undefined time interval "x"
    /// used in route`.
    #[error("{path}: undefined time interval {} used in route", go_quote(.name))]
    UndefinedTimeInterval {
        /// Path of the reference.
        path: String,
        /// The interval name.
        name: String,
    },

    /// Two receivers share a name: `notification config name "x" is not unique`.
    #[error("{path}: notification config name {} is not unique", go_quote(.name))]
    DuplicateReceiver {
        /// Path of the second receiver's `name`.
        path: String,
        /// The repeated name.
        name: String,
    },

    /// Two time intervals share a name (`mute_time_intervals` and `time_intervals` are one
    /// namespace): `time interval "x" is not unique`.
    #[error("{path}: {message}")]
    DuplicateTimeInterval {
        /// Path of the second interval's `name`.
        path: String,
        /// Alertmanager's wording (it differs between the two lists).
        message: String,
    },

    /// A name that is not a valid label name where one is required (`invalid label name
    /// "1abc"`, `invalid label name "a-b" in group_by list`, `"a-b" is not a valid label
    /// name`).
    #[error("{path}: {message}")]
    InvalidLabelName {
        /// Path of the name.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A `group_by` list Alertmanager refuses (duplicates, `...` mixed with names).
    #[error("{path}: {message}")]
    InvalidGroupBy {
        /// Path of the `group_by` list.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A matcher or regular expression that does not parse (`bad matcher format: foo`,
    /// `error parsing regexp: ...`, `invalid regexp value for "a"`).
    #[error("{path}: {message}")]
    InvalidMatcher {
        /// Path of the matcher string or `match_re` entry.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A duration Alertmanager refuses (`not a valid duration string: "5x"`,
    /// `group_interval cannot be zero`, `time: invalid duration "x"`).
    #[error("{path}: {message}")]
    InvalidDuration {
        /// Path of the duration.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A URL Alertmanager refuses (`unsupported scheme "ftp" for URL`, `missing host for
    /// URL`, `parse "...": ...`).
    #[error("{path}: {message}")]
    InvalidUrl {
        /// Path of the URL.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A `host:port` address Alertmanager refuses (`address localhost: missing port in
    /// address`).
    #[error("{path}: {message}")]
    InvalidAddress {
        /// Path of the address.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A required field is missing (`missing name in receiver`, `missing URL in webhook
    /// config`, `missing to address in email config`, ...).
    #[error("{path}: {message}")]
    MissingField {
        /// Path of the missing field.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// Two fields that exclude each other are both set (`at most one of api_url &
    /// api_url_file must be configured`, ...).
    #[error("{path}: {message}")]
    ConflictingFields {
        /// Path of the object holding both fields.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// An integration needs a value from `global` that is not set there either (`no
    /// global SMTP smarthost set`, `no global Slack API URL set either inline or in a
    /// file`, ...).
    #[error("{path}: {message}")]
    MissingGlobalDefault {
        /// Path of the integration field that needed the default.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A time interval Alertmanager refuses (`funday is not a valid weekday`, `start time
    /// cannot be equal or greater than end time`, `unknown time zone Mars/Olympus`, ...).
    #[error("{path}: {message}")]
    InvalidTimeInterval {
        /// Path of the offending value.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// Any other value Alertmanager refuses (telegram `parse_mode`, wechat
    /// `message_type`, opsgenie responders, sigv4 keys, TLS versions, ...).
    #[error("{path}: {message}")]
    InvalidValue {
        /// Path of the value.
        path: String,
        /// Alertmanager's wording.
        message: String,
    },

    /// A setting that Cortex or Mimir refuse in a tenant configuration (`setting
    /// password_file is not allowed`, `invalid template name "a/b": the template name
    /// cannot contain any path`, ...).
    #[error("{path}: {message}")]
    ForbiddenByTenantRules {
        /// Path of the setting.
        path: String,
        /// Cortex's (or Mimir's) wording.
        message: String,
    },

    /// A tenant configuration over one of the Cortex/Mimir per-tenant limits
    /// (`Alertmanager configuration is too big, limit: N bytes`, `too many templates in
    /// the configuration: N (limit: M)`, `template x is too big: N bytes (limit: M
    /// bytes)`).
    #[error("{path}: {message}")]
    OverTenantLimit {
        /// What is over the limit (`alertmanager_config`, `templates`, `templates[a.tmpl]`).
        path: String,
        /// Cortex's wording.
        message: String,
    },

    /// The conditions or endpoints given to the builder are invalid, or refer to
    /// something it does not hold (alert-core's error, which names the field path such
    /// as `conditions[cpu-high].endpoints[0].id`).
    #[error(transparent)]
    InvalidSpec(#[from] alert_core::Error),

    /// An endpoint a routed condition uses cannot be written for the target Alertmanager
    /// version (`endpoints[teams].msteams: ... msteams_configs arrived in 0.26`).
    #[error("{path}: {message}")]
    EndpointNotExpressible {
        /// `endpoints[<id>]`, with the field when one is to blame.
        path: String,
        /// What cannot be expressed, and why.
        message: String,
    },

    /// A name the builder writes is already taken in the base configuration (`receiver
    /// "ops-slack" from endpoint "ops-slack" collides with base config receivers[2]
    /// "ops-slack"`).
    #[error("{path}: {message}")]
    NameCollision {
        /// What the builder's name comes from (`endpoints[ops-slack]`, `history`).
        path: String,
        /// Both sides of the collision.
        message: String,
    },

    /// An endpoint cannot be removed while conditions attach it.
    #[error("{path}: {message}")]
    EndpointInUse {
        /// `endpoints[<id>]`.
        path: String,
        /// The conditions attaching it.
        message: String,
    },

    /// A route the builder would write waits less before a group's first notification
    /// than the last peer of the Alertmanager cluster waits for the others' notification
    /// log ([`crate::builder::BuildOptions::cluster`]):
    /// `conditions[cpu-high].endpoints[0].group_wait: route to endpoint "pager":
    /// group_wait 10s is shorter than the 30s the last of 3 peers waits before notifying
    /// (2 x peer_timeout 15s); a group's first notification may be sent twice`.
    #[error("{path}: {message}")]
    GroupWaitShorterThanClusterWait {
        /// Where the value is set (`conditions[<id>].endpoints[<i>].group_wait`,
        /// `conditions[<id>].throttle.group_wait`, `history.group_wait`), or the
        /// attachment (`conditions[<id>].endpoints[<i>]`) when it inherits the root's.
        path: String,
        /// The route, the value and the cluster's wait.
        message: String,
    },

    /// A builder option is invalid (`condition_group_by`, `history`).
    #[error("{path}: {message}")]
    InvalidOption {
        /// The option.
        path: String,
        /// What is wrong, in Alertmanager's words where it has them.
        message: String,
    },
}

impl Error {
    /// The message exactly as Alertmanager 0.25 (`amtool check-config`, Cortex/Mimir for
    /// the tenant rules) prints it, without the path this crate adds.
    ///
    /// ```
    /// use alert_router::error::Error;
    /// let e = Error::UndefinedReceiver { path: "route.receiver".into(), name: "nope".into() };
    /// assert_eq!(e.to_string(), "route.receiver: undefined receiver \"nope\" used in route");
    /// assert_eq!(e.alertmanager_message(), "undefined receiver \"nope\" used in route");
    /// ```
    pub fn alertmanager_message(&self) -> Cow<'_, str> {
        match self {
            Error::YamlSyntax { line, problem } => Cow::Owned(yaml_syntax_text(*line, problem)),
            Error::YamlDecode { faults } => Cow::Owned(format!(
                "yaml: unmarshal errors:{}",
                faults_text(faults, false)
            )),
            Error::EmptyConfig => Cow::Borrowed("no route provided in config"),
            Error::MissingRoute => Cow::Borrowed("no routes provided"),
            Error::UndefinedReceiver { name, .. } => Cow::Owned(format!(
                "undefined receiver {} used in route",
                go_quote(name)
            )),
            Error::UndefinedTimeInterval { name, .. } => Cow::Owned(format!(
                "undefined time interval {} used in route",
                go_quote(name)
            )),
            Error::DuplicateReceiver { name, .. } => Cow::Owned(format!(
                "notification config name {} is not unique",
                go_quote(name)
            )),
            Error::NullEntry { message, .. }
            | Error::InvalidRootRoute { message, .. }
            | Error::DuplicateTimeInterval { message, .. }
            | Error::InvalidLabelName { message, .. }
            | Error::InvalidGroupBy { message, .. }
            | Error::InvalidMatcher { message, .. }
            | Error::InvalidDuration { message, .. }
            | Error::InvalidUrl { message, .. }
            | Error::InvalidAddress { message, .. }
            | Error::MissingField { message, .. }
            | Error::ConflictingFields { message, .. }
            | Error::MissingGlobalDefault { message, .. }
            | Error::InvalidTimeInterval { message, .. }
            | Error::InvalidValue { message, .. }
            | Error::ForbiddenByTenantRules { message, .. }
            | Error::OverTenantLimit { message, .. }
            | Error::EndpointNotExpressible { message, .. }
            | Error::NameCollision { message, .. }
            | Error::EndpointInUse { message, .. }
            | Error::GroupWaitShorterThanClusterWait { message, .. }
            | Error::InvalidOption { message, .. } => Cow::Borrowed(message),
            Error::InvalidSpec(e) => Cow::Owned(e.to_string()),
        }
    }

    /// The configuration path the error is about, where it has one.
    ///
    /// ```
    /// use alert_router::error::Error;
    /// let e = Error::MissingField { path: "receivers[0].name".into(), message: "missing name in receiver".into() };
    /// assert_eq!(e.path(), Some("receivers[0].name"));
    /// assert_eq!(Error::EmptyConfig.path(), None);
    /// ```
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::YamlSyntax { .. } | Error::EmptyConfig => None,
            Error::YamlDecode { faults } => faults.first().map(|f| f.path.as_str()),
            Error::MissingRoute => Some("route"),
            Error::NullEntry { path, .. }
            | Error::InvalidRootRoute { path, .. }
            | Error::UndefinedReceiver { path, .. }
            | Error::UndefinedTimeInterval { path, .. }
            | Error::DuplicateReceiver { path, .. }
            | Error::DuplicateTimeInterval { path, .. }
            | Error::InvalidLabelName { path, .. }
            | Error::InvalidGroupBy { path, .. }
            | Error::InvalidMatcher { path, .. }
            | Error::InvalidDuration { path, .. }
            | Error::InvalidUrl { path, .. }
            | Error::InvalidAddress { path, .. }
            | Error::MissingField { path, .. }
            | Error::ConflictingFields { path, .. }
            | Error::MissingGlobalDefault { path, .. }
            | Error::InvalidTimeInterval { path, .. }
            | Error::InvalidValue { path, .. }
            | Error::ForbiddenByTenantRules { path, .. }
            | Error::OverTenantLimit { path, .. }
            | Error::EndpointNotExpressible { path, .. }
            | Error::NameCollision { path, .. }
            | Error::EndpointInUse { path, .. }
            | Error::GroupWaitShorterThanClusterWait { path, .. }
            | Error::InvalidOption { path, .. } => Some(path),
            Error::InvalidSpec(_) => None,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn yaml_syntax_text(line: Option<usize>, problem: &str) -> String {
    match line {
        Some(line) => format!("yaml: line {line}: {problem}"),
        None => format!("yaml: {problem}"),
    }
}

fn faults_text(faults: &[DecodeFault], with_paths: bool) -> String {
    let mut out = String::new();
    for f in faults {
        if with_paths {
            out.push_str(&format!("\n  {f}"));
        } else {
            out.push_str(&format!("\n  line {}: {}", f.line, f.message));
        }
    }
    out
}

/// Go's `%q` of a string, as Alertmanager's messages quote names.
pub(crate) use alert_core::go_quote::go_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_faults_print_like_yaml_v2() {
        let e = Error::YamlDecode {
            faults: vec![
                DecodeFault {
                    line: 3,
                    path: "route.recevier".into(),
                    message: "field recevier not found in type config.plain".into(),
                },
                DecodeFault {
                    line: 4,
                    path: "route.continue".into(),
                    message: "cannot unmarshal !!str `maybe` into bool".into(),
                },
            ],
        };
        assert_eq!(
            e.alertmanager_message(),
            "yaml: unmarshal errors:\n  line 3: field recevier not found in type config.plain\n  line 4: cannot unmarshal !!str `maybe` into bool"
        );
        assert_eq!(
            e.to_string(),
            "yaml: unmarshal errors:\n  line 3: route.recevier: field recevier not found in type config.plain\n  line 4: route.continue: cannot unmarshal !!str `maybe` into bool"
        );
        assert_eq!(e.path(), Some("route.recevier"));
    }

    #[test]
    fn syntax_errors_print_like_yaml_v2() {
        let e = Error::YamlSyntax {
            line: Some(3),
            problem: "mapping values are not allowed in this context".into(),
        };
        assert_eq!(
            e.to_string(),
            "yaml: line 3: mapping values are not allowed in this context"
        );
        let e = Error::YamlSyntax {
            line: None,
            problem: "control characters are not allowed".into(),
        };
        assert_eq!(
            e.alertmanager_message(),
            "yaml: control characters are not allowed"
        );
    }

    #[test]
    fn names_are_go_quoted() {
        let e = Error::DuplicateReceiver {
            path: "receivers[1].name".into(),
            name: "a\"b\n".into(),
        };
        assert_eq!(
            e.alertmanager_message(),
            "notification config name \"a\\\"b\\n\" is not unique"
        );
    }
}
