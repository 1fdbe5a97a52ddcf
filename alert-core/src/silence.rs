//! Silences as Alertmanager 0.25 keeps, validates and applies them, in the JSON shape
//! of its API v2 (`gettableSilence`, `postableSilence`, `matcher`).
//!
//! A silence mutes an alert while it is active if **all** its matchers match the alert's
//! labels (anchored regexes, a missing label counting as `""`). It is pending before
//! `startsAt`, active from `startsAt` through `endsAt` inclusive, and expired after.
//!
//! ```
//! use alert_core::silence::{ApiMatcher, PostableSilence, SilenceState};
//! use alert_core::{LabelSet, Timestamp};
//!
//! let body = r#"{"matchers": [{"name": "alertname", "value": "DiskFull", "isRegex": false},
//!                             {"name": "env", "value": "dev|qa", "isRegex": true}],
//!                "startsAt": "2024-05-01T10:00:00Z", "endsAt": "2024-05-01T12:00:00Z",
//!                "createdBy": "oncall", "comment": "disk replacement"}"#;
//! let posted: PostableSilence = serde_json::from_str(body)?;
//! let now: Timestamp = "2024-05-01T09:00:00Z".parse()?;
//! posted.check(now)?; // Alertmanager's API checks and `validateSilence`
//! let silence = posted.into_silence("6b8a1a5e-0000-4000-8000-000000000000", now)?;
//!
//! let alert = LabelSet::from_pairs([("alertname", "DiskFull"), ("env", "qa")])?;
//! let at: Timestamp = "2024-05-01T11:00:00Z".parse()?;
//! assert_eq!(silence.state_at(at), SilenceState::Active);
//! assert!(silence.mutes(&alert, at));
//! assert!(!silence.mutes(&alert, "2024-05-01T12:00:00.001Z".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::go_quote::go_quote;
use crate::labels::{LabelSet, is_valid_label_name};
use crate::matcher::{self, MatchType, Matcher, Matchers};
use crate::timestamp::Timestamp;

/// Where a silence stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Its end has passed.
    Expired,
    /// It mutes matching alerts.
    Active,
    /// It has not started.
    Pending,
}

impl SilenceState {
    /// The API's word: `expired`, `active` or `pending`.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Expired => "expired",
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
        }
    }
}

impl fmt::Display for SilenceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The API's `silenceStatus` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SilenceStatus {
    /// The state when the silence was read.
    pub state: SilenceState,
}

/// The API v2 `matcher` object: `{name, value, isRegex, isEqual}`.
///
/// `isEqual` defaults to `true` when absent, as in Alertmanager's schema; `isEqual:
/// false, isRegex: true` is `!~`.
///
/// ```
/// use alert_core::silence::ApiMatcher;
/// use alert_core::{MatchType, Matcher};
///
/// let api: ApiMatcher = serde_json::from_str(r#"{"name":"env","value":"prod.*","isRegex":true}"#)?;
/// let m = Matcher::try_from(api)?;
/// assert_eq!(m.match_type(), MatchType::Regexp);
/// assert_eq!(
///     serde_json::to_string(&ApiMatcher::from(&m))?,
///     r#"{"isEqual":true,"isRegex":true,"name":"env","value":"prod.*"}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    /// `=`/`=~` rather than `!=`/`!~`.
    #[serde(default = "default_is_equal")]
    pub is_equal: bool,
    /// `=~`/`!~`.
    pub is_regex: bool,
    /// The label name.
    pub name: String,
    /// The value or pattern.
    pub value: String,
}

fn default_is_equal() -> bool {
    true
}

impl ApiMatcher {
    /// The match type the two flags denote.
    pub fn match_type(&self) -> MatchType {
        match (self.is_equal, self.is_regex) {
            (true, false) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (false, true) => MatchType::NotRegexp,
        }
    }
}

impl From<&Matcher> for ApiMatcher {
    fn from(m: &Matcher) -> ApiMatcher {
        let t = m.match_type();
        ApiMatcher {
            is_equal: t.is_positive(),
            is_regex: t.is_regex(),
            name: m.name().to_owned(),
            value: m.value().to_owned(),
        }
    }
}

