//! Where servers are hosted: each visit's country and network stored (migration 0034), and
//! servers, users and monthly actives by country and by network, survivorship-free, adding up to
//! the metric's own series with "unknown" counted ("Where servers are hosted" in
//! docs/METHODOLOGY.md).

use crate::support::*;
use fedicensus_core::{Location, Observation, Outcome, Software};
use fedicensus_storage::{
    Export, GeoSeries, Granularity, SeriesMetric, SeriesQuery, Storage, UNKNOWN,
};

crate::conformance!(
    servers_count_under_the_country_of_their_address_at_the_time,
    countries_and_networks_add_up_to_the_metrics_own_series,
    the_bulk_path_stores_locations_as_one_by_one_does,
    a_robots_refusal_keeps_its_addresss_country,
    the_country_and_network_exports_have_a_row_per_date_and_group,
    locations_move_with_the_database,
    without_a_database_every_server_is_unknown,
);

fn located(
    name: &str,
    at: chrono::DateTime<chrono::Utc>,
    users: u64,
    country: Option<&str>,
    asn: Option<u32>,
) -> Observation {
    let mut o = ok(name, at, Software::Mastodon, users, Some(users / 2));
    o.location = Some(Location {
        country: country.map(str::to_owned),
        asn,
        as_organization: asn.map(|a| format!("Network {a}")),
        database: "test-Country 2022-09-01; test-ASN 2022-09-01".into(),
    });
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

/// The value of `key` (`None`: unknown) at point `i`.
fn at(split: &GeoSeries, key: Option<&str>, i: usize) -> Option<f64> {
    split
        .lines
        .iter()
        .find(|l| l.key.as_deref() == key)
        .and_then(|l| l.points[i].value)
}

/// From 1 to 30 November: `moving.example` in Germany on AS24940 until the 15th, then in
/// Finland on the same network; `us.example` in the US on AS14061; `dark.example` located but
/// in neither database; `gone.example` in France on AS16276, dead after the 10th; and
/// `unlocated.example`, visited without a database (no row).
async fn record_world(s: &Storage) -> anyhow::Result<()> {
    for d in 1..=30 {
        let country = if d <= 15 { "DE" } else { "FI" };
        s.record_observation(
            &located(
                "moving.example",
                day(11, d),
                100,
                Some(country),
                Some(24940),
            ),
            None,
        )
        .await?;
        s.record_observation(
            &located("us.example", day(11, d), 10, Some("US"), Some(14061)),
            None,
        )
        .await?;
        s.record_observation(&located("dark.example", day(11, d), 3, None, None), None)
            .await?;
        s.record_observation(
            &ok("unlocated.example", day(11, d), Software::Lemmy, 5, Some(1)),
            None,
        )
        .await?;
        if d <= 10 {
            s.record_observation(
                &located("gone.example", day(11, d), 7, Some("FR"), Some(16276)),
                None,
            )
            .await?;
        } else {
            s.record_observation(&failed("gone.example", day(11, d)), None)
                .await?;
        }
    }
    Ok(())
}

async fn servers_count_under_the_country_of_their_address_at_the_time(
    s: Storage,
) -> anyhow::Result<()> {
    record_world(&s).await?;
    assert!(s.has_locations().await?);
    let split = s
        .country_series(&query(SeriesMetric::ServersUp, (11, 5), (11, 30)))
        .await?;
    assert_eq!(at(&split, Some("DE"), 0), Some(1.0));
    assert_eq!(at(&split, Some("US"), 0), Some(1.0));
    assert_eq!(at(&split, Some("FR"), 0), Some(1.0));
    assert_eq!(at(&split, None, 0), Some(2.0), "dark and unlocated");
    assert_eq!(split.unknown_share()[0], Some(0.4));
    // 20 November: moving.example is in Finland now; gone.example has been down 10 days.
    let i = 15;
    assert_eq!(split.total[i].date, date(11, 20));
    assert_eq!(at(&split, Some("DE"), i), Some(0.0));
    assert_eq!(at(&split, Some("FI"), i), Some(1.0));
    assert_eq!(at(&split, Some("FR"), i), Some(0.0));
    assert_eq!(split.total[i].value, Some(4.0));
    // Unknown is listed last, whatever its size.
    assert_eq!(split.lines.last().map(|l| l.code()), Some(UNKNOWN));
    // Survivorship-free: later visits change no earlier point.
    for d in 1..=5 {
        s.record_observation(
            &located("moving.example", day(12, d), 100, Some("JP"), Some(9371)),
            None,
        )
        .await?;
    }
    let again = s
        .country_series(&query(SeriesMetric::ServersUp, (11, 5), (11, 30)))
        .await?;
    assert_eq!(again.total, split.total);
    for line in &split.lines {
        let same = again
            .lines
            .iter()
            .find(|l| l.key == line.key)
            .expect("the same country");
        assert_eq!(same.points, line.points, "{}", line.code());
    }
    // Networks: by AS number, named, with the share of the three largest.
    let networks = s
        .network_series(&query(SeriesMetric::UsersTotal, (11, 5), (11, 5)))
        .await?;
    assert_eq!(at(&networks, Some("24940"), 0), Some(100.0));
    assert_eq!(at(&networks, Some("14061"), 0), Some(10.0));
    assert_eq!(at(&networks, Some("16276"), 0), Some(7.0));
    assert_eq!(at(&networks, None, 0), Some(8.0), "dark 3 + unlocated 5");
    let hetzner = networks
        .lines
        .iter()
        .find(|l| l.key.as_deref() == Some("24940"))
        .expect("a line");
    assert_eq!(hetzner.name.as_deref(), Some("Network 24940"));
    // Three known networks hold every located user: the share is 1.
    assert_eq!(networks.top_share[0], Some(1.0));
    let servers = s
        .network_series(&query(SeriesMetric::ServersUp, (11, 5), (11, 5)))
        .await?;
    assert_eq!(servers.top_share[0], Some(1.0));
    assert!(s
        .country_series(&query(SeriesMetric::LocalPosts, (11, 12), (11, 12)))
        .await
        .is_err());
    Ok(())
}

async fn countries_and_networks_add_up_to_the_metrics_own_series(s: Storage) -> anyhow::Result<()> {
    record_world(&s).await?;
    for metric in fedicensus_storage::LANGUAGE_METRICS {
        for software in [None, Some(Software::Mastodon), Some(Software::Lemmy)] {
            for granularity in [Granularity::Day, Granularity::Week, Granularity::Month] {
                let q = SeriesQuery {
                    cleaned: granularity == Granularity::Week,
                    software: software.clone(),
                    ..SeriesQuery::new(metric, granularity, date(10, 20), date(12, 10))
                };
                let own = s.series(&q).await?;
                for split in [s.country_series(&q).await?, s.network_series(&q).await?] {
                    assert_eq!(own.points.len(), split.total.len());
                    for (i, (p, t)) in own.points.iter().zip(&split.total).enumerate() {
                        assert_eq!(
                            p.value,
                            t.value,
                            "{} {software:?} {granularity:?} point {i}",
                            metric.as_str()
                        );
                        let summed: f64 =
                            split.lines.iter().filter_map(|l| l.points[i].value).sum();
                        assert_eq!(t.value.unwrap_or(0.0), summed);
                    }
                }
            }
        }
    }
    Ok(())
}

async fn the_bulk_path_stores_locations_as_one_by_one_does(s: Storage) -> anyhow::Result<()> {
    for d in 1..=10 {
        s.record_observation(
            &located("seq.example", day(11, d), 10, Some("JP"), Some(9371)),
            None,
        )
        .await?;
    }
    let bulk: Vec<Observation> = (1..=10)
        .map(|d| located("bulk.example", day(11, d), 10, Some("JP"), Some(9371)))
        .collect();
    for batch in bulk.chunks(4) {
        s.ingest_bulk(batch, None).await?;
    }
    let split = s
        .country_series(&query(SeriesMetric::ServersUp, (11, 10), (11, 10)))
        .await?;
    assert_eq!(at(&split, Some("JP"), 0), Some(2.0));
    assert_eq!(split.lines.len(), 1, "{:?}", split.lines);
    let dir = crate::transfer::temp_dir("geo-bulk");
    s.export_tables(&dir).await?;
    let text = std::fs::read_to_string(dir.join("table-observation_geo.csv"))?;
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 20, "{text}");
    assert!(
        rows.iter()
            .all(|r| r
                .ends_with(",JP,9371,Network 9371,test-Country 2022-09-01; test-ASN 2022-09-01")),
        "{text}"
    );
    Ok(())
}

