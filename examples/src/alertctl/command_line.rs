//! The command line as amtool's kingpin reads it, turned into one clap reads.
//!
//! Two things kingpin does that clap's derive does not:
//!
//! - **Global flags anywhere.** amtool's application flags (`--alertmanager.url`,
//!   `-o/--output`, `--timeout`, `--date.format`, `--[no-]version-check`, `-v/--verbose`;
//!   alertctl adds its backend flags
//!   `--backend`, `--tenant`, `--path-template`, `--prefix`) may come before the verb,
//!   between verbs or after them: `alertctl -o json --alertmanager.url=URL silence
//!   query`. They are moved to just after the last verb; where that command has no use
//!   for one (`config routes test --alertmanager.url=…`), it is dropped, as amtool
//!   accepts and ignores it.
//! - **Defaults from amtool's configuration file** ([`super::config_file`]): a key
//!   naming one of the application flags above applies to every command that takes it;
//!   any other key applies only when it names a flag of the chosen command itself (so
//!   `require-comment: false` reaches `silence add`, and `config.file`, a flag of
//!   `config routes` rather than of `config routes test`, reaches neither, as in
//!   amtool). The command line wins. An `output` amtool refuses is an error for every
//!   command, as in amtool; other values are checked only where they apply.

use std::ffi::{OsStr, OsString};

use clap::{Arg, ArgAction, Command};

use super::config_file::{ConfigFileError, FlagDefault};

/// amtool's application flags and alertctl's backend flags: long name, short name,
/// whether it takes a value.
pub const GLOBAL_FLAGS: &[(&str, Option<char>, bool)] = &[
    ("alertmanager.url", None, true),
    ("output", Some('o'), true),
    ("timeout", None, true),
    ("date.format", None, true),
    ("version-check", None, false),
    ("no-version-check", None, false),
    ("verbose", Some('v'), false),
    ("backend", None, true),
    ("tenant", None, true),
    ("path-template", None, true),
    ("prefix", None, true),
    ("http.config.file", None, true),
];

/// amtool's default commands (`alert query*`, `silence query*`, `config show*`,
/// `cluster show*`), which take the arguments of their verb when it is given alone.
const DEFAULT_SUBCOMMANDS: &[(&str, &str)] = &[
    ("alert", "query"),
    ("silence", "query"),
    ("config", "show"),
    ("cluster", "show"),
];

/// The default command of `command` ([`DEFAULT_SUBCOMMANDS`]), if it has one.
fn default_subcommand(command: &Command) -> Option<&Command> {
    DEFAULT_SUBCOMMANDS
        .iter()
        .find(|(verb, _)| *verb == command.get_name())
        .and_then(|(_, default)| command.find_subcommand(default))
}

/// Walks from `*command` into its subcommand `sub`, written as `token`: `sub` inherits
/// `*command`'s global args. Returns where in `kept` the verb ends.
fn enter<'c>(
    command: &mut &'c Command,
    sub: &'c Command,
    inherited: &mut Vec<&'c Arg>,
    kept: &mut Vec<OsString>,
    token: OsString,
) -> usize {
    inherited.extend(command.get_arguments().filter(|a| a.is_global_set()));
    *command = sub;
    kept.push(token);
    kept.len()
}

/// amtool's `--output` values.
const OUTPUT_FORMATS: &[&str] = &["simple", "extended", "json"];

/// A global flag by its long name: (long name, takes a value).
fn global_by_long(name: &str) -> Option<(&'static str, bool)> {
    GLOBAL_FLAGS
        .iter()
        .find(|(l, _, _)| *l == name)
        .map(|(l, _, v)| (*l, *v))
}

/// A global flag by its short name: (long name, takes a value).
fn global_by_short(c: char) -> Option<(&'static str, bool)> {
    GLOBAL_FLAGS
        .iter()
        .find(|(_, s, _)| *s == Some(c))
        .map(|(l, _, v)| (*l, *v))
}

