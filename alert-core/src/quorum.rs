//! How many members of an HA Alertmanager (or Cortex/Mimir replicas) must answer a read,
//! or accept a post, for the call to succeed. Plain data shared by the clients that fan
//! out (`alert-cortex-adapter`'s `Cluster`) and the descriptions of a target that name it
//! (`alert-health-graph`'s graph files, the command lines).
//!
//! Written `majority`, `all` or a number of members from 1:
//!
//! ```
//! use alert_core::Quorum;
//! assert_eq!("all".parse::<Quorum>()?, Quorum::All);
//! assert_eq!("2".parse::<Quorum>()?, Quorum::AtLeast(2));
//! assert_eq!(Quorum::Majority.to_string(), "majority");
//! assert!("0".parse::<Quorum>().unwrap_err().to_string().starts_with("quorum: "));
//! assert_eq!(yaml_serde::from_str::<Quorum>("1").unwrap(), Quorum::AtLeast(1));
//! # Ok::<(), alert_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// How many members must answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Quorum {
    /// More than half of the members (2 of 3, both of 2), as Cortex's replication
    /// factor 3 needs.
    #[default]
    Majority,
    /// Every member.
    All,
    /// At least this many (clamped to 1 ..= members when counted).
    AtLeast(usize),
}

impl Quorum {
    /// The number of successful answers needed out of `members`.
    ///
    /// ```
    /// use alert_core::Quorum;
    /// assert_eq!(Quorum::Majority.needed(3), 2);
    /// assert_eq!(Quorum::Majority.needed(4), 3);
    /// assert_eq!(Quorum::Majority.needed(1), 1);
    /// assert_eq!(Quorum::All.needed(3), 3);
    /// assert_eq!(Quorum::AtLeast(0).needed(3), 1);
    /// assert_eq!(Quorum::AtLeast(9).needed(3), 3);
    /// ```
    pub fn needed(self, members: usize) -> usize {
        let n = match self {
            Quorum::Majority => members / 2 + 1,
            Quorum::All => members,
            Quorum::AtLeast(k) => k,
        };
        n.clamp(1, members.max(1))
    }
}

impl fmt::Display for Quorum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quorum::Majority => f.write_str("majority"),
            Quorum::All => f.write_str("all"),
            Quorum::AtLeast(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for Quorum {
    type Err = Error;

    fn from_str(s: &str) -> Result<Quorum> {
        match s {
            "majority" => Ok(Quorum::Majority),
            "all" => Ok(Quorum::All),
            n => match n.parse::<usize>() {
                Ok(k) if k >= 1 => Ok(Quorum::AtLeast(k)),
                _ => Err(Error::InvalidField {
                    field: "quorum".to_owned(),
                    value: n.to_owned(),
                    expected: "expected majority, all, or a number of members from 1".to_owned(),
                }),
            },
        }
    }
}

impl Serialize for Quorum {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Quorum::AtLeast(n) => s.serialize_u64(*n as u64),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Quorum {
    /// A word or a number (`quorum: 1` in YAML).
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u64),
            Word(String),
        }
        let text = match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("quorum: expected majority, all, or a number of members")
        })? {
            Raw::Count(n) => n.to_string(),
            Raw::Word(w) => w,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}
