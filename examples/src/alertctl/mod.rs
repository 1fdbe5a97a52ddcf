//! `alertctl`: an amtool-style command line over the alert-* crates.
//!
//! ```text
//! alertctl fingerprint [--strip-empty] [--alerts FILE|-] [name=value ...]
//! alertctl matchers parse [--parser classic|utf8|fallback] [--] MATCHERS
//! alertctl gateway spec apply -f SPEC.yaml [--dry-run] [--gateway.url URL]
//! ```
//!
//! Each command is one module here: a clap `Args` type that implements [`Run`]. Adding a
//! command is a new module and one line in the `commands!` list below (its doc comment
//! becomes the command's help). Commands write their output to `out`, their diagnostics
//! to `err`, and return the exit status; failures are reported amtool's way,
//! `alertctl: error: <message>` with status 1 (see [`fail`]).
//!
//! The binary reads its command line as amtool's kingpin does ([`Cli::from_args`]):
//! global flags before, between or after the verbs ([`command_line`]), and defaults
//! from amtool's configuration file ([`config_file`]) where the command line gives none.
//!
//! Credentials are never printed: every URL in an error or warning shows `<secret>` in
//! place of its `user:password@` and of the values of secret query parameters
//! ([`alert_core::redact_urls`]), and `config build`/`config sync` never echo a value
//! that may be a secret (see their modules). amtool 0.25 drops the userinfo from the
//! URLs in its errors instead; alertctl's errors word transport failures differently
//! anyway (`GET <url>: <reason>`), so they say `<secret>` where something was removed.
//! Errors that Alertmanager answers keep amtool's go-swagger prefix
//! (`[POST /silences][400] postSilencesBadRequest  …`, see [`connection::api_error`]).
//!
//! ```
//! use clap::Parser;
//! use alert_examples::alertctl::Cli;
//!
//! let cli = Cli::try_parse_from(["alertctl", "matchers", "parse", "env=~prod|staging,team!=db"])?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(cli.run(&mut out, &mut err), 0);
//! assert_eq!(String::from_utf8(out)?, "env=~\"prod|staging\"\nteam!=\"db\"\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Display;
use std::io::Write;

use alert_core::{LabelSet, MatchType, ParserMode, parse_matcher};

pub mod alert;
pub mod build;
pub mod check_config;
pub mod command_line;
pub mod config_file;
pub mod config_sync;
pub mod connection;
pub mod date_format;
pub mod fingerprint;
pub mod gateway;
pub mod matchers;
pub mod routes;
pub mod silence;
pub mod status;
pub mod tabwriter;
pub mod template;

/// A command: runs with its parsed arguments, writes to `out` and `err`, returns the exit
/// status.
pub trait Run {
    /// Runs the command.
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32;
}

/// Declares [`Command`] and its dispatch from `Variant(ArgsType)` lines.
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($args:ty),)*) => {
        /// The commands.
        #[derive(Debug, Clone, clap::Subcommand)]
        pub enum Command {
            $($(#[$doc])* $variant($args),)*
        }

        impl Run for Command {
            fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
                match self {
                    $(Command::$variant(args) => args.run(out, err),)*
                }
            }
        }
    };
}

commands! {
    /// Print the Alertmanager fingerprint of label sets, one per line.
    Fingerprint(fingerprint::FingerprintArgs),
    /// Work with label matchers.
    Matchers(matchers::MatchersArgs),
    /// View and add alerts (one Alertmanager or HA members; vanilla, Cortex or Mimir).
    Alert(alert::AlertArgs),
    /// Add, expire, view and import silences.
    Silence(silence::SilenceArgs),
    /// View the running configuration (`config show`, the default) and work with
    /// configuration files (`config routes [show|test]`, `config build`, `config sync`).
    Config(routes::ConfigArgs),
    /// View cluster status and peers (`cluster show`, the default).
    Cluster(status::ClusterArgs),
    /// Validate alertmanager config files (amtool's `check-config`).
    CheckConfig(check_config::CheckConfigArgs),
    /// Render templates: not supported (alertctl does not render Go templates).
    Template(template::TemplateArgs),
    /// Configuration as code against an alert-gateway: apply and print its spec, list,
    /// show and delete its conditions.
    Gateway(gateway::GatewayArgs),
}

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "alertctl",
    version,
    about = "amtool-style tools for Alertmanager-compatible alerting",
    after_help = CONFIG_FILE_HELP
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// What `alertctl --help` says about amtool's configuration file.
pub const CONFIG_FILE_HELP: &str = "\
Config file: as Debian's amtool 0.25, alertctl reads defaults for its flags from
$HOME/.config/prometheus/amtool.yml, then /etc/prometheus/amtool.yml (a mapping of
flag name to value: alertmanager.url, output, timeout, date.format, author,
require-comment, ...; the first file naming a flag wins, the command line wins over
both).

