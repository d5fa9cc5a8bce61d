//! Faults injected into the real binary: `fedicensus crawl` killed with SIGKILL at twenty-odd
//! random moments, a disk that fills up under a crawl, and `fedicensus export` killed mid-file.
//!
//! After each fault the database must pass `PRAGMA integrity_check`, every observation committed
//! before the fault must still be there exactly once, and the work must resume and complete.
//! The kill moments come from a fixed seed ([`KILL_SEED`]; change it to explore), though where
//! each kill lands in the crawl also depends on the machine's timing.

use crate::fedicensus;
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use fedicensus_core::{
    Host, Measurement, Metric, Observation, Outcome, Software, SoftwareReport, Source,
};
use fedicensus_sim::{FailureMix, LatencyModel, Scenario, World, WorldConfig};
use fedicensus_storage::Storage;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const AT: &str = "2022-11-15";
const WORLD_SEED: u64 = 7;
const SEEDS: [&str; 2] = ["mastodon.social", "pawoo.net"];
/// Seeds the kill moments (a small xorshift generator: the moments need no better).
const KILL_SEED: u64 = 0x5eed_f417;

fn at() -> DateTime<Utc> {
    NaiveDate::parse_from_str(AT, "%Y-%m-%d")
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// xorshift64*: enough to spread kill moments.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        low + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (high - low)
    }
}

/// A running `fedicensus simulate` on free loopback ports; killed when dropped.
struct Sim {
    child: Child,
    port: u16,
    dns: String,
    ca: PathBuf,
    dir: PathBuf,
    servers: u32,
}

