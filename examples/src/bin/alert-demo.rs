//! `alert-demo [--dir ./demo-data] [--once] [--free-ports] [--spec FILE] [--bin-dir DIR]`:
//! the whole alerting system on one machine and a scenario through it. `scripts/demo`
//! builds the binaries and runs this. See `alert_examples::demo`.

use alert_examples::demo::{DemoArgs, run};
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = DemoArgs::parse();
    // One thread: the children are spawned from it, and `PR_SET_PDEATHSIG` ties them to
    // the thread that spawned them, which lives as long as the demo.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("alert-demo: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(args));
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
