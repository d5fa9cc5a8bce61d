//! The demo (`fedicensus demo`): the whole census on one machine without internet.
//!
//! It serves the dashboard at once, then starts the simulated fediverse of autumn 2022
//! in-process and crawls it with the real pipeline (the same leasing, recording and scheduling as
//! `fedicensus crawl`) at simulated dates from September to December, into the database the
//! dashboard reads. Every page carries a banner ([`LiveCensus`]) with the simulated date reached,
//! the pass, the visits and the time left, and the charts grow as each pass lands (the
//! dashboard's cache is keyed by the data's version, which each written batch moves); at the end
//! the banner puts the census beside the simulator's truth. Someone who has just cloned the
//! repository thus watches the November 2022 migration appear on the overview from data the
//! crawler gathers itself, not from a fixture.
//!
//! Two things make it both fast and faithful:
//! - **Simulated time moves between passes, and the crawler's clock follows it.** Before each
//!   pass the simulator's clock is set to the pass's date and the pipeline gets a clock anchored
//!   at the same instant, so observations are dated in 2022, `next_due` is computed in simulated
//!   time, and a rate limit's `X-RateLimit-Reset` means the same instant to both sides. Each pass
//!   re-visits only the hosts whose `next_due` has come: live servers (due again 6 hours after a
//!   visit) every pass, failing ones as their back-off allows, exactly as a long-running crawl
//!   would.
//! - **Politeness is tuned for a loopback simulator.** Every simulated server has the address
//!   127.0.0.1, so the per-address limit is lifted to the global one; intervals between requests
//!   are near zero; timeouts are seconds, not tens of seconds; and the simulator's hanging and
//!   dripping servers are shortened to match. A real crawl must never use these settings, which
//!   is why they live here and not in `fedicensus.toml`.
//!
//! The passes are every six days, every three around the migration (25 October to 1 December):
//! always closer than the 7-day window in which a server counts as up, so every date's
//! `servers_up` rests on a visit of every live server.

use crate::error::{Context, Error, Result};
use crate::pipeline::{offset_clock, Pipeline, Progress, DEFAULT_SEEDS, HELD_PEERS};
use crate::serve::ServeOptions;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use fedicensus_core::{Host, Software};
use fedicensus_crawler::cache::DocumentCache;
use fedicensus_crawler::config::EXAMPLE_CONTACT_URL;
use fedicensus_crawler::CrawlerConfig;
use fedicensus_dashboard::{LiveCensus, TruthCheck};
use fedicensus_sim::endpoints::HandlerConfig;
use fedicensus_sim::serve::{self, ServeConfig};
use fedicensus_sim::truth::truth_summary;
use fedicensus_sim::{LatencyModel, Scenario, SimClock, World, WorldConfig};
use fedicensus_storage::{Granularity, SeriesMetric, SeriesQuery, Storage};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The title of the annotation that marks a database as the demo's. Only a file carrying it is
/// replaced by a new demo run; any other existing file is left alone.
pub const DEMO_MARKER: &str = fedicensus_dashboard::data::SIMULATED_MARKER;

/// Hosts leased at once by the demo. Large batches keep the 2 cores busy; a batch waits for its
/// slowest host, which the short timeouts below bound.
const DEMO_BATCH: u32 = 2_000;

/// How often the demo reads a server's peer list (see [`crawler_config`]).
const DEMO_PEERS_EVERY: Duration = Duration::from_secs(30 * 86_400);

/// The scenario the demo crawls.
pub const SCENARIO: Scenario = Scenario::Migration2022;

/// What to build: the world and the database file.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Seed of the simulated world (the same seed always gives the same world).
    pub seed: u64,
    /// Number of servers in the world; `None`: the scenario's full size.
    pub servers: Option<u32>,
    /// The SQLite file to write (see [`prepare_database_file`]).
    pub db: PathBuf,
    /// Crawl only up to this date (within the scenario).
    pub until: Option<NaiveDate>,
    /// Request slots; `None`: 64.
    pub concurrency: Option<u32>,
    /// Whether the crawler makes conditional requests and reuses fresh documents
    /// ([`CrawlerConfig::conditional_requests`]).
    pub conditional_requests: bool,
}

