//! Property tests for name normalisation ([`Host::parse`], [`normalise_peers`]).
//!
//! The table tests in `tests/it/host.rs` pin the rules on known names; these check that the rules
//! hold for every name proptest can think of: normalising twice changes nothing, the Unicode and
//! punycode spellings of a name are one server, and no IP literal, `localhost`, single label or
//! private (non-public-suffix) name is ever accepted, however it is dressed up (scheme, userinfo,
//! port, path, case, trailing dot, brackets).

use fedicensus_core::parse::normalise_peers;
use fedicensus_core::{Host, HostError, HostKind};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Suffixes in the Public Suffix List (ICANN and private sections), including IDN ones.
const PUBLIC_SUFFIXES: &[&str] = &[
    "com",
    "social",
    "de",
    "co.uk",
    "zone",
    "io",
    "masto.host",
    "github.io",
    "jp",
    "онлайн",
    "xn--80asehdb",
    "рф",
    "中国",
    "best",
];

/// Top-level names of private networks and reserved names: never public servers.
const PRIVATE_SUFFIXES: &[&str] = &[
    "local",
    "lan",
    "internal",
    "localdomain",
    "home",
    "corp",
    "intranet",
    "private",
    "test",
    "invalid",
    "example",
    "localhost",
];

/// Characters that appear in real internationalised server names, plus ASCII.
fn label_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => prop::char::range('a', 'z'),
        2 => prop::char::range('0', '9'),
        1 => Just('-'),
        3 => prop::sample::select(vec!['λ', 'ü', 'é', 'ß', 'ø', 'ж', 'я', '日', '本', 'ä', 'ñ', 'ç', 'ı', 'ç', 'ő']),
    ]
}

/// A label that IDNA accepts: letters and digits with inner hyphens (no `--` at positions 3–4,
/// which is reserved for punycode).
fn label() -> impl Strategy<Value = String> {
    prop::collection::vec(label_char(), 1..12)
        .prop_map(|chars| {
            let mut s: String = chars.into_iter().collect();
            s = s.trim_matches('-').to_string();
            if s.is_empty() {
                s.push('a');
            }
            if s.chars().nth(2) == Some('-') && s.chars().nth(3) == Some('-') {
                s = s.replacen("--", "-", 1);
            }
            s
        })
        .prop_filter("not a numeric label", |s| {
            !s.bytes().all(|b| b.is_ascii_digit())
        })
}

/// A plausible server name under a public suffix, in Unicode where its labels are.
fn unicode_name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 1..4),
        prop::sample::select(PUBLIC_SUFFIXES),
    )
        .prop_map(|(labels, suffix)| format!("{}.{suffix}", labels.join(".")))
}

/// Ways a name is dressed up in the wild, all of which must reduce to the bare name.
fn dressed(name: String) -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "https://", "http://", "//", "HTTPS://"]),
        prop::sample::select(vec!["", "user@", "a:b@"]),
        prop::bool::ANY,
        prop::sample::select(vec!["", ":443", ":8080", ":"]),
        prop::sample::select(vec!["", "/", "/path?q=1", "#frag", "/a/b"]),
        prop::bool::ANY,
        prop::sample::select(vec!["", " ", "\n", "\t "]),
    )
        .prop_map(move |(scheme, user, upper, port, path, dot, ws)| {
            let mut host = name.clone();
            if upper {
                host = host.to_ascii_uppercase();
            }
            if dot {
                host.push('.');
            }
            format!("{ws}{scheme}{user}{host}{port}{path}{ws}")
        })
}

