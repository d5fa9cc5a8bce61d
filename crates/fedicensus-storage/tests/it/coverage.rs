//! Coverage: the capture-recapture estimate of the servers the census has not found, from the
//! overlap of the peer lists of two groups of reporters ("Coverage" in docs/METHODOLOGY.md),
//! counting confirmed servers only, survivorship-free.

use crate::support::*;
use chrono::{DateTime, Utc};
use fedicensus_core::{Observation, Outcome, Software};
use fedicensus_storage::coverage::reporter_group;
use fedicensus_storage::methodology::{COVERAGE_ESTIMATOR, COVERAGE_MIN_REPORTERS};
use fedicensus_storage::{
    CoverageQuery, CoverageSeries, Estimator, Export, ExportFormat, Granularity, Storage,
};

crate::conformance!(
    the_estimate_counts_confirmed_servers_named_by_both_groups_and_either,
    recording_later_lists_changes_no_earlier_estimate,
    the_coverage_export_has_a_row_per_date_in_csv_and_parquet,
);

/// The first `r{i}.example` that falls in `group` of two.
fn reporter(group: u32) -> String {
    (0..)
        .map(|i| format!("r{i}.example"))
        .find(|name| reporter_group(name, 2) == group)
        .expect("some name falls in each group")
}

fn listing(name: &str, at: DateTime<Utc>, peers: &[&str]) -> Observation {
    let mut o = ok(name, at, Software::Mastodon, 100, Some(40));
    o.peers = Some(peers.iter().map(|p| host(p)).collect());
    o
}

fn target(i: u32) -> String {
    format!("t{i}.example")
}

/// Reporter A (group 0) lists t1..t6 and a name that never resolves; reporter B (group 1) lists
/// t4..t9, both on 1 November; the targets are confirmed on 2 November; `seed.example` is known
/// but named by no list. On 5 November B's list adds t10, confirmed on 6 November.
async fn record_world(s: &Storage) -> anyhow::Result<(String, String)> {
    let (a, b) = (reporter(0), reporter(1));
    let a_list: Vec<String> = (1..=6)
        .map(target)
        .chain(["ghost.example".into()])
        .collect();
    let a_refs: Vec<&str> = a_list.iter().map(String::as_str).collect();
    s.record_observation(&listing(&a, day(11, 1), &a_refs), None)
        .await?;
    let b_list: Vec<String> = (4..=9).map(target).collect();
    let b_refs: Vec<&str> = b_list.iter().map(String::as_str).collect();
    s.record_observation(&listing(&b, day(11, 1), &b_refs), None)
        .await?;
    s.record_observation(
        &ok("seed.example", day(11, 1), Software::Lemmy, 5, None),
        None,
    )
    .await?;
    for i in 1..=9 {
        s.record_observation(
            &ok(&target(i), day(11, 2), Software::Mastodon, 3, None),
            None,
        )
        .await?;
    }
    s.record_observation(
        &Observation::failed(host("ghost.example"), day(11, 2), Outcome::NoSuchDomain, 5),
        None,
    )
    .await?;
    let b_list: Vec<String> = (4..=10).map(target).collect();
    let b_refs: Vec<&str> = b_list.iter().map(String::as_str).collect();
    s.record_observation(&listing(&b, day(11, 5), &b_refs), None)
        .await?;
    s.record_observation(
        &ok(&target(10), day(11, 6), Software::Mastodon, 3, None),
        None,
    )
    .await?;
    Ok((a, b))
}

