//! Reading and writing `alertmanager.yml`.
//!
//! Reading follows Go's yaml.v2 `UnmarshalStrict` as Alertmanager 0.25 uses it: YAML 1.1
//! scalars (`yes` is a boolean where a boolean is expected), unknown and repeated fields
//! reported together with their lines (`line 3: field recevier not found in type
//! config.plain`), type mismatches named (`cannot unmarshal !!str `maybe` into bool`),
//! and Alertmanager's own checks run where Alertmanager runs them. Writing produces
//! deterministic YAML both YAML 1.1 and 1.2 readers read back as the same values.
//!
//! Entry points: [`crate::config::Config::from_yaml`] and
//! [`crate::config::Config::to_yaml`]; [`quote`] writes one scalar.

mod decode;
mod node;
pub(crate) mod read;
mod resolve;
pub(crate) mod write;

/// One string as a YAML scalar that Go's yaml.v2 and YAML 1.2 readers both read back as
/// the same string: plain when that is safe, double-quoted otherwise.
///
/// ```
/// use alert_router::config::yaml::quote;
/// assert_eq!(quote("default"), "default");
/// assert_eq!(quote("yes"), "\"yes\"");
/// assert_eq!(quote("12:30"), "\"12:30\"");
/// assert_eq!(quote("line\nbreak"), "\"line\\nbreak\"");
/// ```
pub fn quote(s: &str) -> String {
    write::quote(s)
}
