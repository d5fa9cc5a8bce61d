//! The world model: every virtual server, deterministic from a seed, with every figure a function
//! of simulated time.
//!
//! A [`World`] is generated once from a [`WorldConfig`] and never changes; what a server says at a
//! given moment is computed from it on demand ([`World::state`], [`World::activity`],
//! [`World::peers`]). That is how a crawl "at" 2022-11-15 sees that day's fediverse, how the
//! weekly activity a server reports agrees with its own history, and how a 100,000-server world
//! stays small in memory.

mod generate;
mod peers;

use crate::failure::{Failure, FailureMix, Quirk, Quirks};
use crate::names;
use crate::scenario::{
    self, at, date_of, day_index, day_of, death_hazard_per_day, midnight, shape, ymd, Curves,
    Shape, CURVE_DAYS,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use fedicensus_core::Software;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

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
    /// 2023-05-01 to 2023-12-31: the Lemmy growth of June 2023, when Reddit's API pricing sent
    /// its users to Lemmy; a Lemmy-focused world (see `scenario::lemmy_2023`).
    Lemmy2023,
}

impl Scenario {
    /// Every scenario, for `--help` and error messages.
    pub const ALL: &'static [Scenario] = &[Scenario::Migration2022, Scenario::Lemmy2023];

    /// The scenario's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Migration2022 => "migration-2022",
            Scenario::Lemmy2023 => "lemmy-2023",
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
            Scenario::Lemmy2023 => NaiveDate::from_ymd_opt(2023, 5, 1).expect("valid date"),
        }
    }

    /// The last day of the scenario.
    pub fn end(&self) -> NaiveDate {
        match self {
            Scenario::Migration2022 => NaiveDate::from_ymd_opt(2022, 12, 31).expect("valid date"),
            Scenario::Lemmy2023 => NaiveDate::from_ymd_opt(2023, 12, 31).expect("valid date"),
        }
    }

    /// How many servers (of every software, alive, dead and failing, ever born by the end of the
    /// scenario) the full-size world has; at this size the scenario's calibration targets hold.
    pub fn default_servers(&self) -> usize {
        match self {
            Scenario::Migration2022 => 20_000,
            Scenario::Lemmy2023 => 3_000,
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
    /// When its robots.txt refuses fedicensus for part of its history (an opt-out that starts,
    /// and sometimes ends, inside the scenario): see [`World::robots_refuses_us`].
    pub opt_out: Option<OptOut>,
    /// For a second local domain of a Takahē installation: the installation's main domain, the
    /// one its `/.well-known/nodeinfo` links to (see [`World::siblings`]).
    pub sibling_of: Option<ServerId>,
    /// For a party trying to inflate the census: how ([`crate::Adversaries`]).
    pub adversary: Option<Adversary>,
}

/// How an adversary server tries to inflate a census (see [`crate::Adversaries`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Adversary {
    /// One of many subdomains of one registrable domain, each claiming tens of millions of users.
    InflatedSubdomain,
    /// A small server whose claim jumps beyond the fediverse's total on [`JUMP_DAY`].
    JumpBeyondTotal,
    /// A small server whose peer list names many invented servers.
    InventedPeers,
}

impl Adversary {
    /// The stable name used in the truth CSV.
    pub fn name(&self) -> &'static str {
        match self {
            Adversary::InflatedSubdomain => "inflated-subdomain",
            Adversary::JumpBeyondTotal => "jump-beyond-total",
            Adversary::InventedPeers => "invented-peers",
        }
    }
}

/// The day a [`Adversary::JumpBeyondTotal`] server starts claiming its jump (mid-migration).
pub const JUMP_DAY: (i32, u32, u32) = (2022, 11, 10);

/// A time window in which a server's robots.txt refuses fedicensus: from `from` (inclusive)
/// until `until` (exclusive; `None` for the rest of the scenario).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OptOut {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl OptOut {
    /// Whether the window covers `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        day >= self.from && self.until.is_none_or(|until| day < until)
    }
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

/// How a dead server's domain answers once it has died, picked per server at generation.
///
/// Real dead hosts linger in peer lists for years and fail in one of these three ways; the
/// serving layer asks [`World::death_mode`] and acts on it (the DNS side is already applied by
/// [`World::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DeathMode {
    /// The domain lapsed: NXDOMAIN.
    NoSuchDomain,
    /// The name still resolves but nothing listens: connection refused ([`REFUSED_ADDR`]).
    Refused,
    /// The host still answers, with 410 Gone on every path.
    Gone,
}

