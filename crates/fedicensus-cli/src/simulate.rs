//! `fedicensus simulate`: serve a simulated fediverse on loopback, or print its ground truth.
//!
//! This is how people and scripts get a fediverse to crawl on a machine without internet: the
//! command prints where its DNS server and its one HTTP+HTTPS port listen and where the CA
//! certificate is, which is all a crawler needs to be pointed at it.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use fedicensus_sim::serve::{self, ServeConfig};
use fedicensus_sim::{
    Adversaries, FailureMix, LatencyModel, Scenario, SimClock, World, WorldConfig,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Serve a simulated fediverse on loopback, or print its ground truth.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fedicensus simulate --scenario migration-2022 --seed 7 --at 2022-11-15
      Serve the full world as it was on 15 November 2022 and print how to crawl it.
  fedicensus simulate --scenario lemmy-2023 --seed 7 --at 2023-07-15
      The Lemmy growth of June 2023, two weeks after Reddit's API change.
  fedicensus simulate --servers 500 --listen 127.0.0.1:8443 --dns-port 5353 --ca-file ca.pem
      A small world on fixed ports, with the CA certificate written to ca.pem.
  fedicensus simulate --truth 2022-11-27 > truth.csv
      Write the ground truth of that day as CSV and exit.
  fedicensus simulate --truth-blocks 2022-11-27 > blocks.csv
      Write who blocks whom by that day (severity, comment, dates) as CSV and exit.
  sudo fedicensus simulate --http-port 80 --https-port 443 --hosts-file /tmp/world.hosts
      Also listen on the standard ports, so crawlers that use the system resolver (with the
      hosts file) and port 443 can crawl the same world.")]
pub struct Args {
    /// The scenario to simulate.
    #[arg(long, default_value = "migration-2022", value_parser = parse_scenario)]
    scenario: Scenario,

    /// Seed of the world: the same seed always gives the same world.
    #[arg(long, default_value_t = 7)]
    seed: u64,

    /// Number of servers (all software, alive, dead and failing); default: the scenario's full
    /// size, at which its calibration targets hold.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    servers: Option<u32>,

    /// Simulated date to start at (YYYY-MM-DD, or an RFC 3339 time); default: the scenario's
    /// first day. The clock then runs at wall-clock speed.
    #[arg(long, value_parser = parse_instant)]
    at: Option<DateTime<Utc>>,

    /// Address of the port that answers both HTTP and HTTPS for every simulated server.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// UDP/TCP port of the simulator's DNS server (on the listen address); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    dns_port: u16,

    /// Also serve plain HTTP on this port (80 for crawlers that use standard ports).
    #[arg(long)]
    http_port: Option<u16>,

    /// Also serve HTTPS on this port (443 for crawlers that use standard ports).
    #[arg(long)]
    https_port: Option<u16>,

    /// Write the world as a hosts file (one `ADDRESS NAME` line per resolvable server).
    #[arg(long)]
    hosts_file: Option<PathBuf>,

    /// Write the simulator's CA certificate (PEM) here, for crawlers to trust.
    #[arg(long)]
    ca_file: Option<PathBuf>,

    /// Which failures and quirks servers have: `default` (the field's mix) or `none`.
    #[arg(long, default_value = "default", value_parser = ["default", "none"])]
    failures: String,

    /// Add the parties that try to inflate the census: 24 subdomains of one domain claiming 30
    /// million users each, a server whose claim jumps to 40 million on 2022-11-10, and a peer
    /// list of 2,000 invented names (the truth CSV's `adversary` column names them).
    #[arg(long)]
    adversaries: bool,

    /// Median round trip of a simulated server, in milliseconds (0 turns latency off).
    #[arg(long, default_value_t = LatencyModel::default().median_ms)]
    latency_ms: f64,

    /// Write the ground truth of this date (YYYY-MM-DD or RFC 3339) as CSV to standard output
    /// and exit, without serving.
    #[arg(long, value_parser = parse_instant, value_name = "DATE")]
    truth: Option<DateTime<Utc>>,

    /// Write who blocks whom as of this date (YYYY-MM-DD or RFC 3339) as CSV to standard output
    /// and exit: one row per block begun by then, with its severity, comment, dates and whether
    /// its list is published.
    #[arg(long, value_parser = parse_instant, value_name = "DATE")]
    truth_blocks: Option<DateTime<Utc>>,
}

pub fn run(args: Args) -> Result<()> {
    let scenario = args.scenario;
    for (flag, at) in [
        ("--at", args.at),
        ("--truth", args.truth),
        ("--truth-blocks", args.truth_blocks),
    ] {
        if let Some(at) = at {
            check_in_scenario(flag, at, scenario)?;
        }
    }
    if !(0.0..=60_000.0).contains(&args.latency_ms) || args.latency_ms.is_nan() {
        bail!(
            "--latency-ms {} is out of range: give a median round trip from 0 to 60000 milliseconds",
            args.latency_ms
        );
    }
    let config = WorldConfig {
        servers: args.servers.map(|n| n as usize),
        failures: FailureMix {
            adversaries: if args.adversaries {
                Adversaries::standard()
            } else {
                Adversaries::NONE
            },
            ..match args.failures.as_str() {
                "none" => FailureMix::none(),
                _ => FailureMix::default(),
            }
        },
        latency: if args.latency_ms == 0.0 {
            LatencyModel::ZERO
        } else {
            LatencyModel {
                median_ms: args.latency_ms,
                ..LatencyModel::default()
            }
        },
        ..WorldConfig::new(scenario, args.seed)
    };
    let world = World::generate(config);

    if let Some(at) = args.truth {
        let mut csv = Vec::new();
        fedicensus_sim::truth::write_csv(&world, at, &mut csv).context("writing the truth CSV")?;
        return crate::output::write_stdout(&csv);
    }
    if let Some(at) = args.truth_blocks {
        let mut csv = Vec::new();
        fedicensus_sim::blocks::write_csv(&world, at, &mut csv)
            .context("writing the block truth CSV")?;
        return crate::output::write_stdout(&csv);
    }

    let at = args.at.unwrap_or_else(|| midnight(scenario.start()));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve_world(world, at, &args))
}

