//! The behaviour both backends must share.

use crate::support::*;
use chrono::Duration;
use fedicensus_core::{Metric, Outcome, Software};
use fedicensus_storage::{
    Export, Granularity, Manifest, QualityKind, RunStart, SeriesMetric, SeriesQuery, ServerStatus,
    Storage,
};
use std::collections::HashMap;

crate::conformance!(
    an_observations_export_read_in_pages_of_any_size_is_the_same_file,
    a_servers_history_export_holds_every_visit_with_each_number_by_source,
    a_private_server_stays_unlisted_when_its_latest_visit_failed,
    recording_the_same_observation_twice_stores_it_once,
    every_number_is_stored_with_its_source_and_run,
    a_server_that_dies_later_still_counts_on_earlier_dates,
    adding_a_later_death_never_changes_an_earlier_dates_totals,
    deaths_are_dated_at_the_last_success,
    every_point_says_how_many_servers_it_rests_on,
    a_figure_a_software_does_not_report_is_not_reported_rather_than_zero,
    weekly_activity_is_upserted_and_the_latest_report_wins,
    peer_edges_keep_when_a_peer_was_first_and_last_seen,
    a_snapshot_shows_each_server_as_it_stood_on_the_date,
    quality_flags_are_stored_and_cleaned_series_leave_flagged_values_out,
    seeds_are_due_at_once_and_a_visit_schedules_the_next,
    two_workers_never_lease_the_same_host,
    an_expired_lease_is_taken_over,
    a_worker_restarted_under_its_name_takes_its_own_leases_back,
    a_finished_run_counts_its_outcomes,
    the_built_in_annotations_are_there,
    exports_are_csv_with_a_manifest_and_leave_unlisted_servers_out,
    concentration_is_the_share_of_users_on_the_largest_servers,
    a_peer_list_of_twenty_thousand_names_is_recorded_in_one_visit,
    a_series_past_the_last_crawl_has_no_data_rather_than_zero_servers_up,
);

/// Two Mastodon servers: a.example answers every day of November; b.example answers until
/// 10 November, then never again (tried daily until the 30th).
async fn two_servers_one_dies(s: &Storage) -> anyhow::Result<()> {
    for at in days(day(11, 1), day(11, 30)) {
        s.record_observation(
            &ok("a.example", at, Software::Mastodon, 100, Some(40)),
            None,
        )
        .await?;
        if at <= day(11, 10) {
            s.record_observation(&ok("b.example", at, Software::Mastodon, 50, Some(10)), None)
                .await?;
        } else {
            s.record_observation(&failed("b.example", at), None).await?;
        }
    }
    Ok(())
}

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

    let history = s.server_history(&host("a.example")).await?;
    assert_eq!(history.observations.len(), 1);
    assert_eq!(history.observations[0].measurements.len(), 3);
    assert_eq!(history.activity.len(), 1);
    assert_eq!(s.peers_of(&host("a.example")).await?.len(), 2);
    // Two peers named, never visited: mentioned, not known.
    let known = series(&s, SeriesMetric::ServersKnown, (11, 1), (11, 1)).await?;
    assert_eq!(values(&known), [Some(1.0)]);
    let mentioned = series(&s, SeriesMetric::ServersMentioned, (11, 1), (11, 1)).await?;
    assert_eq!(values(&mentioned), [Some(3.0)]);
    Ok(())
}

async fn every_number_is_stored_with_its_source_and_run(s: Storage) -> anyhow::Result<()> {
    let run = s
        .start_run(&RunStart {
            started_at: day(11, 1),
            crawler_version: "0.1.0".into(),
            config_hash: "abc".into(),
            seeds: vec![host("a.example")],
        })
        .await?;
    let mut o = ok("a.example", day(11, 1), Software::Mastodon, 100, None);
    o.measurements.push(fedicensus_core::Measurement {
        metric: Metric::UsersActiveMonth,
        source: fedicensus_core::Source::InstanceV2,
        value: 33,
    });
    s.record_observation(&o, Some(run)).await?;
    let stored = &s.server_history(&host("a.example")).await?.observations[0];
    assert_eq!(stored.crawl_run, Some(run.0));
    assert_eq!(
        stored.users_active_month,
        Some(33),
        "the instance API's MAU"
    );
    assert!(stored
        .measurements
        .contains(&("users_active_month".into(), "instance_v2".into(), 33)));
    assert_eq!(stored.software_family.as_deref(), Some("mastodon"));
    assert_eq!(stored.observed_at, day(11, 1));
    Ok(())
}

