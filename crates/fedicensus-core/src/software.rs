//! Server software families.
//!
//! A NodeInfo `software.name` is free text in practice (capitalised names, spaces, forks that keep
//! the upstream name), so the raw name is always kept beside the family it maps to. The families
//! listed here are the ones the dashboard charts separately; everything else is [`Software::Other`].
//!
//! A family is one code base, not one brand: Iceshrimp.NET (a C# rewrite that speaks the Mastodon
//! API, not Misskey's) is `Other("iceshrimp.net")`, the name its NodeInfo sends, and not
//! [`Software::Iceshrimp`], the Misskey fork; an instance document's `compatible;` name maps the
//! same way, so both documents of one server agree.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A server software family, as charted by fedicensus.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Software {
    Mastodon,
    Pleroma,
    Akkoma,
    Misskey,
    Sharkey,
    Firefish,
    Calckey,
    Iceshrimp,
    Foundkey,
    Meisskey,
    Lemmy,
    Peertube,
    Pixelfed,
    Friendica,
    Gotosocial,
    Diaspora,
    Hubzilla,
    Wordpress,
    Writefreely,
    Bookwyrm,
    Funkwhale,
    Mobilizon,
    Kbin,
    Mbin,
    Takahe,
    /// Any other software, by its normalised NodeInfo name.
    Other(String),
}

impl Software {
    /// Every named family, in a stable order (not [`Software::Other`]).
    pub const NAMED: &'static [Software] = &[
        Software::Mastodon,
        Software::Pleroma,
        Software::Akkoma,
        Software::Misskey,
        Software::Sharkey,
        Software::Firefish,
        Software::Calckey,
        Software::Iceshrimp,
        Software::Foundkey,
        Software::Meisskey,
        Software::Lemmy,
        Software::Peertube,
        Software::Pixelfed,
        Software::Friendica,
        Software::Gotosocial,
        Software::Diaspora,
        Software::Hubzilla,
        Software::Wordpress,
        Software::Writefreely,
        Software::Bookwyrm,
        Software::Funkwhale,
        Software::Mobilizon,
        Software::Kbin,
        Software::Mbin,
        Software::Takahe,
    ];

    /// Maps a raw NodeInfo `software.name` to its family: trimmed and lowercased first, because
    /// real servers send `Misskey`, `Fedired` and names with spaces.
    pub fn from_nodeinfo_name(raw: &str) -> Software {
        let name = raw.trim().to_lowercase();
        Software::NAMED
            .iter()
            .find(|s| s.as_str() == name)
            .cloned()
            .unwrap_or(Software::Other(name))
    }

    /// The lowercase name this family uses in NodeInfo.
    pub fn as_str(&self) -> &str {
        match self {
            Software::Mastodon => "mastodon",
            Software::Pleroma => "pleroma",
            Software::Akkoma => "akkoma",
            Software::Misskey => "misskey",
            Software::Sharkey => "sharkey",
            Software::Firefish => "firefish",
            Software::Calckey => "calckey",
            Software::Iceshrimp => "iceshrimp",
            Software::Foundkey => "foundkey",
            Software::Meisskey => "meisskey",
            Software::Lemmy => "lemmy",
            Software::Peertube => "peertube",
            Software::Pixelfed => "pixelfed",
            Software::Friendica => "friendica",
            Software::Gotosocial => "gotosocial",
            Software::Diaspora => "diaspora",
            Software::Hubzilla => "hubzilla",
            Software::Wordpress => "wordpress",
            Software::Writefreely => "writefreely",
            Software::Bookwyrm => "bookwyrm",
            Software::Funkwhale => "funkwhale",
            Software::Mobilizon => "mobilizon",
            Software::Kbin => "kbin",
            Software::Mbin => "mbin",
            Software::Takahe => "takahe",
            Software::Other(name) => name,
        }
    }

    /// Whether the software serves the Mastodon client API's instance endpoints
    /// (`/api/v1/instance`, and for most also `/api/v1/instance/peers`).
    pub fn speaks_mastodon_api(&self) -> bool {
        matches!(
            self,
            Software::Mastodon
                | Software::Pleroma
                | Software::Akkoma
                | Software::Gotosocial
                | Software::Pixelfed
                | Software::Friendica
                | Software::Takahe
                | Software::Bookwyrm
        )
    }

    /// Whether the software belongs to the Misskey family (Misskey and its forks).
    pub fn is_misskey_family(&self) -> bool {
        matches!(
            self,
            Software::Misskey
                | Software::Sharkey
                | Software::Firefish
                | Software::Calckey
                | Software::Iceshrimp
                | Software::Foundkey
                | Software::Meisskey
        )
    }
}

impl fmt::Display for Software {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_lowercased() {
        assert_eq!(Software::from_nodeinfo_name(" Misskey "), Software::Misskey);
        assert_eq!(
            Software::from_nodeinfo_name("Nextcloud Social"),
            Software::Other("nextcloud social".into())
        );
    }

    #[test]
    fn every_named_family_round_trips_through_its_name() {
        for s in Software::NAMED {
            assert_eq!(&Software::from_nodeinfo_name(s.as_str()), s);
        }
    }
}
