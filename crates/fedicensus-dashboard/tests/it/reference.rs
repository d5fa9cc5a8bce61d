//! The Comparison page: without imports it says how to import; with joinmastodon.org's real
//! statistics answer imported (crates/fedicensus-core/tests/fixtures/reference), its figures are
//! charted beside fedicensus's with their CSV and JSON, listed in `/api/v1/references` (checked
//! against the OpenAPI document) and exported as `reference_figures.csv`.

use crate::{conforms, spawn_app};
use anyhow::{Context, Result};
use fedicensus_core::reference::{parse_reference, ReferenceSource};

const JOINMASTODON: &str = "joinmastodon-statistics-2022-09-30-to-2023-01-22.json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../fedicensus-core/tests/fixtures/reference/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

async fn import(app: &crate::App, source: ReferenceSource, name: &str) -> Result<()> {
    let bytes = fixture(name);
    let file = parse_reference(source, &bytes, None)?;
    app.storage
        .import_reference(&file, &bytes, name, crate::at(11, 21))
        .await?;
    Ok(())
}

#[tokio::test]
async fn without_imports_the_comparison_page_says_how_to_import_and_what_each_census_counts(
) -> Result<()> {
    let app = spawn_app(false).await?;
    let r = app.get("/comparison").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = &r.body;
    assert!(page.contains("No other census imported yet"), "{page}");
    for source in ReferenceSource::ALL {
        assert!(
            page.contains(&format!("--source {}", source.as_str())),
            "the command for {source}"
        );
        assert!(
            page.contains(&format!("<tr data-source=\"{}\">", source.as_str())),
            "the definitions of {source}"
        );
    }
    assert!(page.contains("<tr data-source=\"fedicensus\">"));
    assert!(
        page.contains("aria-current=\"page\">Comparison</a>"),
        "the nav marks it"
    );
    // The charts are there, fedicensus alone.
    assert!(
        page.contains("id=\"comparison-mastodon-servers\""),
        "{page}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/charts/comparison-mastodon-servers/json")
            .await?
            .body,
    )?;
    let names: Vec<&str> = json["series"]
        .as_array()
        .context("series")?
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["fedicensus"]);
    Ok(())
}

#[tokio::test]
async fn imported_figures_are_charted_beside_fedicensus_with_their_csv_and_json() -> Result<()> {
    let app = spawn_app(false).await?;
    import(&app, ReferenceSource::JoinMastodon, JOINMASTODON).await?;
    let range = "from=2022-11-01&to=2022-11-20&granularity=day";
    let csv = app
        .get(&format!(
            "/api/v1/charts/comparison-mastodon-servers/csv?{range}"
        ))
        .await?;
    assert_eq!(csv.status, 200, "{}", csv.body);
    // joinmastodon.org's "Servers Up" of 15 November 2022, with its own server count.
    assert!(
        csv.body
            .contains("joinmastodon.org,servers_up,2022-11-15,6104,6104,true"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("fedicensus,servers_up,2022-11-15,"));
    let users = app
        .get(&format!(
            "/api/v1/charts/comparison-mastodon-active/csv?{range}"
        ))
        .await?;
    // Monthly actives beside fedicensus's, with the servers joinmastodon.org counted that day.
    assert!(
        users
            .body
            .contains("joinmastodon.org,users_active_month,2022-11-15,1835815,6104,true"),
        "{}",
        users.body
    );
    // Every software: joinmastodon.org counts Mastodon only, so it is not drawn there.
    let all: serde_json::Value = serde_json::from_str(
        &app.get(&format!(
            "/api/v1/charts/comparison-all-servers/json?{range}"
        ))
        .await?
        .body,
    )?;
    assert_eq!(all["series"].as_array().context("series")?.len(), 1);
    // A week's point is the last figure dated in that week.
    let weekly = app
        .get("/api/v1/charts/comparison-mastodon-servers/csv?from=2022-11-07&to=2022-11-13&granularity=week")
        .await?;
    assert!(
        weekly
            .body
            .contains("joinmastodon.org,servers_up,2022-11-07,5703,5703,true"),
        "{}",
        weekly.body
    );
    let page = app.get(&format!("/comparison?{range}")).await?.body;
    assert!(!page.contains("No other census imported yet"));
    assert!(page.contains("<tr data-source=\"joinmastodon\"><td>joinmastodon.org</td>"));
    assert!(page.contains("1 day(s) listed more than once"), "{page}");
    assert!(
        page.contains("joinmastodon.org"),
        "the legend names the source"
    );
    Ok(())
}

#[tokio::test]
async fn the_references_api_conforms_to_its_schema_and_refuses_bad_parameters() -> Result<()> {
    let app = spawn_app(false).await?;
    import(&app, ReferenceSource::JoinMastodon, JOINMASTODON).await?;
    import(
        &app,
        ReferenceSource::InstancesSocial,
        "instances-social-list-count-1.json",
    )
    .await?;
    let doc: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/openapi.json").await?.body)?;
    let r = app
        .get("/api/v1/references?from=2022-11-15&to=2022-11-15")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    let mut wrong = Vec::new();
    conforms(
        &doc,
        &doc["components"]["schemas"]["References"],
        &v,
        "$",
        &mut wrong,
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(v["imports"].as_array().context("imports")?.len(), 2);
    let lines = v["lines"].as_array().context("lines")?;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["source"], "joinmastodon");
    assert_eq!(lines[0]["values"][0]["servers"], 6104);
    assert_eq!(lines[1]["source"], "instances-social");
    assert_eq!(lines[1]["values"][0]["active_week"], 1313);
    assert_eq!(
        lines[1]["values"][0]["active_month"],
        serde_json::Value::Null
    );
    assert_eq!(v["definitions"].as_array().context("definitions")?.len(), 5);
    for bad in [
        "/api/v1/references?from=2022-12-01&to=2022-11-01",
        "/api/v1/references?form=2022-11-01",
        "/api/v1/references?from=yesterday",
    ] {
        let r = app.get(bad).await?;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let csv = app
        .get("/api/v1/exports/reference_figures.csv?from=2022-11-15&to=2022-11-15")
        .await?;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let (body, _) = crate::exports::dechunk(&csv.body)?;
    let rows: Vec<&str> = body.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two rows: {body}");
    assert!(rows[1].starts_with("instances-social,2022-11-15,mastodon,1,23863,,1313,2,"));
    assert!(rows[2].starts_with("joinmastodon,2022-11-15,mastodon,6104,4794235,1835815,,1,"));
    Ok(())
}
