//! A shared cache of upstream reads with a time-to-live and request coalescing (needs
//! the `runtime` feature).
//!
//! Many sensors are fed by one upstream call: every Alertmanager-alerts sensor of one
//! Alertmanager reads the same `GET /api/v2/alerts`, every threshold on one Prometheus
//! query reads the same result. Each sensor asks the cache by key; within the TTL the
//! cached value is returned, and while a fetch is in flight every other caller for the
//! same key waits for that fetch instead of starting its own. So N sensors make one
//! upstream call per TTL window. Errors are shared with the callers waiting on that
//! fetch but not cached: the next caller tries again. Each answer records its age.
//!
//! Time is `tokio::time::Instant`, so tests can run with paused time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::time::Instant;

use crate::error::Error;

type Fetch<V> = Shared<BoxFuture<'static, Result<V, Error>>>;

enum Slot<V> {
    Ready { value: V, fetched_at: Instant },
    InFlight(Fetch<V>),
}

/// A cached value and how old it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached<V> {
    /// The value.
    pub value: V,
    /// Time since it was fetched (zero for the caller whose fetch produced it).
    pub age: Duration,
}

/// Upstream reads by key, shared by every sensor that holds the cache.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use alert_health_graph::SourceCache;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build()?.block_on(async {
/// let cache: SourceCache<u32> = SourceCache::new();
/// let calls = Arc::new(AtomicUsize::new(0));
/// let fetch = |calls: Arc<AtomicUsize>| async move {
///     calls.fetch_add(1, Ordering::SeqCst);
///     Ok(42)
/// };
/// let ttl = Duration::from_secs(30);
/// let a = cache.get("k", ttl, fetch(calls.clone())).await?;
/// tokio::time::advance(Duration::from_secs(10)).await;
/// let b = cache.get("k", ttl, fetch(calls.clone())).await?;
/// assert_eq!((a.value, b.value), (42, 42));
/// assert_eq!(b.age, Duration::from_secs(10));
/// assert_eq!(calls.load(Ordering::SeqCst), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SourceCache<V> {
    slots: Mutex<HashMap<String, Slot<V>>>,
}

impl<V> Default for SourceCache<V> {
    fn default() -> Self {
        SourceCache {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> std::fmt::Debug for SourceCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.slots.lock().map(|s| s.len()).unwrap_or(0);
        write!(f, "SourceCache({len} keys)")
    }
}

impl<V: Clone + Send + Sync + 'static> SourceCache<V> {
    /// An empty cache.
    pub fn new() -> SourceCache<V> {
        SourceCache::default()
    }

    /// The value for `key`: cached if younger than `ttl`, joined if a fetch is in
    /// flight, otherwise fetched with `fetch` (which is dropped unused in the first two
    /// cases).
    pub async fn get<F>(&self, key: &str, ttl: Duration, fetch: F) -> Result<Cached<V>, Error>
    where
        F: Future<Output = Result<V, Error>> + Send + 'static,
    {
        let (shared, started) = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match slots.get(key) {
                Some(Slot::Ready { value, fetched_at }) if fetched_at.elapsed() < ttl => {
                    return Ok(Cached {
                        value: value.clone(),
                        age: fetched_at.elapsed(),
                    });
                }
                Some(Slot::InFlight(shared)) => (shared.clone(), false),
                _ => {
                    let shared = fetch.boxed().shared();
                    slots.insert(key.to_owned(), Slot::InFlight(shared.clone()));
                    (shared, true)
                }
            }
        };
        let result = shared.clone().await;
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let ours = matches!(slots.get(key), Some(Slot::InFlight(s)) if s.ptr_eq(&shared));
        match &result {
            Ok(value) if ours => {
                slots.insert(
                    key.to_owned(),
                    Slot::Ready {
                        value: value.clone(),
                        fetched_at: Instant::now(),
                    },
                );
            }
            Err(_) if ours => {
                slots.remove(key);
            }
            _ => {}
        }
        let age = match slots.get(key) {
            Some(Slot::Ready { fetched_at, .. }) if !started => fetched_at.elapsed(),
            _ => Duration::ZERO,
        };
        result.map(|value| Cached { value, age })
    }

    /// Forgets every cached value (fetches in flight finish but are not kept).
    pub fn clear(&self) {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A cache shared between sensors.
pub type SharedCache<V> = Arc<SourceCache<V>>;
