//! The storage benchmark: a synthetic history of N servers observed every 6 hours for D days,
//! on SQLite (a temporary file) and on PostgreSQL (a fresh database, when
//! `FEDICENSUS_TEST_POSTGRES_URL` is set).
//!
//! It measures what a census of the fediverse needs from its database: how fast visits can be
//! written (the first 20,000 through the crawler's own path, 1,000 to a transaction; the rest
//! through the bulk path, one crawl pass to a transaction), how fast
//! the dashboard's overview (a year-long daily series) and an as-of snapshot of every server
//! answer, how fast every observation streams out as CSV (and that memory stays flat while it
//! does), how fast the whole census moves to another database (`import`, `copy`), how many bytes
//! each observation takes on disk, and how fast the optional downsampling thins the older half. The full size is
//! 10,000 servers × 180 days (7.2 million observations); the default here is smaller so it
//! finishes in minutes on 2 cores. Set `FEDICENSUS_BENCH_SERVERS` and `FEDICENSUS_BENCH_DAYS`
//! (and `FEDICENSUS_BENCH_SQLITE_CACHE_KIB`, SQLite's page cache a connection).
//!
//! Run: `cargo bench -p fedicensus-storage --bench storage`.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use fedicensus_core::{
    Host, Measurement, Metric, Observation, Outcome, Software, SoftwareReport, Source,
};
use fedicensus_storage::{Export, Granularity, SeriesMetric, SeriesQuery, Storage};
use std::time::Instant;

const BATCH: usize = 1_000;
/// Visits written through the crawler's one-by-one path before the bulk path takes over.
const CRAWLER_PATH_VISITS: u64 = 20_000;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Resets the peak (Linux: writing 5 to clear_refs), so the export's own peak can be read.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

/// One visit of server `i` at step `t` (6-hour steps): mostly successes, some failures, a
/// Misskey share without monthly actives, a few servers dying half-way.
fn visit(i: u64, t: u64) -> Observation {
    let at = start() + Duration::hours(6 * t as i64) + Duration::seconds(i as i64 % 3600);
    let host = Host::from_normalised(format!("s{i}.bench.example"));
    let dies_at = if i.is_multiple_of(10) {
        Some(200 + i % 300)
    } else {
        None
    };
    if dies_at.is_some_and(|d| t >= d) || (i * 31 + t).is_multiple_of(17) {
        return Observation::failed(host, at, Outcome::Timeout, 10_000);
    }
    let family = if i.is_multiple_of(5) {
        Software::Misskey
    } else {
        Software::Mastodon
    };
    let mut o = Observation::failed(host, at, Outcome::Ok, 150);
    o.nodeinfo_version = Some("2.0".into());
    o.software = Some(SoftwareReport {
        raw_name: family.as_str().to_owned(),
        family: family.clone(),
        raw_version: "4.1.0".into(),
        version: Some("4.1.0".into()),
    });
    o.open_registrations = Some(i.is_multiple_of(3));
    let users = 10 + (i * 7919) % 5_000 + t / 4;
    let mut m = |metric, value| {
        o.measurements.push(Measurement {
            metric,
            source: Source::NodeInfo,
            value,
        })
    };
    m(Metric::UsersTotal, users);
    if family == Software::Mastodon {
        m(Metric::UsersActiveMonth, users / 4);
    }
    m(Metric::LocalPosts, users * 20 + t);
    o
}

/// Where the fresh, empty databases of a move (`import`, `copy`) are made: beside the benched one,
/// on the same backend.
enum Fresh {
    Sqlite(std::path::PathBuf),
    Postgres {
        admin: sqlx::PgPool,
        base: String,
        prefix: String,
    },
}

impl Fresh {
    async fn create(&self, what: &str) -> anyhow::Result<Storage> {
        Ok(match self {
            Fresh::Sqlite(dir) => {
                Storage::connect(&format!(
                    "sqlite://{}?mode=rwc",
                    dir.join(format!("{what}.db")).display()
                ))
                .await?
            }
            Fresh::Postgres {
                admin,
                base,
                prefix,
            } => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {prefix}_{what}"
                )))
                .execute(admin)
                .await?;
                Storage::connect(&format!("{base}/{prefix}_{what}")).await?
            }
        })
    }
}

