//! Declared languages: stored per visit with their source (migration 0032), and servers, users
//! and monthly actives by primary language, survivorship-free, adding up to the metric's own
//! series ("By declared language" in docs/METHODOLOGY.md).

use crate::support::*;
use fedicensus_core::language::declared;
use fedicensus_core::{Observation, Outcome, Software, Source};
use fedicensus_storage::{
    Export, Granularity, LanguageSeries, SeriesMetric, SeriesQuery, Storage, NONE_DECLARED,
};

crate::conformance!(
    servers_count_under_the_language_they_declared_at_the_time,
    languages_add_up_to_the_metrics_own_series,
    the_bulk_path_stores_languages_as_one_by_one_does,
    a_robots_refusal_declares_no_language,
    the_language_export_has_a_row_per_date_and_language_with_its_share,
    languages_move_with_the_database,
);

/// A successful visit declaring `languages` in the instance API v1 (and `misskey` in Misskey's
/// meta, a less trusted source).
fn speaking(
    name: &str,
    at: chrono::DateTime<chrono::Utc>,
    users: u64,
    languages: &[&str],
) -> Observation {
    let mut o = ok(name, at, Software::Mastodon, users, Some(users / 2));
    let tags: Vec<String> = languages.iter().map(|l| l.to_string()).collect();
    o.declare_languages(declared(Source::NodeInfo, &["fr".to_owned()]));
    o.declare_languages(declared(Source::InstanceV1, &tags));
    o
}

fn query(metric: SeriesMetric, from: (u32, u32), to: (u32, u32)) -> SeriesQuery {
    SeriesQuery::new(
        metric,
        Granularity::Day,
        date(from.0, from.1),
        date(to.0, to.1),
    )
}

/// The value of `language` (`None`: none declared) at point `i`.
fn at(split: &LanguageSeries, language: Option<&str>, i: usize) -> Option<f64> {
    split
        .languages
        .iter()
        .find(|l| l.language.as_deref() == language)
        .and_then(|l| l.points[i].value)
}

/// Three servers from 1 to 30 November: `ja.example` declares Japanese until the 15th and English
/// after; `en.example` English throughout; `none.example` declares nothing; `gone.example`
/// declares German and dies after the 10th.
async fn record_world(s: &Storage) -> anyhow::Result<()> {
    for d in 1..=30 {
        let ja = if d <= 15 { "ja" } else { "en" };
        s.record_observation(&speaking("ja.example", day(11, d), 100, &[ja]), None)
            .await?;
        s.record_observation(&speaking("en.example", day(11, d), 10, &["en-GB"]), None)
            .await?;
        s.record_observation(
            &ok("none.example", day(11, d), Software::Lemmy, 5, Some(1)),
            None,
        )
        .await?;
        if d <= 10 {
            s.record_observation(&speaking("gone.example", day(11, d), 7, &["de"]), None)
                .await?;
        } else {
            s.record_observation(&failed("gone.example", day(11, d)), None)
                .await?;
        }
    }
    Ok(())
}

