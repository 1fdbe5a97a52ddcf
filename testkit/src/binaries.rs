//! Stands in for nothing: finds the real Alertmanager 0.25 and etcd 3.4 binaries
//! installed on this machine.
//!
//! Debian installs the daemon as `prometheus-alertmanager` (upstream calls it
//! `alertmanager`) and the CLI as `amtool`; etcd as `etcd` (package `etcd-server`) and
//! `etcdctl` (package `etcd-client`). A test that needs one and cannot find it fails with
//! [`INSTALL_HINT`] or [`ETCD_INSTALL_HINT`]; it never passes silently.

use std::env;
use std::path::{Path, PathBuf};

/// How to get the binaries, shown whenever one is missing.
pub const INSTALL_HINT: &str = "install Alertmanager 0.25 with `apt-get install -y prometheus-alertmanager` \
     (Debian; it brings `amtool` too), or point ALERTMANAGER_BIN / AMTOOL_BIN at the binaries";

/// How to get etcd, shown whenever `etcd` or `etcdctl` is missing.
pub const ETCD_INSTALL_HINT: &str = "install etcd 3.4 with `apt-get install -y etcd-server etcd-client` \
     (Debian), or point ETCD_BIN / ETCDCTL_BIN at the binaries";

/// The Alertmanager daemon: `$ALERTMANAGER_BIN`, else `alertmanager`, else
/// `prometheus-alertmanager` on `PATH`.
///
/// # Panics
/// When none is found, with [`INSTALL_HINT`].
pub fn alertmanager_bin() -> PathBuf {
    find_alertmanager().unwrap_or_else(|why| panic!("{why}; {INSTALL_HINT}"))
}

/// `amtool`: `$AMTOOL_BIN`, else `amtool` on `PATH`.
///
/// # Panics
/// When none is found, with [`INSTALL_HINT`].
pub fn amtool_bin() -> PathBuf {
    find_amtool().unwrap_or_else(|why| panic!("{why}; {INSTALL_HINT}"))
}

/// The etcd server: `$ETCD_BIN`, else `etcd` on `PATH`.
///
/// # Panics
/// When none is found, with [`ETCD_INSTALL_HINT`].
pub fn etcd_bin() -> PathBuf {
    find_etcd().unwrap_or_else(|why| panic!("{why}; {ETCD_INSTALL_HINT}"))
}

/// `etcdctl`: `$ETCDCTL_BIN`, else `etcdctl` on `PATH`.
///
/// # Panics
/// When none is found, with [`ETCD_INSTALL_HINT`].
pub fn etcdctl_bin() -> PathBuf {
    find_etcdctl().unwrap_or_else(|why| panic!("{why}; {ETCD_INSTALL_HINT}"))
}

/// How to get Prometheus 2.42 and `promtool`, shown whenever one is missing.
pub const PROMETHEUS_INSTALL_HINT: &str = "install Prometheus 2.42 with `apt-get install -y prometheus` \
     (Debian; it brings `promtool` too), or point PROMETHEUS_BIN / PROMTOOL_BIN at the binaries";

/// The Prometheus server: `$PROMETHEUS_BIN`, else `prometheus` on `PATH`.
///
/// # Panics
/// When none is found, with [`PROMETHEUS_INSTALL_HINT`].
pub fn prometheus_bin() -> PathBuf {
    find("PROMETHEUS_BIN", &["prometheus"])
        .unwrap_or_else(|why| panic!("{why}; {PROMETHEUS_INSTALL_HINT}"))
}

/// `promtool`: `$PROMTOOL_BIN`, else `promtool` on `PATH`.
///
/// # Panics
/// When none is found, with [`PROMETHEUS_INSTALL_HINT`].
pub fn promtool_bin() -> PathBuf {
    find("PROMTOOL_BIN", &["promtool"])
        .unwrap_or_else(|why| panic!("{why}; {PROMETHEUS_INSTALL_HINT}"))
}

/// How to get kubectl 1.20, shown whenever it is missing.
pub const KUBECTL_INSTALL_HINT: &str = "run scripts/setup, which unpacks Debian's kubernetes-client 1.20 \
     into /opt/kubernetes-client (`apt-get download kubernetes-client` and `dpkg-deb -x`), or point \
     KUBECTL_BIN at a kubectl 1.20";

