//! The daily rollup answers exactly what a scan of the observations answers, after every kind of
//! write: visits in time order, a replay of an older visit (an earlier day becomes out of date),
//! a bulk load, a server changing software, flags, deaths.

use crate::support::*;
use chrono::Duration;
use fedicensus_core::{Observation, Software};
use fedicensus_storage::{Granularity, SeriesMetric, SeriesQuery, Storage};

crate::conformance!(the_rollup_answers_what_the_observations_answer_after_every_write,);

const METRICS: [SeriesMetric; 4] = [
    SeriesMetric::UsersTotal,
    SeriesMetric::UsersActiveMonth,
    SeriesMetric::LocalPosts,
    SeriesMetric::ServersUp,
];

async fn same_answers(s: &Storage, step: &str) -> anyhow::Result<()> {
    for metric in METRICS {
        for granularity in [Granularity::Day, Granularity::Week, Granularity::Month] {
            for software in [None, Some(Software::Mastodon), Some(Software::Misskey)] {
                for cleaned in [false, true] {
                    let mut q = SeriesQuery::new(metric, granularity, date(8, 20), date(12, 20));
                    q.software = software.clone();
                    q.cleaned = cleaned;
                    let rolled = s.series(&q).await?;
                    let scanned = s.series_from_observations(&q).await?;
                    assert_eq!(
                        rolled, scanned,
                        "after {step}: {metric:?} by {granularity:?}, {software:?}, cleaned {cleaned}"
                    );
                }
            }
        }
    }
    Ok(())
}

fn visits() -> Vec<Observation> {
    let mut out = Vec::new();
    for (k, at) in days(day(9, 1), day(10, 15)).enumerate() {
        let k = k as u64;
        // a: Mastodon, then Misskey from October 1 (a change of software).
        let family = if at < day(10, 1) {
            Software::Mastodon
        } else {
            Software::Misskey
        };
        out.push(ok("a", at, family, 100 + k, Some(40)));
        // b: Misskey without monthly actives, a tenfold jump on September 20 (flagged).
        let users = if at.date_naive() == date(9, 20) {
            5_000
        } else {
            300 + k
        };
        out.push(ok(
            "b",
            at + Duration::hours(3),
            Software::Misskey,
            users,
            None,
        ));
        // c: Mastodon, dies after September 25 (failures until the end).
        if at < day(9, 25) {
            out.push(ok(
                "c",
                at + Duration::hours(5),
                Software::Mastodon,
                50,
                Some(10),
            ));
        } else {
            out.push(failed("c", at + Duration::hours(5)));
        }
    }
    out
}

async fn the_rollup_answers_what_the_observations_answer_after_every_write(
    s: Storage,
) -> anyhow::Result<()> {
    same_answers(&s, "nothing").await?;
    let all = visits();
    let (first, rest) = all.split_at(all.len() / 2);
    s.record_observations(first, None).await?;
    same_answers(&s, "the first half, one by one").await?;
    s.ingest_bulk(rest, None).await?;
    same_answers(&s, "the second half, in bulk").await?;
    // A late replay of an old visit: September 10 must be recomputed, and the days after it.
    s.record_observation(
        &ok("d", day(9, 10), Software::Mastodon, 7_000, Some(700)),
        None,
    )
    .await?;
    same_answers(&s, "a replayed old visit").await?;
    // A new server whose first visit is long after everything else.
    s.record_observation(&ok("e", day(12, 1), Software::Mastodon, 9, Some(1)), None)
        .await?;
    same_answers(&s, "a late visit").await?;
    Ok(())
}
