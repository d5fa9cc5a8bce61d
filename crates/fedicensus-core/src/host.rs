//! Server names: [`Host`], a normalised, validated domain, and [`HostError`], why a name was
//! refused.
//!
//! Every name fedicensus meets comes from outside: seeds typed by a person, peer lists served by
//! strangers (mastodon.social's holds 121,644 entries with IP literals, `host:port` pairs, raw
//! Unicode, punycode, underscores, joke labels and obfuscated `*` blocks). A census that counted
//! `social.λ.zone` and `social.xn--wxa.zone` as two servers, or crawled `8.8.8.8`, would be wrong,
//! so every name passes through [`Host::parse`] once, at the border, and the rest of the code only
//! ever sees the normalised form.
//!
//! The rules, in order:
//! 1. trim; strip a scheme (`https://`), a path, query or fragment, userinfo (`user@`) and a port;
//!    lowercase; strip one trailing dot;
//! 2. refuse IP literals (v4, v6, bracketed) and names whose last label is numeric: a census
//!    counts named servers, and an address is not one (it is also how SSRF bait looks);
//! 3. refuse names containing `*` (obfuscated domain blocks), `localhost` and `*.localhost`;
//! 4. map Unicode to ASCII with IDNA (UTS 46, as browsers do), so both spellings are one server;
//! 5. allow only `a-z`, `0-9`, `-` and `_` in labels; refuse empty labels, labels over 63 and names
//!    over 253 characters, and single labels;
//! 6. `.onion` and `.i2p` names are **recorded but never crawled** ([`Host::is_crawlable`]): they are
//!    real servers worth counting as seen, but reaching them needs a proxy we do not run;
//! 7. everything else must end in a suffix of the Public Suffix List (embedded at build time by the
//!    `psl` crate: no network) and must not itself be a public suffix such as `co.uk`.
//!
//! **Underscores are accepted.** They are invalid in hostnames (RFC 952/1123) but valid in DNS
//! names, accepted by WHATWG URL parsing (so by our HTTP client), and real: eight entries of the
//! mastodon.social peer list (`mi_xfee.i-0.io`, `rpg_kor.masto.host`) are live servers. Refusing
//! them would undercount; a name that does not resolve simply ends as `no_such_domain`.
//! Hyphens at the start or end of a label are accepted for the same reason (WHATWG does not check
//! them either).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest label DNS allows.
pub const MAX_LABEL_LEN: usize = 63;
/// Longest name DNS allows (without the trailing dot).
pub const MAX_NAME_LEN: usize = 253;

/// A normalised server name: lowercase ASCII (punycode), no port, no trailing dot.
///
/// Held as a boxed `str` (exactly its length, two words) rather than a `String`: a crawl holds
/// peer lists of tens of thousands of names between the visit and the writer, and they are most
/// of its memory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Host(Box<str>);

/// Which network a [`Host`] lives on, which decides whether fedicensus may visit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostKind {
    /// An ordinary DNS name under a public suffix: crawled.
    Public,
    /// A Tor onion service: recorded, not crawled.
    Onion,
    /// An I2P eepsite: recorded, not crawled.
    I2p,
}

/// Why a name is not a server fedicensus will record. The names ([`HostError::as_str`]) are
/// stable: rejection counts are stored and exported under them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum HostError {
    /// Nothing left after trimming and stripping.
    #[error("empty name")]
    Empty,
    /// An IPv4 or IPv6 address (bracketed or not), or a name ending in a numeric label.
    #[error("an IP address, not a name")]
    IpLiteral,
    /// Contains `*`: an obfuscated entry from a domain block list.
    #[error("obfuscated name (contains '*')")]
    Obfuscated,
    /// `localhost` or a name under it.
    #[error("localhost")]
    Localhost,
    /// A name with one label (`foo`), which only means something on a local network.
    #[error("a single label, not a public name")]
    SingleLabel,
    /// Two dots in a row, or a leading dot.
    #[error("an empty label")]
    EmptyLabel,
    /// A label longer than 63 characters.
    #[error("a label longer than 63 characters")]
    LabelTooLong,
    /// A name longer than 253 characters.
    #[error("longer than 253 characters")]
    NameTooLong,
    /// A character outside `a-z 0-9 - _` (after IDNA), or whitespace inside the name.
    #[error("a character not allowed in a host name")]
    InvalidCharacter,
    /// A `:port` that is not a number from 0 to 65535.
    #[error("an invalid port")]
    InvalidPort,
    /// The name does not end in a suffix of the Public Suffix List (`.invalidtld`, `.bbs`).
    #[error("not under a known public suffix")]
    UnknownSuffix,
    /// The name is itself a public suffix (`co.uk`), not a name under one.
    #[error("a public suffix itself")]
    PublicSuffix,
    /// IDNA (UTS 46) refused the name: invalid punycode, disallowed code points.
    #[error("invalid internationalised name")]
    Idna,
}

