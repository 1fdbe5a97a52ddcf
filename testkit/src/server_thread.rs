//! An axum app served on a free 127.0.0.1 port from its own thread and Tokio runtime.
//!
//! This is how the kit's HTTP stand-ins (the webhook sink, the Loki and Cortex fixtures)
//! keep answering while a test thread blocks, whether the test is a plain `#[test]` or a
//! `#[tokio::test]`. Dropping the [`ServerThread`] stops the server and joins its thread;
//! open keep-alive connections are dropped with the runtime.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::thread::JoinHandle;

use axum::Router;
use tokio::sync::oneshot;

/// Which runtime serves the app.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Workers {
    /// One thread: enough for a stand-in that never blocks.
    CurrentThread,
    /// A multi-threaded runtime with this many workers, for handlers that block.
    Threads(usize),
}

/// A running server; stops when dropped.
#[derive(Debug)]
pub(crate) struct ServerThread {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Binds a free loopback port and serves `app` there. `what` names the server in the
    /// thread's name and in panic messages (`"the Loki fixture"`).
    ///
    /// # Panics
    /// When no port can be bound, no runtime built or no thread started: a test cannot go
    /// on without its stand-in.
    pub(crate) fn start(what: &str, app: Router, workers: Workers) -> ServerThread {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind {what}: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("cannot read the address of {what}: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("cannot make the socket of {what} non-blocking: {e}"));
        let runtime = match workers {
            Workers::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Workers::Threads(n) => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(n.max(1));
                builder
            }
        }
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build the runtime of {what}: {e}"));
        let (shutdown, stop) = oneshot::channel::<()>();
        let name = what.trim_start_matches("the ").replace(' ', "-");
        let what = what.to_owned();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .unwrap_or_else(|e| panic!("cannot hand the socket to tokio: {e}"));
                    tokio::select! {
                        result = axum::serve(listener, app) => {
                            if let Err(e) = result {
                                panic!("{what} on {addr} failed: {e}");
                            }
                        }
                        _ = stop => {}
                    }
                });
                runtime.shutdown_background();
            })
            .unwrap_or_else(|e| panic!("cannot start the thread of {name}: {e}"));
        ServerThread {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
