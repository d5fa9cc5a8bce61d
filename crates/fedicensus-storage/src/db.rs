//! The two backends behind one type, without `sqlx::Any`.
//!
//! [`Storage`] holds either a `SqlitePool` or a `PgPool`. Queries are written once as SQL text
//! with `$1`-style parameters (SQLite accepts them too) plus a list of [`Value`]s, and run through
//! [`Conn`], which binds the values on whichever backend it wraps and decodes rows with `FromRow`
//! types that derive for both. Where the SQL must differ (`FOR NO KEY UPDATE SKIP LOCKED`, schema DDL),
//! the caller matches on [`Backend`]. Keeping our own small value enum, rather than `Any`, keeps
//! each backend's native types (TIMESTAMPTZ, BOOLEAN) and its own query planner behaviour.

use crate::error::{Context, Error, Result};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::Row as _;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, PgPool, SqliteConnection, SqlitePool};
use sqlx::{ConnectOptions as _, Connection as _};
use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Connections in a pool unless the caller says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;
/// The most page cache one SQLite connection keeps, in KiB.
pub const DEFAULT_SQLITE_CACHE_KIB: u32 = 32 * 1024;
/// How long SQLite waits for another writer before giving up.
pub const DEFAULT_SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which database a [`Storage`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Why a first connection to PostgreSQL failed, in an operator's words: the server refused the
/// connection (not running, or another port), or the database does not exist (`createdb`).
fn postgres_unreachable(options: &PgConnectOptions, source: sqlx::Error) -> Error {
    let server = format!("{}:{}", options.get_host(), options.get_port());
    let database = options.get_database().unwrap_or(options.get_username());
    let message = match &source {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "the PostgreSQL server at {server} refused the connection (is it running, and \
             listening on that address and port?)"
        ),
        sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => format!(
            "the database {database:?} does not exist on the PostgreSQL server at {server}: \
             create it with `createdb -h {} -p {} -U {} {database}`, then run \
             `fedicensus migrate --db URL`",
            options.get_host(),
            options.get_port(),
            options.get_username(),
        ),
        _ => format!("connecting to the PostgreSQL server at {server} failed"),
    };
    Error::Connect { message, source }
}

/// The census database: SQLite (one file, the default) or PostgreSQL. Cheap to clone (a pool).
#[derive(Debug, Clone)]
pub struct Storage {
    pool: Pool,
}

impl Storage {
    /// Opens the database at `url` and runs the embedded migrations.
    ///
    /// Accepted: `sqlite://PATH` (add `?mode=rwc` to create the file), `sqlite::memory:` (one
    /// connection, so every query sees the same database), `postgres://...` or `postgresql://...`.
    pub async fn connect(url: &str) -> Result<Storage> {
        Storage::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// [`Storage::connect`] with a chosen pool size.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Storage> {
        Storage::connect_with_cache(url, max_connections, DEFAULT_SQLITE_CACHE_KIB).await
    }

