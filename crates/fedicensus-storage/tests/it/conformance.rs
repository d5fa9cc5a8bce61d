//! The behaviour both backends must share.

use crate::support::*;
use fedicensus_core::Software;
use fedicensus_storage::Storage;

crate::conformance!(recording_the_same_observation_twice_stores_it_once,);

async fn recording_the_same_observation_twice_stores_it_once(s: Storage) -> anyhow::Result<()> {
    let mut o = ok("a.example", day(11, 1), Software::Mastodon, 100, Some(20));
    o.peers = Some(vec![host("b.example"), host("c.example")]);
    o.activity = vec![week(day(10, 31), 5, 40)];
    let first = s.record_observation(&o, None).await?;
    assert!(first.newly_stored);
    assert_eq!(first.servers_discovered, 2);
    let second = s.record_observation(&o, None).await?;
    assert!(!second.newly_stored);
    assert_eq!(second.observation_id, first.observation_id);
    assert_eq!(second.servers_discovered, 0);
    Ok(())
}