impl Demo {
    /// The dates this demo crawls at: [`crawl_dates`] up to `until`.
    pub fn dates(&self) -> Vec<DateTime<Utc>> {
        let mut dates = crawl_dates(SCENARIO);
        if let Some(day) = self.until {
            dates.retain(|d| d.date_naive() <= day);
        }
        dates
    }

    /// The storage URL of the demo's SQLite file.
    pub fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.db.display())
    }
}

/// The simulated instants the demo crawls at (midnight UTC): every six days, every three from
/// 25 October to 1 December (the migration), and the scenario's last day. Six days stay inside
/// the 7-day window in which a server counts as up; the weekly activity each Mastodon server
/// reports fills in the weeks between passes.
pub fn crawl_dates(scenario: Scenario) -> Vec<DateTime<Utc>> {
    let dense_from = NaiveDate::from_ymd_opt(2022, 10, 25).unwrap_or(scenario.start());
    let dense_to = NaiveDate::from_ymd_opt(2022, 12, 1).unwrap_or(scenario.end());
    let mut dates = Vec::new();
    let mut day = scenario.start();
    while day <= scenario.end() {
        dates.push(midnight(day));
        let step = if day >= dense_from && day < dense_to {
            3
        } else {
            6
        };
        day += TimeDelta::days(step);
    }
    if dates.last().map(|d| d.date_naive()) != Some(scenario.end()) {
        dates.push(midnight(scenario.end()));
    }
    dates
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Makes room for the demo database: nothing to do if `path` does not exist; an earlier demo's
/// database (and its WAL files) is removed; anything else is refused, untouched.
pub async fn prepare_database_file(path: &Path, say: impl FnOnce(&str)) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if !path.is_file() {
        return Err(Error::Refused(format!(
            "--db {} exists and is not a file; give the path of a new file or of an earlier \
             demo database",
            path.display()
        )));
    }
    let header = {
        use std::io::Read;
        let mut buf = [0u8; 16];
        let mut file = std::fs::File::open(path)
            .with_context(|| format!("opening {} to see what it is", path.display()))?;
        let n = file.read(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    };
    let refuse = || {
        Error::Refused(format!(
            "{} exists and is not a database an earlier `fedicensus demo` wrote; refusing to \
             replace it. Remove it yourself or give another file with --db",
            path.display()
        ))
    };
    if header.as_slice() != b"SQLite format 3\0" {
        return Err(refuse());
    }
    // Read-only: a file that is not ours must not be migrated or changed in any way.
    let url = format!("sqlite://{}?mode=ro", path.display());
    let scenario = SCENARIO;
    let notes = async {
        let storage = Storage::connect(&url).await.ok()?;
        let notes = storage
            .annotations(scenario.start(), scenario.end())
            .await
            .ok();
        storage.close().await;
        notes
    }
    .await;
    let is_demo = notes.is_some_and(|notes| notes.iter().any(|n| n.title == DEMO_MARKER));
    if !is_demo {
        return Err(refuse());
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| {
                format!("removing the earlier demo database {}", file.display())
            })?;
        }
    }
    say(&format!(
        "replacing the earlier demo database {}",
        path.display()
    ));
    Ok(())
}

/// Where the demo's dashboard serves while it crawls.
#[derive(Debug)]
pub struct DemoServe {
    /// The bound listener (bound by the caller, so that a taken address fails before anything).
    pub listener: tokio::net::TcpListener,
    pub options: ServeOptions,
}