    /// [`Storage::connect_with`] with a chosen SQLite page cache per connection, in KiB (a
    /// limit, filled as pages are read; PostgreSQL ignores it): a long-running process that
    /// must stay small trades some re-reads from the OS's cache for memory.
    pub async fn connect_with_cache(
        url: &str,
        max_connections: u32,
        sqlite_cache_kib: u32,
    ) -> Result<Storage> {
        let bad = |reason: String| Error::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| bad(e.to_string()))?
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(DEFAULT_SQLITE_BUSY_TIMEOUT)
                // SQLite's default page cache is 2 MiB a connection: a bulk load of one crawl pass
                // spilled dirty pages mid-transaction and re-read index pages from the OS. A
                // limit, not an allocation: memory is used only as pages are read.
                .pragma("cache_size", format!("-{}", sqlite_cache_kib.max(64)))
                // sqlx logs every statement slower than a second as a warning, its whole SQL
                // over many lines: an export or a copy is made of such statements by design,
                // and printed nothing else for minutes. Our own logs say what is slow.
                .disable_statement_logging();
            // An in-memory database exists once per connection: keep exactly one.
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let max = if in_memory { 1 } else { max_connections.max(1) };
            let mut pool_options = SqlitePoolOptions::new().max_connections(max);
            if !in_memory {
                // A COMMIT that fails on a full disk leaves SQLite rolled back but sqlx still
                // counting a transaction open, and a later `begin` on that connection fails with
                // "begin_with at non-zero transaction depth", hiding the real cause. Such a
                // connection is closed on release instead of going back to the pool. (An
                // in-memory database would be lost with its only connection, so it keeps it.)
                pool_options = pool_options.after_release(|conn, _| {
                    Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
                });
            }
            let pool = pool_options
                .connect_with(options)
                .await
                .context("opening the SQLite database")?;
            SQLITE_MIGRATIONS.run(&pool).await.map_err(Error::Migrate)?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| bad(e.to_string()))?
                .disable_statement_logging();
            // One connection first, outside the pool: a pool retries a refused connection until
            // its acquire timeout (30 s) and then says only "pool timed out", hiding whether the
            // server is down or the database missing. One attempt says which, at once.
            let probe = PgConnection::connect_with(&options)
                .await
                .map_err(|source| postgres_unreachable(&options, source))?;
            probe.close().await.ok();
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .connect_with(options)
                .await
                .context("connecting to PostgreSQL")?;
            POSTGRES_MIGRATIONS
                .run(&pool)
                .await
                .map_err(Error::Migrate)?;
            Pool::Postgres(pool)
        } else {
            return Err(bad("unknown scheme".into()));
        };
        Ok(Storage { pool })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
    /// two writers wait for each other instead of failing half-way with "database is locked".
    pub async fn begin(&self) -> Result<Transaction> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => Tx::Sqlite(
                pool.begin_with("BEGIN IMMEDIATE")
                    .await
                    .context("starting a transaction")?,
            ),
            Pool::Postgres(pool) => {
                Tx::Postgres(pool.begin().await.context("starting a transaction")?)
            }
        };
        Ok(Transaction { inner })
    }

    /// Starts a read-only view of one consistent state, for reads made of several statements
    /// (an export read a page at a time): on SQLite a deferred transaction (in WAL mode a
    /// snapshot that takes no write lock, so the crawler keeps writing), on PostgreSQL a
    /// repeatable-read, read-only one. Dropping it ends it.
    pub(crate) async fn begin_read(&self) -> Result<Transaction> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => Tx::Sqlite(
                pool.begin_with("BEGIN DEFERRED")
                    .await
                    .context("starting a read")?,
            ),
            Pool::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await
                    .context("starting a read")?,
            ),
        };
        Ok(Transaction { inner })
    }

    /// Refreshes the planner's statistics after a bulk load (an import, a copy): PostgreSQL
    /// plans from statistics its autovacuum gathers only later, and a freshly loaded table
    /// planned as if empty turns the snapshot's index probes into scans (1.6 s instead of tens
    /// of ms for 1,000 servers, measured). SQLite plans from its indexes alone here (no
    /// `sqlite_stat1` is kept, so plans stay the tested ones): nothing to do.
    pub async fn analyze(&self) -> Result<()> {
        if let Pool::Postgres(pool) = &self.pool {
            sqlx::query("ANALYZE")
                .execute(pool)
                .await
                .context("refreshing the planner's statistics")?;
        }
        Ok(())
    }

    /// The bytes the database takes on disk (SQLite: pages in use; PostgreSQL: the database's
    /// size as the server reports it), for capacity planning.
    pub async fn size_on_disk(&self) -> Result<u64> {
        #[derive(sqlx::FromRow)]
        struct Size {
            bytes: i64,
        }
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT page_count * page_size AS bytes \
                                FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database()) AS bytes",
        };
        let mut conn = self.acquire().await?;
        let size = conn
            .conn()
            .fetch_one::<Size>(Sql::new(sql), "measuring the database's size")
            .await?;
        Ok(count_of(size.bytes))
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// A pooled connection for reads, run outside any explicit transaction.
    pub(crate) async fn acquire(&self) -> Result<PooledConn> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                PooledConn::Sqlite(pool.acquire().await.context("acquiring a connection")?)
            }
            Pool::Postgres(pool) => {
                PooledConn::Postgres(pool.acquire().await.context("acquiring a connection")?)
            }
        })
    }
}

/// A database transaction; nothing is stored until [`Transaction::commit`]. Dropping it rolls
/// back. Write functions take one so a caller can group several writes atomically.
#[derive(Debug)]
pub struct Transaction {
    inner: Tx,
}