Global flags (--alertmanager.url, -o/--output, --timeout, --date.format, --http.config.file,
--[no-]version-check, -v/--verbose, --backend, --tenant, --path-template, --prefix) may
be given before, between or after the verbs.";

/// Reading the command line failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CliError {
    /// clap refused the arguments (or was asked for help or the version).
    Usage(clap::Error),
    /// amtool's configuration file could not be read or holds a bad value.
    ConfigFile(config_file::ConfigFileError),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(e) => {
                let text = e.render().to_string();
                f.write_str(text.strip_prefix("error: ").unwrap_or(&text))
            }
            CliError::ConfigFile(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CliError {}

impl Cli {
    /// Reads the command line as amtool does: global flags anywhere, defaults from
    /// `config_files` (see [`config_file::default_paths`]) where the command line gives
    /// none. `args` starts with the program name.
    ///
    /// ```
    /// use alert_examples::alertctl::Cli;
    ///
    /// let cli = Cli::from_args(["alertctl", "-o", "json", "matchers", "parse", "a=b"], &[])
    ///     .map_err(|e| format!("{e:?}"))?;
    /// let (mut out, mut err) = (Vec::new(), Vec::new());
    /// assert_eq!(cli.run(&mut out, &mut err), 0);
    /// # Ok::<(), String>(())
    /// ```
    pub fn from_args<I, S>(args: I, config_files: &[std::path::PathBuf]) -> Result<Cli, CliError>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString>,
    {
        use clap::{CommandFactory, Parser};
        let mut args = args.into_iter().map(Into::into);
        let program = args.next().unwrap_or_else(|| "alertctl".into());
        let defaults = config_file::load(config_files).map_err(CliError::ConfigFile)?;
        let rest = command_line::normalize(&Cli::command(), args.collect(), &defaults)
            .map_err(CliError::ConfigFile)?;
        Cli::try_parse_from(std::iter::once(program).chain(rest)).map_err(CliError::Usage)
    }

    /// Runs the chosen command; returns the exit status.
    pub fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        self.command.run(out, err)
    }
}

/// Reports a failure amtool's way: `alertctl: error: <message>` on `err`; returns 1.
/// URLs in the message are shown with their credentials redacted.
///
/// ```
/// let mut err = Vec::new();
/// assert_eq!(alert_examples::alertctl::fail(&mut err, "GET http://u:pw@am:9093/api/v2/alerts: refused"), 1);
/// assert_eq!(String::from_utf8(err)?, "alertctl: error: GET http://<secret>@am:9093/api/v2/alerts: refused\n");
/// # Ok::<(), std::string::FromUtf8Error>(())
/// ```
pub fn fail(err: &mut dyn Write, message: impl Display) -> i32 {
    let message = alert_core::redact_urls(&message.to_string());
    // Nothing more can be done if the error stream itself is gone.
    let _ = writeln!(err, "alertctl: error: {message}");
    1
}

/// Reads label arguments as amtool does (`parseLabels`): each is one classic-grammar
/// matcher (`name=value`, `name="quoted \"value\""`), only `=` is allowed, and a later
/// duplicate wins. Names are the classic grammar's, so `a:b` is taken: amtool routes and
/// fingerprints such labels, and leaves refusing them to Alertmanager's API.
///
/// ```
/// use alert_examples::alertctl::parse_labels;
///
/// let labels = parse_labels(&["team=db".into(), r#"msg="say \"hi\"""#.into(), "team=web".into()])?;
/// assert_eq!(labels.get("team"), Some("web"));
/// assert_eq!(labels.get("msg"), Some("say \"hi\""));
/// assert_eq!(
///     parse_labels(&["team=~db".into()]).unwrap_err(),
///     "labels must be specified as key=value pairs"
/// );
/// # Ok::<(), String>(())
/// ```
pub fn parse_labels(args: &[String]) -> Result<LabelSet, String> {
    let mut labels = LabelSet::new();
    for arg in args {
        let matcher = parse_matcher(arg, ParserMode::Classic).map_err(|e| e.to_string())?;
        if matcher.match_type() != MatchType::Equal {
            return Err("labels must be specified as key=value pairs".to_owned());
        }
        labels
            .insert_classic(matcher.name(), matcher.value())
            .map_err(|e| e.to_string())?;
    }
    Ok(labels)
}
