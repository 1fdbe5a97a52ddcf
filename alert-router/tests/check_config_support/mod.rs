//! Running many configurations through the real `amtool check-config` in one call, and
//! splitting its report per file.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

/// What amtool said about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AmtoolVerdict {
    /// The file name amtool was given.
    pub name: String,
    /// The whole report block for the file (from `Checking '...'` to the blank line).
    pub block: String,
    /// `Some(message)` (the text after `FAILED: `) when the file failed.
    pub failure: Option<String>,
}

/// Writes each configuration to its own file in one temporary directory, runs
/// `amtool check-config` once over all of them, and returns amtool's verdict per
/// configuration, in order. Files on which amtool crashes (it panics on some `null`
/// entries) are reported with the failure `"<amtool crashed>"`.
pub(crate) fn amtool_check_all(configs: &[String]) -> Vec<AmtoolVerdict> {
    let files: Vec<&[u8]> = configs.iter().map(|c| c.as_bytes()).collect();
    amtool_check_all_bytes(&files)
}

/// [`amtool_check_all`] for files given as bytes (any encoding).
pub(crate) fn amtool_check_all_bytes<B: AsRef<[u8]>>(configs: &[B]) -> Vec<AmtoolVerdict> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut paths = Vec::new();
    for (i, text) in configs.iter().enumerate() {
        let path = dir.path().join(format!("case-{i:05}.yml"));
        std::fs::write(&path, text.as_ref()).expect("write config");
        paths.push(path);
    }
    let mut verdicts: Vec<AmtoolVerdict> = Vec::new();
    // A crash stops amtool at that file (the last verdict `run` returns): go on after it.
    while verdicts.len() < paths.len() {
        let got = run(&paths[verdicts.len()..]);
        if got.is_empty() {
            verdicts.push(AmtoolVerdict {
                name: paths[verdicts.len()].display().to_string(),
                block: String::new(),
                failure: Some("<amtool crashed>".into()),
            });
        }
        verdicts.extend(got);
    }
    verdicts
}

fn run(paths: &[PathBuf]) -> Vec<AmtoolVerdict> {
    let mut args = vec!["check-config".to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let out = alert_testkit::amtool(&args);
    let names: HashMap<String, usize> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.display().to_string(), i))
        .collect();
    let mut verdicts = Vec::new();
    let stdout = out.stdout;
    let mut rest = stdout.as_str();
    while let Some(start) = rest.find("Checking '") {
        let after = &rest[start + "Checking '".len()..];
        let Some(end_name) = after.find('\'') else {
            break;
        };
        let name = &after[..end_name];
        assert_eq!(
            names.get(name),
            Some(&verdicts.len()),
            "amtool output order"
        );
        let body_start = start + "Checking '".len() + end_name + 1;
        let next = rest[body_start..]
            .find("\nChecking '")
            .map(|i| body_start + i + 1)
            .unwrap_or(rest.len());
        let block = rest[start..next].to_string();
        let body = &rest[body_start..next];
        let failure = if let Some(msg) = body.strip_prefix("  FAILED: ") {
            Some(msg.strip_suffix("\n\n").unwrap_or(msg).to_string())
        } else if body.starts_with("  SUCCESS") {
            None
        } else {
            // `Checking 'x'panic: ...`: amtool crashed on this file.
            verdicts.push(AmtoolVerdict {
                name: name.to_owned(),
                block,
                failure: Some("<amtool crashed>".into()),
            });
            return verdicts;
        };
        verdicts.push(AmtoolVerdict {
            name: name.to_owned(),
            block,
            failure,
        });
        rest = &rest[next..];
    }
    verdicts
}