/// Any IPv4 or IPv6 address, written as browsers and peer lists write them.
fn ip_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u32>().prop_map(|n| Ipv4Addr::from(n).to_string()),
        any::<u128>().prop_map(|n| Ipv6Addr::from(n).to_string()),
        any::<u128>().prop_map(|n| format!("[{}]", Ipv6Addr::from(n))),
        any::<u128>().prop_map(|n| format!("[{}]:443", Ipv6Addr::from(n))),
        any::<u32>().prop_map(|n| format!("{}:8080", Ipv4Addr::from(n))),
        any::<u32>().prop_map(|n| format!("https://{}/", Ipv4Addr::from(n))),
        any::<u32>().prop_map(|n| format!("0x{n:x}.0x{:x}", n >> 8)),
        (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        any::<u32>().prop_map(|n| Ipv4Addr::from(n).to_ipv6_mapped().to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whatever is accepted is a fixed point: parsing the normalised name gives it back.
    #[test]
    fn parse_is_idempotent_on_any_text(raw in any::<String>()) {
        if let Ok(host) = Host::parse(&raw) {
            prop_assert_eq!(Host::parse(host.as_str()), Ok(host.clone()));
            prop_assert_eq!(host.as_str(), host.as_str().to_ascii_lowercase());
            prop_assert!(host.as_str().is_ascii());
        }
    }

    /// The same on names that look like names, where most inputs are accepted.
    #[test]
    fn parse_is_idempotent_on_names(raw in unicode_name().prop_flat_map(dressed)) {
        if let Ok(host) = Host::parse(&raw) {
            prop_assert_eq!(Host::parse(host.as_str()), Ok(host.clone()));
        }
    }

    /// A name and its punycode spelling are one server, dressed any way.
    #[test]
    fn unicode_and_punycode_forms_agree(
        (name, dressed_name) in unicode_name().prop_flat_map(|n| (Just(n.clone()), dressed(n)))
    ) {
        let unicode = Host::parse(&name);
        let punycode = idna::domain_to_ascii(&name)
            .expect("the strategy only builds names IDNA accepts");
        prop_assert_eq!(Host::parse(&punycode), unicode.clone());
        prop_assert_eq!(Host::parse(&dressed_name), unicode.clone());
        // And the accepted form is the punycode one, which maps back to the Unicode one.
        if let Ok(host) = unicode {
            prop_assert_eq!(host.as_str(), punycode.as_str());
            let (back, errors) = idna::domain_to_unicode(host.as_str());
            prop_assert!(errors.is_ok());
            prop_assert_eq!(back, idna::domain_to_unicode(&name).0);
        }
    }

    /// Names built from valid labels under a public suffix are accepted.
    #[test]
    fn names_under_a_public_suffix_are_accepted(name in unicode_name()) {
        prop_assume!(name.len() < 200);
        prop_assert!(Host::parse(&name).is_ok(), "{name:?} refused: {:?}", Host::parse(&name));
    }

    /// No IP literal is ever a host, however it is written.
    #[test]
    fn never_accepts_an_ip_literal(ip in ip_literal()) {
        prop_assert!(Host::parse(&ip).is_err(), "{ip:?} accepted");
    }

    /// `localhost` and names under it are refused, in any case and dress.
    #[test]
    fn never_accepts_localhost(
        raw in prop::collection::vec(label(), 0..3)
            .prop_map(|labels| labels.into_iter().chain(["localhost".to_string()]).collect::<Vec<_>>().join("."))
            .prop_flat_map(dressed)
    ) {
        prop_assert!(Host::parse(&raw).is_err(), "{raw:?} accepted");
    }

    /// A single label (`mastodon`, `router`) names nothing on the public internet.
    #[test]
    fn never_accepts_a_single_label(raw in label().prop_flat_map(dressed)) {
        prop_assert!(Host::parse(&raw).is_err(), "{raw:?} accepted");
    }

    /// Names under private-network or reserved top-level names are refused.
    #[test]
    fn never_accepts_a_private_name(
        (labels, suffix) in (prop::collection::vec(label(), 1..3), prop::sample::select(PRIVATE_SUFFIXES))
    ) {
        let raw = format!("{}.{suffix}", labels.join("."));
        let parsed = Host::parse(&raw);
        prop_assert!(parsed.is_err(), "{raw:?} accepted as {parsed:?}");
    }

    /// Onion and I2P names are recorded but never crawlable.
    #[test]
    fn onion_and_i2p_are_never_crawlable(l in "[a-z2-7]{16,56}", tld in prop::sample::select(vec!["onion", "i2p"])) {
        let host = Host::parse(&format!("{l}.{tld}")).expect("a well-formed hidden-service name");
        prop_assert!(!host.is_crawlable());
        prop_assert_ne!(host.kind(), HostKind::Public);
    }

    /// Normalising a peer list accounts for every entry and is idempotent: its output, fed back,
    /// comes out unchanged with nothing refused and no duplicates.
    #[test]
    fn normalise_peers_accounts_for_every_entry_and_is_idempotent(
        raw in prop::collection::vec(
            prop_oneof![
                4 => unicode_name().prop_flat_map(dressed),
                1 => ip_literal(),
                1 => any::<String>(),
                1 => label(),
            ],
            0..40,
        )
    ) {
        let once = normalise_peers(&raw);
        prop_assert_eq!(once.hosts.len() + once.duplicates + once.rejected_total(), raw.len());
        let mut distinct = once.hosts.clone();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), once.hosts.len());
        let names: Vec<&str> = once.hosts.iter().map(Host::as_str).collect();
        let twice = normalise_peers(&names);
        prop_assert_eq!(&twice.hosts, &once.hosts);
        prop_assert_eq!(twice.duplicates, 0);
        prop_assert_eq!(twice.rejected_total(), 0);
        // Every refusal has one of the documented reasons, and no IP slipped through.
        for reason in once.rejected.keys() {
            prop_assert!(HostError::ALL.contains(reason));
        }
        for host in &once.hosts {
            prop_assert!(host.as_str().parse::<Ipv4Addr>().is_err());
        }
    }
}
