//! The response cache: entity tags from the data's version, 304 for a current one, the same
//! bytes from the cache as from a fresh computation, and new data invalidating both.

use crate::{at, ok, spawn_app, Response};
use anyhow::{ensure, Context, Result};
use fedicensus_core::{Host, Observation, Outcome, Software};

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim())
    })
}

/// GETs `path` (sending `If-None-Match: old`) until the answer carries an `ETag` other than
/// `old`: after a write, the request that computes the new response serves the previous one
/// if the computation takes longer than the cache's `SERVE_STALE_AFTER`, and stores the new one
/// in the background. Fails after 10 s.
async fn fresh(app: &crate::App, path: &str, old: &str) -> Result<Response> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = app
            .request("GET", path, &[("If-None-Match", old)], "")
            .await?;
        ensure!(r.status == 200, "{path}: {} {}", r.status, r.body);
        if header(&r, "etag").is_some_and(|e| e != old) {
            return Ok(r);
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "{path} still served the ETag {old} 10 s after the data changed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

const SVG: &str = "/api/v1/charts/overview-servers/svg";
/// Up to the last crawled day (20 November): later weeks have no data.
const CSV: &str =
    "/api/v1/series/servers_known?from=2022-10-01&to=2022-11-20&granularity=week&format=csv";

#[tokio::test]
async fn a_current_etag_gets_304_and_a_stale_one_the_chart() -> Result<()> {
    let app = spawn_app(false).await?;
    let first = app.get(SVG).await?;
    assert_eq!(first.status, 200, "{}", first.body);
    let etag = header(&first, "etag").context("an ETag")?.to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    // Chart files are used by other sites: shared caches may keep them (see embed.rs).
    assert_eq!(
        header(&first, "cache-control"),
        Some(fedicensus_dashboard::routes::embed::PUBLIC_CACHE_CONTROL)
    );

    let again = app
        .request("GET", SVG, &[("If-None-Match", &etag)], "")
        .await?;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty(), "a 304 has no body");
    assert_eq!(header(&again, "etag"), Some(etag.as_str()));
    let weak = format!("W/{etag}");
    let listed = format!("\"something-else\", {weak}");
    let r = app
        .request("GET", SVG, &[("If-None-Match", &listed)], "")
        .await?;
    assert_eq!(r.status, 304, "weak comparison, in a list");

    let other = app
        .request("GET", SVG, &[("If-None-Match", "\"o1r1\"")], "")
        .await?;
    assert_eq!(other.status, 200);
    assert_eq!(
        other.body, first.body,
        "the cached chart is the computed one"
    );
    assert_eq!(
        header(&other, "content-type"),
        header(&first, "content-type")
    );

    let metrics = app.get("/metrics").await?.body;
    ensure!(
        metrics.contains("fedicensus_http_cache_total{result=\"not_modified\"} 2"),
        "{metrics}"
    );
    ensure!(metrics.contains("fedicensus_http_cache_total{result=\"hit\"} 1"));
    // Pages with the time of day in them, and operations endpoints, are never cached.
    for path in ["/crawl", "/healthz", "/metrics"] {
        let r = app.get(path).await?;
        assert!(header(&r, "etag").is_none(), "{path} has no ETag");
    }
    // Errors are not cached either.
    let bad = app.get("/api/v1/series/servers_known?from=nope").await?;
    assert_eq!(bad.status, 400);
    assert!(header(&bad, "etag").is_none());
    Ok(())
}

#[tokio::test]
async fn new_observations_change_the_etag_and_the_cached_numbers() -> Result<()> {
    let app = spawn_app(false).await?;
    let before = app.get(CSV).await?;
    assert_eq!(before.status, 200, "{}", before.body);
    let etag = header(&before, "etag").context("an ETag")?.to_owned();
    let cached = app.get(CSV).await?;
    assert_eq!(cached.body, before.body);
    let svg_before = app.get(SVG).await?;
    let svg_etag = header(&svg_before, "etag").context("an ETag")?.to_owned();

    // A crawl finds a new server.
    let o: Observation = ok(
        "new.example",
        at(11, 20),
        Software::Mastodon,
        "mastodon",
        20,
        Some(5),
    );
    app.storage.record_observation(&o, None).await?;

    let after = fresh(&app, CSV, &etag).await?;
    let new_etag = header(&after, "etag").context("an ETag")?;
    assert_ne!(new_etag, etag);
    assert_ne!(after.body, before.body, "the cache was not served");
    let last = |body: &str| body.lines().last().unwrap_or_default().to_owned();
    let (old_last, new_last) = (last(&before.body), last(&after.body));
    let count = |line: &str| -> Result<f64> {
        Ok(line
            .split(',')
            .nth(1)
            .context("a value column")?
            .parse::<f64>()?)
    };
    assert_eq!(
        count(&new_last)?,
        count(&old_last)? + 1.0,
        "{old_last} then {new_last}"
    );
    assert_ne!(
        fresh(&app, SVG, &svg_etag).await?.body,
        svg_before.body,
        "the chart is redrawn"
    );

    // A failed visit is data too.
    let etag = header(&after, "etag").context("an ETag")?.to_owned();
    let failed = Observation::failed(
        Host::from_normalised("new.example"),
        at(11, 21),
        Outcome::Timeout,
        10_000,
    );
    app.storage.record_observation(&failed, None).await?;
    let r = app
        .request("GET", CSV, &[("If-None-Match", &etag)], "")
        .await?;
    assert_eq!(r.status, 200);
    Ok(())
}

/// The cache's miss counter, from `/metrics`.
async fn misses(app: &crate::App) -> Result<u64> {
    let metrics = app.get("/metrics").await?.body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("fedicensus_http_cache_total{result=\"miss\"} "))
        .context("a miss counter in /metrics")?
        .trim()
        .parse()
        .context("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_a_page_nobody_has_computed_yet_wait_for_one_computation() -> Result<()> {
    let app = std::sync::Arc::new(spawn_app(false).await?);
    let before = misses(&app).await?;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move { app.get("/").await }));
    }
    let mut bodies = Vec::new();
    for task in tasks {
        let r = task.await??;
        ensure!(r.status == 200, "{} {}", r.status, r.body);
        bodies.push(r.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "one page for all");
    assert_eq!(
        misses(&app).await? - before,
        1,
        "the overview was computed once"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_warmed_up_at_start_are_served_from_the_cache() -> Result<()> {
    let app = crate::spawn_app_with(false, true).await?;
    let before = misses(&app).await?;
    assert_eq!(
        before,
        fedicensus_dashboard::WARM_PATHS.len() as u64,
        "each warmed page was computed once"
    );
    for path in fedicensus_dashboard::WARM_PATHS {
        let r = app.get(path).await?;
        ensure!(r.status == 200, "{path}: {} {}", r.status, r.body);
    }
    assert_eq!(
        misses(&app).await?,
        before,
        "no visitor computed a warmed page"
    );
    Ok(())
}