async fn an_observations_export_read_in_pages_of_any_size_is_the_same_file(
    s: Storage,
) -> anyhow::Result<()> {
    // Five servers visited at the same instants (ties broken by domain), one of them private,
    // visits on both sides of the range, a failed visit among them.
    for (i, name) in [
        "e.example",
        "a.example",
        "c.example",
        "p.example",
        "b.example",
    ]
    .iter()
    .enumerate()
    {
        for d in [10, 11, 12, 13] {
            let mut o = ok(name, day(11, d), Software::Mastodon, 10 + i as u64, Some(3));
            o.flags.private = *name == "p.example";
            s.record_observation(&o, None).await?;
        }
        s.record_observation(&failed(name, day(11, 11) + Duration::hours(3)), None)
            .await?;
    }
    let what = Export::Observations {
        from: date(11, 11),
        to: date(11, 12),
    };
    let mut whole = Vec::new();
    let file = s.export_csv(&what, &mut whole).await?;
    // 4 listable servers × (2 days + 1 failed visit).
    assert_eq!(file.rows, 12);
    let text = String::from_utf8(whole.clone())?;
    let domains: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        domains[..4],
        ["a.example", "b.example", "c.example", "e.example"],
        "time, then domain: {text}"
    );
    for rows in [1, 2, 3, 5, 11, 12, 13] {
        let mut paged = Vec::new();
        let again = s.export_csv_in_pages(&what, rows, &mut paged).await?;
        assert_eq!(
            String::from_utf8(paged)?,
            text,
            "pages of {rows} rows give the same file"
        );
        assert_eq!(again, file);
    }
    Ok(())
}

async fn a_servers_history_export_holds_every_visit_with_each_number_by_source(
    s: Storage,
) -> anyhow::Result<()> {
    let mut first = ok("a.example", day(11, 1), Software::Mastodon, 100, Some(40));
    first.measurements.push(fedicensus_core::Measurement {
        metric: Metric::UsersTotal,
        source: fedicensus_core::Source::InstanceV1,
        value: 101,
    });
    s.record_observation(&first, None).await?;
    s.record_observation(&failed("a.example", day(11, 2)), None)
        .await?;
    // More monthly actives than users: flagged.
    let flagged = ok("a.example", day(11, 3), Software::Mastodon, 100, Some(500));
    s.record_observation(&flagged, None).await?;
    let mut private = ok("p.example", day(11, 1), Software::Pleroma, 1, Some(1));
    private.flags.private = true;
    s.record_observation(&private, None).await?;

    let what = Export::ServerHistory(host("a.example"));
    assert_eq!(what.file_name(), "server-a.example.csv");
    assert_eq!(what.range(), None);
    let mut buffer = Vec::new();
    let file = s.export_csv(&what, &mut buffer).await?;
    assert_eq!(file.rows, 3, "every visit, the failed one too");
    let text = String::from_utf8(buffer)?;
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = csv.headers()?.iter().map(str::to_owned).collect();
    assert_eq!(header, what.column_names());
    let rows: Vec<HashMap<String, String>> = csv
        .records()
        .map(|r| {
            r.map(|r| {
                header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_owned))
                    .collect()
            })
        })
        .collect::<Result<_, _>>()?;
    assert_eq!(rows[0]["observed_at"], "2022-11-01T12:00:00Z");
    assert_eq!(rows[0]["outcome"], "ok");
    assert_eq!(
        rows[0]["measurements"],
        "local_posts/nodeinfo=1000 users_active_month/nodeinfo=40 users_total/instance_v1=101 \
         users_total/nodeinfo=100"
    );
    assert_eq!(rows[0]["quality_flags"], "");
    assert_eq!(rows[0]["private"], "false");
    assert_eq!(rows[1]["outcome"], "timeout");
    assert_eq!(rows[1]["users_total"], "", "a failed visit reports nothing");
    assert_eq!(rows[1]["measurements"], "");
    assert!(
        rows[2]["quality_flags"].starts_with("active_exceeds_total/users_active_month: "),
        "{:?}",
        rows[2]["quality_flags"]
    );
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r["observation_id"].parse())
        .collect::<Result<_, _>>()?;
    let history = s.server_history(&host("a.example")).await?;
    let stored: Vec<i64> = history.observations.iter().map(|o| o.id).collect();
    assert_eq!(
        ids, stored,
        "the ids that trace each row to its observation"
    );

    let mut buffer = Vec::new();
    let refused = s
        .export_csv(&Export::ServerHistory(host("p.example")), &mut buffer)
        .await;
    assert!(
        matches!(&refused, Err(fedicensus_storage::Error::InvalidQuery(m)) if m.contains("not to be listed")),
        "a private server is not exported on its own: {refused:?}"
    );
    let unknown = s
        .export_csv(
            &Export::ServerHistory(host("nobody.example")),
            &mut Vec::new(),
        )
        .await;
    assert!(matches!(
        unknown,
        Err(fedicensus_storage::Error::UnknownServer { .. })
    ));
    Ok(())
}

