//! amtool's configuration file: defaults for flags, read from YAML.
//!
//! Debian's amtool 0.25 (the one these tools are checked against) reads
//! `$HOME/.config/prometheus/amtool.yml`, then `/etc/prometheus/amtool.yml`; upstream's
//! reads `$HOME/.config/amtool/config.yml` and `/etc/amtool/config.yml` instead. Each
//! file is a mapping of flag name (`alertmanager.url`, `output`, `author`,
//! `require-comment`, `date.format`, …) to a scalar value. Both files are read; a key in
//! an earlier file wins over the same key in a later one, and the legacy key
//! `comment_required` stands for `require-comment` unless the same file also has
//! `require-comment` (amtool's `cli/config.NewResolver`). A missing file is skipped.
//!
//! Which flags a value applies to, and that the command line wins, is
//! [`super::command_line`]'s business.

use std::fmt;
use std::path::{Path, PathBuf};

/// The files amtool reads, in order: `$HOME/.config/prometheus/amtool.yml` (when `HOME`
/// is set), `/etc/prometheus/amtool.yml`.
pub fn default_paths() -> Vec<PathBuf> {
    let mut paths = Vec::with_capacity(2);
    if let Some(home) = std::env::var_os("HOME") {
        paths.push(Path::new(&home).join(".config/prometheus/amtool.yml"));
    }
    paths.push(PathBuf::from("/etc/prometheus/amtool.yml"));
    paths
}

/// One `name: value` default, with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagDefault {
    /// The flag's long name, as in the file (`comment_required` already renamed).
    pub name: String,
    /// The value as text (`true`, `30s`, …).
    pub value: String,
    /// The file it came from.
    pub file: PathBuf,
    /// Its line in that file (1-based; the first line when it cannot be found).
    pub line: usize,
}

impl FlagDefault {
    /// An error about this value, naming the file, line and flag.
    pub fn error(&self, what: impl fmt::Display) -> ConfigFileError {
        ConfigFileError::BadValue {
            file: self.file.clone(),
            line: self.line,
            name: self.name.clone(),
            message: what.to_string(),
        }
    }
}

/// What can go wrong reading a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The file exists but could not be read.
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// Not a YAML mapping of flag names to scalar values.
    NotAMapping {
        /// The file.
        file: PathBuf,
        /// The YAML reader's message (with line and column).
        reason: String,
    },
    /// A value a flag cannot take.
    BadValue {
        /// The file.
        file: PathBuf,
        /// The line of the key.
        line: usize,
        /// The flag.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigFileError::Unreadable { file, reason } => {
                write!(f, "could not load config file {}: {reason}", file.display())
            }
            ConfigFileError::NotAMapping { file, reason } => write!(
                f,
                "could not load config file {}: expected a mapping of flag names to values: {reason}",
                file.display()
            ),
            ConfigFileError::BadValue {
                file,
                line,
                name,
                message,
            } => write!(f, "{}: line {line}: {name}: {message}", file.display()),
        }
    }
}

impl std::error::Error for ConfigFileError {}

/// A scalar YAML value as Go's yaml.v2 gives it to a `string`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Scalar(String);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The line of `key:` in `text` (1-based), or 1.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix(key)
                .or_else(|| {
                    l.strip_prefix('"')
                        .and_then(|r| r.strip_prefix(key))
                        .and_then(|r| r.strip_prefix('"'))
                })
                .or_else(|| {
                    l.strip_prefix('\'')
                        .and_then(|r| r.strip_prefix(key))
                        .and_then(|r| r.strip_prefix('\''))
                });
            rest.is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map_or(1, |i| i + 1)
}

/// The defaults of one file's text, in the file's order.
pub fn parse(file: &Path, text: &str) -> Result<Vec<FlagDefault>, ConfigFileError> {
    let map: Option<std::collections::BTreeMap<Scalar, Scalar>> = yaml_serde::from_str(text)
        .map_err(|e| ConfigFileError::NotAMapping {
            file: file.to_owned(),
            reason: e.to_string(),
        })?;
    let mut entries: Vec<(String, Scalar, usize)> = map
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let line = line_of(text, &k.0);
            (k.0, v, line)
        })
        .collect();
    entries.sort_by_key(|e| e.2);
    let has_require_comment = entries.iter().any(|(k, _, _)| k == "require-comment");
    let mut defaults = Vec::with_capacity(entries.len());
    for (key, value, line) in entries {
        let name = if key == "comment_required" {
            if has_require_comment {
                continue;
            }
            "require-comment".to_owned()
        } else {
            key
        };
        defaults.push(FlagDefault {
            name,
            value: value.0,
            file: file.to_owned(),
            line,
        });
    }
    Ok(defaults)
}

/// The defaults of `paths` merged as amtool merges them: missing files skipped, the
/// first file that names a flag wins.
pub fn load(paths: &[PathBuf]) -> Result<Vec<FlagDefault>, ConfigFileError> {
    let mut merged: Vec<FlagDefault> = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(ConfigFileError::Unreadable {
                    file: path.clone(),
                    reason: e.to_string(),
                });
            }
        };
        for d in parse(path, &text)? {
            if !merged.iter().any(|m| m.name == d.name) {
                merged.push(d);
            }
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_become_text_and_the_legacy_key_is_renamed() {
        let f = Path::new("amtool.yml");
        let d = parse(f, "output: json\ncomment_required: false\ntimeout: 5\n").unwrap();
        let pairs: Vec<(&str, &str, usize)> = d
            .iter()
            .map(|d| (d.name.as_str(), d.value.as_str(), d.line))
            .collect();
        assert_eq!(
            pairs,
            [
                ("output", "json", 1),
                ("require-comment", "false", 2),
                ("timeout", "5", 3)
            ]
        );
        // The new key wins over the legacy one in the same file.
        let d = parse(f, "comment_required: false\nrequire-comment: true\n").unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].name.as_str(), d[0].value.as_str()),
            ("require-comment", "true")
        );
        assert!(parse(f, "").unwrap().is_empty());
    }

    #[test]
    fn non_scalars_are_refused_with_the_file() {
        let e = parse(Path::new("/h/amtool.yml"), "output: [json]\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("could not load config file /h/amtool.yml"),
            "{e}"
        );
        assert!(parse(Path::new("x"), "a: [\n").is_err());
        assert!(parse(Path::new("x"), "- a\n").is_err());
    }

    #[test]
    fn earlier_files_win() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.yml"), dir.path().join("b.yml"));
        std::fs::write(&a, "output: json\n").unwrap();
        std::fs::write(&b, "output: extended\nauthor: me\n").unwrap();
        let d = load(&[dir.path().join("missing.yml"), a.clone(), b]).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].value.as_str(), d[0].file.as_path()),
            ("json", a.as_path())
        );
        assert_eq!(d[1].value, "me");
    }
}
