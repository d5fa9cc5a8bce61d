//! The world model: every virtual server, deterministic from a seed, with every figure a function
//! of simulated time.
//!
//! A [`World`] is generated once from a [`WorldConfig`] and never changes; what a server says at a
//! given moment is computed from it on demand ([`World::state`], [`World::activity`],
//! [`World::peers`]). That is how a crawl "at" 2022-11-15 sees that day's fediverse, how the
//! weekly activity a server reports agrees with its own history, and how a 100,000-server world
//! stays small in memory.

use crate::failure::{Failure, FailureMix, Quirks};
use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_core::Software;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// Where names of servers that refuse connections resolve: a loopback address on which nothing
/// listens. A crawler pointed at the simulator allows it, with the simulator's own address.
pub const REFUSED_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Where loopback SSRF bait resolves: a loopback address no crawler may be allowed to reach.
pub const BAIT_LOOPBACK_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// A server's index in [`World::servers`].
pub type ServerId = u32;

/// A named scenario: the period it covers and the shape of the world in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scenario {
    /// 2022-09-01 to 2022-12-31: the migration after Twitter changed hands on 2022-10-27.
    Migration2022,
}

impl Scenario {
    /// Every scenario, for `--help` and error messages.
    pub const ALL: &'static [Scenario] = &[Scenario::Migration2022];

    /// The scenario's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Migration2022 => "migration-2022",
        }
    }

    /// Parses a scenario name.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// The first day of the scenario.
    pub fn start(&self) -> NaiveDate {
        match self {
            Scenario::Migration2022 => NaiveDate::from_ymd_opt(2022, 9, 1).expect("valid date"),
        }
    }

    /// The last day of the scenario.
    pub fn end(&self) -> NaiveDate {
        match self {
            Scenario::Migration2022 => NaiveDate::from_ymd_opt(2022, 12, 31).expect("valid date"),
        }
    }

    /// How many servers (of every software, alive, dead and failing, ever born by the end of the
    /// scenario) the full-size world has; at this size the scenario's calibration targets hold.
    pub fn default_servers(&self) -> usize {
        match self {
            Scenario::Migration2022 => 20_000,
        }
    }
}

/// The per-server round-trip model: log-normal, applied by the simulator before each answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencyModel {
    /// Median round trip across servers, in milliseconds.
    pub median_ms: f64,
    /// Spread of the log-normal (sigma of the underlying normal).
    pub sigma: f64,
}

impl LatencyModel {
    /// No latency at all (for unit tests that only check shapes).
    pub const ZERO: LatencyModel = LatencyModel {
        median_ms: 0.0,
        sigma: 0.0,
    };
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel {
            median_ms: 80.0,
            sigma: 0.6,
        }
    }
}

/// Everything that determines a world. The same config always gives the same world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    pub scenario: Scenario,
    pub seed: u64,
    /// Total servers; `None` means the scenario's full size. Counts scale with it.
    pub servers: Option<usize>,
    pub failures: FailureMix,
    pub latency: LatencyModel,
}

impl WorldConfig {
    /// The full-size scenario with the default failure mix and latency.
    pub fn new(scenario: Scenario, seed: u64) -> WorldConfig {
        WorldConfig {
            scenario,
            seed,
            servers: None,
            failures: FailureMix::default(),
            latency: LatencyModel::default(),
        }
    }
}

/// One virtual server, as generated. Its figures at a moment come from [`World::state`].
#[derive(Debug, Clone)]
pub struct Server {
    pub id: ServerId,
    /// The normalised ASCII domain the server lives at.
    pub domain: String,
    pub software: Software,
    /// The raw version string it reports (forks and dev builds included).
    pub version: String,
    /// The day it first answered.
    pub born: NaiveDate,
    /// The day it stopped answering for good, if it did.
    pub died: Option<NaiveDate>,
    pub failure: Option<Failure>,
    pub quirks: Quirks,
    pub open_registrations: bool,
    /// This server's median round trip, in milliseconds.
    pub latency_ms: f32,
    /// For `Moved` and `RedirectOtherHost`: the server it points to.
    pub target: Option<ServerId>,
    /// Whether it is one of the fake subdomains flooding the peer lists.
    pub flood: bool,
}

/// What a server is at one moment: whether it exists and answers, and its true figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerState {
    /// Born and not yet dead.
    pub alive: bool,
    /// Alive and answering its NodeInfo to a patient, polite client (see
    /// [`Failure::leaves_reachable`]).
    pub reachable: bool,
    /// The true figures (zero before birth).
    pub figures: Figures,
}

/// A server's true figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Figures {
    /// Registered users.
    pub users: u64,
    /// Users active in the last 4 weeks (Mastodon's window).
    pub active_month: u64,
    /// Users active in the last 24 weeks.
    pub active_halfyear: u64,
    /// Posts made by local users, ever.
    pub local_posts: u64,
}

/// One week of `/api/v1/instance/activity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WeekActivity {
    /// Start of the week (Monday 00:00 UTC), as a UNIX timestamp.
    pub week: i64,
    pub statuses: u64,
    pub logins: u64,
    pub registrations: u64,
}

/// What the simulator's DNS answers for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// An address record.
    Address(IpAddr),
    /// NXDOMAIN.
    NoSuchDomain,
}

/// The generated world.
#[derive(Debug)]
pub struct World {
    config: WorldConfig,
    servers: Vec<Server>,
}

impl World {
    /// Generates the world for `config`. Deterministic: the same config gives the same world.
    pub fn generate(config: WorldConfig) -> World {
        let _ = &config;
        todo!("world generation")
    }

    /// The config this world was generated from.
    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// Every server, indexed by [`ServerId`].
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// One server.
    pub fn server(&self, id: ServerId) -> &Server {
        &self.servers[id as usize]
    }

    /// The server living at `host` (an exact, lowercase ASCII domain), if any.
    pub fn lookup(&self, host: &str) -> Option<&Server> {
        let _ = host;
        todo!("lookup")
    }

    /// What `id` is at `at`.
    pub fn state(&self, id: ServerId, at: DateTime<Utc>) -> ServerState {
        let _ = (id, at);
        todo!("state")
    }

    /// The figures `id` *reports* at `at`: its true figures, bent by its quirks (baffle,
    /// inflation). The truth CSV carries the true ones.
    pub fn reported(&self, id: ServerId, at: DateTime<Utc>) -> Figures {
        let _ = (id, at);
        todo!("reported")
    }

    /// Twelve weeks of activity as `/api/v1/instance/activity` reports it at `at`, newest
    /// (current, partial) week first.
    pub fn activity(&self, id: ServerId, at: DateTime<Utc>) -> Vec<WeekActivity> {
        let _ = (id, at);
        todo!("activity")
    }

    /// The peer list `id` serves at `at`, junk included.
    pub fn peers(&self, id: ServerId, at: DateTime<Utc>) -> Vec<String> {
        let _ = (id, at);
        todo!("peers")
    }

    /// What the simulator's DNS answers for `name` at `at`. `listen` is the loopback address the
    /// simulator's servers listen on.
    pub fn resolve(&self, name: &str, at: DateTime<Utc>, listen: IpAddr) -> Resolution {
        let _ = (name, at, listen);
        todo!("resolve")
    }
}
