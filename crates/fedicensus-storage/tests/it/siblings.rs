//! Servers of one installation (Takahē serves several local domains, each linking its NodeInfo to
//! the main one): each is a server of its own, and the relation is kept and shown, never merged
//! (migration 0030).

use crate::support::*;
use fedicensus_core::{Observation, Software};
use fedicensus_storage::{SeriesMetric, ServerStatus, Storage};

crate::conformance!(
    a_domain_whose_nodeinfo_names_another_is_its_sibling_not_its_alias,
    the_bulk_path_records_siblings_as_one_by_one_does,
    an_opted_out_sibling_is_not_named,
);

/// A visit of `name` whose NodeInfo link named `main`'s document, read on `name` itself.
fn linked_to(name: &str, main: &str, month: u32, d: u32) -> Observation {
    let mut obs = ok(name, day(month, d), Software::Takahe, 3, Some(2));
    obs.nodeinfo_elsewhere = Some(host(main));
    obs
}

/// Main `t.{suffix}` and its second domain `two.{suffix}`, visited daily from 1 to 20 November.
fn installation(suffix: &str) -> Vec<Observation> {
    let main = format!("t.{suffix}");
    let two = format!("two.{suffix}");
    let mut visits = Vec::new();
    for d in 1..=20 {
        visits.push(ok(&main, day(11, d), Software::Takahe, 40, Some(12)));
        visits.push(linked_to(&two, &main, 11, d));
    }
    visits
}

async fn a_domain_whose_nodeinfo_names_another_is_its_sibling_not_its_alias(
    s: Storage,
) -> anyhow::Result<()> {
    for visit in installation("example") {
        s.record_observation(&visit, None).await?;
    }
    let two = s.server_history(&host("two.example")).await?;
    assert_eq!(two.status, ServerStatus::Alive);
    assert!(
        two.aliases.is_empty(),
        "a sibling is no alias: {:?}",
        two.aliases
    );
    assert_eq!(two.siblings.len(), 1, "{:?}", two.siblings);
    let main = &two.siblings[0];
    assert_eq!(main.domain, "t.example");
    assert!(main.is_main);
    assert_eq!((main.first_seen, main.last_seen), (day(11, 1), day(11, 20)));

    let t = s.server_history(&host("t.example")).await?;
    assert_eq!(t.siblings.len(), 1, "{:?}", t.siblings);
    assert_eq!(t.siblings[0].domain, "two.example");
    assert!(!t.siblings[0].is_main);

    // Both count, each with its own figures.
    let up = series(&s, SeriesMetric::ServersUp, (11, 10), (11, 10)).await?;
    assert_eq!(values(&up), vec![Some(2.0)]);
    let users = series(&s, SeriesMetric::UsersTotal, (11, 10), (11, 10)).await?;
    assert_eq!(values(&users), vec![Some(43.0)]);
    Ok(())
}

async fn the_bulk_path_records_siblings_as_one_by_one_does(s: Storage) -> anyhow::Result<()> {
    for visit in installation("seq") {
        s.record_observation(&visit, None).await?;
    }
    for batch in installation("bulk").chunks(7) {
        s.ingest_bulk(batch, None).await?;
    }
    for (name, main) in [("two.seq", "t.seq"), ("two.bulk", "t.bulk")] {
        let h = s.server_history(&host(name)).await?;
        let got: Vec<_> = h
            .siblings
            .iter()
            .map(|x| (x.domain.as_str(), x.is_main, x.first_seen, x.last_seen))
            .collect();
        assert_eq!(got, vec![(main, true, day(11, 1), day(11, 20))], "{name}");
    }
    Ok(())
}

async fn an_opted_out_sibling_is_not_named(s: Storage) -> anyhow::Result<()> {
    for visit in installation("example") {
        s.record_observation(&visit, None).await?;
    }
    // The second domain's robots.txt now refuses fedicensus: it is not named, even as a sibling.
    s.record_observation(
        &Observation::failed(
            host("two.example"),
            day(11, 21),
            fedicensus_core::Outcome::RobotsDisallowed,
            40,
        ),
        None,
    )
    .await?;
    let t = s.server_history(&host("t.example")).await?;
    assert!(t.siblings.is_empty(), "{:?}", t.siblings);
    Ok(())
}
