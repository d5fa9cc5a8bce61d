//! The storage crate's one error type.
//!
//! Errors are our own failures (the database is down, a migration failed, a caller asked for
//! something that does not exist). A crawl that failed is not an error: it is an observation with
//! an [`Outcome`](fedicensus_core::Outcome).

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL is neither `sqlite:` nor `postgres:`/`postgresql:`, or does not parse.
    #[error("unsupported database URL {url:?}: {reason} (accepted: sqlite://PATH?mode=rwc, sqlite::memory:, postgres://USER@HOST:PORT/DB)")]
    BadUrl { url: String, reason: String },
    /// The first connection to the database failed; the message says why in an operator's
    /// words (the server refused the connection, the database does not exist).
    #[error("{message}")]
    Connect {
        message: String,
        #[source]
        source: sqlx::Error,
    },
    /// Running the embedded migrations failed.
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A query failed; `context` names what we were doing.
    #[error("database error while {context}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A server that is not in the database.
    #[error("unknown server {host}")]
    UnknownServer { host: String },
    /// A crawl run that is not in the database.
    #[error("unknown crawl run {0}")]
    UnknownRun(i64),
    /// A request that cannot be answered as asked (says what is accepted instead).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A stored value that does not parse back (written by another version, or edited by hand).
    #[error("corrupt stored value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
    /// Writing an export failed.
    #[error("export failed writing {what}")]
    Export {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// The storage crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches what we were doing to a sqlx error.
pub(crate) trait Context<T> {
    fn context(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, sqlx::Error> {
    fn context(self, context: &'static str) -> Result<T> {
        self.map_err(|source| Error::Database { context, source })
    }
}