impl TryFrom<ApiMatcher> for Matcher {
    type Error = Error;

    /// Builds the matcher (compiling a regex anchored, as Alertmanager does).
    fn try_from(api: ApiMatcher) -> Result<Matcher> {
        Matcher::new(api.match_type(), api.name, api.value)
    }
}

impl TryFrom<&ApiMatcher> for Matcher {
    type Error = Error;

    fn try_from(api: &ApiMatcher) -> Result<Matcher> {
        Matcher::new(api.match_type(), api.name.clone(), api.value.clone())
    }
}

/// A silence as the API v2 returns it (`gettableSilence`).
///
/// JSON keys come in Alertmanager's order; instants are written as Alertmanager writes
/// them (UTC, milliseconds: `2024-05-01T10:00:00.000Z`) and read in any RFC 3339 form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// The silence's id (a UUID when Alertmanager made it).
    pub id: String,
    /// All must match for an alert to be muted.
    pub matchers: Matchers,
    /// When it starts muting.
    pub starts_at: Timestamp,
    /// When it stops muting (inclusive).
    pub ends_at: Timestamp,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// Its state when it was read.
    pub status: SilenceStatus,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

impl Silence {
    /// Alertmanager's `getState`: pending before `startsAt`, expired after `endsAt`,
    /// active in between (both ends inclusive).
    pub fn state_at(&self, at: Timestamp) -> SilenceState {
        if at < self.starts_at {
            SilenceState::Pending
        } else if at > self.ends_at {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// Whether the silence mutes an alert with `labels` at `at`: it is active and all
    /// its matchers match.
    pub fn mutes(&self, labels: &LabelSet, at: Timestamp) -> bool {
        self.state_at(at) == SilenceState::Active && self.matchers.matches(labels)
    }

    /// The same silence with `status` recomputed for `at`.
    pub fn with_status_at(mut self, at: Timestamp) -> Silence {
        self.status = SilenceStatus {
            state: self.state_at(at),
        };
        self
    }

    /// Alertmanager 0.25's `validateSilence`, with its messages:
    ///
    /// * no matchers: [`Error::NoSilenceMatchers`] (`at least one matcher required`);
    /// * a label name that is not `[a-zA-Z_][a-zA-Z0-9_]*`, or a regex Go cannot compile
    ///   **unanchored**: [`Error::InvalidSilence`] (`invalid label matcher 0: invalid
    ///   regular expression "(a": error parsing regexp: missing closing ): `(a``);
    /// * every matcher matches `""` (`=""`, or `=~` whose unanchored pattern matches the
    ///   empty string; `!=` and `!~` never count): [`Error::AllMatchersMatchEmpty`];
    /// * a zero (`0001-01-01T00:00:00Z`) start or end, or an end before the start:
    ///   [`Error::InvalidSilence`].
    ///
    /// Alertmanager's API puts `silence invalid: ` before these messages.
    pub fn validate(&self) -> Result<()> {
        validate_matchers(
            self.matchers
                .iter()
                .map(|m| (m.name(), m.match_type(), m.value())),
        )?;
        validate_times(self.starts_at, self.ends_at)
    }
}

/// The matcher rules of Alertmanager 0.25's `validateSilence`, on name, type and value.
fn validate_matchers<'a>(
    matchers: impl ExactSizeIterator<Item = (&'a str, MatchType, &'a str)>,
) -> Result<()> {
    if matchers.len() == 0 {
        return Err(Error::NoSilenceMatchers);
    }
    let mut all_match_empty = true;
    for (i, (name, match_type, value)) in matchers.enumerate() {
        if !is_valid_label_name(name) {
            return Err(invalid(format!(
                "invalid label matcher {i}: invalid label name {}",
                go_quote(name)
            )));
        }
        if match_type.is_regex()
            && let Err(e) = matcher::check_regex_unanchored(value)
        {
            return Err(invalid(format!(
                "invalid label matcher {i}: invalid regular expression {}: {e}",
                go_quote(value)
            )));
        }
        all_match_empty = all_match_empty && matcher::go_matches_empty(match_type, value);
    }
    if all_match_empty {
        return Err(Error::AllMatchersMatchEmpty);
    }
    Ok(())
}

/// The time rules of Alertmanager 0.25's `validateSilence`.
fn validate_times(starts_at: Timestamp, ends_at: Timestamp) -> Result<()> {
    if starts_at.is_go_zero() {
        return Err(invalid("invalid zero start timestamp".to_owned()));
    }
    if ends_at.is_go_zero() {
        return Err(invalid("invalid zero end timestamp".to_owned()));
    }
    if ends_at < starts_at {
        return Err(invalid("end time must not be before start time".to_owned()));
    }
    Ok(())
}

fn invalid(reason: String) -> Error {
    Error::InvalidSilence { reason }
}

/// A silence as posted to the API v2 (`postableSilence`): no status, optional id, and
/// matchers as the API objects, not yet compiled (Alertmanager validates them before it
/// compiles them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostableSilence {
    /// Set to update an existing silence.
    pub id: Option<String>,
    /// All must match for an alert to be muted.
    pub matchers: Vec<ApiMatcher>,
    /// When it starts muting.
    pub starts_at: Timestamp,
    /// When it stops muting.
    pub ends_at: Timestamp,
    /// Who makes it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl PostableSilence {
    /// A postable silence for compiled matchers.
    pub fn new(
        matchers: &Matchers,
        starts_at: Timestamp,
        ends_at: Timestamp,
        created_by: impl Into<String>,
        comment: impl Into<String>,
    ) -> PostableSilence {
        PostableSilence {
            id: None,
            matchers: matchers_to_api(matchers),
            starts_at,
            ends_at,
            created_by: created_by.into(),
            comment: comment.into(),
        }
    }

