//! Stands in for nothing: an N-member gossip cluster of REAL Alertmanager 0.25 processes,
//! as an HA pair (or Cortex's replicated Alertmanagers) runs them.

use std::collections::BTreeSet;
use std::ops::Index;
use std::time::Duration;

use serde_json::Value;

use crate::alertmanager::{Alertmanager, AlertmanagerBuilder};
use crate::http;
use crate::poll::poll_until;
use crate::ports::free_tcp_udp_port;

/// How long [`Cluster::start`] waits for every member to see every other.
pub const DEFAULT_FORM_TIMEOUT: Duration = Duration::from_secs(60);

/// How many times a cluster start is tried when a gossip port turns out to be taken.
const START_ATTEMPTS: usize = 5;

/// Alertmanager processes gossiping on 127.0.0.1, each started with a
/// `--cluster.peer` for every other member. Dropping the cluster kills them all.
///
/// ```no_run
/// use alert_testkit::{Cluster, MINIMAL_CONFIG};
/// let mut cluster = Cluster::start(3, MINIMAL_CONFIG);
/// assert_eq!(cluster[0].status()["cluster"]["peers"].as_array().map(Vec::len), Some(3));
/// cluster.kill(2);
/// cluster.wait_for_peers(2);
/// ```
#[derive(Debug)]
pub struct Cluster {
    members: Vec<Alertmanager>,
}

impl Cluster {
    /// Starts `n` members with this configuration and waits until each reports all `n`
    /// (itself included) in `GET /api/v2/status` and has settled (`cluster.status` is
    /// `ready`).
    ///
    /// # Panics
    /// When a member does not start, or the cluster does not form within
    /// [`DEFAULT_FORM_TIMEOUT`].
    pub fn start(n: usize, config_yaml: &str) -> Cluster {
        Cluster::start_with(n, config_yaml, |_, builder| builder)
    }

    /// Like [`start`](Self::start), letting `customise` adjust member `i`'s builder
    /// (extra flags, an external URL) before it starts.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub fn start_with(
        n: usize,
        config_yaml: &str,
        mut customise: impl FnMut(usize, AlertmanagerBuilder) -> AlertmanagerBuilder,
    ) -> Cluster {
        assert!(n > 0, "a cluster needs at least one member");
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let ports = distinct_gossip_ports(n);
            let mut members = Vec::with_capacity(n);
            let mut retry = false;
            for (i, port) in ports.iter().enumerate() {
                let mut builder = Alertmanager::builder(config_yaml).cluster_port(*port);
                for (j, peer) in ports.iter().enumerate() {
                    if j != i {
                        builder = builder.peer(format!("127.0.0.1:{peer}"));
                    }
                }
                match customise(i, builder).try_start() {
                    Ok(am) => members.push(am),
                    Err(failure) if failure.address_in_use => {
                        last = failure.message;
                        retry = true;
                        break;
                    }
                    Err(failure) => panic!("cluster member {i}: {}", failure.message),
                }
            }
            if retry {
                continue;
            }
            let cluster = Cluster { members };
            cluster.wait_for_peers(n);
            return cluster;
        }
        panic!("no cluster of {n} could start in {START_ATTEMPTS} attempts; last failure: {last}")
    }

    /// The number of members, killed ones included.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the cluster has no members (never true for a started cluster).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Member `i`.
    pub fn member(&self, i: usize) -> &Alertmanager {
        &self.members[i]
    }

    /// Member `i`, mutably (to [`restart`](Alertmanager::restart) it, say).
    pub fn member_mut(&mut self, i: usize) -> &mut Alertmanager {
        &mut self.members[i]
    }

    /// Every member, in start order.
    pub fn members(&self) -> &[Alertmanager] {
        &self.members
    }

    /// Kills member `i` (SIGKILL) and waits for it; the others keep running.
    pub fn kill(&mut self, i: usize) {
        self.members[i].kill();
    }

    /// Waits until every member not killed reports `expected` peers (itself included)
    /// and `cluster.status` `ready`. After a kill, the others drop the dead member once
    /// gossip declares it dead, which takes a few seconds.
    ///
    /// # Panics
    /// When that does not happen within [`DEFAULT_FORM_TIMEOUT`]; the message shows the
    /// last status each member reported.
    pub fn wait_for_peers(&self, expected: usize) {
        let mut seen: Vec<String> = Vec::new();
        let formed = poll_until(DEFAULT_FORM_TIMEOUT, || {
            seen.clear();
            let mut all = true;
            for (i, member) in self.members.iter().enumerate() {
                if member.is_killed() {
                    continue;
                }
                let status = http::try_get(&member.api_url("/status"))
                    .ok()
                    .filter(|r| r.is_success())
                    .map(|r| r.json());
                let cluster = status.as_ref().map(|s| &s["cluster"]);
                let peers = cluster
                    .and_then(|c| c["peers"].as_array())
                    .map_or(0, Vec::len);
                let state = cluster.and_then(|c| c["status"].as_str()).unwrap_or("?");
                seen.push(format!("member {i}: {peers} peers, {state}"));
                all &= peers == expected && state == "ready";
            }
            all.then_some(())
        });
        if formed.is_none() {
            panic!(
                "cluster did not converge to {expected} peers per member in {DEFAULT_FORM_TIMEOUT:?}: {}",
                seen.join("; ")
            );
        }
    }

    /// The peers member `i` reports: `(name, address)` pairs.
    ///
    /// # Panics
    /// When its status cannot be read.
    pub fn peers_of(&self, i: usize) -> Vec<(String, String)> {
        let status = self.members[i].status();
        status["cluster"]["peers"]
            .as_array()
            .map(|peers| {
                peers
                    .iter()
                    .map(|p| (str_field(p, "name"), str_field(p, "address")))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Index<usize> for Cluster {
    type Output = Alertmanager;

    fn index(&self, i: usize) -> &Alertmanager {
        &self.members[i]
    }
}

fn str_field(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap_or_default().to_owned()
}

fn distinct_gossip_ports(n: usize) -> Vec<u16> {
    let mut ports = BTreeSet::new();
    while ports.len() < n {
        ports.insert(free_tcp_udp_port());
    }
    ports.into_iter().collect()
}
