//! Which addresses the crawler may connect to.
//!
//! Every name the crawler resolves came from a stranger: a peer list, a redirect, a NodeInfo
//! link. A name that resolves to `127.0.0.1`, `10.0.0.5` or `169.254.169.254` turns the crawler
//! into a tool for reaching the operator's own network (server-side request forgery). So, like
//! activitypub-federation, the crawler treats every remote server as hostile and refuses any
//! address outside the public unicast internet **after** DNS resolution (checking the name
//! would not help: anyone can point a name anywhere). Only an explicit allow-list of exact
//! addresses lifts the refusal; the simulator needs its loopback addresses there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address policy: the public internet, plus exactly the addresses allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<IpAddr>,
    /// Refuse everything not in `allow`, public addresses included (tests and the simulator: a
    /// crawl of the simulator must never reach the internet, whatever its DNS says).
    only_allowed: bool,
}

impl AddressPolicy {
    /// The policy of a real crawl: public unicast addresses only.
    pub fn public_only() -> AddressPolicy {
        AddressPolicy::default()
    }

    /// Public addresses plus exactly `allow` (never a range).
    pub fn allowing(allow: impl IntoIterator<Item = IpAddr>) -> AddressPolicy {
        AddressPolicy {
            allow: allow.into_iter().map(canonical).collect(),
            only_allowed: false,
        }
    }

    /// Exactly `allow`, nothing else (not even public addresses).
    pub fn only(allow: impl IntoIterator<Item = IpAddr>) -> AddressPolicy {
        AddressPolicy {
            only_allowed: true,
            ..AddressPolicy::allowing(allow)
        }
    }

    /// Whether the crawler may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        // Special ranges are judged on the address as written (an IPv4-mapped address is
        // refused even when it maps a public one); the allow-list on its IPv4 form.
        self.allow.contains(&canonical(ip)) || (!self.only_allowed && !is_special(ip))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) as their IPv4 form, so an allow-list entry
/// and a refusal apply to both spellings.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether `ip` lies outside the public unicast internet.
pub fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    const RANGES: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network", unspecified
        ([10, 0, 0, 0], 8),      // RFC 1918
        ([100, 64, 0, 0], 10),   // carrier-grade NAT (RFC 6598)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local (cloud metadata lives here)
        ([172, 16, 0, 0], 12),   // RFC 1918
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
        ([192, 168, 0, 0], 16),  // RFC 1918
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
        ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 broadcast
    ];
    RANGES.iter().any(|(net, prefix)| in_v4(ip, *net, *prefix))
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    // Addresses that embed an IPv4 address are refused outright: they are how a filter that
    // only checks IPv4 ranges is walked around (`::ffff:10.0.0.1`, `64:ff9b::a00:1`).
    const RANGES: &[(Ipv6Addr, u32)] = &[
        (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96), // IPv4-mapped
        (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96),      // IPv4-compatible (deprecated)
        (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96), // NAT64 well-known prefix
        (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64
        (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),  // discard-only
        (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32), // Teredo
        (Ipv6Addr::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0), 48), // benchmarking
        (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
        (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
        (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
        (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),  // unique local
        (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
        (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local (deprecated)
        (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),  // multicast
    ];
    RANGES.iter().any(|(net, prefix)| in_v6(ip, *net, *prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("a valid address in the test")
    }

    #[test]
    fn private_loopback_link_local_and_other_special_addresses_are_refused() {
        let policy = AddressPolicy::public_only();
        for refused in [
            "127.0.0.1",
            "127.0.0.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.10",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "2002:a00:1::1",
        ] {
            assert!(!policy.permits(ip(refused)), "{refused} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_permitted() {
        let policy = AddressPolicy::public_only();
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2a01:4f8::1",
            "2606:4700::1111",
        ] {
            assert!(policy.permits(ip(public)), "{public} must be permitted");
        }
    }

    #[test]
    fn the_allow_list_names_exact_addresses_not_ranges() {
        let policy = AddressPolicy::allowing([ip("127.0.0.1"), ip("127.0.0.2")]);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("127.0.0.2")));
        assert!(policy.permits(ip("::ffff:127.0.0.1")));
        assert!(
            !policy.permits(ip("127.0.0.3")),
            "the SSRF bait stays refused"
        );
        assert!(!policy.permits(ip("10.0.0.1")));
        let only = AddressPolicy::only([ip("127.0.0.1")]);
        assert!(only.permits(ip("127.0.0.1")));
        assert!(!only.permits(ip("8.8.8.8")), "no public address either");
    }
}