/// Runs the demo: starts the dashboard at once when `serve` is given (its URL is the first thing
/// said), then the simulator, and crawls it at every date of `demo` into its database (which
/// [`prepare_database_file`] has made room for), every page showing the census as it stands.
/// Without `serve` it builds the database and returns; with it, the dashboard keeps serving the
/// complete census until `cancel`. What it does is given to `say` a line at a time; `cancel`
/// during the crawl stops it (an error then says so).
pub async fn run(
    demo: &Demo,
    serve: Option<DemoServe>,
    cancel: CancellationToken,
    mut say: impl FnMut(&str),
) -> Result<()> {
    let dates = demo.dates();
    let storage = Storage::connect(&demo.url())
        .await
        .with_context(|| format!("opening the database {}", demo.db.display()))?;
    let live = Arc::new(LiveCensus::new(dates.len()));
    live.update(|p| p.activity = Some("generating the simulated world".into()));
    let dashboard = match serve {
        None => None,
        Some(DemoServe { listener, options }) => {
            // Its own pool: the dashboard's reads never wait for a connection the crawl holds.
            let reader = Storage::connect(&demo.url())
                .await
                .with_context(|| format!("opening the database {}", demo.db.display()))?;
            let state = crate::serve::state(reader.clone(), &options)?.with_live(live.clone());
            let addr = listener
                .local_addr()
                .context("reading the dashboard's address")?;
            say(&format!(
                "fedicensus dashboard: http://{addr}/ (the census fills in as the demo crawls)"
            ));
            let stop = cancel.clone();
            let task = tokio::spawn(crate::serve::serve(
                listener,
                state,
                options.limits,
                async move { stop.cancelled().await },
            ));
            Some((task, reader, addr))
        }
    };
    let crawled = crawl(demo, &dates, &storage, &live, &cancel, &mut say).await;
    storage.close().await;
    let Some((task, reader, addr)) = dashboard else {
        return crawled;
    };
    if crawled.is_ok() {
        say(&format!(
            "the census is complete; the dashboard serves it at http://{addr}/ until Ctrl-C"
        ));
    }
    let served = task.await.context("the dashboard's task failed");
    reader.close().await;
    crawled?;
    served?
}

/// The dates the completed banner compares with the truth: before the migration (27 October)
/// and at its height (27 November), the calibration dates the README states.
pub const HEADLINE_DATES: [(u32, u32); 2] = [(10, 27), (11, 27)];

/// How often the banner's visits and time left are brought up to date during a pass.
const LIVE_EVERY: Duration = Duration::from_millis(500);