/// Moving house: every table out as files (`export-tables`), back into a fresh database
/// (`import`), and straight from this database into another fresh one (`copy`).
async fn moving(storage: &Storage, fresh: &Fresh) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("fedicensus_bench_tables_{}", std::process::id()));
    let began = Instant::now();
    let manifest = storage.export_tables(&dir).await?;
    let secs = began.elapsed().as_secs_f64();
    let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();
    println!(
        "export_tables (every table as files): {rows} rows in {secs:.1} s, {:.0} rows/s",
        rows as f64 / secs
    );
    let target = fresh.create("import").await?;
    let began = Instant::now();
    let moved = target.import_tables(&dir).await?;
    let secs = began.elapsed().as_secs_f64();
    println!(
        "import_tables into a fresh database: {} rows in {secs:.1} s, {:.0} rows/s (target ≥ \
         150,000/s)",
        moved.total(),
        moved.total() as f64 / secs
    );
    target.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    let target = fresh.create("copy").await?;
    let began = Instant::now();
    let moved = storage.copy_to(&target).await?;
    let secs = began.elapsed().as_secs_f64();
    println!(
        "copy_to a fresh database: {} rows in {secs:.1} s, {:.0} rows/s (target ≥ 150,000/s)",
        moved.total(),
        moved.total() as f64 / secs
    );
    target.close().await;
    Ok(())
}