    /// What Alertmanager 0.25 checks when this is posted at `now`, in its order and
    /// words: the API's own checks (the start strictly before the end, the end not in
    /// the past; the API prefixes these with `Failed to create silence: `), then
    /// `validateSilence` on the silence as it would be stored (the API prefixes those with
    /// `silence invalid: `); see [`Silence::validate`].
    pub fn check(&self, now: Timestamp) -> Result<()> {
        if self.starts_at >= self.ends_at {
            return Err(invalid("start time must be before end time".to_owned()));
        }
        if self.ends_at < now {
            return Err(invalid("end time can't be in the past".to_owned()));
        }
        validate_matchers(
            self.matchers
                .iter()
                .map(|m| (m.name.as_str(), m.match_type(), m.value.as_str())),
        )?;
        validate_times(self.stored_start(now), self.ends_at)
    }

    /// `startsAt` as Alertmanager's `Silences.Set` stores it: a start in the past is
    /// moved to `now`.
    fn stored_start(&self, now: Timestamp) -> Timestamp {
        if self.starts_at < now {
            now
        } else {
            self.starts_at
        }
    }

    /// The stored silence: the posted id or `new_id`, the start moved to `now` if it is in
    /// the past, `updatedAt` = `now`, and the matchers compiled as Alertmanager compiles
    /// them (anchored). A pattern Go only compiles unanchored (`\Qabc`) is an error here;
    /// Alertmanager would store such a silence and never match with it.
    pub fn into_silence(self, new_id: &str, now: Timestamp) -> Result<Silence> {
        let starts_at = self.stored_start(now);
        let matchers = self
            .matchers
            .iter()
            .map(Matcher::try_from)
            .collect::<Result<Matchers>>()?;
        let silence = Silence {
            id: self.id.unwrap_or_else(|| new_id.to_owned()),
            matchers,
            starts_at,
            ends_at: self.ends_at,
            created_by: self.created_by,
            comment: self.comment,
            status: SilenceStatus {
                state: SilenceState::Pending,
            },
            updated_at: now,
        };
        Ok(silence.with_status_at(now))
    }
}

