//! Whole-census exports over HTTP: streamed (chunked, no `Content-Length`), byte for byte the
//! file storage writes (`fedicensus export` writes the same), and refused with a message for an
//! unknown file or a backwards range.

use crate::{at, ok, spawn_app};
use anyhow::{Context, Result};
use chrono::Duration;
use fedicensus_core::Software;
use fedicensus_storage::Export;

/// The body of a `Transfer-Encoding: chunked` response, and how many chunks it came in.
pub fn dechunk(mut body: &str) -> Result<(String, usize)> {
    let mut out = String::new();
    let mut chunks = 0;
    loop {
        let (size, rest) = body.split_once("\r\n").context("a chunk size line")?;
        let size = usize::from_str_radix(size.trim(), 16).context("a hex chunk size")?;
        if size == 0 {
            return Ok((out, chunks));
        }
        out.push_str(rest.get(..size).context("a whole chunk")?);
        chunks += 1;
        body = rest[size..]
            .strip_prefix("\r\n")
            .context("CRLF after a chunk")?;
    }
}

#[tokio::test]
async fn exports_stream_the_files_storage_writes() -> Result<()> {
    let app = spawn_app(false).await?;
    // 4,000 more visits, so the file is far larger than one 64 KiB chunk.
    let mut visits = Vec::new();
    for server in 0..40 {
        for k in 0..100 {
            visits.push(ok(
                &format!("s{server}.example"),
                at(9, 1) + Duration::hours(6 * k),
                Software::Mastodon,
                "mastodon",
                100 + k as u64,
                Some(10),
            ));
        }
    }
    app.storage.ingest_bulk(&visits, None).await?;

    // The whole census, asked for (by default the range is the first to the last crawl, as
    // for `fedicensus export`; checked below).
    let r = app
        .get("/api/v1/exports/observations.csv?from=1990-01-01&to=2999-12-31")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers.contains("transfer-encoding: chunked"),
        "{}",
        r.headers
    );
    assert!(!r.headers.contains("content-length"), "{}", r.headers);
    assert!(r.headers.contains("x-fedicensus-methodology-version: "));
    assert!(
        r.headers.contains("filename=\"observations"),
        "{}",
        r.headers
    );
    let (body, chunks) = dechunk(&r.body)?;
    let mut expected = Vec::new();
    app.storage
        .export_csv(
            &Export::Observations {
                from: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).context("a date")?,
                to: chrono::NaiveDate::from_ymd_opt(2999, 12, 31).context("a date")?,
            },
            &mut expected,
        )
        .await?;
    assert!(expected.len() > 300_000, "{} bytes", expected.len());
    assert_eq!(
        body.as_bytes(),
        expected.as_slice(),
        "the file storage writes"
    );
    assert!(chunks >= 4, "{chunks} chunks");

    // By default, the rows `fedicensus export` writes: the first to the last crawl.
    let (from, to) = fedicensus_dashboard::data::crawl_range(&app.storage)
        .await?
        .context("the test census has crawl runs")?;
    let mut expected = Vec::new();
    app.storage
        .export_csv(&Export::Activity { from, to }, &mut expected)
        .await?;
    let r = app.get("/api/v1/exports/activity.csv").await?;
    let (body, _) = dechunk(&r.body)?;
    assert_eq!(body.as_bytes(), expected.as_slice(), "activity by default");

    // A range, and the other files.
    let r = app
        .get("/api/v1/exports/observations.csv?from=2022-09-02&to=2022-09-02")
        .await?;
    let (body, _) = dechunk(&r.body)?;
    assert_eq!(
        body.lines().count(),
        1 + 40 * 4,
        "a header and four visits a server"
    );
    for file in [
        "activity.csv",
        "peer_edges.csv",
        "peer-edges.csv",
        "snapshot.csv",
    ] {
        let r = app.get(&format!("/api/v1/exports/{file}")).await?;
        assert_eq!(r.status, 200, "{file}: {}", r.body);
        let (body, _) = dechunk(&r.body)?;
        assert!(
            body.lines().next().is_some_and(|h| h.contains(',')),
            "{file}"
        );
    }
    let r = app
        .get("/api/v1/exports/snapshot.csv?date=2022-11-20")
        .await?;
    let (body, _) = dechunk(&r.body)?;
    assert!(body.contains("big.example"), "{body:.300}");

    // Refusals, with what is accepted.
    let r = app.get("/api/v1/exports/everything.zip").await?;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("observations.csv"), "{}", r.body);
    let r = app
        .get("/api/v1/exports/observations.csv?from=2022-10-02&to=2022-10-01")
        .await?;
    assert_eq!(r.status, 400);
    let r = app.get("/api/v1/exports/observations.csv?limit=5").await?;
    assert_eq!(r.status, 400);
    Ok(())
}
