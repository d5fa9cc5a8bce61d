//! Crawl requests: "start a crawl now", asked through the dashboard's admin API and honoured by
//! running `fedicensus crawl --every` daemons.
//!
//! The dashboard cannot start a crawl itself (it depends on storage, not on the crawler, and may
//! run on another machine), so a request is a row: [`Storage::request_crawl`] writes it, every
//! daemon polls [`Storage::crawl_requested_since`] with the wall-clock time its last pass began
//! and starts a pass when something newer was asked, and each pass marks what was waiting as
//! started ([`Storage::start_crawl_requests`]), by the first worker to get there. Several workers
//! on one PostgreSQL database thus all start a pass on one request and share its hosts through
//! their leases. A request made while one is still waiting is the same request (asking twice
//! does not queue two crawls).

use crate::db::{stored_instant, Sql, Storage};
use crate::error::Result;
use chrono::{DateTime, Utc};

/// One request to start a crawl.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CrawlRequest {
    pub id: i64,
    pub requested_at: DateTime<Utc>,
    /// Who asked, as they said.
    pub requested_by: String,
    /// When a pass first started after the request; `None`: still waiting.
    pub started_at: Option<DateTime<Utc>>,
    /// The worker whose pass took it first.
    pub started_by: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    requested_at: DateTime<Utc>,
    requested_by: String,
    started_at: Option<DateTime<Utc>>,
    started_by: Option<String>,
}

impl From<RequestRow> for CrawlRequest {
    fn from(r: RequestRow) -> CrawlRequest {
        CrawlRequest {
            id: r.id,
            requested_at: r.requested_at,
            requested_by: r.requested_by,
            started_at: r.started_at,
            started_by: r.started_by,
        }
    }
}

const COLUMNS: &str = "id, requested_at, requested_by, started_at, started_by";

impl Storage {
    /// Asks for a crawl at `now`; a request still waiting is returned instead of a second one.
    /// The second value says whether this call made a new request.
    pub async fn request_crawl(
        &self,
        now: DateTime<Utc>,
        by: &str,
    ) -> Result<(CrawlRequest, bool)> {
        let mut tx = self.begin().await?;
        let waiting = tx
            .conn()
            .fetch_optional::<RequestRow>(
                Sql::new(format!(
                    "SELECT {COLUMNS} FROM crawl_requests WHERE started_at IS NULL \
                     ORDER BY id LIMIT 1"
                )),
                "looking for a waiting crawl request",
            )
            .await?;
        if let Some(waiting) = waiting {
            tx.commit().await?;
            return Ok((waiting.into(), false));
        }
        let row = tx
            .conn()
            .fetch_one::<RequestRow>(
                Sql::new(format!(
                    "INSERT INTO crawl_requests (requested_at, requested_by) VALUES ($1, $2) \
                     RETURNING {COLUMNS}"
                ))
                .bind(stored_instant(now))
                .bind(by),
                "recording a crawl request",
            )
            .await?;
        tx.commit().await?;
        Ok((row.into(), true))
    }

    /// The latest request made after `since`, if any: a daemon whose last pass began at `since`
    /// starts another when this is `Some`.
    pub async fn crawl_requested_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Option<CrawlRequest>> {
        let mut conn = self.acquire().await?;
        Ok(conn
            .conn()
            .fetch_optional::<RequestRow>(
                Sql::new(format!(
                    "SELECT {COLUMNS} FROM crawl_requests WHERE requested_at > $1 \
                     ORDER BY requested_at DESC, id DESC LIMIT 1"
                ))
                .bind(stored_instant(since)),
                "looking for crawl requests",
            )
            .await?
            .map(CrawlRequest::from))
    }

    /// Marks every request still waiting at `now` as started by `worker`'s pass; how many.
    pub async fn start_crawl_requests(&self, now: DateTime<Utc>, worker: &str) -> Result<u64> {
        let mut conn = self.acquire().await?;
        conn.conn()
            .execute(
                Sql::new(
                    "UPDATE crawl_requests SET started_at = $1, started_by = $2 \
                     WHERE started_at IS NULL AND requested_at <= $1",
                )
                .bind(stored_instant(now))
                .bind(worker),
                "marking crawl requests started",
            )
            .await
    }

    /// The latest `limit` requests, newest first.
    pub async fn crawl_requests(&self, limit: u32) -> Result<Vec<CrawlRequest>> {
        let mut conn = self.acquire().await?;
        Ok(conn
            .conn()
            .fetch_all::<RequestRow>(
                Sql::new(format!(
                    "SELECT {COLUMNS} FROM crawl_requests ORDER BY id DESC LIMIT $1"
                ))
                .bind(i64::from(limit)),
                "listing crawl requests",
            )
            .await?
            .into_iter()
            .map(CrawlRequest::from)
            .collect())
    }
}
