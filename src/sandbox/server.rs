//! The sandbox's HTTP server, hardened for use as a shared service: a client that never
//! finishes its request headers cannot hold a connection (the header timeout, which also ends
//! connections idle between requests), and the number of connections is bounded. At the bound
//! a new connection is not queued behind the old ones: the oldest connection that is not
//! serving a request (still sending headers, or idle) is closed to make room, and only when
//! every connection is serving one is the new one shed. So a flood of slow clients cannot keep
//! a normal request from being answered, and the process never runs out of file descriptors.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use super::state::lock;

/// Connection settings of `sandbox serve` (and of the embedded sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a connection has to send a complete request head, whether it is new or idle
    /// between requests.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(5),
            max_connections: 512,
        }
    }
}

/// One open connection: how many requests it is serving now, and how to close it.
struct Open {
    serving: Arc<AtomicUsize>,
    abort: AbortHandle,
}

#[derive(Default)]
struct Connections {
    next_id: u64,
    /// By id, so the first entry is the oldest.
    open: BTreeMap<u64, Open>,
}

/// A listener on `addr` whose accept queue holds a flood's worth of connections (the kernel's
/// `somaxconn` caps it), so that a normal client's connection is not dropped and retried a
/// second later while a flood is being accepted.
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    let address = tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    })?;
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(8192)
}

/// Serves `app` on `listener` until `shutdown` fires; then closes every connection.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let connections = Arc::new(Mutex::new(Connections::default()));
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of descriptors or a connection reset before it was accepted: wait a moment
            // rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let id = {
            let mut open = lock(&connections);
            if open.open.len() >= limits.max_connections {
                let idle = open
                    .open
                    .iter()
                    .find(|(_, c)| c.serving.load(Ordering::Acquire) == 0)
                    .map(|(id, _)| *id);
                match idle {
                    Some(oldest) => {
                        if let Some(closed) = open.open.remove(&oldest) {
                            closed.abort.abort();
                        }
                    }
                    None => {
                        drop(stream); // every connection is serving a request: shed this one
                        continue;
                    }
                }
            }
            open.next_id += 1;
            open.next_id
        };
        let serving = Arc::new(AtomicUsize::new(0));
        let service = {
            let serving = serving.clone();
            let app = app.clone();
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let serving = serving.clone();
                let app = app.clone();
                async move {
                    serving.fetch_add(1, Ordering::AcqRel);
                    let response =
                        tower::ServiceExt::oneshot(app, request.map(axum::body::Body::new)).await;
                    serving.fetch_sub(1, Ordering::AcqRel);
                    Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
                }
            })
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        // The entry is made before the task can end, so the task's own removal always finds it.
        {
            let mut open = lock(&connections);
            let task = {
                let connections = connections.clone();
                tokio::spawn(async move {
                    let _ = connection.await;
                    lock(&connections).open.remove(&id);
                })
            };
            open.open.insert(
                id,
                Open {
                    serving,
                    abort: task.abort_handle(),
                },
            );
        }
        // Let the new connection read what it was sent before the next accept: a normal
        // client's head is usually there already, and once it is being served the connection
        // is never the one closed to make room.
        tokio::task::yield_now().await;
    }
    for (_, open) in std::mem::take(&mut lock(&connections).open) {
        open.abort.abort();
    }
}
