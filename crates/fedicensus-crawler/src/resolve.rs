//! Name resolution with the address policy applied, for the crawler and for reqwest.
//!
//! The crawler resolves names itself (hickory-resolver, with a cache) rather than through the
//! system's `getaddrinfo`, for three reasons: the simulator needs its own DNS server; NXDOMAIN
//! must be told apart from a failing resolver (they are different outcomes); and the address
//! policy must see every address **before** any connection, including those of redirects. The
//! same [`Resolver`] is installed in reqwest ([`PolicyResolver`]), so no connection can bypass
//! the policy, and the port override (every connection to the simulator's one port) lives here
//! too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use fedicensus_core::Outcome;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::TokioResolver;

use crate::address::AddressPolicy;
use crate::config::NetworkConfig;
use crate::error::{Error, Result};

/// How long one DNS query may take before it is retried.
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a name gave no address the crawler may use.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// NXDOMAIN, or the name exists without an address record.
    #[error("{host}: no such domain (or no address)")]
    NoSuchDomain { host: String },
    /// The name resolves to an address the policy forbids (private, loopback, ...).
    #[error("{host} resolves to {ip}, which the address policy forbids")]
    Forbidden { host: String, ip: IpAddr },
    /// The resolver did not answer in time.
    #[error("{host}: DNS lookup timed out")]
    Timeout { host: String },
    /// Any other resolver failure (SERVFAIL, REFUSED, no name server reachable).
    #[error("{host}: DNS lookup failed")]
    Failed {
        host: String,
        #[source]
        source: NetError,
    },
}

impl ResolveError {
    /// The outcome a visit records for this failure. A name whose servers fail (SERVFAIL) does
    /// not resolve either; only a timeout is told apart, because it may pass.
    pub fn outcome(&self) -> Outcome {
        match self {
            ResolveError::NoSuchDomain { .. } | ResolveError::Failed { .. } => {
                Outcome::NoSuchDomain
            }
            ResolveError::Forbidden { .. } => Outcome::ForbiddenAddress,
            ResolveError::Timeout { .. } => Outcome::Timeout,
        }
    }
}

/// A caching resolver that hands out only addresses the policy permits.
#[derive(Debug, Clone)]
pub struct Resolver {
    inner: TokioResolver,
    policy: AddressPolicy,
    port: Option<u16>,
}

impl Resolver {
    /// A resolver for `network`: its name server (else the system's), its allow-list and its
    /// port override.
    pub fn new(network: &NetworkConfig) -> Result<Resolver> {
        let mut builder = match network.nameserver {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                let config = ResolverConfig::from_name_servers(vec![server]);
                TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            }
            None => TokioResolver::builder_tokio().map_err(Error::Resolver)?,
        };
        let options = builder.options_mut();
        options.timeout = DEFAULT_DNS_TIMEOUT;
        options.attempts = 2;
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        options.cache_size = 32_768;
        options.max_active_requests = 1024;
        options.try_tcp_on_error = true;
        if network.nameserver.is_some() {
            // A chosen name server is the whole truth: the machine's hosts file must not add to
            // it (it would, for `localhost`).
            options.use_hosts_file = ResolveHosts::Never;
        }
        let inner = builder.build().map_err(Error::Resolver)?;
        Ok(Resolver {
            inner,
            policy: if network.only_allowed_addresses {
                AddressPolicy::only(network.allow_addresses.iter().copied())
            } else {
                AddressPolicy::allowing(network.allow_addresses.iter().copied())
            },
            port: network.port,
        })
    }

    /// The policy it applies.
    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// The port every connection goes to, if overridden.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The addresses of `host`, all permitted by the policy. A name with any forbidden address
    /// is refused as a whole: a name that mixes public and private addresses is either
    /// misconfigured or probing.
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            return self.check(host, vec![ip]);
        }
        // A trailing dot makes the name absolute, so the system's search domains are not tried.
        let absolute = format!("{}.", host.trim_end_matches('.'));
        let lookup = match self.inner.lookup_ip(absolute.as_str()).await {
            Ok(lookup) => lookup,
            Err(err) if err.is_nx_domain() || err.is_no_records_found() => {
                return Err(ResolveError::NoSuchDomain { host: host.into() })
            }
            Err(NetError::Timeout) => return Err(ResolveError::Timeout { host: host.into() }),
            Err(source) => {
                return Err(ResolveError::Failed {
                    host: host.into(),
                    source,
                })
            }
        };
        let ips: Vec<IpAddr> = lookup.iter().collect();
        self.check(host, ips)
    }

    fn check(&self, host: &str, ips: Vec<IpAddr>) -> Result<Vec<IpAddr>, ResolveError> {
        if ips.is_empty() {
            return Err(ResolveError::NoSuchDomain { host: host.into() });
        }
        if let Some(ip) = ips.iter().find(|ip| !self.policy.permits(**ip)) {
            return Err(ResolveError::Forbidden {
                host: host.into(),
                ip: *ip,
            });
        }
        Ok(ips)
    }
}

/// The [`Resolver`] as reqwest's resolver: the policy and the port override apply to every
/// connection reqwest opens.
#[derive(Debug, Clone)]
pub struct PolicyResolver(pub Arc<Resolver>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips = resolver.lookup(&host).await?;
            // Port 0 lets reqwest use the URL's port (or the scheme's); an override wins.
            let port = resolver.port.unwrap_or(0);
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(move |ip| SocketAddr::new(ip, port)));
            Ok(addrs)
        })
    }
}