async fn a_private_server_stays_unlisted_when_its_latest_visit_failed(
    s: Storage,
) -> anyhow::Result<()> {
    // A failed visit reports no privacy flag: it must not make a private server listable.
    let mut private = ok("p.example", day(11, 1), Software::Pleroma, 1, Some(1));
    private.flags.private = true;
    s.record_observation(&private, None).await?;
    s.record_observation(&failed("p.example", day(11, 2)), None)
        .await?;
    s.record_observation(
        &ok("a.example", day(11, 1), Software::Mastodon, 5, None),
        None,
    )
    .await?;
    let mut observations = Vec::new();
    let file = s
        .export_csv(
            &Export::Observations {
                from: date(11, 1),
                to: date(11, 3),
            },
            &mut observations,
        )
        .await?;
    let text = String::from_utf8(observations)?;
    assert_eq!(file.rows, 1, "{text}");
    assert!(!text.contains("p.example"), "{text}");
    let snapshot = s.snapshot(date(11, 3)).await?;
    let p = snapshot
        .iter()
        .find(|r| r.host.as_str() == "p.example")
        .expect("p counts in the snapshot");
    assert!(!p.listable, "the snapshot agrees");
    let history = s.server_history(&host("p.example")).await?;
    assert!(!history.listable);
    Ok(())
}

async fn a_server_that_dies_later_still_counts_on_earlier_dates(s: Storage) -> anyhow::Result<()> {
    two_servers_one_dies(&s).await?;
    let users = series(&s, SeriesMetric::UsersTotal, (11, 5), (11, 5)).await?;
    assert_eq!(values(&users), [Some(150.0)]);
    let up = series(&s, SeriesMetric::ServersUp, (11, 5), (11, 5)).await?;
    assert_eq!(values(&up), [Some(2.0)]);
    // Up means answered within 7 days: b.example last answered on the 10th.
    let up = series(&s, SeriesMetric::ServersUp, (11, 16), (11, 18)).await?;
    assert_eq!(values(&up), [Some(2.0), Some(1.0), Some(1.0)]);
    // Figures are carried forward 30 days from the last success (while the crawl goes on:
    // a series ends with the last crawled day).
    for at in days(day(12, 1), day(12, 11)) {
        s.record_observation(
            &ok("a.example", at, Software::Mastodon, 100, Some(40)),
            None,
        )
        .await?;
    }
    let users = series(&s, SeriesMetric::UsersTotal, (12, 9), (12, 11)).await?;
    assert_eq!(
        users
            .points
            .iter()
            .map(|p| p.servers_reporting)
            .collect::<Vec<_>>(),
        [2, 1, 1]
    );
    Ok(())
}

async fn adding_a_later_death_never_changes_an_earlier_dates_totals(
    s: Storage,
) -> anyhow::Result<()> {
    for at in days(day(11, 1), day(11, 10)) {
        s.record_observation(
            &ok("a.example", at, Software::Mastodon, 100, Some(40)),
            None,
        )
        .await?;
        s.record_observation(&ok("b.example", at, Software::Mastodon, 50, Some(10)), None)
            .await?;
    }
    let mut before = Vec::new();
    for metric in SeriesMetric::ALL {
        let q = SeriesQuery::new(metric, Granularity::Week, date(10, 31), date(11, 6));
        before.push(s.series(&q).await?);
    }
    for at in days(day(11, 11), day(12, 15)) {
        s.record_observation(&failed("b.example", at), None).await?;
    }
    for (metric, earlier) in SeriesMetric::ALL.into_iter().zip(before) {
        let q = SeriesQuery::new(metric, Granularity::Week, date(10, 31), date(11, 6));
        let later = s.series(&q).await?;
        assert_eq!(later.points, earlier.points, "{}", metric.as_str());
    }
    Ok(())
}

async fn deaths_are_dated_at_the_last_success(s: Storage) -> anyhow::Result<()> {
    two_servers_one_dies(&s).await?;
    let died = series(&s, SeriesMetric::ServersDied, (11, 9), (11, 11)).await?;
    assert_eq!(values(&died), [Some(0.0), Some(1.0), Some(0.0)]);
    let history = s.server_history(&host("b.example")).await?;
    assert_eq!(history.status, ServerStatus::Dead);
    let new = series(&s, SeriesMetric::ServersNew, (11, 1), (11, 2)).await?;
    assert_eq!(values(&new), [Some(2.0), Some(0.0)]);
    Ok(())
}

