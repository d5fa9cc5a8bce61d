//! The world model: determinism, calibration to the real fediverse, and the contracts the
//! serving layer relies on (activity agrees with history, names resolve as failures say).

use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::Software;
use fedicensus_sim::truth::{truth_summary, write_csv};
use fedicensus_sim::world::{DeathMode, Resolution, BAIT_LOOPBACK_ADDR, REFUSED_ADDR};
use fedicensus_sim::{Failure, FailureMix, Quirk, Scenario, World, WorldConfig};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

pub(crate) fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// The full-size world, generated once for every test that needs it.
pub(crate) fn full_world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::generate(WorldConfig::new(Scenario::Migration2022, 2022)))
}

pub(crate) fn small(servers: usize, seed: u64, failures: FailureMix) -> World {
    let mut config = WorldConfig::new(Scenario::Migration2022, seed);
    config.servers = Some(servers);
    config.failures = failures;
    World::generate(config)
}

fn csv(world: &World, at: DateTime<Utc>) -> Vec<u8> {
    let mut out = Vec::new();
    write_csv(world, at, &mut out).expect("writing to a Vec cannot fail");
    out
}

const LISTEN: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));

fn within(actual: f64, target: f64, tolerance: f64) -> bool {
    (actual - target).abs() <= target * tolerance
}

#[test]
fn same_seed_gives_the_same_world() {
    let a = small(3_000, 11, FailureMix::default());
    let b = small(3_000, 11, FailureMix::default());
    let at = day(2022, 11, 15);
    assert_eq!(csv(&a, at), csv(&b, at));
    let id = a.lookup("mastodon.social").expect("named").id;
    assert_eq!(a.peers(id, at), b.peers(id, at));
}

#[test]
fn different_seeds_give_different_worlds() {
    let at = day(2022, 11, 15);
    let a = small(3_000, 11, FailureMix::default());
    let b = small(3_000, 12, FailureMix::default());
    assert_ne!(csv(&a, at), csv(&b, at));
}

#[test]
fn full_world_hits_the_mastodon_calibration_targets() {
    let world = full_world();
    let before = truth_summary(world, day(2022, 10, 27)).software("mastodon");
    let after = truth_summary(world, day(2022, 11, 27)).software("mastodon");
    let december = truth_summary(world, day(2022, 12, 5)).software("mastodon");
    let report = format!("takeover {before:?}\nmonth later {after:?}\ndecember {december:?}");
    assert!(within(before.reachable as f64, 3_300.0, 0.03), "{report}");
    assert!(within(after.reachable as f64, 8_400.0, 0.03), "{report}");
    assert!(within(before.users as f64, 3_600_000.0, 0.03), "{report}");
    assert!(within(december.users as f64, 5_400_000.0, 0.03), "{report}");
    assert!(
        within(before.active_month as f64, 300_000.0, 0.03),
        "{report}"
    );
    assert!(
        within(december.active_month as f64, 2_500_000.0, 0.03),
        "{report}"
    );
    // About 1:11 before the wave, nearly half right after.
    let ratio = before.active_month as f64 / before.users as f64;
    assert!((0.07..0.11).contains(&ratio), "{report}");
    let ratio = december.active_month as f64 / december.users as f64;
    assert!((0.40..0.52).contains(&ratio), "{report}");
}

#[test]
fn calibration_holds_for_other_seeds_too() {
    for seed in [1, 7] {
        let world = World::generate(WorldConfig::new(Scenario::Migration2022, seed));
        let before = truth_summary(&world, day(2022, 10, 27)).software("mastodon");
        let after = truth_summary(&world, day(2022, 11, 27)).software("mastodon");
        assert!(
            within(before.reachable as f64, 3_300.0, 0.03),
            "seed {seed}: {before:?}"
        );
        assert!(
            within(after.reachable as f64, 8_400.0, 0.03),
            "seed {seed}: {after:?}"
        );
    }
}

#[test]
fn growth_is_slow_then_surges_in_november_then_slows() {
    let world = full_world();
    let count = |y, m, d| {
        truth_summary(world, day(y, m, d))
            .software("mastodon")
            .reachable as f64
    };
    let september = count(2022, 10, 27) - count(2022, 9, 27);
    let november = count(2022, 11, 27) - count(2022, 10, 27);
    let december = count(2022, 12, 27) - count(2022, 11, 27);
    assert!(november > 5.0 * september, "{september} {november}");
    assert!(december < november / 2.0, "{november} {december}");
    assert!(count(2022, 6, 1) > 2_500.0);
}

