//! Property tests for the series arithmetic, through the public API on a SQLite file.
//!
//! proptest draws small censuses (a few servers of a few software families, visits on random
//! days and hours, some failed, figures that jump around) and checks two promises of
//! `docs/METHODOLOGY.md` on every one of them:
//! - **totals are the sum of their parts**: for every figure series (users, monthly actives,
//!   posts), raw and cleaned, each point's value, `servers_reporting` and `flagged` over all
//!   software equal the sums of the same point over each family;
//! - **survivorship-free**: recording later visits, including the runs of failures that make
//!   servers die (and date their death back to their last successful visit), never changes an
//!   earlier date's `servers_known`, `servers_up`, figures or concentration.
//!
//! Case counts are kept small (every case builds a fresh database and runs its migrations), so
//! the file runs in seconds in a debug build.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use fedicensus_core::{
    Host, Measurement, Metric, Observation, Outcome, Software, SoftwareReport, Source,
};
use fedicensus_storage::{Granularity, Series, SeriesMetric, SeriesQuery, Storage};
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

const FAMILIES: [Software; 4] = [
    Software::Mastodon,
    Software::Misskey,
    Software::Lemmy,
    Software::Pleroma,
];

/// The first day of every drawn census.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 10, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}

fn date_of(day: i64) -> NaiveDate {
    (start() + Duration::days(day)).date_naive()
}

/// One drawn visit.
#[derive(Debug, Clone)]
struct Visit {
    server: usize,
    /// Minutes since [`start`].
    minute: i64,
    ok: bool,
    family: usize,
    users: u64,
    active: Option<u64>,
}

impl Visit {
    fn observation(&self) -> Observation {
        let host = Host::from_normalised(format!("s{}.example.com", self.server));
        let at = start() + Duration::minutes(self.minute);
        if !self.ok {
            return Observation::failed(host, at, Outcome::Timeout, 10_000);
        }
        let family = FAMILIES[self.family].clone();
        let mut o = Observation::failed(host, at, Outcome::Ok, 120);
        o.nodeinfo_version = Some("2.0".into());
        o.software = Some(SoftwareReport {
            raw_name: family.as_str().to_owned(),
            family,
            raw_version: "4.0.2".into(),
            version: Some("4.0.2".into()),
        });
        o.measurements.push(Measurement {
            metric: Metric::UsersTotal,
            source: Source::NodeInfo,
            value: self.users,
        });
        if let Some(active) = self.active {
            o.measurements.push(Measurement {
                metric: Metric::UsersActiveMonth,
                source: Source::NodeInfo,
                value: active,
            });
        }
        o.measurements.push(Measurement {
            metric: Metric::LocalPosts,
            source: Source::NodeInfo,
            value: self.users * 7,
        });
        o
    }
}

/// A census: up to `servers` servers, each with a usual family, visited over `days` days.
fn census(servers: usize, days: i64, visits: usize) -> impl Strategy<Value = Vec<Visit>> {
    let families = prop::collection::vec(0..FAMILIES.len(), servers);
    families.prop_flat_map(move |usual| {
        let n = usual.len();
        prop::collection::vec(
            (
                0..n,
                0..days * 24 * 60,
                prop::bool::weighted(0.75),
                prop::bool::weighted(0.15),
                0..FAMILIES.len(),
                prop_oneof![4 => 0u64..5_000, 1 => 0u64..2_000_000],
                prop::option::of(0u64..3_000),
            ),
            1..visits,
        )
        .prop_map(move |raw| {
            raw.into_iter()
                .map(|(server, minute, ok, switch, other, users, active)| Visit {
                    server,
                    minute,
                    ok,
                    // Mostly the server's own family; sometimes it migrated.
                    family: if switch { other } else { usual[server] },
                    users,
                    active,
                })
                .collect::<Vec<_>>()
        })
    })
}

/// A fresh SQLite file for one case, removed when dropped.
struct TempDb {
    dir: std::path::PathBuf,
}

