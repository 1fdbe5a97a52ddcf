//! Runs `alertctl` in-process for the integration tests.

use alert_examples::alertctl::Cli;

/// Parses and runs `alertctl ARGS...` as the binary does (global flags anywhere), but
/// reads no amtool configuration file: (exit status, stdout, stderr).
pub(crate) fn alertctl(args: &[&str]) -> (i32, String, String) {
    let cli = Cli::from_args(std::iter::once("alertctl").chain(args.iter().copied()), &[])
        .unwrap_or_else(|e| panic!("{args:?}: {e:?}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli.run(&mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("stdout is UTF-8"),
        String::from_utf8(err).expect("stderr is UTF-8"),
    )
}
