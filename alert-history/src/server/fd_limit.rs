//! The open-file limit (`RLIMIT_NOFILE`): every connection is a file descriptor, and a
//! server at the limit can accept nobody, health probes included.
//!
//! A process starts with the soft limit its parent gave it (often 1024) and may raise
//! it to the hard limit; [`raise_to_hard`] does that at start, and [`serve`](super::serve)
//! keeps its connection cap below what is left of the soft limit.

/// The soft and hard open-file limits of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFileLimits {
    /// The limit in force.
    pub soft: u64,
    /// How far the process may raise it.
    pub hard: u64,
}

/// The limits in force.
#[cfg(unix)]
// rlim_t is u64 on Linux and macOS but i64 on the BSDs.
#[allow(clippy::unnecessary_cast)]
pub fn current() -> std::io::Result<OpenFileLimits> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer to a local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(OpenFileLimits {
        soft: limit.rlim_cur as u64,
        hard: limit.rlim_max as u64,
    })
}

/// The limits in force (not known on this platform).
#[cfg(not(unix))]
pub fn current() -> std::io::Result<OpenFileLimits> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Raises the soft limit to the hard limit and returns the limits then in force.
///
/// An unlimited hard limit is not a value the kernel accepts for open files, so the
/// soft limit is then raised to 1,048,576 (Linux's default `fs.nr_open`); when raising
/// fails the limits stay as they were.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)]
pub fn raise_to_hard() -> std::io::Result<OpenFileLimits> {
    let before = current()?;
    let target = if before.hard == libc::RLIM_INFINITY as u64 {
        1 << 20
    } else {
        before.hard
    };
    if before.soft != libc::RLIM_INFINITY as u64 && before.soft < target {
        let limit = libc::rlimit {
            rlim_cur: target as libc::rlim_t,
            rlim_max: before.hard as libc::rlim_t,
        };
        // SAFETY: setrlimit reads one `rlimit` through a valid pointer to a local.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            let e = std::io::Error::last_os_error();
            tracing::warn!(error = %e, soft = before.soft, hard = before.hard, "cannot raise the open-file limit");
        }
    }
    current()
}

/// Raises the soft limit to the hard limit (not possible on this platform).
#[cfg(not(unix))]
pub fn raise_to_hard() -> std::io::Result<OpenFileLimits> {
    current()
}

/// How many file descriptors this process has open, where the platform says
/// (`/proc/self/fd` on Linux).
pub fn open_now() -> Option<u64> {
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|dir| dir.count().saturating_sub(1) as u64)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn raising_reaches_the_hard_limit_and_never_lowers() {
        let before = current().expect("getrlimit");
        let after = raise_to_hard().expect("limits");
        assert!(after.soft >= before.soft);
        assert_eq!(after.hard, before.hard);
        if before.hard != libc::RLIM_INFINITY as u64 {
            assert_eq!(after.soft, before.hard);
        }
        let open = open_now().expect("linux has /proc/self/fd");
        assert!(open >= 3 && open < after.soft, "{open}");
    }
}