#[derive(Debug)]
enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Transaction {
    /// Makes every write in the transaction permanent.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .context("committing a transaction")
    }

    /// Undoes every write in the transaction.
    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
        .context("rolling back a transaction")
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.inner {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match &mut self.inner {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }
}

pub(crate) enum PooledConn {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl PooledConn {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(c),
            PooledConn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// One bound parameter. Our own small set of types, so one query text serves both backends.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    I64(Option<i64>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Bool(Option<bool>),
    Date(Option<NaiveDate>),
    F64(Option<f64>),
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::F64(Some(v))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::I64(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::I64(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        Value::Text(v.map(str::to_owned))
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Value {
        Value::Time(Some(v))
    }
}
impl From<Option<DateTime<Utc>>> for Value {
    fn from(v: Option<DateTime<Utc>>) -> Value {
        Value::Time(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(Some(v))
    }
}
impl From<Option<bool>> for Value {
    fn from(v: Option<bool>) -> Value {
        Value::Bool(v)
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Value {
        Value::Date(Some(v))
    }
}

/// A query: SQL text with `$n` parameters and their values.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    text: Cow<'static, str>,
    args: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(text: impl Into<Cow<'static, str>>) -> Sql {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    pub(crate) fn bind(mut self, value: impl Into<Value>) -> Sql {
        self.args.push(value.into());
        self
    }
}

/// Statements with more bound values than this are not kept in the connection's statement cache.
///
/// Such a statement is a multi-row `INSERT ... VALUES (...), (...)` whose text changes with its
/// row count, so a cached copy is almost never used again; and SQLite's compiled program for
/// thousands of rows is large. sqlx caches up to 100 statements a connection, so a crawl's
/// writer, whose batches all differ in size, kept about 60 MB of such programs across its two
/// connections (`jeprof` of a 30,000-server crawl: `sqlite3MultiValues` under
/// `sqlite3_prepare_v3`, a third of the heap at its peak). Fixed statements have a few dozen
/// values at most and stay cached.
const MAX_CACHED_VALUES: usize = 64;

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let args = $args;
        let mut q = $query.persistent(args.len() <= MAX_CACHED_VALUES);
        for arg in args {
            q = match arg {
                Value::I64(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
                Value::Time(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
                Value::Date(v) => q.bind(v),
                Value::F64(v) => q.bind(v),
            };
        }
        q
    }};
}

/// A row type that decodes on both backends (derive `sqlx::FromRow` on plain fields).
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}
impl<T> Row for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// A connection on either backend (from a transaction or the pool).
pub(crate) enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: Sql, context: &'static str) -> Result<u64> {
        let text = AssertSqlSafe(sql.text);
        match self {
            Conn::Sqlite(c) => bind_all!(sqlx::query::<sqlx::Sqlite>(text), sql.args)
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected()),
            Conn::Postgres(c) => bind_all!(sqlx::query::<sqlx::Postgres>(text), sql.args)
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected()),
        }
        .context(context)
    }

    pub(crate) async fn fetch_all<T: Row>(
        &mut self,
        sql: Sql,
        context: &'static str,
    ) -> Result<Vec<T>> {
        let text = AssertSqlSafe(sql.text);
        match self {
            Conn::Sqlite(c) => {
                bind_all!(sqlx::query_as::<sqlx::Sqlite, T>(text), sql.args)
                    .fetch_all(&mut **c)
                    .await
            }
            Conn::Postgres(c) => {
                bind_all!(sqlx::query_as::<sqlx::Postgres, T>(text), sql.args)
                    .fetch_all(&mut **c)
                    .await
            }
        }
        .context(context)
    }

    pub(crate) async fn fetch_optional<T: Row>(
        &mut self,
        sql: Sql,
        context: &'static str,
    ) -> Result<Option<T>> {
        let text = AssertSqlSafe(sql.text);
        match self {
            Conn::Sqlite(c) => {
                bind_all!(sqlx::query_as::<sqlx::Sqlite, T>(text), sql.args)
                    .fetch_optional(&mut **c)
                    .await
            }
            Conn::Postgres(c) => {
                bind_all!(sqlx::query_as::<sqlx::Postgres, T>(text), sql.args)
                    .fetch_optional(&mut **c)
                    .await
            }
        }
        .context(context)
    }

    pub(crate) async fn fetch_one<T: Row>(&mut self, sql: Sql, context: &'static str) -> Result<T> {
        let text = AssertSqlSafe(sql.text);
        match self {
            Conn::Sqlite(c) => {
                bind_all!(sqlx::query_as::<sqlx::Sqlite, T>(text), sql.args)
                    .fetch_one(&mut **c)
                    .await
            }
            Conn::Postgres(c) => {
                bind_all!(sqlx::query_as::<sqlx::Postgres, T>(text), sql.args)
                    .fetch_one(&mut **c)
                    .await
            }
        }
        .context(context)
    }

    /// Streams the rows through `each`, so a scan of every observation never sits in memory.
    pub(crate) async fn for_each<T: Row, E>(
        &mut self,
        sql: Sql,
        context: &'static str,
        mut each: impl FnMut(T) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<(), E>> {
        let text = AssertSqlSafe(sql.text);
        match self {
            Conn::Sqlite(c) => {
                let mut rows =
                    bind_all!(sqlx::query_as::<sqlx::Sqlite, T>(text), sql.args).fetch(&mut **c);
                while let Some(row) = rows.try_next().await.context(context)? {
                    if let Err(e) = each(row) {
                        return Ok(Err(e));
                    }
                }
            }
            Conn::Postgres(c) => {
                let mut rows =
                    bind_all!(sqlx::query_as::<sqlx::Postgres, T>(text), sql.args).fetch(&mut **c);
                while let Some(row) = rows.try_next().await.context(context)? {
                    if let Err(e) = each(row) {
                        return Ok(Err(e));
                    }
                }
            }
        }
        Ok(Ok(()))
    }
}

