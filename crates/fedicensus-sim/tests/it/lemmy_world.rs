//! The lemmy-2023 world: calibrated to the Lemmy growth of June 2023, Lemmy's releases of 2023
//! in the order they came out, and the other software as it was that year.

use crate::world::day;
use fedicensus_core::Software;
use fedicensus_sim::truth::truth_summary;
use fedicensus_sim::world::is_mitra;
use fedicensus_sim::{Scenario, World, WorldConfig};
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn lemmy_world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::generate(WorldConfig::new(Scenario::Lemmy2023, 2023)))
}

fn within(actual: f64, target: f64, tolerance: f64) -> bool {
    (actual - target).abs() <= target * tolerance
}

#[test]
fn the_lemmy_2023_world_hits_its_calibration_targets() {
    let world = lemmy_world();
    let before = truth_summary(world, day(2023, 6, 1)).software("lemmy");
    let after = truth_summary(world, day(2023, 6, 30)).software("lemmy");
    let report = format!("2023-06-01 {before:?}\n2023-06-30 {after:?}");
    // Linux Format: from 100 to 519 reachable servers in June; the-federation.info: 1,589,412
    // accounts on 2023-06-30; the rest assumptions (scenario::lemmy_2023::targets).
    assert!(within(before.reachable as f64, 100.0, 0.1), "{report}");
    assert!(within(after.reachable as f64, 519.0, 0.05), "{report}");
    assert!(within(before.users as f64, 30_000.0, 0.03), "{report}");
    assert!(within(after.users as f64, 1_589_412.0, 0.03), "{report}");
    assert!(
        within(before.active_month as f64, 3_000.0, 0.05),
        "{report}"
    );
    assert!(
        within(after.active_month as f64, 45_000.0, 0.03),
        "{report}"
    );
    // Over a thousand by the end of July, and Lemmy the largest software of the world.
    let july = truth_summary(world, day(2023, 7, 31));
    let lemmy = july.software("lemmy");
    assert!(lemmy.reachable > 900, "{july:?}");
    assert!(
        lemmy.reachable as f64 > 0.5 * july.total.reachable as f64,
        "{july:?}"
    );
}

#[test]
fn the_lemmy_2023_world_runs_each_release_only_once_it_is_out() {
    let world = lemmy_world();
    let mut at_end: BTreeMap<String, usize> = BTreeMap::new();
    for server in world.servers() {
        let end = day(2023, 12, 31);
        // The last day is every server's own version, and every version was out by then.
        if !server.flood && server.adversary.is_none() {
            assert_eq!(world.version_at(server.id, end), server.version);
        }
        if server.software == Software::Lemmy {
            *at_end.entry(server.version.clone()).or_default() += 1;
            // Lemmy 0.18.0 came out on 2023-06-23, 0.18.5 on 2023-09-29.
            assert!(!world
                .version_at(server.id, day(2023, 6, 22))
                .starts_with("0.18"));
            assert_ne!(world.version_at(server.id, day(2023, 9, 28)), "0.18.5");
        }
        if server.software == Software::Mastodon && !server.flood {
            assert!(world
                .version_at(server.id, day(2023, 5, 1))
                .starts_with("4."));
        }
    }
    assert!(at_end.len() >= 8, "{at_end:?}");
}

#[test]
fn mitra_and_takahe_serve_their_2023_peer_lists() {
    let world = lemmy_world();
    let at = day(2023, 7, 15);
    let (mut mitra, mut takahe) = (0, 0);
    for server in world.servers() {
        let answering = world.state(server.id, at).reachable && server.quirks.is_empty();
        if !answering {
            continue;
        }
        // Mitra's peer list came with 1.18.0 (2023-03-21); Takahē's with 0.9.0 (2023-06-24).
        if is_mitra(&server.software) {
            assert!(world.serves_peers(server.id, at), "{}", server.domain);
            mitra += 1;
        }
        if server.software == Software::Takahe && world.version_at(server.id, at).starts_with("0.9")
        {
            assert!(world.serves_peers(server.id, at), "{}", server.domain);
            takahe += 1;
        }
    }
    assert!(mitra > 5 && takahe > 1, "mitra {mitra}, takahe {takahe}");
}
