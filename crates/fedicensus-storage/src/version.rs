//! The data's version: a few numbers that change whenever anything a chart, a page or an export
//! shows could have changed (an observation recorded, a run started or finished, an annotation
//! added, a server found or opted out, a crawl asked for or started, another census's figures imported). The dashboard keys its cache and its `ETag`s on it.
//!
//! It is cheap on purpose: maxima of primary keys (an index lookup each) and two counts over
//! small tables, in one round trip, so a server can ask for it once a second without noticing.

use crate::db::{count_of, Sql, Storage};
use crate::error::Result;

/// A version of the census's data. Two equal versions mean the same data (nothing is deleted
/// but by downsampling, which counts what it removed, and every write that changes what is
/// shown adds a row or changes a count here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DataVersion {
    /// The largest observation id.
    pub observations: u64,
    /// The largest crawl run id.
    pub runs: u64,
    /// Crawl runs that have finished.
    pub runs_finished: u64,
    /// The largest annotation id, and how many there are.
    pub annotations: (u64, u64),
    /// The largest server id.
    pub servers: u64,
    /// Servers that opted out.
    pub opted_out: u64,
    /// Observations removed by downsampling, all runs together.
    pub downsampled: u64,
    /// The largest crawl request id, and how many requests a pass has started.
    pub crawl_requests: (u64, u64),
    /// The largest reference import id (other censuses' figures, imported from files).
    pub references: u64,
}

impl std::fmt::Display for DataVersion {
    /// A compact token, usable in an HTTP entity tag.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "o{}r{}f{}a{}.{}s{}x{}d{}q{}.{}i{}",
            self.observations,
            self.runs,
            self.runs_finished,
            self.annotations.0,
            self.annotations.1,
            self.servers,
            self.opted_out,
            self.downsampled,
            self.crawl_requests.0,
            self.crawl_requests.1,
            self.references
        )
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    observations: i64,
    runs: i64,
    runs_finished: i64,
    annotation_max: i64,
    annotations: i64,
    servers: i64,
    opted_out: i64,
    downsampled: i64,
    request_max: i64,
    requests_started: i64,
    reference_max: i64,
}

const VERSION_SQL: &str = "SELECT \
    CAST(COALESCE((SELECT MAX(id) FROM observations), 0) AS BIGINT) AS observations, \
    CAST(COALESCE((SELECT MAX(id) FROM crawl_runs), 0) AS BIGINT) AS runs, \
    CAST((SELECT COUNT(*) FROM crawl_runs WHERE finished_at IS NOT NULL) AS BIGINT) AS runs_finished, \
    CAST(COALESCE((SELECT MAX(id) FROM annotations), 0) AS BIGINT) AS annotation_max, \
    CAST((SELECT COUNT(*) FROM annotations) AS BIGINT) AS annotations, \
    CAST(COALESCE((SELECT MAX(id) FROM servers), 0) AS BIGINT) AS servers, \
    CAST((SELECT COUNT(*) FROM servers WHERE status = 'opted_out') AS BIGINT) AS opted_out, \
    CAST(COALESCE((SELECT SUM(observations_removed) FROM downsamplings), 0) AS BIGINT) \
    AS downsampled, \
    CAST(COALESCE((SELECT MAX(id) FROM crawl_requests), 0) AS BIGINT) AS request_max, \
    CAST((SELECT COUNT(*) FROM crawl_requests WHERE started_at IS NOT NULL) AS BIGINT) \
    AS requests_started, \
    CAST(COALESCE((SELECT MAX(id) FROM reference_imports), 0) AS BIGINT) AS reference_max";

impl Storage {
    /// The data's current version (one query).
    pub async fn data_version(&self) -> Result<DataVersion> {
        let mut conn = self.acquire().await?;
        let row = conn
            .conn()
            .fetch_one::<VersionRow>(Sql::new(VERSION_SQL), "reading the data's version")
            .await?;
        Ok(DataVersion {
            observations: count_of(row.observations),
            runs: count_of(row.runs),
            runs_finished: count_of(row.runs_finished),
            annotations: (count_of(row.annotation_max), count_of(row.annotations)),
            servers: count_of(row.servers),
            opted_out: count_of(row.opted_out),
            downsampled: count_of(row.downsampled),
            crawl_requests: (count_of(row.request_max), count_of(row.requests_started)),
            references: count_of(row.reference_max),
        })
    }
}
