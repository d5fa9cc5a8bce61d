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
