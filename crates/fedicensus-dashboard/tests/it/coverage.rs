//! Coverage: servers known and the estimated total with its interval, in the API (JSON and CSV)
//! and as the Growth page's band chart.

use crate::{at, ok, spawn_app};
use anyhow::Result;
use fedicensus_core::{Host, Software};
use fedicensus_storage::coverage::reporter_group;

/// The first `count` names `r{i}.example` in `group` of eight.
fn reporters(group: u32, count: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("r{i}.example"))
        .filter(|name| reporter_group(name, 8) == group)
        .take(count)
        .collect()
}

/// On 2022-11-21 a reporter of group 0 lists t1..t6 and one of group 1 lists t4..t9; eight more
/// reporters (a second in groups 0 and 1, one in each other group) list t4 alone, so the
/// published estimate has its ten reporters; every target answers that day. So f1 = 6 (t1-t3,
/// t7-t9, named by one group), f2 = 2 (t5, t6), f8 = 1 (t4).
async fn add_peer_lists(app: &crate::App) -> Result<()> {
    let mut lists: Vec<(String, Vec<u32>)> = vec![
        (reporters(0, 1).remove(0), (1..=6).collect()),
        (reporters(1, 1).remove(0), (4..=9).collect()),
    ];
    for group in 0..8 {
        let skip = usize::from(group < 2);
        for name in reporters(group, 1 + skip).into_iter().skip(skip) {
            lists.push((name, vec![4]));
        }
    }
    let mut visits = Vec::new();
    for (name, range) in lists {
        let mut o = ok(
            &name,
            at(11, 21),
            Software::Mastodon,
            "mastodon",
            50,
            Some(10),
        );
        o.peers = Some(
            range
                .into_iter()
                .map(|i| Host::from_normalised(format!("t{i}.example")))
                .collect(),
        );
        visits.push(o);
    }
    app.storage.ingest_bulk(&visits, None).await?;
    let targets: Vec<_> = (1..=9)
        .map(|i| {
            ok(
                &format!("t{i}.example"),
                at(11, 21) + chrono::Duration::hours(1),
                Software::Mastodon,
                "mastodon",
                2,
                None,
            )
        })
        .collect();
    app.storage.ingest_bulk(&targets, None).await?;
    Ok(())
}

#[tokio::test]
async fn the_coverage_api_gives_the_estimate_and_interval_in_json_and_csv() -> Result<()> {
    let app = spawn_app(false).await?;
    add_peer_lists(&app).await?;
    let range = "from=2022-11-20&to=2022-11-21&granularity=day";
    let r = app.get(&format!("/api/v1/coverage?{range}")).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    assert_eq!(v["estimator"], "chao2", "{}", r.body);
    assert_eq!(v["groups"], 8);
    // 20 November: no peer list read yet, so no estimate.
    let before = &v["points"][0];
    assert!(before["estimate"].is_null(), "{before}");
    assert_eq!(before["servers_listed"], 0);
    // 21 November: Chao2 with k = 8: f0 = 7/8 · 6 · 5 / (2 · 3) = 4.375 servers not found.
    let p = &v["points"][1];
    assert_eq!(p["servers_listed"], 9, "{p}");
    assert_eq!(p["reporters"], 10, "{p}");
    assert_eq!(
        p["captured_by_groups"],
        serde_json::json!([6, 2, 0, 0, 0, 0, 0, 1])
    );
    let known = p["servers_known"].as_f64().expect("a count");
    let estimate = p["estimate"].as_f64().expect("an estimate");
    assert!((estimate - (known + 4.375)).abs() < 1e-9, "{p}");
    let (low, high) = (p["low"].as_f64(), p["high"].as_f64());
    assert!(
        low.zip(high)
            .is_some_and(|(l, h)| l >= known && l < estimate && h > estimate),
        "{p}"
    );

    let csv = app
        .get(&format!("/api/v1/coverage?{range}&format=csv"))
        .await?;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some("date,servers_known,servers_listed,reporters,estimate,low,high,complete")
    );
    assert!(
        lines.next().is_some_and(|l| l.starts_with("2022-11-20,")),
        "{}",
        csv.body
    );
    let row: Vec<&str> = lines
        .next()
        .expect("a row for 21 November")
        .split(',')
        .collect();
    assert_eq!(row[0], "2022-11-21");
    assert_eq!(row[2..4], ["9", "10"]);
    assert_eq!(row[4].parse::<f64>()?, estimate);

    // Parameters it does not take are refused with what it accepts.
    let bad = app.get("/api/v1/coverage?software=mastodon").await?;
    assert_eq!(bad.status, 400, "{}", bad.body);
    Ok(())
}

#[tokio::test]
async fn the_coverage_chart_draws_a_band_above_servers_known() -> Result<()> {
    let app = spawn_app(false).await?;
    add_peer_lists(&app).await?;
    let range = "from=2022-11-20&to=2022-11-21&granularity=day";
    let r = app
        .get(&format!("/api/v1/charts/coverage/json?{range}"))
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    let names: Vec<&str> = v["series"]
        .as_array()
        .expect("series")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "servers known",
            "estimated total",
            "estimate, 95 % low",
            "estimate, 95 % high"
        ]
    );
    let svg = app
        .get(&format!("/api/v1/charts/coverage/svg?{range}"))
        .await?;
    assert_eq!(svg.status, 200);
    assert!(svg.body.contains("95 % interval"), "the band's legend");
    assert!(
        !svg.body.contains("estimate, 95 % low"),
        "the band's edges are not lines of the legend"
    );
    let page = app.get("/growth").await?.body;
    assert!(page.contains("coverage"), "the Growth page shows the chart");
    Ok(())
}