/// Instants as go-openapi's `strfmt.DateTime` writes them: UTC, three fractional digits.
mod api_time {
    use super::Timestamp;
    use serde::Serializer;

    pub(super) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        let instant: jiff::Timestamp = (*t).into();
        s.collect_str(&instant.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
    }
}

fn matchers_to_api(matchers: &Matchers) -> Vec<ApiMatcher> {
    matchers.iter().map(ApiMatcher::from).collect()
}

fn matchers_from_api<E: serde::de::Error>(
    api: Vec<ApiMatcher>,
) -> std::result::Result<Matchers, E> {
    api.into_iter()
        .enumerate()
        .map(|(i, m)| Matcher::try_from(m).map_err(|e| E::custom(format!("matchers[{i}]: {e}"))))
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GettableOut<'a> {
    id: &'a str,
    status: SilenceStatus,
    #[serde(with = "api_time")]
    updated_at: &'a Timestamp,
    comment: &'a str,
    created_by: &'a str,
    #[serde(with = "api_time")]
    ends_at: &'a Timestamp,
    matchers: Vec<ApiMatcher>,
    #[serde(with = "api_time")]
    starts_at: &'a Timestamp,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GettableIn {
    id: String,
    status: SilenceStatus,
    updated_at: Timestamp,
    comment: String,
    created_by: String,
    ends_at: Timestamp,
    matchers: Vec<ApiMatcher>,
    starts_at: Timestamp,
}

impl Serialize for Silence {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        GettableOut {
            id: &self.id,
            status: self.status,
            updated_at: &self.updated_at,
            comment: &self.comment,
            created_by: &self.created_by,
            ends_at: &self.ends_at,
            matchers: matchers_to_api(&self.matchers),
            starts_at: &self.starts_at,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Silence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = GettableIn::deserialize(deserializer)?;
        Ok(Silence {
            id: raw.id,
            matchers: matchers_from_api(raw.matchers)?,
            starts_at: raw.starts_at,
            ends_at: raw.ends_at,
            created_by: raw.created_by,
            comment: raw.comment,
            status: raw.status,
            updated_at: raw.updated_at,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostableOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    comment: &'a str,
    created_by: &'a str,
    #[serde(with = "api_time")]
    ends_at: &'a Timestamp,
    matchers: &'a [ApiMatcher],
    #[serde(with = "api_time")]
    starts_at: &'a Timestamp,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostableIn {
    #[serde(default)]
    id: Option<String>,
    comment: String,
    created_by: String,
    ends_at: Timestamp,
    matchers: Vec<ApiMatcher>,
    starts_at: Timestamp,
}

impl Serialize for PostableSilence {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        PostableOut {
            id: self.id.as_deref(),
            comment: &self.comment,
            created_by: &self.created_by,
            ends_at: &self.ends_at,
            matchers: &self.matchers,
            starts_at: &self.starts_at,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PostableSilence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = PostableIn::deserialize(deserializer)?;
        Ok(PostableSilence {
            id: raw.id.filter(|id| !id.is_empty()),
            matchers: raw.matchers,
            starts_at: raw.starts_at,
            ends_at: raw.ends_at,
            created_by: raw.created_by,
            comment: raw.comment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_escapes_like_percent_q() {
        assert_eq!(go_quote("a\"b\\c\n\x01é"), "\"a\\\"b\\\\c\\n\\x01é\"");
    }

    #[test]
    fn api_matcher_flags() {
        for (eq, re, t) in [
            (true, false, MatchType::Equal),
            (false, false, MatchType::NotEqual),
            (true, true, MatchType::Regexp),
            (false, true, MatchType::NotRegexp),
        ] {
            let api = ApiMatcher {
                is_equal: eq,
                is_regex: re,
                name: "a".into(),
                value: "b".into(),
            };
            let m = Matcher::try_from(&api).expect("valid");
            assert_eq!(m.match_type(), t);
            assert_eq!(ApiMatcher::from(&m), api);
        }
    }
}
