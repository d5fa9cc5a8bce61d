//! One party cannot inflate the census: many large claims under one registrable domain, a claim
//! far beyond the rest of the census and a peer list of invented names are kept out of the
//! cleaned figures and of `servers_known`, whether visits are recorded one by one or in bulk.

use crate::support::*;
use chrono::Duration;
use fedicensus_core::{Observation, Software};
use fedicensus_storage::{QualityKind, RunId, RunStart, SeriesMetric, SeriesQuery, Storage};

crate::conformance!(
    many_large_claims_under_one_domain_are_flagged_and_left_out_of_cleaned_users,
    many_large_claims_under_one_domain_are_flagged_when_recorded_in_bulk,
    a_claim_far_beyond_the_census_is_flagged_and_mastodon_social_is_not,
    invented_peer_names_are_mentioned_but_not_known,
    a_later_run_never_flags_an_earlier_runs_claims,
);

async fn run(s: &Storage, at: chrono::DateTime<chrono::Utc>) -> anyhow::Result<RunId> {
    Ok(s.start_run(&RunStart {
        started_at: at,
        crawler_version: "0.1.0".into(),
        config_hash: "test".into(),
        seeds: vec![host("mastodon.social")],
    })
    .await?)
}

/// 150 ordinary servers of 10,000 users, mastodon.social with 2 million, a family of 30 small
/// sibling servers under `family.example`, and 24 subdomains of `inflate.example` each claiming
/// 30 million users, all visited on 1 November.
fn world() -> Vec<Observation> {
    let at = day(11, 1);
    let mut visits = Vec::new();
    visits.push(ok(
        "mastodon.social",
        at,
        Software::Mastodon,
        2_000_000,
        Some(250_000),
    ));
    for i in 0..150 {
        visits.push(ok(
            &format!("server{i}.example"),
            at + Duration::seconds(i),
            Software::Mastodon,
            10_000,
            Some(1_000),
        ));
    }
    for i in 0..30 {
        visits.push(ok(
            &format!("s{i}.family.example"),
            at + Duration::seconds(i),
            Software::Mastodon,
            120,
            Some(20),
        ));
    }
    for i in 0..24 {
        visits.push(ok(
            &format!("fake{i}.inflate.example"),
            at + Duration::minutes(10) + Duration::seconds(i),
            Software::Mastodon,
            30_000_000,
            Some(10_000_000),
        ));
    }
    visits
}

/// What the census holds on 1 November: honest users are 2,000,000 + 150 × 10,000 + 30 × 120.
const HONEST_USERS: f64 = 2_000_000.0 + 1_500_000.0 + 3_600.0;

async fn assert_inflation_left_out(s: &Storage) -> anyhow::Result<()> {
    for i in 0..24 {
        let history = s
            .server_history(&host(&format!("fake{i}.inflate.example")))
            .await?;
        let flags = &history.observations[0].quality_flags;
        assert!(
            flags.iter().any(
                |(kind, metric, _)| kind == QualityKind::SiblingClaims.as_str() && metric == "*"
            ),
            "fake{i}: {flags:?}"
        );
    }
    for name in ["mastodon.social", "s3.family.example", "server7.example"] {
        let history = s.server_history(&host(name)).await?;
        assert_eq!(history.observations[0].quality_flags, [], "{name}");
    }
    let mut query = SeriesQuery::new(
        SeriesMetric::UsersTotal,
        fedicensus_storage::Granularity::Day,
        date(11, 1),
        date(11, 1),
    );
    query.cleaned = true;
    let cleaned = s.series(&query).await?;
    assert_eq!(values(&cleaned), [Some(HONEST_USERS)]);
    assert_eq!(cleaned.points[0].flagged, 24);
    // The raw series keeps what was claimed, with the claims counted as flagged.
    let raw = series(s, SeriesMetric::UsersTotal, (11, 1), (11, 1)).await?;
    assert_eq!(values(&raw), [Some(HONEST_USERS + 24.0 * 30_000_000.0)]);
    assert_eq!(raw.points[0].flagged, 24);
    Ok(())
}

async fn many_large_claims_under_one_domain_are_flagged_and_left_out_of_cleaned_users(
    s: Storage,
) -> anyhow::Result<()> {
    // One pass: the first siblings are flagged when the third arrives.
    let pass = run(&s, day(11, 1)).await?;
    for visit in world() {
        s.record_observation(&visit, Some(pass)).await?;
    }
    assert_inflation_left_out(&s).await
}

async fn many_large_claims_under_one_domain_are_flagged_when_recorded_in_bulk(
    s: Storage,
) -> anyhow::Result<()> {
    let visits = world();
    // Two batches: the siblings straddle them, so later ones flag earlier ones too.
    let (first, second) = visits.split_at(visits.len() - 12);
    let pass = run(&s, day(11, 1)).await?;
    s.ingest_bulk(first, Some(pass)).await?;
    let recorded = s.ingest_bulk(second, Some(pass)).await?;
    assert!(recorded
        .iter()
        .all(|r| r.flags.iter().any(|f| f.kind == QualityKind::SiblingClaims)));
    assert_inflation_left_out(&s).await
}

