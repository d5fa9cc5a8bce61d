//! Where each simulated server is hosted: its address, hosting network and country, and the
//! MaxMind-format databases that say so, so a crawl of the simulator can place servers on a map
//! through the crawler's production path (resolve the name, look the address up).
//!
//! Off by default ([`crate::serve::ServeConfig::hosting`]): every live name then resolves to the
//! simulator's one listen address, as it always has. On, a live name resolves to an address of
//! its server's network in `127.16.0.0/16` (network *i* is `127.16.i.0/24`), the simulator listens
//! on each address used (fewer than 256, each shared by many servers, as real hosting is), and
//! [`country_database`] and [`asn_database`] map each network to its country and autonomous
//! system as GeoLite2's files do. One network is in neither database, as some ranges are in real
//! ones: its servers' country is unknown.
//!
//! The shares are **an assumption** (FIELD.md has no hosting figures): most servers on a few
//! European and American hosting companies, Hetzner (in Germany and Finland) the largest, OVH,
//! DigitalOcean, Amazon and Cloudflare next, the Japanese servers on Sakura and GMO, some at home.
//! The network is a function of the world's seed and the server's domain (a hash, not the world's
//! random stream), so hosting changes no other trait of any server and no earlier truth.

use crate::endpoints::trait_hash;
use crate::world::{Resolution, Server, World};
use ipnet::{IpNet, Ipv4Net};
use mmdb_writer::Writer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

/// One simulated hosting network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    pub asn: u32,
    pub organization: &'static str,
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    /// Per cent of servers hosted there (assumed).
    pub percent: u64,
    /// How many addresses its servers share.
    pub addresses: u8,
    /// Whether the databases know the network (`false`: country and network unknown).
    pub in_databases: bool,
}

const fn net(
    asn: u32,
    organization: &'static str,
    country: &'static str,
    percent: u64,
    addresses: u8,
) -> Network {
    Network {
        asn,
        organization,
        country,
        percent,
        addresses,
        in_databases: true,
    }
}

/// The networks, in order: network `i` is `127.16.i.0/24`. The percentages add up to 100.
pub const NETWORKS: &[Network] = &[
    net(24940, "Hetzner Online GmbH", "DE", 22, 48),
    net(24940, "Hetzner Online GmbH", "FI", 6, 14),
    net(16276, "OVH SAS", "FR", 11, 24),
    net(14061, "DigitalOcean, LLC", "US", 9, 20),
    net(16509, "Amazon.com, Inc.", "US", 7, 16),
    net(13335, "Cloudflare, Inc.", "US", 6, 12),
    net(63949, "Akamai Connected Cloud", "US", 5, 12),
    net(51167, "Contabo GmbH", "DE", 5, 12),
    net(197540, "netcup GmbH", "DE", 4, 10),
    net(9371, "SAKURA Internet Inc.", "JP", 6, 14),
    net(7506, "GMO Internet Group, Inc.", "JP", 3, 8),
    net(12876, "Scaleway S.A.S.", "FR", 3, 8),
    net(3320, "Deutsche Telekom AG", "DE", 3, 8),
    net(20857, "TransIP B.V.", "NL", 3, 8),
    net(44684, "Mythic Beasts Ltd", "GB", 2, 6),
    net(16276, "OVH Hosting, Inc.", "CA", 2, 6),
    Network {
        asn: 64_512,
        organization: "(not in the databases)",
        country: "",
        percent: 3,
        addresses: 6,
        in_databases: false,
    },
];

/// Where one server is hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosting {
    /// Index into [`NETWORKS`].
    pub network: usize,
    pub address: Ipv4Addr,
}

impl Hosting {
    /// Its network.
    pub fn network(&self) -> &'static Network {
        &NETWORKS[self.network]
    }

    /// The country the databases give its address, if they know it.
    pub fn country(&self) -> Option<&'static str> {
        let n = self.network();
        n.in_databases.then_some(n.country)
    }

    /// The autonomous system the databases give its address, if they know it.
    pub fn asn(&self) -> Option<u32> {
        let n = self.network();
        n.in_databases.then_some(n.asn)
    }
}