async fn daily(s: &Storage, estimator: Estimator) -> anyhow::Result<CoverageSeries> {
    Ok(s.coverage_with(
        &CoverageQuery {
            granularity: Granularity::Day,
            from: date(11, 1),
            to: date(11, 8),
        },
        estimator,
    )
    .await?)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

async fn the_estimate_counts_confirmed_servers_named_by_both_groups_and_either(
    s: Storage,
) -> anyhow::Result<()> {
    record_world(&s).await?;
    let chapman = daily(&s, Estimator::Chapman { groups: 2 }).await?;
    let p = &chapman.points;
    // 1 November: the lists are read but nothing they name is confirmed yet.
    assert_eq!(p[0].servers_known, 3, "{:?}", p[0]);
    assert_eq!(p[0].servers_listed, 0);
    assert_eq!(p[0].estimate, None, "no capture, no estimate");
    // 2 November: n1 = 6 (the ghost is never confirmed), n2 = 6, m = 3: Chapman
    // 7 · 7 / 4 - 1 = 11.25 listed; the three servers no list names (A, B, the seed) on top.
    assert_eq!(
        (p[1].servers_known, p[1].servers_listed, p[1].reporters),
        (12, 9, 2)
    );
    assert!(close(p[1].estimate, 3.0 + 11.25), "{:?}", p[1]);
    let (low, high) = (p[1].low.expect("a low"), p[1].high.expect("a high"));
    assert!((12.0..14.25).contains(&low) && high > 14.25, "{:?}", p[1]);
    assert!(
        low.fract() == 0.0 && high.fract() == 0.0,
        "whole servers: {:?}",
        p[1]
    );
    // 5 November: t10 is named but not yet confirmed; 6 November: n2 = 7, m = 3:
    // 7 · 8 / 4 - 1 = 13 listed, 13 - 10 + 13 = 16 in all.
    assert!(close(p[4].estimate, 14.25), "{:?}", p[4]);
    assert_eq!((p[5].servers_known, p[5].servers_listed), (13, 10));
    assert!(close(p[5].estimate, 16.0), "{:?}", p[5]);
    // The series ends with the last crawled day (6 November).
    assert_eq!(p[6].estimate, None);
    assert!(p[5].crawled && !p[6].crawled);
    assert_eq!(p.len(), 8);

    // Chao2 on the same two groups: f1 = 6 (t1-t3, t7-t9), f2 = 3:
    // f0 = 1/2 · 6 · 5 / (2 · 4) = 1.875 unseen.
    let chao = daily(&s, Estimator::Chao2 { groups: 2 }).await?;
    assert_eq!(chao.points[1].frequencies, [0, 6, 3]);
    assert!(
        close(chao.points[1].estimate, 12.0 + 1.875),
        "{:?}",
        chao.points[1]
    );
    // The published series uses the methodology's estimator.
    let published = s
        .coverage(&CoverageQuery {
            granularity: Granularity::Day,
            from: date(11, 2),
            to: date(11, 2),
        })
        .await?;
    assert_eq!(published.estimator, COVERAGE_ESTIMATOR);
    // Two reporters are fewer than the published estimate needs: no estimate, counts kept.
    assert!(published.points[0].reporters < COVERAGE_MIN_REPORTERS);
    assert_eq!(published.points[0].estimate, None, "{:?}", published.points);
    assert_eq!(
        published.points[0].frequencies.iter().sum::<u64>(),
        9,
        "every listed server has a frequency"
    );
    // Weekly: the week of 31 October is taken as of its end, clipped to the last crawled day.
    let weekly = s
        .coverage_with(
            &CoverageQuery {
                granularity: Granularity::Week,
                from: date(11, 1),
                to: date(11, 6),
            },
            Estimator::Chapman { groups: 2 },
        )
        .await?;
    assert_eq!(weekly.points.len(), 1);
    assert!(
        close(weekly.points[0].estimate, 16.0),
        "{:?}",
        weekly.points
    );
    Ok(())
}

async fn recording_later_lists_changes_no_earlier_estimate(s: Storage) -> anyhow::Result<()> {
    let (a, _) = record_world(&s).await?;
    let before = daily(&s, Estimator::Chapman { groups: 2 }).await?;
    // On 7 November A names every target: later recaptures, and a new server.
    let mut list: Vec<String> = (1..=10).map(target).collect();
    list.push("late.example".into());
    let refs: Vec<&str> = list.iter().map(String::as_str).collect();
    s.record_observation(&listing(&a, day(11, 7), &refs), None)
        .await?;
    s.record_observation(
        &ok("late.example", day(11, 8), Software::Mastodon, 1, None),
        None,
    )
    .await?;
    let after = daily(&s, Estimator::Chapman { groups: 2 }).await?;
    assert_eq!(before.points[..6], after.points[..6]);
    // 8 November: n1 = 11, n2 = 7, m = 7: 12 · 8 / 8 - 1 = 11 listed, all of them seen.
    assert!(
        close(after.points[7].estimate, 14.0),
        "{:?}",
        after.points[7]
    );
    Ok(())
}

async fn the_coverage_export_has_a_row_per_date_in_csv_and_parquet(
    s: Storage,
) -> anyhow::Result<()> {
    record_world(&s).await?;
    let what = Export::Coverage(CoverageQuery {
        granularity: Granularity::Day,
        from: date(11, 1),
        to: date(11, 7),
    });
    assert_eq!(what.file_name(), "coverage-day.csv");
    let mut buffer = Vec::new();
    let file = s.export_csv(&what, &mut buffer).await?;
    assert_eq!(file.rows, 7);
    let text = String::from_utf8(buffer)?;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "date,as_of,servers_known,servers_listed,reporters,estimate,low,high,estimator,\
             groups,methodology_version"
        )
    );
    let rows: Vec<&str> = lines.collect();
    // 1 November: three servers known, nothing listed yet, no estimate.
    assert!(rows[0].starts_with("2022-11-01,"), "{text}");
    assert!(rows[0].contains(",3,0,0,,,,chao2,8,"), "{text}");
    // 6 November is the last crawled day; 7 November has no counts (not crawled, not zero).
    assert!(rows[5].contains(",13,10,2,"), "{text}");
    assert!(rows[6].starts_with("2022-11-07,") && rows[6].contains(",,,,,,,chao2,8,"));
    let mut parquet = Vec::new();
    let file = s.export_parquet(&what, &mut parquet).await?;
    assert_eq!(file.rows, 7);
    assert!(parquet.starts_with(b"PAR1"));
    assert_eq!(
        what.file_name_as(ExportFormat::Parquet),
        "coverage-day.parquet"
    );
    Ok(())
}
