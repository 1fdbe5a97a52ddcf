//! `alertctl config routes [show]` and `alertctl config routes test`: amtool 0.25's
//! commands of the same names, with its arguments and its output byte for byte.
//!
//! ```text
//! alertctl config routes [show] --config.file=FILE
//! alertctl config routes test --config.file=FILE [--verify.receivers=R1,R2] [--tree] [name=value ...]
//! ```
//!
//! Labels are parsed one per argument as amtool parses them
//! ([`parse_labels`](super::parse_labels)). Errors go to stderr as
//! `alertctl: error: <amtool's message>` and the exit status is 1; a
//! `--verify.receivers` mismatch also exits 1, after the receivers line and amtool's
//! warning.
//!
//! ```
//! use clap::Parser;
//! use alert_examples::alertctl::Cli;
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("am.yml");
//! std::fs::write(&file, "route:\n  receiver: default\n  routes:\n    - receiver: db\n      matchers: ['team=\"db\"']\nreceivers: [{name: default}, {name: db}]\n")?;
//! let flag = format!("--config.file={}", file.display());
//! let cli = Cli::try_parse_from(["alertctl", "config", "routes", "test", &flag, "team=db"])?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(cli.run(&mut out, &mut err), 0);
//! assert_eq!(String::from_utf8(out)?, "db\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;
use std::path::PathBuf;

use alert_router::config::Config;
use alert_router::route::{RoutingTree, matching_tree, routing_tree};

use super::{Run, fail, parse_labels};

/// `config`: work with Alertmanager configuration files.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// What to do with the configuration (`show` when none is given).
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// The subcommands of `config`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConfigCommand {
    /// View the running configuration of an Alertmanager (with version and uptime in
    /// extended output, the whole status in JSON).
    Show(super::status::ShowArgs),
    /// Prints alert routing tree (`show`, the default) or tests alert routing (`test`).
    Routes(RoutesArgs),
    /// Builds one configuration per tenant from a spec file, with a manifest of sync ids.
    Build(super::build::BuildArgs),
    /// Builds one configuration per tenant from a spec file and applies them to
    /// Alertmanager, Cortex or Mimir, printing each tenant's status.
    Sync(super::config_sync::SyncArgs),
}

impl Run for ConfigArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match &self.command {
            ConfigCommand::Show(show) => show.run(out, err),
            ConfigCommand::Routes(routes) => routes.run(out, err),
            ConfigCommand::Build(build) => build.run(out, err),
            ConfigCommand::Sync(sync) => sync.run(out, err),
        }
    }
}

/// `config routes`: print the routing tree, or test where labels are routed.
#[derive(Debug, Clone, clap::Args)]
pub struct RoutesArgs {
    /// Config file to be tested (takes precedence over --alertmanager.url; without it,
    /// the running configuration of the Alertmanager is read).
    #[arg(long = "config.file", value_name = "CONFIG.FILE", global = true)]
    pub config_file: Option<PathBuf>,
    /// The Alertmanager whose running configuration is read without --config.file.
    #[command(flatten)]
    pub connection: super::connection::ConnectionArgs,
    /// `show` (the default) or `test`.
    #[command(subcommand)]
    pub command: Option<RoutesCommand>,
}

/// The subcommands of `config routes`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RoutesCommand {
    /// Prints alert routing tree.
    Show,
    /// Test alert routing: prints the receivers the labels resolve to, in order.
    Test(TestArgs),
}

/// Arguments of `config routes test`.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// Checks if specified receivers matches resolved receivers. The command fails if
    /// the labelset does not route to the specified receivers.
    #[arg(long = "verify.receivers", value_name = "VERIFY.RECEIVERS")]
    pub verify_receivers: Option<String>,
    /// Prints out matching routes tree.
    #[arg(long)]
    pub tree: bool,
    /// List of labels to be tested against the configured routes.
    #[arg(value_name = "LABELS")]
    pub labels: Vec<String>,
}

fn load_tree(args: &RoutesArgs, err: &mut dyn Write) -> Result<RoutingTree, String> {
    let Some(path) = &args.config_file else {
        // amtool's loadAlertmanagerConfig: the running configuration.
        let status = super::status::status(&args.connection, err)?;
        let config = Config::from_yaml(&status.config.original)
            .map_err(|e| e.alertmanager_message().into_owned())?;
        return RoutingTree::new(&config.route).map_err(|e| e.alertmanager_message().into_owned());
    };
    if !path.exists() {
        // kingpin's flag check, which ends its message with a blank line.
        return Err(format!("path '{}' does not exist\n", path.display()));
    }
    let yaml = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let config =
        Config::from_yaml_bytes(&yaml).map_err(|e| e.alertmanager_message().into_owned())?;
    RoutingTree::new(&config.route).map_err(|e| e.alertmanager_message().into_owned())
}