#[test]
fn mastodon_sizes_are_heavy_tailed() {
    let world = full_world();
    let at = day(2022, 12, 5);
    let takeover = day(2022, 10, 27);
    let mut sizes: Vec<(u64, u64)> = world
        .servers()
        .iter()
        .filter(|s| s.software == Software::Mastodon && !s.flood)
        .filter(|s| world.state(s.id, at).reachable)
        .map(|s| {
            let now = world.state(s.id, at).figures.users;
            (now, now - world.state(s.id, takeover).figures.users)
        })
        .collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = sizes.iter().map(|s| s.0).sum();
    let top: u64 = sizes.iter().take(sizes.len() / 100).map(|s| s.0).sum();
    let top_share = top as f64 / total as f64;
    assert!(
        (0.80..0.88).contains(&top_share),
        "top 1 % share {top_share}"
    );
    let single = sizes.iter().filter(|s| s.0 == 1).count() as f64 / sizes.len() as f64;
    assert!((0.11..0.15).contains(&single), "single-user share {single}");
    let migrated: u64 = sizes.iter().map(|s| s.1).sum();
    let on_top: u64 = sizes.iter().take(sizes.len() / 4).map(|s| s.1).sum();
    let landed = on_top as f64 / migrated as f64;
    assert!(
        landed > 0.93,
        "share of migrants on the largest 25 %: {landed}"
    );
    let users = |host: &str| {
        let id = world.lookup(host).expect("named server").id;
        world.state(id, at).figures.users as f64
    };
    assert!(within(users("mastodon.social"), 918_000.0, 0.03));
    assert!(within(users("pawoo.net"), 794_000.0, 0.03));
    assert!(within(users("mstdn.jp"), 299_000.0, 0.03));
    assert_eq!(sizes[0].0 as f64, users("mastodon.social"));
}

#[test]
fn the_software_mix_is_realistic() {
    let world = full_world();
    let summary = truth_summary(world, day(2022, 12, 31));
    for name in [
        "pleroma",
        "akkoma",
        "misskey",
        "calckey",
        "foundkey",
        "meisskey",
        "lemmy",
        "peertube",
        "pixelfed",
        "friendica",
        "gotosocial",
        "diaspora",
        "wordpress",
        "writefreely",
        "bookwyrm",
        "hubzilla",
        "funkwhale",
        "mobilizon",
        "takahe",
    ] {
        assert!(summary.software(name).alive > 0, "no live {name} server");
    }
    for absent in ["sharkey", "firefish", "iceshrimp", "kbin", "mbin"] {
        assert_eq!(
            summary.software(absent).known,
            0,
            "{absent} did not exist in 2022"
        );
    }
    let mastodon = summary.software("mastodon").known as f64;
    assert!(mastodon / summary.total.known as f64 > 0.6);
    assert!(
        summary.software("lemmy").known < 200,
        "Lemmy was small in 2022"
    );
    let others = world
        .servers()
        .iter()
        .filter(|s| matches!(s.software, Software::Other(_)))
        .count();
    assert!(others > 100);
    assert!(world
        .servers()
        .iter()
        .any(|s| s.version == "2.5.51-9314-g9528fc46-shitposterclub"));
    assert!(world
        .servers()
        .iter()
        .any(|s| s.version.ends_with("+glitch")));
}

#[test]
fn world_domains_are_unique_clean_hostnames() {
    let world = full_world();
    let mut seen = HashSet::new();
    for server in world.servers() {
        assert!(
            fedicensus_sim::names::is_clean_hostname(&server.domain),
            "{}",
            server.domain
        );
        assert!(
            seen.insert(server.domain.as_str()),
            "duplicate {}",
            server.domain
        );
        assert_eq!(world.lookup(&server.domain).map(|s| s.id), Some(server.id));
    }
    assert!(world.lookup("MASTODON.SOCIAL").is_none(), "lookup is exact");
}