impl DeathMode {
    /// The stable name used in the truth CSV.
    pub fn name(&self) -> &'static str {
        match self {
            DeathMode::NoSuchDomain => "no-such-domain",
            DeathMode::Refused => "refused",
            DeathMode::Gone => "gone",
        }
    }
}

/// The per-server scalars behind every figure (see [`crate::scenario`]); kept apart from
/// [`Server`] so the public type stays what callers need.
#[derive(Debug, Clone, Copy)]
struct Profile {
    /// Day index of birth (midnight UTC).
    born_day: i64,
    /// Day index of death, `i64::MAX` if it never dies within the curves.
    died_day: i64,
    /// Weight on the secular growth curve.
    x: f64,
    /// Weight on the wave curve.
    y: f64,
    /// Activity multiplier (mean about 1).
    m: f64,
    /// Posts per active user per day.
    k: f64,
    /// Weekly logins as a share of monthly actives.
    lf: f64,
    /// Whether the admin counts as active even on an otherwise idle server.
    admin: bool,
    /// How much of the world this server knows (0..=1).
    reach: f64,
    /// How likely others are to know this server (0..=1).
    visibility: f64,
    death_mode: DeathMode,
    /// Lemmy remote-user inflation factor.
    inflation: f64,
    /// Whether this server is one of the named real big servers.
    named: bool,
    /// Whether this server lists the flood subdomains among its peers.
    lists_flood: bool,
}

/// One of the real big servers the scenario keeps by name.
#[derive(Debug, Clone, Copy)]
struct Named {
    domain: &'static str,
    /// Registered accounts at the takeover.
    before: f64,
    /// Registered accounts in early December 2022.
    after: f64,
    born: (i32, u32, u32),
}

/// The named servers of `scenario`: the lemmy-2023 world has none (no sourced per-server
/// figures of June 2023).
fn named(scenario: Scenario) -> &'static [Named] {
    match scenario {
        Scenario::Migration2022 => NAMED,
        Scenario::Lemmy2023 => &[],
    }
}

/// The three largest Mastodon servers of December 2022 (FIELD.md), by their real names.
const NAMED: &[Named] = &[
    Named {
        domain: "mastodon.social",
        before: 700_000.0,
        after: 918_000.0,
        born: (2016, 10, 1),
    },
    Named {
        domain: "pawoo.net",
        before: 786_000.0,
        after: 794_000.0,
        born: (2017, 4, 14),
    },
    Named {
        domain: "mstdn.jp",
        before: 296_000.0,
        after: 299_000.0,
        born: (2017, 4, 13),
    },
];

/// A server before ids are assigned.
#[derive(Debug)]
struct Proto {
    software: Software,
    born: i64,
    died: Option<i64>,
    /// Registered users the server should have in early December 2022.
    size: f64,
    named: Option<usize>,
}

/// A splitmix64 finaliser: the deterministic hash behind every per-pair and per-hour decision,
/// so nothing about pairs of servers needs storing.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hash3(seed: u64, a: u64, b: u64) -> u64 {
    mix(seed ^ mix(a.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ mix(b ^ 0x1234_5678_9abc_def1)))
}

/// A hash as a number in `[0, 1)`.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Tags that keep the hash streams of different decisions apart.
const TAG_JUNK: u64 = 0x6a75_6e6b;
const TAG_BAFFLE: u64 = 0x6261_6666;
const TAG_CALCKEY: u64 = 0x6361_6c63;
const TAG_PRIVATE: u64 = 0x7072_6976;
/// The RNG streams of the scenario kinds added after the calibrated world (2026-12): drawn from
/// their own generators, after every other draw, so that every server generated before them
/// stays exactly what it was.
const TAG_SIBLINGS: u64 = 0x7369_626c;
const TAG_OPT_OUTS: u64 = 0x6f70_746f;
const TAG_ADVERSARIES: u64 = 0x6164_7673;
/// The per-server upgrade lag of the lemmy-2023 world.
const TAG_UPGRADE: u64 = 0x7570_6772;

/// Rounds `x` up or down at random so that tiny worlds still get rates right on average.
fn stochastic_round<R: Rng>(rng: &mut R, x: f64) -> usize {
    let floor = x.floor();
    let extra = if rng.random::<f64>() < x - floor {
        1.0
    } else {
        0.0
    };
    (floor + extra).max(0.0) as usize
}

