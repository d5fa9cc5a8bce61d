//! What the end-to-end tests share: `fedicensus simulate` started as a process ([`Sim`]) and a
//! crawl pointed at it, a dashboard served from a database ([`Served`]), and small HTTP, process
//! and database helpers. One copy of each, so that the crawl, fault, simulator and dashboard tests
//! start things the same way.

use crate::fedicensus;
use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_sim::{Adversaries, FailureMix, LatencyModel, Scenario, World, WorldConfig};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Instant;

/// The simulated date every crawl test crawls "as of".
pub const AT: &str = "2022-11-15";
/// The seed of the simulated world.
pub const WORLD_SEED: u64 = 7;
/// Where discovery starts.
pub const SEEDS: [&str; 2] = ["mastodon.social", "pawoo.net"];
/// The crawler's politeness interval in these tests (short, so a test stays fast).
pub const MIN_INTERVAL_MS: i64 = 20;

/// [`AT`] at midnight UTC.
pub fn at() -> DateTime<Utc> {
    NaiveDate::parse_from_str(AT, "%Y-%m-%d")
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// Reads what `fedicensus simulate` prints until it says it is serving ("Press Ctrl-C"), and
/// returns it.
pub fn wait_until_serving(stdout: ChildStdout) -> String {
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    printed
}

/// The word printed right after `marker`, if any.
pub fn printed_after(printed: &str, marker: &str) -> Option<String> {
    printed
        .split(marker)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

/// A running `fedicensus simulate` (the `migration-2022` world of [`WORLD_SEED`], no latency)
/// on free loopback ports, in its own temporary directory; killed when dropped.
pub struct Sim {
    child: Child,
    pub port: u16,
    pub dns: String,
    pub ca: PathBuf,
    pub dir: PathBuf,
    pub servers: u32,
    /// Whether the world has the parties that try to inflate the census (`--adversaries`).
    pub adversaries: bool,
    /// When the simulator's clock read [`AT`] (it then runs at wall-clock speed).
    pub started: Instant,
}

impl Sim {
    /// Starts a world of `servers` servers; `name` keeps the test's directory apart.
    pub fn start(name: &str, servers: u32) -> Sim {
        Sim::start_world(name, servers, false)
    }

    /// [`Sim::start`] of the world with the adversaries of `fedicensus simulate --adversaries`.
    pub fn start_with_adversaries(name: &str, servers: u32) -> Sim {
        Sim::start_world(name, servers, true)
    }

    fn start_world(name: &str, servers: u32, adversaries: bool) -> Sim {
        let dir =
            std::env::temp_dir().join(format!("fedicensus-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let ca = dir.join("ca.pem");
        let mut child = fedicensus()
            .args(["simulate", "--servers", &servers.to_string()])
            .args(["--seed", &WORLD_SEED.to_string(), "--latency-ms", "0"])
            .args(["--at", AT, "--listen", "127.0.0.1:0", "--ca-file"])
            .arg(&ca)
            .args(adversaries.then_some("--adversaries"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the simulator starts");
        let printed = wait_until_serving(child.stdout.take().expect("piped stdout"));
        // The simulator's clock started just before it printed how to connect.
        let started = Instant::now();
        let port: u16 = printed_after(&printed, "HTTP and HTTPS   port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in:\n{printed}"));
        let dns = printed_after(&printed, "DNS server       ")
            .unwrap_or_else(|| panic!("no DNS in:\n{printed}"));
        Sim {
            child,
            port,
            dns,
            ca,
            dir,
            servers,
            adversaries,
            started,
        }
    }

    /// The world the simulator serves, rebuilt in-process.
    pub fn world(&self) -> World {
        World::generate(WorldConfig {
            servers: Some(self.servers as usize),
            failures: FailureMix {
                adversaries: if self.adversaries {
                    Adversaries::standard()
                } else {
                    Adversaries::NONE
                },
                ..FailureMix::default()
            },
            latency: LatencyModel::ZERO,
            ..WorldConfig::new(Scenario::Migration2022, WORLD_SEED)
        })
    }

    /// A file in the test's directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// `fedicensus crawl --once` of this world into `database`, the crawler's clock starting at
    /// `now`, with test timeouts.
    pub fn crawl_at(&self, database: &str, now: &str) -> Command {
        self.crawl_with(database, now, &["--once"])
    }

    /// [`Sim::crawl_at`] with `how` (`--once`, or `--every DURATION`) instead of `--once`.
    pub fn crawl_with(&self, database: &str, now: &str, how: &[&str]) -> Command {
        let mut command = fedicensus();
        command
            .env(
                "FEDICENSUS__CRAWLER__MIN_INTERVAL",
                format!("{MIN_INTERVAL_MS}ms"),
            )
            .env("FEDICENSUS__CRAWLER__REQUEST_TIMEOUT", "2s")
            .env("FEDICENSUS__CRAWLER__VISIT_TIMEOUT", "10s")
            .env("FEDICENSUS__CRAWLER__CONNECT_TIMEOUT", "2s")
            .env_remove("RUST_LOG")
            .current_dir(&self.dir)
            .arg("crawl")
            .args(how)
            .args(["--db", database])
            .args(["--dns", &self.dns, "--port", &self.port.to_string()])
            .arg("--ca-file")
            .arg(&self.ca)
            .args([
                "--allow-address",
                "127.0.0.1",
                "--allow-address",
                "127.0.0.2",
            ])
            .args(["--now", now])
            .args(["--contact-url", "https://example.invalid/fedicensus"]);
        for seed in SEEDS {
            command.args(["--seed", seed]);
        }
        command
    }

    /// A GET to the simulator's control host; the body.
    pub fn control(&self, path: &str) -> String {
        self.get("sim.control", path)
    }

    /// A plain-HTTP GET to one of the simulator's hosts; the body of a 200.
    pub fn get(&self, host: &str, path: &str) -> String {
        let answer = simulator_get(self.port, host, path);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{host}{path}: {answer:.300}"
        );
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        if answer
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A plain-HTTP GET to `host` on the simulator listening on `port`; the whole answer, head and
/// body.
pub fn simulator_get(port: u16, host: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    answer
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The URL of a SQLite file, created when missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Runs a future to completion on a runtime of its own.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// Sends SIGKILL: the process gets no chance to clean up.
pub fn kill_9(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -9 {} failed", child.id());
    child.wait().expect("the killed process is reaped");
}

/// `PRAGMA integrity_check` of a SQLite file, through sqlx.
pub fn sqlite_integrity(path: &Path) -> String {
    block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("the database opens");
        let result: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .expect("the check runs");
        pool.close().await;
        result
    })
}

/// A running `fedicensus serve` of one database on a free loopback port; stopped when dropped.
pub struct Served {
    child: Child,
    /// host:port it listens on.
    pub addr: String,
}

impl Served {
    /// Serves `db` and waits until the dashboard says where it listens.
    pub fn start(db: &Path) -> Served {
        let mut child = fedicensus()
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("serve prints its URL");
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .expect("a URL")
            .trim_end_matches('/')
            .to_owned();
        Served { child, addr }
    }
}

/// GET over HTTP/1.0 (so the body is neither chunked nor kept alive) from `addr` (host:port);
/// the body of a 200.
pub fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("the dashboard accepts connections");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{path}: {head}"
    );
    body.to_owned()
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Mastodon daily series CSV from a served dashboard, from 2022-09-01 to `until`, as
/// date -> value (days without a value left out).
pub fn mastodon_series(
    addr: &str,
    until: &str,
    metric: &str,
) -> std::collections::BTreeMap<chrono::NaiveDate, f64> {
    let body = http_get(
        addr,
        &format!(
            "/api/v1/series/{metric}?software=mastodon&from=2022-09-01&to={until}\
             &granularity=day&format=csv"
        ),
    );
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("a CSV row"))
        .filter(|r| !r[1].is_empty())
        .map(|r| {
            let date = r[0].parse().expect("a date");
            (date, r[1].parse::<f64>().expect("a number"))
        })
        .collect()
}