#[test]
fn deaths_happen_at_a_realistic_rate() {
    let world = full_world();
    let start = day(2021, 9, 1);
    let end = day(2022, 12, 1);
    let cohort: Vec<_> = world
        .servers()
        .iter()
        .filter(|s| !s.flood && world.state(s.id, start).alive)
        .collect();
    let gone = cohort.iter().filter(|s| world.is_dead(s.id, end)).count() as f64;
    let share = gone / cohort.len() as f64;
    assert!(
        (0.17..0.26).contains(&share),
        "{share} gone within 15 months"
    );
    let modes: HashSet<_> = cohort
        .iter()
        .filter_map(|s| world.death_mode(s.id))
        .collect();
    assert_eq!(modes.len(), 3);
}

#[test]
fn activity_agrees_with_the_servers_history() {
    let world = full_world();
    let at = Utc
        .with_ymd_and_hms(2022, 11, 23, 15, 30, 0)
        .single()
        .expect("valid");
    let mut checked = 0;
    for server in world.servers().iter().step_by(37) {
        let id = server.id;
        let weeks = world.activity(id, at);
        assert_eq!(weeks.len(), 12);
        let monday = Utc
            .with_ymd_and_hms(2022, 11, 21, 0, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(weeks[0].week, monday.timestamp());
        for pair in weeks.windows(2) {
            assert_eq!(pair[0].week - pair[1].week, 7 * 86_400);
        }
        let now = world.state(id, at).figures;
        let oldest = DateTime::from_timestamp(weeks[11].week, 0).expect("valid timestamp");
        let then = world.state(id, oldest).figures;
        let registrations: u64 = weeks.iter().map(|w| w.registrations).sum();
        let statuses: u64 = weeks.iter().map(|w| w.statuses).sum();
        assert_eq!(registrations, now.users - then.users, "{}", server.domain);
        assert_eq!(
            statuses,
            now.local_posts - then.local_posts,
            "{}",
            server.domain
        );
        for week in &weeks[1..] {
            let end = DateTime::from_timestamp(week.week + 7 * 86_400, 0).expect("valid");
            let mau = world.state(id, end).figures.active_month;
            assert!(week.logins <= mau, "{}: {week:?} mau {mau}", server.domain);
            if mau >= 100 {
                let share = week.logins as f64 / mau as f64;
                assert!((0.55..=0.85).contains(&share), "{share}");
            }
        }
        checked += 1;
    }
    assert!(checked > 100);
}

#[test]
fn figures_change_smoothly_and_never_go_backwards() {
    let world = full_world();
    let id = world.lookup("mastodon.social").expect("named").id;
    let mut last = world.state(id, day(2022, 11, 1)).figures;
    for hour in 1..200 {
        let at = day(2022, 11, 1) + chrono::TimeDelta::hours(hour);
        let now = world.state(id, at).figures;
        assert!(now.users >= last.users && now.local_posts >= last.local_posts);
        assert!(now.users - last.users < 5_000, "jump at hour {hour}");
        last = now;
    }
}

#[test]
fn almost_every_reachable_server_is_discoverable_from_the_big_servers() {
    let world = full_world();
    let seeds: Vec<_> = ["mastodon.social", "pawoo.net", "mstdn.jp"]
        .iter()
        .map(|h| world.lookup(h).expect("named").id)
        .collect();
    for at in [day(2022, 9, 1), day(2022, 11, 27)] {
        let found = world.discoverable_from(&seeds, at);
        let reachable: Vec<_> = world
            .servers()
            .iter()
            .filter(|s| world.state(s.id, at).reachable)
            .collect();
        let hit = reachable.iter().filter(|s| found.contains(&s.id)).count();
        let share = hit as f64 / reachable.len() as f64;
        assert!(share >= 0.995, "{share} discoverable at {at}");
    }
}

#[test]
fn peer_lists_carry_dead_hosts_junk_and_the_flood() {
    let world = full_world();
    let at = day(2022, 12, 1);
    let id = world.lookup("mastodon.social").expect("named").id;
    let peers = world.peers(id, at);
    assert!(peers.len() > 8_000, "{}", peers.len());
    let dead = peers
        .iter()
        .filter_map(|p| world.lookup(p))
        .filter(|s| world.is_dead(s.id, at))
        .count();
    assert!(dead > 500, "{dead} dead hosts listed");
    let junk = peers.iter().filter(|p| world.lookup(p).is_none()).count();
    assert!(junk > 10, "{junk} junk entries");
    assert!(peers.iter().any(|p| p.ends_with('.')));
    let parent = world.flood_parent().expect("the default mix floods");
    let flood = peers.iter().filter(|p| p.ends_with(parent)).count();
    assert!(flood > 100, "{flood} flood entries");
    // A small server knows a few hundred and, usually, no flood.
    let small = world
        .servers()
        .iter()
        .find(|s| {
            s.software == Software::Mastodon
                && !s.flood
                && world.state(s.id, at).reachable
                && world.state(s.id, at).figures.users == 1
                && !world.peers(s.id, at).iter().any(|p| p.ends_with(parent))
        })
        .expect("a single-user server");
    let n = world.peers(small.id, at).len();
    assert!((50..2_000).contains(&n), "{n}");
    assert!(world.peers(id, day(2017, 1, 1)).len() < 200);
}

#[test]
fn dns_answers_follow_failures_and_deaths() {
    let world = full_world();
    let at = day(2022, 11, 15);
    let resolve = |name: &str| world.resolve(name, at, LISTEN);
    assert_eq!(resolve("mastodon.social"), Resolution::Address(LISTEN));
    assert_eq!(resolve("Mastodon.Social."), Resolution::Address(LISTEN));
    assert_eq!(resolve("no-such-server.example"), Resolution::NoSuchDomain);
    let find = |f: Failure| {
        world
            .servers()
            .iter()
            .find(|s| s.failure == Some(f) && world.state(s.id, at).alive)
            .expect("the default mix has every failure")
    };
    assert_eq!(
        resolve(&find(Failure::NoSuchDomain).domain),
        Resolution::NoSuchDomain
    );
    assert_eq!(
        resolve(&find(Failure::Refused).domain),
        Resolution::Address(IpAddr::V4(REFUSED_ADDR))
    );
    assert_eq!(
        resolve(&find(Failure::SsrfLoopback).domain),
        Resolution::Address(IpAddr::V4(BAIT_LOOPBACK_ADDR))
    );
    assert_eq!(
        resolve(&find(Failure::SsrfLinkLocal).domain),
        Resolution::Address(IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)))
    );
    match resolve(&find(Failure::SsrfPrivate).domain) {
        Resolution::Address(IpAddr::V4(a)) => assert!(a.is_private(), "{a}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        resolve(&find(Failure::Hang).domain),
        Resolution::Address(LISTEN)
    );
    let unborn = world
        .servers()
        .iter()
        .find(|s| !world.is_born(s.id, at))
        .expect("servers born in December");
    assert_eq!(resolve(&unborn.domain), Resolution::NoSuchDomain);
    for (mode, expected) in [
        (DeathMode::NoSuchDomain, Resolution::NoSuchDomain),
        (
            DeathMode::Refused,
            Resolution::Address(IpAddr::V4(REFUSED_ADDR)),
        ),
        (DeathMode::Gone, Resolution::Address(LISTEN)),
    ] {
        let dead = world
            .servers()
            .iter()
            .find(|s| world.is_dead(s.id, at) && world.death_mode(s.id) == Some(mode))
            .expect("every death mode occurs");
        assert_eq!(resolve(&dead.domain), expected, "{mode:?}");
    }
}

