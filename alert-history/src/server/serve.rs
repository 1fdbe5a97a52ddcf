//! Serving the router on a socket with the limits a server on a network needs.
//!
//! - **Header timeout** ([`ServeOptions::header_timeout`]): a client that connects and
//!   sends nothing, or stops in the middle of its headers (slowloris), is cut off; the
//!   same timeout closes a kept-alive connection that sits idle before its next request.
//! - **Body timeout**: the webhook's body must arrive within
//!   [`ServerOptions::body_timeout`](super::ServerOptions::body_timeout) (408), and a
//!   declared `Content-Length` over the limit is refused before any of it is read (413);
//!   the router does both, since only the webhook reads a body.
//! - **Connection cap** ([`ServeOptions::max_connections`]), lowered to what the
//!   open-file limit leaves after [`ServeOptions::fd_reserve`] for the store, so accept
//!   does not fail for want of a file descriptor. When the cap is reached, a new
//!   connection closes the oldest *idle* one (waiting for its first or next request's
//!   headers, none in progress) and takes its place: idle or slowloris clients cannot
//!   keep a health probe or an Alertmanager delivery out. Only when every connection is
//!   busy with a request does a new one wait (requests end within the body timeout and
//!   the router's request timeout).
//! - **JSON errors** for requests HTTP/1 parsing refuses before the router sees them
//!   (a request target over 64 KiB, oversized headers): see [`super::parse_errors`].
//! - **Lingering close**: a connection ends with FIN, and what the client still sends
//!   is read and dropped for up to 2 s, so a client still sending a refused body
//!   reads its 413 instead of a reset.
//! - **Graceful shutdown**: when `shutdown` resolves, no new connection is accepted,
//!   open ones finish their request (up to [`ServeOptions::shutdown_grace`]).
//!
//! This is the server's own small loop (hyper's HTTP/1 connection under tokio), so any
//! embedder of the router can serve it with the same limits; axum's `serve` has no
//! timeouts.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};

use super::fd_limit;
use super::parse_errors::JsonParseErrors;

/// Limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle before its next request.
    pub header_timeout: Duration,
    /// The most connections open at once (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// File descriptors left for everything but connections (the store's files, Loki's
    /// sockets, logs).
    pub fd_reserve: usize,
    /// How long open requests may take to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    /// 10 s for headers and idle connections, 1,024 connections, 64 descriptors in
    /// reserve, 10 s of grace.
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
            fd_reserve: 64,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// How many connections fit: [`ServeOptions::max_connections`], lowered so that the
/// connections, the descriptors open now and the reserve stay within `soft_limit`.
///
/// ```
/// use alert_history::server::ServeOptions;
/// use alert_history::server::serve::connection_cap;
/// let options = ServeOptions::default();
/// assert_eq!(connection_cap(&options, Some(1_048_576), 20), 1024);
/// // A soft limit of 1024 with 20 open and 64 in reserve leaves 940.
/// assert_eq!(connection_cap(&options, Some(1024), 20), 940);
/// assert_eq!(connection_cap(&options, Some(50), 20), 1);
/// ```
pub fn connection_cap(options: &ServeOptions, soft_limit: Option<u64>, open_now: u64) -> usize {
    let budget = soft_limit.map_or(usize::MAX, |soft| {
        let left = soft.saturating_sub(open_now.saturating_add(options.fd_reserve as u64));
        usize::try_from(left).unwrap_or(usize::MAX)
    });
    options.max_connections.min(budget).max(1)
}