/// One row holding many: a JSON array built by the database, as [`Conn::fetch_json`] reads it.
#[derive(sqlx::FromRow)]
struct JsonRowsText {
    rows: Option<String>,
}

/// `SELECT <a JSON array of one object a row, keys as named> AS rows <rest>`: `columns` are
/// `(key, SQL expression)`, `rest` is `FROM ... WHERE ...`. One driver row instead of one per
/// row: on SQLite each driver row is a hop from sqlx's worker thread (a channel send and often
/// a thread wake-up), which cost more than the query itself in bulk loads.
pub(crate) fn json_rows_sql(backend: Backend, columns: &[(&str, &str)], rest: &str) -> String {
    let (aggregate, object, cast) = match backend {
        Backend::Sqlite => ("json_group_array", "json_object", ""),
        Backend::Postgres => ("json_agg", "json_build_object", "::text"),
    };
    let pairs: Vec<String> = columns
        .iter()
        .map(|(key, expr)| format!("'{key}', {expr}"))
        .collect();
    format!(
        "SELECT {aggregate}({object}({})){cast} AS rows {rest}",
        pairs.join(", ")
    )
}

impl Conn<'_> {
    /// Runs a query made by [`json_rows_sql`] and decodes its rows (none when it matched
    /// nothing). Instants arrive as RFC 3339 text (SQLite's stored text, PostgreSQL's
    /// `timestamptz` rendering), which chrono's `Deserialize` reads.
    pub(crate) async fn fetch_json<T: serde::de::DeserializeOwned>(
        &mut self,
        sql: Sql,
        context: &'static str,
    ) -> Result<Vec<T>> {
        let page = self.fetch_one::<JsonRowsText>(sql, context).await?;
        match page.rows {
            None => Ok(Vec::new()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Error::InvalidQuery(format!("{context}: reading the rows: {e}"))),
        }
    }
}

/// The type of a column read without a row type (dumps and copies read every table generically).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    I64,
    Text,
    Time,
    Bool,
    Date,
}

macro_rules! decode_values {
    ($row:expr, $kinds:expr) => {{
        let row = $row;
        let mut values = Vec::with_capacity($kinds.len());
        for (i, kind) in $kinds.iter().enumerate() {
            values.push(match kind {
                Kind::I64 => Value::I64(row.try_get(i)?),
                Kind::Text => Value::Text(row.try_get(i)?),
                Kind::Time => Value::Time(row.try_get(i)?),
                Kind::Bool => Value::Bool(row.try_get(i)?),
                Kind::Date => Value::Date(row.try_get(i)?),
            });
        }
        Ok::<Vec<Value>, sqlx::Error>(values)
    }};
}

