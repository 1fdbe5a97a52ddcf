//! Ids of conditions, SLOs and endpoints.
//!
//! Every kind of id ends up in label values (`alert_condition_id="cpu-high"`), in
//! Alertmanager receiver names and in error paths (`endpoints[ops-slack].slack.api_url`),
//! so they are kept short and plain: 1 to 128 bytes of `A-Z a-z 0-9 _ . -`, starting
//! with a letter or digit. UUIDs and Opni's short UUIDs fit.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::field_path::FieldPath;

/// The longest condition, SLO or endpoint id, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// What an id must look like, as error messages say it.
pub(crate) const ID_FORM: &str =
    "1 to 128 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit";

/// Checks `id` against the id rules, reporting a fault at `path`.
pub(crate) fn check_id(path: &FieldPath, id: &str) -> Result<()> {
    let bytes = id.as_bytes();
    if bytes.is_empty() {
        return Err(path.missing());
    }
    let first_ok = bytes[0].is_ascii_alphanumeric();
    let rest_ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !first_ok || !rest_ok || bytes.len() > MAX_ID_LEN {
        return Err(path.invalid(id, ID_FORM));
    }
    Ok(())
}

/// Writes the identity every spec entry starts with: `id`, then `name` and
/// `description` when not empty.
pub(crate) fn serialize_identity<M: SerializeMap>(
    map: &mut M,
    id: &str,
    name: &str,
    description: &str,
) -> std::result::Result<(), M::Error> {
    map.serialize_entry("id", id)?;
    if !name.is_empty() {
        map.serialize_entry("name", name)?;
    }
    if !description.is_empty() {
        map.serialize_entry("description", description)?;
    }
    Ok(())
}

/// A spec entry's name for people: its name, or its id when the name is empty.
pub(crate) fn display_name<'a>(id: &'a str, name: &'a str) -> &'a str {
    if name.is_empty() { id } else { name }
}

/// Reads a string and validates it inside the visitor, so that a reader which tracks
/// paths (yaml_serde) reports the fault at the string's own field.
pub(crate) fn deserialize_validated<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T>,
) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct ValidatedStr<T> {
        expecting: &'static str,
        parse: fn(&str) -> Result<T>,
    }

    impl<T> Visitor<'_> for ValidatedStr<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<T, E> {
            (self.parse)(s).map_err(E::custom)
        }
    }

    deserializer.deserialize_str(ValidatedStr { expecting, parse })
}

/// Defines a validated id newtype; the id types differ only in name and docs. `$a` is
/// the article before `$what` in what the reader expects (`a condition id`, `an SLO id`).
macro_rules! validated_id {
    ($(#[$doc:meta])* $name:ident, $a:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Validates `id`: 1 to 128 bytes of `A-Z a-z 0-9 _ . -`, starting with a
            /// letter or digit. Errors name the field `id`.
            pub fn new(id: impl Into<String>) -> Result<$name> {
                let id = id.into();
                check_id(&FieldPath::root(concat!($what, " id")), &id)?;
                Ok($name(id))
            }

            /// The id.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// An id already checked by another id type of the same grammar.
            #[allow(dead_code)]
            pub(crate) fn from_validated(id: String) -> $name {
                $name(id)
            }

            /// The id, by value.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                $name::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;

            fn try_from(s: String) -> Result<Self> {
                $name::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;

            fn try_from(s: &str) -> Result<Self> {
                $name::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            /// Lets maps keyed by id be looked up with a `&str`.
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                deserialize_validated(deserializer, concat!($a, " ", $what, " id"), |s| $name::new(s))
            }
        }
    };
}

validated_id!(
    /// The id of an [`crate::AlertCondition`], unique among the conditions of a spec.
    ///
    /// It is the value of the [`crate::CONDITION_ID_LABEL`] label on the condition's
    /// alerts, which the router matches on.
    ///
    /// ```
    /// use alert_core::ConditionId;
    /// let id: ConditionId = "cpu-high".parse()?;
    /// assert_eq!(id.as_str(), "cpu-high");
    /// assert!(ConditionId::new("cpu high").is_err());
    /// assert!(ConditionId::new("").is_err());
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    ConditionId,
    "a",
    "condition"
);

validated_id!(
    /// The id of a [`crate::Slo`], unique among the SLOs of a spec and different from
    /// every condition id there.
    ///
    /// Like a condition's id, it is the value of the [`crate::CONDITION_ID_LABEL`] label
    /// on the SLO's alerts, which the router matches on.
    ///
    /// ```
    /// use alert_core::SloId;
    /// let id: SloId = "api-availability".parse()?;
    /// assert_eq!(id.as_str(), "api-availability");
    /// assert!(SloId::new("api availability").is_err());
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    SloId,
    "an",
    "SLO"
);

validated_id!(
    /// The id of an [`crate::AlertEndpoint`], unique among the endpoints of a spec;
    /// conditions attach endpoints by this id.
    ///
    /// ```
    /// use alert_core::EndpointId;
    /// let id: EndpointId = "ops-slack".parse()?;
    /// assert_eq!(id.to_string(), "ops-slack");
    /// assert!(EndpointId::new("-leading-dash").is_err());
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    EndpointId,
    "an",
    "endpoint"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_rules() {
        for ok in [
            "a",
            "0",
            "cpu-high",
            "ops_slack.v2",
            "3b6e1c9a-6c1b-4a6e-9d1f-2f8f0f0f0f0f",
            &"a".repeat(128),
        ] {
            assert_eq!(
                ConditionId::new(ok)
                    .map(ConditionId::into_string)
                    .as_deref(),
                Ok(ok)
            );
            assert!(EndpointId::new(ok).is_ok(), "{ok}");
            assert!(SloId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["-a", "_a", ".a", "a b", "a/b", "é", "a|b", &"a".repeat(129)] {
            let err = ConditionId::new(bad).unwrap_err();
            assert_eq!(
                err,
                Error::InvalidField {
                    field: "condition id".into(),
                    value: bad.into(),
                    expected: ID_FORM.into()
                }
            );
        }
        assert_eq!(
            EndpointId::new("").unwrap_err(),
            Error::MissingField {
                field: "endpoint id".into()
            }
        );
        assert_eq!(
            SloId::new("a b").unwrap_err(),
            Error::InvalidField {
                field: "SLO id".into(),
                value: "a b".into(),
                expected: ID_FORM.into()
            }
        );
    }

    #[test]
    fn serde_validates() {
        let id: EndpointId = serde_json::from_str("\"pager\"").expect("valid");
        assert_eq!(serde_json::to_string(&id).expect("ser"), "\"pager\"");
        let err = serde_json::from_str::<EndpointId>("\"a b\"").unwrap_err();
        assert!(err.to_string().starts_with("endpoint id: "), "{err}");
        let err = serde_json::from_str::<SloId>("1").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid type: integer `1`, expected an SLO id"),
            "{err}"
        );
    }
}
