//! Dates after the last crawl: no data (null in JSON, empty in CSV, a gap in a chart), never
//! zero servers up. The test census was last crawled on 20 November 2022.

use crate::spawn_app;
use anyhow::{Context, Result};

#[tokio::test]
async fn servers_up_after_the_last_crawl_is_no_data_rather_than_zero() -> Result<()> {
    let app = spawn_app(false).await?;
    let q = "from=2022-11-20&to=2022-12-31";
    let v: serde_json::Value = serde_json::from_str(
        &app.get(&format!("/api/v1/series/servers_up?{q}"))
            .await?
            .body,
    )?;
    let points = v["points"].as_array().context("points")?;
    assert_eq!(points.len(), 42);
    assert_eq!(points[0]["date"], "2022-11-20");
    assert_eq!(points[0]["value"], 3.0, "big, misskey and evil answered");
    for p in &points[1..] {
        assert!(p["value"].is_null(), "not crawled, so no data: {p}");
        assert_eq!(p["servers_reporting"], 0, "{p}");
    }
    let csv = app
        .get(&format!("/api/v1/series/servers_up?{q}&format=csv"))
        .await?
        .body;
    assert!(csv.contains("\n2022-11-20,3,"), "{csv}");
    assert!(csv.contains("\n2022-12-31,,0"), "{csv}");
    // Monthly: December was never crawled; November is taken as of its last crawled day.
    let v: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/series/servers_up?from=2022-11-01&to=2022-12-31&granularity=month")
            .await?
            .body,
    )?;
    assert_eq!(v["points"][0]["value"], 3.0, "{v}");
    assert!(v["points"][1]["value"].is_null(), "{v}");
    // A chart over the same dates draws only the crawled point and says so in its data.
    let chart: serde_json::Value = serde_json::from_str(
        &app.get(&format!(
            "/api/v1/charts/overview-servers/json?{q}&granularity=day"
        ))
        .await?
        .body,
    )?;
    let up = chart["series"]
        .as_array()
        .context("series")?
        .iter()
        .find(|s| s["metric"] == "servers_up")
        .context("servers up")?;
    let values: Vec<&serde_json::Value> = up["points"]
        .as_array()
        .context("points")?
        .iter()
        .map(|p| &p["value"])
        .collect();
    assert!(values[1..].iter().all(|v| v.is_null()), "{values:?}");
    Ok(())
}
