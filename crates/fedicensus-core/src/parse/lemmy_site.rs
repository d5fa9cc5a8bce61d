//! Lemmy's `/api/v3/site`: the only place Lemmy reports its counts beyond NodeInfo
//! (`site_view.counts`), with the version at the top level. Lemmy ≤0.17 also put its peer list
//! here (`federated_instances`; read with [`super::parse_peers`]).

use super::instance_v1::measurements;
use super::{lenient, read_object, version::normalise_version, ParseError};
use crate::language::{self, DeclaredLanguage};
use crate::observation::{Measurement, Metric, Source};
use serde::Serialize;

/// A parsed `/api/v3/site`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LemmySite {
    pub name: Option<String>,
    /// `site_view.site.actor_id`, the URL Lemmy believes it lives at.
    pub actor_id: Option<String>,
    pub raw_version: Option<String>,
    pub version: Option<String>,
    /// `local_site.registration_mode` (`Open`, `RequireApplication`, `Closed`).
    pub registration_mode: Option<String>,
    pub users: Option<u64>,
    pub posts: Option<u64>,
    pub comments: Option<u64>,
    pub communities: Option<u64>,
    pub users_active_day: Option<u64>,
    pub users_active_week: Option<u64>,
    pub users_active_month: Option<u64>,
    pub users_active_half_year: Option<u64>,
    /// `discussion_languages` (ids) read through `all_languages` (id → code), normalised
    /// ([`crate::language`]). Empty when the site allows every language (Lemmy's default: the
    /// list holds every language it knows, which declares nothing).
    pub languages: Vec<String>,
}

impl LemmySite {
    /// The languages it declared, tagged [`crate::Source::LemmySite`].
    pub fn declared_languages(&self) -> Vec<DeclaredLanguage> {
        language::declared(crate::Source::LemmySite, &self.languages)
    }

    /// The numbers reported, tagged [`Source::LemmySite`].
    pub fn measurements(&self) -> Vec<Measurement> {
        measurements(
            Source::LemmySite,
            &[
                (Metric::UsersTotal, self.users),
                (Metric::UsersActiveMonth, self.users_active_month),
                (Metric::UsersActiveHalfyear, self.users_active_half_year),
                (Metric::UsersActiveWeek, self.users_active_week),
                (Metric::LocalPosts, self.posts),
                (Metric::LocalComments, self.comments),
            ],
        )
    }
}

/// Parses `/api/v3/site`.
pub fn parse_lemmy_site(bytes: &[u8]) -> Result<LemmySite, ParseError> {
    let doc = read_object(bytes, "a Lemmy site document")?;
    let view = lenient::object(&doc, &["site_view"]);
    let site = view.and_then(|v| lenient::object(v, &["site"]));
    let local_site = view.and_then(|v| lenient::object(v, &["local_site"]));
    let counts = view.and_then(|v| lenient::object(v, &["counts"]));
    let count = |key: &str| counts.and_then(|c| lenient::count_at(c, &[key]));
    let raw_version = lenient::string_at(&doc, &["version"]);
    Ok(LemmySite {
        name: site.and_then(|s| lenient::string_at(s, &["name"])),
        actor_id: site.and_then(|s| lenient::string_at(s, &["actor_id", "ap_id"])),
        version: raw_version.as_deref().and_then(normalise_version),
        raw_version,
        registration_mode: local_site.and_then(|s| lenient::string_at(s, &["registration_mode"])),
        users: count("users"),
        posts: count("posts"),
        comments: count("comments"),
        communities: count("communities"),
        users_active_day: count("users_active_day"),
        users_active_week: count("users_active_week"),
        users_active_month: count("users_active_month"),
        users_active_half_year: count("users_active_half_year"),
        languages: discussion_languages(&doc),
    })
}

/// The site's discussion languages as codes, or none when it allows every language.
fn discussion_languages(doc: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    let Some(Value::Array(all)) = lenient::get(doc, &["all_languages"]) else {
        return Vec::new();
    };
    let Some(Value::Array(chosen)) = lenient::get(doc, &["discussion_languages"]) else {
        return Vec::new();
    };
    // Lemmy's table has a few hundred entries; a hostile one is read only so far.
    let table: std::collections::HashMap<u64, &str> = all
        .iter()
        .take(language::MAX_LANGUAGES * 64)
        .filter_map(|entry| {
            let entry = entry.as_object()?;
            Some((
                lenient::count_at(entry, &["id"])?,
                entry.get("code")?.as_str()?,
            ))
        })
        .collect();
    let ids: std::collections::HashSet<u64> = chosen
        .iter()
        .take(language::MAX_LANGUAGES * 64)
        .filter_map(lenient::count)
        .collect();
    let every = table
        .iter()
        .filter(|(_, code)| language::normalise_language(code).is_some())
        .all(|(id, _)| ids.contains(id));
    if every && table.len() > 2 {
        return Vec::new();
    }
    language::normalise_languages(
        chosen
            .iter()
            .filter_map(lenient::count)
            .filter_map(|id| table.get(&id).copied()),
    )
}
