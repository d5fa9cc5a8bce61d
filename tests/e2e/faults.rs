//! Faults injected into the real binary: `fedicensus crawl` killed with SIGKILL at twenty-odd
//! random moments, a disk that fills up under a crawl, PostgreSQL killed under a running crawl
//! (a private server, started and killed by the test), and `fedicensus export` killed mid-file
//! (beside it, the same export written as Parquet, checked against its CSV).
//!
//! After each fault the database must be sound (`PRAGMA integrity_check` on SQLite; on
//! PostgreSQL, no lease left held and no run left unfinished), every observation committed
//! before the fault must still be there exactly once, and the work must resume and complete.
//! The kill moments come from a fixed seed ([`KILL_SEED`]; change it to explore), though where
//! each kill lands in the crawl also depends on the machine's timing.

use crate::fedicensus;
use crate::support::{at, block_on, kill_9, sqlite_integrity, sqlite_url, Sim, SEEDS};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use fedicensus_core::{
    Host, Measurement, Metric, Observation, Outcome, Software, SoftwareReport, Source,
};
use fedicensus_storage::Storage;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Seeds the kill moments (a small xorshift generator: the moments need no better).
const KILL_SEED: u64 = 0x5eed_f417;

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

/// `fedicensus crawl --once` of the simulated world into `database` as worker `w1`, its clock
/// starting at `now`.
fn crawl(sim: &Sim, database: &str, now: DateTime<Utc>) -> Command {
    let mut command = sim.crawl_at(database, &now.to_rfc3339());
    command.args(["--worker", "w1", "--batch", "100"]);
    command
}

/// The servers a complete crawl from the seeds must observe, by domain.
fn discoverable(sim: &Sim) -> BTreeSet<String> {
    let world = sim.world();
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

/// `PRAGMA integrity_check`, and every observation as (domain, observed_at), read with plain
/// SQL so that nothing of the storage crate's own logic is trusted.
fn inspect(path: &Path) -> (String, Vec<(String, String)>) {
    let integrity = sqlite_integrity(path);
    let rows = block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("the database opens");
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT s.domain, o.observed_at FROM observations o JOIN servers s ON s.id = o.server_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
        pool.close().await;
        rows
    });
    (integrity, rows)
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
    assert_each_once(what, &rows, kept)
}

/// Checks that `rows` (domain, observed_at) hold every observation of `kept`, none twice, and
/// no server twice in the pass; returns them as a set.
fn assert_each_once(
    what: &str,
    rows: &[(String, String)],
    kept: &BTreeSet<(String, String)>,
) -> BTreeSet<(String, String)> {
    let set: BTreeSet<(String, String)> = rows.iter().cloned().collect();
    assert_eq!(set.len(), rows.len(), "{what}: an observation stored twice");
    let lost: Vec<_> = kept.difference(&set).take(5).collect();
    assert!(
        lost.is_empty(),
        "{what}: committed observations lost: {lost:?}"
    );
    let mut per_server: BTreeMap<&str, usize> = BTreeMap::new();
    for (domain, _) in rows {
        *per_server.entry(domain).or_default() += 1;
    }
    let doubled: Vec<_> = per_server.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        doubled.is_empty(),
        "{what}: servers visited twice in one pass: {doubled:?}"
    );
    set
}

/// Discoverable servers missing from `observed` (domain, observed_at), at most ten.
fn never_observed(sim: &Sim, observed: &BTreeSet<(String, String)>) -> Vec<String> {
    let domains: BTreeSet<&str> = observed.iter().map(|(d, _)| d.as_str()).collect();
    discoverable(sim)
        .into_iter()
        .filter(|d| !domains.contains(d.as_str()))
        .take(10)
        .collect()
}

