//! How bad a condition is: `info < warning < error < critical`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The label name under which a condition's severity travels on its alerts
/// (`severity="critical"`), the Prometheus community's usual name.
pub const SEVERITY_LABEL: &str = "severity";

/// The severity of an alert condition, ordered from least to most urgent.
///
/// Written in lowercase everywhere (`Display`, `FromStr`, serde): `info`, `warning`,
/// `error`, `critical`. These are also exactly PagerDuty's Events v2 severities, so
/// [`Severity::as_str`] can be sent to PagerDuty as is.
///
/// [`Severity::from_label_value`] additionally reads common `severity` label values of
/// existing alerting rules; see its table.
///
/// ```
/// use alert_core::Severity;
///
/// assert!(Severity::Info < Severity::Warning);
/// assert!(Severity::Error < Severity::Critical);
/// assert_eq!("critical".parse::<Severity>()?, Severity::Critical);
/// assert_eq!(Severity::Warning.to_string(), "warning");
/// assert_eq!(Severity::from_label_value("page"), Some(Severity::Critical));
/// assert!("Critical".parse::<Severity>().is_err());
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nobody needs to act now.
    Info,
    /// Needs attention soon. The default when a condition names no severity.
    #[default]
    Warning,
    /// Something is broken and needs action.
    Error,
    /// Page someone now.
    Critical,
}

impl Severity {
    /// Every severity, least urgent first.
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ];

    /// The lowercase name: `info`, `warning`, `error` or `critical`. This is also the
    /// value of the [`SEVERITY_LABEL`] label on a condition's alerts.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    /// Reads a `severity` label value as alerting rules in the wild write it. The match
    /// ignores ASCII case and accepts these aliases:
    ///
    /// | severity | label values |
    /// |---|---|
    /// | `info` | `info`, `informational`, `notice`, `low` |
    /// | `warning` | `warning`, `warn`, `medium` |
    /// | `error` | `error`, `err`, `high`, `major` |
    /// | `critical` | `critical`, `crit`, `page`, `fatal`, `emergency` |
    ///
    /// Anything else (including the empty string) is `None`. Rancher Opni's
    /// capitalised values (`Info`, `Warning`, `Error`, `Critical`) read as expected.
    pub fn from_label_value(value: &str) -> Option<Severity> {
        const ALIASES: [(&str, Severity); 16] = [
            ("info", Severity::Info),
            ("informational", Severity::Info),
            ("notice", Severity::Info),
            ("low", Severity::Info),
            ("warning", Severity::Warning),
            ("warn", Severity::Warning),
            ("medium", Severity::Warning),
            ("error", Severity::Error),
            ("err", Severity::Error),
            ("high", Severity::Error),
            ("major", Severity::Error),
            ("critical", Severity::Critical),
            ("crit", Severity::Critical),
            ("page", Severity::Critical),
            ("fatal", Severity::Critical),
            ("emergency", Severity::Critical),
        ];
        ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(value))
            .map(|(_, severity)| *severity)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Error;

    /// Exactly one of the four lowercase names; see [`Severity::from_label_value`] for a
    /// lenient reading.
    fn from_str(s: &str) -> Result<Self> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str() == s)
            .ok_or_else(|| Error::InvalidField {
                field: "severity".to_owned(),
                value: s.to_owned(),
                expected: "one of info, warning, error, critical".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_urgency() {
        let mut shuffled = [
            Severity::Critical,
            Severity::Info,
            Severity::Error,
            Severity::Warning,
        ];
        shuffled.sort();
        assert_eq!(shuffled, Severity::ALL);
        assert_eq!(Severity::ALL.iter().max(), Some(&Severity::Critical));
    }

    #[test]
    fn text_forms_agree() {
        for severity in Severity::ALL {
            let text = severity.to_string();
            assert_eq!(text, severity.as_str());
            assert_eq!(text.parse::<Severity>(), Ok(severity));
            assert_eq!(Severity::from_label_value(&text), Some(severity));
            let json = serde_json::to_string(&severity).expect("serialise");
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<Severity>(&json).expect("read back"),
                severity
            );
        }
    }

    #[test]
    fn strict_parse_names_what_it_expects() {
        let err = "page".parse::<Severity>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "severity: one of info, warning, error, critical, got \"page\""
        );
        assert!(serde_json::from_str::<Severity>("\"Critical\"").is_err());
    }

    #[test]
    fn label_aliases() {
        assert_eq!(Severity::from_label_value("PAGE"), Some(Severity::Critical));
        assert_eq!(Severity::from_label_value("Warn"), Some(Severity::Warning));
        assert_eq!(Severity::from_label_value("major"), Some(Severity::Error));
        assert_eq!(Severity::from_label_value("Info"), Some(Severity::Info));
        assert_eq!(Severity::from_label_value(""), None);
        assert_eq!(Severity::from_label_value("pager"), None);
        assert_eq!(Severity::default(), Severity::Warning);
    }
}
