//! The accept loop. `axum::serve` would do, but it gives hyper no timer, which silently turns
//! off the header-read timeout (a client trickling headers would hold a connection forever), and
//! leaves Nagle's algorithm on (small socket frames would wait for delayed ACKs). Here: HTTP/1
//! with upgrades (WebSocket), a header-read timeout, `TCP_NODELAY`, the client address for
//! per-address limits, and graceful shutdown that lets requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Requests in flight get this long to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` until `shutdown`; a client must send its request headers within `header_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    // `stop` tells connections to finish; `open` is held by each, so its closing means all done.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (open, all_closed) = tokio::sync::mpsc::channel::<()>(1);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
                req.map(axum::body::Body::new)
            });
        let conn = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let (mut stopping, open) = (stopping.clone(), open.clone());
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                () = stopped(&mut stopping) => {
                    // Finish the request in flight, take no more on this connection.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(open);
        });
    }
    drop(listener);
    stop.send_replace(true);
    drop(open);
    let mut all_closed = all_closed;
    if tokio::time::timeout(DRAIN, all_closed.recv())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN:?}; stopping anyway");
    }
}

async fn stopped(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
