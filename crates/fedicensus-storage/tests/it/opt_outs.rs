//! Servers that answer but refuse to be read (a robots.txt that forbids fedicensus), and visits
//! the crawler itself could not judge (`inconclusive`): how each enters statuses, series,
//! snapshots and exports (docs/METHODOLOGY.md, methodology version 3).

use crate::support::*;
use chrono::{DateTime, Utc};
use fedicensus_core::{Observation, Outcome, Software};
use fedicensus_storage::{Export, Granularity, SeriesMetric, SeriesQuery, ServerStatus, Storage};

crate::conformance!(
    a_server_whose_robots_txt_refuses_us_is_up_and_never_dies,
    figures_are_not_carried_past_a_robots_opt_out,
    a_robots_opted_out_server_is_never_listed_by_name,
    a_server_that_stops_answering_after_an_opt_out_dies_at_its_last_answer,
    an_inconclusive_visit_changes_no_status_and_is_not_a_try,
    the_bulk_path_and_one_by_one_agree_on_opt_outs_and_inconclusive_visits,
    servers_left_unnamed_are_counted_by_why,
);

fn refused(name: &str, at: DateTime<Utc>) -> Observation {
    Observation::failed(host(name), at, Outcome::RobotsDisallowed, 40)
}

fn inconclusive(name: &str, at: DateTime<Utc>) -> Observation {
    Observation::failed(host(name), at, Outcome::Inconclusive, 15_000)
}

/// a.example answers every day of November; o.example answers until 10 November, then its
/// robots.txt forbids fedicensus (read daily until the 30th).
async fn one_server_opts_out(s: &Storage) -> anyhow::Result<()> {
    for at in days(day(11, 1), day(11, 30)) {
        s.record_observation(
            &ok("a.example", at, Software::Mastodon, 100, Some(40)),
            None,
        )
        .await?;
        if at <= day(11, 10) {
            s.record_observation(&ok("o.example", at, Software::Takahe, 7, Some(3)), None)
                .await?;
        } else {
            s.record_observation(&refused("o.example", at), None)
                .await?;
        }
    }
    Ok(())
}

async fn a_server_whose_robots_txt_refuses_us_is_up_and_never_dies(
    s: Storage,
) -> anyhow::Result<()> {
    one_server_opts_out(&s).await?;
    let up = series(&s, SeriesMetric::ServersUp, (11, 5), (11, 30)).await?;
    assert!(
        values(&up).iter().all(|v| *v == Some(2.0)),
        "both servers up every day: {:?}",
        values(&up)
    );
    let died = series(&s, SeriesMetric::ServersDied, (11, 1), (11, 30)).await?;
    assert!(values(&died).iter().all(|v| *v == Some(0.0)));
    let history = s.server_history(&host("o.example")).await?;
    assert_eq!(history.status, ServerStatus::Alive);
    // Up in the whole census; a refusal names no software, so in Takahē's own series the
    // server is known (from its last successful visit) but not up.
    let mut query = SeriesQuery::new(
        SeriesMetric::ServersUp,
        Granularity::Day,
        date(11, 30),
        date(11, 30),
    );
    query.software = Some(Software::Takahe);
    let takahe = s.series(&query).await?;
    assert_eq!(values(&takahe), [Some(0.0)]);
    let snapshot = s.snapshot(date(11, 30)).await?;
    let o = snapshot
        .iter()
        .find(|r| r.host.as_str() == "o.example")
        .expect("o.example in the snapshot");
    assert!(o.up && o.robots_opted_out);
    assert_eq!(o.status, ServerStatus::Alive);
    Ok(())
}

