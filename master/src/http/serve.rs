//! The master's HTTP/1.1 server: accepts connections and serves the router
//! on each, with pipelined answers flushed together.
//!
//! Agents and schedulers pipeline their calls (a burst of status updates,
//! a stream of ACKNOWLEDGEs) on one connection; hyper's `pipeline_flush`
//! holds the 202s while more requests are already read, and writes them in
//! one go, instead of one write per answer. Otherwise as `axum::serve`: a
//! task per connection, and on shutdown no new connections while the open
//! ones finish their requests in flight.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `app` on `listener` until `shutdown` resolves, then lets every
/// open connection finish the request it is serving and returns once all
/// are closed (endless event streams keep theirs open: the caller bounds
/// the wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // Every connection holds a receiver: `closed()` resolves when all are
    // gone; a send tells them to shut down gracefully.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: the listener stays
            // good, the connection is lost (as axum::serve does).
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        tokio::spawn(connection(stream, app.clone(), stop_rx.clone()));
    }
    drop(stop_rx);
    let _ = stop_tx.send(true);
    stop_tx.closed().await;
    Ok(())
}

async fn connection(stream: tokio::net::TcpStream, app: Router, mut stop: watch::Receiver<bool>) {
    let conn = http1::Builder::new()
        .pipeline_flush(true)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    tokio::pin!(conn);
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            changed = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                if changed.is_err() {
                    // The server is gone: finish without listening for it.
                    let _ = conn.as_mut().await;
                    break;
                }
            }
        }
    }
}