async fn a_robots_refusal_keeps_its_addresss_country(s: Storage) -> anyhow::Result<()> {
    for d in 1..=10 {
        s.record_observation(
            &located("shy.example", day(11, d), 10, Some("JP"), Some(9371)),
            None,
        )
        .await?;
    }
    let mut refusal = Observation::failed(
        host("shy.example"),
        day(11, 11),
        Outcome::RobotsDisallowed,
        40,
    );
    refusal.location = located("x.example", day(11, 11), 1, Some("JP"), Some(9371)).location;
    s.record_observation(&refusal, None).await?;
    let split = s
        .country_series(&query(SeriesMetric::ServersUp, (11, 11), (11, 11)))
        .await?;
    assert_eq!(
        at(&split, Some("JP"), 0),
        Some(1.0),
        "up, and still in Japan"
    );
    Ok(())
}

async fn the_country_and_network_exports_have_a_row_per_date_and_group(
    s: Storage,
) -> anyhow::Result<()> {
    record_world(&s).await?;
    let what = Export::CountrySeries(query(SeriesMetric::ServersUp, (11, 5), (11, 6)));
    assert_eq!(what.file_name(), "countries-servers_up-day.csv");
    let mut buffer = Vec::new();
    s.export_csv(&what, &mut buffer).await?;
    let text = String::from_utf8(buffer)?;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "date,as_of,metric,country,value,servers_reporting,total,share,flagged,cleaned,\
             methodology_version"
        )
    );
    let rows: Vec<&str> = lines.collect();
    // Two dates, four groups (DE, US, FR, unknown) each.
    assert_eq!(rows.len(), 8, "{text}");
    assert!(rows
        .iter()
        .any(|r| r.starts_with("2022-11-05,") && r.contains(",servers_up,DE,1,1,5,0.2,")));
    assert!(rows
        .iter()
        .any(|r| r.contains(",servers_up,unknown,2,2,5,0.4,")));
    let what = Export::NetworkSeries(query(SeriesMetric::ServersUp, (11, 5), (11, 5)));
    assert_eq!(what.file_name(), "networks-servers_up-day.csv");
    let mut buffer = Vec::new();
    s.export_csv(&what, &mut buffer).await?;
    let text = String::from_utf8(buffer)?;
    assert!(text.starts_with(
        "date,as_of,metric,asn,organization,value,servers_reporting,total,share,top_3_share,"
    ));
    assert!(
        text.contains(",servers_up,24940,Network 24940,1,1,5,0.2,1,"),
        "{text}"
    );
    Ok(())
}

