//! Other censuses' published figures: every file of `tests/fixtures/reference` (see its
//! SOURCES.tsv: captured answers, two documented examples, and the-federation.info's shapes
//! written from its own queries because no captured answer could be found) read with what it
//! holds, every file listed in SOURCES.tsv and every listed file tested, and every file cut and
//! garbled without a panic.

use chrono::NaiveDate;
use fedicensus_core::reference::{
    parse_reference, ReferenceError, ReferenceFile, ReferenceSource, SCOPE_ALL,
};

fn dir() -> String {
    format!("{}/tests/fixtures/reference", env!("CARGO_MANIFEST_DIR"))
}

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/{name}", dir());
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn read(source: ReferenceSource, name: &str, as_of: Option<NaiveDate>) -> ReferenceFile {
    parse_reference(source, &bytes(name), as_of).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

/// Every fixture, with the source it is read as and the `--as-of` it needs.
const FIXTURES: &[(&str, ReferenceSource, bool)] = &[
    (
        "joinmastodon-statistics-2022-09-30-to-2023-01-22.json",
        ReferenceSource::JoinMastodon,
        false,
    ),
    (
        "fedidb-v1-stats-docs-example.json",
        ReferenceSource::FediDb,
        false,
    ),
    (
        "fedidb-v1-software-pixelfed-docs-example.json",
        ReferenceSource::FediDb,
        true,
    ),
    (
        "instances-social-list-count-1.json",
        ReferenceSource::InstancesSocial,
        false,
    ),
    (
        "instances-social-sample-count-1.json",
        ReferenceSource::InstancesSocial,
        false,
    ),
    (
        "instances-social-search-mastodon-social.json",
        ReferenceSource::InstancesSocial,
        false,
    ),
    (
        "the-federation-node-count-per-date.constructed.json",
        ReferenceSource::TheFederation,
        false,
    ),
    (
        "the-federation-stat-users.constructed.json",
        ReferenceSource::TheFederation,
        false,
    ),
    (
        "the-federation-graphene-stats-global-today.constructed.json",
        ReferenceSource::TheFederation,
        true,
    ),
];

#[test]
fn every_reference_fixture_is_listed_in_sources_and_tested() {
    let sources = String::from_utf8(bytes("SOURCES.tsv")).expect("UTF-8");
    let listed: Vec<&str> = sources
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .expect("the fixtures directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut tested: Vec<String> = FIXTURES.iter().map(|f| f.0.to_owned()).collect();
    tested.sort();
    assert_eq!(on_disk, tested, "every fixture is in FIXTURES");
    let mut listed_sorted: Vec<String> = listed.iter().map(|s| (*s).to_owned()).collect();
    listed_sorted.sort();
    assert_eq!(on_disk, listed_sorted, "every fixture is in SOURCES.tsv");
    for line in sources.lines().skip(1) {
        let cells: Vec<&str> = line.split('\t').collect();
        assert_eq!(cells.len(), 6, "{line}");
        assert_eq!(cells[3].len(), 40, "a full commit: {line}");
        if cells[0].contains(".constructed.") {
            assert_eq!(cells[4], "constructed", "{line}");
        }
    }
}

#[test]
fn joinmastodon_statistics_reads_every_day_with_string_and_float_counts() {
    let f = read(
        ReferenceSource::JoinMastodon,
        "joinmastodon-statistics-2022-09-30-to-2023-01-22.json",
        None,
    );
    // 114 entries, 2022-12-09 twice: 113 days.
    assert_eq!(f.points.len(), 113);
    assert!(f.points.iter().all(|p| p.scope == "mastodon"));
    let first = &f.points[0];
    assert_eq!(first.date, day(2022, 9, 30));
    assert_eq!(first.servers, Some(2829));
    assert_eq!(first.users, Some(3_605_039));
    assert_eq!(first.active_month, Some(470_403));
    assert_eq!(first.active_week, None);
    // The counts became "5677157.0" on 2022-12-19.
    let dec19 = f
        .points
        .iter()
        .find(|p| p.date == day(2022, 12, 19))
        .expect("2022-12-19");
    assert_eq!(dec19.users, Some(5_677_157));
    assert_eq!(dec19.active_month, Some(1_937_158));
    // 2022-12-07 and 2022-12-08 are missing from the answer: no point, never zero.
    assert!(f.points.iter().all(|p| p.date != day(2022, 12, 7)));
    let last = f.points.last().expect("a last day");
    assert_eq!(last.date, day(2023, 1, 22));
    assert_eq!(last.servers, Some(9778));
    assert_eq!(last.users, Some(6_008_072));
    assert_eq!(f.as_of, day(2023, 1, 22));
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("1 day(s) listed more than once")),
        "{:?}",
        f.notes
    );
    assert!(f.domains.is_empty());
}

