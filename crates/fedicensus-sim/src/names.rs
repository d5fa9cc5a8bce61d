//! Domain names that look like the real fediverse's, and the junk real peer lists carry.
//!
//! A crawler's host handling is only tested if the names it meets look like real ones: `mstdn.`
//! prefixes, `.social` and `.moe` domains, country TLDs in the proportions they really have. So
//! the vocabulary comes from the real mastodon.social peer list (embedded at build time): the
//! words people put before their TLD, and how often each TLD appears. Names are synthesised from
//! those pieces, never copied whole, so no real small server (someone's home) is impersonated;
//! only the three largest servers keep their real names (see [`crate::scenario`]).
//!
//! The same list supplies the junk a peer list really carries (IPv4 literals, `host:port`, raw
//! Unicode and punycode names, underscores), topped up with synthetic entries of the kinds the
//! 2026 snapshot happens to lack (`*.localhost.run` tunnels, `*`-obfuscated names, over-long
//! labels), so every kind of junk is present at any world size.

use fedicensus_core::Software;
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The real mastodon.social peer list (August 2026, 121,644 entries).
const REAL_PEERS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/real/mastodon/api-v1-instance-peers-mastodon.social-2026-08-full.json"
));

/// TLDs that appear in the real list but would look wrong or are not public suffixes a server
/// would use: Freenom's free TLDs (mostly flood and spam there), special-use and pseudo-TLDs.
const AVOIDED_TLDS: &[&str] = &[
    "cf",
    "tk",
    "ml",
    "ga",
    "gq",
    "onion",
    "local",
    "lan",
    "localhost",
    "internal",
    "test",
    "example",
    "invalid",
    "arpa",
    "home",
    "i2p",
    "bit",
    "loki",
    "eth",
    "corp",
    "intranet",
    "localdomain",
    "su",
];

/// Labels that are software names or generic prefixes rather than the distinctive word of a
/// name; the synthesiser adds those itself.
const GENERIC_LABELS: &[&str] = &[
    "mastodon",
    "social",
    "mstdn",
    "masto",
    "pleroma",
    "akkoma",
    "misskey",
    "lemmy",
    "peertube",
    "pixelfed",
    "friendica",
    "wordpress",
    "blogspot",
    "github",
    "gitlab",
    "glitch",
    "herokuapp",
    "ngrok",
    "duckdns",
    "dyndns",
    "ddns",
    "no-ip",
    "www",
    "com",
    "org",
    "net",
    "gov",
    "edu",
    "masto-host",
    "activitypub-troll",
    "gab",
];

/// The pieces names are made of, derived once from the embedded list.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    /// Distinctive second-level labels, sorted and unique.
    pub(crate) words: Vec<String>,
    /// TLDs with their cumulative frequency, for weighted choice.
    tlds: Vec<(String, u64)>,
    /// Junk entries of the real list (not valid hostnames as they stand), plus synthetic ones
    /// of the kinds the list lacks.
    pub(crate) junk: Vec<String>,
}

/// The vocabulary, built on first use.
pub(crate) fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(build_vocabulary)
}

