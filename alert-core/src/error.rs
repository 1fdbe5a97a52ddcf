//! The one error type of `alert-core`.
//!
//! Variants are named for what went wrong. Where Alertmanager has a message for the same
//! fault, the `Display` text is Alertmanager 0.25's wording, so that a user who knows
//! `amtool` recognises it.

/// Everything that can go wrong while reading or validating the values of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A label name that is not a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    #[error("invalid label name {name:?}")]
    InvalidLabelName {
        /// The offending name.
        name: String,
    },

    /// The same label name appeared twice where names must be unique.
    #[error("duplicate label name {name:?}")]
    DuplicateLabelName {
        /// The repeated name.
        name: String,
    },

    /// A label set whose names and values together exceed what one set can hold (4 GiB).
    #[error("label set too large: {bytes} bytes of names and values, at most 4294967295")]
    LabelSetTooLarge {
        /// The total length of the names and values.
        bytes: usize,
    },

    /// A fingerprint that is not 1 to 16 hexadecimal digits.
    #[error("invalid fingerprint {input:?}: expected 1 to 16 hexadecimal digits")]
    InvalidFingerprint {
        /// The offending text.
        input: String,
    },

    /// A duration string that Alertmanager's grammar rejects.
    #[error("not a valid duration string: {input:?}")]
    InvalidDuration {
        /// The offending text.
        input: String,
    },

    /// The empty string where a duration was expected.
    #[error("empty duration string")]
    EmptyDuration,

    /// A duration larger than Go's `time.Duration` can hold (about 292 years).
    #[error("duration out of range: {input:?}")]
    DurationOutOfRange {
        /// The offending text.
        input: String,
    },

    /// A timestamp that Go's `time.Time` does not read (see
    /// [`Timestamp::parse_rfc3339`](crate::Timestamp::parse_rfc3339)), or an instant
    /// outside the range a [`Timestamp`](crate::Timestamp) holds.
    #[error("{}{input:?}: expected {expected}", field_prefix(.field))]
    InvalidTimestamp {
        /// Where the value was (`alerts[3].startsAt`, `start`); empty when not known.
        field: String,
        /// The offending text.
        input: String,
        /// What would have been read, for example `an RFC 3339 timestamp such as
        /// 2006-01-02T15:04:05Z07:00`.
        expected: String,
    },

    /// A matcher string the classic parser cannot read (`bad matcher format: <input>`).
    #[error("bad matcher format: {input}")]
    BadMatcherFormat {
        /// The matcher text as the parser saw it.
        input: String,
    },

    /// A quoted matcher value with an unescaped `"` inside it.
    #[error("matcher value contains unescaped double quote: {value}")]
    UnescapedDoubleQuote {
        /// The raw value text.
        value: String,
    },

    /// A regular expression that Go's RE2 (and so Alertmanager) rejects.
    #[error("error parsing regexp: {reason}")]
    InvalidRegex {
        /// The pattern as written (before anchoring).
        pattern: String,
        /// Go's wording of the fault where we know it, otherwise the compiler's.
        reason: String,
    },

    /// A syntax error from the UTF-8 matcher parser, with rune columns as Alertmanager
    /// prints them (`0:8: end of input: expected close brace`).
    #[error("{position}{message}")]
    MatcherSyntax {
        /// `"start:end: "`, or empty when the fault has no position (end of input).
        position: String,
        /// What was found and what was expected.
        message: String,
    },

    /// A single matcher was required but the input held none.
    #[error("no matchers")]
    NoMatchers,

    /// A single matcher was required but the input held several.
    #[error("expected 1 matcher, found {found}")]
    ExpectedOneMatcher {
        /// How many matchers the input held.
        found: usize,
    },

    /// A silence (or other muting rule) whose matchers all match the empty string,
    /// so it would mute every alert.
    #[error("at least one matcher must not match the empty string")]
    AllMatchersMatchEmpty,

    /// A silence without matchers.
    #[error("at least one matcher required")]
    NoSilenceMatchers,

    /// A silence that Alertmanager's `validateSilence` or silence API rejects for any
    /// other reason, in Alertmanager's words (`invalid label matcher 0: invalid label name
    /// "1abc"`, `invalid zero start timestamp`, `end time must not be before start time`).
    #[error("{reason}")]
    InvalidSilence {
        /// Alertmanager's message.
        reason: String,
    },

    /// A time range whose end is not after its start.
    #[error("{field}: start time must be before end time")]
    EndBeforeStart {
        /// Which value the range belongs to (for example `silence`).
        field: String,
    },

    /// A required field is missing or empty.
    #[error("{field}: missing required value")]
    MissingField {
        /// The field's path, for example `endpoints[2].slack.api_url`.
        field: String,
    },

    /// A field holds a value of the right type but outside what is allowed.
    #[error("{field}: {expected}, got {value:?}")]
    InvalidField {
        /// The field's path.
        field: String,
        /// The offending value (secrets are never put here).
        value: String,
        /// What would have been accepted.
        expected: String,
    },

    /// A tenant (cluster) id that Cortex and Mimir would refuse.
    #[error("invalid tenant id {id:?}: {reason}")]
    InvalidTenantId {
        /// The offending id.
        id: String,
        /// Which rule it breaks.
        reason: String,
    },

    /// A value that should have been JSON or an enumeration member could not be read.
    #[error("{field}: {reason}")]
    Decode {
        /// Where the value was.
        field: String,
        /// The decoder's message.
        reason: String,
    },
}

/// `"field: "`, or nothing when the field is not known.
fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
