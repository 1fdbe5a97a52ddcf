//! Tenant ids: the cluster a condition belongs to, as Cortex and Mimir name tenants.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::id::deserialize_validated;

/// The longest tenant id Cortex and Mimir accept, in bytes.
pub const MAX_TENANT_ID_LEN: usize = 150;

/// Names Cortex reserves in its object-store layout and refuses as tenant ids.
const RESERVED_TENANT_IDS: [&str; 2] = ["__markers__", "user-index.json.gz"];

/// A tenant (cluster) id that Cortex and Mimir accept in `X-Scope-OrgID`.
///
/// The rules are Cortex's `ValidTenantID` plus its reserved names (dskit and Mimir have
/// the same): 1 to 150 bytes of `A-Z a-z 0-9` and `! - _ . * ' ( )`, and not `.`, `..`,
/// `__markers__` or `user-index.json.gz`. Multi-tenant ids (`a|b`) are therefore rejected,
/// as a single tenant's routes expect. Cortex lets the empty id through this check but
/// refuses a missing org id elsewhere; here it is rejected outright.
///
/// Serialised as a plain string and validated when read.
///
/// ```
/// use alert_core::TenantId;
///
/// let tenant: TenantId = "cluster-a".parse()?;
/// assert_eq!(tenant.as_str(), "cluster-a");
/// assert!(TenantId::new("a|b").is_err());
/// assert!(TenantId::new("..").is_err());
/// assert!(TenantId::new("x".repeat(151)).is_err());
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(String);

/// Whether `b` may appear in a tenant id.
fn is_tenant_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'!' | b'-' | b'_' | b'.' | b'*' | b'\'' | b'(' | b')')
}

impl TenantId {
    /// Validates `id` (see the type's rules).
    ///
    /// The checks run in Cortex's order, so the reason is the one Cortex would give:
    /// unsupported character first, then length, then the reserved names.
    pub fn new(id: impl Into<String>) -> Result<TenantId> {
        let id = id.into();
        let invalid = |reason: String| Error::InvalidTenantId {
            id: id.clone(),
            reason,
        };
        if id.is_empty() {
            return Err(invalid("tenant ID is empty".to_owned()));
        }
        if let Some(c) = id
            .chars()
            .find(|c| !c.is_ascii() || !is_tenant_id_byte(*c as u8))
        {
            return Err(invalid(format!(
                "tenant ID contains unsupported character {c:?}; \
                 allowed are A-Z a-z 0-9 and ! - _ . * ' ( )"
            )));
        }
        if id.len() > MAX_TENANT_ID_LEN {
            return Err(invalid(format!(
                "tenant ID is too long: max {MAX_TENANT_ID_LEN} characters, got {}",
                id.len()
            )));
        }
        if id == "." || id == ".." {
            return Err(invalid("tenant ID is '.' or '..'".to_owned()));
        }
        if RESERVED_TENANT_IDS.contains(&id.as_str()) {
            return Err(invalid(format!("tenant ID '{id}' is not allowed")));
        }
        Ok(TenantId(id))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        TenantId::new(s)
    }
}

impl TryFrom<String> for TenantId {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        TenantId::new(s)
    }
}

impl TryFrom<&str> for TenantId {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self> {
        TenantId::new(s)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for TenantId {
    /// Lets maps keyed by tenant be looked up with a `&str`.
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for TenantId {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserialize_validated(deserializer, "a tenant id", |s| TenantId::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(id: &str) -> String {
        match TenantId::new(id) {
            Err(Error::InvalidTenantId { reason, .. }) => reason,
            other => panic!("{id:?}: {other:?}"),
        }
    }

    #[test]
    fn accepts_cortex_ids() {
        for ok in [
            "a",
            "cluster-a",
            "Tenant_01",
            "!-_.*'()",
            "...",
            ".a",
            "fake",
            &"x".repeat(150),
        ] {
            assert_eq!(
                TenantId::new(ok).map(TenantId::into_string).as_deref(),
                Ok(ok)
            );
        }
    }

    #[test]
    fn rejects_with_cortex_reasons() {
        assert_eq!(reason(""), "tenant ID is empty");
        assert!(reason("a|b").contains("unsupported character '|'"));
        assert!(reason("forward/slash").contains("unsupported character '/'"));
        assert!(reason("a b").contains("unsupported character ' '"));
        assert!(reason("é").contains("unsupported character 'é'"));
        assert_eq!(
            reason(&"x".repeat(151)),
            "tenant ID is too long: max 150 characters, got 151"
        );
        // Cortex checks characters before length.
        assert!(reason(&"/".repeat(200)).contains("unsupported character"));
        assert_eq!(reason("."), "tenant ID is '.' or '..'");
        assert_eq!(reason(".."), "tenant ID is '.' or '..'");
        assert_eq!(
            reason("__markers__"),
            "tenant ID '__markers__' is not allowed"
        );
        assert_eq!(
            reason("user-index.json.gz"),
            "tenant ID 'user-index.json.gz' is not allowed"
        );
    }

    #[test]
    fn serde_validates() {
        let t: TenantId = serde_json::from_str("\"cluster-a\"").expect("valid");
        assert_eq!(serde_json::to_string(&t).expect("ser"), "\"cluster-a\"");
        let err = serde_json::from_str::<TenantId>("\"a/b\"").unwrap_err();
        assert!(
            err.to_string().starts_with("invalid tenant id \"a/b\""),
            "{err}"
        );
    }

    #[test]
    fn borrows_as_str() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(TenantId::new("t1").expect("valid"), 1);
        assert_eq!(map.get("t1"), Some(&1));
    }
}
