//! What a node reports: a [`State`], messages that say why, and when it was observed.

use std::fmt;

use alert_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::state::State;

/// How important a message is: OpenTelemetry's severity numbers, as Alpacalert uses them.
///
/// ```
/// use alert_health_graph::Level;
/// assert_eq!(Level::Error.to_string(), "ERROR");
/// assert_eq!(Level::Warn.number(), 13);
/// assert!(Level::Info < Level::Warn);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fine-grained diagnostics.
    Trace,
    /// Diagnostics.
    Debug,
    /// Informational.
    Info,
    /// Something is not right, but works.
    Warn,
    /// Something does not work.
    Error,
    /// Nothing works.
    Fatal,
}

impl Level {
    /// The OpenTelemetry `SeverityNumber` (the lowest of the level's range).
    pub const fn number(self) -> u8 {
        match self {
            Level::Trace => 1,
            Level::Debug => 5,
            Level::Info => 9,
            Level::Warn => 13,
            Level::Error => 17,
            Level::Fatal => 21,
        }
    }

    /// The level a message explaining `state` gets by default: `INFO` for passing and
    /// pending, `WARN` for degraded and unknown, `ERROR` for failing.
    pub const fn for_state(state: State) -> Level {
        match state {
            State::Passing | State::Pending => Level::Info,
            State::Degraded | State::Unknown => Level::Warn,
            State::Failing => Level::Error,
        }
    }

    /// `"TRACE"` … `"FATAL"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of explanation attached to a status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusMessage {
    /// How important it is.
    pub severity: Level,
    /// What happened, for a human.
    pub text: String,
}

impl StatusMessage {
    /// A message with this severity and text.
    pub fn new(severity: Level, text: impl Into<String>) -> StatusMessage {
        StatusMessage {
            severity,
            text: text.into(),
        }
    }
}

impl fmt::Display for StatusMessage {
    /// `SEVERITY: text`, as the console visualiser prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.text)
    }
}

/// What a sensor read: a state and its messages, before the evaluator stamps a time on it.
///
/// ```
/// use alert_health_graph::{Level, Reading, State};
/// let r = Reading::new(State::Failing).with_message(Level::Error, "connection refused");
/// assert_eq!(r.messages[0].to_string(), "ERROR: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reading {
    /// The judged state.
    pub state: State,
    /// Why.
    #[serde(default)]
    pub messages: Vec<StatusMessage>,
}

impl Reading {
    /// A reading with no messages.
    pub fn new(state: State) -> Reading {
        Reading {
            state,
            messages: Vec::new(),
        }
    }

    /// A reading with one message at the state's default level ([`Level::for_state`]).
    pub fn explained(state: State, text: impl Into<String>) -> Reading {
        Reading::new(state).with_message(Level::for_state(state), text)
    }

    /// The same reading with one more message.
    pub fn with_message(mut self, severity: Level, text: impl Into<String>) -> Reading {
        self.messages.push(StatusMessage::new(severity, text));
        self
    }

    /// The worst of several judged items (alerts, series), with one message per item,
    /// worst first, at most `listed` of them and then `and N more <noun>`. Passing items
    /// get `INFO` messages, others their state's level. `None` without items.
    ///
    /// ```
    /// use alert_health_graph::{Reading, State};
    /// let items = vec![(State::Passing, "a ok".to_owned()), (State::Failing, "b down".to_owned())];
    /// let r = Reading::worst_of(items, 1, "series").unwrap();
    /// assert_eq!(r.state, State::Failing);
    /// let texts: Vec<String> = r.messages.iter().map(ToString::to_string).collect();
    /// assert_eq!(texts, ["ERROR: b down", "INFO: and 1 more series"]);
    /// ```
    pub fn worst_of(mut items: Vec<(State, String)>, listed: usize, noun: &str) -> Option<Reading> {
        items.sort_by_key(|item| std::cmp::Reverse(item.0));
        let mut reading = Reading::new(items.first()?.0);
        let more = items.len().saturating_sub(listed);
        for (state, text) in items.into_iter().take(listed) {
            let level = if state.is_passing() {
                Level::Info
            } else {
                Level::for_state(state)
            };
            reading = reading.with_message(level, text);
        }
        if more > 0 {
            reading = reading.with_message(Level::Info, format!("and {more} more {noun}"));
        }
        Some(reading)
    }

    /// This reading, observed at `at`.
    pub fn at(self, at: Timestamp) -> Status {
        Status {
            state: self.state,
            messages: self.messages,
            observed_at: at,
        }
    }
}

/// A node's state, the messages that explain it, and when it was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The state.
    pub state: State,
    /// Why (may be empty).
    pub messages: Vec<StatusMessage>,
    /// When the state was observed.
    pub observed_at: Timestamp,
}

impl Status {
    /// A status with one message at the state's default level.
    pub fn explained(state: State, text: impl Into<String>, at: Timestamp) -> Status {
        Reading::explained(state, text).at(at)
    }
}
