//! Server names: [`Host`], a normalised, validated domain.
//!
//! (The full normalisation — IDNA, the Public Suffix List, rejection rules — is being written by
//! the crawler issue; this is the type everything else already uses.)

use serde::{Deserialize, Serialize};
use std::fmt;

/// A normalised server name: lowercase ASCII (punycode), no port, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Host(String);

impl Host {
    /// Wraps a name that is already normalised (from our own database, say). Use the parser for
    /// anything that came from outside.
    pub fn from_normalised(name: impl Into<String>) -> Host {
        Host(name.into())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