/// Where scripts/setup unpacks Debian's kubectl.
const KUBECTL_UNPACKED: &str = "/opt/kubernetes-client/usr/bin/kubectl";

/// kubectl 1.20: `$KUBECTL_BIN`, else Debian's build unpacked by scripts/setup, else
/// `kubectl` on `PATH` if it is a 1.20 (another version's output differs).
///
/// # Panics
/// When none is found, with [`KUBECTL_INSTALL_HINT`].
pub fn kubectl_bin() -> PathBuf {
    if let Some(path) = set_or_installed("KUBECTL_BIN", KUBECTL_UNPACKED) {
        return path;
    }
    if let Ok(path) = find("KUBECTL_BIN", &["kubectl"]) {
        let version = std::process::Command::new(&path)
            .args(["version", "--client", "--short"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        if version.contains("v1.20.") {
            return path;
        }
    }
    panic!("no kubectl 1.20 found; {KUBECTL_INSTALL_HINT}")
}

/// How to get Alpacalert 0.1.2 (the Alpacalert design's own implementation, with kr8s),
/// shown whenever it is missing.
pub const ALPACALERT_INSTALL_HINT: &str = "run scripts/setup, which makes a virtualenv in \
     /opt/alpacalert with `pip install alpacalert==0.1.2` (it brings kr8s 0.20), or point \
     ALPACALERT_PYTHON at a Python that imports alpacalert 0.1.2";

/// Where scripts/setup makes Alpacalert's virtualenv.
const ALPACALERT_VENV_PYTHON: &str = "/opt/alpacalert/bin/python";

/// A Python with Alpacalert 0.1.2 and kr8s: `$ALPACALERT_PYTHON`, else the virtualenv
/// scripts/setup makes.
///
/// # Panics
/// When none is found, with [`ALPACALERT_INSTALL_HINT`].
pub fn alpacalert_python() -> PathBuf {
    set_or_installed("ALPACALERT_PYTHON", ALPACALERT_VENV_PYTHON).unwrap_or_else(|| {
        panic!("no Python with Alpacalert 0.1.2 found; {ALPACALERT_INSTALL_HINT}")
    })
}

/// `$var` when set and not empty, else `installed` when it is an executable file.
fn set_or_installed(var: &str, installed: &str) -> Option<PathBuf> {
    if let Some(value) = env::var_os(var).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(value));
    }
    let path = PathBuf::from(installed);
    is_executable(&path).then_some(path)
}

/// Like [`alertmanager_bin`], but says why instead of panicking.
pub fn find_alertmanager() -> Result<PathBuf, String> {
    find(
        "ALERTMANAGER_BIN",
        &["alertmanager", "prometheus-alertmanager"],
    )
}

/// Like [`amtool_bin`], but says why instead of panicking.
pub fn find_amtool() -> Result<PathBuf, String> {
    find("AMTOOL_BIN", &["amtool"])
}

/// Like [`etcd_bin`], but says why instead of panicking.
pub fn find_etcd() -> Result<PathBuf, String> {
    find("ETCD_BIN", &["etcd"])
}

/// Like [`etcdctl_bin`], but says why instead of panicking.
pub fn find_etcdctl() -> Result<PathBuf, String> {
    find("ETCDCTL_BIN", &["etcdctl"])
}

fn find(var: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(value) = env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(&value);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(format!(
                "${var} is {path:?}, which is not an executable file"
            ))
        };
    }
    let dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| format!("${var} is not set and none of {names:?} is on PATH"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_is_explained() {
        let err = find("ALERT_TESTKIT_SURELY_UNSET", &["surely-not-a-binary-xyz"]).unwrap_err();
        assert!(err.contains("surely-not-a-binary-xyz"), "{err}");
        assert!(err.contains("$ALERT_TESTKIT_SURELY_UNSET"), "{err}");
    }

    #[test]
    fn sh_is_found_on_path() {
        let found = find(
            "ALERT_TESTKIT_SURELY_UNSET",
            &["surely-not-a-binary-xyz", "sh"],
        )
        .expect("sh is on PATH");
        assert!(found.ends_with("sh"), "{found:?}");
    }
}
