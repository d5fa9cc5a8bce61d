//! Periods still in progress at the last crawled day: drawn apart, noted, and marked
//! `complete = false` in the CSV and JSON under the chart. The test census was last crawled on
//! Sunday 20 November 2022, so November is incomplete and the week ending that day is not.

use crate::spawn_app;
use anyhow::{Context, Result};

#[tokio::test]
async fn a_month_in_progress_is_marked_in_csv_and_json_and_noted_on_the_chart() -> Result<()> {
    let app = spawn_app(false).await?;
    // Software share: servers up per month, a stack.
    let csv = app.get("/api/v1/charts/software-share/csv").await?.body;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("series,metric,date,value,servers_reporting,complete")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty(), "{csv}");
    for row in &rows {
        let complete = row.rsplit(',').next().unwrap_or_default();
        if row.contains(",2022-11-01,") {
            assert_eq!(complete, "false", "November runs to the 20th only: {row}");
        } else {
            assert_eq!(complete, "true", "{row}");
        }
    }
    assert!(rows.iter().any(|r| r.contains(",2022-10-01,")), "{csv}");
    let v: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/charts/software-share/json").await?.body)?;
    for s in v["series"].as_array().context("series")? {
        for p in s["points"].as_array().context("points")? {
            assert_eq!(p["complete"], p["date"] != "2022-11-01", "{p}");
        }
    }
    let svg = app.get("/api/v1/charts/software-share/svg").await?.body;
    assert!(
        svg.contains("last month incomplete (data as of 2022-11-20)"),
        "{svg}"
    );
    let page = app.get("/software").await?.body;
    assert!(
        page.contains("incomplete: data as of 2022-11-20"),
        "the table's note column says so"
    );
    assert!(page.contains("The last month (2022-11-01 onwards) is incomplete"));
    Ok(())
}

#[tokio::test]
async fn whole_weeks_are_complete_even_when_the_range_ends_midweek() -> Result<()> {
    let app = spawn_app(false).await?;
    let v: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/charts/overview-servers/json").await?.body)?;
    for s in v["series"].as_array().context("series")? {
        for p in s["points"].as_array().context("points")? {
            assert_eq!(p["complete"], true, "crawled through Sunday: {p}");
        }
    }
    let svg = app.get("/api/v1/charts/overview-servers/svg").await?.body;
    assert!(!svg.contains("incomplete"), "nothing to note");
    // A range ending on Wednesday 12 October still gets that week whole: the four servers first
    // seen on Saturday the 15th.
    let csv = app
        .get("/api/v1/charts/growth-servers/csv?from=2022-10-01&to=2022-10-12")
        .await?
        .body;
    assert!(
        csv.contains("new servers,servers_new,2022-10-10,4,"),
        "{csv}"
    );
    assert!(csv.contains(",2022-10-10,4,4,true"), "{csv}");
    Ok(())
}
