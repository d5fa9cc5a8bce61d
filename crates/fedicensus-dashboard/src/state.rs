//! What every handler shares: storage, the chart definitions, the templates, the admin token,
//! request metrics and what the site says about its crawler.
//!
//! Everything is loaded and checked before the server starts listening ([`AppState::new`]), so a
//! bad chart file or template fails at start, not on a visitor's request.

use crate::cache::{ResponseCache, DEFAULT_VERSION_REFRESH};
use crate::charts::ChartSet;
use crate::error::Result;
use crate::health::{CheckFn, HealthProbe};
use crate::live::LiveCensus;
use crate::pages::templates;
use fedicensus_storage::Storage;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the etiquette page says about the crawler (the binary fills it from its configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Etiquette {
    /// The exact User-Agent header the crawler sends.
    pub user_agent: String,
    /// The token to use in robots.txt.
    pub robots_token: String,
    /// Where people reach whoever runs this census.
    pub contact_url: String,
}

impl Default for Etiquette {
    fn default() -> Etiquette {
        Etiquette {
            user_agent: format!(
                "fedicensus/{} (+https://example.invalid/fedicensus)",
                env!("CARGO_PKG_VERSION")
            ),
            robots_token: "fedicensus".into(),
            contact_url: "https://example.invalid/fedicensus".into(),
        }
    }
}

/// Reports the database's size in bytes, when the binary knows how (a SQLite file's size).
pub type DbSizeFn = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

/// Configuration of the dashboard, built by the binary.
#[derive(Clone)]
pub struct DashboardConfig {
    pub charts: ChartSet,
    /// The bearer token admin actions need; `None` turns them off (404).
    pub admin_token: Option<String>,
    pub etiquette: Etiquette,
    pub db_size: Option<DbSizeFn>,
    /// The address other sites reach the dashboard at (`https://census.example.org`, no
    /// trailing slash): embed snippets are written with it. `None`: they give paths only.
    pub public_url: Option<String>,
}

impl std::fmt::Debug for DashboardConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardConfig")
            .field("charts", &self.charts.all().len())
            .field("admin_token", &self.admin_token.as_ref().map(|_| "(set)"))
            .field("etiquette", &self.etiquette)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Requests served and their latencies, by route and status (for `/metrics`).
#[derive(Debug, Default)]
pub struct RequestMetrics {
    inner: Mutex<BTreeMap<(String, u16), (u64, f64)>>,
}

impl RequestMetrics {
    /// Counts one request.
    pub fn record(&self, route: &str, status: u16, took: Duration) {
        if let Ok(mut map) = self.inner.lock() {
            let entry = map.entry((route.to_owned(), status)).or_default();
            entry.0 += 1;
            entry.1 += took.as_secs_f64();
        }
    }

    /// (route, status, count, total seconds), sorted.
    pub fn snapshot(&self) -> Vec<(String, u16, u64, f64)> {
        self.inner
            .lock()
            .map(|m| {
                m.iter()
                    .map(|((r, s), (c, t))| (r.clone(), *s, *c, *t))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The state every handler gets. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub storage: Storage,
    pub config: Arc<DashboardConfig>,
    pub templates: Arc<minijinja::Environment<'static>>,
    pub metrics: Arc<RequestMetrics>,
    /// Rendered responses by data version.
    pub cache: Arc<ResponseCache>,
    /// One permit per whole-census export under way ([`MAX_CONCURRENT_EXPORTS`]).
    pub exports: Arc<tokio::sync::Semaphore>,
    /// The census being built while it is served (the demo), shown as a banner on every page;
    /// `None` for a census served as it is.
    pub live: Option<Arc<LiveCensus>>,
    /// The latest database check, which `/healthz` reports without waiting for a connection.
    pub health: Arc<HealthProbe>,
}

/// How many whole-census exports may stream at once. Each holds a database connection (a read
/// snapshot) for as long as its client takes to read it, which a slow client makes hours; with
/// this many at most, the rest of the pool (8 connections) stays free for pages, the API and
/// `/healthz`. One more is answered 503 with `Retry-After` ([`EXPORT_RETRY_AFTER_SECS`]).
pub const MAX_CONCURRENT_EXPORTS: usize = 2;

/// The `Retry-After` of an export refused because every slot is in use.
pub const EXPORT_RETRY_AFTER_SECS: u64 = 60;

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state, compiling every template (a broken one fails here).
    pub fn new(storage: Storage, config: DashboardConfig) -> Result<AppState> {
        Ok(AppState {
            storage,
            config: Arc::new(config),
            templates: Arc::new(templates()?),
            metrics: Arc::new(RequestMetrics::default()),
            cache: Arc::new(ResponseCache::new(DEFAULT_VERSION_REFRESH)),
            exports: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_EXPORTS)),
            live: None,
            health: Arc::new(HealthProbe::default()),
        })
    }

    /// Starts the database check `/healthz` reports (once; the router calls it).
    pub fn start_health_checks(&self) {
        let storage = self.storage.clone();
        let check: CheckFn = Arc::new(move || {
            let storage = storage.clone();
            Box::pin(async move {
                let today = chrono::Utc::now().date_naive();
                storage
                    .annotations(today, today)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        self.health.start(check);
    }

    /// The same state showing `live`, a census being built, on every page.
    pub fn with_live(mut self, live: Arc<LiveCensus>) -> AppState {
        self.live = Some(live);
        self
    }

    /// The same state with the data's version read at most once per `refresh` (tests use
    /// zero, to see new data at once).
    pub fn with_version_refresh(mut self, refresh: Duration) -> AppState {
        self.cache = Arc::new(ResponseCache::new(refresh));
        self
    }
}