impl HostError {
    /// Every variant, in a stable order (for reports that list zero counts too).
    pub const ALL: &'static [HostError] = &[
        HostError::Empty,
        HostError::IpLiteral,
        HostError::Obfuscated,
        HostError::Localhost,
        HostError::SingleLabel,
        HostError::EmptyLabel,
        HostError::LabelTooLong,
        HostError::NameTooLong,
        HostError::InvalidCharacter,
        HostError::InvalidPort,
        HostError::UnknownSuffix,
        HostError::PublicSuffix,
        HostError::Idna,
    ];

    /// The stable name stored and exported.
    pub fn as_str(&self) -> &'static str {
        match self {
            HostError::Empty => "empty",
            HostError::IpLiteral => "ip_literal",
            HostError::Obfuscated => "obfuscated",
            HostError::Localhost => "localhost",
            HostError::SingleLabel => "single_label",
            HostError::EmptyLabel => "empty_label",
            HostError::LabelTooLong => "label_too_long",
            HostError::NameTooLong => "name_too_long",
            HostError::InvalidCharacter => "invalid_character",
            HostError::InvalidPort => "invalid_port",
            HostError::UnknownSuffix => "unknown_suffix",
            HostError::PublicSuffix => "public_suffix",
            HostError::Idna => "idna",
        }
    }
}

impl Serialize for HostError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Host {
    /// Wraps a name that is already normalised (from our own database, say). Use
    /// [`Host::parse`] for anything that came from outside.
    pub fn from_normalised(name: impl Into<String>) -> Host {
        Host(name.into().into_boxed_str())
    }

    /// Normalises and validates a name from outside (a seed, a peer list entry, a URL); see the
    /// module documentation for the rules.
    pub fn parse(raw: &str) -> Result<Host, HostError> {
        match parse_plain(raw) {
            Some(result) => result,
            None => Host::parse_general(raw),
        }
    }

    /// [`Host::parse`] without the fast path for plain names: every rule, in order.
    fn parse_general(raw: &str) -> Result<Host, HostError> {
        let authority = strip_to_authority(raw)?;
        let name = strip_port(authority)?;
        let lower = name.to_ascii_lowercase();
        let lower = lower.strip_suffix('.').unwrap_or(&lower);
        if lower.is_empty() {
            return Err(HostError::Empty);
        }
        if lower.contains('*') {
            return Err(HostError::Obfuscated);
        }
        if lower.parse::<Ipv4Addr>().is_ok() || lower.parse::<Ipv6Addr>().is_ok() {
            return Err(HostError::IpLiteral);
        }
        if lower.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(HostError::InvalidCharacter);
        }
        // IDNA first, so that Unicode full stops (`。`) split labels and Unicode forms are checked
        // in the same ASCII form as punycode ones.
        let ascii = idna::domain_to_ascii_cow(lower.as_bytes(), idna::AsciiDenyList::URL)
            .map_err(|_| HostError::Idna)?
            .into_owned();
        let ascii = ascii.strip_suffix('.').map(str::to_owned).unwrap_or(ascii);
        validate_ascii(&ascii)?;
        let host = Host(ascii.into_boxed_str());
        if host.kind() == HostKind::Public {
            check_suffix(host.as_str())?;
        }
        Ok(host)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Which network the name is on.
    pub fn kind(&self) -> HostKind {
        if self.0.ends_with(".onion") {
            HostKind::Onion
        } else if self.0.ends_with(".i2p") {
            HostKind::I2p
        } else {
            HostKind::Public
        }
    }

    /// Whether fedicensus visits this server: false for `.onion` and `.i2p`, which are recorded
    /// when seen but never fetched.
    pub fn is_crawlable(&self) -> bool {
        self.kind() == HostKind::Public
    }