#[test]
fn quirks_go_to_eligible_software_and_fake_only_reported_numbers() {
    let world = full_world();
    let at = day(2022, 12, 1);
    let mut seen = HashSet::new();
    for server in world.servers() {
        for quirk in server.quirks.iter() {
            seen.insert(quirk);
            match quirk {
                Quirk::Baffle => assert_eq!(server.software, Software::Gotosocial),
                Quirk::LemmyRemoteInflation => assert_eq!(server.software, Software::Lemmy),
                Quirk::CalckeyInflation => assert!(server.software.is_misskey_family()),
                Quirk::PeersDisabled | Quirk::LimitedFederation | Quirk::ActivityDisabled => {
                    assert!(server.software.speaks_mastodon_api())
                }
                _ => {}
            }
        }
        let truth = world.state(server.id, at).figures;
        let reported = world.reported(server.id, at);
        // A Takahē installation of several domains reports its total on each of them.
        let one_domain = world.installation(server.id).len() == 1;
        if !server.quirks.iter().any(|q| q.fakes_numbers()) && one_domain {
            assert_eq!(truth, reported, "{}", server.domain);
        }
    }
    assert_eq!(
        seen.len(),
        Quirk::ALL.len(),
        "every quirk appears: {seen:?}"
    );
    let baffled = world
        .servers()
        .iter()
        .find(|s| s.quirks.has(Quirk::Baffle))
        .expect("baffle");
    let a = world.reported(baffled.id, at);
    let b = world.reported(baffled.id, at + chrono::TimeDelta::hours(1));
    assert_ne!(a, b, "baffle numbers change hourly");
    assert!(a.users < 1_000_000 && a.local_posts < 10_000_000);
    let lemmy = world
        .servers()
        .iter()
        .find(|s| s.quirks.has(Quirk::LemmyRemoteInflation) && world.is_born(s.id, at))
        .expect("inflating lemmy");
    assert!(world.reported(lemmy.id, at).users >= 10 * world.state(lemmy.id, at).figures.users);
}