/// The `/24` of network `i`.
fn range(i: usize) -> Ipv4Net {
    let octet = u8::try_from(i).unwrap_or(u8::MAX);
    Ipv4Net::new(Ipv4Addr::new(127, 16, octet, 0), 24).unwrap_or_default()
}

/// Where `server` is hosted (the same at every date).
pub fn hosting(world: &World, server: &Server) -> Hosting {
    let seed = world.config().seed;
    let roll = trait_hash(seed, &server.domain, "hosting") % 100;
    let mut upto = 0;
    let network = NETWORKS
        .iter()
        .position(|n| {
            upto += n.percent;
            roll < upto
        })
        .unwrap_or(0);
    let n = &NETWORKS[network];
    let host = trait_hash(seed, &server.domain, "hosting address") % u64::from(n.addresses.max(1));
    let [a, b, c, _] = range(network).network().octets();
    Hosting {
        network,
        address: Ipv4Addr::new(a, b, c, 1 + host as u8),
    }
}

/// How `name` resolves at `at`: as [`World::resolve`] says, except that a name resolving to the
/// simulator's `listen` address resolves to its server's hosting address when `hosting` is on.
pub fn resolve(
    world: &World,
    name: &str,
    at: chrono::DateTime<chrono::Utc>,
    listen: IpAddr,
    hosting_on: bool,
) -> Resolution {
    match world.resolve(name, at, listen) {
        Resolution::Address(ip) if hosting_on && ip == listen => {
            let normalised = name.trim_end_matches('.').to_ascii_lowercase();
            match world.lookup(&normalised) {
                Some(server) => Resolution::Address(IpAddr::V4(hosting(world, server).address)),
                None => Resolution::Address(ip),
            }
        }
        other => other,
    }
}

/// Every address a server may resolve to, once each (what the simulator listens on).
pub fn addresses() -> Vec<IpAddr> {
    NETWORKS
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            let [a, b, c, _] = range(i).network().octets();
            (1..=n.addresses).map(move |d| IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
        })
        .collect()
}

#[derive(Serialize)]
struct CountryRecord {
    country: CountryField,
    registered_country: CountryField,
}

#[derive(Serialize)]
struct CountryField {
    iso_code: &'static str,
    names: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct AsnRecord {
    autonomous_system_number: u32,
    autonomous_system_organization: &'static str,
}

/// Why a database could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing the simulated geolocation database: {0}")]
pub struct DatabaseError(#[from] mmdb_writer::Error);

/// A fixed build date, so the files are the same at every run (2022-09-01).
fn built() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_661_990_400)
}

fn write<T: Serialize>(
    database_type: &str,
    record: impl Fn(&Network) -> T,
) -> Result<Vec<u8>, DatabaseError> {
    let mut writer = Writer::builder(database_type)
        .description(&[("en", "fedicensus simulator: the simulated hosting networks")])
        .build_epoch(built())
        .build();
    for (i, n) in NETWORKS.iter().enumerate() {
        if n.in_databases {
            writer.insert(IpNet::V4(range(i)), &record(n))?;
        }
    }
    Ok(writer.to_bytes()?)
}

/// The country database (GeoLite2-Country's fields: `country.iso_code`, `registered_country`).
pub fn country_database() -> Result<Vec<u8>, DatabaseError> {
    write("fedicensus-sim-Country", |n| {
        let field = || CountryField {
            iso_code: n.country,
            names: BTreeMap::from([("en", n.country)]),
        };
        CountryRecord {
            country: field(),
            registered_country: field(),
        }
    })
}

/// The ASN database (GeoLite2-ASN's fields).
pub fn asn_database() -> Result<Vec<u8>, DatabaseError> {
    write("fedicensus-sim-ASN", |n| AsnRecord {
        autonomous_system_number: n.asn,
        autonomous_system_organization: n.organization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shares_add_up_and_the_addresses_fit() {
        assert_eq!(NETWORKS.iter().map(|n| n.percent).sum::<u64>(), 100);
        let all = addresses();
        assert!(all.len() <= 256, "{} addresses", all.len());
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn the_databases_are_written() {
        assert!(country_database().is_ok_and(|b| !b.is_empty()));
        assert!(asn_database().is_ok_and(|b| !b.is_empty()));
    }
}
