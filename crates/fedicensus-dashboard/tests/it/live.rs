//! The banner of a census being built (the demo's): on every page, escaped like everything else,
//! never stale in the cache, and absent when the census is served as it is.

use crate::{fill, spawn_app, App, TempDir, HOSTILE};
use anyhow::Result;
use fedicensus_dashboard::{AppState, ChartSet, DashboardConfig, Etiquette, LiveCensus};
use fedicensus_storage::Storage;
use std::sync::Arc;

#[tokio::test]
async fn a_census_being_built_shows_its_progress_escaped_on_every_page_and_a_served_one_shows_none(
) -> Result<()> {
    let plain = spawn_app(false).await?;
    let page = plain.get("/").await?;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("class=\"census-banner"),
        "{}",
        page.body
    );

    let dir = TempDir::new("live");
    let url = format!("sqlite://{}?mode=rwc", dir.0.join("census.db").display());
    let storage = Storage::connect(&url).await?;
    fill(&storage).await?;
    let live = Arc::new(LiveCensus::new(28));
    live.update(|p| p.activity = Some(HOSTILE.to_owned()));
    let config = DashboardConfig {
        charts: ChartSet::embedded()?,
        admin_token: None,
        etiquette: Etiquette::default(),
        db_size: None,
        public_url: None,
    };
    let state = AppState::new(storage.clone(), config)?.with_live(live.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(fedicensus_dashboard::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let app = App {
        addr,
        storage,
        _dir: dir,
    };
    for path in ["/", "/growth", "/servers", "/crawl", "/methodology"] {
        let page = app.get(path).await?;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("data-complete=\"false\""), "{path}");
        assert!(page.body.contains("pass 0 of 28"), "{path}");
        assert!(!page.body.contains("<script>alert(1)"), "{path}: unescaped");
        assert!(page.body.contains("&lt;script&gt;alert(1)"), "{path}");
    }
    // A new pass is shown at once, though the data did not change (the cache's version moved).
    live.update(|p| {
        p.activity = None;
        p.pass = 3;
        p.visits = 1_234;
    });
    let page = app.get("/").await?;
    assert!(
        page.body.contains("pass 3 of 28, 1,234 visits so far"),
        "{}",
        page.body
    );
    live.update(|p| p.complete = true);
    let page = app.get("/").await?;
    assert!(page.body.contains("data-complete=\"true\""));
    assert!(page.body.contains("Census complete"));
    Ok(())
}