impl Sim {
    fn start(name: &str, servers: u32) -> Sim {
        let dir = std::env::temp_dir().join(format!(
            "fedicensus-e2e-faults-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let ca = dir.join("ca.pem");
        let mut child = fedicensus()
            .args(["simulate", "--servers", &servers.to_string()])
            .args(["--seed", &WORLD_SEED.to_string(), "--latency-ms", "0"])
            .args(["--at", AT, "--listen", "127.0.0.1:0", "--ca-file"])
            .arg(&ca)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the simulator starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut printed = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        let after = |marker: &str| -> Option<String> {
            printed
                .split(marker)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        };
        let port: u16 = after("HTTP and HTTPS   port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in:\n{printed}"));
        let dns = after("DNS server       ").unwrap_or_else(|| panic!("no DNS in:\n{printed}"));
        Sim {
            child,
            port,
            dns,
            ca,
            dir,
            servers,
        }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The servers a complete crawl from the seeds must observe, by domain.
    fn discoverable(&self) -> BTreeSet<String> {
        let world = World::generate(WorldConfig {
            servers: Some(self.servers as usize),
            failures: FailureMix::default(),
            latency: LatencyModel::ZERO,
            ..WorldConfig::new(Scenario::Migration2022, WORLD_SEED)
        });
        let seeds: Vec<u32> = SEEDS
            .iter()
            .map(|s| world.lookup(s).expect("a seed in the world").id)
            .collect();
        world
            .discoverable_from(&seeds, at())
            .into_iter()
            .map(|id| world.server(id).domain.clone())
            .collect()
    }

    /// `fedicensus crawl --once` of this world into `database` as worker `w1`, its clock starting
    /// at `now`, with test timeouts.
    fn crawl(&self, database: &str, now: DateTime<Utc>) -> Command {
        let mut command = fedicensus();
        command
            .env("FEDICENSUS__CRAWLER__MIN_INTERVAL", "20ms")
            .env("FEDICENSUS__CRAWLER__REQUEST_TIMEOUT", "2s")
            .env("FEDICENSUS__CRAWLER__VISIT_TIMEOUT", "10s")
            .env("FEDICENSUS__CRAWLER__CONNECT_TIMEOUT", "2s")
            .env_remove("RUST_LOG")
            .current_dir(&self.dir)
            .args(["crawl", "--once", "--database", database])
            .args(["--dns", &self.dns, "--port", &self.port.to_string()])
            .arg("--ca-file")
            .arg(&self.ca)
            .args([
                "--allow-address",
                "127.0.0.1",
                "--allow-address",
                "127.0.0.2",
            ])
            .args(["--now", &now.to_rfc3339()])
            .args(["--contact-url", "https://example.invalid/fedicensus"])
            .args(["--worker", "w1", "--batch", "100"]);
        for seed in SEEDS {
            command.args(["--seed", seed]);
        }
        command
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// Sends SIGKILL: the process gets no chance to clean up.
fn kill_9(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -9 {} failed", child.id());
    child.wait().expect("the killed process is reaped");
}

/// `PRAGMA integrity_check`, and every observation as (domain, observed_at), read with plain
/// SQL so that nothing of the storage crate's own logic is trusted.
fn inspect(path: &Path) -> (String, Vec<(String, String)>) {
    block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("the database opens");
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .expect("the check runs");
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT s.domain, o.observed_at FROM observations o JOIN servers s ON s.id = o.server_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
        pool.close().await;
        (integrity, rows)
    })
}

/// Checks what every fault must leave: a sound database that still holds every observation
/// committed before (`kept`), each exactly once, and no server observed twice in the pass.
fn assert_consistent(
    what: &str,
    db: &Path,
    kept: &BTreeSet<(String, String)>,
) -> BTreeSet<(String, String)> {
    let (integrity, rows) = inspect(db);
    assert_eq!(integrity, "ok", "{what}: PRAGMA integrity_check");
    let set: BTreeSet<(String, String)> = rows.iter().cloned().collect();
    assert_eq!(set.len(), rows.len(), "{what}: an observation stored twice");
    let lost: Vec<_> = kept.difference(&set).take(5).collect();
    assert!(
        lost.is_empty(),
        "{what}: committed observations lost: {lost:?}"
    );
    let mut per_server: BTreeMap<&str, usize> = BTreeMap::new();
    for (domain, _) in &rows {
        *per_server.entry(domain).or_default() += 1;
    }
    let doubled: Vec<_> = per_server.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        doubled.is_empty(),
        "{what}: servers visited twice in one pass: {doubled:?}"
    );
    set
}

/// The final, uninterrupted crawl: it finishes, and then every discoverable server has its one
/// observation.
fn finish_and_check(sim: &Sim, db: &Path, now: DateTime<Utc>, kept: &BTreeSet<(String, String)>) {
    let output = sim
        .crawl(&sqlite_url(db), now)
        .output()
        .expect("the last crawl runs");
    assert!(
        output.status.success(),
        "the resumed crawl failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let all = assert_consistent("after the resumed crawl", db, kept);
    let observed: BTreeSet<&str> = all.iter().map(|(d, _)| d.as_str()).collect();
    let missing: Vec<String> = sim
        .discoverable()
        .into_iter()
        .filter(|d| !observed.contains(d.as_str()))
        .take(10)
        .collect();
    assert!(missing.is_empty(), "never observed: {missing:?}");
}

#[test]
fn a_crawl_killed_at_twenty_random_moments_loses_and_doubles_nothing() {
    let sim = Sim::start("kill20", 600);
    let db = sim.path("census.db");
    let url = sqlite_url(&db);
    let mut moments = Moments(KILL_SEED);
    let mut kept = BTreeSet::new();
    let mut now = at();
    let (mut kills, mut finished_first, mut grew) = (0, 0, 0);
    let started = Instant::now();
    for round in 0..40 {
        if kills >= 20 {
            break;
        }
        let wait = moments.next_ms(300, 2500);
        let mut child = sim
            .crawl(&url, now)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the crawl starts");
        std::thread::sleep(Duration::from_millis(wait));
        // Each run's clock starts after the last one's ended, as between real runs.
        now += TimeDelta::seconds(5);
        if child.try_wait().expect("waitable").is_some() {
            finished_first += 1;
            continue;
        }
        kill_9(&mut child);
        kills += 1;
        let before = kept.len();
        kept = assert_consistent(
            &format!("kill {kills} (round {round}, at {wait} ms)"),
            &db,
            &kept,
        );
        if kept.len() > before {
            grew += 1;
        }
    }
    println!(
        "{kills} kills in {:?} ({finished_first} runs ended before their kill); {grew} killed runs \
         committed visits; {} observations committed before the last kill",
        started.elapsed(),
        kept.len()
    );
    assert!(kills >= 20, "only {kills} kills landed");
    assert!(
        grew >= 3,
        "only {grew} of the killed runs committed anything"
    );
    finish_and_check(&sim, &db, now, &kept);
}

/// A file-size limit (`ulimit -f`, with SIGXFSZ ignored so writes fail with EFBIG instead of
/// killing the process) stands in for a full disk: it needs no root and no tmpfs, and SQLite
/// sees the same thing as on a full disk, a write that fails part-way through a transaction.
#[test]
fn a_full_disk_stops_the_crawl_with_a_clear_error_and_corrupts_nothing() {
    let sim = Sim::start("full", 400);
    let db = sim.path("census.db");
    let url = sqlite_url(&db);
    // Some visits first, so the database is not empty when the disk fills.
    let mut child = sim
        .crawl(&url, at())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the crawl starts");
    std::thread::sleep(Duration::from_millis(500));
    kill_9(&mut child);
    let kept = assert_consistent("before the disk fills", &db, &BTreeSet::new());
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let wal = std::fs::metadata(sim.path("census.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    // Room for about 16 KiB more in the largest file, in 1 KiB blocks: less than the rest of
    // the crawl needs.
    let limit_kib = size.max(wal) / 1024 + 16;

    let crawl = sim.crawl(&url, at() + TimeDelta::seconds(30));
    let mut limited = Command::new("bash");
    limited
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {limit_kib}; exec \"$@\""))
        .arg("fedicensus")
        .arg(crawl.get_program())
        .args(crawl.get_args())
        .current_dir(crawl.get_current_dir().unwrap_or(Path::new(".")));
    for (key, value) in crawl.get_envs() {
        match value {
            Some(value) => limited.env(key, value),
            None => limited.env_remove(key),
        };
    }
    let began = Instant::now();
    let output = limited.output().expect("the limited crawl runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    println!(
        "with {limit_kib} KiB per file the crawl ended in {:?} with {}:\n{}",
        began.elapsed(),
        output.status,
        stderr.lines().rev().take(6).collect::<Vec<_>>().join("\n")
    );
    assert!(
        !output.status.success(),
        "the crawl succeeded although no write past {limit_kib} KiB could succeed:\n{stdout}"
    );
    let said = stderr.to_ascii_lowercase();
    assert!(
        said.contains("disk") || said.contains("full") || said.contains("database"),
        "the error does not say what failed:\n{stderr}"
    );
    let kept = assert_consistent("after the disk filled", &db, &kept);
    finish_and_check(&sim, &db, at() + TimeDelta::seconds(60), &kept);
}

/// A census with enough history that exporting it takes a while: `servers` servers visited
/// daily for `days` days.
fn fill(url: &str, servers: usize, days: i64) {
    block_on(async {
        let storage = Storage::connect(url).await.expect("the database opens");
        let mut batch = Vec::new();
        for day in 0..days {
            for s in 0..servers {
                let at = at() + TimeDelta::days(day) + TimeDelta::minutes(s as i64);
                let host = Host::from_normalised(format!("s{s}.example.com"));
                let mut o = Observation::failed(host, at, Outcome::Ok, 100);
                o.software = Some(SoftwareReport {
                    family: Software::Mastodon,
                    raw_name: "mastodon".into(),
                    raw_version: "4.0.2".into(),
                    version: Some("4.0.2".into()),
                });
                o.measurements.push(Measurement {
                    metric: Metric::UsersTotal,
                    source: Source::NodeInfo,
                    value: (s * 10 + day as usize) as u64,
                });
                batch.push(o);
            }
        }
        storage
            .record_observations(&batch, None)
            .await
            .expect("the history is recorded");
        storage.close().await;
    });
}

fn export(db: &Path, out: &Path) -> Command {
    let mut command = fedicensus();
    command
        .args(["export", "--db"])
        .arg(db)
        .arg("--out")
        .arg(out)
        .args([
            "--from",
            "2022-11-15",
            "--to",
            "2022-12-04",
            "--at",
            "2022-12-04",
        ]);
    command
}

/// The files of a directory, by name (temporary `.partial` files apart).
fn listing(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            files.insert(name, std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    files
}

#[test]
fn an_export_killed_mid_file_leaves_no_partial_file_under_a_final_name() {
    let dir = std::env::temp_dir().join(format!(
        "fedicensus-e2e-faults-export-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = dir.join("census.db");
    fill(&sqlite_url(&db), 300, 20);

    // The complete export, to compare with.
    let reference = dir.join("reference");
    let began = Instant::now();
    let output = export(&db, &reference).output().expect("export runs");
    let took = began.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let complete = listing(&reference);
    assert!(complete.contains_key("manifest.json"));

    let mut moments = Moments(KILL_SEED ^ 0xe4);
    let (mut kills, mut mid_export) = (0, 0);
    for round in 0..12 {
        let out = dir.join(format!("killed-{round}"));
        // Spread over the export's own duration (startup included).
        let wait = moments.next_ms(5, took.as_millis() as u64 + 10);
        let mut child = export(&db, &out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("export starts");
        std::thread::sleep(Duration::from_millis(wait));
        if child.try_wait().expect("waitable").is_some() {
            continue;
        }
        kill_9(&mut child);
        kills += 1;
        let left = listing(&out);
        if !left.contains_key("manifest.json") {
            mid_export += 1;
        }
        for (name, bytes) in &left {
            // Every file under a final name is complete. CSV files are byte-identical to the
            // complete export's; the manifest differs only in its creation time.
            if name == "manifest.json" {
                assert_eq!(
                    left.len(),
                    complete.len(),
                    "a manifest beside missing files"
                );
                continue;
            }
            let want = complete
                .get(name)
                .unwrap_or_else(|| panic!("an unexpected file {name}"));
            assert!(
                bytes == want,
                "round {round}: {name} is partial ({} of {} bytes)",
                bytes.len(),
                want.len()
            );
        }
    }
    println!(
        "export takes {took:?}; {kills} exports killed, {mid_export} of them before the manifest"
    );
    assert!(kills >= 4, "only {kills} kills landed during the export");
    assert!(mid_export >= 2, "only {mid_export} kills landed mid-export");
    let _ = std::fs::remove_dir_all(&dir);
}