async fn figures_are_not_carried_past_a_robots_opt_out(s: Storage) -> anyhow::Result<()> {
    one_server_opts_out(&s).await?;
    let users = series(&s, SeriesMetric::UsersTotal, (11, 10), (11, 12)).await?;
    // Until the opt-out both servers report (100 + 7); after it only a.example does, though
    // o.example's last figure is well inside the 30-day carry-forward window.
    assert_eq!(values(&users), [Some(107.0), Some(100.0), Some(100.0)]);
    assert_eq!(
        users
            .points
            .iter()
            .map(|p| p.servers_reporting)
            .collect::<Vec<_>>(),
        [2, 1, 1]
    );
    let snapshot = s.snapshot(date(11, 12)).await?;
    let o = snapshot
        .iter()
        .find(|r| r.host.as_str() == "o.example")
        .expect("o.example in the snapshot");
    assert_eq!(o.users_total, None);
    // A week granularity (computed from observations, not the daily rollup) agrees.
    let weekly = s
        .series(&SeriesQuery::new(
            SeriesMetric::UsersActiveMonth,
            Granularity::Week,
            date(11, 14),
            date(11, 20),
        ))
        .await?;
    assert_eq!(values(&weekly), [Some(40.0)]);
    Ok(())
}

async fn a_robots_opted_out_server_is_never_listed_by_name(s: Storage) -> anyhow::Result<()> {
    one_server_opts_out(&s).await?;
    // Not even on a date before its opt-out: the operator's wish is about being named at all.
    for d in [date(11, 5), date(11, 20)] {
        let snapshot = s.snapshot(d).await?;
        let o = snapshot
            .iter()
            .find(|r| r.host.as_str() == "o.example")
            .expect("counted in the snapshot");
        assert!(!o.listable, "{d}");
    }
    for what in [
        Export::Snapshot(date(11, 5)),
        Export::Observations {
            from: date(11, 1),
            to: date(11, 30),
        },
    ] {
        let mut buffer = Vec::new();
        s.export_csv(&what, &mut buffer).await?;
        let text = String::from_utf8(buffer)?;
        assert!(text.contains("a.example"));
        assert!(!text.contains("o.example"), "{text}");
    }
    let history = s.server_history(&host("o.example")).await?;
    assert!(!history.listable);
    // When it lets us read it again, it is listed again.
    s.record_observation(
        &ok("o.example", day(12, 1), Software::Takahe, 8, Some(3)),
        None,
    )
    .await?;
    let snapshot = s.snapshot(date(12, 1)).await?;
    let o = snapshot
        .iter()
        .find(|r| r.host.as_str() == "o.example")
        .expect("counted");
    assert!(o.listable && !o.robots_opted_out);
    assert_eq!(o.users_total, Some(8));
    Ok(())
}

async fn a_server_that_stops_answering_after_an_opt_out_dies_at_its_last_answer(
    s: Storage,
) -> anyhow::Result<()> {
    for at in days(day(11, 1), day(11, 30)) {
        s.record_observation(
            &ok("a.example", at, Software::Mastodon, 100, Some(40)),
            None,
        )
        .await?;
        let visit = if at <= day(11, 10) {
            refused("o.example", at)
        } else {
            failed("o.example", at)
        };
        s.record_observation(&visit, None).await?;
    }
    let died = series(&s, SeriesMetric::ServersDied, (11, 9), (11, 11)).await?;
    assert_eq!(values(&died), [Some(0.0), Some(1.0), Some(0.0)]);
    let history = s.server_history(&host("o.example")).await?;
    assert_eq!(history.status, ServerStatus::Dead);
    // Unreachable, not dead, 13 days after its last answer.
    let snapshot = s.snapshot(date(11, 23)).await?;
    let o = snapshot
        .iter()
        .find(|r| r.host.as_str() == "o.example")
        .expect("counted");
    assert_eq!(o.status, ServerStatus::Unreachable);
    Ok(())
}

