//! Command-line flags that point the crawler at a network other than the internet: the
//! simulator's DNS server, its one port, its CA and the loopback addresses it uses. A real crawl
//! gives none of them.

use anyhow::{Context, Result};
use fedicensus_crawler::NetworkConfig;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Where names resolve, which port connects and which CA is trusted (for crawling the simulator).
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Resolve names with this DNS server (`IP:PORT`, UDP then TCP), e.g. the simulator's.
    #[arg(long, value_name = "IP:PORT")]
    pub dns: Option<SocketAddr>,
    /// Connect every request to this port, whatever the scheme (the simulator's one port).
    #[arg(long)]
    pub port: Option<u16>,
    /// Also trust the CA certificate in this PEM file (the simulator's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Allow connecting to this address although it is private or loopback (repeatable; the
    /// simulator's are 127.0.0.1 and 127.0.0.2).
    #[arg(long = "allow-address", value_name = "IP")]
    pub allow_address: Vec<IpAddr>,
}

impl NetworkArgs {
    /// Applies the flags to the crawler's network settings.
    pub fn apply(&self, network: &mut NetworkConfig) -> Result<()> {
        network.nameserver = self.dns;
        network.port = self.port;
        network.allow_addresses = self.allow_address.clone();
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading the CA certificate {}", path.display()))?;
            network.extra_ca_pem = Some(pem);
        }
        Ok(())
    }
}
