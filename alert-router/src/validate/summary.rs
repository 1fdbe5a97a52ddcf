//! What `amtool check-config` prints for one file, so that a CLI can print exactly the
//! same (the CLI only reads the files and writes the text).

use crate::config::Config;

/// The result of checking one file as `amtool check-config` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckConfigOutput {
    /// The text amtool prints on standard output for this file, blank line included.
    pub stdout: String,
    /// Whether the file failed (amtool then exits 1 with `failed to validate N file(s)`).
    pub failed: bool,
    /// The configuration, when it loaded.
    pub config: Option<Config>,
}

/// Checks `text`, read from the file named `name`, and renders amtool 0.25's report:
///
/// ```text
/// Checking 'alertmanager.yml'  SUCCESS
/// Found:
///  - global config
///  - route
///  - 0 inhibit rules
///  - 1 receivers
///  - 0 templates
///
/// ```
///
/// or `Checking 'alertmanager.yml'  FAILED: <Alertmanager's message>` and a blank line.
/// Template files are not read (a pure function): a configuration with templates gets
/// `  FAILED: template files were not checked` under its template count, and fails,
/// rather than a `SUCCESS` for what was not checked ([`check_config_output_with`] takes
/// a checker that reads them).
///
/// ```
/// use alert_router::validate::check_config_output;
/// let out = check_config_output("a.yml", "route: {receiver: x}\nreceivers: [{name: x}]\n");
/// assert!(!out.failed);
/// assert!(out.stdout.starts_with("Checking 'a.yml'  SUCCESS\nFound:\n - global config\n"));
/// let out = check_config_output("b.yml", "route: {receiver: nope}\n");
/// assert_eq!(out.stdout, "Checking 'b.yml'  FAILED: undefined receiver \"nope\" used in route\n\n");
/// ```
pub fn check_config_output(name: &str, text: &str) -> CheckConfigOutput {
    check_config_output_bytes(name, text.as_bytes())
}

/// [`check_config_output`] for a file's bytes, read as amtool reads them (see
/// [`Config::from_yaml_bytes`]: UTF-16 with a byte order mark, UTF-8 otherwise).
///
/// ```
/// use alert_router::validate::check_config_output_bytes;
/// let out = check_config_output_bytes("c.yml", b"route: {receiver: \xFF}\n");
/// assert_eq!(out.stdout, "Checking 'c.yml'  FAILED: yaml: invalid leading UTF-8 octet\n\n");
/// ```
pub fn check_config_output_bytes(name: &str, bytes: &[u8]) -> CheckConfigOutput {
    check_config_output_with(name, bytes, |_| {
        Err("template files were not checked".to_owned())
    })
}

/// [`check_config_output_bytes`] with `check_templates` judging the configuration's
/// template globs: `Ok` prints amtool's `  SUCCESS` under the template count, `Err(m)`
/// prints `  FAILED: m` and fails the file (amtool's lines for `template.FromGlobs`).
///
/// ```
/// use alert_router::validate::check_config_output_with;
/// let text = b"route: {receiver: x}\nreceivers: [{name: x}]\ntemplates: ['*.tmpl']\n";
/// let out = check_config_output_with("a.yml", text, |globs| {
///     assert_eq!(globs, ["*.tmpl"]);
///     Ok(())
/// });
/// assert!(out.stdout.ends_with(" - 1 templates\n  SUCCESS\n\n") && !out.failed);
/// let out = check_config_output_with("a.yml", text, |_| Err("no".into()));
/// assert!(out.stdout.ends_with(" - 1 templates\n  FAILED: no\n\n") && out.failed);
/// ```
pub fn check_config_output_with(
    name: &str,
    bytes: &[u8],
    check_templates: impl FnOnce(&[String]) -> Result<(), String>,
) -> CheckConfigOutput {
    let mut stdout = format!("Checking '{name}'");
    match Config::from_yaml_bytes(bytes) {
        Ok(config) => {
            stdout.push_str("  SUCCESS\n");
            stdout.push_str("Found:\n - global config\n - route\n");
            stdout.push_str(&format!(
                " - {} inhibit rules\n",
                config.inhibit_rules.len()
            ));
            stdout.push_str(&format!(" - {} receivers\n", config.receivers.len()));
            stdout.push_str(&format!(" - {} templates\n", config.templates.len()));
            let mut failed = false;
            if !config.templates.is_empty() {
                match check_templates(&config.templates) {
                    Ok(()) => stdout.push_str("  SUCCESS\n"),
                    Err(message) => {
                        stdout.push_str(&format!("  FAILED: {message}\n"));
                        failed = true;
                    }
                }
            }
            stdout.push('\n');
            CheckConfigOutput {
                stdout,
                failed,
                config: Some(config),
            }
        }
        Err(e) => {
            stdout.push_str(&format!("  FAILED: {}\n\n", e.alertmanager_message()));
            CheckConfigOutput {
                stdout,
                failed: true,
                config: None,
            }
        }
    }
}

/// amtool's closing line on standard error when `failed` files failed (without the
/// program name): `failed to validate N file(s)`.
pub fn failed_files_message(failed: usize) -> String {
    format!("failed to validate {failed} file(s)")
}
