//! Accepting connections: one port for both protocols, optional fixed ports, and the bait.
//!
//! The main listener looks at the first byte a client sends: `0x16` opens every TLS handshake and
//! never starts an HTTP request, so one port serves `http://` and `https://` URLs alike and a
//! crawler's resolver can map every name to one socket address. The optional fixed-port listeners
//! (`--http-port 80 --https-port 443`) do not sniff, so crawlers that only know default ports can
//! crawl the same world. The bait listener sits on [`BAIT_LOOPBACK_ADDR`] and only records who
//! connected: a crawler that resolved SSRF bait and connected anyway.
//!
//! [`BAIT_LOOPBACK_ADDR`]: crate::world::BAIT_LOOPBACK_ADDR

use super::http::{serve, ConnInfo};
use super::log::{BaitHit, Scheme};
use super::Shared;
use crate::failure::Failure;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::LazyConfigAcceptor;

/// How long a client may take to send its first byte, finish a TLS handshake, or send the
/// headers of a request (also the idle time after which a kept-alive connection is closed).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connections get to finish their current answer once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// What a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// TLS or plain HTTP, decided by the first byte.
    Sniff,
    /// Plain HTTP only.
    Http,
    /// TLS only.
    Https,
}

/// Accepts connections on `listener` until shutdown, serving each in its own task.
pub(crate) fn spawn(shared: Arc<Shared>, listener: TcpListener, mode: Mode) {
    let tracker = shared.tracker.clone();
    tracker.spawn(async move {
        loop {
            let (stream, remote) = tokio::select! {
                _ = shared.cancel.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Usually out of file descriptors: wait a little rather than spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            shared.tracker.clone().spawn(async move {
                let cancel = shared.cancel.clone();
                tokio::select! {
                    _ = connection(shared, stream, remote, mode) => {}
                    _ = async { cancel.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {}
                }
            });
        }
    });
}

/// Serves one connection: sniff, handshake if TLS, then HTTP/1.1 with keep-alive.
async fn connection(shared: Arc<Shared>, stream: TcpStream, remote: SocketAddr, mode: Mode) {
    let tls = match mode {
        Mode::Http => false,
        Mode::Https => true,
        Mode::Sniff => {
            let mut first = [0u8; 1];
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await {
                Ok(Ok(1)) => first[0] == 0x16,
                _ => return,
            }
        }
    };
    if !tls {
        let info = ConnInfo {
            remote,
            scheme: Scheme::Http,
            sni: None,
        };
        return http(shared, TokioIo::new(stream), info).await;
    }
    // The ClientHello is read first, so that a server whose failure is a stalled handshake can
    // go silent right after it, as a wedged TLS terminator does.
    let handshake = async {
        let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
        let stalls = start
            .client_hello()
            .server_name()
            .and_then(|name| {
                shared
                    .world
                    .lookup(&name.trim_end_matches('.').to_ascii_lowercase())
            })
            .is_some_and(|server| server.failure == Some(Failure::TlsStall));
        if stalls {
            tokio::select! {
                _ = tokio::time::sleep(shared.cfg.hang_for) => {}
                _ = shared.cancel.cancelled() => {}
            }
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the handshake stalls (tls-stall)",
            ));
        }
        start.into_stream(shared.tls.clone()).await
    };
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::debug!(%remote, %error, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let sni = stream
        .get_ref()
        .1
        .server_name()
        .map(|name| name.trim_end_matches('.').to_ascii_lowercase());
    let info = ConnInfo {
        remote,
        scheme: Scheme::Https,
        sni,
    };
    http(shared, TokioIo::new(stream), info).await
}

async fn http<I>(shared: Arc<Shared>, io: I, info: ConnInfo)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let info = Arc::new(info);
    let cancel = shared.cancel.clone();
    let remote = info.remote;
    let service = service_fn(move |req| serve(shared.clone(), info.clone(), req));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(error) = result {
                tracing::trace!(%remote, %error, "connection ended with an error");
            }
        }
        _ = cancel.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
        }
    }
}

/// Records every connection to the bait listener, then closes it.
pub(crate) fn spawn_bait(shared: Arc<Shared>, listener: TcpListener) {
    let tracker = shared.tracker.clone();
    tracker.spawn(async move {
        let local = listener.local_addr().ok();
        loop {
            let (stream, remote) = tokio::select! {
                _ = shared.cancel.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let local = stream.local_addr().ok().or(local).unwrap_or(remote);
            shared.log.record_bait(BaitHit {
                wall: chrono::Utc::now(),
                remote,
                local,
            });
            drop(stream);
        }
    });
}
