//! `alertctl check-config FILE...`: amtool 0.25's `check-config`, with its output byte
//! for byte.
//!
//! ```text
//! alertctl check-config alertmanager.yml [more.yml ...]
//! ```
//!
//! Per file, `Checking 'FILE'  SUCCESS` with amtool's summary (`Found:`, ` - global
//! config`, ` - route`, ` - N inhibit rules`, ` - N receivers`, ` - N templates`), or
//! `Checking 'FILE'  FAILED: <Alertmanager's message>`, and a blank line. When a file
//! failed, `alertctl: error: failed to validate N file(s)` goes to stderr and the exit
//! status is 1. Without files, standard input is checked (as `/dev/stdin`).
//!
//! Template files are where alertctl and amtool part: alertctl does not parse Go
//! templates, so when a configuration's template globs (relative to the file's
//! directory, as Alertmanager resolves them) match files, their line reads `  FAILED:
//! alertctl does not parse Go templates: N file(s) not checked (...)` and the file
//! fails, where amtool parses them. Globs that match nothing are what amtool accepts
//! too (`  SUCCESS`).
//!
//! Alertmanager's message is kept as amtool prints it, also where its YAML decoder quotes
//! the start of a value that may be a secret (``cannot unmarshal !!str `SECRET-...` into
//! config.plain``, cut at seven characters): this is the one place alertctl prints such
//! a value, because amtool prints the same. `config build` leaves it out.
//!
//! ```
//! use clap::Parser;
//! use alert_examples::alertctl::Cli;
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("am.yml");
//! std::fs::write(&file, "route: {receiver: nope}\nreceivers: [{name: default}]\n")?;
//! let path = file.display().to_string();
//! let cli = Cli::try_parse_from(["alertctl", "check-config", &path])?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(cli.run(&mut out, &mut err), 1);
//! assert_eq!(
//!     String::from_utf8(out)?,
//!     format!("Checking '{path}'  FAILED: undefined receiver \"nope\" used in route\n\n")
//! );
//! assert_eq!(String::from_utf8(err)?, "alertctl: error: failed to validate 1 file(s)\n\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use alert_router::validate::{check_config_output_with, failed_files_message};

use super::{Run, fail};

/// Arguments of `check-config`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckConfigArgs {
    /// Files to be validated.
    #[arg(value_name = "CHECK-FILES")]
    pub files: Vec<PathBuf>,
}

impl Run for CheckConfigArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        // kingpin checks every argument before amtool reads any (its messages end with a
        // blank line).
        for path in &self.files {
            if !path.exists() {
                return fail(err, format!("path '{}' does not exist\n", path.display()));
            }
            if path.is_dir() {
                let base = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                return fail(err, format!("'{base}' is a directory\n"));
            }
        }
        let mut inputs: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
        if self.files.is_empty() {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return fail(err, "Failed to read from standard input\n");
            }
            let mut bytes = Vec::new();
            let read = stdin
                .read_to_end(&mut bytes)
                .map(|_| bytes)
                .map_err(|e| format!("read /dev/stdin: {e}"));
            inputs.push(("/dev/stdin".to_owned(), read));
        } else {
            for path in &self.files {
                inputs.push((path.display().to_string(), read(path)));
            }
        }
        let mut failed = 0;
        for (name, text) in inputs {
            let stdout = match text {
                Ok(bytes) => {
                    let dir = Path::new(&name)
                        .parent()
                        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                    let result = check_config_output_with(&name, &bytes, |globs| {
                        check_templates(&dir, globs)
                    });
                    failed += usize::from(result.failed);
                    result.stdout
                }
                Err(message) => {
                    failed += 1;
                    format!("Checking '{name}'  FAILED: {message}\n\n")
                }
            };
            if out.write_all(stdout.as_bytes()).is_err() {
                return 1;
            }
        }
        if failed > 0 {
            return fail(err, format!("{}\n", failed_files_message(failed)));
        }
        0
    }
}

/// Reads a file as Go's `os.ReadFile` would report it; its bytes are decoded as yaml.v2
/// decodes them (see `Config::from_yaml_bytes`).
fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("open {}: {}", path.display(), e.kind()))
}

/// The template check: alertctl parses no Go template, so any file the globs match is
/// reported as not checked; globs matching nothing pass, as in amtool.
fn check_templates(dir: &Path, globs: &[String]) -> Result<(), String> {
    let mut files = Vec::new();
    for pattern in globs {
        let pattern = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            dir.join(pattern)
        };
        files.extend(glob(&pattern.to_string_lossy())?);
    }
    if files.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = files.iter().take(3).cloned().collect();
    let more = if files.len() > 3 { ", ..." } else { "" };
    Err(format!(
        "alertctl does not parse Go templates: {} file(s) not checked ({}{more})",
        files.len(),
        shown.join(", ")
    ))
}

