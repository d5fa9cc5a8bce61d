//! Host normalisation rules, as a table.

use fedicensus_core::{Host, HostError, HostKind};

fn ok(raw: &str) -> String {
    match Host::parse(raw) {
        Ok(h) => h.as_str().to_owned(),
        Err(e) => panic!("{raw:?} was refused: {e:?}"),
    }
}

fn err(raw: &str) -> HostError {
    match Host::parse(raw) {
        Ok(h) => panic!("{raw:?} was accepted as {h}"),
        Err(e) => e,
    }
}

#[test]
fn accepted_names_normalise_as_documented() {
    let table = [
        ("Social.Example.COM.", "social.example.com"),
        ("https://user@example.com:443/path", "example.com"),
        ("  mastodon.social\n", "mastodon.social"),
        ("http://mastodon.social/?q=1#x", "mastodon.social"),
        ("//mastodon.social/about", "mastodon.social"),
        ("peertube3.cpy.re:443", "peertube3.cpy.re"),
        ("social.λ.zone", "social.xn--wxa.zone"),
        ("SOCIAL.Λ.ZONE", "social.xn--wxa.zone"),
        ("social.xn--wxa.zone", "social.xn--wxa.zone"),
        ("xn--p8ja8e.xn--q9jyb4c", "xn--p8ja8e.xn--q9jyb4c"),
        ("mi_xfee.i-0.io", "mi_xfee.i-0.io"),
        ("rpg_kor.masto.host", "rpg_kor.masto.host"),
        ("a.b.example.co.uk", "a.b.example.co.uk"),
        ("masto.host", "masto.host"),
    ];
    for (raw, want) in table {
        assert_eq!(ok(raw), want, "{raw:?}");
    }
}

#[test]
fn unicode_and_punycode_spellings_are_one_host() {
    assert_eq!(
        Host::parse("bücher.example.de"),
        Host::parse("xn--bcher-kva.example.de")
    );
    assert_eq!(
        Host::parse("social.λ.zone"),
        Host::parse("social.xn--wxa.zone")
    );
}

#[test]
fn refused_names_say_why() {
    let table = [
        ("", HostError::Empty),
        ("   ", HostError::Empty),
        ("https://", HostError::Empty),
        ("8.8.8.8", HostError::IpLiteral),
        ("138.197.38.192:443", HostError::IpLiteral),
        ("[::1]", HostError::IpLiteral),
        ("[2001:db8::1]:8080", HostError::IpLiteral),
        ("2001:db8::1", HostError::IpLiteral),
        ("1.2.3", HostError::IpLiteral),
        ("localhost", HostError::Localhost),
        ("LOCALHOST.", HostError::Localhost),
        ("app.localhost", HostError::Localhost),
        ("foo", HostError::SingleLabel),
        ("*.example.com", HostError::Obfuscated),
        ("o*g.*u**.t**.*or*t.*r**ev**", HostError::Obfuscated),
        ("daji******.com", HostError::Obfuscated),
        ("a.b.invalidtld", HostError::UnknownSuffix),
        ("outdated.bbs", HostError::UnknownSuffix),
        ("movary.test", HostError::UnknownSuffix),
        ("co.uk", HostError::PublicSuffix),
        ("a..example.com", HostError::EmptyLabel),
        (".example.com", HostError::EmptyLabel),
        ("exa mple.com", HostError::InvalidCharacter),
        ("exa$mple.com", HostError::InvalidCharacter),
        ("example.com:http", HostError::InvalidPort),
        ("example.com:99999", HostError::InvalidPort),
        ("xn--a.com", HostError::Idna),
    ];
    for (raw, want) in table {
        assert_eq!(err(raw), want, "{raw:?}");
    }
    let long_label = format!("{}.example.com", "a".repeat(64));
    assert_eq!(err(&long_label), HostError::LabelTooLong);
    let ok_label = format!("{}.example.com", "a".repeat(63));
    assert_eq!(ok(&ok_label), ok_label);
    let long_name = format!("{}example.com", "abcdefghi.".repeat(25));
    assert_eq!(err(&long_name), HostError::NameTooLong);
}

#[test]
fn onion_and_i2p_names_are_recorded_but_not_crawled() {
    let onion =
        Host::parse("http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/")
            .expect("an onion name is recorded");
    assert_eq!(onion.kind(), HostKind::Onion);
    assert!(!onion.is_crawlable());
    let i2p = Host::parse("example.i2p").expect("an i2p name is recorded");
    assert_eq!(i2p.kind(), HostKind::I2p);
    assert!(!i2p.is_crawlable());
    assert!(Host::parse("mastodon.social")
        .expect("valid")
        .is_crawlable());
}

#[test]
fn parsing_is_idempotent() {
    for raw in [
        "Social.Example.COM.",
        "https://user@example.com:443/path",
        "social.λ.zone",
        "mi_xfee.i-0.io",
        "abc.onion",
        "a.b.example.co.uk",
    ] {
        let once = Host::parse(raw).expect("valid");
        assert_eq!(Host::parse(once.as_str()), Ok(once.clone()), "{raw:?}");
    }
}

#[test]
fn registrable_domains_group_floods_of_subdomains() {
    let rd = |raw: &str| {
        Host::parse(raw)
            .expect("valid")
            .registrable_domain()
            .to_owned()
    };
    assert_eq!(rd("x1.gab.best"), "gab.best");
    assert_eq!(rd("a.b.example.co.uk"), "example.co.uk");
    assert_eq!(rd("mastodon.social"), "mastodon.social");
    assert_eq!(rd("alice.github.io"), "alice.github.io");
    // masto.host is not in the Public Suffix List: its customers share one budget.
    assert_eq!(rd("rpg_kor.masto.host"), "masto.host");
    assert_eq!(rd("social.xn--wxa.zone"), "xn--wxa.zone");
}

#[test]
fn host_errors_have_stable_distinct_names() {
    let names: std::collections::HashSet<_> =
        HostError::ALL.iter().map(HostError::as_str).collect();
    assert_eq!(names.len(), HostError::ALL.len());
    assert_eq!(HostError::IpLiteral.as_str(), "ip_literal");
}