async fn servers_count_under_the_language_they_declared_at_the_time(
    s: Storage,
) -> anyhow::Result<()> {
    record_world(&s).await?;
    // Stored with provenance: each document's languages under its source, v1 first.
    let history = s.server_history(&host("ja.example")).await?;
    let first = history.observations.first().expect("visits");
    assert_eq!(
        first.languages,
        [
            ("ja".to_owned(), "instance_v1".to_owned()),
            ("fr".to_owned(), "nodeinfo".to_owned())
        ]
    );
    let last = history.observations.last().expect("visits");
    assert_eq!(
        last.languages[0],
        ("en".to_owned(), "instance_v1".to_owned())
    );
    let split = s
        .language_series(&query(SeriesMetric::ServersUp, (11, 5), (11, 30)))
        .await?;
    // 5 November: ja, en, none declared, de (gone is up: it answered on the 5th).
    assert_eq!(at(&split, Some("ja"), 0), Some(1.0));
    assert_eq!(at(&split, Some("en"), 0), Some(1.0));
    assert_eq!(at(&split, Some("de"), 0), Some(1.0));
    assert_eq!(at(&split, None, 0), Some(1.0));
    assert_eq!(
        at(&split, Some("fr"), 0),
        None,
        "NodeInfo's fr is never primary"
    );
    // 20 November: ja.example now declares English; gone.example has been down 10 days.
    let i = 15;
    assert_eq!(split.total[i].date, date(11, 20));
    assert_eq!(at(&split, Some("ja"), i), Some(0.0));
    assert_eq!(at(&split, Some("en"), i), Some(2.0));
    assert_eq!(at(&split, Some("de"), i), Some(0.0));
    assert_eq!(at(&split, None, i), Some(1.0));
    assert_eq!(split.total[i].value, Some(3.0));
    // Survivorship-free: recording later visits changes no earlier point.
    for d in 1..=5 {
        s.record_observation(&speaking("ja.example", day(12, d), 100, &["ko"]), None)
            .await?;
    }
    let again = s
        .language_series(&query(SeriesMetric::ServersUp, (11, 5), (11, 30)))
        .await?;
    assert_eq!(again.total, split.total);
    for line in &split.languages {
        let same = again
            .languages
            .iter()
            .find(|l| l.language == line.language)
            .expect("the same language");
        assert_eq!(same.points, line.points, "{}", line.name());
    }
    // "none declared" is listed last, whatever its size.
    assert_eq!(
        again.languages.last().map(|l| l.name()),
        Some(NONE_DECLARED)
    );
    // Users: figures carried forward under the language of the latest answer.
    let users = s
        .language_series(&query(SeriesMetric::UsersTotal, (11, 12), (11, 12)))
        .await?;
    assert_eq!(at(&users, Some("ja"), 0), Some(100.0));
    assert_eq!(at(&users, Some("en"), 0), Some(10.0));
    assert_eq!(
        at(&users, Some("de"), 0),
        Some(7.0),
        "carried forward 30 days"
    );
    assert_eq!(at(&users, None, 0), Some(5.0));
    assert!(s
        .language_series(&query(SeriesMetric::LocalPosts, (11, 12), (11, 12)))
        .await
        .is_err());
    Ok(())
}

async fn languages_add_up_to_the_metrics_own_series(s: Storage) -> anyhow::Result<()> {
    record_world(&s).await?;
    // A robots.txt refusal names no software: up for every software only.
    s.record_observation(
        &Observation::failed(
            host("none.example"),
            day(11, 30) + chrono::Duration::hours(1),
            Outcome::RobotsDisallowed,
            1,
        ),
        None,
    )
    .await?;
    let mut cases = Vec::new();
    for metric in fedicensus_storage::LANGUAGE_METRICS {
        for software in [None, Some(Software::Mastodon), Some(Software::Lemmy)] {
            cases.push((metric, software));
        }
    }
    for (metric, software) in cases {
        for granularity in [Granularity::Day, Granularity::Week, Granularity::Month] {
            let q = SeriesQuery {
                cleaned: granularity == Granularity::Week,
                software: software.clone(),
                ..SeriesQuery::new(metric, granularity, date(10, 20), date(12, 10))
            };
            let own = s.series(&q).await?;
            let split = s.language_series(&q).await?;
            assert_eq!(own.points.len(), split.total.len());
            for (i, (p, t)) in own.points.iter().zip(&split.total).enumerate() {
                assert_eq!(p.date, t.date);
                assert_eq!(
                    p.value,
                    t.value,
                    "{} {software:?} {granularity:?} point {i}",
                    metric.as_str()
                );
                let summed: f64 = split
                    .languages
                    .iter()
                    .filter_map(|l| l.points[i].value)
                    .sum();
                assert_eq!(t.value.unwrap_or(0.0), summed);
            }
        }
    }
    Ok(())
}