    /// The registrable domain (eTLD+1 by the Public Suffix List, private section included):
    /// `a.b.example.co.uk` → `example.co.uk`, `alice.github.io` → itself (`github.io` is a
    /// hosting suffix, so each customer is its own owner). Used to budget floods of fake
    /// subdomains (`*.gab.best`). Hosting providers not in the list (`masto.host`) group all
    /// their customers under one registrable domain, so a flood budget must allow for them. Onion, I2P and names without one give the name's last two
    /// labels, or the name itself.
    pub fn registrable_domain(&self) -> &str {
        if self.is_crawlable() {
            if let Some(domain) = psl::domain(self.0.as_bytes()) {
                let len = domain.trim().as_bytes().len();
                return &self.0[self.0.len() - len..];
            }
        }
        match self.0.rmatch_indices('.').nth(1) {
            Some((dot, _)) => &self.0[dot + 1..],
            None => &self.0,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Host {
    type Err = HostError;

    fn from_str(s: &str) -> Result<Host, HostError> {
        Host::parse(s)
    }
}

/// The fast path of [`Host::parse`], for the names nearly every peer list entry is: lowercase
/// ASCII labels of `a-z 0-9 - _`, none empty and none punycode (`xn--`), no trailing dot. For
/// such a name every step of the general path but the last checks is the identity: nothing to
/// trim or strip (no space, `:`, `/`, `@`), nothing to lowercase, no `*`, no IPv6 literal, and
/// IDNA (UTS 46) maps these characters to themselves and has no punycode to decode. So only
/// the IPv4 check, [`validate_ascii`] and the suffix check remain, without the allocations of
/// lowercasing and IDNA, which were most of the cost of a peer list (BENCHMARKS.md, "Peer
/// lists"). `None` for any other name, which takes the general path; a test compares both paths
/// over every entry of mastodon.social's real list and a set of tricky names.
fn parse_plain(raw: &str) -> Option<Result<Host, HostError>> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.last() == Some(&b'.') {
        return None;
    }
    let mut label_start = true;
    let mut dots = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'.' => {
                if label_start {
                    return None;
                }
                label_start = true;
                dots += 1;
            }
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {
                if label_start && bytes[i..].starts_with(b"xn--") {
                    return None;
                }
                label_start = false;
            }
            _ => return None,
        }
    }
    if dots == 3 && raw.parse::<Ipv4Addr>().is_ok() {
        return Some(Err(HostError::IpLiteral));
    }
    Some(validate_ascii(raw).and_then(|()| {
        let host = Host(raw.into());
        if host.kind() == HostKind::Public {
            check_suffix(host.as_str())?;
        }
        Ok(host)
    }))
}

/// Trims and removes the scheme, path, query, fragment and userinfo, leaving `host[:port]`.
fn strip_to_authority(raw: &str) -> Result<&str, HostError> {
    let mut rest = raw.trim();
    if let Some((scheme, after)) = rest.split_once("://") {
        // Only a plausible scheme; `a/b://c` is a path, left for the checks below to refuse.
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            rest = after;
        }
    } else if let Some(after) = rest.strip_prefix("//") {
        rest = after;
    }
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    rest = &rest[..end];
    if let Some((_, host)) = rest.rsplit_once('@') {
        rest = host;
    }
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(HostError::Empty);
    }
    Ok(rest)
}

/// Removes a `:port`, refusing IPv6 literals (bracketed or bare) on the way.
fn strip_port(authority: &str) -> Result<&str, HostError> {
    if authority.starts_with('[') {
        return Err(HostError::IpLiteral);
    }
    match authority.matches(':').count() {
        0 => Ok(authority),
        1 => {
            let (name, port) = authority
                .split_once(':')
                .expect("one colon was counted, so there is a split");
            if !port.is_empty() && port.parse::<u16>().is_err() {
                return Err(HostError::InvalidPort);
            }
            Ok(name)
        }
        _ if authority.parse::<Ipv6Addr>().is_ok() => Err(HostError::IpLiteral),
        _ => Err(HostError::InvalidCharacter),
    }
}