#[test]
fn a_rate_of_one_gives_every_server_that_failure() {
    for failure in [Failure::Hang, Failure::Moved, Failure::SsrfPrivate] {
        let mut mix = FailureMix::none();
        mix.failures = vec![(failure, 1.0)];
        let world = small(500, 5, mix);
        let without: Vec<_> = world
            .servers()
            .iter()
            .filter(|s| s.failure != Some(failure))
            .collect();
        if failure == Failure::Moved {
            assert!(without.len() <= 3, "{failure}: {} healthy", without.len());
            for server in world
                .servers()
                .iter()
                .filter(|s| s.failure == Some(failure))
            {
                let target = world.server(server.target.expect("moved has a target"));
                assert_eq!(target.failure, None);
            }
        } else {
            assert!(without.is_empty(), "{failure}: {} without", without.len());
        }
    }
    let mut mix = FailureMix::none();
    mix.quirks = vec![(Quirk::Baffle, 1.0)];
    let world = small(2_000, 5, mix);
    for server in world.servers() {
        assert_eq!(
            server.quirks.has(Quirk::Baffle),
            server.software == Software::Gotosocial
        );
    }
}

#[test]
fn a_dozen_server_world_works() {
    let world = small(12, 3, FailureMix::default());
    let real: Vec<_> = world.servers().iter().filter(|s| !s.flood).collect();
    assert_eq!(real.len(), 12);
    let at = day(2022, 12, 1);
    let seed = world
        .lookup("mastodon.social")
        .expect("the named seed exists")
        .id;
    assert!(world.state(seed, at).reachable);
    assert!(!world.peers(seed, at).is_empty());
    for server in &real {
        let _ = world.activity(server.id, at);
        let _ = world.reported(server.id, at);
        let _ = world.resolve(&server.domain, at, LISTEN);
    }
    let summary = truth_summary(&world, at);
    assert_eq!(
        summary.total.known as usize,
        real.iter().filter(|s| world.is_born(s.id, at)).count()
    );
}

#[test]
fn a_hundred_thousand_server_world_generates() {
    let mut config = WorldConfig::new(Scenario::Migration2022, 9);
    config.servers = Some(100_000);
    let world = World::generate(config);
    // Flood hosts and second Takahē domains come on top of the configured count.
    assert_eq!(
        world
            .servers()
            .iter()
            .filter(|s| !s.flood && s.sibling_of.is_none())
            .count(),
        100_000
    );
    let at = day(2022, 11, 27);
    let mastodon = truth_summary(&world, at).software("mastodon");
    assert!(
        within(mastodon.reachable as f64, 8_400.0 * 5.0, 0.03),
        "{mastodon:?}"
    );
}

#[test]
fn versions_are_not_reported_before_their_release() {
    let world = full_world();
    let september = day(2022, 9, 1);
    let december = day(2022, 12, 31);
    let mut upgraded = 0;
    for server in world.servers() {
        if server.software == Software::Mastodon {
            assert!(!world.version_at(server.id, september).starts_with("4.0"));
        }
        assert_eq!(world.version_at(server.id, december), server.version);
        if world.version_at(server.id, september) != server.version {
            upgraded += 1;
        }
    }
    assert!(upgraded > 1_000, "{upgraded}");
}

