//! The world model: every virtual server, deterministic from a seed, with every figure a function
//! of simulated time.
//!
//! A [`World`] is generated once from a [`WorldConfig`] and never changes; what a server says at a
//! given moment is computed from it on demand ([`World::state`], [`World::activity`],
//! [`World::peers`]). That is how a crawl "at" 2022-11-15 sees that day's fediverse, how the
//! weekly activity a server reports agrees with its own history, and how a 100,000-server world
//! stays small in memory.

use crate::failure::{Failure, FailureMix, Quirk, Quirks};
use crate::names;
use crate::scenario::{
    self, at, curves, date_of, day_index, day_of, death_hazard_per_day, early_december,
    mastodon_reachable_target, midnight, takeover, targets, ymd, CURVE_DAYS, FAMILIES,
    OTHER_SOFTWARE,
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
    /// Generates the world for `config`. Deterministic: the same config gives the same world.
    ///
    /// `config.servers` counts real servers of every software, alive, dead and failing; the
    /// flood hosts ([`World::flood_size`]) come on top of them.
    pub fn generate(config: WorldConfig) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let full = config.scenario.default_servers();
        let n = config.servers.unwrap_or(full);
        let lambda = death_hazard_per_day();
        let blocking: f64 = config
            .failures
            .failures
            .iter()
            .filter(|(f, _)| !f.leaves_reachable())
            .map(|(_, r)| *r)
            .sum();
        let reachable_share = (1.0 - blocking).clamp(0.05, 1.0);

        // Mastodon births: the cumulative births that keep the target number alive under a
        // constant death hazard are A(t) + λ·∫A (A = target alive).
        let first = day_index(ymd(2016, 10, 1));
        let last = day_index(config.scenario.end());
        let mut births_cum = Vec::with_capacity((last - first + 1) as usize);
        let mut integral = 0.0;
        for day in first..=last {
            let alive = mastodon_reachable_target(day as f64) / reachable_share;
            births_cum.push(alive + lambda * integral);
            integral += alive;
        }
        let births_total = births_cum.last().copied().unwrap_or(0.0);
        let mastodon_share = (births_total / full as f64).min(0.95);
        let n_mastodon = if n == 0 {
            0
        } else {
            ((n as f64 * mastodon_share).round() as usize).clamp(1, n)
        };
        let mut protos = Vec::with_capacity(n);
        for i in 0..n_mastodon {
            let target = (i as f64 + rng.random::<f64>()) / n_mastodon as f64 * births_total;
            let offset = births_cum.partition_point(|c| *c < target) as i64;
            protos.push(Proto {
                software: Software::Mastodon,
                born: (first + offset).min(last),
                died: None,
                size: 1.0,
                named: None,
            });
        }
        // The earliest Mastodon servers become the named big ones.
        protos.sort_by_key(|p| p.born);
        for (k, proto) in protos.iter_mut().take(NAMED.len()).enumerate() {
            let (y, m, d) = NAMED[k].born;
            proto.named = Some(k);
            proto.born = day_index(ymd(y, m, d));
        }
        Self::add_other_software(&mut rng, &mut protos, n - n_mastodon, last);
        for proto in &mut protos {
            if proto.named.is_none() {
                let lifetime = -(1.0 - rng.random::<f64>()).ln() / lambda;
                let died = proto.born + 1 + lifetime as i64;
                proto.died = (died < CURVE_DAYS as i64 - 1).then_some(died);
            }
        }
        Self::assign_sizes(&mut rng, &mut protos);
        protos.shuffle(&mut rng);

        let mut world = World {
            config: config.clone(),
            servers: Vec::with_capacity(n + World::flood_size(&config)),
            profiles: Vec::with_capacity(n + World::flood_size(&config)),
            by_domain: HashMap::with_capacity(n + World::flood_size(&config)),
            flood_parent: String::new(),
            kp: 1.0,
            kq: 1.0,
            knowable: Vec::new(),
            installations: HashMap::new(),
        };
        let mut used: HashSet<String> = NAMED.iter().map(|n| n.domain.to_string()).collect();
        if World::flood_size(&config) > 0 {
            let vocabulary = names::vocabulary();
            loop {
                let parent = format!(
                    "{}{}.{}",
                    vocabulary.word(&mut rng),
                    rng.random_range(10..100),
                    vocabulary.tld(&mut rng)
                );
                if used.insert(parent.clone()) {
                    world.flood_parent = parent;
                    break;
                }
            }
        }
        for proto in protos {
            world.push_server(&mut rng, &mut used, proto);
        }
        world.add_flood(&mut rng, &mut used);
        world.assign_failures(&mut rng);
        world.assign_quirks(&mut rng);
        world.calibrate(n as f64 / full as f64);
        // Added after calibration, from their own streams: no earlier server changes.
        world.add_takahe_siblings(&mut used);
        world.assign_opt_outs();
        world.add_adversaries(&mut used);
        world.by_domain = world
            .servers
            .iter()
            .map(|s| (s.domain.clone(), s.id))
            .collect();
        world.knowable = (0..world.servers.len()).map(|_| OnceLock::new()).collect();
        for server in &world.servers {
            if let Some(main) = server.sibling_of {
                world
                    .installations
                    .entry(main)
                    .or_insert_with(|| vec![main])
                    .push(server.id);
            }
        }
        world
    }

    /// Adds `count` servers of the non-Mastodon families, by largest remainder of their weights,
    /// born evenly since each family's first release with three times the rate during the wave.
    fn add_other_software(rng: &mut ChaCha8Rng, protos: &mut Vec<Proto>, count: usize, last: i64) {
        let total_weight: f64 = FAMILIES.iter().map(|f| f.weight).sum();
        let exact: Vec<f64> = FAMILIES
            .iter()
            .map(|f| f.weight / total_weight * count as f64)
            .collect();
        let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
        let mut order: Vec<usize> = (0..FAMILIES.len()).collect();
        order.sort_by(|a, b| {
            let ra = exact[*a] - exact[*a].floor();
            let rb = exact[*b] - exact[*b].floor();
            rb.total_cmp(&ra).then(a.cmp(b))
        });
        let assigned: usize = counts.iter().sum();
        for k in order.iter().take(count - assigned) {
            counts[*k] += 1;
        }
        let take = day_index(takeover());
        for (family, family_count) in FAMILIES.iter().zip(counts) {
            let (y, m, d) = family.since;
            let since = day_index(ymd(y, m, d));
            let mut cum = Vec::with_capacity((last - since + 1).max(1) as usize);
            let mut acc = 0.0;
            for day in since..=last {
                acc += if day >= take { 3.0 } else { 1.0 };
                cum.push(acc);
            }
            for i in 0..family_count {
                let target = (i as f64 + rng.random::<f64>()) / family_count as f64 * acc;
                let born = since + cum.partition_point(|c| *c < target) as i64;
                let mut software = (family.software)();
                if let Software::Other(name) = &mut software {
                    let (other, _) = OTHER_SOFTWARE[rng.random_range(0..OTHER_SOFTWARE.len())];
                    *name = other.to_string();
                }
                protos.push(Proto {
                    software,
                    born: born.min(last),
                    died: None,
                    size: 1.0,
                    named: None,
                });
            }
        }
    }

    /// Sizes in early December 2022. Mastodon: ranked by an age-weighted random score, then a
    /// size by percentile with a Zipf-like top 1 %, a power-law body and 13 % single-user
    /// servers (FIELD.md). Other software: log-normal around the family's median.
    fn assign_sizes(rng: &mut ChaCha8Rng, protos: &mut [Proto]) {
        let take = day_index(takeover());
        let mid_2022 = day_index(ymd(2022, 6, 1));
        let mut ranked: Vec<(f64, usize)> = Vec::new();
        for (i, proto) in protos.iter_mut().enumerate() {
            if let Some(k) = proto.named {
                proto.size = NAMED[k].after;
            } else if proto.software == Software::Mastodon {
                let age_weight = if proto.born < mid_2022 {
                    1.0
                } else if proto.born < take {
                    0.6
                } else {
                    0.35
                };
                let score = -(1.0 - rng.random::<f64>()).ln() * age_weight;
                ranked.push((score, i));
            } else {
                let median = FAMILIES
                    .iter()
                    .find(|f| {
                        let s = (f.software)();
                        s == proto.software
                            || matches!(
                                (&s, &proto.software),
                                (Software::Other(_), Software::Other(_))
                            )
                    })
                    .map_or(5.0, |f| f.median_users);
                proto.size = if rng.random::<f64>() < 0.2 {
                    1.0
                } else {
                    (median * (1.5 * normal(rng)).exp()).clamp(1.0, 150_000.0)
                };
            }
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let count = ranked.len().max(1) as f64;
        for (rank, (_, i)) in ranked.iter().enumerate() {
            let u = (rank as f64 + 0.5) / count;
            protos[*i].size = mastodon_size_at_percentile(u);
        }
    }

    fn push_server(&mut self, rng: &mut ChaCha8Rng, used: &mut HashSet<String>, proto: Proto) {
        let id = self.servers.len() as ServerId;
        let domain = match proto.named {
            Some(k) => NAMED[k].domain.to_string(),
            None => loop {
                let candidate = names::synth_domain(rng, &proto.software);
                if used.insert(candidate.clone()) {
                    break candidate;
                }
            },
        };
        let born = date_of(proto.born);
        let version = scenario::version(rng, &proto.software, born);
        let curves = curves();
        let take = day_index(takeover()) as f64;
        let december = day_index(early_december()) as f64;
        let born_f = proto.born as f64;
        let (x, y) = match proto.named {
            Some(k) => {
                let Named { before, after, .. } = NAMED[k];
                // Exact at both dates: the secular growth between them counts towards the
                // December figure.
                let dhs = (at(&curves.hs, take) - at(&curves.hs, born_f)).max(1.0);
                let x = (before - 1.0) / dhs;
                let secular = x * (at(&curves.hs, december) - at(&curves.hs, born_f));
                let dhw = (at(&curves.hw, december) - at(&curves.hw, born_f)).max(0.05);
                (x, (after - 1.0 - secular).max(0.0) / dhw)
            }
            None => split_growth(rng, proto.size, born_f),
        };
        let log_size = (proto.size + 1.0).log10();
        let open_registrations = match proto.named {
            Some(_) => true,
            None if proto.size < 1.5 => rng.random::<f64>() < 0.05,
            None => rng.random::<f64>() < (0.35 + 0.1 * log_size).min(0.85),
        };
        let reach = if proto.named.is_some() {
            1.0
        } else {
            0.02 + 0.98 * (log_size / 5.5).min(1.0).powi(2)
        };
        let latency = &self.config.latency;
        let latency_ms = (latency.median_ms * (latency.sigma * normal(rng)).exp()) as f32;
        let death_roll = rng.random::<f64>();
        let death_mode = if death_roll < 0.45 {
            DeathMode::NoSuchDomain
        } else if death_roll < 0.75 {
            DeathMode::Refused
        } else {
            DeathMode::Gone
        };
        let profile = Profile {
            born_day: proto.born,
            died_day: proto.died.unwrap_or(i64::MAX),
            x,
            y,
            m: (0.35 * normal(rng)).exp(),
            k: 0.5 * (0.8 * normal(rng)).exp(),
            lf: rng.random_range(0.6..0.8),
            admin: rng.random::<f64>() < 0.85,
            reach,
            visibility: 0.75 + 0.25 * (log_size / 4.0).min(1.0),
            death_mode,
            inflation: rng.random_range(10.0..20.0),
            named: proto.named.is_some(),
            lists_flood: proto.named.is_some() || rng.random::<f64>() < 0.03,
        };
        self.servers.push(Server {
            id,
            domain,
            software: proto.software,
            version,
            born,
            died: proto.died.map(date_of),
            failure: None,
            quirks: Quirks::NONE,
            open_registrations,
            latency_ms,
            target: None,
            flood: false,
            opt_out: None,
            sibling_of: None,
            adversary: None,
        });
        self.profiles.push(profile);
    }

    /// The flood: fake subdomains of one synthetic registrable domain, tiny Mastodon servers
    /// born from June 2022 on, never dying.
    fn add_flood(&mut self, rng: &mut ChaCha8Rng, used: &mut HashSet<String>) {
        let first = day_index(ymd(2022, 6, 1));
        let last = day_index(self.config.scenario.end());
        for _ in 0..World::flood_size(&self.config) {
            let domain = loop {
                let candidate = format!("{}.{}", names::random_label(rng), self.flood_parent);
                if used.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let born = rng.random_range(first..=last);
            let size = rng.random_range(1.0..3.5f64).floor();
            let dhs = (at(&curves().hs, last as f64) - at(&curves().hs, born as f64)).max(1.0);
            let latency = &self.config.latency;
            let id = self.servers.len() as ServerId;
            self.servers.push(Server {
                id,
                domain,
                software: Software::Mastodon,
                version: "4.0.2".to_string(),
                born: date_of(born),
                died: None,
                failure: None,
                quirks: Quirks::NONE,
                open_registrations: true,
                latency_ms: (latency.median_ms * (latency.sigma * normal(rng)).exp()) as f32,
                target: None,
                flood: true,
                opt_out: None,
                sibling_of: None,
                adversary: None,
            });
            self.profiles.push(Profile {
                born_day: born,
                died_day: i64::MAX,
                x: (size - 1.0) / dhs,
                y: 0.0,
                m: 1.0,
                k: 0.3,
                lf: 0.7,
                admin: true,
                reach: 0.02,
                visibility: 0.0,
                death_mode: DeathMode::NoSuchDomain,
                inflation: 10.0,
                named: false,
                lists_flood: false,
            });
        }
    }

    /// Second local domains of Takahē installations, each a server of its own.
    ///
    /// Takahē serves several local domains from one installation (`users.models.Domain`; "multiple
    /// domain support" heads its README), and on every one of them `/.well-known/nodeinfo` links
    /// to the main domain over https: `users/views/activitypub.py` reads
    /// `request.META.get("HOST", settings.MAIN_DOMAIN)`, a key Django never sets, in every
    /// release from 0.3.0 to 0.11.0 (live fixture `takahe-0.11.0/second-domain/`). A second
    /// domain is born after its installation, dies with it, runs its version and its machine
    /// (latency), and has users of its own. No census measured how many installations use a
    /// second domain: [`TAKAHE_SIBLING_SHARE`] is an assumption, with at least one sibling in any
    /// world that has a Takahē server, so every world shows the behaviour.
    fn add_takahe_siblings(&mut self, used: &mut HashSet<String>) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_SIBLINGS);
        let mains: Vec<ServerId> = self
            .servers
            .iter()
            .filter(|s| s.software == Software::Takahe && !s.flood && s.failure.is_none())
            .map(|s| s.id)
            .collect();
        if mains.is_empty() {
            return;
        }
        let count = stochastic_round(&mut rng, TAKAHE_SIBLING_SHARE * mains.len() as f64).max(1);
        let mut pool = mains;
        pool.shuffle(&mut rng);
        let last = day_index(self.config.scenario.end());
        for main in pool.into_iter().take(count) {
            let (main_born, main_died) = {
                let p = &self.profiles[main as usize];
                (p.born_day, p.died_day)
            };
            let latest = last.min(main_died.saturating_sub(1)).max(main_born);
            let born = rng.random_range(main_born..=latest);
            let size = if rng.random::<f64>() < 0.2 {
                1.0
            } else {
                (3.0 * (1.5 * normal(&mut rng)).exp()).clamp(1.0, 5_000.0)
            };
            self.push_server(
                &mut rng,
                used,
                Proto {
                    software: Software::Takahe,
                    born,
                    died: (main_died != i64::MAX).then_some(main_died),
                    size,
                    named: None,
                },
            );
            let id = self.servers.len() - 1;
            let (version, latency_ms) = {
                let m = &self.servers[main as usize];
                (m.version.clone(), m.latency_ms)
            };
            let sibling = &mut self.servers[id];
            sibling.sibling_of = Some(main);
            sibling.version = version;
            sibling.latency_ms = latency_ms;
        }
    }

    /// The parties that try to inflate the census ([`crate::Adversaries`]): small Mastodon
    /// servers born in 2021, never dying, without failures or quirks, added last from their own
    /// random stream (no earlier server changes). They are known to the servers that list the
    /// flood (the named big ones among them), so a crawl from the usual seeds finds them.
    fn add_adversaries(&mut self, used: &mut HashSet<String>) {
        let adversaries = self.config.failures.adversaries;
        if !adversaries.any() {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_ADVERSARIES);
        let born = day_index(ymd(2021, 6, 1));
        let mut kinds = Vec::new();
        kinds.extend(std::iter::repeat_n(
            Adversary::InflatedSubdomain,
            adversaries.inflated_subdomains,
        ));
        kinds.extend(std::iter::repeat_n(
            Adversary::JumpBeyondTotal,
            adversaries.jumpers,
        ));
        if adversaries.invented_peers > 0 {
            kinds.push(Adversary::InventedPeers);
        }
        let vocabulary = names::vocabulary();
        let parent = loop {
            let parent = format!(
                "{}{}.{}",
                vocabulary.word(&mut rng),
                rng.random_range(10..100),
                vocabulary.tld(&mut rng)
            );
            if !used.contains(&parent) {
                break parent;
            }
        };
        for kind in kinds {
            self.push_server(
                &mut rng,
                used,
                Proto {
                    software: Software::Mastodon,
                    born,
                    died: None,
                    size: 40.0,
                    named: None,
                },
            );
            let id = self.servers.len() - 1;
            if kind == Adversary::InflatedSubdomain {
                let domain = loop {
                    let candidate = format!("{}.{parent}", names::random_label(&mut rng));
                    if used.insert(candidate.clone()) {
                        break candidate;
                    }
                };
                self.servers[id].domain = domain;
            }
            self.servers[id].adversary = Some(kind);
            self.servers[id].version = "4.0.2".to_string();
            let profile = &mut self.profiles[id];
            profile.died_day = i64::MAX;
            profile.visibility = 0.0;
        }
    }

    /// The invented names in an [`Adversary::InventedPeers`] server's peer list: random labels
    /// under random words and top-level domains, none of them a server of the world.
    fn invented_peers(&self, id: ServerId) -> Vec<String> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_ADVERSARIES ^ u64::from(id));
        let vocabulary = names::vocabulary();
        (0..self.config.failures.adversaries.invented_peers)
            .map(|_| {
                format!(
                    "{}.{}{}.{}",
                    names::random_label(&mut rng),
                    vocabulary.word(&mut rng),
                    rng.random_range(10..1000),
                    vocabulary.tld(&mut rng)
                )
            })
            .filter(|name| self.lookup(name).is_none())
            .collect()
    }

    /// Opt-outs that start in the middle of a server's history: the admin adds a
    /// `User-agent: fedicensus` / `Disallow: /` group to robots.txt on a day inside the scenario
    /// (Takahē has a setting that writes exactly that, live fixture
    /// `takahe-0.11.0/robots.txt-with-fedicensus-opt-out`), and one in five removes it again
    /// later. A share `failures.robots_opt_outs` of all servers, weighted four to one towards
    /// small ones (20 users or fewer in December 2022): single admins opt out, big servers rarely
    /// do. Eligible: answering servers without a failure, the named ones and flood hosts
    /// excepted, and neither GoToSocial (whose robots.txt already refuses every crawler, see
    /// [`World::robots_refuses_us`]) nor Mitra (whose robots.txt is an HTML page).
    fn assign_opt_outs(&mut self) {
        let rate = self.config.failures.robots_opt_outs.clamp(0.0, 1.0);
        if rate <= 0.0 {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_OPT_OUTS);
        let first = day_index(self.config.scenario.start());
        let last = day_index(self.config.scenario.end());
        let december = day_index(early_december()) as f64;
        let real = self.servers.iter().filter(|s| !s.flood).count();
        let mut keyed: Vec<(f64, ServerId)> = self
            .servers
            .iter()
            .filter(|s| {
                let p = &self.profiles[s.id as usize];
                !s.flood
                    && !p.named
                    && s.failure.is_none()
                    && s.software != Software::Gotosocial
                    && !is_mitra(&s.software)
                    && p.born_day < last - 21
                    && p.died_day > first + 21
            })
            .map(|s| {
                let small = self.figures_at(s.id as usize, december).users <= 20;
                let weight: f64 = if small { 4.0 } else { 1.0 };
                // Weighted sampling without replacement (Efraimidis and Spirakis): the largest
                // keys u^(1/w) win.
                let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                (u.powf(1.0 / weight), s.id)
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let count = stochastic_round(&mut rng, rate * real as f64);
        for (_, id) in keyed.into_iter().take(count) {
            let p = self.profiles[id as usize];
            let from_first = first.max(p.born_day) + 7;
            let from_last = (last - 14).min(p.died_day - 7).max(from_first);
            let from = rng.random_range(from_first..=from_last);
            let until = if rng.random::<f64>() < 0.2 && from + 14 < last {
                Some(date_of(rng.random_range(from + 14..=last)))
            } else {
                None
            };
            self.servers[id as usize].opt_out = Some(OptOut {
                from: date_of(from),
                until,
            });
        }
    }

    /// The assignment order: non-flood servers shuffled, with the named big servers last, so
    /// that they stay healthy unless the rates leave no room.
    fn assignment_order(&self, rng: &mut ChaCha8Rng) -> Vec<ServerId> {
        let mut order: Vec<ServerId> = self
            .servers
            .iter()
            .filter(|s| !s.flood && !self.profiles[s.id as usize].named)
            .map(|s| s.id)
            .collect();
        order.shuffle(rng);
        order.extend(
            self.servers
                .iter()
                .filter(|s| self.profiles[s.id as usize].named)
                .map(|s| s.id),
        );
        order
    }

    /// Failures by exact (stochastically rounded) counts of the mix's shares, so that a rate
    /// of 1.0 gives every server the failure, except the healthy targets `Moved` and
    /// `RedirectOtherHost` need.
    fn assign_failures(&mut self, rng: &mut ChaCha8Rng) {
        let mix = self.config.failures.failures.clone();
        let order = self.assignment_order(rng);
        let total = order.len();
        let redirects = mix
            .iter()
            .any(|(f, r)| matches!(f, Failure::Moved | Failure::RedirectOtherHost) && *r > 0.0);
        let reserved = if redirects { total.min(3) } else { 0 };
        let assignable = total - reserved;
        let mut next = 0;
        for (failure, rate) in &mix {
            let count = stochastic_round(rng, rate.clamp(0.0, 1.0) * total as f64);
            for id in order.iter().skip(next).take(count.min(assignable - next)) {
                self.servers[*id as usize].failure = Some(*failure);
            }
            next = (next + count).min(assignable);
        }
        // Targets: healthy servers that never die, born before the scenario if possible.
        let healthy: Vec<ServerId> = self
            .servers
            .iter()
            .filter(|s| !s.flood && s.failure.is_none())
            .map(|s| s.id)
            .collect();
        let early = day_index(ymd(2022, 6, 1));
        let preferred: Vec<ServerId> = healthy
            .iter()
            .copied()
            .filter(|id| {
                let p = &self.profiles[*id as usize];
                p.died_day == i64::MAX && p.born_day < early
            })
            .collect();
        let pool = if preferred.is_empty() {
            &healthy
        } else {
            &preferred
        };
        for i in 0..self.servers.len() {
            let server = &self.servers[i];
            if matches!(
                server.failure,
                Some(Failure::Moved | Failure::RedirectOtherHost)
            ) && !pool.is_empty()
            {
                self.servers[i].target = Some(pool[rng.random_range(0..pool.len())]);
            }
            if matches!(
                self.servers[i].failure,
                Some(Failure::SsrfPrivate | Failure::SsrfLoopback | Failure::SsrfLinkLocal)
            ) {
                // Bait is only bait if crawlers meet it: every peer list carries it.
                self.profiles[i].visibility = 1.0;
            }
        }
    }

    /// Quirks: each a share of the servers whose software fits it, drawn independently.
    fn assign_quirks(&mut self, rng: &mut ChaCha8Rng) {
        let mix = self.config.failures.quirks.clone();
        let real_servers = self.servers.iter().filter(|s| !s.flood).count();
        for (quirk, rate) in &mix {
            let mut eligible: Vec<ServerId> = self
                .servers
                .iter()
                .filter(|s| {
                    !s.flood
                        && !self.profiles[s.id as usize].named
                        && quirk_fits(*quirk, &s.software)
                        && (*quirk != Quirk::HostileStrings || shows_hostile_strings(s))
                })
                .map(|s| s.id)
                .collect();
            eligible.shuffle(rng);
            eligible.extend(
                self.servers
                    .iter()
                    .filter(|s| {
                        self.profiles[s.id as usize].named && quirk_fits(*quirk, &s.software)
                    })
                    .map(|s| s.id),
            );
            let rate = rate.clamp(0.0, 1.0);
            let mut count = stochastic_round(rng, rate * eligible.len() as f64);
            // A quirk the mix asks for at a share that would touch at least one server of the
            // whole world appears at least once, even when its software is rare.
            if count == 0 && rate > 0.0 && rate * real_servers as f64 >= 1.0 {
                count = 1;
            }
            for id in eligible.iter().take(count) {
                self.servers[*id as usize].quirks.insert(*quirk);
            }
        }
    }

    /// Scales the synthetic Mastodon servers' growth weights and the global activity
    /// multipliers so the calibration targets (times `scale`, the share of the full size) hold
    /// exactly on the target dates.
    fn calibrate(&mut self, scale: f64) {
        let t1 = day_index(takeover()) as f64 + 0.5;
        let t2 = day_index(early_december()) as f64 + 0.5;
        let curves = curves();
        let counted: Vec<usize> = (0..self.servers.len())
            .filter(|i| self.servers[*i].software == Software::Mastodon && !self.servers[*i].flood)
            .collect();
        // Users are linear in (x, y): solve the two equations for the two scales.
        let mut sums = [[0.0f64; 4]; 2]; // [constant, x-part, y-part, named]
        for (row, t) in [t1, t2].iter().enumerate() {
            for &i in &counted {
                if !self.reachable_at(i, *t) {
                    continue;
                }
                let p = &self.profiles[i];
                let b = p.born_day as f64;
                if p.named {
                    sums[row][3] += self.figures_at(i, *t).users as f64;
                } else {
                    sums[row][0] += 1.0;
                    sums[row][1] += p.x * (at(&curves.hs, *t) - at(&curves.hs, b));
                    sums[row][2] += p.y * (at(&curves.hw, *t) - at(&curves.hw, b));
                }
            }
        }
        let r1 = targets::USERS_AT_TAKEOVER * scale - sums[0][0] - sums[0][3];
        let r2 = targets::USERS_EARLY_DECEMBER * scale - sums[1][0] - sums[1][3];
        let det = sums[0][1] * sums[1][2] - sums[1][1] * sums[0][2];
        if det.abs() > 1e-9 {
            let alpha = (r1 * sums[1][2] - r2 * sums[0][2]) / det;
            let beta = (sums[0][1] * r2 - sums[1][1] * r1) / det;
            if alpha.is_finite() && beta.is_finite() && alpha > 0.0 && beta > 0.0 {
                for &i in &counted {
                    let p = &mut self.profiles[i];
                    if !p.named {
                        p.x *= alpha;
                        p.y *= beta;
                    }
                }
            }
        }
        // Monthly actives are nearly linear in (kp, kq); a few fixed-point rounds absorb the
        // rounding, the admin floor and the cap at the registered count.
        let mau_sum = |world: &World, t: f64| -> f64 {
            counted
                .iter()
                .filter(|i| world.reachable_at(**i, t))
                .map(|i| world.figures_at(*i, t).active_month as f64)
                .sum()
        };
        for _ in 0..4 {
            let s1 = mau_sum(self, t1);
            if s1 > 0.0 {
                let factor = targets::MAU_AT_TAKEOVER * scale / s1;
                if factor.is_finite() && factor > 0.0 {
                    self.kp *= factor;
                }
            }
            let saved = self.kq;
            self.kq = 0.0;
            let old_part = mau_sum(self, t2);
            self.kq = saved;
            let s2 = mau_sum(self, t2);
            if s2 - old_part > 0.0 {
                let factor = (targets::MAU_EARLY_DECEMBER * scale - old_part) / (s2 - old_part);
                if factor.is_finite() && factor > 0.0 {
                    self.kq *= factor;
                }
            }
        }
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

    /// How many flood hosts a world of this config has: `failures.flood_subdomains` at the
    /// scenario's full size, scaled with the world (so a dozen-server world is not drowned).
    pub fn flood_size(config: &WorldConfig) -> usize {
        let full = config.scenario.default_servers();
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
        let curves = curves();
        let b = p.born_day as f64;
        let day = day.min(p.died_day as f64);
        let pre = 1.0 + p.x * (at(&curves.hs, day) - at(&curves.hs, b)).max(0.0);
        let wave = p.y * (at(&curves.hw, day) - at(&curves.hw, b)).max(0.0);
        (pre, wave)
    }

    /// Monthly actives before rounding, flooring and capping.
    fn raw_active(&self, p: &Profile, day: f64) -> f64 {
        let curves = curves();
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
        let curves = curves();
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

    /// Whether server `i` knows server `j` at fractional day `day` (both born, their lives
    /// overlapping; flood hosts only for the servers that list the flood).
    fn knows(&self, i: usize, j: usize, day: f64) -> bool {
        (self.profiles[j].born_day as f64) <= day && self.knows_if_born(i, j)
    }

    /// Whether server `i` knows server `j` apart from `j`'s birth: everything [`World::knows`]
    /// asks except the one date-dependent condition.
    fn knows_if_born(&self, i: usize, j: usize) -> bool {
        if i == j {
            return false;
        }
        let (pi, pj) = (&self.profiles[i], &self.profiles[j]);
        if pj.died_day < pi.born_day {
            return false;
        }
        if self.servers[j].flood || self.servers[j].adversary.is_some() {
            return pi.lists_flood;
        }
        unit(hash3(self.config.seed, i as u64, j as u64)) < pi.reach * pj.visibility
    }

    /// The servers `i` knows at fractional day `day`, in id order: [`World::knows`], through the
    /// per-server cache of knowable servers.
    fn known_at(&self, i: usize, day: f64) -> impl Iterator<Item = usize> + '_ {
        let knowable = self.knowable[i].get_or_init(|| {
            (0..self.servers.len())
                .filter(|j| self.knows_if_born(i, *j))
                .map(|j| j as ServerId)
                .collect()
        });
        knowable
            .iter()
            .map(|j| *j as usize)
            .filter(move |j| (self.profiles[*j].born_day as f64) <= day)
    }

    /// How many junk entries `id`'s peer list carries when it knows `known` servers.
    fn junk_count(&self, id: ServerId, known: usize) -> usize {
        let seed = self.config.seed ^ TAG_JUNK;
        let expected = self.config.failures.peer_junk.max(0.0) * known as f64;
        let extra = unit(hash3(seed, u64::from(id), u64::MAX)) < expected - expected.floor();
        expected.floor() as usize + usize::from(extra)
    }

    /// The length of [`World::peers`]`(id, at)`, without building the list (the instance APIs
    /// report it as their domain count).
    pub fn peer_count(&self, id: ServerId, at: DateTime<Utc>) -> usize {
        let i = id as usize;
        let day = day_of(at);
        if day < self.profiles[i].born_day as f64 {
            return 0;
        }
        let known = self.known_at(i, day).count();
        let invented = if self.servers[i].adversary == Some(Adversary::InventedPeers) {
            self.invented_peers(id).len()
        } else {
            0
        };
        known + self.junk_count(id, known) + invented
    }

    /// The peer list `id` serves at `at`, junk included.
    ///
    /// The servers it knows (dead ones included, as real lists keep them), in id order, with
    /// `failures.peer_junk` of junk entries mixed in: junk of the real mastodon.social list and
    /// uppercase and trailing-dot duplicates of real members.
    pub fn peers(&self, id: ServerId, at: DateTime<Utc>) -> Vec<String> {
        let i = id as usize;
        let day = day_of(at);
        if day < self.profiles[i].born_day as f64 {
            return Vec::new();
        }
        let mut peers: Vec<String> = self
            .known_at(i, day)
            .map(|j| self.servers[j].domain.clone())
            .collect();
        let seed = self.config.seed ^ TAG_JUNK;
        let count = self.junk_count(id, peers.len());
        let junk = &names::vocabulary().junk;
        for k in 0..count as u64 {
            let h = hash3(seed, u64::from(id), k);
            let entry = match h % 10 {
                7 | 8 if !peers.is_empty() => {
                    let member = &peers[(mix(h) % peers.len() as u64) as usize];
                    if h % 10 == 7 {
                        uppercase_some(member, mix(h ^ 5))
                    } else {
                        format!("{member}.")
                    }
                }
                // Junk of the real list in rotation from a per-server offset, so a long list
                // carries every kind rather than a random few.
                _ if !junk.is_empty() => {
                    let offset = mix(hash3(seed, u64::from(id), u64::MAX - 1));
                    junk[(offset.wrapping_add(k) % junk.len() as u64) as usize].clone()
                }
                _ => continue,
            };
            let position = (mix(h ^ 9) % (peers.len() as u64 + 1)) as usize;
            peers.insert(position, entry);
        }
        if self.servers[i].adversary == Some(Adversary::InventedPeers) {
            peers.extend(self.invented_peers(id));
        }
        peers
    }

    /// Whether `id` serves a readable peer list at `at`: alive, without a failure that stops a
    /// polite crawler, of software that has one ([`software_serves_peers`]) and without
    /// `PeersDisabled` or `LimitedFederation`.
    pub fn serves_peers(&self, id: ServerId, at: DateTime<Utc>) -> bool {
        let s = &self.servers[id as usize];
        self.reachable_at(id as usize, day_of(at))
            && software_serves_peers_at(&s.software, self.version_at(id, at))
            && !s.quirks.has(Quirk::PeersDisabled)
            && !s.quirks.has(Quirk::LimitedFederation)
    }

    /// The world servers a crawler finds at `at` by following peer lists from `seeds`
    /// (breadth first, expanding only servers that [`World::serves_peers`]). Seeds are
    /// included. Junk entries are ignored (their normalised forms are members anyway).
    pub fn discoverable_from(&self, seeds: &[ServerId], at: DateTime<Utc>) -> BTreeSet<ServerId> {
        let day = day_of(at);
        let mut found = vec![false; self.servers.len()];
        let mut queue = std::collections::VecDeque::new();
        for seed in seeds {
            if (*seed as usize) < self.servers.len() && !found[*seed as usize] {
                found[*seed as usize] = true;
                queue.push_back(*seed);
            }
        }
        // Scanning only the servers not found yet keeps this near-linear: the first big
        // server finds most of the world.
        let mut unfound: Vec<usize> = (0..self.servers.len()).filter(|j| !found[*j]).collect();
        while let Some(id) = queue.pop_front() {
            if !self.serves_peers(id, at) {
                continue;
            }
            let i = id as usize;
            unfound.retain(|j| {
                if self.knows(i, *j, day) {
                    found[*j] = true;
                    queue.push_back(*j as ServerId);
                    false
                } else {
                    true
                }
            });
        }
        (0..self.servers.len())
            .filter(|j| found[*j])
            .map(|j| j as ServerId)
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

/// Uppercases some letters of `name` (`Mastodon.Social`, `MSTDN.jp`), as real lists carry.
fn uppercase_some(name: &str, h: u64) -> String {
    match h % 3 {
        0 => name.to_ascii_uppercase(),
        1 => name
            .split('.')
            .map(|label| {
                let mut chars = label.chars();
                chars.next().map_or(String::new(), |c| {
                    c.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join("."),
        _ => {
            let mut chars: Vec<char> = name.chars().collect();
            if let Some(c) = chars.first_mut() {
                *c = c.to_ascii_uppercase();
            }
            chars.into_iter().collect()
        }
    }
}

/// Registered users in early December 2022 of the synthetic Mastodon server at percentile `u`
/// (0 = largest): a Zipf-like top 1 %, a power-law body down to 2 users at the 88th percentile,
/// single-user servers after.
fn mastodon_size_at_percentile(u: f64) -> f64 {
    if u < 0.01 {
        (5_000.0 * (u / 0.01).powf(-0.75)).min(90_000.0)
    } else if u < 0.885 {
        (5_000.0 * (u / 0.01).powf(-1.752)).max(2.0)
    } else {
        1.0
    }
}

/// Splits a December size into weights on the secular and wave curves: servers born before
/// the takeover had most of their users already, those born after got all from the wave.
fn split_growth(rng: &mut ChaCha8Rng, size: f64, born: f64) -> (f64, f64) {
    if size <= 1.0 {
        return (0.0, 0.0);
    }
    let curves = curves();
    let take = day_index(takeover()) as f64;
    let december = day_index(early_december()) as f64;
    let reference = december.max(born + 30.0);
    let dhw = (at(&curves.hw, reference) - at(&curves.hw, born)).max(0.05);
    if born < take {
        let before = 0.45 + 0.45 * rng.random::<f64>();
        let dhs = (at(&curves.hs, take) - at(&curves.hs, born)).max(1.0);
        let x = (size * before - 1.0).max(0.0) / dhs;
        let y = size * (1.0 - before) / dhw;
        (x, y)
    } else {
        (0.0, (size - 1.0) / dhw)
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
