//! The crawler's own failures: bad configuration, a resolver or HTTP client that cannot be built.
//!
//! A server that fails is not one of these: its failure is data, an [`Outcome`] recorded in its
//! [`Observation`]. Only what stops the crawler itself is an [`Error`].
//!
//! [`Outcome`]: fedicensus_core::Outcome
//! [`Observation`]: fedicensus_core::Observation

/// What went wrong in the crawler itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A crawl of the real fediverse must say who runs it.
    #[error(
        "no contact URL: a crawl must name a page explaining it in its User-Agent \
         (give an http:// or https:// URL, e.g. https://example.org/crawler)"
    )]
    NoContactUrl,
    /// A configuration value that cannot work.
    #[error("invalid crawler configuration: {0}")]
    Config(String),
    /// The extra CA certificate (PEM) could not be read.
    #[error("the extra CA certificate is not valid PEM or not a certificate: {0}")]
    Certificate(String),
    /// The system's resolver configuration could not be read.
    #[error("reading the system DNS configuration")]
    Resolver(#[source] hickory_resolver::net::NetError),
    /// The HTTP client could not be built.
    #[error("building the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The crawler's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
