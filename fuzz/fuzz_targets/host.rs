//! Name normalisation: any text, as a peer list or a seed may hold it. Whatever is accepted is
//! a fixed point, ASCII, and never an IP address.
#![no_main]
use fedicensus_core::Host;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(host) = Host::parse(text) {
        assert_eq!(Host::parse(host.as_str()).as_ref(), Ok(&host));
        assert!(host.as_str().is_ascii());
        assert!(host.as_str().parse::<std::net::IpAddr>().is_err());
        let _ = host.registrable_domain();
        let _ = host.is_crawlable();
    }
});