/// A flag the command at hand knows, found by its spelling on the command line.
fn find_arg<'a>(args: &[&'a Arg], long: Option<&str>, short: Option<char>) -> Option<&'a Arg> {
    args.iter().copied().find(|a| {
        long.is_some_and(|l| {
            a.get_long() == Some(l) || a.get_all_aliases().is_some_and(|al| al.contains(&l))
        }) || short.is_some_and(|s| a.get_short() == Some(s))
    })
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// Parses a boolean as Go's `strconv.ParseBool` does.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Rewrites `args` (without the program name) for clap: global flags moved after the
/// last verb (or dropped where that command has none of them), then the configuration
/// file's `defaults` for flags the command line does not give.
///
/// ```
/// use clap::CommandFactory;
/// use alert_examples::alertctl::{Cli, command_line::normalize};
///
/// let args = normalize(&Cli::command(), ["-o", "json", "silence", "query", "-q"].map(Into::into).to_vec(), &[])?;
/// assert_eq!(args, ["silence", "query", "--output=json", "-q"]);
/// # Ok::<(), alert_examples::alertctl::config_file::ConfigFileError>(())
/// ```
pub fn normalize(
    root: &Command,
    args: Vec<OsString>,
    defaults: &[FlagDefault],
) -> Result<Vec<OsString>, ConfigFileError> {
    // `output` is checked for every command, as amtool checks its application flags.
    if let Some(d) = defaults.iter().find(|d| d.name == "output")
        && !OUTPUT_FORMATS.contains(&d.value.as_str())
    {
        return Err(d.error(format!(
            "enum value must be one of simple,extended,json, got '{}'",
            d.value
        )));
    }

    let mut kept: Vec<OsString> = Vec::with_capacity(args.len());
    // Global flags with their values (`None`: a flag without one).
    let mut globals: Vec<(&'static str, Option<OsString>)> = Vec::new();
    let mut present: Vec<String> = Vec::new();
    let mut command = root;
    // Global args of the verbs walked so far, which clap hands down to subcommands.
    let mut inherited: Vec<&Arg> = Vec::new();
    // Where in `kept` the last verb ends.
    let mut after_verb: Option<usize> = None;
    let mut positional_seen = false;
    let mut iter = args.into_iter();
    while let Some(token) = iter.next() {
        let Some(text) = token.to_str().map(str::to_owned) else {
            positional_seen = true;
            kept.push(token);
            continue;
        };
        if text == "--" {
            kept.push(token);
            kept.extend(iter.by_ref());
            break;
        }
        let known: Vec<&Arg> = command
            .get_arguments()
            .chain(inherited.iter().copied())
            .collect();
        if let Some(flag) = text.strip_prefix("--").filter(|f| !f.is_empty()) {
            let (name, attached) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (flag, None),
            };
            if let Some((long, with_value)) = global_by_long(name) {
                if !take_global(long, with_value, attached, &mut iter, &mut globals) {
                    // Let clap say what is wrong with it.
                    kept.push(token);
                }
                continue;
            }
            present.push(name.to_owned());
            if let Some(positive) = name.strip_prefix("no-") {
                present.push(positive.to_owned());
            }
            kept.push(token);
            if attached.is_none()
                && find_arg(&known, Some(name), None).is_some_and(takes_value)
                && let Some(v) = iter.next()
            {
                kept.push(v);
            }
            continue;
        }
        if let Some(shorts) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = shorts.chars();
            let first = chars.next();
            let rest: String = chars.collect();
            if let Some((long, with_value)) = first.and_then(global_by_short) {
                let inline = (!rest.is_empty()).then(|| rest.strip_prefix('=').unwrap_or(&rest));
                if !take_global(long, with_value, inline, &mut iter, &mut globals) {
                    kept.push(token);
                }
                continue;
            }
            // A cluster of short flags; the last may take the next token as its value.
            let mut takes_next = false;
            for (i, c) in shorts.char_indices() {
                match find_arg(&known, None, Some(c)) {
                    Some(arg) => {
                        if let Some(long) = arg.get_long() {
                            present.push(long.to_owned());
                        }
                        if takes_value(arg) {
                            takes_next = i + c.len_utf8() == shorts.len();
                            break;
                        }
                    }
                    None => break,
                }
            }
            kept.push(token);
            if takes_next && let Some(v) = iter.next() {
                kept.push(v);
            }
            continue;
        }
        if !positional_seen && let Some(sub) = command.find_subcommand(OsStr::new(&text)) {
            after_verb = Some(enter(&mut command, sub, &mut inherited, &mut kept, token));
            continue;
        }
        if !positional_seen && let Some(sub) = default_subcommand(command) {
            // kingpin's default command (`query*`) takes the arguments of a verb
            // given without it: `silence NAME=VALUE`.
            let name = sub.get_name().into();
            after_verb = Some(enter(&mut command, sub, &mut inherited, &mut kept, name));
        }
        positional_seen = true;
        kept.push(token);
    }
    if !positional_seen && let Some(sub) = default_subcommand(command) {
        // A verb given alone runs its default command: `config` is `config show`.
        let name = sub.get_name().into();
        after_verb = Some(enter(&mut command, sub, &mut inherited, &mut kept, name));
    }

    present.extend(
        globals
            .iter()
            .map(|(long, _)| long.trim_start_matches("no-").to_owned()),
    );
    let Some(at) = after_verb else {
        // No verb: nothing to move the flags to; clap reports what is missing.
        let mut all: Vec<OsString> = globals
            .into_iter()
            .map(|(long, v)| flag_with_value(long, v.as_deref()))
            .collect();
        all.extend(kept);
        return Ok(all);
    };
    let own: Vec<&Arg> = command.get_arguments().collect();
    let accepted: Vec<&Arg> = own
        .iter()
        .copied()
        .chain(inherited.iter().copied())
        .collect();
    let mut inserted: Vec<OsString> = globals
        .into_iter()
        .filter(|(long, _)| find_arg(&accepted, Some(long), None).is_some())
        .map(|(long, v)| flag_with_value(long, v.as_deref()))
        .collect();
    for d in defaults {
        if present.contains(&d.name) {
            continue;
        }
        let arg = if global_by_long(&d.name).is_some() {
            find_arg(&accepted, Some(&d.name), None)
        } else {
            find_arg(&own, Some(&d.name), None)
        };
        let Some(arg) = arg else { continue };
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            let on = go_bool(&d.value).ok_or_else(|| {
                d.error(format!(
                    "strconv.ParseBool: parsing \"{}\": invalid syntax",
                    d.value
                ))
            })?;
            if on {
                inserted.push(format!("--{}", d.name).into());
            } else if find_arg(&accepted, Some(&format!("no-{}", d.name)), None).is_some() {
                inserted.push(format!("--no-{}", d.name).into());
            }
            continue;
        }
        if !takes_value(arg) {
            continue;
        }
        let possible = arg.get_possible_values();
        if !possible.is_empty() && !possible.iter().any(|p| p.matches(&d.value, false)) {
            let names: Vec<&str> = possible.iter().map(|p| p.get_name()).collect();
            return Err(d.error(format!(
                "enum value must be one of {}, got '{}'",
                names.join(","),
                d.value
            )));
        }
        inserted.push(format!("--{}={}", d.name, d.value).into());
    }
    kept.splice(at..at, inserted);
    Ok(kept)
}