fn normal<R: Rng>(rng: &mut R) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

/// Whether `quirk` makes sense for `software` (fake-number quirks belong to the software that
/// really fakes numbers; API quirks to software that serves that API).
fn quirk_fits(quirk: Quirk, software: &Software) -> bool {
    match quirk {
        Quirk::Baffle => *software == Software::Gotosocial,
        Quirk::LemmyRemoteInflation => *software == Software::Lemmy,
        Quirk::CalckeyInflation => software.is_misskey_family(),
        // Mastodon only: the common case, and always listed in peer lists.
        Quirk::HostileStrings => *software == Software::Mastodon,
        Quirk::PeersDisabled | Quirk::ActivityDisabled | Quirk::LimitedFederation => {
            software.speaks_mastodon_api()
        }
        _ => true,
    }
}

/// Whether `server` can carry [`Quirk::HostileStrings`] where a dashboard would show them: a
/// server that answers, lists itself, and exists before the 2022 wave (so every crawl of the
/// scenario's story meets it).
fn shows_hostile_strings(server: &Server) -> bool {
    server.failure.is_none()
        && server.died.is_none()
        && !server.quirks.has(Quirk::PrivacyFlag)
        && !server.quirks.has(Quirk::NoIndexHeader)
        && server.born < NaiveDate::from_ymd_opt(2022, 10, 1).expect("a valid date")
}

/// Whether `software` serves a peer list a crawler can read: the Mastodon API's
/// `/api/v1/instance/peers` (Mastodon, Pleroma, Akkoma, Friendica, Takahe, BookWyrm and the
/// Misskey family) or Lemmy's `federated_instances`. GoToSocial hides its peers by default;
/// PeerTube, Pixelfed, diaspora, WordPress and the rest have none. Mitra has one in its later
/// releases. Which releases: [`software_serves_peers_at`].
pub fn software_serves_peers(software: &Software) -> bool {
    is_mitra(software)
        || matches!(
            software,
            Software::Mastodon
                | Software::Pleroma
                | Software::Akkoma
                | Software::Friendica
                | Software::Takahe
                | Software::Bookwyrm
                | Software::Lemmy
        )
        || software.is_misskey_family()
}

/// Share of Takahē installations that serve a second local domain (see
/// [`World::installation`]): an assumption, no census measured it.
pub const TAKAHE_SIBLING_SHARE: f64 = 0.25;

/// Whether `software` is Mitra (core has no family for it: `Software::Other("mitra")`).
pub fn is_mitra(software: &Software) -> bool {
    matches!(software, Software::Other(name) if name == "mitra")
}

/// Whether `software` running `version` serves a readable peer list: [`software_serves_peers`],
/// with the releases that first had one. Takahē: `v1/instance/peers` in `api/urls.py` from
/// 0.9.0 (commit 3bd01b2, 2023-03-09; 0.3.0 to 0.8.0 have none). Mitra: `/api/v1/instance/peers`
/// from 1.18.0 (2023-03-21, `src/mastodon_api/instance/views.rs`; live fixture
/// `mitra-5.9.1/api_v1_instance_peers.body`). So in 2022 neither served one.
pub fn software_serves_peers_at(software: &Software, version: &str) -> bool {
    let v = crate::endpoints::version_triple(version);
    match software {
        Software::Takahe => v >= (0, 9, 0),
        s if is_mitra(s) => v >= (1, 18, 0),
        s => software_serves_peers(s),
    }
}

/// The generated world.
#[derive(Debug)]
pub struct World {
    config: WorldConfig,
    servers: Vec<Server>,
    profiles: Vec<Profile>,
    by_domain: HashMap<String, ServerId>,
    /// The registrable domain the flood subdomains hang off (empty without a flood).
    flood_parent: String,
    /// Calibrated multipliers of the old-account and wave-account activity curves.
    kp: f64,
    kq: f64,
    /// Per server, every server it ever knows ([`World::knows`] without the birth condition, the
    /// only part that depends on the date), in id order, computed on first use. A peer list is
    /// then a filter of this list by birth date instead of a scan of the whole world: a crawl
    /// reads thousands of lists a pass, and the instance API counts the list on every visit.
    knowable: Vec<OnceLock<Box<[ServerId]>>>,
    /// Per Takahē main domain with second domains, its installation's domains (main first).
    installations: HashMap<ServerId, Vec<ServerId>>,
}

