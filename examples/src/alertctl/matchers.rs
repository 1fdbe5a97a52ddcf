//! `alertctl matchers parse`: read matchers with one of Alertmanager's grammars.
//!
//! ```text
//! alertctl matchers parse [--parser classic|utf8|fallback] [--] MATCHERS
//! ```
//!
//! Prints the matchers one per line as Alertmanager 0.25 prints them (`String()`), in
//! input order; or the parser's error as `alertctl: error: <message>` with status 1.
//! `classic` (the default) is Alertmanager 0.25's only grammar; `utf8` is 0.27+'s strict
//! one; `fallback` is 0.27+'s default mode.

use std::io::Write;

use alert_core::{ParserMode, parse_matchers};

use super::{Run, fail};

/// Arguments of `alertctl matchers`.
#[derive(Debug, Clone, clap::Args)]
pub struct MatchersArgs {
    /// What to do with matchers.
    #[command(subcommand)]
    pub command: MatchersCommand,
}

/// The subcommands of `alertctl matchers`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum MatchersCommand {
    /// Parse matchers and print them one per line, as Alertmanager prints them.
    Parse(ParseArgs),
}

/// Which grammar reads the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Grammar {
    /// Alertmanager 0.25's grammar (`pkg/labels`).
    Classic,
    /// Alertmanager 0.27+'s UTF-8 grammar (`matcher/parse`).
    Utf8,
    /// UTF-8 first, then classic: Alertmanager 0.27+'s default mode.
    Fallback,
}

impl From<Grammar> for ParserMode {
    fn from(g: Grammar) -> ParserMode {
        match g {
            Grammar::Classic => ParserMode::Classic,
            Grammar::Utf8 => ParserMode::Utf8,
            Grammar::Fallback => ParserMode::Fallback,
        }
    }
}

/// Arguments of `alertctl matchers parse`.
#[derive(Debug, Clone, clap::Args)]
pub struct ParseArgs {
    /// The grammar to read with.
    #[arg(long, value_enum, default_value_t = Grammar::Classic)]
    pub parser: Grammar,
    /// The matchers, for example '{severity="critical",env=~"prod|staging"}'.
    #[arg(value_name = "MATCHERS", allow_hyphen_values = true)]
    pub input: String,
}

impl Run for MatchersArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match &self.command {
            MatchersCommand::Parse(args) => args.run(out, err),
        }
    }
}

impl Run for ParseArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        let matchers = match parse_matchers(&self.input, self.parser.into()) {
            Ok(m) => m,
            Err(e) => return fail(err, e),
        };
        for m in &matchers {
            if let Err(e) = writeln!(out, "{m}") {
                return fail(err, e);
            }
        }
        0
    }
}