async fn every_point_says_how_many_servers_it_rests_on(s: Storage) -> anyhow::Result<()> {
    s.add_seeds(&[host("c.example")], day(11, 1)).await?;
    s.record_observation(
        &ok("a.example", day(11, 1), Software::Mastodon, 100, Some(40)),
        None,
    )
    .await?;
    s.record_observation(
        &ok("b.example", day(11, 2), Software::Pleroma, 7, None),
        None,
    )
    .await?;
    let users = series(&s, SeriesMetric::UsersTotal, (11, 1), (11, 2)).await?;
    let reporting: Vec<u64> = users.points.iter().map(|p| p.servers_reporting).collect();
    assert_eq!(reporting, [1, 2]);
    assert_eq!(values(&users), [Some(100.0), Some(107.0)]);
    // The seed c.example is never visited: mentioned (a seed is a name), not known.
    let known = series(&s, SeriesMetric::ServersKnown, (11, 1), (11, 2)).await?;
    assert_eq!(values(&known), [Some(1.0), Some(2.0)]);
    let mentioned = series(&s, SeriesMetric::ServersMentioned, (11, 1), (11, 2)).await?;
    assert_eq!(values(&mentioned), [Some(2.0), Some(3.0)]);
    let up = series(&s, SeriesMetric::ServersUp, (11, 2), (11, 2)).await?;
    assert_eq!(up.points[0].servers_reporting, 2, "up of the known servers");
    let mut by_family = SeriesQuery::new(
        SeriesMetric::UsersTotal,
        Granularity::Day,
        date(11, 2),
        date(11, 2),
    );
    by_family.software = Some(Software::Pleroma);
    let pleroma = s.series(&by_family).await?;
    assert_eq!(pleroma.points[0].value, Some(7.0));
    assert_eq!(pleroma.points[0].servers_reporting, 1);
    Ok(())
}

async fn a_figure_a_software_does_not_report_is_not_reported_rather_than_zero(
    s: Storage,
) -> anyhow::Result<()> {
    // Misskey reports no monthly actives.
    s.record_observation(
        &ok("m.example", day(11, 1), Software::Misskey, 300, None),
        None,
    )
    .await?;
    let mau = series(&s, SeriesMetric::UsersActiveMonth, (11, 1), (11, 1)).await?;
    assert_eq!(mau.points[0].value, None);
    assert_eq!(mau.points[0].servers_reporting, 0);
    s.record_observation(
        &ok("a.example", day(11, 1), Software::Mastodon, 100, Some(40)),
        None,
    )
    .await?;
    let mau = series(&s, SeriesMetric::UsersActiveMonth, (11, 1), (11, 1)).await?;
    assert_eq!(mau.points[0].value, Some(40.0));
    assert_eq!(mau.points[0].servers_reporting, 1, "Misskey is not a zero");
    let snapshot = s.snapshot(date(11, 1)).await?;
    let misskey = snapshot
        .iter()
        .find(|r| r.host == host("m.example"))
        .expect("m.example is in the snapshot");
    assert_eq!(misskey.users_active_month, None);
    assert_eq!(misskey.users_total, Some(300));
    Ok(())
}

async fn weekly_activity_is_upserted_and_the_latest_report_wins(s: Storage) -> anyhow::Result<()> {
    let monday = day(10, 31) - Duration::hours(12);
    let mut o = ok("a.example", day(11, 1), Software::Mastodon, 100, Some(40));
    o.activity = vec![week(monday, 5, 40)];
    s.record_observation(&o, None).await?;
    let mut later = ok("a.example", day(11, 4), Software::Mastodon, 110, Some(42));
    later.activity = vec![week(monday, 8, 60)];
    s.record_observation(&later, None).await?;
    // A replayed older report does not overwrite the newer one.
    let mut replay = ok("a.example", day(11, 2), Software::Mastodon, 105, Some(41));
    replay.activity = vec![week(monday, 6, 50)];
    s.record_observation(&replay, None).await?;

    let history = s.server_history(&host("a.example")).await?;
    assert_eq!(history.activity.len(), 1);
    assert_eq!(history.activity[0].registrations, 8);
    let q = SeriesQuery::new(
        SeriesMetric::WeeklyRegistrations,
        Granularity::Week,
        date(10, 31),
        date(11, 6),
    );
    let registrations = s.series(&q).await?;
    assert_eq!(registrations.points[0].value, Some(8.0));
    assert_eq!(registrations.points[0].servers_reporting, 1);
    let day_q = SeriesQuery::new(
        SeriesMetric::WeeklyLogins,
        Granularity::Day,
        date(10, 31),
        date(11, 6),
    );
    assert!(s.series(&day_q).await.is_err(), "activity is weekly");
    Ok(())
}