async fn the_bulk_path_stores_languages_as_one_by_one_does(s: Storage) -> anyhow::Result<()> {
    let mut visits = Vec::new();
    for d in 1..=10 {
        visits.push(speaking("seq.example", day(11, d), 10, &["ja", "en"]));
    }
    for v in &visits {
        s.record_observation(v, None).await?;
    }
    let bulk: Vec<Observation> = (1..=10)
        .map(|d| speaking("bulk.example", day(11, d), 10, &["ja", "en"]))
        .collect();
    for batch in bulk.chunks(4) {
        s.ingest_bulk(batch, None).await?;
    }
    let split = s
        .language_series(&query(SeriesMetric::ServersUp, (11, 10), (11, 10)))
        .await?;
    assert_eq!(at(&split, Some("ja"), 0), Some(2.0));
    assert_eq!(split.languages.len(), 1, "{:?}", split.languages);
    // Every row with its source and position, the same on both paths: three a visit (v1's ja
    // and en, NodeInfo's fr), in core's order.
    let dir = crate::transfer::temp_dir("languages-bulk");
    s.export_tables(&dir).await?;
    let text = std::fs::read_to_string(dir.join("table-observation_languages.csv"))?;
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 60, "{text}");
    for (suffix, count) in [
        (",instance_v1,ja,0", 20),
        (",instance_v1,en,1", 20),
        (",nodeinfo,fr,2", 20),
    ] {
        assert_eq!(
            rows.iter().filter(|r| r.ends_with(suffix)).count(),
            count,
            "{suffix}"
        );
    }
    Ok(())
}

async fn a_robots_refusal_declares_no_language(s: Storage) -> anyhow::Result<()> {
    for d in 1..=10 {
        s.record_observation(&speaking("shy.example", day(11, d), 10, &["ja"]), None)
            .await?;
    }
    s.record_observation(
        &Observation::failed(
            host("shy.example"),
            day(11, 11),
            Outcome::RobotsDisallowed,
            40,
        ),
        None,
    )
    .await?;
    // The refusal on the 11th is the last crawled day.
    let split = s
        .language_series(&query(SeriesMetric::ServersUp, (11, 10), (11, 11)))
        .await?;
    assert_eq!(at(&split, Some("ja"), 0), Some(1.0));
    assert_eq!(at(&split, Some("ja"), 1), Some(0.0));
    assert_eq!(
        at(&split, None, 1),
        Some(1.0),
        "up, and opted out of being read"
    );
    let users = s
        .language_series(&query(SeriesMetric::UsersTotal, (11, 11), (11, 11)))
        .await?;
    assert_eq!(users.total[0].value, None, "no figure past a refusal");
    Ok(())
}

async fn the_language_export_has_a_row_per_date_and_language_with_its_share(
    s: Storage,
) -> anyhow::Result<()> {
    record_world(&s).await?;
    let what = Export::LanguageSeries(query(SeriesMetric::ServersUp, (11, 5), (11, 6)));
    assert_eq!(what.file_name(), "languages-servers_up-day.csv");
    let mut buffer = Vec::new();
    s.export_csv(&what, &mut buffer).await?;
    let text = String::from_utf8(buffer)?;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "date,as_of,metric,language,value,servers_reporting,total,share,flagged,cleaned,\
             methodology_version"
        )
    );
    let rows: Vec<&str> = lines.collect();
    // Two dates, four languages (ja, en, de, none declared) each.
    assert_eq!(rows.len(), 8, "{text}");
    assert!(rows
        .iter()
        .any(|r| r.starts_with("2022-11-05,") && r.contains(",servers_up,ja,1,1,4,0.25,")));
    assert!(rows
        .iter()
        .any(|r| r.contains(",servers_up,none declared,1,1,4,0.25,")));
    Ok(())
}

async fn languages_move_with_the_database(s: Storage) -> anyhow::Result<()> {
    record_world(&s).await?;
    let dir = crate::transfer::temp_dir("languages-move");
    s.export_tables(&dir).await?;
    let text = std::fs::read_to_string(dir.join("table-observation_languages.csv"))?;
    assert_eq!(
        text.lines().next(),
        Some("observation_id,source,language,position")
    );
    assert!(
        text.lines().any(|l| l.ends_with(",instance_v1,ja,0")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.ends_with(",nodeinfo,fr,1")),
        "{text}"
    );
    // Read back into an empty database, the series are the same.
    let target = crate::transfer::temp_dir("languages-target");
    std::fs::create_dir_all(&target)?;
    let other = Storage::connect(&format!(
        "sqlite://{}?mode=rwc",
        target.join("c.db").display()
    ))
    .await?;
    other.import_tables(&dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let q = query(SeriesMetric::ServersUp, (11, 1), (11, 30));
    let moved = other.language_series(&q).await?;
    other.close().await;
    let _ = std::fs::remove_dir_all(&target);
    assert_eq!(moved, s.language_series(&q).await?);
    Ok(())
}
