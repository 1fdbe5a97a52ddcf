//! Stands in for nothing: waiting, with a deadline, for something a process does.

use std::time::{Duration, Instant};

/// How often [`wait_until`] asks again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Calls `check` every [`POLL_INTERVAL`] until it returns `Some`, and returns that.
///
/// # Panics
/// When `timeout` passes first, naming `what` was awaited.
///
/// ```
/// use std::time::Duration;
/// let mut calls = 0;
/// let n = alert_testkit::wait_until(Duration::from_secs(5), "the third call", || {
///     calls += 1;
///     (calls == 3).then_some(calls)
/// });
/// assert_eq!(n, 3);
/// ```
pub fn wait_until<T>(timeout: Duration, what: &str, check: impl FnMut() -> Option<T>) -> T {
    poll_until(timeout, check)
        .unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// Like [`wait_until`], but returns `None` on timeout instead of panicking.
pub fn poll_until<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Waits until `GET url` answers 200, for a process this kit started: fails at once with
/// the exit status when `child` exits (and clears it), or with the last answer when
/// `timeout` passes.
pub(crate) fn wait_http_ready(
    child: &mut Option<std::process::Child>,
    url: &str,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(c) = child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            *child = None;
            return Err(format!("it exited with {status}"));
        }
        let last = match crate::http::try_get(url) {
            Ok(response) if response.status == 200 => return Ok(()),
            Ok(response) => format!("GET {url} answered {}", response.status),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(format!("not ready after {timeout:?} (last: {last})"));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