impl World {
    /// The config this world was generated from.
    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// The shape of this world's scenario.
    fn shape(&self) -> &'static Shape {
        shape(self.config.scenario)
    }

    /// The daily curves of this world's scenario.
    fn curves(&self) -> &'static Curves {
        scenario::curves(self.config.scenario)
    }

    /// Every server, indexed by [`ServerId`].
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// One server.
    pub fn server(&self, id: ServerId) -> &Server {
        &self.servers[id as usize]
    }

    /// This world with server `id` running `version` for its whole life: for tests of how a
    /// release's documents look (the conformance suite reads releases no scenario runs yet).
    /// Nothing else about the world changes.
    pub fn with_version(mut self, id: ServerId, version: &str) -> World {
        if let Some(server) = self.servers.get_mut(id as usize) {
            server.version = version.to_string();
        }
        self
    }

    /// The server living at `host` (an exact, lowercase ASCII domain), if any.
    pub fn lookup(&self, host: &str) -> Option<&Server> {
        self.by_domain
            .get(host)
            .map(|id| &self.servers[*id as usize])
    }

    /// How many flood hosts a world of this config has: `failures.flood_subdomains` in a world
    /// the migration-2022 scenario's full size, scaled with the world (so a dozen-server world is
    /// not drowned, and every scenario has the same share of them).
    pub fn flood_size(config: &WorldConfig) -> usize {
        let full = Scenario::Migration2022.default_servers();
        let n = config.servers.unwrap_or(full);
        (config.failures.flood_subdomains as f64 * n as f64 / full as f64).round() as usize
    }

    /// The `software.version` `id`'s NodeInfo documents carry at `at`: [`World::version_at`], or
    /// for a server with [`Quirk::HostileStrings`] a formula with markup around it.
    pub fn nodeinfo_version_at(&self, id: ServerId, at: DateTime<Utc>) -> String {
        let version = self.version_at(id, at);
        if self.servers[id as usize].quirks.has(Quirk::HostileStrings) {
            crate::failure::hostile_version(version)
        } else {
            version.to_owned()
        }
    }

    /// The version string `id` reports at `at`. [`Server::version`] is what it runs at the end
    /// of the scenario; before a release existed the server still ran the previous one (a
    /// crawl at 2022-09-01 sees no Mastodon 4.0, released 2022-11-14). Serve this one.
    pub fn version_at(&self, id: ServerId, at: DateTime<Utc>) -> &str {
        self.version_on(id as usize, date_of(day_of(at).floor() as i64))
    }

    /// [`World::version_at`] on a day.
    fn version_on(&self, i: usize, today: NaiveDate) -> &str {
        let server = &self.servers[i];
        if self.config.scenario == Scenario::Lemmy2023 {
            let lag = scenario::lemmy_2023::upgrade_lag_days(hash3(
                self.config.seed ^ TAG_UPGRADE,
                u64::from(server.id),
                0,
            ));
            let day = today - chrono::TimeDelta::days(lag);
            return scenario::lemmy_2023::version_on(
                server.software.as_str(),
                &server.version,
                day,
            )
            .unwrap_or(&server.version);
        }
        for (software, prefix, released, before) in scenario::RELEASES {
            if server.software.as_str() == *software
                && server.version.starts_with(prefix)
                && today < ymd(released.0, released.1, released.2)
            {
                return before;
            }
        }
        &server.version
    }

    /// The domains of `id`'s Takahē installation (main domain first) when it has several, or
    /// just `id`.
    pub fn installation(&self, id: ServerId) -> Vec<ServerId> {
        let main = self.servers[id as usize].sibling_of.unwrap_or(id);
        self.installations
            .get(&main)
            .cloned()
            .unwrap_or_else(|| vec![id])
    }

    /// The registrable domain the flood subdomains live under, if the world has a flood.
    pub fn flood_parent(&self) -> Option<&str> {
        (!self.flood_parent.is_empty()).then_some(self.flood_parent.as_str())
    }

    /// How `id`'s domain answers once it has died, or `None` if it never dies. It applies from
    /// `died` on: check [`World::is_dead`] first.
    pub fn death_mode(&self, id: ServerId) -> Option<DeathMode> {
        self.servers[id as usize]
            .died
            .map(|_| self.profiles[id as usize].death_mode)
    }

    /// Whether `id` has died by `at` (it answers per [`World::death_mode`]).
    pub fn is_dead(&self, id: ServerId, at: DateTime<Utc>) -> bool {
        day_of(at) >= self.profiles[id as usize].died_day as f64
    }

    /// Whether `id` has been born by `at`.
    pub fn is_born(&self, id: ServerId, at: DateTime<Utc>) -> bool {
        day_of(at) >= self.profiles[id as usize].born_day as f64
    }

    fn alive_at(&self, i: usize, day: f64) -> bool {
        let p = &self.profiles[i];
        day >= p.born_day as f64 && day < p.died_day as f64
    }

    fn reachable_at(&self, i: usize, day: f64) -> bool {
        self.alive_at(i, day)
            && self.servers[i].failure.is_none_or(|f| f.leaves_reachable())
            && !self.refuses_on(i, date_of(day.floor() as i64))
    }

    /// Whether `id`'s robots.txt refuses fedicensus its NodeInfo at `at`: the robots failures
    /// (always), an [`OptOut`] window that covers the day, or GoToSocial's own robots.txt, which
    /// refuses every crawler `/.well-known/` (or `/`) in every release before 0.18.0 and NodeInfo
    /// after it unless the stats mode is "serve" (see `endpoints::robots`). Such a server is
    /// alive and has opted out: a polite crawler reads robots.txt and nothing more, so it is not
    /// "reachable" (its figures cannot be counted) and its peer list is not read.
    pub fn robots_refuses_us(&self, id: ServerId, at: DateTime<Utc>) -> bool {
        self.refuses_on(id as usize, date_of(day_of(at).floor() as i64))
    }

    fn refuses_on(&self, i: usize, day: NaiveDate) -> bool {
        let server = &self.servers[i];
        matches!(
            server.failure,
            Some(Failure::RobotsDisallowUs | Failure::RobotsDisallowAll)
        ) || server.opt_out.is_some_and(|o| o.covers(day))
            || (server.software == Software::Gotosocial
                && server.failure.is_none_or(|f| f.leaves_reachable())
                && crate::endpoints::robots::gotosocial_refuses_nodeinfo(
                    self.config.seed,
                    &server.domain,
                    self.version_on(i, day),
                ))
    }

    /// The secular and wave parts of the registered users at `day` (frozen at death).
    fn parts(&self, p: &Profile, day: f64) -> (f64, f64) {
        let curves = self.curves();
        let b = p.born_day as f64;
        let day = day.min(p.died_day as f64);
        let pre = 1.0 + p.x * (at(&curves.hs, day) - at(&curves.hs, b)).max(0.0);
        let wave = p.y * (at(&curves.hw, day) - at(&curves.hw, b)).max(0.0);
        (pre, wave)
    }

    /// Monthly actives before rounding, flooring and capping.
    fn raw_active(&self, p: &Profile, day: f64) -> f64 {
        let curves = self.curves();
        let day = day.min(p.died_day as f64);
        let (pre, wave) = self.parts(p, day);
        p.m * (self.kp * at(&curves.p, day) * pre + self.kq * at(&curves.q, day) * wave)
    }

    /// The true figures of server `i` at fractional day `day`.
    fn figures_at(&self, i: usize, day: f64) -> Figures {
        let p = &self.profiles[i];
        let b = p.born_day as f64;
        if day < b {
            return Figures::default();
        }
        let day = day.min(p.died_day as f64);
        let curves = self.curves();
        let (pre, wave) = self.parts(p, day);
        let users = ((pre + wave).floor() as u64).max(1);
        let raw = self.raw_active(p, day);
        let mut active_month = raw.round() as u64;
        if p.admin {
            active_month = active_month.max(1);
        }
        let active_month = active_month.min(users);
        let half = (raw * 1.35 + 0.05 * pre).round() as u64;
        let active_halfyear = half.max(active_month).min(users);
        // Posts are the integral of the (unrounded) activity: see the module doc of scenario.
        let cp = at(&curves.cp, day) - at(&curves.cp, b);
        let cphs = at(&curves.cphs, day) - at(&curves.cphs, b);
        let cq = at(&curves.cq, day) - at(&curves.cq, b);
        let cqhw = at(&curves.cqhw, day) - at(&curves.cqhw, b);
        let hs_b = at(&curves.hs, b);
        let hw_b = at(&curves.hw, b);
        let old = cp + p.x * (cphs - hs_b * cp);
        let new = p.y * (cqhw - hw_b * cq);
        let admin = if p.admin { 0.5 * (day - b) } else { 0.0 };
        let posts = p.k * (p.m * (self.kp * old.max(0.0) + self.kq * new.max(0.0)) + admin);
        Figures {
            users,
            active_month,
            active_halfyear,
            local_posts: posts.floor() as u64,
        }
    }

    /// What `id` is at `at`.
    pub fn state(&self, id: ServerId, at: DateTime<Utc>) -> ServerState {
        let day = day_of(at);
        let i = id as usize;
        ServerState {
            alive: self.alive_at(i, day),
            reachable: self.reachable_at(i, day),
            figures: self.figures_at(i, day),
        }
    }

    /// The figures `id` *reports* at `at`: its true figures, bent by its quirks (baffle,
    /// inflation). The truth CSV carries the true ones.
    pub fn reported(&self, id: ServerId, at: DateTime<Utc>) -> Figures {
        let i = id as usize;
        let day = day_of(at);
        let truth = self.figures_at(i, day);
        let quirks = self.servers[i].quirks;
        let seed = self.config.seed;
        if quirks.has(Quirk::Baffle) {
            // GoToSocial's genRandStats: new preposterous numbers every hour.
            let hour = at.timestamp().div_euclid(3600) as u64;
            let h = hash3(seed ^ TAG_BAFFLE, u64::from(id), hour);
            let users = mix(h) % 1_000_000;
            return Figures {
                users,
                active_month: mix(h ^ 1) % (users + 1),
                active_halfyear: mix(h ^ 2) % (users + 1),
                local_posts: mix(h ^ 3) % 10_000_000,
            };
        }
        let mut reported = truth;
        if self.servers[i].software == Software::Takahe {
            // Takahē counts every local identity and post of the installation, whichever of its
            // domains is asked: its instance API in every release, its NodeInfo until 0.10.0
            // (`users/views/activitypub.py`, per-domain counts from commit 1262c61, 2023-08-11),
            // so in 2022 both.
            let members = self.installation(id);
            if members.len() > 1 && day >= self.profiles[i].born_day as f64 {
                reported = Figures::default();
                for m in members {
                    let f = self.figures_at(m as usize, day);
                    reported.users += f.users;
                    reported.active_month += f.active_month;
                    reported.active_halfyear += f.active_halfyear;
                    reported.local_posts += f.local_posts;
                }
            }
        }
        if quirks.has(Quirk::LemmyRemoteInflation) {
            // Lemmy counts the remote users it has seen as its own.
            let p = &self.profiles[i];
            let days = (day.min(p.died_day as f64) - p.born_day as f64).max(0.0);
            let remote = (200.0 + 40.0 * days) as u64;
            reported.users = (truth.users as f64 * p.inflation) as u64 + remote;
        }
        let adversaries = &self.config.failures.adversaries;
        match self.servers[i].adversary {
            Some(Adversary::InflatedSubdomain) => {
                reported.users = adversaries.inflated_users;
                reported.active_month = adversaries.inflated_users / 10;
            }
            Some(Adversary::JumpBeyondTotal)
                if day >= day_index(ymd(JUMP_DAY.0, JUMP_DAY.1, JUMP_DAY.2)) as f64 =>
            {
                reported.users = adversaries.jump_users;
                reported.active_month = adversaries.jump_users / 10;
            }
            _ => {}
        }
        if quirks.has(Quirk::CalckeyInflation) {
            // Some days the API counts every known user: 2 one day, 10,000 the next.
            let today = day.floor() as i64 as u64;
            let h = hash3(seed ^ TAG_CALCKEY, u64::from(id), today);
            if h.is_multiple_of(2) {
                reported.users = truth.users + 10_000 + mix(h) % 5_000;
            }
        }
        reported
    }

    /// Twelve weeks of activity as `/api/v1/instance/activity` reports it at `at`, newest
    /// (current, partial) week first.
    ///
    /// Each week agrees with the server's own history: registrations are the growth of `users`
    /// over the week, statuses the growth of `local_posts`, logins 60-80 % of the monthly
    /// actives at the week's end (scaled down for the partial current week).
    pub fn activity(&self, id: ServerId, at: DateTime<Utc>) -> Vec<WeekActivity> {
        let i = id as usize;
        let p = &self.profiles[i];
        let day = day_of(at);
        let today = day.floor() as i64;
        let weekday = date_of(today).weekday().num_days_from_monday() as i64;
        let monday = today - weekday;
        let epoch_ts = midnight(scenario::epoch()).timestamp();
        (0..12)
            .map(|k| {
                let start = (monday - 7 * k) as f64;
                let end = (start + 7.0).min(day);
                let from = self.figures_at(i, start);
                let to = self.figures_at(i, end);
                let fraction = ((end - start) / 7.0).clamp(0.0, 1.0);
                let logins = if end < p.born_day as f64 {
                    0
                } else {
                    let partial = if k == 0 { 0.35 + 0.65 * fraction } else { 1.0 };
                    (p.lf * partial * to.active_month as f64).round() as u64
                };
                WeekActivity {
                    week: epoch_ts + (monday - 7 * k) * 86_400,
                    statuses: to.local_posts - from.local_posts,
                    logins,
                    registrations: to.users - from.users,
                }
            })
            .collect()
    }

    /// What the simulator's DNS answers for `name` at `at`. `listen` is the loopback address the
    /// simulator's servers listen on.
    ///
    /// The name is normalised first (lowercase, no trailing dot). Unknown and not-yet-born
    /// names are NXDOMAIN; a dead server answers per its [`DeathMode`] (`Gone` still resolves
    /// to `listen`, where the serving layer answers 410); DNS-level failures answer as
    /// [`Failure`] documents them; everything else resolves to `listen`.
    pub fn resolve(&self, name: &str, at: DateTime<Utc>, listen: IpAddr) -> Resolution {
        let normalised = name.trim_end_matches('.').to_ascii_lowercase();
        let Some(server) = self.lookup(&normalised) else {
            return Resolution::NoSuchDomain;
        };
        let id = server.id;
        if !self.is_born(id, at) {
            return Resolution::NoSuchDomain;
        }
        if self.is_dead(id, at) {
            return match self.profiles[id as usize].death_mode {
                DeathMode::NoSuchDomain => Resolution::NoSuchDomain,
                DeathMode::Refused => Resolution::Address(IpAddr::V4(REFUSED_ADDR)),
                DeathMode::Gone => Resolution::Address(listen),
            };
        }
        match server.failure {
            Some(Failure::NoSuchDomain) => Resolution::NoSuchDomain,
            Some(Failure::Refused) => Resolution::Address(IpAddr::V4(REFUSED_ADDR)),
            Some(Failure::SsrfLoopback) => Resolution::Address(IpAddr::V4(BAIT_LOOPBACK_ADDR)),
            Some(Failure::SsrfLinkLocal) => {
                Resolution::Address(IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)))
            }
            Some(Failure::SsrfPrivate) => {
                let h = hash3(self.config.seed ^ TAG_PRIVATE, u64::from(id), 0);
                let [a, b, ..] = h.to_le_bytes();
                let address = if h.is_multiple_of(2) {
                    Ipv4Addr::new(10, a, b, 10)
                } else {
                    Ipv4Addr::new(192, 168, a, 10)
                };
                Resolution::Address(IpAddr::V4(address))
            }
            _ => Resolution::Address(listen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peer list as it was computed before the cache: a scan of the whole world.
    fn scanned_known(world: &World, i: usize, day: f64) -> Vec<usize> {
        (0..world.servers.len())
            .filter(|j| world.knows(i, *j, day))
            .collect()
    }

    #[test]
    fn cached_peer_lists_are_the_whole_world_scan_at_every_date() {
        let world = World::generate(WorldConfig {
            servers: Some(600),
            ..WorldConfig::new(Scenario::Migration2022, 5)
        });
        let dates = [(2017, 1, 1), (2022, 9, 1), (2022, 11, 15), (2022, 12, 31)];
        for (y, m, d) in dates {
            let at = midnight(ymd(y, m, d)) + chrono::TimeDelta::hours(7);
            let day = day_of(at);
            for server in world.servers() {
                let i = server.id as usize;
                let cached: Vec<usize> = if day < world.profiles[i].born_day as f64 {
                    Vec::new()
                } else {
                    world.known_at(i, day).collect()
                };
                let scanned = if day < world.profiles[i].born_day as f64 {
                    Vec::new()
                } else {
                    scanned_known(&world, i, day)
                };
                assert_eq!(cached, scanned, "server {i} at {at}");
                assert_eq!(
                    world.peer_count(server.id, at),
                    world.peers(server.id, at).len(),
                    "server {i} at {at}"
                );
            }
        }
    }
}
