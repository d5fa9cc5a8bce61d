//! The languages each simulated server declares, in the documents its software really serves.
//!
//! What real software sends (fixtures in `fixtures/real`, `fixtures/corpus`, `fixtures/live`):
//! Mastodon's instance API v1 and v2 `languages` is the admin's default locale alone (`["ja"]`
//! on fedibird.com, `["en"]` on mastodon.social, and also on pawoo.net and mstdn.jp, whose
//! admins left the default); Pleroma, Akkoma, Pixelfed, Friendica, Takahē and BookWyrm send one
//! in the same field; GoToSocial 0.7 sends `[]`. Misskey's `/api/meta` `langs` is empty unless
//! the admin chose languages (misskey.io: `ja, en, zh, ko, fr, de`), and its forks repeat it in
//! NodeInfo `metadata.langs`. Lemmy's site `discussion_languages` holds every language it knows
//! unless the admin narrowed it, which declares nothing. Other software declares none in what
//! fedicensus reads.
//!
//! Which language: **an assumption** (FIELD.md has no language figures; it has the sizes of the
//! largest servers only). Before November 2022 about a fifth of Mastodon-API servers declare
//! Japanese, the legacy of the 2017 Japanese wave (pawoo.net, mstdn.jp, friends.nico); servers
//! born from November 2022 on come with the Twitter migration, mostly English and German, and
//! about 4 % Japanese, so the Japanese share of servers falls through the migration. Misskey, a
//! Japanese project, is mostly Japanese either way. The choice is a function of the world's seed
//! and the server's domain (a hash, not the world's random stream), so adding languages changed
//! no earlier trait of any server.

use crate::endpoints::trait_hash;
use crate::world::{Server, World};
use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_core::Software;

/// The day the migration's new servers start: servers born on or after it draw from the
/// migration's mix.
pub const MIGRATION_START: (i32, u32, u32) = (2022, 11, 1);

/// Primary languages of Mastodon-API servers born before the migration, in per cent (assumed).
const BEFORE: &[(&str, u64)] = &[
    ("en", 48),
    ("ja", 20),
    ("de", 10),
    ("fr", 6),
    ("es", 4),
    ("zh", 3),
    ("it", 2),
    ("pt", 2),
    ("ko", 1),
    ("nl", 2),
    ("pl", 1),
    ("ru", 1),
];

/// Primary languages of Mastodon-API servers born from the migration on, in per cent (assumed).
const DURING: &[(&str, u64)] = &[
    ("en", 56),
    ("de", 16),
    ("fr", 7),
    ("es", 5),
    ("ja", 4),
    ("nl", 3),
    ("it", 3),
    ("pt", 2),
    ("pl", 2),
    ("zh", 1),
    ("ko", 1),
];

/// Misskey-family servers that chose languages (assumed).
const MISSKEY: &[(&str, u64)] = &[("ja", 80), ("en", 12), ("ko", 4), ("zh", 4)];

/// Lemmy sites that narrowed their discussion languages (assumed).
const LEMMY: &[(&str, u64)] = &[("en", 70), ("de", 15), ("fr", 10), ("ja", 5)];

/// What the real big servers declare, from their real documents.
const NAMED: &[(&str, &[&str])] = &[
    ("mastodon.social", &["en"]),
    ("pawoo.net", &["en"]),
    ("mstdn.jp", &["en"]),
];

/// Misskey's languages after the primary one, as misskey.io lists them.
const MISSKEY_MORE: &[&str] = &["ja", "en", "zh", "ko", "fr", "de"];

fn pick(table: &[(&'static str, u64)], roll: u64) -> &'static str {
    let total: u64 = table.iter().map(|(_, w)| w).sum();
    let mut at = roll % total.max(1);
    for &(language, weight) in table {
        if at < weight {
            return language;
        }
        at -= weight;
    }
    table.first().map_or("en", |&(l, _)| l)
}

/// Whether `software` serves the Mastodon instance API with a `languages` field (as the
/// simulator's endpoints do).
fn declares_in_instance_api(software: &Software) -> bool {
    matches!(
        software,
        Software::Mastodon
            | Software::Pleroma
            | Software::Akkoma
            | Software::Pixelfed
            | Software::Friendica
            | Software::Takahe
            | Software::Bookwyrm
    )
}

/// The languages `server` declares at `at` in the documents it serves then, in the order it lists
/// them (lowercase BCP 47 primary tags, as its documents carry them); empty when it declares none
/// (or serves no document that carries languages: Takahē before 0.6.0 has no client API, Lemmy
/// before 0.17 no site languages).
pub fn declared(world: &World, server: &Server, at: DateTime<Utc>) -> Vec<&'static str> {
    let seed = world.config().seed;
    let roll = |salt: &str| trait_hash(seed, &server.domain, salt);
    if let Some((_, languages)) = NAMED.iter().find(|(d, _)| *d == server.domain) {
        return languages.to_vec();
    }
    let migration =
        NaiveDate::from_ymd_opt(MIGRATION_START.0, MIGRATION_START.1, MIGRATION_START.2)
            .unwrap_or(NaiveDate::MIN);
    let software = &server.software;
    if *software == Software::Takahe
        && crate::endpoints::version_triple(world.version_at(server.id, at)) < (0, 6, 0)
    {
        return Vec::new();
    }
    if declares_in_instance_api(software) {
        let table = if server.born < migration {
            BEFORE
        } else {
            DURING
        };
        return vec![pick(table, roll("language"))];
    }
    if software.is_misskey_family() {
        // About half of Misskey admins set `langs` (assumed); those who do list a few more.
        if roll("language-set") % 100 >= 50 {
            return Vec::new();
        }
        let primary = pick(MISSKEY, roll("language"));
        let more = (roll("language-more") % 3) as usize;
        let mut out = vec![primary];
        out.extend(
            MISSKEY_MORE
                .iter()
                .filter(|l| **l != primary)
                .take(more)
                .copied(),
        );
        return out;
    }
    if *software == Software::Lemmy {
        // Site languages came with Lemmy 0.17: before it the site document has none.
        if crate::endpoints::version_triple(world.version_at(server.id, at)) < (0, 17, 0) {
            return Vec::new();
        }
        // A quarter of Lemmy sites narrow their discussion languages (assumed).
        if roll("language-set") % 100 >= 25 {
            return Vec::new();
        }
        return vec![pick(LEMMY, roll("language"))];
    }
    Vec::new()
}

/// The primary language `server` declares, if any: the first it lists.
pub fn primary(world: &World, server: &Server, at: DateTime<Utc>) -> Option<&'static str> {
    declared(world, server, at).first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_whole_percentages() {
        for table in [BEFORE, DURING, MISSKEY, LEMMY] {
            assert_eq!(table.iter().map(|(_, w)| w).sum::<u64>(), 100);
        }
    }

    #[test]
    fn a_roll_picks_by_weight() {
        assert_eq!(pick(MISSKEY, 0), "ja");
        assert_eq!(pick(MISSKEY, 79), "ja");
        assert_eq!(pick(MISSKEY, 80), "en");
        assert_eq!(pick(MISSKEY, 199), "zh");
    }
}
