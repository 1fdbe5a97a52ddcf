//! `alertctl fingerprint`: Alertmanager's fingerprint of label sets, one per line.
//!
//! ```text
//! alertctl fingerprint [--strip-empty] [name=value ...]
//! alertctl fingerprint [--strip-empty] --alerts FILE|-
//! ```
//!
//! Labels given as arguments are read as amtool reads them (see
//! [`parse_labels`](super::parse_labels)) and make one label set. `--alerts` reads JSON
//! lines instead, each an object of label name to value (blank lines are skipped); a bad
//! line is an error naming its number. `--strip-empty` drops labels with empty values
//! first, as Alertmanager's API does with a posted alert before it fingerprints it.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use alert_core::LabelSet;

use super::{Run, fail, parse_labels};

/// Arguments of `alertctl fingerprint`.
#[derive(Debug, Clone, clap::Args)]
pub struct FingerprintArgs {
    /// Drop labels with empty values before fingerprinting (what the API does).
    #[arg(long)]
    pub strip_empty: bool,
    /// JSON lines of label sets (`{"alertname":"Test"}`), `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
    /// Labels as name=value, making one label set.
    #[arg(value_name = "LABELS")]
    pub labels: Vec<String>,
}

impl FingerprintArgs {
    fn fingerprint(&self, labels: &LabelSet) -> String {
        if self.strip_empty {
            labels.fingerprint_without_empty().to_string()
        } else {
            labels.fingerprint().to_string()
        }
    }

    fn execute(&self, out: &mut dyn Write) -> Result<(), String> {
        let io = |e: std::io::Error| e.to_string();
        let Some(path) = &self.alerts else {
            let labels = parse_labels(&self.labels)?;
            return writeln!(out, "{}", self.fingerprint(&labels)).map_err(io);
        };
        if !self.labels.is_empty() {
            return Err("label arguments cannot be combined with --alerts".to_owned());
        }
        let from_stdin = path.as_os_str() == "-";
        let source = if from_stdin {
            "standard input".to_owned()
        } else {
            path.display().to_string()
        };
        let reader: Box<dyn BufRead> = if from_stdin {
            Box::new(std::io::stdin().lock())
        } else {
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Box::new(BufReader::new(file))
        };
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| format!("{source}: line {}: {e}", i + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let labels: LabelSet = serde_json::from_str(&line)
                .map_err(|e| format!("{source}: line {}: {e}", i + 1))?;
            writeln!(out, "{}", self.fingerprint(&labels)).map_err(io)?;
        }
        Ok(())
    }
}

impl Run for FingerprintArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match self.execute(out) {
            Ok(()) => 0,
            Err(message) => fail(err, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: FingerprintArgs) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = args.run(&mut out, &mut err);
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn labels_make_one_set() {
        let (code, out, _) = run(FingerprintArgs {
            strip_empty: false,
            alerts: None,
            labels: vec!["alertname=Test".into(), "severity=page".into()],
        });
        assert_eq!((code, out.as_str()), (0, "823de09697ca9348\n"));
    }

    #[test]
    fn operators_other_than_equal_are_refused() {
        let (code, out, err) = run(FingerprintArgs {
            strip_empty: false,
            alerts: None,
            labels: vec!["alertname!=Test".into()],
        });
        assert_eq!(code, 1);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "alertctl: error: labels must be specified as key=value pairs\n"
        );
    }
}
