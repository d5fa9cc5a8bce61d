//! The ground truth of a world at one moment: what a perfect census would have found.
//!
//! Tests and the CLI compare a crawl against it, so it is written from the world model alone
//! (never from what the servers serve): one CSV row per server born by the moment, with its true
//! figures, whether it was alive and reachable, and the trouble it was given; and a
//! [`TruthSummary`] of counts by software. "Reachable" is [`crate::Failure::leaves_reachable`]'s
//! definition, the one the scenario is calibrated against, on a day its robots.txt lets
//! fedicensus read NodeInfo; flood hosts are counted apart, never in the software totals.
//!
//! Adversaries ([`crate::Adversaries`], column `adversary`) are what an honest census shows of
//! them: servers that answer, so known; those claiming users they do not have are counted apart
//! from the software totals like flood hosts (their rows carry their true, small figures, never
//! their claims); the invented names of a peer list are no servers at all, so they have no row.
//!
//! How the kinds the real servers taught must be counted (issue 19):
//! * `robots_opted_out`: alive, and its robots.txt refuses fedicensus its NodeInfo on the date
//!   ([`World::robots_refuses_us`]: the robots failures, an opt-out that started inside the
//!   scenario, GoToSocial's built-in robots.txt). The server answered: it is up, never dead; it
//!   has opted out, so it is never listed by name and its figures are not counted (it is not
//!   `reachable`). Its `users`, `active_month`, ... columns still say what it truly has.
//! * `serves_peers`: a polite crawler reads a peer list from it on the date
//!   ([`World::serves_peers`]), whatever its software is called (Mitra from 1.18.0).
//! * `sibling_of`: a second local domain of a Takahē installation names its main domain. It is a
//!   server of its own with its own true figures (these columns); what it *reports* (NodeInfo
//!   before Takahē 0.10.0 and the instance API) counts the whole installation, as the main
//!   domain's does, so a census that adds both counts the installation twice.
//! * `languages`: the languages the server declares in its documents ([`crate::languages`]),
//!   space-separated in the order it lists them (the first is its primary language); empty when
//!   it declares none.
//! * `country`, `asn`: where the server is hosted ([`crate::hosting`]): what the simulator's
//!   geolocation databases say of its hosting address (empty for the network in neither
//!   database). A crawl places it there only when the simulator serves hosting addresses
//!   (`ServeConfig::hosting`, on in the demo) and the crawler has those databases.