async fn a_claim_far_beyond_the_census_is_flagged_and_mastodon_social_is_not(
    s: Storage,
) -> anyhow::Result<()> {
    // Before the census knows the fediverse (the seeds' first visits), nothing is measured.
    let first = s
        .record_observation(
            &ok(
                "mastodon.social",
                day(10, 31),
                Software::Mastodon,
                2_000_000,
                None,
            ),
            None,
        )
        .await?;
    assert_eq!(first.flags, []);
    for visit in world()
        .into_iter()
        .filter(|v| !v.host.as_str().contains("inflate"))
    {
        s.record_observation(&visit, None).await?;
    }
    // A server of 500 users that suddenly claims 9 million: more than twice the rest of the
    // census together (3,503,600), though below the absolute ceiling.
    s.record_observation(
        &ok("jump.example", day(10, 15), Software::Mastodon, 500, None),
        None,
    )
    .await?;
    let jumped = s
        .record_observation(
            &ok(
                "jump.example",
                day(11, 1) + Duration::hours(2),
                Software::Mastodon,
                9_000_000,
                None,
            ),
            None,
        )
        .await?;
    let kinds: Vec<QualityKind> = jumped.flags.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&QualityKind::BeyondCensusTotal), "{kinds:?}");
    assert!(kinds.contains(&QualityKind::ImplausibleJump), "{kinds:?}");
    // It stays flagged on its next visit (no longer a jump from its own history).
    let again = s
        .record_observation(
            &ok(
                "jump.example",
                day(11, 1) + Duration::hours(8),
                Software::Mastodon,
                9_000_000,
                None,
            ),
            None,
        )
        .await?;
    let kinds: Vec<QualityKind> = again.flags.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [QualityKind::BeyondCensusTotal]);
    // mastodon.social, visited again now that the census knows 180 servers, is not flagged.
    let social = s
        .record_observation(
            &ok(
                "mastodon.social",
                day(11, 1) + Duration::hours(9),
                Software::Mastodon,
                2_000_100,
                None,
            ),
            None,
        )
        .await?;
    assert_eq!(social.flags, []);
    let mut query = SeriesQuery::new(
        SeriesMetric::UsersTotal,
        fedicensus_storage::Granularity::Day,
        date(11, 1),
        date(11, 1),
    );
    query.cleaned = true;
    let cleaned = s.series(&query).await?;
    // jump.example's last unflagged figure (500 users, 17 days old) is still in the window.
    assert_eq!(values(&cleaned), [Some(HONEST_USERS + 100.0 + 500.0)]);
    Ok(())
}

async fn invented_peer_names_are_mentioned_but_not_known(s: Storage) -> anyhow::Result<()> {
    let mut listing = ok("a.example", day(11, 1), Software::Mastodon, 100, None);
    let mut peers = vec![host("b.example"), host("c.example")];
    peers.extend((0..5_000).map(|i| host(&format!("x{i}.invented.example"))));
    listing.peers = Some(peers);
    s.record_observation(&listing, None).await?;
    s.record_observation(
        &ok("b.example", day(11, 2), Software::Mastodon, 10, None),
        None,
    )
    .await?;
    // c.example resolves but fails: it is confirmed (a server answered at its name).
    s.record_observation(&failed("c.example", day(11, 2)), None)
        .await?;
    // Two invented names visited: their names do not resolve.
    let mut missing = Vec::new();
    for i in 0..2 {
        missing.push(fedicensus_core::Observation::failed(
            host(&format!("x{i}.invented.example")),
            day(11, 2),
            fedicensus_core::Outcome::NoSuchDomain,
            5,
        ));
    }
    s.ingest_bulk(&missing, None).await?;
    let known = series(&s, SeriesMetric::ServersKnown, (11, 1), (11, 2)).await?;
    assert_eq!(values(&known), [Some(1.0), Some(3.0)]);
    let mentioned = series(&s, SeriesMetric::ServersMentioned, (11, 1), (11, 2)).await?;
    assert_eq!(values(&mentioned), [Some(5_003.0), Some(5_003.0)]);
    let up = series(&s, SeriesMetric::ServersUp, (11, 2), (11, 2)).await?;
    assert_eq!(up.points[0].servers_reporting, 3, "up of the known servers");
    Ok(())
}

async fn a_later_run_never_flags_an_earlier_runs_claims(s: Storage) -> anyhow::Result<()> {
    // Two large siblings in one pass: plausible (a main server and its twin).
    let first = run(&s, day(11, 1)).await?;
    for i in 0..2 {
        let visit = ok(
            &format!("fake{i}.inflate.example"),
            day(11, 1),
            Software::Mastodon,
            30_000,
            None,
        );
        assert_eq!(s.record_observation(&visit, Some(first)).await?.flags, []);
    }
    let before = series(&s, SeriesMetric::UsersTotal, (11, 1), (11, 1)).await?;
    // A third in the next pass is flagged; the first pass's claims stay as they were.
    let second = run(&s, day(11, 2)).await?;
    let third = ok(
        "fake2.inflate.example",
        day(11, 2),
        Software::Mastodon,
        30_000,
        None,
    );
    let kinds: Vec<QualityKind> = s
        .record_observation(&third, Some(second))
        .await?
        .flags
        .iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(kinds, [QualityKind::SiblingClaims]);
    for i in 0..2 {
        let history = s
            .server_history(&host(&format!("fake{i}.inflate.example")))
            .await?;
        assert_eq!(history.observations[0].quality_flags, [], "fake{i}");
    }
    assert_eq!(
        series(&s, SeriesMetric::UsersTotal, (11, 1), (11, 1)).await?,
        before
    );
    // Their next visits, in the second pass, are flagged.
    for i in 0..2 {
        let visit = ok(
            &format!("fake{i}.inflate.example"),
            day(11, 2) + Duration::hours(1),
            Software::Mastodon,
            30_000,
            None,
        );
        let flags = s.record_observation(&visit, Some(second)).await?.flags;
        assert!(
            flags.iter().any(|f| f.kind == QualityKind::SiblingClaims),
            "fake{i}"
        );
    }
    Ok(())
}
