//! Downsampling thins old visits and changes no published figure: every series (each metric,
//! by day, week and month, by software, raw and cleaned) and every snapshot reads the same before
//! and after, on both backends; the visits after the date are untouched; nothing is orphaned;
//! running it again removes nothing; the run is recorded, exported with the tables, and named in
//! manifests.

use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use fedicensus_core::{Observation, Software};
use fedicensus_storage::{
    Error, Granularity, Manifest, Series, SeriesMetric, SeriesQuery, ServerSnapshot, Storage,
};

crate::conformance!(
    downsampling_thins_old_visits_and_changes_no_series_or_snapshot,
    downsampling_a_date_after_today_is_refused_and_a_dry_run_changes_nothing,
);

/// Four visits a day (00, 06, 12, 18 UTC) from August 20 to November 10 for servers that
/// exercise every rule: monthly actives only on the midnight visit, a tenfold jump mid-day
/// (flagged), failures in the middle and at the end of days, a death with tries after it, a
/// change of software mid-day, weekly activity, and a server first seen in November.
fn visits() -> Vec<Observation> {
    let mut out = Vec::new();
    for (k, noon) in days(day(8, 20), day(11, 10)).enumerate() {
        let k = k as u64;
        let midnight = noon - Duration::hours(12);
        for slot in 0..4u64 {
            let at = midnight + Duration::hours(6 * slot as i64);
            // a: Mastodon; monthly actives only on the midnight visit; weekly activity on Mondays.
            // On September 5 they exceed the users (flagged): the raw series reads that value.
            let actives = (slot == 0).then_some(if at.date_naive() == date(9, 5) {
                10_000
            } else {
                40 + k
            });
            let mut a = ok("a", at, Software::Mastodon, 100 + k * 4 + slot, actives);
            if at.format("%u").to_string() == "1" && slot == 1 {
                a.activity
                    .push(week(midnight - Duration::days(7), 5 + k, 30));
                a.activity.push(week(midnight, 2 + k, 20));
            }
            out.push(a);
            // b: Misskey (no monthly actives); a tenfold jump at noon on September 20 (flagged),
            // and a failure at 18:00 every third day.
            let users = if at == day(9, 20) { 9_000 } else { 300 + k };
            if slot == 3 && k.is_multiple_of(3) {
                out.push(failed("b", at + Duration::minutes(7)));
            } else {
                out.push(ok(
                    "b",
                    at + Duration::minutes(7),
                    Software::Misskey,
                    users,
                    None,
                ));
            }
            // c: Mastodon, dies on September 25 at 06:00 and is tried four times a day after.
            let c_at = at + Duration::minutes(13);
            if c_at < day(9, 25) - Duration::hours(6) {
                out.push(ok("c", c_at, Software::Mastodon, 50 + slot, Some(10)));
            } else {
                out.push(failed("c", c_at));
            }
            // d: Pleroma, then Akkoma from October 1 at 12:00 (a change of software mid-day),
            // failing on the midnight visit.
            let family = if at < day(10, 1) {
                Software::Pleroma
            } else {
                Software::Akkoma
            };
            if slot == 0 {
                out.push(failed("d", at + Duration::minutes(21)));
            } else {
                out.push(ok("d", at + Duration::minutes(21), family, 70 + k, Some(7)));
            }
            // e: first seen in November.
            if at >= day(11, 2) {
                out.push(ok(
                    "e",
                    at + Duration::minutes(29),
                    Software::Mastodon,
                    5,
                    Some(2),
                ));
            }
        }
    }
    out
}

const RANGE: (u32, u32, u32, u32) = (8, 15, 11, 20);

/// Every series the storage answers, in every shape a reader can ask for.
async fn every_series(s: &Storage) -> anyhow::Result<Vec<Series>> {
    let (fm, fd, tm, td) = RANGE;
    let mut out = Vec::new();
    for metric in SeriesMetric::ALL {
        for granularity in [Granularity::Day, Granularity::Week, Granularity::Month] {
            for software in [None, Some(Software::Mastodon), Some(Software::Misskey)] {
                for cleaned in [false, true] {
                    let mut q = SeriesQuery::new(metric, granularity, date(fm, fd), date(tm, td));
                    q.software = software.clone();
                    q.cleaned = cleaned;
                    match s.series(&q).await {
                        // Weekly figures by day: refused whatever the data.
                        Err(Error::InvalidQuery(_)) if granularity == Granularity::Day => continue,
                        answer => out.push(answer?),
                    }
                    out.push(s.series_from_observations(&q).await?);
                }
            }
        }
    }
    Ok(out)
}

async fn every_snapshot(s: &Storage) -> anyhow::Result<Vec<Vec<ServerSnapshot>>> {
    let mut out = Vec::new();
    for d in days(day(8, 19), day(11, 12)) {
        out.push(s.snapshot(d.date_naive()).await?);
    }
    Ok(out)
}

async fn visits_of(s: &Storage, name: &str) -> anyhow::Result<Vec<DateTime<Utc>>> {
    Ok(s.server_history(&host(name))
        .await?
        .observations
        .iter()
        .map(|o| o.observed_at)
        .collect())
}

