//! The Where page: servers, users and monthly actives by the country and network of their
//! address, as a world map, a table of hosting networks with the share of the three largest, and
//! charts, each with its CSV and JSON; without a geolocation database it says how to add one.

use crate::{at, ok, spawn_app};
use anyhow::Result;
use fedicensus_core::{Location, Software};

/// Three located servers on 2022-11-20 (the `fill` servers were visited without a database).
async fn add_located(app: &crate::App) -> Result<()> {
    let mut more = Vec::new();
    for (host, country, asn, org, users) in [
        ("de1.example", "DE", 24940, "Hetzner Online GmbH", 40),
        ("de2.example", "DE", 24940, "Hetzner Online GmbH", 60),
        ("jp.example", "JP", 9371, "SAKURA <Internet>", 30),
    ] {
        let mut o = ok(
            host,
            at(11, 20),
            Software::Mastodon,
            "mastodon",
            users,
            Some(users / 2),
        );
        o.location = Some(Location {
            country: Some(country.into()),
            asn: Some(asn),
            as_organization: Some(org.into()),
            database: "test".into(),
        });
        more.push(o);
    }
    app.storage.ingest_bulk(&more, None).await?;
    Ok(())
}

#[tokio::test]
async fn without_a_database_the_where_page_says_how_to_add_one_and_nothing_breaks() -> Result<()> {
    let app = spawn_app(false).await?;
    let page = app.get("/where").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"no-geo\""), "{}", page.body);
    assert!(page.body.contains("[geo]"), "the setting is named");
    assert!(page.body.contains("country_database"));
    assert!(
        page.body.contains("class=\"world-map\""),
        "the map is drawn, grey"
    );
    assert!(
        !page.body.contains("data-value=\"1\""),
        "no country has a server"
    );
    assert!(page
        .body
        .contains("<span id=\"unknown-share\">100.0 %</span>"));
    for id in ["countries-servers", "countries-users", "networks-servers"] {
        assert!(page.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let api = app.get("/api/v1/countries/servers_up").await?;
    assert_eq!(api.status, 200, "{}", api.body);
    let v: serde_json::Value = serde_json::from_str(&api.body)?;
    assert_eq!(v["located"], false);
    let countries = v["countries"].as_array().expect("a list");
    assert!(countries.iter().all(|c| c["country"] == "unknown"), "{v}");
    Ok(())
}

#[tokio::test]
async fn the_where_page_maps_countries_and_lists_networks_with_their_concentration() -> Result<()> {
    let app = spawn_app(false).await?;
    add_located(&app).await?;
    let page = app.get("/where?to=2022-11-20").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("id=\"no-geo\""));
    // Germany has two servers, Japan one; the three servers of `fill` up that day are unknown.
    assert!(page.body.contains("data-country=\"DE\" data-value=\"2\""));
    assert!(page.body.contains("data-country=\"JP\" data-value=\"1\""));
    assert!(page.body.contains("data-country=\"FR\" data-value=\"0\""));
    assert!(
        page.body.contains("Germany (DE): 2 servers up (33.3 %)"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("<span id=\"unknown-share\">50.0 %</span>"));
    // Two networks hold every located server and user: the top three hold all.
    assert!(page
        .body
        .contains("<strong id=\"top-servers\">100.0 %</strong>"));
    assert!(page.body.contains("AS24940 Hetzner Online GmbH"));
    assert!(
        page.body.contains("SAKURA &lt;Internet&gt;"),
        "names are escaped"
    );
    // The map of monthly actives, and a metric the map does not draw.
    let mau = app
        .get("/where?to=2022-11-20&map=users_active_month")
        .await?;
    assert_eq!(mau.status, 200, "{}", mau.body);
    assert!(mau.body.contains("data-country=\"DE\" data-value=\"50\""));
    let bad = app.get("/where?map=local_posts").await?;
    assert_eq!(bad.status, 400, "{}", bad.body);

    let range = "from=2022-11-20&to=2022-11-20&granularity=day";
    let r = app
        .get(&format!("/api/v1/countries/users_total?{range}"))
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    assert_eq!(v["located"], true);
    let de = v["countries"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["country"] == "DE"))
        .expect("DE is listed");
    assert_eq!(de["points"][0]["value"].as_f64(), Some(100.0));
    let total = v["total"][0]["value"].as_f64().expect("a total");
    let own = app
        .get(&format!("/api/v1/series/users_total?{range}"))
        .await?;
    let own: serde_json::Value = serde_json::from_str(&own.body)?;
    assert_eq!(
        own["points"][0]["value"].as_f64(),
        Some(total),
        "it adds up"
    );
    assert!(v["total"][0]["unknown_share"].as_f64().is_some());

    let csv = app
        .get(&format!("/api/v1/networks/servers_up?{range}&format=csv"))
        .await?;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv
        .body
        .starts_with("date,network,organization,value,servers_reporting,total,share,top_3_share"));
    assert!(
        csv.body
            .contains("2022-11-20,24940,Hetzner Online GmbH,2,2,6,0.33333"),
        "{}",
        csv.body
    );
    let csv = app
        .get(&format!("/api/v1/countries/servers_up?{range}&format=csv"))
        .await?;
    assert!(csv.body.contains("2022-11-20,JP,1,1,6,"), "{}", csv.body);
    let bad = app.get("/api/v1/networks/local_posts").await?;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // A server's page says where each visit's address was, with the databases on hover.
    let server = app.get("/servers/de1.example").await?;
    assert_eq!(server.status, 200, "{}", server.body);
    assert!(
        server
            .body
            .contains(r#"<td title="test">DE, AS24940 Hetzner Online GmbH</td>"#),
        "{}",
        server.body
    );
    let json = app.get("/api/v1/servers/de1.example").await?;
    assert!(json.body.contains(r#""country":"DE""#), "{}", json.body);

    // The charts have their CSV and SVG.
    let chart = app
        .get(&format!("/api/v1/charts/networks-servers/csv?{range}"))
        .await?;
    assert_eq!(chart.status, 200, "{}", chart.body);
    assert!(
        chart
            .body
            .contains("AS24940 Hetzner Online GmbH,servers_up,2022-11-20,2,2,"),
        "{}",
        chart.body
    );
    let svg = app
        .get("/api/v1/charts/countries-servers/svg?granularity=month")
        .await?;
    assert_eq!(svg.status, 200, "{}", svg.body);
    assert!(svg.body.contains("<svg"));
    Ok(())
}

/// In Chromium at a desktop and a phone width: the map fills its box at the projection's aspect,
/// Germany and Japan are drawn where they are (Equal Earth: Germany a little east of the middle,
/// Japan near the right edge, both in the northern half) in the fill of the largest class and
/// grey for a country with none, and the page does not overflow a phone.
#[tokio::test(flavor = "multi_thread")]
async fn chromium_draws_the_map_with_each_country_in_its_place_and_class() -> Result<()> {
    use crate::browser::{measured, CHROMIUM};
    if !std::path::Path::new(CHROMIUM).exists() {
        crate::skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install -y chromium)"
        ));
        return Ok(());
    }
    const MEASURE: &str = r#"<script>