async fn peer_edges_keep_when_a_peer_was_first_and_last_seen(s: Storage) -> anyhow::Result<()> {
    for (at, peers) in [
        (day(11, 1), vec!["b.example", "c.example"]),
        (day(11, 5), vec!["b.example"]),
    ] {
        let mut o = ok("a.example", at, Software::Mastodon, 100, Some(40));
        o.peers = Some(peers.into_iter().map(host).collect());
        s.record_observation(&o, None).await?;
    }
    let edges = s.peers_of(&host("a.example")).await?;
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0].to, host("b.example"));
    assert_eq!(
        (edges[0].first_seen, edges[0].last_seen),
        (day(11, 1), day(11, 5))
    );
    assert_eq!(
        (edges[1].first_seen, edges[1].last_seen),
        (day(11, 1), day(11, 1))
    );
    let b = s.server_history(&host("b.example")).await?;
    assert_eq!(b.revealed_by, "a.example");
    assert_eq!(b.first_seen, day(11, 1));
    assert_eq!(b.status, ServerStatus::New);
    let a = s.server_history(&host("a.example")).await?;
    assert_eq!(a.revealed_by, "seed");
    Ok(())
}

async fn a_snapshot_shows_each_server_as_it_stood_on_the_date(s: Storage) -> anyhow::Result<()> {
    two_servers_one_dies(&s).await?;
    let on_the_5th = s.snapshot(date(11, 5)).await?;
    assert_eq!(on_the_5th.len(), 2);
    assert!(on_the_5th
        .iter()
        .all(|r| r.status == ServerStatus::Alive && r.up));
    assert_eq!(on_the_5th[1].users_total, Some(50));
    let on_the_30th = s.snapshot(date(11, 30)).await?;
    let b = &on_the_30th[1];
    assert_eq!(b.host, host("b.example"));
    assert_eq!(b.status, ServerStatus::Dead);
    assert!(!b.up);
    assert_eq!(b.last_success_at, Some(day(11, 10)));
    assert_eq!(b.users_total, Some(50), "carried forward 30 days");
    let before_anything = s.snapshot(date(10, 1)).await?;
    assert!(before_anything.is_empty());
    Ok(())
}

async fn quality_flags_are_stored_and_cleaned_series_leave_flagged_values_out(
    s: Storage,
) -> anyhow::Result<()> {
    s.record_observation(
        &ok("a.example", day(11, 1), Software::Mastodon, 100, Some(40)),
        None,
    )
    .await?;
    s.record_observation(
        &ok("k.example", day(11, 1), Software::Calckey, 2, None),
        None,
    )
    .await?;
    let jumped = s
        .record_observation(
            &ok("k.example", day(11, 2), Software::Calckey, 10_002, None),
            None,
        )
        .await?;
    let kinds: Vec<QualityKind> = jumped.flags.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&QualityKind::ImplausibleJump));
    assert!(kinds.contains(&QualityKind::InflatedUsers));
    let stored = s.server_history(&host("k.example")).await?;
    assert!(!stored.observations[1].quality_flags.is_empty());

    let raw = series(&s, SeriesMetric::UsersTotal, (11, 2), (11, 2)).await?;
    assert_eq!(raw.points[0].value, Some(10_102.0));
    assert_eq!(raw.points[0].flagged, 1);
    let mut q = raw.query.clone();
    q.cleaned = true;
    let cleaned = s.series(&q).await?;
    // The flagged value is left out; the server's previous, unflagged value carries forward.
    assert_eq!(cleaned.points[0].value, Some(102.0));
    assert_eq!(cleaned.points[0].flagged, 1);
    assert_eq!(cleaned.points[0].servers_reporting, 2);
    assert_eq!(cleaned.flagged_by_kind.get("implausible_jump"), Some(&1));
    Ok(())
}

async fn seeds_are_due_at_once_and_a_visit_schedules_the_next(s: Storage) -> anyhow::Result<()> {
    let added = s
        .add_seeds(&[host("a.example"), host("b.example")], day(11, 1))
        .await?;
    assert_eq!(added, 2);
    assert_eq!(s.add_seeds(&[host("a.example")], day(11, 1)).await?, 0);
    let due = s.due_hosts(day(11, 1), 10).await?;
    assert_eq!(due.len(), 2);
    s.record_observation(
        &ok("a.example", day(11, 1), Software::Mastodon, 1, Some(1)),
        None,
    )
    .await?;
    s.record_observation(
        &fedicensus_core::Observation::failed(host("b.example"), day(11, 1), Outcome::Refused, 3),
        None,
    )
    .await?;
    let due = s.due_hosts(day(11, 1) + Duration::hours(2), 10).await?;
    assert_eq!(due.len(), 1, "the failed one is retried within hours");
    assert_eq!(due[0].host, host("b.example"));
    assert_eq!(due[0].consecutive_failures, 1);
    assert_eq!(due[0].last_outcome, Some(Outcome::Refused));
    assert_eq!(due[0].status, ServerStatus::Unreachable);
    s.set_status(&host("b.example"), ServerStatus::OptedOut, None)
        .await?;
    assert!(s
        .due_hosts(day(12, 1), 10)
        .await?
        .iter()
        .all(|d| d.host != host("b.example")));
    Ok(())
}

