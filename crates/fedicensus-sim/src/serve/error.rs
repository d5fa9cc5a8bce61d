//! The one error type of the transport: our own failures (a port taken, a CA that cannot be
//! made), never a virtual server's misbehaviour, which is data the simulator serves on purpose.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the simulator could not start or do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A listening socket could not be bound (port in use, address not local, ...).
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        addr: SocketAddr,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The local certificate authority or a certificate could not be generated.
    #[error("cannot generate a certificate{}: {source}", name.as_deref().map(|n| format!(" for {n}")).unwrap_or_default())]
    Certificate {
        name: Option<String>,
        #[source]
        source: rcgen::Error,
    },
    /// rustls refused the key or configuration we gave it.
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    /// A file (hosts file, CA file) could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration cannot work; the message says what is accepted.
    #[error("bad simulator configuration: {0}")]
    Config(String),
    /// A DNS message could not be encoded or sent.
    #[error("DNS: {0}")]
    Dns(String),
}

/// The transport's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