#[test]
fn fedidb_stats_is_dated_by_last_updated_at_and_counts_every_software() {
    let f = read(
        ReferenceSource::FediDb,
        "fedidb-v1-stats-docs-example.json",
        None,
    );
    assert_eq!(f.points.len(), 1);
    let p = &f.points[0];
    assert_eq!(p.date, day(2023, 7, 9));
    assert_eq!(p.scope, SCOPE_ALL);
    assert_eq!(p.servers, Some(23_815));
    assert_eq!(p.users, Some(10_001_240));
    assert_eq!(p.active_month, Some(1_898_279));
    // --as-of overrides the file's own date.
    let g = read(
        ReferenceSource::FediDb,
        "fedidb-v1-stats-docs-example.json",
        Some(day(2023, 7, 10)),
    );
    assert_eq!(g.points[0].date, day(2023, 7, 10));
}

#[test]
fn a_fedidb_software_entity_counts_its_software_at_the_given_date() {
    let name = "fedidb-v1-software-pixelfed-docs-example.json";
    let e = parse_reference(ReferenceSource::FediDb, &bytes(name), None).unwrap_err();
    assert!(matches!(e, ReferenceError::NeedsDate { .. }), "{e}");
    let f = read(ReferenceSource::FediDb, name, Some(day(2024, 6, 30)));
    assert_eq!(f.points.len(), 1);
    let p = &f.points[0];
    assert_eq!(p.scope, "pixelfed");
    assert_eq!(p.date, day(2024, 6, 30));
    assert_eq!(p.servers, Some(410));
    assert_eq!(p.users, Some(144_275));
    assert_eq!(p.active_month, Some(12_598));
}

#[test]
fn instances_social_list_sums_live_instances_and_keeps_their_names() {
    let f = read(
        ReferenceSource::InstancesSocial,
        "instances-social-list-count-1.json",
        None,
    );
    assert_eq!(f.points.len(), 1);
    let p = &f.points[0];
    // Dated by the instance's checked_at, 2022-11-15T20:52:09.087Z.
    assert_eq!(p.date, day(2022, 11, 15));
    assert_eq!(p.scope, "mastodon");
    assert_eq!(p.servers, Some(1));
    assert_eq!(p.users, Some(23_863));
    assert_eq!(p.active_week, Some(1313));
    assert_eq!(p.active_month, None);
    assert_eq!(f.domains, ["mastodon.xyz"]);
    // pagination.total says the query matched 4,385: the sums are of one page only.
    assert!(
        f.notes.iter().any(|n| n.contains("lists 1 of the 4385")),
        "{:?}",
        f.notes
    );
}

#[test]
fn instances_social_sample_of_a_down_instance_reports_no_actives() {
    let f = read(
        ReferenceSource::InstancesSocial,
        "instances-social-sample-count-1.json",
        None,
    );
    let p = &f.points[0];
    assert_eq!(p.date, day(2020, 2, 7));
    assert_eq!(p.servers, Some(1));
    assert_eq!(p.users, Some(0));
    assert_eq!(p.active_week, None, "active_users null is not zero");
    assert_eq!(f.domains, ["social.l4p1n.met-hardware.fr"]);
}