/// Go's `filepath.Glob`: the paths matching `pattern`, sorted per directory; a pattern
/// without metacharacters names itself if it exists. Errors only for a bad pattern.
///
/// ```
/// # use alert_examples::alertctl::check_config::glob;
/// let dir = tempfile::tempdir()?;
/// for name in ["a.tmpl", "b.tmpl", "c.txt"] { std::fs::write(dir.path().join(name), "")?; }
/// let found = glob(&format!("{}/*.tmpl", dir.path().display()))?;
/// assert_eq!(found.len(), 2);
/// assert!(found[0].ends_with("/a.tmpl"));
/// assert!(glob("/nonexistent/*.tmpl")?.is_empty());
/// assert!(glob("/tmp/[").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn glob(pattern: &str) -> Result<Vec<String>, String> {
    const BAD: &str = "syntax error in pattern";
    if !has_meta(pattern) {
        return Ok(if std::fs::symlink_metadata(pattern).is_ok() {
            vec![pattern.to_owned()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(0) => ("/", &pattern[1..]),
        Some(i) => (&pattern[..i], &pattern[i + 1..]),
        None => (".", pattern),
    };
    // Checked before listing, as Go checks the pattern.
    go_match(file, "").map_err(|()| BAD.to_owned())?;
    let dirs = if has_meta(dir) {
        glob(dir)?
    } else {
        vec![dir.to_owned()]
    };
    let mut out = Vec::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if go_match(file, &name).map_err(|()| BAD.to_owned())? {
                out.push(if pattern.contains('/') {
                    format!("{}/{name}", d.trim_end_matches('/'))
                } else {
                    name
                });
            }
        }
    }
    Ok(out)
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Go's `filepath.Match`: `*` any run of characters but `/`, `?` one such character,
/// `[...]` a class (`^` negates, `a-z` ranges), `\\` escapes. `Err` for a bad pattern.
fn go_match(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Validate the whole pattern first, as Go reports ErrBadPattern even on a mismatch.
    let mut i = 0;
    while i < p.len() {
        i = match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(());
                }
                i + 2
            }
            '[' => class_end(&p, i)?,
            _ => i + 1,
        };
    }
    Ok(match_from(&p, 0, &n, 0))
}

/// The index after the class starting at `p[i] == '['`, or `Err` if it is malformed
/// (Go's `matchChunk`: at least one item before `]`; an item is a character or a range
/// `lo-hi`, where `-` and `]` must be escaped).
fn class_end(p: &[char], i: usize) -> Result<usize, ()> {
    let mut j = i + 1;
    if p.get(j) == Some(&'^') {
        j += 1;
    }
    let mut items = 0;
    loop {
        if p.get(j) == Some(&']') && items > 0 {
            return Ok(j + 1);
        }
        j = class_char(p, j)?.1;
        if p.get(j) == Some(&'-') {
            j = class_char(p, j + 1)?.1;
        }
        items += 1;
    }
}

/// One character of a class at `p[j]` (Go's `getEsc`) and the index after it.
fn class_char(p: &[char], j: usize) -> Result<(char, usize), ()> {
    match p.get(j) {
        None | Some('-') | Some(']') => Err(()),
        Some('\\') => p.get(j + 1).map(|c| (*c, j + 2)).ok_or(()),
        Some(c) => Ok((*c, j + 1)),
    }
}

fn match_from(p: &[char], pi: usize, n: &[char], ni: usize) -> bool {
    match p.get(pi) {
        None => ni == n.len(),
        // Neither `*` nor `?` matches the separator.
        Some('*') => (ni..=n.len())
            .take_while(|k| *k == ni || n[k - 1] != '/')
            .any(|k| match_from(p, pi + 1, n, k)),
        Some('?') => ni < n.len() && n[ni] != '/' && match_from(p, pi + 1, n, ni + 1),
        Some('\\') => {
            ni < n.len() && p.get(pi + 1) == Some(&n[ni]) && match_from(p, pi + 2, n, ni + 1)
        }
        Some('[') => {
            let Ok(end) = class_end(p, pi) else {
                return false;
            };
            ni < n.len() && in_class(&p[pi + 1..end - 1], n[ni]) && match_from(p, end, n, ni + 1)
        }
        Some(c) => ni < n.len() && *c == n[ni] && match_from(p, pi + 1, n, ni + 1),
    }
}

/// Whether `c` is in the class body (between `[` and `]`, already checked).
fn in_class(body: &[char], c: char) -> bool {
    let (negated, mut j) = match body.first() {
        Some('^') => (true, 1),
        _ => (false, 0),
    };
    let mut found = false;
    while j < body.len() {
        let Ok((lo, next)) = class_char(body, j) else {
            return false;
        };
        let (hi, next) = if body.get(next) == Some(&'-') {
            match class_char(body, next + 1) {
                Ok(item) => item,
                Err(()) => return false,
            }
        } else {
            (lo, next)
        };
        found |= lo <= c && c <= hi;
        j = next;
    }
    found != negated
}

#[cfg(test)]
mod tests {
    use super::go_match;

    /// Cases of Go's path/filepath `TestMatch`.
    #[test]
    fn match_as_go_matches() {
        let cases: &[(&str, &str, Result<bool, ()>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[", "a", Err(())),
            ("[^", "a", Err(())),
            ("[^bc", "a", Err(())),
            ("a[", "a", Err(())),
            ("[]a]", "]", Err(())),
            ("[-]", "-", Err(())),
            ("[x-]", "x", Err(())),
            ("[a-b-c]", "a", Err(())),
            ("a\\", "a", Err(())),
            ("*x", "xxx", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a?b", "a/b", Ok(false)),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(
                go_match(pattern, name),
                *want,
                "Match({pattern:?}, {name:?})"
            );
        }
    }
}
