//! REAL headless Chromium (Debian's `chromium`): a page's DOM after loading, and
//! screenshots. A test that cannot run it fails with the install command.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What to run when `chromium` is missing.
pub const CHROMIUM_INSTALL_HINT: &str = "apt-get install -y chromium";

/// `chromium --headless --no-sandbox … <args>`, with a fresh profile, within 90 s.
fn run(args: &[String]) -> Output {
    let profile = tempfile::tempdir().expect("chromium profile dir");
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run chromium ({e}); install it: {CHROMIUM_INSTALL_HINT}")
        });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("chromium did not finish within 90s");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let out = child.wait_with_output().expect("chromium output");
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    out
}

/// `chromium --headless … --dump-dom URL`: the DOM after loading, as HTML.
pub fn dump_dom(url: &str) -> String {
    let out = run(&["--dump-dom".to_owned(), url.to_owned()]);
    String::from_utf8(out.stdout).expect("UTF-8 DOM")
}

/// The DOM after loading and then letting `virtual_ms` milliseconds of the page's own
/// time pass (`--virtual-time-budget`: timers fire without waiting in real time; the
/// budget advances only while no request is in flight). For pages that act on a timer.
/// A page that navigates on its own (a meta refresh) never exhausts the budget: use
/// this only for pages that update in place.
pub fn dump_dom_after(url: &str, virtual_ms: u64) -> String {
    let out = run(&[
        format!("--virtual-time-budget={virtual_ms}"),
        "--dump-dom".to_owned(),
        url.to_owned(),
    ]);
    String::from_utf8(out.stdout).expect("UTF-8 DOM")
}

/// `chromium --headless … --screenshot=PATH --window-size=W,H URL`: a PNG of the page
/// as a `width` × `height` window shows it. Returns the PNG's bytes.
pub fn screenshot(url: &str, path: &Path, width: u32, height: u32) -> Vec<u8> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("screenshot directory");
    }
    let _ = std::fs::remove_file(path);
    run(&[
        format!("--screenshot={}", path.display()),
        format!("--window-size={width},{height}"),
        url.to_owned(),
    ]);
    std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()))
}

/// The width and height in a PNG's header, or `None` if `png` is not one.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || &png[..8] != SIGNATURE || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&png[16..20]), be(&png[20..24])))
}
