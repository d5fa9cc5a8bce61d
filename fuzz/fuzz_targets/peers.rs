//! Peer lists in every shape (Mastodon strings, objects, Lemmy's federated instances), then
//! normalised as the crawler does before storing them.
#![no_main]
use fedicensus_core::parse::{normalise_peers, parse_peers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = parse_peers(data) {
        let _ = list.measurements();
        let peers = normalise_peers(&list.entries);
        assert_eq!(
            peers.hosts.len() + peers.duplicates + peers.rejected_total(),
            list.entries.len()
        );
        let _ = normalise_peers(&list.allowed);
        let _ = normalise_peers(&list.blocked);
    }
});