/// One open connection, as the accept loop sees it.
struct Entry {
    /// Requests in progress (from headers read until the response body is written).
    busy: Arc<AtomicUsize>,
    /// Tells the connection to close.
    evict: Arc<Notify>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections {
    next: u64,
    open: BTreeMap<u64, Entry>,
}

impl Connections {
    fn lock(this: &Mutex<Connections>) -> std::sync::MutexGuard<'_, Connections> {
        this.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the oldest connection with no request in progress; `false` if all are
    /// busy.
    fn evict_oldest_idle(this: &Mutex<Connections>) -> bool {
        let mut all = Connections::lock(this);
        let idle = all
            .open
            .iter()
            .find(|(_, e)| e.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match idle.and_then(|id| all.open.remove(&id)) {
            Some(e) => {
                e.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Counts a request as in progress until dropped.
struct InProgress(Arc<AtomicUsize>);

impl InProgress {
    fn new(busy: &Arc<AtomicUsize>) -> InProgress {
        busy.fetch_add(1, Ordering::AcqRel);
        InProgress(Arc::clone(busy))
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The router as hyper calls it on one connection, counting its requests in progress
/// until their response bodies are written.
#[derive(Clone)]
struct Tracked {
    app: TowerToHyperService<Router>,
    busy: Arc<AtomicUsize>,
}

impl Service<hyper::Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let in_progress = InProgress::new(&self.busy);
        let response = self.app.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _ = &in_progress;
                    frame
                }))
            }))
        })
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish
/// (see the [module docs](self)).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let soft = fd_limit::current().ok().map(|l| l.soft);
    let cap = connection_cap(&options, soft, fd_limit::open_now().unwrap_or(0));
    if cap < options.max_connections {
        tracing::warn!(
            asked = options.max_connections,
            allowed = cap,
            open_file_limit = ?soft,
            "connection cap lowered to fit the open-file limit"
        );
    }
    tracing::info!(
        max_connections = cap,
        header_timeout_s = options.header_timeout.as_secs_f64(),
        "serving"
    );
    let slots = Arc::new(Semaphore::new(cap));
    let connections = Arc::new(Mutex::new(Connections::default()));
    let (closing_tx, closing) = watch::channel(false);
    let app = TowerToHyperService::new(app);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors despite the cap (something else holds them),
                // or a connection reset before it was accepted: back off, do not spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if Connections::evict_oldest_idle(&connections) {
                    tracing::debug!(%peer, "connection cap reached: closed the oldest idle connection");
                } else {
                    tracing::warn!(%peer, "connection cap reached and every connection is busy: waiting");
                }
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    p = Arc::clone(&slots).acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let busy = Arc::new(AtomicUsize::new(0));
        let evict = Arc::new(Notify::new());
        let id = {
            let mut all = Connections::lock(&connections);
            let id = all.next;
            all.next += 1;
            all.open.insert(
                id,
                Entry {
                    busy: Arc::clone(&busy),
                    evict: Arc::clone(&evict),
                },
            );
            id
        };
        let service = Tracked {
            app: app.clone(),
            busy,
        };
        let connections = Arc::clone(&connections);
        let mut closing = closing.clone();
        let (header_timeout, grace) = (options.header_timeout, options.shutdown_grace);
        tokio::spawn(async move {
            let _permit = permit;
            let io = TokioIo::new(JsonParseErrors::new(stream));
            let mut connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                .serve_connection(io, service);
            let ended = tokio::select! {
                r = poll_fn(|cx| connection.poll_without_shutdown(cx)) => Some(r),
                () = evict.notified() => None,
                () = stopped(&mut closing) => {
                    Pin::new(&mut connection).graceful_shutdown();
                    let finish = poll_fn(|cx| connection.poll_without_shutdown(cx));
                    tokio::time::timeout(grace, finish).await.ok()
                }
            };
            if let Some(result) = ended {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
                let io = connection.into_parts().io.into_inner();
                tokio::select! {
                    () = linger(io) => {}
                    () = evict.notified() => {}
                }
            }
            Connections::lock(&connections).open.remove(&id);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection holds a permit until it ends: holding them all means all ended.
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(options.shutdown_grace, slots.acquire_many(all)).await;
    Ok(())
}

/// How long a closed connection's unread input is drained.
const LINGER: Duration = Duration::from_secs(2);

/// Closes `io` the way a refusal must be closed: sends FIN, then reads and discards
/// what the client still sends (the body of a refused request, the rest of an
/// over-long request line) until it closes or [`LINGER`] passes. Closing with unread
/// input would send a reset, and the client could lose the answer it was sent.
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
    let _ = tokio::time::timeout(LINGER, async {
        if io.shutdown().await.is_err() {
            return;
        }
        let mut sink = [0u8; 8192];
        while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Resolves once `flag` turns true (or its sender is gone).
async fn stopped(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|s| *s).await;
}