async fn downsampling_thins_old_visits_and_changes_no_series_or_snapshot(
    s: Storage,
) -> anyhow::Result<()> {
    let all = visits();
    s.ingest_bulk(&all, None).await?;
    let series = every_series(&s).await?;
    let snapshots = every_snapshot(&s).await?;
    let recent_before = visits_of(&s, "a").await?;
    let flagged = series
        .iter()
        .any(|x| x.points.iter().any(|p| p.flagged > 0));
    assert!(flagged, "the workload must carry a flagged value");

    let version = s.data_version().await?;
    let now = day(11, 25);
    let done = s.downsample(date(11, 1), now, false).await?;
    // The dashboard's cache and ETags follow the data: a server's history just changed.
    assert_ne!(s.data_version().await?, version);
    // Every visit before November 1: 5 servers (e arrives later) × 4 a day × 73 days.
    assert_eq!(done.servers, 4);
    assert_eq!(done.observations_before, 4 * 4 * 73);
    assert!(
        done.observations_removed >= 2 * 73 * 4,
        "at least half of the old visits go: {done:?}"
    );

    assert_eq!(every_series(&s).await?, series, "a series changed");
    assert_eq!(every_snapshot(&s).await?, snapshots, "a snapshot changed");

    // The visits from November 1 on are all there; before it, a few a day are left.
    let after: Vec<_> = visits_of(&s, "a").await?;
    let cutoff = day(11, 1) - Duration::hours(12);
    assert_eq!(
        after.iter().filter(|t| **t >= cutoff).collect::<Vec<_>>(),
        recent_before
            .iter()
            .filter(|t| **t >= cutoff)
            .collect::<Vec<_>>()
    );
    let old_a = after.iter().filter(|t| **t < cutoff).count();
    assert!(
        (73..=2 * 73 + 20).contains(&old_a),
        "a keeps its latest visit and its midnight actives, and the activity sources: {old_a}"
    );
    // The jump's day: 12:07 reported 9,000 (flagged), 18:07 fell back (flagged too, a tenfold
    // drop). The latest visit stays for the raw series, 06:07 as the latest unflagged one for
    // the cleaned series; the flagged 12:07 is read by neither, and goes.
    let b: Vec<_> = visits_of(&s, "b")
        .await?
        .into_iter()
        .filter(|t| t.date_naive() == date(9, 20))
        .collect();
    let at = |h: i64| day(9, 20) - Duration::hours(12) + Duration::hours(h) + Duration::minutes(7);
    assert_eq!(b, vec![at(6), at(18)]);

    // Moving house keeps the record, byte for byte (and the import's foreign keys hold: nothing
    // left behind points at a removed visit).
    let dir = crate::transfer::temp_dir("downsampled");
    let manifest: Manifest = s.export_tables(&dir).await?;
    let rows = manifest
        .files
        .iter()
        .find(|f| f.name == "table-downsamplings.csv")
        .map(|f| f.rows);
    assert_eq!(rows, Some(1));
    let target = crate::transfer::fresh_sqlite(&dir.join("target")).await?;
    target.import_tables(&dir).await?;
    assert_eq!(target.downsamplings().await?, s.downsamplings().await?);
    assert_eq!(
        every_series(&target).await?,
        series,
        "a moved series changed"
    );
    let again_dir = crate::transfer::temp_dir("downsampled_again");
    target.export_tables(&again_dir).await?;
    assert_eq!(
        crate::transfer::files(&again_dir)?,
        crate::transfer::files(&dir)?
    );
    target.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&again_dir);

    // The run is recorded, finished, with its count.
    let runs = s.downsamplings().await?;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].before, date(11, 1));
    assert_eq!(runs[0].observations_removed, done.observations_removed);
    assert!(runs[0].finished_at.is_some());

    // Again: nothing more goes (the rule keeps what it kept), and it is recorded too.
    let again = s.downsample(date(11, 1), now, false).await?;
    assert_eq!(again.observations_removed, 0, "{again:?}");
    assert_eq!(
        again.observations_before,
        done.observations_before - done.observations_removed
    );
    assert_eq!(s.downsamplings().await?.len(), 2);
    assert_eq!(every_series(&s).await?, series);
    Ok(())
}

async fn downsampling_a_date_after_today_is_refused_and_a_dry_run_changes_nothing(
    s: Storage,
) -> anyhow::Result<()> {
    s.ingest_bulk(&visits(), None).await?;
    let before = visits_of(&s, "c").await?;
    let refused = s.downsample(date(11, 26), day(11, 25), false).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("after today")),
        "{refused:?}"
    );
    let dry = s.downsample(date(11, 1), day(11, 25), true).await?;
    assert!(dry.observations_removed > 0);
    assert_eq!(visits_of(&s, "c").await?, before);
    assert!(s.downsamplings().await?.is_empty());
    let real = s.downsample(date(11, 1), day(11, 25), false).await?;
    assert_eq!(real, dry, "a dry run counts what the run removes");
    Ok(())
}
