//! Instants past the year 9999: a host a server postponed to the year 11476 stays postponed
//! (SQLite compares instants as text, and `+11476-…` sorts before `2022-…`).

use crate::support::*;
use chrono::{DateTime, Duration};
use fedicensus_storage::Storage;

crate::conformance!(a_host_released_to_the_year_11476_is_not_due_today,);

async fn a_host_released_to_the_year_11476_is_not_due_today(s: Storage) -> anyhow::Result<()> {
    s.add_seeds(&[host("far.example"), host("near.example")], day(11, 1))
        .await?;
    let lease = Duration::minutes(10);
    let leased = s.lease_due_hosts("w1", day(11, 1), 5, lease).await?;
    assert_eq!(leased.len(), 2);
    let far = DateTime::from_timestamp(300_000_000_000, 0).expect("the year 11476");
    assert!(s.release(&host("far.example"), "w1", Some(far)).await?);
    assert!(
        s.release(&host("near.example"), "w1", Some(day(11, 2)))
            .await?
    );
    let due: Vec<_> = s
        .lease_due_hosts("w1", day(11, 3), 5, lease)
        .await?
        .into_iter()
        .map(|d| d.host)
        .collect();
    assert_eq!(due, vec![host("near.example")]);
    Ok(())
}