async fn an_inconclusive_visit_changes_no_status_and_is_not_a_try(
    s: Storage,
) -> anyhow::Result<()> {
    for at in days(day(11, 1), day(11, 30)) {
        s.record_observation(
            &ok("a.example", at, Software::Mastodon, 100, Some(40)),
            None,
        )
        .await?;
        let visit = if at <= day(11, 10) {
            ok("b.example", at, Software::Mastodon, 50, Some(10))
        } else {
            inconclusive("b.example", at)
        };
        s.record_observation(&visit, None).await?;
    }
    let history = s.server_history(&host("b.example")).await?;
    assert_eq!(
        history.status,
        ServerStatus::Alive,
        "nothing said otherwise"
    );
    // Twenty days without a conclusive visit: not dead (never tried), and not up either (no
    // answer in the last 7 days), exactly as if the crawler had not looked.
    let died = series(&s, SeriesMetric::ServersDied, (11, 1), (11, 30)).await?;
    assert!(values(&died).iter().all(|v| *v == Some(0.0)));
    let up = series(&s, SeriesMetric::ServersUp, (11, 16), (11, 17)).await?;
    assert_eq!(values(&up), [Some(2.0), Some(1.0)]);
    let snapshot = s.snapshot(date(11, 30)).await?;
    let b = snapshot
        .iter()
        .find(|r| r.host.as_str() == "b.example")
        .expect("counted");
    assert_eq!(b.status, ServerStatus::Alive);
    assert_eq!(b.last_observed_at, Some(day(11, 10)));
    Ok(())
}

async fn the_bulk_path_and_one_by_one_agree_on_opt_outs_and_inconclusive_visits(
    s: Storage,
) -> anyhow::Result<()> {
    // The same visits under two names each: ".seq" recorded one by one, ".bulk" in batches.
    let visits = |suffix: &str| {
        let mut visits = Vec::new();
        for at in days(day(11, 1), day(11, 30)) {
            visits.push(if at <= day(11, 10) {
                ok(&format!("o.{suffix}"), at, Software::Takahe, 7, Some(3))
            } else {
                refused(&format!("o.{suffix}"), at)
            });
            let i = format!("i.{suffix}");
            visits.push(if at <= day(11, 5) {
                refused(&i, at)
            } else if at <= day(11, 20) {
                inconclusive(&i, at)
            } else {
                failed(&i, at)
            });
        }
        visits
    };
    for visit in visits("seq") {
        s.record_observation(&visit, None).await?;
    }
    let bulk = visits("bulk");
    for batch in bulk.chunks(7) {
        s.ingest_bulk(batch, None).await?;
    }
    let due = s.due_hosts(day(12, 31), 100).await?;
    let state = |name: String| {
        due.iter().find(|d| d.host.as_str() == name).map(|d| {
            (
                d.next_due,
                d.status,
                d.consecutive_failures,
                d.last_outcome.clone(),
                d.last_success_at,
                d.last_answered_at,
            )
        })
    };
    for name in ["o", "i"] {
        let one = s.server_history(&host(&format!("{name}.seq"))).await?;
        let many = s.server_history(&host(&format!("{name}.bulk"))).await?;
        assert_eq!(one.status, many.status, "{name}");
        let outcomes = |h: &fedicensus_storage::ServerHistory| {
            h.observations
                .iter()
                .map(|o| (o.observed_at, o.outcome.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(outcomes(&one), outcomes(&many), "{name}");
        assert_eq!(
            state(format!("{name}.seq")),
            state(format!("{name}.bulk")),
            "{name}'s schedule"
        );
    }
    let i = s.server_history(&host("i.seq")).await?;
    assert_eq!(
        i.status,
        ServerStatus::Dead,
        "last answer 5 November, tried on the 30th"
    );
    Ok(())
}

async fn servers_left_unnamed_are_counted_by_why(s: Storage) -> anyhow::Result<()> {
    one_server_opts_out(&s).await?;
    let unlisted = s.unlisted().await?;
    assert_eq!(
        (unlisted.robots_opted_out, unlisted.operator_opted_out),
        (1, 0)
    );
    s.set_status(&host("a.example"), ServerStatus::OptedOut, None)
        .await?;
    let unlisted = s.unlisted().await?;
    assert_eq!(
        (unlisted.robots_opted_out, unlisted.operator_opted_out),
        (1, 1)
    );
    // A manifest carries the counts.
    let manifest =
        fedicensus_storage::Manifest::new(day(12, 1), [], Vec::new()).with_unlisted(unlisted);
    assert!(manifest.to_json().contains("\"robots_opted_out\": 1"));
    Ok(())
}