/// Whether `name` is a plain, lowercase, ASCII hostname with an alphabetic TLD: what a world
/// domain must be.
pub fn is_clean_hostname(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let tld = labels[labels.len() - 1];
    if tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

fn build_vocabulary() -> Vocabulary {
    let entries: Vec<String> = serde_json::from_str(REAL_PEERS)
        .expect("the embedded real peer list is a JSON array of strings");
    let mut words = BTreeSet::new();
    let mut tld_counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut junk = Vec::new();
    for entry in &entries {
        if !is_clean_hostname(entry) || entry.contains("xn--") {
            junk.push(entry.clone());
            continue;
        }
        let labels: Vec<&str> = entry.split('.').collect();
        let tld = labels[labels.len() - 1];
        *tld_counts.entry(tld.to_string()).or_default() += 1;
        let word = labels[labels.len() - 2];
        let plain = word.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        if (3..=15).contains(&word.len())
            && plain
            && !word.starts_with('-')
            && !word.ends_with('-')
            && !word.contains("--")
            && !GENERIC_LABELS.contains(&word)
        {
            words.insert(word.to_string());
        }
    }
    let mut cumulative = 0;
    let tlds = tld_counts
        .into_iter()
        .filter(|(tld, count)| {
            *count >= 40 && tld.len() <= 13 && !AVOIDED_TLDS.contains(&tld.as_str())
        })
        .map(|(tld, count)| {
            cumulative += count;
            (tld, cumulative)
        })
        .collect();
    junk.extend(SYNTHETIC_JUNK.iter().map(|s| s.to_string()));
    junk.push(format!("{}.example-long-label.net", "a".repeat(63)));
    junk.push(format!("{}.oversized.social", "x".repeat(70)));
    let junk = interleave_by_kind(junk);
    Vocabulary {
        words: words.into_iter().collect(),
        tlds,
        junk,
    }
}

/// Orders junk so that its kinds take turns (an IP, a `host:port`, a Unicode name, a punycode
/// name, ...): any run of a few consecutive entries then holds every kind, although the real list
/// is mostly punycode. Within a kind the real list's order is kept.
fn interleave_by_kind(junk: Vec<String>) -> Vec<String> {
    let kind = |entry: &str| -> u8 {
        if entry.parse::<std::net::Ipv4Addr>().is_ok() {
            0
        } else if entry.contains(':') {
            1
        } else if !entry.is_ascii() {
            2
        } else if entry.contains('*') {
            3
        } else if entry.split('.').any(|label| label.len() >= 63) {
            4
        } else if entry.contains('_') {
            5
        } else if entry.contains("xn--") {
            6
        } else {
            7
        }
    };
    let mut by_kind: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    for entry in junk {
        by_kind.entry(kind(&entry)).or_default().push(entry);
    }
    // Rarer kinds repeat, so that every window of `kinds` entries holds one of each.
    let longest = by_kind.values().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::with_capacity(longest * by_kind.len());
    for i in 0..longest {
        for entries in by_kind.values() {
            out.push(entries[i % entries.len()].clone());
        }
    }
    out
}

/// Junk of the kinds the real 2026 list lacks but older lists and other servers carry.
const SYNTHETIC_JUNK: &[&str] = &[
    "a1b2c3d4e5f6a7.localhost.run",
    "f00dcafe1234.localhost.run",
    "9f8e7d6c5b4a3f.lhr.life",
    "o*g.*u**.t**.*or*t.*r**ev**",
    "*.example.social",
    "m*s*o*o*.s*c*a*",
    "social.example.com:3000",
    "[2001:db8::1]",
    "localhost",
    "mastodon.local",
    "192.168.1.20",
    "10.0.0.5:8080",
];

impl Vocabulary {
    /// A TLD, weighted by how often the real list uses it.
    pub(crate) fn tld<R: Rng>(&self, rng: &mut R) -> &str {
        let total = self.tlds.last().map_or(1, |(_, c)| *c);
        let pick = rng.random_range(0..total);
        let index = self.tlds.partition_point(|(_, c)| *c <= pick);
        self.tlds
            .get(index)
            .or_else(|| self.tlds.last())
            .map_or("social", |(tld, _)| tld.as_str())
    }

    /// A distinctive word.
    pub(crate) fn word<R: Rng>(&self, rng: &mut R) -> &str {
        if self.words.is_empty() {
            return "fedi";
        }
        &self.words[rng.random_range(0..self.words.len())]
    }
}

/// The prefixes servers of `software` put before their word (`mastodon.`, `pt.`...).
fn prefixes(software: &Software) -> &'static [&'static str] {
    match software {
        Software::Mastodon => &[
            "mastodon", "mastodon", "mastodon", "mstdn", "mstdn", "masto", "social", "social",
            "toot", "m", "mas", "fedi",
        ],
        Software::Pleroma | Software::Akkoma => &["pleroma", "fedi", "social", "pl", "ak", "akko"],
        Software::Misskey
        | Software::Calckey
        | Software::Foundkey
        | Software::Meisskey
        | Software::Sharkey
        | Software::Firefish
        | Software::Iceshrimp => &["misskey", "mk", "msky", "mi", "calckey", "key"],
        Software::Lemmy => &["lemmy", "lemmy", "forum", "links"],
        Software::Peertube => &["peertube", "tube", "video", "videos", "pt"],
        Software::Pixelfed => &["pixelfed", "pix", "photos", "pixel"],
        Software::Friendica => &["friendica", "social", "friends"],
        Software::Gotosocial => &["gts", "social", "fedi", "gotosocial"],
        Software::Diaspora => &["diaspora", "pod", "joindiaspora"],
        Software::Hubzilla => &["hub", "hubzilla", "zot"],
        Software::Wordpress => &["blog", "www", "news"],
        Software::Writefreely => &["write", "blog", "writing"],
        Software::Bookwyrm => &["bookwyrm", "books", "book"],
        Software::Funkwhale => &["funkwhale", "music", "audio"],
        Software::Mobilizon => &["mobilizon", "events", "agenda"],
        Software::Takahe => &["takahe", "social"],
        _ => &["social", "fedi", "ap"],
    }
}

/// A fresh, plausible domain for a server of `software` (uniqueness is the caller's job).
pub(crate) fn synth_domain<R: Rng>(rng: &mut R, software: &Software) -> String {
    let v = vocabulary();
    let word = v.word(rng).to_string();
    let roll: f64 = rng.random();
    // Blogs and personal sites mostly live at their own bare domain.
    let bare_bias = matches!(software, Software::Wordpress | Software::Writefreely);
    if bare_bias && roll < 0.6 {
        return format!("{word}.{}", v.tld(rng));
    }
    if roll < 0.45 {
        let prefixes = prefixes(software);
        let prefix = prefixes[rng.random_range(0..prefixes.len())];
        format!("{prefix}.{word}.{}", v.tld(rng))
    } else if roll < 0.57 && matches!(software, Software::Mastodon) {
        format!("{word}.social")
    } else if roll < 0.9 {
        format!("{word}.{}", v.tld(rng))
    } else {
        let second = v.word(rng).to_string();
        format!("{word}-{second}.{}", v.tld(rng))
    }
}

/// A random label like the ones flood subdomains use (`3ggm8r7pc`, `xw22cyg4j7ziw1`).
pub(crate) fn random_label<R: Rng>(rng: &mut R) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = rng.random_range(9..=14);
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn vocabulary_has_words_tlds_and_junk() {
        let v = vocabulary();
        assert!(v.words.len() > 1000, "{} words", v.words.len());
        assert!(v.tlds.iter().any(|(t, _)| t == "social"));
        assert!(!v.tlds.iter().any(|(t, _)| t == "cf"));
        assert!(v.junk.iter().any(|j| j.contains(':')));
        assert!(v.junk.iter().any(|j| j.contains('*')));
        assert!(v.junk.iter().any(|j| !j.is_ascii()));
    }

    #[test]
    fn synthesised_domains_are_clean_hostnames() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for software in [Software::Mastodon, Software::Lemmy, Software::Wordpress] {
            for _ in 0..500 {
                let d = synth_domain(&mut rng, &software);
                assert!(is_clean_hostname(&d), "{d}");
            }
        }
    }
}