/// The final, uninterrupted crawl: it finishes, and then every discoverable server has its one
/// observation.
fn finish_and_check(sim: &Sim, db: &Path, now: DateTime<Utc>, kept: &BTreeSet<(String, String)>) {
    let output = crawl(sim, &sqlite_url(db), now)
        .output()
        .expect("the last crawl runs");
    assert!(
        output.status.success(),
        "the resumed crawl failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let all = assert_consistent("after the resumed crawl", db, kept);
    let missing = never_observed(sim, &all);
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
        // One request slot (16 visits in flight at most): the crawler's own visit limit grows
        // to what the machine sustains, and with the default slots a whole pass of this world
        // takes about 3 s, shorter than most kill moments; one slot makes the pass last long
        // enough to be killed twenty times.
        let mut child = crawl(&sim, &url, now)
            .env("FEDICENSUS__CRAWLER__CONCURRENCY", "1")
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
    let mut child = crawl(&sim, &url, at())
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

    let crawl = crawl(&sim, &url, at() + TimeDelta::seconds(30));
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

/// A PostgreSQL server of the test's own: `initdb` into a temporary directory and `postgres` on
/// a free port, so that it can be killed without disturbing the shared server other tests use.
/// As root it runs as the `postgres` user (`initdb` and `postgres` refuse root). Killed and
/// removed when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
    /// The process started (`postgres`, or `runuser` with `postgres` as its child).
    server: Option<Child>,
}

impl PrivatePostgres {
    /// Creates the cluster; `None`, with a printed `skipped:`, where that cannot be done here.
    fn create(test: &str) -> Option<PrivatePostgres> {
        // The newest installed version: /usr/lib/postgresql/VERSION/bin.
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|version| version.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists() && bin.join("postgres").exists())
            .max_by_key(|bin| {
                let version = bin.parent().and_then(Path::file_name);
                let version = version.map(|v| v.to_string_lossy().into_owned());
                version.and_then(|v| v.split('.').next()?.parse::<u32>().ok())
            });
        let Some(bin) = bin else {
            crate::skipped(&format!(
                "{test}: no PostgreSQL server in /usr/lib/postgresql/*/bin"
            ));
            return None;
        };
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
        let dir =
            std::env::temp_dir().join(format!("fedicensus-e2e-private-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        if root {
            let chown = Command::new("chown").arg("postgres:").arg(&dir).status();
            if !chown.is_ok_and(|s| s.success()) {
                crate::skipped(&format!(
                    "{test}: running as root and no `postgres` user to run as"
                ));
                let _ = std::fs::remove_dir_all(&dir);
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let pg = PrivatePostgres {
            bin,
            dir,
            port,
            as_postgres_user: root,
            server: None,
        };
        let initdb = pg
            .command("initdb")
            .arg("-D")
            .arg(pg.dir.join("data"))
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .output();
        match initdb {
            Ok(out) if out.status.success() => Some(pg),
            Ok(out) => {
                println!(
                    "skipped: {test}: initdb failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                None
            }
            Err(err) => {
                crate::skipped(&format!("{test}: initdb could not run: {err}"));
                None
            }
        }
    }

    /// One of the server's programs, run as the `postgres` user when we are root.
    fn command(&self, program: &str) -> Command {
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join(program));
            command
        } else {
            Command::new(self.bin.join(program))
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Starts the server on the cluster (recovering it after a crash) and waits until it
    /// accepts connections.
    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .expect("a log file");
        let server = self
            .command("postgres")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        self.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            let server = self.server.as_mut().expect("started");
            if let Some(status) = server.try_wait().expect("waitable") {
                panic!("PostgreSQL stopped ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start in 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL to the postmaster and every process it started, as in a crash: no shutdown, no
    /// checkpoint; the next start recovers from the write-ahead log.
    fn kill_9(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let pid_file = std::fs::read_to_string(self.dir.join("data/postmaster.pid"));
        let postmaster = pid_file
            .ok()
            .and_then(|f| f.lines().next()?.trim().parse::<u32>().ok());
        let mut pids: Vec<u32> = postmaster.into_iter().collect();
        if let Some(postmaster) = postmaster {
            pids.extend(children_of(postmaster));
        }
        pids.push(server.id());
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = server.wait();
        // The server's processes hold its shared memory until they are gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while pids.iter().any(|pid| running(*pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.kill_9();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The processes whose parent is `parent`, from /proc.
fn children_of(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid ...: the command name may hold spaces and parentheses.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(parent) {
            children.push(pid);
        }
    }
    children
}

/// Whether `pid` is a live process (a zombie is not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

/// Every observation in a PostgreSQL census as (domain, observed_at), and the leases still
/// held and runs not finished, read with plain SQL.
fn postgres_census(url: &str) -> (Vec<(String, String)>, i64, i64) {
    block_on(async {
        let pool = sqlx::PgPool::connect(url)
            .await
            .expect("PostgreSQL answers");
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT s.domain, o.observed_at::text FROM observations o \
             JOIN servers s ON s.id = o.server_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
        let leased: i64 =
            sqlx::query_scalar("SELECT count(*) FROM servers WHERE lease_owner IS NOT NULL")
                .fetch_one(&pool)
                .await
                .unwrap_or(-1);
        let unfinished: i64 =
            sqlx::query_scalar("SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL")
                .fetch_one(&pool)
                .await
                .unwrap_or(-1);
        pool.close().await;
        (rows, leased, unfinished)
    })
}

/// How long PostgreSQL stays down under the crawl: longer than the connection pool waits for a
/// connection (sqlx's 30 s acquire timeout), so the crawl's own waiting is what carries it
/// through; a shorter outage is absorbed by the pool alone.
const POSTGRES_DOWN: Duration = Duration::from_secs(35);

#[test]
fn postgresql_killed_under_a_running_crawl_is_waited_for_and_nothing_is_lost() {
    let Some(mut pg) = PrivatePostgres::create("PostgreSQL killed under a crawl") else {
        return;
    };
    pg.start();
    let url = pg.url();
    let sim = Sim::start("pg-restart", 600);
    let began = Instant::now();
    let mut crawler = crawl(&sim, &url, at())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the crawl starts");

    // Mid-crawl: once some visits are committed, and while the crawl goes on.
    let mut before = Vec::new();
    while before.len() < 60 {
        assert!(
            crawler.try_wait().expect("waitable").is_none(),
            "the crawl ended before PostgreSQL could be killed"
        );
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "no visits committed in 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(100));
        before = postgres_census(&url).0;
    }
    pg.kill_9();
    let killed_at = began.elapsed();
    let kept = assert_each_once("before the kill", &before, &BTreeSet::new());

    std::thread::sleep(POSTGRES_DOWN);
    if let Some(status) = crawler.try_wait().expect("waitable") {
        let output = crawler.wait_with_output().expect("the output");
        panic!(
            "the crawl ended ({status}) while PostgreSQL was down:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    pg.start();
    let restarted_at = began.elapsed();
    let output = crawler.wait_with_output().expect("the crawl ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the crawl failed ({}) after PostgreSQL came back:\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("the database cannot be reached")
            && stderr.contains("the database is back"),
        "the crawl never noticed that PostgreSQL was gone:\n{stderr}"
    );

    let (after, leased, unfinished) = postgres_census(&url);
    let all = assert_each_once("after the crawl resumed", &after, &kept);
    let missing = never_observed(&sim, &all);
    assert!(missing.is_empty(), "never observed: {missing:?}");
    assert_eq!(leased, 0, "leases still held after the pass");
    assert_eq!(unfinished, 0, "a crawl run left unfinished");
    println!(
        "PostgreSQL killed {killed_at:.1?} into the crawl with {} observations committed, \
         back {restarted_at:.1?} in; the crawl finished at {:.1?} with {} observations, \
         0 lost, 0 doubled",
        kept.len(),
        began.elapsed(),
        all.len()
    );
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

/// `fedicensus export --format parquet`: the same files as CSV under the same stems, each a
/// Parquet file (magic bytes at both ends) with the CSV's row count, listed in the manifest with
/// its true size and SHA-256. A format it does not know is a usage error (exit 2) that says
/// which formats it accepts. (The values inside are checked against CSV by the storage tests,
/// which read the files back with the `parquet` crate.)
#[test]
fn an_export_as_parquet_lists_each_file_with_its_hash_and_the_rows_of_its_csv() {
    let dir = std::env::temp_dir().join(format!(
        "fedicensus-e2e-export-parquet-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = dir.join("census.db");
    fill(&sqlite_url(&db), 20, 5);
    let manifest = |out: &Path| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(out.join("manifest.json")).expect("a manifest"),
        )
        .expect("JSON")
    };

    let (csv, parquet) = (dir.join("csv"), dir.join("parquet"));
    for (out, format) in [(&csv, "csv"), (&parquet, "parquet")] {
        let output = export(&db, out)
            .args(["--format", format])
            .output()
            .expect("export runs");
        assert!(
            output.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (csv_files, parquet_files) = (manifest(&csv), manifest(&parquet));
    let csv_files = csv_files["files"].as_array().expect("a file list");
    let parquet_files = parquet_files["files"].as_array().expect("a file list");
    assert_eq!(parquet_files.len(), csv_files.len());
    assert!(parquet_files.len() >= 16);
    for (p, c) in parquet_files.iter().zip(csv_files) {
        let name = p["name"].as_str().expect("a name");
        assert_eq!(
            name.strip_suffix(".parquet"),
            c["name"].as_str().and_then(|n| n.strip_suffix(".csv")),
            "one stem per export"
        );
        let bytes = std::fs::read(parquet.join(name)).expect("the listed file exists");
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{name} is Parquet"
        );
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(p["sha256"], sha, "{name}");
        assert_eq!(p["bytes"], bytes.len() as u64, "{name}");
        assert_eq!(p["rows"], c["rows"], "{name}: the rows of the CSV");
    }
    let observations = parquet_files
        .iter()
        .find(|f| f["name"] == "observations.parquet")
        .expect("observations exported");
    assert_eq!(observations["rows"], 20 * 5);
    assert!(listing(&parquet).keys().all(|n| !n.ends_with(".csv")));

    let output = export(&db, &dir.join("bad"))
        .args(["--format", "xlsx"])
        .output()
        .expect("export runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("csv") && stderr.contains("parquet"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
