//! Reading and writing across the members of an HA Alertmanager cluster.
//!
//! Alertmanager's gossip replicates silences and the notification log, not alerts. So,
//! as Cortex's and Mimir's distributors do:
//!
//! - reads go to every member at once and are merged ([`crate::merge`]); a read
//!   succeeds when a quorum answers, and says which members failed;
//! - alerts are posted to every member;
//! - a silence is created on one member (gossip spreads it), and the call can wait until
//!   the others show it.
//!
//! The member list is static, or read from a member's `/api/v2/status` peers
//! ([`Cluster::discover`]).

use std::time::{Duration, Instant};

use alert_core::AlertmanagerTarget;
use alert_core::redact_urls;
use alert_core::silence::{PostableSilence, Silence};
use futures::future::join_all;

use crate::addressing::Addressing;
use crate::alert::{AlertGroup, AlertQuery, GettableAlert, PostableAlert, ReceiverName};
use crate::backoff::Backoff;
use crate::client::AlertmanagerClient;
use crate::error::{Error, MemberFailure, Result};
use crate::merge;
use crate::status::{AlertmanagerStatus, PeerStatus};

/// How many members must answer for a fan-out call to succeed (`alert_core`'s, so that
/// every description of a target shares it).
pub use alert_core::Quorum;

/// A result that a quorum produced, and the members that did not take part.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial<T> {
    /// The merged value.
    pub value: T,
    /// The members that answered, in member-list order.
    pub answered: Vec<String>,
    /// The members that failed, and why.
    pub failed: Vec<MemberFailure>,
}

impl<T> Partial<T> {
    /// Whether every member answered.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    /// The names of the members that failed.
    pub fn failed_members(&self) -> Vec<&str> {
        self.failed.iter().map(|f| f.member.as_str()).collect()
    }

    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Partial<U> {
        Partial {
            value: f(self.value),
            answered: self.answered,
            failed: self.failed,
        }
    }
}

/// The members of one HA Alertmanager (or one Cortex/Mimir tenant reached through
/// several replicas).
///
/// ```no_run
/// use alert_cortex_adapter::{AlertQuery, AlertmanagerClient, Cluster};
/// # async fn run() -> Result<(), alert_cortex_adapter::Error> {
/// let members = ["http://am-0:9093", "http://am-1:9093", "http://am-2:9093"]
///     .into_iter()
///     .map(|u| AlertmanagerClient::builder(u).build())
///     .collect::<Result<Vec<_>, _>>()?;
/// let cluster = Cluster::new(members)?;
/// let alerts = cluster.alerts(&AlertQuery::default()).await?;
/// if !alerts.is_complete() {
///     eprintln!("partial result; failed: {:?}", alerts.failed_members());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Cluster {
    members: Vec<AlertmanagerClient>,
    quorum: Quorum,
    poll: Backoff,
}

