//! The languages a server declares about itself, normalised to BCP 47 primary language tags.
//!
//! Servers say which languages they speak in several documents, each in its own shape: the
//! Mastodon instance API (v1 and v2 `languages`, an array of locale codes, usually the site's
//! default locale alone), Misskey's `/api/meta` `langs` (chosen by the admin) and the same list
//! in Misskey forks' NodeInfo `metadata.langs`, Lemmy's `/api/v3/site` `discussion_languages`
//! (ids into its `all_languages` table), and NodeInfo `metadata.languages` where a software sends
//! one. Whatever the shape, a declared language is kept as its lowercase primary language subtag
//! (`en-US` → `en`, `zh_TW` → `zh`, `iw` → `he`), read with the `language-tags` crate against the
//! IANA registry it embeds: anything that is not a registered language (`dog`, `und`, markup) is
//! dropped, never guessed. A document is a stranger's: at most [`MAX_LANGUAGES`] are kept from
//! any one document, and each raw string is read only up to [`MAX_TAG_LEN`] bytes.

use crate::observation::Source;
use language_tags::LanguageTag;
use serde::{Deserialize, Serialize};

/// The most languages kept from one document (the first ones, in the document's order). Real
/// servers declare one to six; a document listing hundreds is either Lemmy's "every language"
/// (see [`crate::parse::LemmySite`]) or hostile.
pub const MAX_LANGUAGES: usize = 16;

/// The longest raw tag read (BCP 47 tags in the wild are under 20 bytes; the longest
/// well-formed ones with extensions stay under this).
pub const MAX_TAG_LEN: usize = 64;

/// Registered subtags that name no language: undetermined, multiple, no linguistic content,
/// uncoded.
const NOT_A_LANGUAGE: &[&str] = &["und", "mul", "zxx", "mis"];

/// One language a document declared: its primary language tag and the document it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeclaredLanguage {
    /// A lowercase BCP 47 primary language subtag (`en`, `ja`, `de`), registered with IANA.
    pub language: String,
    pub source: Source,
}

/// The primary language of a raw tag, lowercase, or `None` when it names no registered language.
///
/// Accepts the shapes servers send: any case, `_` for `-` (`ja_JP`), surrounding spaces.
/// Deprecated subtags are replaced by their modern ones (`iw` → `he`, `in` → `id`).
pub fn normalise_language(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_TAG_LEN {
        return None;
    }
    let dashed = raw.replace('_', "-");
    let tag = LanguageTag::parse(&dashed).ok()?;
    // A tag with an unregistered region or script still names its language: only the primary
    // subtag is kept, so only the primary subtag is validated.
    let primary = tag.primary_language().to_ascii_lowercase();
    let primary = LanguageTag::parse(&primary).ok()?;
    let primary = primary.canonicalize().unwrap_or(primary);
    if !primary.is_valid() || primary.as_str().starts_with("x-") {
        return None;
    }
    let code = primary.primary_language().to_ascii_lowercase();
    let private_use = code.len() == 3 && ("qaa"..="qtz").contains(&code.as_str());
    if private_use || NOT_A_LANGUAGE.contains(&code.as_str()) {
        return None;
    }
    Some(code)
}

/// The declared languages of raw tags from one document: normalised, without repeats, in the
/// document's order, at most [`MAX_LANGUAGES`] of them (read from at most a few times as many
/// raw entries, so a hostile list of millions costs little).
pub fn normalise_languages<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in raw.into_iter().take(MAX_LANGUAGES * 8) {
        if out.len() == MAX_LANGUAGES {
            break;
        }
        if let Some(code) = normalise_language(tag) {
            if !out.contains(&code) {
                out.push(code);
            }
        }
    }
    out
}

/// The declared languages in a JSON value: an array of tag strings (other entries skipped), or
/// one string holding one tag or several separated by commas.
pub fn from_json(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => {
            normalise_languages(items.iter().filter_map(serde_json::Value::as_str))
        }
        Some(serde_json::Value::String(s)) => normalise_languages(s.split(',')),
        _ => Vec::new(),
    }
}