async fn bench(
    label: &str,
    storage: &Storage,
    fresh: &Fresh,
    servers: u64,
    days: u64,
) -> anyhow::Result<()> {
    let steps = days * 4;
    let total = servers * steps;
    println!("\n== {label}: {servers} servers × {days} days every 6 h = {total} observations");

    // Ingest, in time order as a crawler would: pass after pass, and in each pass the visits in
    // the order of their instants (server `i` is visited `i % 3600` seconds into the pass). The
    // first visits go through the crawler's own path (`record_observations`, BATCH visits to a
    // transaction, about seven statements each); the rest through the bulk path
    // (`ingest_bulk`, one crawl pass of every server to a transaction, a few multi-row
    // statements per table).
    let mut pass: Vec<u64> = (0..servers).collect();
    pass.sort_by_key(|&i| (i % 3600, i));
    let visits = (0..steps).flat_map(|t| pass.iter().map(move |&i| (i, t)));
    let crawler_path = total.min(CRAWLER_PATH_VISITS);
    let began = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for (i, t) in visits.clone().take(crawler_path as usize) {
        batch.push(visit(i, t));
        if batch.len() == BATCH {
            storage.record_observations(&batch, None).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        storage.record_observations(&batch, None).await?;
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "ingest, crawler path (record_observations, {BATCH} a transaction): {crawler_path} in \
         {secs:.1} s, {:.0} observations/s",
        crawler_path as f64 / secs
    );
    let bulk = total - crawler_path;
    let began = Instant::now();
    let mut batch = Vec::with_capacity(servers as usize);
    for (i, t) in visits.skip(crawler_path as usize) {
        batch.push(visit(i, t));
        if batch.len() as u64 == servers.max(BATCH as u64) {
            storage.ingest_bulk(&batch, None).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        storage.ingest_bulk(&batch, None).await?;
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "ingest, bulk path (ingest_bulk, one pass of every server a transaction): {bulk} in \
         {secs:.1} s, {:.0} observations/s (target ≥ 100,000/s)",
        bulk as f64 / secs
    );
    // As `fedicensus import` and `copy` do after their load.
    let began = Instant::now();
    storage.analyze().await?;
    println!(
        "statistics refreshed after the load (Storage::analyze): {:.1} s",
        began.elapsed().as_secs_f64()
    );

    // The overview: a year-long daily series (the data covers the first `days` of it).
    let from = start().date_naive();
    let to = from + Duration::days(364);
    let query = SeriesQuery::new(SeriesMetric::UsersTotal, Granularity::Day, from, to);
    // The first read after the load brings the daily rollup up to date (every day is new).
    let began = Instant::now();
    storage.series(&query).await?;
    println!(
        "first series read after the load (builds the rollup of all {days} days): {:.1} s",
        began.elapsed().as_secs_f64()
    );
    let mut best = f64::MAX;
    for _ in 0..3 {
        let began = Instant::now();
        let series = storage.series(&query).await?;
        best = best.min(began.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(series.points.len(), 365);
    }
    println!("series users_total by day over a year: {best:.0} ms (best of 3; target < 50 ms)");

    // A snapshot of every server as of the last day.
    let as_of: NaiveDate = from + Duration::days(days as i64 - 1);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let began = Instant::now();
        let rows = storage.snapshot(as_of).await?;
        best = best.min(began.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.len() as u64, servers);
    }
    println!(
        "snapshot of {servers} servers as of {as_of}: {best:.0} ms (best of 3; target < 200 ms)"
    );

    // Every observation as CSV, to a sink (the bytes are hashed as they go).
    let before = peak_rss_mib();
    reset_peak_rss();
    let began = Instant::now();
    let file = storage
        .export_csv(
            &Export::Observations {
                from,
                to: from + Duration::days(days as i64),
            },
            std::io::sink(),
        )
        .await?;
    let secs = began.elapsed().as_secs_f64();
    println!(
        "export of {} observations ({:.0} MB): {:.1} s, {:.0} rows/s (target > 1,000,000/s); \
         peak RSS during export {:.0} MiB (before: {:.0} MiB)",
        file.rows,
        file.bytes as f64 / 1e6,
        secs,
        file.rows as f64 / secs,
        peak_rss_mib(),
        before
    );

    moving(storage, fresh).await?;

    // The steady state: one more crawl pass of every server, then the next read refreshes the
    // rollup from that day on (a point depends on the 30 days before it).
    let pass: Vec<_> = (0..servers).map(|i| visit(i, steps)).collect();
    let began = Instant::now();
    storage.ingest_bulk(&pass, None).await?;
    let ingest_ms = began.elapsed().as_secs_f64() * 1000.0;
    let began = Instant::now();
    storage.series(&query).await?;
    println!(
        "one more pass of {servers} servers: written in {ingest_ms:.0} ms; the next series read \
         (refreshing the rollup) {:.0} ms",
        began.elapsed().as_secs_f64() * 1000.0
    );

    let bytes = storage.size_on_disk().await?;
    println!(
        "on disk: {:.0} MB, {:.0} bytes per observation (measurements, indexes and servers included)",
        bytes as f64 / 1e6,
        bytes as f64 / total as f64
    );

    // Optional downsampling of the older half (the bench makes 4 visits a day, every one
    // reporting every figure, so about one a day stays), then the year-long read again.
    let half = start().date_naive() + Duration::days(days as i64 / 2);
    let began = Instant::now();
    let done = storage.downsample(half, Utc::now(), false).await?;
    let secs = began.elapsed().as_secs_f64();
    let began = Instant::now();
    storage.series(&query).await?;
    println!(
        "downsampling before {half}: {} of {} visits removed in {secs:.1} s ({:.0} visits \
         examined/s); the next series read (rebuilding the rollup) {:.0} ms",
        done.observations_removed,
        done.observations_before,
        done.observations_before as f64 / secs,
        began.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

async fn postgres(url: &str, servers: u64, days: u64) -> anyhow::Result<()> {
    let name = format!("fedicensus_bench_{}", std::process::id());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    let fresh = Fresh::Postgres {
        admin: admin.clone(),
        base: base.to_owned(),
        prefix: name.clone(),
    };
    let result = async {
        let storage = Storage::connect(&format!("{base}/{name}")).await?;
        let r = bench("PostgreSQL", &storage, &fresh, servers, days).await;
        storage.close().await;
        r
    }
    .await;
    for db in [
        name.clone(),
        format!("{name}_import"),
        format!("{name}_copy"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
        )))
        .execute(&admin)
        .await?;
    }
    result
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let servers = env_number("FEDICENSUS_BENCH_SERVERS", 1_000);
    let days = env_number("FEDICENSUS_BENCH_DAYS", 30);
    let dir = std::env::temp_dir().join(format!("fedicensus_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // SQLite's page cache per connection (storage's default unless set).
    let cache_kib = env_number("FEDICENSUS_BENCH_SQLITE_CACHE_KIB", 32 * 1024);
    println!("SQLite page cache: {cache_kib} KiB a connection");
    let storage = Storage::connect_with_cache(
        &format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        8,
        u32::try_from(cache_kib).unwrap_or(u32::MAX),
    )
    .await?;
    let result = bench(
        "SQLite",
        &storage,
        &Fresh::Sqlite(dir.clone()),
        servers,
        days,
    )
    .await;
    storage.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    match std::env::var("FEDICENSUS_TEST_POSTGRES_URL") {
        Ok(url) => postgres(&url, servers, days).await?,
        Err(_) => println!("\nPostgreSQL skipped: FEDICENSUS_TEST_POSTGRES_URL not set"),
    }
    Ok(())
}
