//! The ground truth: its CSV shape and its summary agree with the world model.

use crate::world::{day, full_world, small};
use fedicensus_sim::truth::{truth_summary, write_csv, COLUMNS};
use fedicensus_sim::FailureMix;

#[test]
fn truth_csv_has_one_row_per_born_server() {
    let world = small(2_000, 4, FailureMix::default());
    let at = day(2022, 11, 15);
    let mut out = Vec::new();
    write_csv(&world, at, &mut out).expect("writing to a Vec");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    let born = world
        .servers()
        .iter()
        .filter(|s| world.is_born(s.id, at))
        .count();
    assert_eq!(rows.len(), born);
    assert!(rows.iter().any(|r| &r[10] == "hang"));
    assert!(rows.iter().any(|r| !r[11].is_empty()));
    assert!(rows.iter().any(|r| &r[14] == "true"));
    assert!(rows.iter().any(|r| !r[13].is_empty()), "some died by then");
    let moved = rows
        .iter()
        .find(|r| &r[10] == "moved" || &r[10] == "redirect-other-host");
    if let Some(row) = moved {
        assert!(world.lookup(&row[15]).is_some(), "target is a world domain");
    }
}

#[test]
fn truth_summary_adds_up() {
    let world = full_world();
    let at = day(2022, 12, 1);
    let summary = truth_summary(world, at);
    let by_hand: u64 = world
        .servers()
        .iter()
        .filter(|s| !s.flood && world.state(s.id, at).reachable)
        .map(|s| world.state(s.id, at).figures.users)
        .sum();
    assert_eq!(summary.total.users, by_hand);
    let sum: u64 = summary.by_software.values().map(|s| s.reachable).sum();
    assert_eq!(summary.total.reachable, sum);
    assert!(summary.flood > 0);
    assert!(summary.total.alive <= summary.total.known);
    assert!(summary.total.reachable <= summary.total.alive);
}

/// The Japanese share of alive servers that declare a language, by the truth CSV's `languages`
/// column, and how many rows declare none.
fn japanese_share(
    world: &fedicensus_sim::World,
    at: chrono::DateTime<chrono::Utc>,
) -> (f64, usize) {
    let mut out = Vec::new();
    write_csv(world, at, &mut out).expect("writing to a Vec");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let column = |name: &str| COLUMNS.iter().position(|c| *c == name).expect("a column");
    let (alive, languages) = (column("alive"), column("languages"));
    let (mut ja, mut declaring, mut none) = (0, 0, 0);
    for row in reader.records() {
        let row = row.expect("a row");
        if &row[alive] != "true" {
            continue;
        }
        let tags: Vec<&str> = row[languages].split_whitespace().collect();
        assert!(
            tags.iter()
                .all(|t| t.chars().all(|c| c.is_ascii_lowercase())),
            "{tags:?}"
        );
        match tags.first() {
            Some(&"ja") => {
                ja += 1;
                declaring += 1;
            }
            Some(_) => declaring += 1,
            None => none += 1,
        }
    }
    (f64::from(ja) / f64::from(declaring.max(1)), none)
}

#[test]
fn truth_names_each_servers_declared_languages_and_japanese_falls_through_the_migration() {
    let world = small(3_000, 4, FailureMix::default());
    let (before, none_before) = japanese_share(&world, day(2022, 10, 15));
    let (after, _) = japanese_share(&world, day(2022, 12, 31));
    println!("Japanese share of declaring servers: {before:.3} before, {after:.3} after");
    assert!(before > 0.12, "{before}");
    assert!(after < before - 0.03, "{before} then {after}");
    assert!(none_before > 0, "some servers declare none");
}

/// The truth's `country` and `asn` columns: where each server is hosted, in the assumed shares
/// of `fedicensus_sim::hosting::NETWORKS` (within sampling error), the network in neither
/// database empty in both.
#[test]
fn truth_names_each_servers_hosting_country_and_network_in_the_assumed_shares() {
    use fedicensus_sim::hosting::NETWORKS;
    let world = small(3_000, 4, FailureMix::default());
    let mut buffer = Vec::new();
    write_csv(&world, day(2022, 11, 15), &mut buffer).expect("written");
    let mut reader = csv::Reader::from_reader(buffer.as_slice());
    let column = |name: &str| COLUMNS.iter().position(|c| *c == name).expect("a column");
    let (country, asn) = (column("country"), column("asn"));
    let mut by_country = std::collections::BTreeMap::<String, f64>::new();
    let mut rows = 0.0;
    for row in reader.records() {
        let row = row.expect("a row");
        assert_eq!(row[country].is_empty(), row[asn].is_empty(), "{row:?}");
        *by_country.entry(row[country].to_owned()).or_default() += 1.0;
        rows += 1.0;
    }
    let mut expected = std::collections::BTreeMap::<String, f64>::new();
    for n in NETWORKS {
        let key = if n.in_databases { n.country } else { "" };
        *expected.entry(key.to_owned()).or_default() += n.percent as f64 / 100.0;
    }
    for (key, want) in &expected {
        let got = by_country.get(key).copied().unwrap_or(0.0) / rows;
        assert!(
            (got - want).abs() < 0.03,
            "{key:?}: {got:.3} against {want:.3}"
        );
    }
}