async fn two_workers_never_lease_the_same_host(s: Storage) -> anyhow::Result<()> {
    let hosts: Vec<_> = (0..40).map(|i| host(&format!("s{i:02}.example"))).collect();
    s.add_seeds(&hosts, day(11, 1)).await?;
    let now = day(11, 1);
    let lease = Duration::minutes(10);
    let mut tasks = Vec::new();
    for worker in ["w1", "w2", "w3", "w4"] {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = s.lease_due_hosts(worker, now, 3, lease).await?;
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|d| d.host));
            }
            anyhow::Ok(mine)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(total, 40, "every host leased once");
    assert_eq!(all.len(), 40, "no host leased twice");
    Ok(())
}

async fn a_worker_restarted_under_its_name_takes_its_own_leases_back(
    s: Storage,
) -> anyhow::Result<()> {
    s.add_seeds(&[host("a.example"), host("b.example")], day(11, 1))
        .await?;
    let lease = Duration::minutes(10);
    let first = s.lease_due_hosts("w1", day(11, 1), 1, lease).await?;
    assert_eq!(first.len(), 1);
    // w1 is killed: another worker cannot take its host while the lease lives; w1 restarted
    // under the same name releases its old leases and takes the host straight back.
    let other = s.lease_due_hosts("w2", day(11, 1), 5, lease).await?;
    assert_eq!(other.len(), 1, "w2 gets only the host nobody leased");
    assert_ne!(other[0].host, first[0].host);
    assert!(s
        .lease_due_hosts("w1", day(11, 1), 5, lease)
        .await?
        .is_empty());
    assert_eq!(s.release_all("w1").await?, 1);
    let again = s.lease_due_hosts("w1", day(11, 1), 5, lease).await?;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].host, first[0].host);
    Ok(())
}

async fn an_expired_lease_is_taken_over(s: Storage) -> anyhow::Result<()> {
    s.add_seeds(&[host("a.example")], day(11, 1)).await?;
    let lease = Duration::minutes(10);
    let first = s.lease_due_hosts("w1", day(11, 1), 5, lease).await?;
    assert_eq!(first.len(), 1);
    let during = s
        .lease_due_hosts("w2", day(11, 1) + Duration::minutes(5), 5, lease)
        .await?;
    assert!(during.is_empty(), "a live lease is respected");
    let after = s
        .lease_due_hosts("w2", day(11, 1) + Duration::minutes(11), 5, lease)
        .await?;
    assert_eq!(after.len(), 1, "an expired lease is taken over");
    assert!(
        !s.release(&host("a.example"), "w1", None).await?,
        "w1 lost it"
    );
    assert!(
        s.release(&host("a.example"), "w2", Some(day(11, 2)))
            .await?
    );
    assert!(s
        .due_hosts(day(11, 1) + Duration::hours(1), 5)
        .await?
        .is_empty());
    assert_eq!(s.due_hosts(day(11, 2), 5).await?.len(), 1);
    Ok(())
}

async fn a_finished_run_counts_its_outcomes(s: Storage) -> anyhow::Result<()> {
    let run = s
        .start_run(&RunStart {
            started_at: day(11, 1),
            crawler_version: "0.1.0".into(),
            config_hash: "h".into(),
            seeds: vec![host("a.example"), host("b.example")],
        })
        .await?;
    s.record_observation(
        &ok("a.example", day(11, 1), Software::Mastodon, 1, None),
        Some(run),
    )
    .await?;
    s.record_observation(&failed("b.example", day(11, 1)), Some(run))
        .await?;
    s.record_observation(&failed("c.example", day(11, 1)), Some(run))
        .await?;
    let counts = s.finish_run(run, day(11, 1) + Duration::hours(1)).await?;
    assert_eq!(counts.get("ok"), Some(&1));
    assert_eq!(counts.get("timeout"), Some(&2));
    let runs = s.runs().await?;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].seeds.len(), 2);
    assert_eq!(runs[0].outcomes, counts);
    assert!(runs[0].finished_at.is_some());
    Ok(())
}

