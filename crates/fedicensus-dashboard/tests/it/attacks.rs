//! Hostile clients (issue 25), on loopback and bounded in count and time: slow readers of
//! whole-census exports, unauthenticated big POSTs, slowloris connections, and dates past the
//! census's horizon.

use crate::{at, ok, spawn_app, spawn_app_limited, App, TOKEN};
use anyhow::{Context, Result};
use chrono::Duration;
use fedicensus_core::Software;
use fedicensus_dashboard::state::MAX_CONCURRENT_EXPORTS;
use fedicensus_dashboard::ServeLimits;
use std::time::{Duration as StdDuration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Reads what arrives on `stream` until `\r\n\r\n` (a response head), for at most `wait`.
async fn read_head(stream: &mut TcpStream, wait: StdDuration) -> Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(wait, async {
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await? == 0 {
                break;
            }
            head.push(byte[0]);
        }
        anyhow::Ok(())
    })
    .await
    .context("no response head in time")??;
    Ok(String::from_utf8_lossy(&head).to_lowercase())
}

fn status_of(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A connection with a small receive buffer, so a client that does not read holds the export
/// back after a few kilobytes.
async fn slow_client(app: &App) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    Ok(socket.connect(app.addr).await?)
}

/// 8,000 visits of 40 servers: an observations export far larger than the socket buffers.
async fn fill_for_exports(app: &App) -> Result<()> {
    let mut visits = Vec::new();
    for server in 0..40 {
        for k in 0..200 {
            visits.push(ok(
                &format!("s{server}.example"),
                at(9, 1) + Duration::hours(3 * k),
                Software::Mastodon,
                "mastodon",
                100 + k as u64,
                Some(10),
            ));
        }
    }
    app.storage.ingest_bulk(&visits, None).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_slow_export_readers_leave_the_api_and_healthz_answering() -> Result<()> {
    let app = spawn_app(false).await?;
    fill_for_exports(&app).await?;

    let mut readers = Vec::new();
    for _ in 0..10 {
        let mut stream = slow_client(&app).await?;
        stream
            .write_all(b"GET /api/v1/exports/observations.csv HTTP/1.1\r\nHost: t\r\n\r\n")
            .await?;
        readers.push(stream);
    }
    // The exports start, fill the few buffers between them and the clients, and wait.
    tokio::time::sleep(StdDuration::from_millis(500)).await;

    let started = Instant::now();
    let health = tokio::time::timeout(StdDuration::from_secs(3), app.get("/healthz"))
        .await
        .context("/healthz answers while exports wait for their readers")??;
    assert_eq!(health.status, 200, "{}", health.body);
    let api = tokio::time::timeout(StdDuration::from_secs(3), app.get("/api/v1/servers"))
        .await
        .context("the API answers while exports wait for their readers")??;
    assert_eq!(api.status, 200, "{}", api.body);
    assert!(started.elapsed() < StdDuration::from_secs(3));

    let mut streaming = 0;
    let mut refused = 0;
    for reader in &mut readers {
        let head = read_head(reader, StdDuration::from_secs(3)).await?;
        match status_of(&head) {
            200 => streaming += 1,
            503 => {
                assert!(head.contains("retry-after: "), "{head}");
                refused += 1;
            }
            other => panic!("an export answered {other}: {head}"),
        }
    }
    // At most MAX_CONCURRENT_EXPORTS stream at once; one that ends (its whole file fitted in
    // the socket buffers) frees its place for a later request, so more may have streamed in
    // turn, but the limit refused the others.
    assert!(streaming >= MAX_CONCURRENT_EXPORTS, "{streaming} streamed");
    assert!(refused >= 1, "none refused: the limit did not hold");
    assert_eq!(streaming + refused, 10);
    Ok(())
}

#[tokio::test]
async fn an_unauthenticated_2_mb_post_is_refused_before_its_body_is_read() -> Result<()> {
    let app = spawn_app(true).await?;
    for (path, auth) in [
        ("/api/v1/admin/seeds", ""),
        (
            "/api/v1/admin/annotations",
            "Authorization: Bearer wrong-token-wrong-token\r\n",
        ),
    ] {
        let mut stream = TcpStream::connect(app.addr).await?;
        // The head promises 2 MB; not one byte of it is sent.
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{auth}\
             Content-Length: 2000000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await?;
        let answer = read_head(&mut stream, StdDuration::from_secs(2)).await?;
        assert_eq!(status_of(&answer), 403, "{path}: {answer}");
    }
    // With the token, a body beyond the route's cap is refused unread too.
    let mut stream = TcpStream::connect(app.addr).await?;
    let head = format!(
        "POST /api/v1/admin/opt-out HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Length: 2000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let answer = read_head(&mut stream, StdDuration::from_secs(2)).await?;
    assert_eq!(status_of(&answer), 413, "{answer}");
    // A small authorised request still works.
    let r = app
        .request(
            "POST",
            "/api/v1/admin/crawl",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            "{\"by\": \"test\"}",
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_are_closed_and_the_dashboard_keeps_answering() -> Result<()> {
    let limits = ServeLimits {
        header_read_timeout: StdDuration::from_millis(800),
        idle_timeout: StdDuration::from_secs(2),
        max_connections: 24,
    };
    let app = spawn_app_limited(false, false, limits).await?;
    // Twice as many connections as the cap, each sending an unfinished request head.
    let mut lorises = Vec::new();
    for _ in 0..48 {
        let mut stream = TcpStream::connect(app.addr).await?;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nX-a: ")
            .await?;
        lorises.push(stream);
    }
    let started = Instant::now();
    let health = tokio::time::timeout(StdDuration::from_secs(5), app.get("/healthz"))
        .await
        .context("/healthz answers under slowloris")??;
    assert_eq!(health.status, 200, "{}", health.body);
    // Every loris is cut: the server closes it (after a 408, or without a word).
    for (i, loris) in lorises.iter_mut().enumerate() {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(StdDuration::from_secs(5), async {
            loop {
                let mut buf = [0u8; 512];
                match loris.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => rest.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "slowloris connection {i} still open");
    }
    assert!(started.elapsed() < StdDuration::from_secs(8));
    Ok(())
}

/// With the cap full of slowloris heads, a newcomer is answered at once (the longest-idle loris is
/// closed to make room) instead of waiting in the backlog for a head to time out, while a
/// connection serving a request is never the one closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_closes_an_idle_connection_for_a_newcomer_but_never_a_busy_one() -> Result<()>
{
    // Timeouts far longer than the test: only making room can answer the newcomers in time.
    let limits = ServeLimits {
        header_read_timeout: StdDuration::from_secs(60),
        idle_timeout: StdDuration::from_secs(60),
        max_connections: 6,
    };
    let app = spawn_app_limited(false, false, limits).await?;
    fill_for_exports(&app).await?;

    // One connection serves an export to a client that does not read: a request in flight.
    let mut reader = slow_client(&app).await?;
    reader
        .write_all(
            b"GET /api/v1/exports/observations.csv HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await?;
    let head = read_head(&mut reader, StdDuration::from_secs(5)).await?;
    assert_eq!(status_of(&head), 200, "{head}");
    // The other five places, and as many again waiting in the backlog, go to lorises.
    let mut lorises = Vec::new();
    for _ in 0..10 {
        let mut stream = TcpStream::connect(app.addr).await?;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nX-a: ")
            .await?;
        lorises.push(stream);
    }
    tokio::time::sleep(StdDuration::from_millis(300)).await;

    for i in 0..8 {
        let started = Instant::now();
        let health = tokio::time::timeout(StdDuration::from_secs(5), app.get("/healthz"))
            .await
            .with_context(|| format!("newcomer {i} answered while lorises fill the cap"))??;
        assert_eq!(health.status, 200, "{}", health.body);
        assert!(
            started.elapsed() < StdDuration::from_secs(3),
            "newcomer {i} waited {:?}",
            started.elapsed()
        );
    }

    // The export was never cut: it reads to its last chunk.
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut rest = Vec::new();
    tokio::time::timeout(StdDuration::from_secs(20), reader.read_to_end(&mut rest))
        .await
        .context("the export finishes")??;
    assert!(
        rest.ends_with(b"\r\n0\r\n\r\n"),
        "the export was cut after {} bytes",
        rest.len()
    );
    Ok(())
}

#[tokio::test]
async fn dates_past_the_horizon_are_refused_with_a_400_that_says_so() -> Result<()> {
    let app = spawn_app(false).await?;
    for path in [
        "/api/v1/exports/observations.csv?to=9999-12-31",
        "/api/v1/exports/activity.csv?from=9999-12-31",
        "/api/v1/exports/snapshot.csv?date=9999-12-31",
        "/api/v1/series/servers_known?to=9999-12-31",
        "/api/v1/servers?date=9999-12-31",
        "/charts/migration-2022-servers?to=3000-01-01",
    ] {
        let r = app.get(path).await?;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(
            r.body
                .contains("past the last date the census answers for, 2999-12-31"),
            "{path}: {}",
            r.body
        );
    }
    let r = app
        .get("/api/v1/exports/observations.csv?to=2999-12-31")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.lines().count() > 2, "rows, not a header alone");
    Ok(())
}
