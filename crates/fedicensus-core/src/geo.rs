//! Where a server is hosted: the country and network of the address a visit connected to, as a
//! MaxMind-format database (GeoLite2, DB-IP lite) the operator supplies says.
//!
//! A [`Location`] describes the **address**, not the people: a server's country is where its
//! machine (or the proxy in front of it) sits, which is often not where its users live. The
//! address itself is not kept: it identifies the machine (at home, for a one-person server), and
//! the country and network are all the census publishes.

use serde::{Deserialize, Serialize};

/// The country and network of the address one visit connected to, looked up when the visit was
/// made (addresses and databases both change, so each visit keeps its own).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2 code, uppercase (`DE`), or `None` when the country database has no
    /// country for the address (or no country database was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The autonomous system the address is announced from, or `None` when the ASN database has
    /// none (or no ASN database was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// The organisation the ASN database names for that system (`Hetzner Online GmbH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_organization: Option<String>,
    /// The databases the lookup used, as their metadata names them with their build dates
    /// (`GeoLite2-Country 2026-12-01; GeoLite2-ASN 2026-12-01`): the provenance of the row.
    pub database: String,
}

/// The longest organisation name kept; longer ones are cut (a database is trusted input, but a
/// row should stay a row).
pub const MAX_ORGANIZATION_CHARS: usize = 200;

/// A country code as stored: two ASCII letters, uppercased; anything else is no country.
pub fn country_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| raw.to_ascii_uppercase())
}

/// An organisation name as stored: control characters dropped, whitespace trimmed, at most
/// [`MAX_ORGANIZATION_CHARS`] characters; empty is no name.
pub fn organization(raw: &str) -> Option<String> {
    let clean: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_ORGANIZATION_CHARS)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

impl Location {
    /// Whether the lookup found anything at all.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_letters_uppercased() {
        assert_eq!(country_code("de").as_deref(), Some("DE"));
        assert_eq!(country_code(" FI ").as_deref(), Some("FI"));
        assert_eq!(country_code("DEU"), None);
        assert_eq!(country_code("1A"), None);
        assert_eq!(country_code(""), None);
        assert_eq!(country_code("é"), None);
    }

    #[test]
    fn organisations_lose_control_characters_and_length() {
        assert_eq!(
            organization(" Hetzner\u{7}\nOnline ").as_deref(),
            Some("HetznerOnline")
        );
        assert_eq!(organization("  "), None);
        let long = "x".repeat(1000);
        assert_eq!(
            organization(&long).map(|o| o.chars().count()),
            Some(MAX_ORGANIZATION_CHARS)
        );
    }
}