/// Generates the world, starts the simulator and crawls it at every one of `dates` into
/// `storage`, keeping `live` up to date; at the end puts the census beside the truth at the
/// [`HEADLINE_DATES`] crawled. Closes the simulator.
async fn crawl(
    demo: &Demo,
    dates: &[DateTime<Utc>],
    storage: &Storage,
    live: &LiveCensus,
    cancel: &CancellationToken,
    say: &mut impl FnMut(&str),
) -> Result<()> {
    let args = demo;
    let scenario = SCENARIO;
    let generated = Instant::now();
    let world = World::generate(WorldConfig {
        servers: args.servers.map(|n| n as usize),
        // Latency costs wall time and changes no count; the demo's world answers at once.
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(scenario, args.seed)
    });
    let servers = world.servers().len();
    let seeds = demo_seeds(&world);
    if seeds.is_empty() {
        return Err(Error::Refused(
            "the simulated world has none of the default seed servers; try another --seed".into(),
        ));
    }
    let first = dates
        .first()
        .copied()
        .unwrap_or_else(|| midnight(scenario.start()));
    let sim = serve::start(Arc::new(world), SimClock::starting_at(first), sim_config())
        .await
        .context("starting the simulated fediverse")?;
    say(&format!(
        "simulated fediverse: {} servers ({} scenario, seed {}), generated in {:.1} s; crawling \
         {} dates from {} to {}",
        servers,
        scenario.name(),
        args.seed,
        generated.elapsed().as_secs_f64(),
        dates.len(),
        first.date_naive(),
        dates
            .last()
            .map(|d| d.date_naive())
            .unwrap_or(first.date_naive()),
    ));
    storage
        .add_annotation(
            scenario.start(),
            DEMO_MARKER,
            &format!(
                "Everything in this database was crawled from the simulated fediverse \
                 (fedicensus-sim, {} scenario, seed {}, {} servers), not from real servers.",
                scenario.name(),
                args.seed,
                servers
            ),
            None,
        )
        .await
        .context("marking the database as the demo's")?;
    let mut config = crawler_config(&sim)?;
    config.geo = demo_geo(&args.db)?;
    if let Some(slots) = args.concurrency {
        config.concurrency = slots as usize;
        config.per_ip_concurrency = config.concurrency;
    }
    config.conditional_requests = args.conditional_requests;
    // The world's subdomain flood (fake `*.<parent>` Mastodon servers in the peer lists, like
    // the `*.gab.best` flood of 2019) is denied, as the operator of a real census denies a flood
    // once it shows: the domain budget only slows it down (25 hosts a pass), and every flood
    // host it lets through would count as an up Mastodon server, which the truth says it is not.
    if let Some(parent) = sim.world().flood_parent() {
        config.deny.push(parent.to_owned());
    }
    // One cache of documents for the whole demo: each pass asks whether what the last read has
    // changed.
    let documents = DocumentCache::for_config(&config);
    let started = Instant::now();
    let overall = overall_bar(dates.len() as u64);
    let mut body_bytes = 0;
    let mut visits = 0;
    let mut inconclusive = 0;
    for (i, at) in dates.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        sim.clock().set(*at);
        live.update(|p| {
            p.activity = None;
            p.reached = Some(at.date_naive());
            p.pass = i + 1;
        });
        let progress = Progress::new();
        let pipeline = Pipeline {
            storage: storage.clone(),
            config: config.clone(),
            clock: offset_clock(*at),
            worker: "demo".into(),
            batch: DEMO_BATCH,
            cancel: cancel.clone(),
            progress: progress.clone(),
            staggered_peers: true,
            held_peers: HELD_PEERS,
            documents: documents.clone(),
        };
        let pass_began = Instant::now();
        let pass = pipeline.pass(&seeds);
        tokio::pin!(pass);
        let mut tick = tokio::time::interval(LIVE_EVERY);
        let summary = loop {
            tokio::select! {
                summary = &mut pass => break summary,
                _ = tick.tick() => live.update(|p| {
                    p.visits = visits + progress.visited();
                    p.seconds_left = time_left(started.elapsed(), pass_began.elapsed(), i, dates.len());
                }),
            }
        };
        let summary = summary.with_context(|| {
            format!("crawling the simulated fediverse as of {}", at.date_naive())
        })?;
        visits += summary.visited;
        live.update(|p| {
            p.visits = visits;
            p.seconds_left = time_left(started.elapsed(), Duration::ZERO, i + 1, dates.len());
        });
        inconclusive += summary.inconclusive();
        body_bytes += summary.body_bytes;
        let timeouts = summary.by_outcome.get("timeout").copied().unwrap_or(0);
        let lag = summary
            .health
            .as_ref()
            .map(|h| {
                format!(
                    "; crawler lag p99 {} ms, max {} ms, visits in flight {}-{}",
                    h.lag_p99.as_millis(),
                    h.lag_max.as_millis(),
                    h.visit_limit_min,
                    h.visit_limit_max
                )
            })
            .unwrap_or_default();
        let line = format!(
            "pass {}/{} as of {}: {} visits ({} timed out), {} new servers, {} inconclusive, \
             in {:.1} s{lag}",
            i + 1,
            dates.len(),
            at.date_naive(),
            summary.visited,
            timeouts,
            summary.discovered,
            summary.inconclusive(),
            summary.elapsed.as_secs_f64()
        );
        match &overall {
            Some(bar) => {
                bar.println(&line);
                bar.inc(1);
            }
            None => say(&line),
        }
    }
    if let Some(bar) = &overall {
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed();
    say(&format!(
        "crawled {} dates ({} visits, {} inconclusive) in {:.1} s",
        dates.len(),
        visits,
        inconclusive,
        elapsed.as_secs_f64()
    ));
    let cache = documents.as_ref().map(|d| d.report()).map_or_else(
        || "conditional requests off".to_owned(),
        |c| {
            format!(
                "{} conditional requests, {} not modified, {} reused while fresh, {:.1} MB not \
                 transferred; cache {} documents, {:.1} MB",
                c.conditional,
                c.not_modified,
                c.reused,
                c.bytes_saved as f64 / 1e6,
                c.entries,
                c.bytes as f64 / 1e6
            )
        },
    );
    say(&format!(
        "response bodies received: {:.1} MB; {cache}",
        body_bytes as f64 / 1e6
    ));
    if cancel.is_cancelled() {
        sim.shutdown().await;
        return Err(Error::Refused(
            "the demo crawl was stopped; the database holds what was crawled before".into(),
        ));
    }
    let crawled: Vec<NaiveDate> = dates.iter().map(|d| d.date_naive()).collect();
    let checks = truth_checks(storage, sim.world(), &crawled).await?;
    sim.shutdown().await;
    for check in &checks {
        say(&format!(
            "{} on {}: census {}, truth {} (fedicensus simulate --truth)",
            check.what,
            check.date,
            check
                .census
                .map_or_else(|| "none".to_owned(), |c| c.to_string()),
            check.truth
        ));
    }
    live.update(|p| {
        p.complete = true;
        p.seconds_left = Some(0);
        p.seconds_taken = Some(elapsed.as_secs());
        p.truth = checks;
    });
    Ok(())
}

