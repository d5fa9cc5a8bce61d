//! The runner's one error type. The runner's work is a sequence of steps on other crates
//! (storage, the crawler, the simulator, the dashboard, files), so an error says which step
//! failed and keeps the underlying error as its source, as `anyhow`'s context does in the binary;
//! the binary prints the chain on one line.

/// What went wrong while running the census.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A step failed: what the runner was doing, and why it failed.
    #[error("{what}")]
    Step {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The runner refused to go on, for the reason given (a misconfigured crawler, a file that
    /// is not ours, a stopped demo).
    #[error("{0}")]
    Refused(String),
    /// What the user asked for does not fit the data (a range that the database's crawls make
    /// empty): the binary reports it as bad input (exit status 2).
    #[error("{0}")]
    BadInput(String),
}

/// The runner's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Names the step an error happened in (the runner's `anyhow::Context`).
pub trait Context<T> {
    /// Wraps the error as [`Error::Step`] with `what` as the step.
    fn context(self, what: impl Into<String>) -> Result<T>;
    /// As [`Context::context`], the step's name computed only on error.
    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E> Context<T> for std::result::Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|source| Error::Step {
            what: what.into(),
            source: Box::new(source),
        })
    }

    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|source| Error::Step {
            what: what().into(),
            source: Box::new(source),
        })
    }
}