impl TempDb {
    fn new() -> TempDb {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fedicensus_props_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDb { dir }
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.dir.join("census.db").display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn record(storage: &Storage, visits: &[Visit]) {
    // Visits are recorded in time order, one at a time, as the crawler's pipeline does.
    let mut sorted: Vec<&Visit> = visits.iter().collect();
    sorted.sort_by_key(|v| (v.minute, v.server));
    for v in sorted {
        storage
            .record_observation(&v.observation(), None)
            .await
            .expect("recording a visit");
    }
}

async fn series(
    storage: &Storage,
    metric: SeriesMetric,
    granularity: Granularity,
    to: NaiveDate,
    software: Option<Software>,
    cleaned: bool,
) -> Series {
    let mut query = SeriesQuery::new(metric, granularity, date_of(0), to);
    query.software = software;
    query.cleaned = cleaned;
    storage.series(&query).await.expect("a series")
}

const FIGURES: [SeriesMetric; 3] = [
    SeriesMetric::UsersTotal,
    SeriesMetric::UsersActiveMonth,
    SeriesMetric::LocalPosts,
];

/// Series that describe a date from the visits before it, and so must never change later.
const STOCKS: [SeriesMetric; 8] = [
    SeriesMetric::ServersKnown,
    SeriesMetric::ServersMentioned,
    SeriesMetric::ServersUp,
    SeriesMetric::UsersTotal,
    SeriesMetric::UsersActiveMonth,
    SeriesMetric::LocalPosts,
    SeriesMetric::ConcentrationTopPercent,
    SeriesMetric::ConcentrationTopTen,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn totals_are_the_sum_of_their_parts_per_software(
        visits in census(6, 40, 60),
        granularity in prop::sample::select(vec![Granularity::Day, Granularity::Week]),
    ) {
        let db = TempDb::new();
        runtime().block_on(async {
            let storage = Storage::connect(&db.url()).await.expect("a fresh database");
            record(&storage, &visits).await;
            let to = date_of(45);
            for metric in FIGURES {
                for cleaned in [false, true] {
                    let total = series(&storage, metric, granularity, to, None, cleaned).await;
                    let mut parts = Vec::new();
                    for family in &FAMILIES {
                        parts.push(series(&storage, metric, granularity, to, Some(family.clone()), cleaned).await);
                    }
                    for (i, point) in total.points.iter().enumerate() {
                        let values: Vec<f64> = parts.iter().filter_map(|p| p.points[i].value).collect();
                        let sum = if values.is_empty() { None } else { Some(values.iter().sum::<f64>()) };
                        let reporting: u64 = parts.iter().map(|p| p.points[i].servers_reporting).sum();
                        let flagged: u64 = parts.iter().map(|p| p.points[i].flagged).sum();
                        let what = format!("{} cleaned={cleaned} at {}", metric.as_str(), point.date);
                        assert_eq!(point.value, sum, "value of {what}");
                        assert_eq!(point.servers_reporting, reporting, "servers_reporting of {what}");
                        assert_eq!(point.flagged, flagged, "flagged of {what}");
                        // Not reported is not zero: a value exists exactly when someone reports.
                        assert_eq!(point.value.is_some(), point.servers_reporting > 0, "{what}");
                    }
                }
            }
            storage.close().await;
        });
    }

    #[test]
    fn later_visits_and_deaths_never_change_an_earlier_date(
        before in census(6, 20, 40),
        after in census(8, 20, 40),
        dying in prop::collection::vec(0usize..6, 1..4),
    ) {
        let db = TempDb::new();
        runtime().block_on(async {
            let storage = Storage::connect(&db.url()).await.expect("a fresh database");
            record(&storage, &before).await;
            // Every date whose day ended before the first later visit.
            let last_day = date_of(19);
            let mut earlier = Vec::new();
            for metric in STOCKS {
                for cleaned in [false, true] {
                    earlier.push(series(&storage, metric, Granularity::Day, last_day, None, cleaned).await);
                }
            }
            // Later: ordinary visits (some of new servers), and servers that never answer again,
            // tried daily for 20 days (dead, their death dated back to their last success).
            let mut later: Vec<Visit> = after
                .into_iter()
                .map(|v| Visit { minute: v.minute + 20 * 24 * 60, ..v })
                .filter(|v| !dying.contains(&v.server))
                .collect();
            for &server in &dying {
                for day in 20..40 {
                    later.push(Visit { server, minute: day * 24 * 60 + 7, ok: false, family: 0, users: 0, active: None });
                }
            }
            record(&storage, &later).await;
            // Dates after the last earlier visit had no data yet (a series ends with the last
            // crawled day); they may gain some. Every crawled date keeps its point.
            let crawled = before.iter().map(|v| v.minute / (24 * 60)).max().map(date_of);
            let mut i = 0;
            for metric in STOCKS {
                for cleaned in [false, true] {
                    let now = series(&storage, metric, Granularity::Day, last_day, None, cleaned).await;
                    for (was, is) in earlier[i].points.iter().zip(&now.points) {
                        if crawled.is_some_and(|c| was.date <= c) {
                            assert_eq!(is, was, "{} cleaned={cleaned} changed", metric.as_str());
                        } else {
                            assert_eq!(was.value, None, "{} on {}: not crawled yet", metric.as_str(), was.date);
                        }
                    }
                    i += 1;
                }
            }
            storage.close().await;
        });
    }
}

/// Found by `totals_are_the_sum_of_their_parts_per_software`: a server that changed software
/// (Mastodon on day 0, Lemmy on day 28) was counted under both families on day 28, because the
/// family filter dropped the other family's visits before choosing the visit to carry forward.
#[test]
fn a_server_that_changed_software_counts_once_under_the_family_of_the_visit_used() {
    let visits = [
        Visit {
            server: 3,
            minute: 0,
            ok: true,
            family: 0,
            users: 0,
            active: Some(56),
        },
        Visit {
            server: 3,
            minute: 41_725,
            ok: true,
            family: 2,
            users: 2569,
            active: Some(2593),
        },
    ];
    let db = TempDb::new();
    runtime().block_on(async {
        let storage = Storage::connect(&db.url()).await.expect("a fresh database");
        record(&storage, &visits).await;
        let day = date_of(28);
        let mastodon = series(
            &storage,
            SeriesMetric::UsersTotal,
            Granularity::Day,
            day,
            Some(Software::Mastodon),
            false,
        )
        .await;
        let lemmy = series(
            &storage,
            SeriesMetric::UsersTotal,
            Granularity::Day,
            day,
            Some(Software::Lemmy),
            false,
        )
        .await;
        let last = |s: &Series| s.points.last().cloned().expect("a point for day 28");
        assert_eq!(last(&mastodon).value, None);
        assert_eq!(last(&mastodon).servers_reporting, 0);
        assert_eq!(last(&lemmy).value, Some(2569.0));
        assert_eq!(last(&lemmy).servers_reporting, 1);
        // Before the migration the server counted as Mastodon.
        assert_eq!(mastodon.points[27].servers_reporting, 1);
        storage.close().await;
    });
}