/// Checks an IDNA-mapped name's characters, labels and length.
fn validate_ascii(name: &str) -> Result<(), HostError> {
    if name.is_empty() {
        return Err(HostError::Empty);
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Err(HostError::Localhost);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(HostError::InvalidCharacter);
    }
    // One pass over the labels (no vector of them: this runs for every peer list entry); the
    // refusals keep their order of precedence.
    let (mut labels, mut empty, mut long) = (0usize, false, false);
    let mut last = "";
    for label in name.split('.') {
        labels += 1;
        empty |= label.is_empty();
        long |= label.len() > MAX_LABEL_LEN;
        last = label;
    }
    if empty {
        return Err(HostError::EmptyLabel);
    }
    if long {
        return Err(HostError::LabelTooLong);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(HostError::NameTooLong);
    }
    if labels < 2 {
        return Err(HostError::SingleLabel);
    }
    // WHATWG URL parsing reads a numeric last label (`1.2.3`, `0x7f.1`) as an IPv4 address.
    if last.bytes().all(|b| b.is_ascii_digit())
        || (last.starts_with("0x") && last[2..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(HostError::IpLiteral);
    }
    Ok(())
}

/// Checks the name against the Public Suffix List.
fn check_suffix(name: &str) -> Result<(), HostError> {
    let suffix = psl::suffix(name.as_bytes()).ok_or(HostError::UnknownSuffix)?;
    if !suffix.is_known() {
        return Err(HostError::UnknownSuffix);
    }
    if suffix.as_bytes().len() == name.len() && suffix.typ() == Some(psl::Type::Icann) {
        return Err(HostError::PublicSuffix);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_userinfo_and_port_reduces_to_its_host() {
        assert_eq!(
            Host::parse("https://user@Example.com:443/path?q#f").map(|h| h.as_str().to_owned()),
            Ok("example.com".to_owned())
        );
    }

    /// The fast path must be invisible: the same name or the same refusal as the general path.
    fn assert_both_paths_agree(raw: &str) -> bool {
        let general = Host::parse_general(raw);
        match parse_plain(raw) {
            Some(fast) => {
                assert_eq!(fast, general, "{raw:?}");
                true
            }
            None => {
                assert_eq!(Host::parse(raw), general, "{raw:?}");
                false
            }
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_general_one_on_every_entry_of_a_real_peer_list() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/real/mastodon/api-v1-instance-peers-mastodon.social-2026-08-full.json"
        );
        let body = std::fs::read(path).expect("the real peer list is in fixtures/");
        let list = crate::parse::parse_peers(&body).expect("a peer list");
        assert_eq!(list.entries.len(), 121_644);
        let fast = list
            .entries
            .iter()
            .filter(|e| assert_both_paths_agree(e))
            .count();
        // Nearly every entry takes the fast path, or it would not be worth having.
        assert!(fast > 120_000, "{fast} entries took the fast path");
    }

    #[test]
    fn the_fast_path_agrees_with_the_general_one_on_tricky_names() {
        let long_label = format!("{}.example.com", "a".repeat(64));
        let label_63 = format!("{}.example.com", "a".repeat(63));
        let long_name = format!("{}example.com", "abcdefghi.".repeat(25));
        let tricky = [
            "",
            ".",
            "a",
            "com",
            "co.uk",
            "example.co.uk",
            "github.io",
            "alice.github.io",
            "8.8.8.8",
            "1.2.3.4.example.com",
            "1.2.3",
            "1.2.3.4.5",
            "0x7f.1",
            "a.0x1f",
            "a.0xg",
            "example.123",
            "localhost",
            "a.localhost",
            "localhost.com",
            "a..example.com",
            ".example.com",
            "example.com.",
            "example.com..",
            "a_b.example.com",
            "_.example.com",
            "-a-.example.com",
            "ab--cd.example.com",
            "xn--.example.com",
            "xn--a.example.com",
            "xn--wxa.zone",
            "social.xn--wxa.zone",
            "xn--bcher-kva.example.de",
            "axn--b.example.com",
            "a.xn--p1ai",
            "a.xn-p1ai",
            "xn--zz.com",
            "abc.onion",
            "x.i2p",
            "onion",
            "a.invalidtld",
            "a.bbs",
            "a.zone",
            "a.ZONE",
            "Example.com",
            "a.b.c.d.e.f.g.h.example.com",
            &long_label,
            &label_63,
            &long_name,
            "ex ample.com",
            "example.com:443",
            "example.com/",
            "*.example.com",
            "social.λ.zone",
            "a.example.com\u{0}",
            "a.example.com\t",
        ];
        for name in tricky {
            assert_both_paths_agree(name);
        }
    }

    #[test]
    fn registrable_domain_uses_the_public_suffix_list() {
        let host = Host::parse("a.b.example.co.uk").expect("valid");
        assert_eq!(host.registrable_domain(), "example.co.uk");
        let host = Host::parse("x.gab.best").expect("valid");
        assert_eq!(host.registrable_domain(), "gab.best");
    }
}
