//! Paths to fields of the domain model, as validation errors print them.
//!
//! A path reads like the spec file it points into: `endpoints[ops-slack].slack.api_url`,
//! `conditions[cpu-high].endpoints[0].repeat_interval`. Lists of things with ids are
//! indexed by id (`endpoints[ops-slack]`), other lists by position (`endpoints[0]`).

use std::fmt;

use crate::error::Error;

/// A field path under construction. Cheap to extend; only built when validating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath(String);

impl FieldPath {
    /// The path of a top-level list entry indexed by id: `list[id]`.
    pub(crate) fn keyed(list: &str, id: &str) -> FieldPath {
        FieldPath(format!("{list}[{id}]"))
    }

    /// A path that starts with one field name.
    pub(crate) fn root(name: &str) -> FieldPath {
        FieldPath(name.to_owned())
    }

    /// The path of field `name` below this one: `self.name`.
    pub(crate) fn field(&self, name: &str) -> FieldPath {
        FieldPath(format!("{}.{name}", self.0))
    }

    /// The path of entry `index` of the list at this path: `self[index]`.
    pub(crate) fn index(&self, index: usize) -> FieldPath {
        FieldPath(format!("{}[{index}]", self.0))
    }

    /// The path of entry `key` of the map at this path: `self[key]`.
    pub(crate) fn key(&self, key: &str) -> FieldPath {
        FieldPath(format!("{}[{key}]", self.0))
    }

    /// [`Error::MissingField`] at this path.
    pub(crate) fn missing(&self) -> Error {
        Error::MissingField {
            field: self.0.clone(),
        }
    }

    /// [`Error::InvalidField`] at this path.
    pub(crate) fn invalid(&self, value: impl Into<String>, expected: impl Into<String>) -> Error {
        Error::InvalidField {
            field: self.0.clone(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// Fails with [`Error::MissingField`] when `value` is empty.
    pub(crate) fn require(&self, value: &str) -> Result<(), Error> {
        if value.is_empty() {
            Err(self.missing())
        } else {
            Ok(())
        }
    }

    /// Fails with [`Error::MissingField`] when `value` is `Some("")`.
    pub(crate) fn require_if_set(&self, value: Option<&str>) -> Result<(), Error> {
        match value {
            Some(v) => self.require(v),
            None => Ok(()),
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_spec_file() {
        let p = FieldPath::keyed("conditions", "cpu-high")
            .field("endpoints")
            .index(0)
            .field("repeat_interval");
        assert_eq!(
            p.to_string(),
            "conditions[cpu-high].endpoints[0].repeat_interval"
        );
        assert_eq!(
            FieldPath::root("x").field("details").key("k").to_string(),
            "x.details[k]"
        );
        assert_eq!(
            FieldPath::root("a").missing(),
            Error::MissingField { field: "a".into() }
        );
        assert!(FieldPath::root("a").require("").is_err());
        assert!(FieldPath::root("a").require_if_set(Some("")).is_err());
        assert!(FieldPath::root("a").require_if_set(None).is_ok());
    }
}
