//! Timing in an Alertmanager cluster: before notifying, the peer at position `p` waits
//! `p × peer_timeout` (Alertmanager's `clusterWait`) so that the peers before it can
//! notify first and gossip that they did. A `group_wait` shorter than the wait of the
//! last peer means the first notification of a group reaches that peer before the
//! others' notification log does, and it may notify again.

use alert_core::Duration;

use super::{Warning, WarningKind};
use crate::config::Route;

/// Alertmanager's default `--cluster.peer-timeout`.
pub const DEFAULT_PEER_TIMEOUT: Duration = match Duration::from_secs(15) {
    Some(d) => d,
    None => Duration::ZERO,
};

/// Alertmanager's default `group_wait` at the root.
const DEFAULT_GROUP_WAIT: Duration = match Duration::from_secs(30) {
    Some(d) => d,
    None => Duration::ZERO,
};

/// The cluster a configuration runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterTiming {
    /// `--cluster.peer-timeout` (default 15s).
    pub peer_timeout: Duration,
    /// How many Alertmanagers are in the cluster.
    pub peers: usize,
}

impl ClusterTiming {
    /// A cluster of `peers` with the default peer timeout.
    pub fn new(peers: usize) -> ClusterTiming {
        ClusterTiming {
            peer_timeout: DEFAULT_PEER_TIMEOUT,
            peers,
        }
    }

    /// How long the last peer waits before notifying: `(peers - 1) × peer_timeout`.
    pub fn last_peer_wait(&self) -> Duration {
        let steps = u64::try_from(self.peers.saturating_sub(1)).unwrap_or(u64::MAX);
        self.peer_timeout
            .checked_mul(steps)
            .unwrap_or(Duration::from_millis(u64::MAX).unwrap_or(Duration::ZERO))
    }

    /// Why `group_wait` is too short for the cluster (`group_wait 10s is shorter than the
    /// 30s the last of 3 peers waits before notifying (2 x peer_timeout 15s); a group's
    /// first notification may be sent twice`), or `None` when it is at least
    /// [`ClusterTiming::last_peer_wait`].
    pub(crate) fn group_wait_too_short(&self, group_wait: Duration) -> Option<String> {
        let wait = self.last_peer_wait();
        (group_wait < wait).then(|| {
            format!(
                "group_wait {group_wait} is shorter than the {wait} the last of {} peers waits \
                 before notifying ({} x peer_timeout {}); a group's first notification may be \
                 sent twice",
                self.peers,
                self.peers.saturating_sub(1),
                self.peer_timeout
            )
        })
    }

    /// A warning for every route whose effective `group_wait` is shorter than
    /// [`ClusterTiming::last_peer_wait`], reported where the value is set (the root
    /// counts with the default 30s); routes inheriting it are not repeated.
    pub(crate) fn check(&self, root: &Route, out: &mut Vec<Warning>) {
        if self.last_peer_wait().is_zero() {
            return;
        }
        let mut path = String::from("route");
        self.walk(
            root,
            root.group_wait.unwrap_or(DEFAULT_GROUP_WAIT),
            true,
            &mut path,
            out,
        );
    }

    fn walk(
        &self,
        route: &Route,
        effective: Duration,
        set_here: bool,
        path: &mut String,
        out: &mut Vec<Warning>,
    ) {
        if set_here && let Some(message) = self.group_wait_too_short(effective) {
            out.push(Warning {
                path: format!("{path}.group_wait"),
                kind: WarningKind::GroupWaitShorterThanClusterWait,
                message,
            });
        }
        for (i, child) in route.routes.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!(".routes[{i}]"));
            let (child_wait, set) = match child.group_wait {
                Some(w) => (w, true),
                None => (effective, false),
            };
            self.walk(child, child_wait, set, path, out);
            path.truncate(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Duration {
        s.parse().expect("duration")
    }

    #[test]
    fn flags_where_the_short_wait_is_set() {
        let mut root = Route::new("r");
        let short = Route {
            group_wait: Some(d("10s")),
            routes: vec![Route::default()],
            ..Route::default()
        };
        let long = Route {
            group_wait: Some(d("1m")),
            ..Route::default()
        };
        root.routes.push(short);
        root.routes.push(long);
        let mut out = Vec::new();
        ClusterTiming::new(3).check(&root, &mut out);
        let paths: Vec<&str> = out.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(paths, ["route.routes[0].group_wait"]);
        assert!(
            out[0]
                .message
                .starts_with("group_wait 10s is shorter than the 30s the last of 3 peers waits")
        );

        // Four peers wait 45s: the root's default 30s is too short as well.
        let mut out = Vec::new();
        ClusterTiming::new(4).check(&root, &mut out);
        let paths: Vec<&str> = out.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(paths, ["route.group_wait", "route.routes[0].group_wait"]);

        // A single Alertmanager waits for nobody.
        let mut out = Vec::new();
        ClusterTiming::new(1).check(&root, &mut out);
        assert!(out.is_empty());
    }
}
