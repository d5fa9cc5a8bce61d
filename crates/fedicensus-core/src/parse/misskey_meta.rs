//! Misskey's `POST /api/meta`: name, version and registration policy of Misskey-family servers
//! (no counts; those are in `/api/stats`). Old and new versions differ in shape (v10 has a
//! `maintainer` object, v12+ `maintainerName`), and the body can be hundreds of kilobytes of
//! emoji, so only the few fields fedicensus uses are read.

use super::{lenient, read_object, version::normalise_version, ParseError};
use crate::language::{self, DeclaredLanguage};
use crate::observation::Measurement;
use serde::Serialize;

/// A parsed `/api/meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MisskeyMeta {
    pub name: Option<String>,
    pub uri: Option<String>,
    pub raw_version: Option<String>,
    pub version: Option<String>,
    pub disable_registration: Option<bool>,
    pub maintainer_name: Option<String>,
    /// `langs`, the languages the admin set, normalised ([`crate::language`]).
    pub languages: Vec<String>,
}

impl MisskeyMeta {
    /// The languages it declared, tagged [`crate::Source::MisskeyMeta`].
    pub fn declared_languages(&self) -> Vec<DeclaredLanguage> {
        language::declared(crate::Source::MisskeyMeta, &self.languages)
    }

    /// Registrations are open when `disableRegistration` is false.
    pub fn open_registrations(&self) -> Option<bool> {
        self.disable_registration.map(|d| !d)
    }

    /// No numbers: `/api/meta` reports none.
    pub fn measurements(&self) -> Vec<Measurement> {
        Vec::new()
    }
}

/// Parses `/api/meta`.
pub fn parse_misskey_meta(bytes: &[u8]) -> Result<MisskeyMeta, ParseError> {
    let doc = read_object(bytes, "a Misskey meta document")?;
    let raw_version = lenient::string_at(&doc, &["version"]);
    Ok(MisskeyMeta {
        name: lenient::string_at(&doc, &["name"]),
        uri: lenient::string_at(&doc, &["uri"]),
        version: raw_version.as_deref().and_then(normalise_version),
        raw_version,
        disable_registration: lenient::bool_at(&doc, &["disableRegistration"]),
        maintainer_name: lenient::string_at(&doc, &["maintainerName"]).or_else(|| {
            lenient::object(&doc, &["maintainer"]).and_then(|m| lenient::string_at(m, &["name"]))
        }),
        languages: language::from_json(lenient::get(&doc, &["langs"])),
    })
}
