//! The Languages page: servers, users and monthly actives by declared language as charts with
//! their CSV and JSON, and the API under them, adding up to the metric over every server.

use crate::{at, ok, spawn_app};
use anyhow::Result;
use fedicensus_core::language::declared;
use fedicensus_core::{Software, Source};

/// Three more servers on 2022-11-20 that declare languages (big.example, misskey.example and
/// evil.example of `fill` declare none).
async fn add_speakers(app: &crate::App) -> Result<()> {
    let mut more = Vec::new();
    for (host, language, users) in [
        ("ja1.example", "ja", 40),
        ("ja2.example", "ja-JP", 60),
        ("de.example", "de", 30),
    ] {
        let mut o = ok(
            host,
            at(11, 20),
            Software::Mastodon,
            "mastodon",
            users,
            Some(users / 2),
        );
        o.declare_languages(declared(Source::InstanceV2, &[language.to_owned()]));
        more.push(o);
    }
    app.storage.ingest_bulk(&more, None).await?;
    Ok(())
}

#[tokio::test]
async fn the_language_charts_have_their_csv_and_add_up_to_every_server() -> Result<()> {
    let app = spawn_app(false).await?;
    add_speakers(&app).await?;
    let range = "from=2022-11-20&to=2022-11-20&granularity=day";
    let r = app
        .get(&format!("/api/v1/charts/languages-servers/json?{range}"))
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    let value = |name: &str| -> Option<f64> {
        v["series"].as_array()?.iter().find(|s| s["name"] == name)?["points"][0]["value"].as_f64()
    };
    assert_eq!(value("ja"), Some(2.0), "{}", r.body);
    assert_eq!(value("de"), Some(1.0), "{}", r.body);
    // big.example, misskey.example and evil.example declare none; dead.example is not up.
    assert_eq!(value("none declared"), Some(3.0), "{}", r.body);
    let up = app
        .get("/api/v1/series/servers_up?from=2022-11-20&to=2022-11-20")
        .await?;
    let up: serde_json::Value = serde_json::from_str(&up.body)?;
    assert_eq!(
        up["points"][0]["value"].as_f64(),
        Some(6.0),
        "the stack adds up"
    );

    let csv = app
        .get(&format!("/api/v1/charts/languages-servers/csv?{range}"))
        .await?;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv
        .body
        .starts_with("series,metric,date,value,servers_reporting,complete"));
    assert!(
        csv.body.contains("ja,servers_up,2022-11-20,2,2,"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("none declared,servers_up,2022-11-20,3,3,"),
        "{}",
        csv.body
    );

    // Monthly actives by language: Misskey reports none, so it is not summed.
    let r = app
        .get(&format!("/api/v1/charts/languages-users/json?{range}"))
        .await?;
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    let ja = v["series"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "ja"))
        .map(|s| s["points"][0]["value"].as_f64());
    assert_eq!(ja, Some(Some(50.0)), "{}", r.body);

    // The page draws every language chart, and its SVG renders.
    let page = app.get("/languages").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    for id in [
        "languages-servers",
        "languages-users",
        "languages-registered",
    ] {
        assert!(page.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let svg = app
        .get("/api/v1/charts/languages-servers/svg?granularity=month")
        .await?;
    assert_eq!(svg.status, 200, "{}", svg.body);
    assert!(svg.body.contains("<svg"));
    Ok(())
}

#[tokio::test]
async fn the_languages_api_gives_every_language_its_share_in_json_and_csv() -> Result<()> {
    let app = spawn_app(false).await?;
    add_speakers(&app).await?;
    let r = app
        .get("/api/v1/languages/users_total?from=2022-11-20&to=2022-11-20&granularity=day")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    assert_eq!(v["total"][0]["value"].as_f64(), Some(1_837.0), "{}", r.body);
    let ja = v["languages"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["language"] == "ja"))
        .expect("ja is listed");
    assert_eq!(ja["points"][0]["value"].as_f64(), Some(100.0));
    assert_eq!(ja["points"][0]["servers_reporting"].as_u64(), Some(2));
    let share = ja["points"][0]["share"].as_f64().expect("a share");
    assert!((share - 100.0 / 1_837.0).abs() < 1e-9, "{share}");

    let csv = app
        .get(
            "/api/v1/languages/servers_up?from=2022-11-20&to=2022-11-20&granularity=day&format=csv",
        )
        .await?;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some("date,language,value,servers_reporting,total,share")
    );
    assert!(
        csv.body.contains("2022-11-20,de,1,1,6,0.16666"),
        "{}",
        csv.body
    );

    let bad = app.get("/api/v1/languages/local_posts").await?;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body
            .contains("servers_up, users_total, users_active_month"),
        "{}",
        bad.body
    );
    Ok(())
}

#[tokio::test]
async fn a_servers_page_lists_the_languages_each_visit_declared_with_their_source() -> Result<()> {
    let app = spawn_app(false).await?;
    add_speakers(&app).await?;
    let page = app.get("/servers/ja2.example").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<th>declared languages</th>"),
        "{}",
        page.body
    );
    // Normalised as the series count it, with the document it came from on hover.
    assert!(
        page.body.contains(r#"title="ja: instance_v2">ja</td>"#),
        "{}",
        page.body
    );
    // A server that declared none shows none.
    let page = app.get("/servers/big.example").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<th>declared languages</th>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(": instance_v2"), "{}", page.body);
    Ok(())
}

#[tokio::test]
async fn a_software_filter_counts_only_that_softwares_servers_by_language() -> Result<()> {
    let app = spawn_app(false).await?;
    add_speakers(&app).await?;
    let range = "from=2022-11-20&to=2022-11-20&granularity=day";
    for software in ["mastodon", "misskey"] {
        let split = app
            .get(&format!(
                "/api/v1/languages/servers_up?{range}&software={software}"
            ))
            .await?;
        assert_eq!(split.status, 200, "{}", split.body);
        let split: serde_json::Value = serde_json::from_str(&split.body)?;
        assert_eq!(split["software"], software);
        let own = app
            .get(&format!(
                "/api/v1/series/servers_up?{range}&software={software}"
            ))
            .await?;
        let own: serde_json::Value = serde_json::from_str(&own.body)?;
        assert_eq!(
            split["total"][0]["value"], own["points"][0]["value"],
            "{software}: the stack adds up to the software's own series"
        );
        let ja = split["languages"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["language"] == "ja"))
            .and_then(|l| l["points"][0]["value"].as_f64());
        // The two Japanese-speaking servers are Mastodon servers.
        let expected = if software == "mastodon" {
            Some(2.0)
        } else {
            None
        };
        assert_eq!(ja.filter(|v| *v > 0.0), expected, "{software}: {split}");
    }
    Ok(())
}