/// Takes global flag `long` found on the command line into `globals`, with its value
/// from `inline` (`--long=value`, `-ovalue`) or else the next token. False when it
/// cannot be taken: a value where none belongs, or none where one must be.
fn take_global(
    long: &'static str,
    with_value: bool,
    inline: Option<&str>,
    next: &mut impl Iterator<Item = OsString>,
    globals: &mut Vec<(&'static str, Option<OsString>)>,
) -> bool {
    let value = match (with_value, inline) {
        (false, None) => None,
        (false, Some(_)) => return false,
        (true, Some(v)) => Some(OsString::from(v)),
        (true, None) => match next.next() {
            Some(v) => Some(v),
            None => return false,
        },
    };
    globals.push((long, value));
    true
}

/// `--long=value`, or `--long` for a flag without a value.
fn flag_with_value(long: &str, value: Option<&OsStr>) -> OsString {
    match value {
        Some(value) => {
            let mut flag = OsString::from(format!("--{long}="));
            flag.push(value);
            flag
        }
        None => OsString::from(format!("--{long}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::CommandFactory;

    use super::*;
    use crate::alertctl::Cli;

    fn norm(args: &[&str], defaults: &[(&str, &str)]) -> Result<Vec<String>, String> {
        let defaults: Vec<FlagDefault> = defaults
            .iter()
            .enumerate()
            .map(|(i, (n, v))| FlagDefault {
                name: (*n).to_owned(),
                value: (*v).to_owned(),
                file: PathBuf::from("amtool.yml"),
                line: i + 1,
            })
            .collect();
        let args = args.iter().map(OsString::from).collect();
        normalize(&Cli::command(), args, &defaults)
            .map(|v| {
                v.into_iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn global_flags_move_after_the_last_verb() {
        assert_eq!(
            norm(
                &[
                    "--alertmanager.url",
                    "http://a",
                    "-ojson",
                    "silence",
                    "query",
                    "x=y"
                ],
                &[]
            )
            .unwrap(),
            [
                "silence",
                "query",
                "--alertmanager.url=http://a",
                "--output=json",
                "x=y"
            ]
        );
        assert_eq!(
            norm(&["silence", "--timeout=5s", "add", "-c", "-o", "x=y"], &[]).unwrap(),
            ["silence", "add", "--timeout=5s", "-c", "-o", "x=y"]
        );
        // Commands without a use for them drop them, as amtool ignores them. A verb
        // given alone runs its default command (`alert` is `alert query`).
        assert_eq!(
            norm(&["-o", "json", "config", "routes", "test", "a=b"], &[]).unwrap(),
            ["config", "routes", "test", "a=b"]
        );
        assert_eq!(
            norm(
                &["-v", "--no-version-check", "alert", "--version-check"],
                &[]
            )
            .unwrap(),
            [
                "alert",
                "query",
                "--verbose",
                "--no-version-check",
                "--version-check"
            ]
        );
        assert_eq!(
            norm(
                &["alert"],
                &[("version-check", "false"), ("verbose", "true")]
            )
            .unwrap(),
            ["alert", "query", "--no-version-check", "--verbose"]
        );
        assert_eq!(
            norm(&["silence", "x=y", "-q"], &[]).unwrap(),
            ["silence", "query", "x=y", "-q"]
        );
        assert_eq!(
            norm(&["matchers", "parse", "--", "-o"], &[]).unwrap(),
            ["matchers", "parse", "--", "-o"]
        );
    }

    #[test]
    fn defaults_fill_what_the_command_line_leaves() {
        let d = [
            ("output", "json"),
            ("author", "me"),
            ("require-comment", "false"),
            ("config.file", "x"),
        ];
        assert_eq!(
            norm(&["silence", "add", "-o", "simple", "x=y"], &d).unwrap(),
            [
                "silence",
                "add",
                "--output=simple",
                "--author=me",
                "--no-require-comment",
                "x=y"
            ]
        );
        assert_eq!(
            norm(
                &["silence", "add", "-a", "bob", "--require-comment", "x=y"],
                &d
            )
            .unwrap(),
            [
                "silence",
                "add",
                "--output=json",
                "-a",
                "bob",
                "--require-comment",
                "x=y"
            ]
        );
        // config.file belongs to `config routes`, not to `test`.
        assert_eq!(
            norm(&["config", "routes", "test", "a=b"], &d).unwrap(),
            ["config", "routes", "test", "a=b"]
        );
        assert_eq!(
            norm(&["check-config"], &[("output", "bogus")]).unwrap_err(),
            "amtool.yml: line 1: output: enum value must be one of simple,extended,json, got 'bogus'"
        );
        assert_eq!(
            norm(&["silence", "add", "a=b"], &[("require-comment", "nope")]).unwrap_err(),
            "amtool.yml: line 1: require-comment: strconv.ParseBool: parsing \"nope\": invalid syntax"
        );
        assert!(norm(&["silence", "query"], &[("require-comment", "nope")]).is_ok());
    }
}