async fn the_built_in_annotations_are_there(s: Storage) -> anyhow::Result<()> {
    let notes = s.annotations(date(10, 1), date(11, 30)).await?;
    let titles: Vec<&str> = notes.iter().map(|a| a.title.as_str()).collect();
    assert!(titles.contains(&"Twitter takeover completed"));
    assert!(notes.iter().any(|a| a.date == date(11, 21)));
    assert!(notes.iter().all(|a| a.source_url.is_some()));
    s.add_annotation(
        date(11, 30),
        "Our crawler restarted",
        "Config change.",
        None,
    )
    .await?;
    s.add_annotation(
        date(11, 30),
        "Our crawler restarted",
        "Config change.",
        None,
    )
    .await?;
    assert_eq!(s.annotations(date(11, 30), date(11, 30)).await?.len(), 1);
    Ok(())
}

async fn exports_are_csv_with_a_manifest_and_leave_unlisted_servers_out(
    s: Storage,
) -> anyhow::Result<()> {
    let mut a = ok("a.example", day(11, 1), Software::Mastodon, 100, Some(40));
    a.peers = Some(vec![host("b.example"), host("p.example")]);
    a.activity = vec![week(day(10, 31) - Duration::hours(12), 3, 30)];
    a.software.as_mut().expect("software").raw_version = "=cmd|' /C calc'!A0".into();
    s.record_observation(&a, None).await?;
    let mut private = ok("p.example", day(11, 1), Software::Pleroma, 1, Some(1));
    private.flags.private = true;
    s.record_observation(&private, None).await?;

    let mut files = Vec::new();
    let mut texts = Vec::new();
    for what in [
        Export::Series(SeriesQuery::new(
            SeriesMetric::UsersTotal,
            Granularity::Day,
            date(11, 1),
            date(11, 3),
        )),
        Export::Snapshot(date(11, 1)),
        Export::Observations {
            from: date(11, 1),
            to: date(11, 1),
        },
        Export::Activity {
            from: date(10, 30),
            to: date(11, 6),
        },
        Export::PeerEdges,
    ] {
        let mut buffer = Vec::new();
        let file = s.export_csv(&what, &mut buffer).await?;
        assert_eq!(file.bytes, buffer.len() as u64);
        assert_eq!(file.sha256.len(), 64);
        texts.push(String::from_utf8(buffer)?);
        files.push(file);
    }
    let rows: Vec<u64> = files.iter().map(|f| f.rows).collect();
    // Series: 3 days. Snapshot: a and b (p is private). Observations: a only. Activity: 1 week.
    // Edges: a -> b only.
    assert_eq!(rows, [3, 2, 1, 1, 1]);
    assert!(texts[0].starts_with("date,as_of,metric,value,servers_reporting"));
    assert!(texts[0].contains("2022-11-01,2022-11-02T00:00:00Z,users_total,101,2,0"));
    assert!(
        texts[2].contains("'=cmd"),
        "formula neutralised: {}",
        texts[2]
    );
    assert!(!texts.iter().any(|t| t.contains("p.example")));
    let manifest = Manifest::new(day(12, 1), [(date(11, 1), date(11, 3))], files);
    let json = manifest.to_json();
    assert!(json.contains(&format!(
        "\"methodology_version\": \"{}\"",
        fedicensus_storage::METHODOLOGY_VERSION
    )));
    assert!(json.contains("series-users_total-day.csv"));
    Ok(())
}

async fn concentration_is_the_share_of_users_on_the_largest_servers(
    s: Storage,
) -> anyhow::Result<()> {
    // One big server and 11 of 10 users: the largest 1 % is one server (ceil), holding 900/1010.
    s.record_observation(
        &ok("big.example", day(11, 1), Software::Mastodon, 900, None),
        None,
    )
    .await?;
    for i in 0..11 {
        let name = format!("s{i}.example");
        s.record_observation(&ok(&name, day(11, 1), Software::Mastodon, 10, None), None)
            .await?;
    }
    let q = |metric| SeriesQuery::new(metric, Granularity::Month, date(11, 1), date(11, 30));
    let top = s.series(&q(SeriesMetric::ConcentrationTopPercent)).await?;
    assert_eq!(top.points.len(), 1);
    assert_eq!(top.points[0].servers_reporting, 12);
    let share = top.points[0].value.expect("a share");
    assert!((share - 900.0 / 1010.0).abs() < 1e-9);
    let ten = s.series(&q(SeriesMetric::ConcentrationTopTen)).await?;
    let share = ten.points[0].value.expect("a share");
    assert!((share - 990.0 / 1010.0).abs() < 1e-9);
    Ok(())
}

