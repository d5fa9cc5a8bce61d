//! The dashboard over a census database: the state it is built from, and serving it until a
//! shutdown signal, with the first pages computed into its cache while it already listens.
//! `fedicensus serve` and the demo serve through here.

use crate::error::{Context, Result};
use fedicensus_dashboard::{AppState, ChartSet, DashboardConfig, Etiquette, ServeLimits};
use fedicensus_storage::Storage;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// How to serve the dashboard (the binary fills it from its flags).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The chart definitions.
    pub charts: ChartSet,
    /// The bearer token admin actions need; `None` turns them off.
    pub admin_token: Option<String>,
    /// The contact URL the crawler's User-Agent names (shown on the etiquette page).
    pub contact_url: String,
    /// The SQLite file behind the database, if any (its size is shown on Crawl health).
    pub db_file: Option<PathBuf>,
    /// Connection limits.
    pub limits: ServeLimits,
    /// The address other sites reach the dashboard at (embed snippets are written with it).
    pub public_url: Option<String>,
}

impl ServeOptions {
    /// The dashboard's configuration from these options.
    pub fn dashboard_config(&self) -> DashboardConfig {
        DashboardConfig {
            charts: self.charts.clone(),
            admin_token: self.admin_token.clone(),
            etiquette: Etiquette {
                user_agent: format!(
                    "fedicensus/{} (+{})",
                    env!("CARGO_PKG_VERSION"),
                    self.contact_url
                ),
                robots_token: "fedicensus".into(),
                contact_url: self.contact_url.clone(),
            },
            db_size: self.db_file.clone().map(|path| {
                Arc::new(move || std::fs::metadata(&path).ok().map(|m| m.len()))
                    as fedicensus_dashboard::state::DbSizeFn
            }),
            public_url: self.public_url.clone(),
        }
    }
}

/// Serves `state` on `listener` under `limits` until `shutdown` completes (requests in flight
/// finish), computing the first pages into the cache meanwhile.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    tracing::info!(
        addr = ?listener.local_addr().ok(),
        admin = state.config.admin_token.is_some(),
        "serving the dashboard"
    );
    // The first pages are computed while the server already listens.
    tokio::spawn(fedicensus_dashboard::warm_up(state.clone()));
    tracing::info!(
        max_connections = limits.max_connections,
        header_read_timeout_ms = limits.header_read_timeout.as_millis() as u64,
        idle_timeout_ms = limits.idle_timeout.as_millis() as u64,
        "connection limits"
    );
    let app = fedicensus_dashboard::router(state);
    fedicensus_dashboard::serve_with(listener, app, limits, shutdown)
        .await
        .context("serving the dashboard")
}

/// The dashboard's state over `storage` with `options` (templates compiled, charts checked).
pub fn state(storage: Storage, options: &ServeOptions) -> Result<AppState> {
    AppState::new(storage, options.dashboard_config()).context("preparing the dashboard")
}