/// Tags the languages of one document with its source, normalised and capped as
/// [`normalise_languages`] does (a no-op on a parser's output), so an observation only ever holds
/// primary tags.
pub fn declared(source: Source, languages: &[String]) -> Vec<DeclaredLanguage> {
    normalise_languages(languages.iter().map(String::as_str))
        .into_iter()
        .map(|language| DeclaredLanguage { language, source })
        .collect()
}

/// How much a document's languages are trusted for a server's primary language: the instance
/// API v2 first (Mastodon's current document, the admin's default locale), then v1, then each
/// software's own document, then NodeInfo metadata. Lower is preferred.
pub fn source_rank(source: Source) -> usize {
    const ORDER: &[Source] = &[
        Source::InstanceV2,
        Source::InstanceV1,
        Source::LemmySite,
        Source::MisskeyMeta,
        Source::NodeInfo,
    ];
    ORDER
        .iter()
        .position(|s| *s == source)
        .unwrap_or(ORDER.len())
}

/// Orders declared languages for storage: by [`source_rank`], each document's own order kept,
/// one row per source and language. The first is the server's primary language.
pub fn ordered(languages: &[DeclaredLanguage]) -> Vec<DeclaredLanguage> {
    let mut out: Vec<DeclaredLanguage> = Vec::with_capacity(languages.len());
    for l in languages {
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    out.sort_by_key(|l| source_rank(l.source));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_lowercase_primary_languages() {
        assert_eq!(normalise_language("en").as_deref(), Some("en"));
        assert_eq!(normalise_language("en-US").as_deref(), Some("en"));
        assert_eq!(normalise_language("en-us").as_deref(), Some("en"));
        assert_eq!(normalise_language(" JA_jp ").as_deref(), Some("ja"));
        assert_eq!(normalise_language("zh-Hant-TW").as_deref(), Some("zh"));
        assert_eq!(normalise_language("iw").as_deref(), Some("he"));
        assert_eq!(normalise_language("fil").as_deref(), Some("fil"));
    }

    #[test]
    fn what_is_not_a_registered_language_is_dropped() {
        for raw in [
            "",
            "dog",
            "und",
            "mul",
            "zxx",
            "qab",
            "x-klingon",
            "<b>",
            "e",
            "english",
            "en--us",
        ] {
            assert_eq!(normalise_language(raw), None, "{raw:?}");
        }
        assert_eq!(normalise_language(&"a".repeat(100)), None);
    }

    #[test]
    fn a_hostile_list_is_capped_and_deduplicated() {
        let raw: Vec<String> = std::iter::repeat_n(["en", "EN-gb", "ja"], 1000)
            .flatten()
            .map(String::from)
            .collect();
        assert_eq!(
            normalise_languages(raw.iter().map(String::as_str)),
            ["en", "ja"]
        );
        let many = [
            "aa", "ab", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be",
        ];
        let long: Vec<&str> = many
            .iter()
            .chain(many.iter())
            .chain(["de", "fr", "it", "nl"].iter())
            .copied()
            .collect();
        assert_eq!(normalise_languages(long).len(), MAX_LANGUAGES);
    }

    #[test]
    fn sources_are_ordered_by_trust_keeping_each_documents_order() {
        let mut all = declared(Source::NodeInfo, &["fr".into()]);
        all.extend(declared(Source::InstanceV1, &["de".into(), "en".into()]));
        all.extend(declared(Source::InstanceV2, &["de".into()]));
        all.extend(declared(Source::InstanceV2, &["de".into()]));
        let ordered = ordered(&all);
        let got: Vec<(&str, Source)> = ordered
            .iter()
            .map(|l| (l.language.as_str(), l.source))
            .collect();
        assert_eq!(
            got,
            [
                ("de", Source::InstanceV2),
                ("de", Source::InstanceV1),
                ("en", Source::InstanceV1),
                ("fr", Source::NodeInfo)
            ]
        );
    }
}