async fn locations_move_with_the_database(s: Storage) -> anyhow::Result<()> {
    record_world(&s).await?;
    let dir = crate::transfer::temp_dir("geo-move");
    s.export_tables(&dir).await?;
    let text = std::fs::read_to_string(dir.join("table-observation_geo.csv"))?;
    assert_eq!(
        text.lines().next(),
        Some("observation_id,country,asn,as_organization,database")
    );
    assert!(
        text.lines().any(|l| l.contains(",\\N,\\N,\\N,")),
        "a located visit of no known place keeps its NULLs: {text}"
    );
    let target = crate::transfer::temp_dir("geo-target");
    std::fs::create_dir_all(&target)?;
    let other = Storage::connect(&format!(
        "sqlite://{}?mode=rwc",
        target.join("c.db").display()
    ))
    .await?;
    other.import_tables(&dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let q = query(SeriesMetric::ServersUp, (11, 1), (11, 30));
    let moved = other.country_series(&q).await?;
    let moved_networks = other.network_series(&q).await?;
    other.close().await;
    let _ = std::fs::remove_dir_all(&target);
    assert_eq!(moved, s.country_series(&q).await?);
    assert_eq!(moved_networks, s.network_series(&q).await?);
    Ok(())
}

async fn without_a_database_every_server_is_unknown(s: Storage) -> anyhow::Result<()> {
    for d in 1..=5 {
        s.record_observation(
            &ok("plain.example", day(11, d), Software::Mastodon, 10, Some(2)),
            None,
        )
        .await?;
    }
    assert!(!s.has_locations().await?);
    let split = s
        .country_series(&query(SeriesMetric::ServersUp, (11, 5), (11, 5)))
        .await?;
    assert_eq!(at(&split, None, 0), Some(1.0));
    assert_eq!(split.unknown_share()[0], Some(1.0));
    let networks = s
        .network_series(&query(SeriesMetric::ServersUp, (11, 5), (11, 5)))
        .await?;
    assert_eq!(networks.top_share[0], None, "no network known");
    Ok(())
}