/// The time left, in seconds, when `done` passes of `passes` took `elapsed` in all (the pass
/// under way included, `into_pass` of it): the passes left at the average pass's time, less
/// what the pass under way has already taken. `None` before the first pass ends.
fn time_left(elapsed: Duration, into_pass: Duration, done: usize, passes: usize) -> Option<u64> {
    if done == 0 {
        return None;
    }
    let finished = elapsed.saturating_sub(into_pass);
    let average = finished / u32::try_from(done).unwrap_or(u32::MAX);
    let left = average * u32::try_from(passes.saturating_sub(done)).unwrap_or(u32::MAX);
    Some(left.saturating_sub(into_pass).as_secs())
}

/// The census's reachable Mastodon servers (its daily `servers_up` series of Mastodon) beside
/// the simulator's truth at midnight, on each of the [`HEADLINE_DATES`] within `crawled`.
async fn truth_checks(
    storage: &Storage,
    world: &World,
    crawled: &[NaiveDate],
) -> Result<Vec<TruthCheck>> {
    let (Some(first), Some(last)) = (crawled.first(), crawled.last()) else {
        return Ok(Vec::new());
    };
    let mut checks = Vec::new();
    for (month, day) in HEADLINE_DATES {
        let Some(date) = NaiveDate::from_ymd_opt(first.year(), month, day) else {
            continue;
        };
        if date < *first || date > *last {
            continue;
        }
        let series = storage
            .series(&SeriesQuery {
                software: Some(Software::Mastodon),
                ..SeriesQuery::new(SeriesMetric::ServersUp, Granularity::Day, date, date)
            })
            .await
            .with_context(|| format!("reading the census of {date}"))?;
        let census = series
            .points
            .iter()
            .find(|p| p.date == date)
            .and_then(|p| p.value);
        let truth = truth_summary(world, midnight(date))
            .software(Software::Mastodon.as_str())
            .reachable;
        checks.push(TruthCheck {
            date,
            what: "Reachable Mastodon servers".into(),
            census,
            truth,
        });
    }
    Ok(checks)
}

/// The pass counter on a terminal (each pass shows its own spinner of visits below it).
fn overall_bar(passes: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(passes);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "demo {bar:30} {pos}/{len} passes, {elapsed_precise} (eta {honest_eta})",
            )
            .map(|style| {
                style.with_key(
                    "honest_eta",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&eta_text(state.elapsed(), state.pos(), state.len()));
                    },
                )
            })
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// The time left, from the passes done so far: `?` before the first pass ends (indicatif's own
/// estimate divides by a rate of zero then, and showed `584942417355y`).
fn eta_text(elapsed: Duration, done: u64, total: Option<u64>) -> String {
    let Some(total) = total else {
        return "?".into();
    };
    if done == 0 || done > total {
        return "?".into();
    }
    let left = elapsed.mul_f64((total - done) as f64 / done as f64);
    let seconds = left.as_secs();
    if seconds >= 3600 {
        format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60)
    } else {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    }
}