#[test]
fn instances_social_search_answer_reads_as_a_list() {
    let f = read(
        ReferenceSource::InstancesSocial,
        "instances-social-search-mastodon-social.json",
        Some(day(2022, 11, 16)),
    );
    let p = &f.points[0];
    assert_eq!(p.date, day(2022, 11, 16));
    assert_eq!(p.users, Some(835_911));
    assert_eq!(p.active_week, Some(127_276));
    assert_eq!(f.domains, ["mastodon.social"]);
}

#[test]
fn the_federation_hasura_answers_read_as_dated_series() {
    let nodes = read(
        ReferenceSource::TheFederation,
        "the-federation-node-count-per-date.constructed.json",
        None,
    );
    assert_eq!(nodes.points.len(), 3);
    assert_eq!(nodes.points[0].date, day(2022, 11, 25));
    assert_eq!(nodes.points[2].servers, Some(7412));
    assert!(nodes.points.iter().all(|p| p.scope == SCOPE_ALL));
    let stat = read(
        ReferenceSource::TheFederation,
        "the-federation-stat-users.constructed.json",
        None,
    );
    assert_eq!(stat.points.len(), 3);
    assert_eq!(stat.points[0].users, None, "users_total null is not zero");
    assert_eq!(stat.points[0].active_month, Some(2_280_000));
    assert_eq!(stat.points[2].users, Some(6_100_000));
    assert_eq!(stat.points[2].servers, None);
}

#[test]
fn the_federation_graphene_today_needs_a_date_and_counts_nodes() {
    let name = "the-federation-graphene-stats-global-today.constructed.json";
    let e = parse_reference(ReferenceSource::TheFederation, &bytes(name), None).unwrap_err();
    assert!(matches!(e, ReferenceError::NeedsDate { .. }), "{e}");
    let f = read(ReferenceSource::TheFederation, name, Some(day(2021, 5, 1)));
    let p = &f.points[0];
    assert_eq!(p.servers, Some(2));
    assert_eq!(p.users, Some(5_200_000));
    assert_eq!(p.active_month, Some(2_100_000));
}

#[test]
fn a_file_of_one_source_read_as_another_is_refused_by_name() {
    let join = bytes("joinmastodon-statistics-2022-09-30-to-2023-01-22.json");
    for source in [
        ReferenceSource::FediDb,
        ReferenceSource::TheFederation,
        ReferenceSource::InstancesSocial,
    ] {
        let e = parse_reference(source, &join, Some(day(2023, 1, 1))).unwrap_err();
        assert!(e.to_string().starts_with(source.as_str()), "{source}: {e}");
    }
    let fedidb = bytes("fedidb-v1-stats-docs-example.json");
    let e = parse_reference(ReferenceSource::JoinMastodon, &fedidb, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "joinmastodon: at $: expected an array, found an object"
    );
}

#[test]
fn cut_and_garbled_reference_files_never_panic() {
    for (name, source, _) in FIXTURES {
        let body = bytes(name);
        let as_of = Some(day(2023, 1, 1));
        for cut in (0..body.len()).step_by(body.len() / 97 + 1) {
            let _ = parse_reference(*source, &body[..cut], as_of);
            let _ = parse_reference(*source, &body[..cut], None);
        }
        for i in (0..body.len()).step_by(body.len() / 61 + 1) {
            for b in [b'"', b'{', b'-', b'9', 0xFF] {
                let mut garbled = body.clone();
                garbled[i] = b;
                let _ = parse_reference(*source, &garbled, as_of);
            }
        }
    }
    // Deep nesting is refused by the JSON reader, not by a stack overflow.
    let deep = "[".repeat(100_000);
    for source in ReferenceSource::ALL {
        assert!(parse_reference(source, deep.as_bytes(), None).is_err());
    }
}