/// The world with every adversary of `fedicensus simulate --adversaries`.
fn with_adversaries(servers: usize) -> World {
    small(
        servers,
        7,
        FailureMix {
            adversaries: fedicensus_sim::Adversaries::standard(),
            ..FailureMix::default()
        },
    )
}

#[test]
fn adversaries_are_added_without_changing_any_other_server() {
    let plain = small(400, 7, FailureMix::default());
    let hostile = with_adversaries(400);
    assert!(plain.servers().iter().all(|s| s.adversary.is_none()));
    assert_eq!(hostile.servers().len(), plain.servers().len() + 26);
    let at = day(2022, 11, 15);
    for server in plain.servers() {
        let same = hostile.server(server.id);
        assert_eq!(same.domain, server.domain);
        assert_eq!(
            hostile.reported(server.id, at),
            plain.reported(server.id, at)
        );
    }
    // The truth's software totals are those of the world without them.
    let (a, b) = (truth_summary(&plain, at), truth_summary(&hostile, at));
    assert_eq!(b.adversaries, 25);
    let mastodon = |s: &fedicensus_sim::truth::TruthSummary| s.software("mastodon");
    assert_eq!(
        mastodon(&b).known,
        mastodon(&a).known + 1,
        "the invented-peers server"
    );
    assert_eq!(
        b.total.users - a.total.users,
        hostile
            .state(hostile.servers().last().expect("a server").id, at)
            .figures
            .users
    );
}

#[test]
fn adversaries_claim_what_issue_25_tried_and_invent_names_that_do_not_resolve() {
    use fedicensus_sim::Adversary;
    let world = with_adversaries(400);
    let at = day(2022, 11, 15);
    let before_jump = day(2022, 11, 9);
    let of = |kind: Adversary| -> Vec<&fedicensus_sim::Server> {
        world
            .servers()
            .iter()
            .filter(|s| s.adversary == Some(kind))
            .collect()
    };
    let inflated = of(Adversary::InflatedSubdomain);
    assert_eq!(inflated.len(), 24);
    let parent = inflated[0].domain.split_once('.').expect("a subdomain").1;
    for server in &inflated {
        assert!(
            server.domain.ends_with(&format!(".{parent}")),
            "{}",
            server.domain
        );
        assert_eq!(world.reported(server.id, at).users, 30_000_000);
        assert!(
            world.state(server.id, at).figures.users < 1_000,
            "true figures are small"
        );
        assert!(world.state(server.id, at).reachable);
    }
    let jumper = of(Adversary::JumpBeyondTotal)[0];
    assert_eq!(world.reported(jumper.id, at).users, 40_000_000);
    assert_eq!(
        world.reported(jumper.id, before_jump).users,
        world.state(jumper.id, before_jump).figures.users
    );
    let lister = of(Adversary::InventedPeers)[0];
    let peers = world.peers(lister.id, at);
    assert_eq!(peers.len(), world.peer_count(lister.id, at));
    let invented: Vec<&String> = peers.iter().filter(|p| world.lookup(p).is_none()).collect();
    assert!(invented.len() >= 1_990, "{} invented", invented.len());
    for name in invented.iter().take(50) {
        assert_eq!(world.resolve(name, at, LISTEN), Resolution::NoSuchDomain);
    }
    // The named big servers list them, so a crawl from the usual seeds finds them.
    let social = world.lookup("mastodon.social").expect("mastodon.social").id;
    let found = world.discoverable_from(&[social], at);
    for server in inflated.iter().chain([&jumper, &lister]) {
        assert!(found.contains(&server.id), "{}", server.domain);
    }
    // The truth CSV names each adversary and has no row for an invented name.
    let text = String::from_utf8(csv(&world, at)).expect("UTF-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = header
        .iter()
        .position(|c| *c == "adversary")
        .expect("an adversary column");
    let inflated = lines
        .filter(|l| l.split(',').nth(column) == Some("inflated-subdomain"))
        .count();
    assert_eq!(inflated, 24);
    assert!(!text.contains(invented[0].as_str()));
}