/// The default seeds that exist in the simulated world.
fn demo_seeds(world: &World) -> Vec<Host> {
    DEFAULT_SEEDS
        .iter()
        .filter(|name| world.lookup(name).is_some())
        .filter_map(|name| Host::parse(name).ok())
        .collect()
}

/// The simulator's misbehaviour, shortened to fit the demo's timeouts: hanging servers hang for a
/// second, drips finish within half a second, rate-limit windows last a second. What each server
/// does is unchanged (a hanging server still never answers, a rate-limited one still says 429).
fn sim_config() -> ServeConfig {
    ServeConfig {
        listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
        bait: false,
        apply_latency: false,
        hang_for: Duration::from_secs(1),
        max_drip: Duration::from_millis(500),
        // The request log only serves politeness checks in tests; the demo keeps a little.
        log_limit: 10_000,
        handler: HandlerConfig {
            hang: Duration::from_secs(1),
            drip_every: Duration::from_millis(5),
            rate_window: Duration::from_secs(1),
            ..HandlerConfig::default()
        },
        // Servers on their hosting networks' addresses, so the geolocation databases the demo
        // writes place them on the map.
        hosting: true,
        ..ServeConfig::default()
    }
}

/// Writes the simulator's country and ASN databases beside the demo's database file
/// (`<db>-country.mmdb`, `<db>-asn.mmdb`) and opens them as `[geo]` would.
fn demo_geo(db: &Path) -> Result<Option<Arc<fedicensus_crawler::GeoDatabases>>> {
    let stem = db.with_extension("");
    let country = PathBuf::from(format!("{}-country.mmdb", stem.display()));
    let asn = PathBuf::from(format!("{}-asn.mmdb", stem.display()));
    let country_bytes =
        fedicensus_sim::hosting::country_database().context("writing the demo's geo database")?;
    let asn_bytes =
        fedicensus_sim::hosting::asn_database().context("writing the demo's geo database")?;
    std::fs::write(&country, country_bytes)
        .with_context(|| format!("writing {}", country.display()))?;
    std::fs::write(&asn, asn_bytes).with_context(|| format!("writing {}", asn.display()))?;
    crate::geo::open(Some(&country), Some(&asn))
}

