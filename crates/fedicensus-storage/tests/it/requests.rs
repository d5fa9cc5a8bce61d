//! Crawl requests: asking twice while one waits is one request; a daemon sees what was asked
//! after its last pass began and nothing older; the first pass to start marks what waited, once;
//! the data version follows; requests move with the tables.

use crate::support::*;
use chrono::Duration;
use fedicensus_core::{Host, Software};
use fedicensus_storage::{ServerStatus, Storage};

crate::conformance!(
    a_crawl_request_waits_until_a_pass_starts_and_is_seen_only_by_daemons_that_did_not_pass_since,
    the_schedule_counts_due_leased_and_visited_servers_by_status,
);

/// Four servers: one visited a day ago and due in six hours (alive), one visited three days
/// ago and due in 30 minutes (alive, leased), and two never visited seeds due since yesterday.
async fn the_schedule_counts_due_leased_and_visited_servers_by_status(
    s: Storage,
) -> anyhow::Result<()> {
    let now = day(11, 10);
    assert_eq!(s.schedule(now).await?, vec![]);
    let hosts: Vec<Host> = ["a.example", "b.example", "c.example", "d.example"]
        .iter()
        .map(|h| Host::from_normalised(*h))
        .collect();
    s.add_seeds(&hosts, now - Duration::days(5)).await?;
    s.record_observation(
        &ok(
            "a.example",
            now - Duration::hours(20),
            Software::Mastodon,
            10,
            None,
        ),
        None,
    )
    .await?;
    s.record_observation(
        &ok(
            "b.example",
            now - Duration::days(3),
            Software::Mastodon,
            10,
            None,
        ),
        None,
    )
    .await?;
    s.release(&hosts[0], "w", Some(now + Duration::hours(6)))
        .await?;
    s.release(&hosts[1], "w", Some(now + Duration::minutes(30)))
        .await?;
    s.release(&hosts[2], "w", Some(now - Duration::days(1)))
        .await?;
    s.release(&hosts[3], "w", Some(now - Duration::days(1)))
        .await?;
    let leased = s
        .lease_due_hosts("w", now + Duration::minutes(31), 1, Duration::hours(1))
        .await?;
    assert_eq!(leased.len(), 1);
    let by_status = s.schedule(now).await?;
    let alive = by_status
        .iter()
        .find(|r| r.status == ServerStatus::Alive)
        .expect("alive servers");
    let new = by_status
        .iter()
        .find(|r| r.status == ServerStatus::New)
        .expect("new servers");
    assert_eq!(
        (
            alive.servers,
            alive.due_now,
            alive.due_within_hour,
            alive.due_within_day
        ),
        (2, 0, 1, 2)
    );
    assert_eq!((alive.visited_last_day, alive.visited_last_week), (1, 2));
    assert_eq!(alive.never_visited, 0);
    assert_eq!((new.servers, new.due_now, new.never_visited), (2, 2, 2));
    assert_eq!(new.visited_last_week, 0);
    assert_eq!(
        alive.leased + new.leased,
        1,
        "the one lease is counted once"
    );
    Ok(())
}

async fn a_crawl_request_waits_until_a_pass_starts_and_is_seen_only_by_daemons_that_did_not_pass_since(
    s: Storage,
) -> anyhow::Result<()> {
    let t0 = day(11, 1);
    let version0 = s.data_version().await?;
    assert_eq!(s.crawl_requested_since(t0).await?, None);

    let (first, new) = s.request_crawl(t0 + Duration::minutes(1), "admin").await?;
    assert!(new);
    assert_eq!(first.requested_by, "admin");
    assert_eq!(first.started_at, None);
    let version1 = s.data_version().await?;
    assert_ne!(version0, version1, "a request changes the data version");

    // Asking again while it waits is the same request.
    let (again, new) = s.request_crawl(t0 + Duration::minutes(2), "other").await?;
    assert!(!new);
    assert_eq!(again, first);
    assert_eq!(s.data_version().await?, version1);

    // A daemon whose last pass began before the request sees it; one that began after does not.
    assert_eq!(s.crawl_requested_since(t0).await?, Some(first.clone()));
    assert_eq!(
        s.crawl_requested_since(t0 + Duration::minutes(1)).await?,
        None
    );

    // The first pass to start marks it, once; a second worker's pass marks nothing.
    let started = t0 + Duration::minutes(3);
    assert_eq!(s.start_crawl_requests(started, "worker-a").await?, 1);
    assert_eq!(s.start_crawl_requests(started, "worker-b").await?, 0);
    let listed = s.crawl_requests(10).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].started_at, Some(started));
    assert_eq!(listed[0].started_by.as_deref(), Some("worker-a"));
    assert_ne!(s.data_version().await?, version1, "a start changes it too");

    // A pass that began before a request does not take it.
    let (second, new) = s.request_crawl(t0 + Duration::minutes(10), "admin").await?;
    assert!(new);
    assert_ne!(second.id, first.id);
    assert_eq!(
        s.start_crawl_requests(t0 + Duration::minutes(5), "worker-a")
            .await?,
        0
    );
    assert_eq!(
        s.crawl_requested_since(started).await?.map(|r| r.id),
        Some(second.id)
    );
    let listed = s.crawl_requests(10).await?;
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "newest first"
    );
    assert_eq!(s.crawl_requests(1).await?.len(), 1);

    // They move with the tables.
    let dir = crate::transfer::temp_dir("crawl_requests");
    s.export_tables(&dir).await?;
    let target = crate::transfer::fresh_sqlite(&dir.join("target")).await?;
    target.import_tables(&dir).await?;
    assert_eq!(target.crawl_requests(10).await?, listed);
    target.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