impl Run for RoutesArgs {
    /// Writes what amtool writes to stdout to `out`; errors go to `err` as
    /// `alertctl: error: <amtool's message>`, with amtool's blank line where it prints one.
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match execute(self, out, err) {
            Ok(code) => code,
            Err(message) => fail(err, message),
        }
    }
}

fn execute(args: &RoutesArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, String> {
    let io = |e: std::io::Error| e.to_string();
    match &args.command {
        None | Some(RoutesCommand::Show) => {
            let tree = load_tree(args, err)?;
            out.write_all(routing_tree(&tree).as_bytes()).map_err(io)?;
            Ok(0)
        }
        Some(RoutesCommand::Test(test)) => {
            // amtool's Fatalf formats these with a trailing "\n" of their own.
            let tree = load_tree(args, err).map_err(|e| {
                if e.ends_with('\n') {
                    e
                } else {
                    format!("{e}\n")
                }
            })?;
            let labels =
                parse_labels(&test.labels).map_err(|e| format!("Failed to parse labels: {e}\n"))?;
            if test.tree {
                out.write_all(matching_tree(&tree, &labels).as_bytes())
                    .map_err(io)?;
            }
            let receivers = tree.receivers(&labels).join(",");
            writeln!(out, "{receivers}").map_err(io)?;
            if let Some(expected) = test.verify_receivers.as_deref()
                && !expected.is_empty()
                && expected != receivers
            {
                writeln!(
                    out,
                    "WARNING: Expected receivers did not match resolved receivers."
                )
                .map_err(io)?;
                return Ok(1);
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    //! `alertctl config routes` against the real `amtool config routes`: the same stdout
    //! byte for byte and the same exit status.

    use clap::Parser;

    use super::super::Cli;

    const CONFIG: &str = r#"route:
  receiver: "multi\nline"
  group_by: ['...']
  routes:
    - receiver: "a b"
      matchers: ['x="new\nline"', 'y=~"é|\\d"']
      continue: true
      routes:
        - matchers: ['z="1"']
          receiver: "multi\nline"
          routes:
            - matchers: ['w="2"']
    - receiver: db
      match_re: {service: "db-.*"}
      match: {q: "t\tab"}
      routes:
        - receiver: db-page
          matchers: ['severity=~"critical|page"']
          continue: true
        - receiver: db-all
    - receiver: last
receivers:
  - name: "multi\nline"
  - name: "a b"
  - name: db
  - name: db-page
  - name: db-all
  - name: last
"#;

    fn ours(args: &[&str]) -> (i32, String) {
        let mut argv = vec!["alertctl", "config", "routes"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = cli.run(&mut out, &mut err);
        (code, String::from_utf8(out).unwrap())
    }

    fn theirs(args: &[&str]) -> (i32, String) {
        let mut argv = vec!["config", "routes"];
        argv.extend_from_slice(args);
        let real = alert_testkit::amtool(argv);
        (real.code().unwrap_or(-1), real.stdout)
    }

    #[test]
    fn equals_amtool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("am.yml");
        std::fs::write(&path, CONFIG).unwrap();
        let flag = format!("--config.file={}", path.display());
        let f = flag.as_str();
        let cases: Vec<Vec<&str>> = vec![
            vec![f],
            vec!["show", f],
            vec!["test", f],
            vec!["test", f, "--tree"],
            vec!["test", "--tree", f, "x=\"new\\nline\"", "y=é", "z=1", "w=2"],
            vec![
                "test",
                "--tree",
                f,
                "service=db-1",
                "q=\"t\tab\"",
                "severity=page",
            ],
            vec!["test", f, "service=db-1", "q=\"t\tab\"", "severity=info"],
            vec![
                "test",
                f,
                "--verify.receivers=db-page,db-all",
                "service=db-1",
                "q=\"t\tab\"",
                "severity=page",
            ],
            vec!["test", f, "--verify.receivers=nope", "service=db-1"],
            vec!["test", f, "service=db-1", "service=x"],
            vec!["test", f, "service=~db"],
            vec!["test", f, "bad"],
        ];
        for case in cases {
            assert_eq!(ours(&case), theirs(&case), "{case:?}");
        }
        // A config amtool refuses: both fail, and print nothing on stdout.
        let bad = dir.path().join("bad.yml");
        std::fs::write(&bad, "route: {}\n").unwrap();
        let flag = format!("--config.file={}", bad.display());
        for case in [
            vec!["show", flag.as_str()],
            vec!["test", flag.as_str(), "a=b"],
        ] {
            assert_eq!(ours(&case), theirs(&case), "{case:?}");
        }
    }
}
