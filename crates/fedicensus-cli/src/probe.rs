//! `fedicensus probe HOST`: one visit, shown request by request.
//!
//! For an operator asking "what does fedicensus see of my server?" and for a developer pointing
//! the crawler at the simulator: it runs the crawler's real visit (robots.txt, NodeInfo, the
//! family documents, the same limits and politeness) and prints every request with its status,
//! size and time, then the outcome and everything extracted. `--dns`, `--port`, `--ca-file` and
//! `--allow-address` point it at the simulator (`fedicensus simulate` prints the values).

use anyhow::{Context, Result};
use fedicensus_core::Host;
use fedicensus_crawler::config::EXAMPLE_CONTACT_URL;
use fedicensus_crawler::{Crawler, CrawlerConfig};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Visit one server and print what the crawler sees.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's host name (a URL or `host:port` is reduced to its name).
    pub host: String,
    /// The page that explains the crawler, sent in the User-Agent.
    #[arg(long, default_value = EXAMPLE_CONTACT_URL)]
    pub contact_url: String,
    /// Resolve names with this DNS server (`IP:PORT`, UDP then TCP), e.g. the simulator's.
    #[arg(long, value_name = "IP:PORT")]
    pub dns: Option<SocketAddr>,
    /// Connect every request to this port, whatever the scheme (the simulator's one port).
    #[arg(long)]
    pub port: Option<u16>,
    /// Also trust the CA certificate in this PEM file (the simulator's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Allow connecting to this address although it is private or loopback (repeatable).
    #[arg(long = "allow-address", value_name = "IP")]
    pub allow_address: Vec<IpAddr>,
    /// Do not fetch the peer list.
    #[arg(long)]
    pub no_peers: bool,
    /// Give up on one request after this many seconds.
    #[arg(long, default_value_t = 15)]
    pub timeout: u64,
}

/// Runs the probe.
pub fn run(args: Args) -> Result<()> {
    let host = Host::parse(&args.host).map_err(|e| {
        anyhow::anyhow!(
            "{:?} is not a server name ({e}); give a name such as mastodon.social",
            args.host
        )
    })?;
    let mut config = CrawlerConfig::new(args.contact_url);
    config.network.nameserver = args.dns;
    config.network.port = args.port;
    config.network.allow_addresses = args.allow_address;
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("reading the CA certificate {}", path.display()))?;
        config.network.extra_ca_pem = Some(pem);
    }
    config.fetch_peers = !args.no_peers;
    config.request_timeout = Duration::from_secs(args.timeout.max(1));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let crawler = Crawler::new(config).context("setting up the crawler")?;
        let report = crawler.visit_with_log(&host).await;
        for r in &report.requests {
            let status = r
                .status
                .map_or_else(|| "---".to_string(), |s| s.to_string());
            outln!(
                "{:<4} {:<60} {status:>3} {:>9} B {:>7.1} ms{}",
                r.method,
                r.url,
                r.bytes,
                r.elapsed.as_secs_f64() * 1000.0,
                r.error
                    .as_deref()
                    .map(|e| format!("  ({e})"))
                    .unwrap_or_default()
            )?;
        }
        let obs = &report.observation;
        outln!()?;
        outln!("outcome:   {} ({} ms)", obs.outcome, obs.duration_ms)?;
        if let Some(to) = &obs.moved_to {
            outln!("moved to:  {to}")?;
        }
        if let Some(until) = report.postponed_until {
            outln!("postponed: until {until}")?;
        }
        if let Some(software) = &obs.software {
            outln!(
                "software:  {} (name {:?}, version {:?}, normalised {})",
                software.family,
                software.raw_name,
                software.raw_version,
                software.version.as_deref().unwrap_or("-")
            )?;
        }
        if let Some(version) = &obs.nodeinfo_version {
            outln!("nodeinfo:  {version}")?;
        }
        if let Some(open) = obs.open_registrations {
            outln!("open registrations: {open}")?;
        }
        for m in &obs.measurements {
            outln!(
                "  {:<22} {:>12}  from {}",
                m.metric.as_str(),
                m.value,
                m.source.as_str()
            )?;
        }
        if !obs.activity.is_empty() {
            outln!("activity:  {} weeks", obs.activity.len())?;
        }
        if let Some(peers) = &obs.peers {
            outln!("peers:     {} valid names", peers.len())?;
        }
        outln!(
            "flags:     private={} noindex={} limited_federation={} peers_hidden={}",
            obs.flags.private,
            obs.flags.noindex,
            obs.flags.limited_federation,
            obs.flags.peers_hidden
        )?;
        Ok(())
    })
}