/// The crawler pointed at the in-process simulator, with politeness for loopback.
fn crawler_config(sim: &serve::RunningSim) -> Result<CrawlerConfig> {
    let mut config = CrawlerConfig::new(EXAMPLE_CONTACT_URL);
    // Request slots; the pipeline keeps `VISITS_PER_SLOT` (16) visits in flight per slot, so
    // 64 slots mean 1,024 visits at once. 256 slots (4,096 visits, since that constant went from
    // 2 to 16) overran the simulator: connect timeouts on half the visits and, in December, more
    // sockets than the process may open.
    config.concurrency = 64;
    // Thousands of simulated servers share a few hundred loopback addresses: a per-address
    // limit would serialise whole networks.
    config.per_ip_concurrency = config.concurrency;
    config.min_interval = Duration::ZERO;
    config.max_crawl_delay = Duration::from_millis(50);
    config.max_rate_limit_wait = Duration::from_secs(2);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(3);
    config.visit_timeout = Duration::from_secs(10);
    // Peer lists serve discovery, and each one read costs the simulator, the crawler and storage
    // a row per entry (hundreds of thousands a list at this size). Read about monthly, each at a
    // phase of its own (the pipeline's `staggered_peers`), a pass still reads about a tenth of
    // the lists, among them enough big ones to find every new server the day it appears; a new
    // server's own list is read on its first visit.
    config.peers_every = DEMO_PEERS_EVERY;
    // The demo reads the block lists its simulated servers publish, with their peer lists.
    config.read_blocklists = true;
    // A live server is revisited at every pass: `alive_every` keeps its 6-hour default, shorter
    // than any gap between passes. Revisiting every other pass in the 3-day weeks was tried: it
    // cut the full demo from 638 s to 511 s, but the passes in between then lagged the truth by
    // up to 10 % (fewer peer lists read, figures not refreshed), which defeats the dense weeks.
    config.network.nameserver = Some(sim.dns_addr());
    config.network.port = Some(sim.addr().port());
    config.network.extra_ca_pem = Some(sim.ca_pem().to_owned());
    // The simulator's own address, its hosting addresses, and 127.0.0.2 (refused names).
    config.network.allow_addresses = sim.server_addresses();
    config
        .network
        .allow_addresses
        .push(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    config.network.only_allowed_addresses = true;
    config
        .validate()
        .context("checking the demo's crawler settings")?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_eta_is_unknown_until_a_pass_ends() {
        use super::eta_text;
        use std::time::Duration;
        assert_eq!(eta_text(Duration::from_secs(5), 0, Some(28)), "?");
        assert_eq!(eta_text(Duration::from_secs(60), 7, Some(28)), "3m 00s");
        assert_eq!(eta_text(Duration::from_secs(1800), 1, Some(28)), "13h 30m");
        assert_eq!(eta_text(Duration::from_secs(1), 1, None), "?");
    }

    use super::*;

    /// With room for a single peer name, nearly every finished visit closes the gate until the
    /// writer has stored it: the pass must still end, having visited every server it found.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pass_whose_peer_lists_overflow_the_held_limit_still_visits_every_server(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let at = midnight(NaiveDate::from_ymd_opt(2022, 11, 15).expect("a date"));
        let world = World::generate(WorldConfig {
            servers: Some(300),
            latency: LatencyModel::ZERO,
            ..WorldConfig::new(SCENARIO, 7)
        });
        let seeds = demo_seeds(&world);
        let sim = serve::start(Arc::new(world), SimClock::starting_at(at), sim_config()).await?;
        let dir = std::env::temp_dir().join(format!("fedicensus-held-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("census.db").display());
        let storage = Storage::connect(&url).await?;
        let pipeline = Pipeline {
            storage: storage.clone(),
            config: crawler_config(&sim)?,
            clock: offset_clock(at),
            worker: "test".into(),
            batch: 25,
            cancel: CancellationToken::new(),
            progress: Progress::new(),
            staggered_peers: false,
            held_peers: 1,
            documents: None,
        };
        let summary = tokio::time::timeout(Duration::from_secs(120), pipeline.pass(&seeds))
            .await
            .context("the pass never ended")??;
        let known = storage.snapshot(at.date_naive()).await?.len() as u64;
        assert!(summary.discovered > 100, "{summary}");
        assert_eq!(summary.visited, known, "{summary}");
        assert!(storage.due_hosts(at, 10).await?.is_empty());
        storage.close().await;
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn crawl_dates_are_never_further_apart_than_the_up_window() {
        let dates = crawl_dates(SCENARIO);
        assert_eq!(dates[0].date_naive(), SCENARIO.start());
        assert_eq!(dates.last().map(|d| d.date_naive()), Some(SCENARIO.end()));
        for pair in dates.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap > TimeDelta::zero() && gap < TimeDelta::days(7),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn crawl_dates_are_denser_around_the_migration() {
        let dates = crawl_dates(SCENARIO);
        let in_month = |m: u32| dates.iter().filter(|d| d.date_naive().month() == m).count();

        assert!(in_month(11) > in_month(9), "{dates:?}");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_demo_database_is_refused_untouched() {
        let dir = std::env::temp_dir().join(format!("fedicensus-demo-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("notes.txt");
        std::fs::write(&file, "my precious notes").expect("write");
        let error = prepare_database_file(&file, |_| {})
            .await
            .expect_err("refused");
        assert!(error.to_string().contains("refusing"), "{error}");
        assert_eq!(
            std::fs::read_to_string(&file).expect("still there"),
            "my precious notes"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
