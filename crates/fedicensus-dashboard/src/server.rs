//! The HTTP server the dashboard runs on: hyper's HTTP/1 connections with limits a hostile client
//! cannot outwait.
//!
//! `axum::serve` has no header-read or idle timeout and no cap on connections: 2,000 slowloris
//! connections (headers sent a byte at a time, never finished) stayed open for 90 s, and under
//! the usual descriptor limit of 1,024 the dashboard stopped answering. So each connection here
//! has:
//! - a **header-read timeout** ([`ServeLimits::header_read_timeout`]): a request's headers must
//!   arrive whole within it. hyper starts it whenever the connection waits for a request, so it
//!   also closes a keep-alive connection left idle between requests;
//! - an **idle timeout** ([`ServeLimits::idle_timeout`]): a connection on which nothing is read
//!   or written for that long is closed, mid-body too (a client that stops reading a download,
//!   or stops sending a body);
//! - a place under a **cap on open connections** ([`ServeLimits::max_connections`]), below the
//!   process's descriptor limit (the database, files and the listener need some), so that
//!   accepting never fails with `EMFILE` and spins. When the cap is full, the connection that has
//!   served nothing for longest and has no request in flight (a slowloris still sending its head,
//!   or a keep-alive connection left idle) is closed to make room, as nginx reuses idle keep-alive
//!   connections; a busy client's keep-alive connection, served a moment ago, stays. Otherwise a
//!   newcomer waits in the kernel's backlog until a slow head times out, and 1,500 slowloris
//!   connections made normal requests time out in the attack-load script. A connection serving a
//!   request is never closed this way; when every one is, newcomers wait for a slot.
//!
//! Shutdown is graceful: the server stops accepting, every connection finishes the request in
//! flight and closes, and [`serve_with`] returns when the last one has.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::{Instant, Sleep};

/// How long a client has to send a request's headers, from the moment the connection waits for
/// them.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection may see no byte in either direction.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Descriptors kept out of the connection cap: the database pool, SQLite's files, the listener,
/// logs, and whatever the runtime opens.
pub const RESERVED_DESCRIPTORS: u64 = 128;

/// The connection cap when the descriptor limit is unknown.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024 - RESERVED_DESCRIPTORS as usize;

/// The limits every connection is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> ServeLimits {
        ServeLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ServeLimits {
    /// The default limits, with the connection cap [`RESERVED_DESCRIPTORS`] below a process
    /// descriptor limit of `nofile` (at least 16).
    pub fn for_descriptor_limit(nofile: u64) -> ServeLimits {
        let cap = nofile.saturating_sub(RESERVED_DESCRIPTORS).max(16);
        ServeLimits {
            max_connections: usize::try_from(cap).unwrap_or(usize::MAX).min(1 << 20),
            ..ServeLimits::default()
        }
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then lets the requests
/// in flight finish.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let open = Arc::new(OpenConnections::default());
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        if slots.available_permits() == 0 {
            // Full: make room by closing the longest-idle connection that serves no request. Its task
            // gives the slot back as it ends.
            open.evict_longest_idle();
        }
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors or memory for a moment: wait rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stopping = stopping.clone();
        let (id, state) = open.add();
        let open = open.clone();
        tokio::spawn(async move {
            let io = TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout));
            let busy = state.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let app = app.clone();
                let guard = Busy::start(busy.clone());
                async move {
                    let response = tower::ServiceExt::oneshot(app, request).await?;
                    // The request is in flight until its body has been written (or dropped).
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| Body::new(Tracked { body, _busy: guard })),
                    )
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .keep_alive(true);
            let connection = builder.serve_connection(io, service);
            tokio::pin!(connection);
            let stopped = async move {
                while !*stopping.borrow_and_update() {
                    if stopping.changed().await.is_err() {
                        break;
                    }
                }
            };
            // Told to make room: closes unless a request arrived since it was chosen (then it
            // stays open and can be chosen again later).
            let evicted = async {
                loop {
                    state.evicted.notified().await;
                    if state.requests_in_flight.load(Ordering::Acquire) == 0 {
                        break;
                    }
                    open.insert(id, state.clone());
                }
            };
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = stopped => {
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
                () = evicted => {
                    tracing::debug!("closed an idle connection to make room under the cap");
                    Ok(())
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            open.remove(id);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it closes.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// The open connections, each with its count of requests in flight and when it last finished
/// one, so that a full server can close the one that has served nothing for longest.
#[derive(Debug)]
struct OpenConnections {
    epoch: Instant,
    next_id: AtomicUsize,
    by_id: Mutex<BTreeMap<usize, Arc<ConnectionState>>>,
}

impl Default for OpenConnections {
    fn default() -> OpenConnections {
        OpenConnections {
            epoch: Instant::now(),
            next_id: AtomicUsize::new(0),
            by_id: Mutex::new(BTreeMap::new()),
        }
    }
}

#[derive(Debug)]
struct ConnectionState {
    epoch: Instant,
    requests_in_flight: AtomicUsize,
    /// Microseconds after `epoch` when the connection was accepted or last finished a request.
    idle_since: AtomicU64,
    evicted: Notify,
}

impl ConnectionState {
    fn touch(&self) {
        let micros = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.idle_since.store(micros, Ordering::Release);
    }
}

impl OpenConnections {
    fn add(&self) -> (usize, Arc<ConnectionState>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnectionState {
            epoch: self.epoch,
            requests_in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            evicted: Notify::new(),
        });
        state.touch();
        self.insert(id, state.clone());
        (id, state)
    }

    fn insert(&self, id: usize, state: Arc<ConnectionState>) {
        self.lock().insert(id, state);
    }

    fn remove(&self, id: usize) {
        self.lock().remove(&id);
    }

    /// Tells the connection idle for longest, among those with no request in flight, to close;
    /// false when every open connection is serving one.
    fn evict_longest_idle(&self) -> bool {
        let mut by_id = self.lock();
        let idle = by_id
            .iter()
            .filter(|(_, state)| state.requests_in_flight.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, state)| state.idle_since.load(Ordering::Acquire))
            .map(|(id, _)| *id);
        match idle.and_then(|id| by_id.remove(&id)) {
            Some(state) => {
                // `notify_one` keeps the signal for a task that is not waiting yet.
                state.evicted.notify_one();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<usize, Arc<ConnectionState>>> {
        // A panic while holding this lock leaves the map whole (each step is one call).
        self.by_id.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One request in flight on a connection, from the moment its head was read until its response
/// body is written or dropped.
#[derive(Debug)]
struct Busy(Arc<ConnectionState>);

impl Busy {
    fn start(state: Arc<ConnectionState>) -> Busy {
        state.requests_in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(state)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.requests_in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted in flight until hyper drops it.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection that fails with `TimedOut` once nothing has been read or written on it for
/// `idle`.
#[derive(Debug)]
pub struct IdleTimeout<T> {
    inner: T,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<T> IdleTimeout<T> {
    /// Wraps `inner`; the clock starts now.
    pub fn new(inner: T, idle: Duration) -> IdleTimeout<T> {
        IdleTimeout {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn progressed(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// After the inner I/O said `Pending`: an error once the deadline has passed (the sleep also
    /// wakes the task then).
    fn check(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for too long",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.progressed();
                Poll::Ready(result)
            }
            Poll::Pending => this.check(cx).map(Err),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, data) {
            Poll::Ready(result) => {
                this.progressed();
                Poll::Ready(result)
            }
            Poll::Pending => this.check(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                this.progressed();
                Poll::Ready(result)
            }
            Poll::Pending => this.check(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => this.check(cx).map(Err),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