use crate::world::{ServerId, World};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Errors writing the truth.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the truth CSV")]
    Csv(#[from] csv::Error),
    #[error("writing the truth CSV")]
    Io(#[from] std::io::Error),
}

/// The CSV header, in column order.
pub const COLUMNS: &[&str] = &[
    "domain",
    "alive",
    "reachable",
    "software",
    "version",
    "users",
    "active_month",
    "active_halfyear",
    "local_posts",
    "open_registrations",
    "failure",
    "quirks",
    "born",
    "died",
    "flood",
    "target",
    "robots_opted_out",
    "serves_peers",
    "sibling_of",
    "languages",
    "adversary",
    "country",
    "asn",
];

/// Writes one row per server born by `at` (ids in order), true figures as of `at`. `died` is
/// filled only if the server had died by `at`.
pub fn write_csv<W: std::io::Write>(world: &World, at: DateTime<Utc>, out: W) -> Result<(), Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;
    for server in world.servers() {
        if !world.is_born(server.id, at) {
            continue;
        }
        let state = world.state(server.id, at);
        let f = state.figures;
        let died = match server.died {
            Some(d) if world.is_dead(server.id, at) => d.to_string(),
            _ => String::new(),
        };
        let target = server
            .target
            .map(|t| world.server(t).domain.clone())
            .unwrap_or_default();
        let hosted = crate::hosting::hosting(world, server);
        let sibling_of = server
            .sibling_of
            .map(|t| world.server(t).domain.clone())
            .unwrap_or_default();
        writer.write_record([
            server.domain.as_str(),
            bool_str(state.alive),
            bool_str(state.reachable),
            server.software.as_str(),
            server.version.as_str(),
            &f.users.to_string(),
            &f.active_month.to_string(),
            &f.active_halfyear.to_string(),
            &f.local_posts.to_string(),
            bool_str(server.open_registrations),
            &server.failure.map(|x| x.name()).unwrap_or_default(),
            &server.quirks.names(),
            &server.born.to_string(),
            &died,
            bool_str(server.flood),
            &target,
            bool_str(opted_out(world, server.id, at)),
            bool_str(world.serves_peers(server.id, at)),
            &sibling_of,
            &crate::languages::declared(world, server, at).join(" "),
            server.adversary.map_or("", |a| a.name()),
            hosted.country().unwrap_or_default(),
            &hosted.asn().map(|a| a.to_string()).unwrap_or_default(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Whether `id` is alive at `at` and its robots.txt refuses fedicensus (see the module doc).
pub fn opted_out(world: &World, id: ServerId, at: DateTime<Utc>) -> bool {
    world.state(id, at).alive && world.robots_refuses_us(id, at)
}

fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// Counts for one software family (flood hosts excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SoftwareTruth {
    /// Born by the moment, dead or alive.
    pub known: u64,
    pub alive: u64,
    pub reachable: u64,
    /// Alive and opted out by robots.txt on the date: up, never dead, figures not counted.
    pub opted_out: u64,
    /// Registered users summed over reachable servers.
    pub users: u64,
    /// Monthly actives summed over reachable servers.
    pub active_month: u64,
    /// Local posts summed over reachable servers.
    pub local_posts: u64,
}

impl SoftwareTruth {
    fn add(&mut self, other: &SoftwareTruth) {
        self.known += other.known;
        self.alive += other.alive;
        self.reachable += other.reachable;
        self.opted_out += other.opted_out;
        self.users += other.users;
        self.active_month += other.active_month;
        self.local_posts += other.local_posts;
    }
}

/// The truth in numbers at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthSummary {
    pub at: DateTime<Utc>,
    /// By software name (`Software::as_str`), flood hosts excluded.
    pub by_software: BTreeMap<String, SoftwareTruth>,
    /// All software together, flood hosts excluded.
    pub total: SoftwareTruth,
    /// Flood hosts born by the moment.
    pub flood: u64,
    /// Adversary servers claiming users they do not have, born by the moment
    /// ([`crate::Adversaries`]), counted apart: servers an honest census knows (they answer),
    /// whose claims it leaves out. The server publishing invented peers is counted with its
    /// software: its own figures are honest.
    pub adversaries: u64,
}

impl TruthSummary {
    /// The counts for one software name (zero if absent).
    pub fn software(&self, name: &str) -> SoftwareTruth {
        self.by_software.get(name).copied().unwrap_or_default()
    }
}

/// Counts servers known, alive and reachable by software, with users and monthly actives of the
/// reachable ones, at `at`.
pub fn truth_summary(world: &World, at: DateTime<Utc>) -> TruthSummary {
    let mut by_software: BTreeMap<String, SoftwareTruth> = BTreeMap::new();
    let mut flood = 0;
    let mut adversaries = 0;
    for server in world.servers() {
        if !world.is_born(server.id, at) {
            continue;
        }
        if server.flood {
            flood += 1;
            continue;
        }
        if server
            .adversary
            .is_some_and(|a| a != crate::world::Adversary::InventedPeers)
        {
            adversaries += 1;
            continue;
        }
        let row = by_software
            .entry(server.software.as_str().to_string())
            .or_default();
        row.add(&server_truth(world, server.id, at));
    }
    let mut total = SoftwareTruth::default();
    for row in by_software.values() {
        total.add(row);
    }
    TruthSummary {
        at,
        by_software,
        total,
        flood,
        adversaries,
    }
}

fn server_truth(world: &World, id: ServerId, at: DateTime<Utc>) -> SoftwareTruth {
    let state = world.state(id, at);
    let reachable = u64::from(state.reachable);
    SoftwareTruth {
        known: 1,
        alive: u64::from(state.alive),
        reachable,
        opted_out: u64::from(opted_out(world, id, at)),
        users: reachable * state.figures.users,
        active_month: reachable * state.figures.active_month,
        local_posts: reachable * state.figures.local_posts,
    }
}