async fn serve_world(world: World, at: DateTime<Utc>, args: &Args) -> Result<()> {
    let clock = SimClock::starting_at(at);
    let config = ServeConfig {
        listen: args.listen.ip(),
        port: args.listen.port(),
        dns_port: args.dns_port,
        http_port: args.http_port,
        https_port: args.https_port,
        ..ServeConfig::default()
    };
    let sim = serve::start(Arc::new(world), clock, config)
        .await
        .with_context(|| format!("starting the simulator on {}", args.listen))?;
    if let Some(path) = &args.ca_file {
        sim.write_ca_pem(path)
            .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
    }
    if let Some(path) = &args.hosts_file {
        sim.write_hosts_file(path)
            .with_context(|| format!("writing the hosts file {}", path.display()))?;
    }
    outln!("{}", sim.how_to_connect())?;
    outln!("Press Ctrl-C to stop.")?;
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}

fn parse_scenario(name: &str) -> Result<Scenario, String> {
    Scenario::from_name(name).ok_or_else(|| {
        let known: Vec<_> = Scenario::ALL.iter().map(|s| s.name()).collect();
        format!(
            "unknown scenario `{name}`; known scenarios: {}",
            known.join(", ")
        )
    })
}

/// Accepts `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(midnight(day));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| match missing_day(text) {
            Some(why) => why,
            None => format!(
                "`{text}` is not a date: use YYYY-MM-DD or an RFC 3339 time such as \
                 2022-11-15T12:00:00Z"
            ),
        })
}

/// Why `text`, written as YYYY-MM-DD (alone or before a time), names no day of the calendar:
/// `2022-11-31` is well formed, and telling its writer to "use YYYY-MM-DD" misleads.
pub fn missing_day(text: &str) -> Option<String> {
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (year, month, day) = (
        y.parse::<i32>().ok()?,
        m.parse::<u32>().ok()?,
        d.parse::<u32>().ok()?,
    );
    if !(1..=12).contains(&month) {
        return Some(format!(
            "`{date}` does not exist: there is no month {month}"
        ));
    }
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let days = (next - first).num_days();
    (day == 0 || i64::from(day) > days).then(|| {
        format!(
            "`{date}` does not exist: {} has {days} days",
            first.format("%B %Y")
        )
    })
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

fn check_in_scenario(flag: &str, at: DateTime<Utc>, scenario: Scenario) -> Result<()> {
    let day = at.date_naive();
    if day < scenario.start() || day > scenario.end() {
        bail!(
            "{flag} {} is outside the scenario {} ({} to {})",
            day,
            scenario.name(),
            scenario.start(),
            scenario.end()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_instant;

    #[test]
    fn a_well_formed_date_that_does_not_exist_is_told_so() {
        let error = parse_instant("2022-11-31").expect_err("November has 30 days");
        assert_eq!(
            error,
            "`2022-11-31` does not exist: November 2022 has 30 days"
        );
        assert!(parse_instant("2023-02-29").is_err_and(|e| e.contains("February 2023 has 28")));
        assert!(parse_instant("2022-13-01").is_err_and(|e| e.contains("no month 13")));
        assert!(parse_instant("2024-02-29").is_ok());
        assert!(parse_instant("yesterday").is_err_and(|e| e.contains("YYYY-MM-DD")));
    }
}
