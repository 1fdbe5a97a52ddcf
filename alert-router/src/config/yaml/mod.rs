//! Reading and writing `alertmanager.yml`.
//!
//! Reading follows Go's yaml.v2 `UnmarshalStrict` as Alertmanager 0.25 uses it: YAML 1.1
//! scalars (`yes` is a boolean where a boolean is expected), unknown and repeated fields
//! reported together with their lines (`line 3: field recevier not found in type
//! config.plain`), type mismatches named (`cannot unmarshal !!str `maybe` into bool`),
//! and Alertmanager's own checks run where Alertmanager runs them. Writing produces
//! deterministic YAML both YAML 1.1 and 1.2 readers read back as the same values.
//!
//! The text is read as yaml.v2 reads it, before any decoding:
//!
//! * **Encoding.** [`crate::config::Config::from_yaml_bytes`] reads UTF-16 (either byte
//!   order) when a byte order mark says so and UTF-8 otherwise, skipping a UTF-8 byte
//!   order mark; bytes invalid in their encoding are refused with yaml.v2's reader
//!   messages (`yaml: invalid leading UTF-8 octet`).
//! * **Depth.** At most 10,000 nested flow collections and 10,000 block indentation
//!   levels (a block sequence written at its key's indentation takes none), as yaml.v2's
//!   scanner allows; one more is refused at once with `yaml: exceeded max depth of
//!   10000`, so a deeper document costs no more than one at the limit. The tree is built,
//!   copied and dropped without recursion; decoding a tree deeper than 100 levels runs on
//!   a thread of its own with a stack sized to the depth.
//! * **Tags.** `!!binary` values are base64-decoded where they are decoded into a value
//!   (`yaml: !!binary value contains invalid base64 data` ends decoding); an alias inside
//!   the node its anchor marks is followed once, as far as yaml.v2's decoding of
//!   Alertmanager's types goes round such a cycle.
//!
//! Entry points: [`crate::config::Config::from_yaml`],
//! [`crate::config::Config::from_yaml_bytes`] and [`crate::config::Config::to_yaml`];
//! [`quote`] writes one scalar; [`check_nesting`] guards other YAML readers (graph
//! files, specs) against the same deep-nesting cost.

mod decode;
mod events;
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

/// The deepest nesting [`check_nesting`] lets through by default: `yaml_serde`'s own
/// recursion limit, so nothing it would have read is refused.
pub const MAX_NESTING: usize = 128;

/// A document nested deeper than a reader allows, or one libyaml cannot parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NestingError {
    /// More than `limit` collections inside one another.
    #[error("line {line} column {column}: nested more than {limit} levels deep")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// 1-based line of the collection one level too deep.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The text is not YAML (the reader that follows would say so too).
    #[error("line {line} column {column}: {problem}")]
    Syntax {
        /// libyaml's description.
        problem: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
}

/// Checks, in time linear in the text, that no collection of `text` sits more than
/// `limit` levels deep, stopping at the first one that does.
///
/// `yaml_serde` (libyaml underneath) refuses documents deeper than 128 levels (the
/// document's top-level collection counts as one), but only
/// after work quadratic in the depth: a 100,000-deep flow list costs it about 25 s. A
/// reader of untrusted YAML calls this first, which refuses the same document after
/// reading `limit` levels of it.
///
/// ```
/// use alert_router::config::yaml::{check_nesting, NestingError, MAX_NESTING};
/// assert!(check_nesting("a: [1, {b: [2]}]\n", MAX_NESTING).is_ok());
/// let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
/// let e = check_nesting(&deep, MAX_NESTING).unwrap_err();
/// assert_eq!(e, NestingError::TooDeep { limit: 128, line: 1, column: 131 });
/// assert_eq!(e.to_string(), "line 1 column 131: nested more than 128 levels deep");
/// ```
pub fn check_nesting(text: &str, limit: usize) -> Result<(), NestingError> {
    let mut parser = events::Parser::new(text.as_bytes());
    let mut depth = 0usize;
    loop {
        match parser.next() {
            Ok(None) => return Ok(()),
            Ok(Some((event, mark))) => match event {
                events::Event::SequenceStart { .. } | events::Event::MappingStart { .. } => {
                    depth += 1;
                    if depth > limit {
                        return Err(NestingError::TooDeep {
                            limit,
                            line: mark.line + 1,
                            column: mark.column + 1,
                        });
                    }
                }
                events::Event::SequenceEnd | events::Event::MappingEnd => {
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            },
            Err(e) => {
                return Err(NestingError::Syntax {
                    problem: e.problem,
                    line: e.problem_mark.line + 1,
                    column: e.problem_mark.column + 1,
                });
            }
        }
    }
}