impl Cluster {
    /// A cluster of these members (at least one), with [`Quorum::Majority`].
    pub fn new(members: Vec<AlertmanagerClient>) -> Result<Cluster> {
        if members.is_empty() {
            return Err(Error::Members {
                reason: "at least one member is needed".into(),
            });
        }
        Ok(Cluster {
            members,
            quorum: Quorum::default(),
            poll: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(500),
                multiplier: 2.0,
                max_attempts: u32::MAX,
                jitter: true,
            },
        })
    }

    /// A client per member of `target`, with its addressing, per-call timeout, tries and
    /// quorum; each member named by its URL without credentials. The members share
    /// `http`'s connection pool (and its TLS and authentication settings) when given.
    ///
    /// ```
    /// use alert_core::AlertmanagerTarget;
    /// use alert_cortex_adapter::{Cluster, Quorum};
    /// let mut target = AlertmanagerTarget::new(["http://admin:pw@am-0:9093", "http://am-1:9093/"]);
    /// target.quorum = Quorum::AtLeast(1);
    /// let cluster = Cluster::from_target(&target, None)?;
    /// assert_eq!(cluster.members()[0].name(), "http://<secret>@am-0:9093");
    /// assert_eq!(cluster.members()[1].name(), "http://am-1:9093");
    /// assert_eq!(cluster.quorum(), Quorum::AtLeast(1));
    /// # Ok::<(), alert_cortex_adapter::Error>(())
    /// ```
    pub fn from_target(
        target: &AlertmanagerTarget,
        http: Option<&reqwest::Client>,
    ) -> Result<Cluster> {
        let addressing = Addressing::for_target(target)?;
        let members = target
            .urls
            .iter()
            .map(|url| {
                let mut builder = AlertmanagerClient::builder(url.as_str())
                    // Members are named in messages: without credentials.
                    .name(redact_urls(url.trim_end_matches('/')))
                    .addressing(addressing.clone())
                    .timeout(target.request_timeout.to_std())
                    .backoff(Backoff {
                        max_attempts: target.attempts,
                        ..Backoff::default()
                    });
                if let Some(client) = http {
                    builder = builder.http_client(client.clone());
                }
                builder.build()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Cluster::new(members)?.with_quorum(target.quorum))
    }

    /// Reads the member list from `seed`'s `/api/v2/status` peers.
    ///
    /// A peer's `address` is its gossip address (`host:9094`), not its API, so
    /// `api_url` maps each peer to the base URL of its API (or `None` to leave it out).
    /// The members get `seed`'s settings: addressing, timeout, retries, connection pool.
    /// With clustering disabled the seed alone is the member list.
    pub async fn discover(
        seed: &AlertmanagerClient,
        api_url: impl Fn(&PeerStatus) -> Option<String>,
    ) -> Result<Cluster> {
        let status = seed.status().await?;
        if status.cluster.peers.is_empty() {
            return Cluster::new(vec![seed.clone()]);
        }
        let mut members = Vec::new();
        let mut unmapped = Vec::new();
        for peer in &status.cluster.peers {
            match api_url(peer) {
                Some(url) => members.push(seed.with_base_url(&url)?),
                None => unmapped.push(format!("{} ({})", peer.name, peer.address)),
            }
        }
        if members.is_empty() {
            return Err(Error::Members {
                reason: format!(
                    "no peer of {} maps to an API URL: {}",
                    seed.name(),
                    unmapped.join(", ")
                ),
            });
        }
        members.sort_by(|a, b| a.base_url().cmp(b.base_url()));
        members.dedup_by(|a, b| a.base_url() == b.base_url());
        Cluster::new(members)
    }

    /// Sets the quorum.
    pub fn with_quorum(mut self, quorum: Quorum) -> Cluster {
        self.quorum = quorum;
        self
    }

    /// Sets how often [`Cluster::wait_visible`]-style polls ask again.
    pub fn with_poll(mut self, poll: Backoff) -> Cluster {
        self.poll = poll;
        self
    }

    /// The members.
    pub fn members(&self) -> &[AlertmanagerClient] {
        &self.members
    }

    /// The quorum.
    pub fn quorum(&self) -> Quorum {
        self.quorum
    }

    /// `GET /api/v2/alerts` on every member, merged.
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Partial<Vec<GettableAlert>>> {
        let p = self
            .fan_out(|m| async move { m.alerts(query).await })
            .await?;
        Ok(p.map(|answers| merge::merge_alerts(answers.into_iter().flatten().collect())))
    }

    /// `GET /api/v2/alerts/groups` on every member, merged.
    pub async fn alert_groups(&self, query: &AlertQuery) -> Result<Partial<Vec<AlertGroup>>> {
        let p = self
            .fan_out(|m| async move { m.alert_groups(query).await })
            .await?;
        Ok(p.map(|answers| merge::merge_alert_groups(answers.into_iter().flatten().collect())))
    }

    /// `GET /api/v2/receivers` on every member: the union by name, sorted by name.
    pub async fn receivers(&self) -> Result<Partial<Vec<ReceiverName>>> {
        let p = self.fan_out(|m| async move { m.receivers().await }).await?;
        Ok(p.map(|answers| {
            let mut all: Vec<ReceiverName> = answers.into_iter().flatten().collect();
            all.sort();
            all.dedup();
            all
        }))
    }

    /// `GET /api/v2/status` on every member: each answer with its member's name.
    pub async fn statuses(&self) -> Result<Partial<Vec<(String, AlertmanagerStatus)>>> {
        let p = self
            .fan_out(|m| async move { m.status().await.map(|s| (m.name().to_owned(), s)) })
            .await?;
        Ok(p)
    }

    /// `POST /api/v2/alerts` to every member (alerts are not gossiped). Succeeds when a
    /// quorum accepted them, naming the members that did not.
    pub async fn post_alerts(&self, alerts: &[PostableAlert]) -> Result<Partial<()>> {
        let p = self
            .fan_out(|m| async move { m.post_alerts(alerts).await })
            .await?;
        Ok(p.map(drop))
    }

    /// `GET /api/v2/silences` on every member, merged (union by id, latest `updatedAt`,
    /// sorted active, pending, expired; ties by id). When one member answered, its list
    /// is returned in the order it sent.
    pub async fn silences(&self, filter: &[String]) -> Result<Partial<Vec<Silence>>> {
        let p = self
            .fan_out(|m| async move { m.silences(filter).await })
            .await?;
        Ok(p.map(|answers| {
            // One answer is kept as the member sent it: Alertmanager's own order
            // (`SortSilences`), whose ties amtool prints as they come.
            if answers.len() == 1 {
                answers.into_iter().flatten().collect()
            } else {
                merge::merge_silences(answers.into_iter().flatten().collect())
            }
        }))
    }

    /// `GET /api/v2/silence/{id}` on every member, merged. A member that does not know
    /// the silence (404) counts as failed, as in Cortex: the quorum decides.
    pub async fn silence(&self, id: &str) -> Result<Partial<Silence>> {
        let p = self.fan_out(|m| async move { m.silence(id).await }).await?;
        let Partial {
            value,
            answered,
            failed,
        } = p;
        Ok(Partial {
            value: merge::merge_silence(id, value)?,
            answered,
            failed,
        })
    }

    /// Creates a silence on one member (the first that accepts; gossip spreads it) and
    /// returns its id.
    ///
    /// A member that refuses the silence (4xx) ends the call with that error; one that
    /// cannot be reached is skipped for the next. With `wait`, the call then polls the
    /// other members until each shows the silence as stored on the first. It fails with
    /// [`Error::NotVisible`] when a member that answers still lacks it at the deadline;
    /// members that cannot be reached are reported in [`Partial::failed`] as long as the
    /// members showing it make a quorum.
    pub async fn create_silence(
        &self,
        silence: &PostableSilence,
        wait: Option<Duration>,
    ) -> Result<Partial<String>> {
        let mut failed = Vec::new();
        let mut created = None;
        for member in &self.members {
            match member.post_silence(silence).await {
                Ok(id) => {
                    created = Some((member, id));
                    break;
                }
                Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => return Err(e),
                Err(e) => failed.push(MemberFailure {
                    member: member.name().to_owned(),
                    error: Box::new(e),
                }),
            }
        }
        let Some((origin, id)) = created else {
            return Err(Error::QuorumNotReached {
                members: self.members.len(),
                answered: 0,
                quorum: 1,
                failures: failed,
            });
        };
        let Some(timeout) = wait else {
            return Ok(Partial {
                value: id,
                answered: vec![origin.name().to_owned()],
                failed,
            });
        };
        // The version stored on the first member; if it cannot be read back, any copy
        // of the silence counts.
        let updated = origin.silence(&id).await.ok().map(|s| s.updated_at);
        let others: Vec<&AlertmanagerClient> = self
            .members
            .iter()
            .filter(|m| m.name() != origin.name())
            .collect();
        let id_ref = id.as_str();
        let missing = self
            .wait_on_members(others, timeout, |m| async move {
                match m.silence(id_ref).await {
                    Ok(s) => Ok(updated.is_none_or(|u| s.updated_at >= u)),
                    Err(Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e),
                }
            })
            .await;
        let (unreachable, lacking): (Vec<_>, Vec<_>) = missing
            .into_iter()
            .partition(|(_, e)| e.as_ref().is_some_and(Error::is_transient));
        let visible = self.members.len() - unreachable.len() - lacking.len();
        if !lacking.is_empty() || visible < self.quorum.needed(self.members.len()) {
            return Err(Error::NotVisible {
                what: format!("silence {id}"),
                members: lacking
                    .iter()
                    .chain(&unreachable)
                    .map(|(m, _)| m.name().to_owned())
                    .collect(),
                waited: timeout,
            });
        }
        let failed: Vec<MemberFailure> = unreachable
            .into_iter()
            .map(|(m, e)| MemberFailure {
                member: m.name().to_owned(),
                error: Box::new(e.unwrap_or_else(|| Error::Members {
                    reason: "unreachable".into(),
                })),
            })
            .collect();
        let answered = self
            .members
            .iter()
            .map(|m| m.name().to_owned())
            .filter(|n| !failed.iter().any(|f| &f.member == n))
            .collect();
        Ok(Partial {
            value: id,
            answered,
            failed,
        })
    }

    /// Expires a silence on one member (gossip spreads it): the first member that
    /// succeeds; one that cannot be reached or does not know the silence yet is skipped.
    /// Returns the member's name.
    pub async fn expire_silence(&self, id: &str) -> Result<String> {
        let mut failures = Vec::new();
        for member in &self.members {
            match member.expire_silence(id).await {
                Ok(()) => return Ok(member.name().to_owned()),
                Err(e) if e.is_transient() || matches!(e, Error::NotFound { .. }) => {
                    failures.push(MemberFailure {
                        member: member.name().to_owned(),
                        error: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::QuorumNotReached {
            members: self.members.len(),
            answered: 0,
            quorum: 1,
            failures,
        })
    }

    /// Runs `call` on every member concurrently and keeps the answers in member order.
    /// Fails with [`Error::QuorumNotReached`] when fewer than the quorum succeed, or
    /// with the member's own error when the cluster has one member or a member refused
    /// the request itself (HTTP 400, 413, 422).
    pub(crate) async fn fan_out<'a, T, F, Fut>(&'a self, call: F) -> Result<Partial<Vec<T>>>
    where
        F: Fn(&'a AlertmanagerClient) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + 'a,
    {
        let results = join_all(self.members.iter().map(&call)).await;
        let mut value = Vec::with_capacity(results.len());
        let mut answered = Vec::new();
        let mut failed = Vec::new();
        for (member, result) in self.members.iter().zip(results) {
            match result {
                Ok(v) => {
                    value.push(v);
                    answered.push(member.name().to_owned());
                }
                Err(e) => failed.push(MemberFailure {
                    member: member.name().to_owned(),
                    error: Box::new(e),
                }),
            }
        }
        let quorum = self.quorum.needed(self.members.len());
        if answered.len() < quorum {
            // A request the servers refuse is refused by all: report the refusal itself,
            // as for a single member.
            let refused = failed
                .iter()
                .position(|f| matches!(*f.error, Error::Rejected { .. }));
            if let Some(i) = refused.or((self.members.len() == 1).then_some(0))
                && i < failed.len()
            {
                return Err(*failed.swap_remove(i).error);
            }
            return Err(Error::QuorumNotReached {
                members: self.members.len(),
                answered: answered.len(),
                quorum,
                failures: failed,
            });
        }
        Ok(Partial {
            value,
            answered,
            failed,
        })
    }

    /// Polls `check` on each member in `pending` until it holds on all of them or
    /// `timeout` passes; returns the members where it never held, with the last error.
    pub(crate) async fn wait_on_members<'a, F, Fut>(
        &'a self,
        mut pending: Vec<&'a AlertmanagerClient>,
        timeout: Duration,
        check: F,
    ) -> Vec<(&'a AlertmanagerClient, Option<Error>)>
    where
        F: Fn(&'a AlertmanagerClient) -> Fut,
        Fut: std::future::Future<Output = Result<bool>> + 'a,
    {
        let start = Instant::now();
        let mut last: Vec<Option<Error>>;
        let mut round = 0;
        loop {
            let results = join_all(pending.iter().map(|m| check(m))).await;
            let mut still = Vec::new();
            let mut still_err = Vec::new();
            for (m, r) in pending.into_iter().zip(results) {
                match r {
                    Ok(true) => {}
                    Ok(false) => {
                        still.push(m);
                        still_err.push(None);
                    }
                    Err(e) => {
                        still.push(m);
                        still_err.push(Some(e));
                    }
                }
            }
            pending = still;
            last = still_err;
            if pending.is_empty() || start.elapsed() >= timeout {
                break;
            }
            round += 1;
            let pause = self
                .poll
                .delay(round)
                .min(timeout.saturating_sub(start.elapsed()));
            tokio::time::sleep(pause).await;
        }
        pending.into_iter().zip(last).collect()
    }
}