impl<'c> Conn<'c> {
    /// Streams the rows of `sql` as values of the given kinds (one per selected column, in order).
    pub(crate) fn fetch_values<'s>(
        &'s mut self,
        sql: Sql,
        kinds: &'static [Kind],
        context: &'static str,
    ) -> BoxStream<'s, Result<Vec<Value>>> {
        let text = AssertSqlSafe(sql.text);
        match self {
            Conn::Sqlite(c) => bind_all!(sqlx::query::<sqlx::Sqlite>(text), sql.args)
                .fetch(&mut **c)
                .map(move |row| {
                    row.and_then(|row: SqliteRow| decode_values!(&row, kinds))
                        .context(context)
                })
                .boxed(),
            Conn::Postgres(c) => bind_all!(sqlx::query::<sqlx::Postgres>(text), sql.args)
                .fetch(&mut **c)
                .map(move |row| {
                    row.and_then(|row: PgRow| decode_values!(&row, kinds))
                        .context(context)
                })
                .boxed(),
        }
    }
}

/// The earliest instant storage writes: year 0000. An earlier one is written `-0001-…`.
pub const EARLIEST_INSTANT: DateTime<Utc> = DateTime::from_naive_utc_and_offset(
    chrono::NaiveDateTime::new(
        NaiveDate::from_ymd_opt(0, 1, 1).expect("0000-01-01 is a date"),
        chrono::NaiveTime::MIN,
    ),
    Utc,
);

/// The latest instant storage writes: the last microsecond of 9999-12-31. A later one is
/// written `+10000-…`, which SQLite, comparing instants as text, sorts before every year from
/// 1000 on, so a host postponed to the year 11476 would be due at once.
pub const LATEST_INSTANT: DateTime<Utc> = DateTime::from_naive_utc_and_offset(
    chrono::NaiveDateTime::new(
        NaiveDate::from_ymd_opt(9999, 12, 31).expect("9999-12-31 is a date"),
        chrono::NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).expect("a valid time"),
    ),
    Utc,
);

/// The last date the census answers for: queries (`to=`, `from=`, a snapshot's date) past it
/// are refused where they enter (the dashboard answers 400, the CLI exits 2), because a
/// period's end is its day after, and past [`LATEST_INSTANT`] that day is written `+10000-…`
/// and compared as text an answer would be empty. It is far beyond any census, and well inside
/// what both backends store.
pub const LAST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2999, 12, 31) {
    Some(date) => date,
    None => panic!("2999-12-31 is a date"),
};

/// Both backends store instants to the microsecond (PostgreSQL's precision); truncating before
/// every write makes a value read back equal on both, and a retried write hit the same key.
/// Instants outside years 0000 to 9999 are clamped into them, so their text sorts as they do.
pub(crate) fn stored_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6).clamp(EARLIEST_INSTANT, LATEST_INSTANT)
}

/// A count or figure as stored (BIGINT). Values beyond `i64::MAX` are saturated; the quality
/// checks flag them as absurd long before that.
pub(crate) fn stored_count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored count back to the domain's unsigned type (negative values cannot be written).
pub(crate) fn count_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_instant_past_the_year_9999_is_stored_as_one_that_sorts_after_today_as_text() {
        let today = Utc
            .with_ymd_and_hms(2026, 12, 7, 2, 30, 0)
            .single()
            .expect("a date");
        let far = DateTime::from_timestamp(300_000_000_000, 0).expect("the year 11476");
        assert!(far.to_rfc3339() < today.to_rfc3339(), "the text that broke");
        let stored = stored_instant(far);
        assert_eq!(stored, LATEST_INSTANT);
        assert!(stored.to_rfc3339() > today.to_rfc3339());
        let ancient = Utc
            .with_ymd_and_hms(-44, 3, 15, 0, 0, 0)
            .single()
            .expect("a date");
        assert_eq!(stored_instant(ancient), EARLIEST_INSTANT);
        assert!(stored_instant(ancient).to_rfc3339() < today.to_rfc3339());
        assert_eq!(stored_instant(today), today);
    }
}
