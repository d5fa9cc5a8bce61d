//! Charts readable at phone width: pages carry a drawing made for phones beside the default one,
//! and a chart's image takes a `width` (validated, and cached apart from other widths).

use crate::spawn_app;
use anyhow::{Context, Result};

/// The `viewBox` width of every SVG in `html`, in order.
fn drawing_widths(html: &str) -> Vec<u32> {
    html.split("<svg ")
        .skip(1)
        .filter_map(|svg| {
            let view_box = svg.split("viewBox=\"0 0 ").nth(1)?;
            view_box.split(' ').next()?.parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn every_chart_on_a_page_is_drawn_for_wide_screens_and_for_phones() -> Result<()> {
    let app = spawn_app(false).await?;
    for path in ["/", "/growth", "/charts/overview-servers"] {
        let page = app.get(path).await?;
        assert_eq!(page.status, 200, "{path}");
        let sections = page.body.matches("<section class=\"chart\"").count();
        assert!(sections > 0, "{path}");
        let widths = drawing_widths(&page.body);
        assert_eq!(
            widths,
            [
                fedicensus_dashboard::render::WIDTH,
                fedicensus_dashboard::render::PHONE_WIDTH
            ]
            .repeat(sections),
            "{path}"
        );
        assert!(
            page.body.contains("@media (max-width: 37.5rem)")
                && page.body.contains(".chart-phone { display: none; }"),
            "{path}: the phone drawing is shown on narrow screens only"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_chart_image_is_drawn_at_the_width_asked_for() -> Result<()> {
    let app = spawn_app(false).await?;
    let base = "/api/v1/charts/overview-servers/svg";
    let default = app.get(base).await?;
    let narrow = app.get(&format!("{base}?width=330")).await?;
    let wide = app.get(&format!("{base}?width=1440")).await?;
    assert_eq!(drawing_widths(&default.body), [720]);
    assert_eq!(drawing_widths(&narrow.body), [330]);
    assert_eq!(drawing_widths(&wide.body), [1440]);
    assert!(wide.body.contains("viewBox=\"0 0 1440 880\""));
    // Cached apart: asking again for each gives the same drawing, not another width's.
    assert_eq!(
        app.get(&format!("{base}?width=330")).await?.body,
        narrow.body
    );
    assert_eq!(app.get(base).await?.body, default.body);
    // The chart list links to the phone drawing.
    let list: serde_json::Value = serde_json::from_str(&app.get("/api/v1/charts").await?.body)?;
    let link = list["charts"][0]["links"]["svg_phone"]
        .as_str()
        .context("a phone link")?;
    assert!(link.ends_with("/svg?width=330"), "{link}");
    Ok(())
}

#[tokio::test]
async fn a_bad_width_answers_400_saying_what_is_accepted() -> Result<()> {
    let app = spawn_app(false).await?;
    for (path, said) in [
        (
            "/api/v1/charts/overview-servers/svg?width=wide",
            "300 to 1600",
        ),
        (
            "/api/v1/charts/overview-servers/svg?width=299",
            "300 to 1600",
        ),
        (
            "/api/v1/charts/overview-servers/png?width=1601",
            "300 to 1600",
        ),
        (
            "/api/v1/charts/overview-servers/svg?width=-5",
            "300 to 1600",
        ),
        (
            "/api/v1/charts/overview-servers/csv?width=400",
            "svg and png",
        ),
        ("/charts/overview-servers?width=400", "from, to"),
    ] {
        let r = app.get(path).await?;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body)?;
        let msg = v["error"].as_str().context("an error message")?;
        assert!(msg.contains(said) && msg.contains("width"), "{path}: {msg}");
    }
    Ok(())
}