const map = document.querySelector('svg.world-map');
const frame = map.getBoundingClientRect();
const place = (code) => {
  const boxes = [...map.querySelectorAll('path[data-country="' + code + '"]')].map((p) => p.getBoundingClientRect());
  const b = boxes.sort((x, y) => y.width * y.height - x.width * x.height)[0];
  const fill = getComputedStyle(map.querySelector('path[data-country="' + code + '"]')).fill.replace(/ /g, '');
  return code + ':' + ((b.left + b.width / 2 - frame.left) / frame.width).toFixed(3) + ',' +
    ((b.top + b.height / 2 - frame.top) / frame.height).toFixed(3) + ',' + fill;
};
const page = document.documentElement;
const out = ['map:' + Math.round(frame.width) + 'x' + Math.round(frame.height),
  'paths:' + map.querySelectorAll('path[data-country]').length,
  place('DE'), place('JP'), place('FR'), place('BR'),
  'overflow:' + (page.scrollWidth > window.innerWidth + 1)];
document.body.setAttribute('data-measured', out.join(' '));
</script>"#;
    let app = spawn_app(false).await?;
    add_located(&app).await?;
    let page = app.get("/where?to=2022-11-20").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let dir = crate::TempDir::new("where");
    for width in [1280, 390] {
        let (html, path) = (page.body.clone(), dir.0.clone());
        let found =
            tokio::task::spawn_blocking(move || measured(&html, MEASURE, width, &path, "where"))
                .await??;
        println!("{width} px: {found}");
        let field = |name: &str| -> Vec<String> {
            found
                .split(' ')
                .find_map(|f| f.strip_prefix(&format!("{name}:")))
                .map(|v| v.split(',').map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let size: Vec<f64> = field("map")[0]
            .split('x')
            .filter_map(|v| v.parse().ok())
            .collect();
        assert!(size[0] > 300.0, "{width}: the map is {size:?}");
        let aspect = size[1] / size[0];
        assert!((0.44..0.50).contains(&aspect), "{width}: aspect {aspect}");
        let paths: usize = field("paths")[0].parse()?;
        assert!(paths > 170, "{width}: {paths} outlines");
        let at = |code: &str| -> (f64, f64, String) {
            let f = field(code);
            (
                f[0].parse().unwrap_or(-1.0),
                f[1].parse().unwrap_or(-1.0),
                f[2..].join(","),
            )
        };
        let (x, y, fill) = at("DE");
        assert!(
            (0.50..0.58).contains(&x) && (0.08..0.25).contains(&y),
            "DE at {x},{y}"
        );
        assert_eq!(fill, "rgb(8,81,156)", "Germany has the most servers");
        let (x, y, _) = at("JP");
        assert!(
            (0.82..0.92).contains(&x) && (0.15..0.35).contains(&y),
            "JP at {x},{y}"
        );
        let (x, y, _) = at("BR");
        assert!(
            (0.3..0.42).contains(&x) && (0.5..0.8).contains(&y),
            "BR at {x},{y}"
        );
        let (_, _, fill) = at("FR");
        assert_eq!(fill, "rgb(228,228,228)", "France has none: grey");
        assert_eq!(field("overflow"), ["false"], "{width}: the page overflows");
    }
    Ok(())
}