async fn a_peer_list_of_twenty_thousand_names_is_recorded_in_one_visit(
    s: Storage,
) -> anyhow::Result<()> {
    let mut o = ok(
        "hub.example",
        day(11, 1),
        Software::Mastodon,
        1_000,
        Some(100),
    );
    o.peers = Some(
        (0..20_000)
            .map(|i| host(&format!("p{i}.example")))
            .collect(),
    );
    let recorded = s.record_observation(&o, None).await?;
    assert_eq!(recorded.servers_discovered, 20_000);
    o.observed_at = day(11, 2);
    let again = s.record_observation(&o, None).await?;
    assert_eq!(again.servers_discovered, 0);
    let edges = s.peers_of(&host("hub.example")).await?;
    assert_eq!(edges.len(), 20_000);
    assert!(edges.iter().all(|e| e.last_seen == day(11, 2)));
    Ok(())
}

/// The crawl of `two_servers_one_dies` stops on 30 November: no series may say that no server
/// was up in December, nor anything else about dates nobody looked at.
async fn a_series_past_the_last_crawl_has_no_data_rather_than_zero_servers_up(
    s: Storage,
) -> anyhow::Result<()> {
    two_servers_one_dies(&s).await?;
    let up = series(&s, SeriesMetric::ServersUp, (11, 29), (12, 10)).await?;
    assert_eq!(up.points.len(), 12);
    assert_eq!(values(&up)[..2], [Some(1.0), Some(1.0)], "crawled days");
    for p in &up.points[2..] {
        assert_eq!(
            (p.value, p.servers_reporting),
            (None, 0),
            "{}: not crawled, so no data",
            p.date
        );
    }
    // Every metric ends there, whether read from the rollup or from the observations.
    for metric in SeriesMetric::ALL {
        let granularity = match metric {
            SeriesMetric::WeeklyRegistrations
            | SeriesMetric::WeeklyLogins
            | SeriesMetric::WeeklyStatuses => Granularity::Week,
            _ => Granularity::Day,
        };
        let q = SeriesQuery::new(metric, granularity, date(12, 5), date(12, 31));
        for computed in [s.series(&q).await?, s.series_from_observations(&q).await?] {
            assert!(
                computed.points.iter().all(|p| p.value.is_none()),
                "{}: {:?}",
                metric.as_str(),
                computed.points
            );
        }
    }
    // A month the crawl never reached is no data (it was read as of 31 December: 0 up); the
    // month it stopped in is taken as of its last crawled day.
    let q = SeriesQuery::new(
        SeriesMetric::ServersUp,
        Granularity::Month,
        date(11, 1),
        date(12, 31),
    );
    let monthly = s.series(&q).await?;
    assert_eq!(values(&monthly), [Some(1.0), None]);
    assert_eq!(monthly.points[0].as_of, day(12, 1) - Duration::hours(12));
    assert_eq!(
        monthly.points,
        s.series_from_observations(&q).await?.points,
        "rollup and observations agree"
    );
    // A week the crawl stopped in ends with it.
    let q = SeriesQuery::new(
        SeriesMetric::UsersTotal,
        Granularity::Week,
        date(11, 28),
        date(12, 4),
    );
    let week = s.series(&q).await?;
    assert_eq!(week.points[0].as_of, day(12, 1) - Duration::hours(12));
    assert_eq!(values(&week), [Some(150.0)]);
    Ok(())
}

/// PostgreSQL: a due server that another worker's open write names (a peer edge's foreign key
/// holds a KEY SHARE lock on the server's row until that transaction commits) is still leased.
/// Skipping such rows made a lease come back empty while servers were due, and a worker that
/// took that for "nothing due" ended its pass early and never visited what it had found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_server_named_in_another_workers_open_write_is_still_leased() -> anyhow::Result<()> {
    crate::harness::on_postgres_with_url(|s, url| async move {
        let seeds = [host("a.example"), host("b.example")];
        s.add_seeds(&seeds, day(11, 1)).await?;
        let other = sqlx::PgPool::connect(&url).await?;
        let mut write = other.begin().await?;
        sqlx::query(
            "INSERT INTO peer_edges (from_id, to_id, first_seen) \
             SELECT f.id, t.id, now() FROM servers f, servers t \
             WHERE f.domain = 'a.example' AND t.domain = 'b.example'",
        )
        .execute(&mut *write)
        .await?;
        let leased = s
            .lease_due_hosts("w1", day(11, 1), 10, Duration::minutes(10))
            .await;
        write.rollback().await?;
        other.close().await;
        let leased: Vec<_> = leased?.into_iter().map(|d| d.host).collect();
        assert_eq!(leased, seeds, "both servers are due and nobody leases them");
        Ok(())
    })
    .await
}
