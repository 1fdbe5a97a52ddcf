//! `alertctl template render`: amtool's verb and flags, refused. Rendering needs Go's
//! `text/template` with Alertmanager's functions, which no well-kept Rust crate renders
//! identically; alertctl says so and exits 1 rather than print something else.
//!
//! ```
//! use clap::Parser;
//! use alert_examples::alertctl::Cli;
//! let cli = Cli::try_parse_from(["alertctl", "template", "render", "--template.glob=*.tmpl",
//!                                "--template.text={{ .Status }}"])?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(cli.run(&mut out, &mut err), 1);
//! assert!(out.is_empty());
//! assert!(String::from_utf8(err)?.starts_with("alertctl: error: alertctl does not render Go templates"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;

use super::{Run, fail};

/// `template`: work with Alertmanager templates.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    /// `render`.
    #[command(subcommand)]
    pub command: TemplateCommand,
}

/// The subcommands of `template`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TemplateCommand {
    /// Render a given definition in a template file (not supported: see `amtool`).
    Render(RenderArgs),
}

/// amtool's flags of `template render`, accepted so that a script using them gets the
/// refusal rather than a usage error.
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    /// Glob of paths that will be expanded and used for rendering.
    #[arg(long = "template.glob", value_name = "TEMPLATE.GLOB", required = true)]
    pub glob: String,
    /// The template that will be rendered.
    #[arg(long = "template.text", value_name = "TEMPLATE.TEXT", required = true)]
    pub text: String,
    /// Full path to a file which contains the data of the alert(-s) with which the
    /// --template.text will be rendered.
    #[arg(long = "template.data", value_name = "TEMPLATE.DATA")]
    pub data: Option<String>,
}

impl Run for TemplateArgs {
    fn run(&self, _out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match &self.command {
            TemplateCommand::Render(_) => fail(
                err,
                "alertctl does not render Go templates (Alertmanager's text/template and its \
                 functions); use amtool template render",
            ),
        }
    }
}
