//! The shape of the lemmy-2023 scenario: the Lemmy growth of June 2023, when Reddit's API
//! pricing (announced 2023-05-31, the subreddit blackout of 2023-06-12 to 14, the change itself
//! on 2023-07-01) sent its users looking for a Reddit-like place.
//!
//! The world is built as the migration-2022 one (`per-server scalar × global curve`, see the
//! parent module) with Lemmy as the calibrated software: its reachable servers follow
//! [`KNOTS`], its accounts and monthly actives are fitted on [`targets::BEFORE`] and
//! [`targets::AFTER`]. Beside Lemmy run the software of 2023 that a Lemmy census meets in peer
//! lists and that the simulator serves as it was then: Mastodon 4.1, Takahē 0.8 to 0.10 and
//! Mitra 1.x and 2.x (see [`SERIES`]).
//!
//! Sources: Linux Format, 2023-07-25 ("Lemmy numbers spike after Reddit ban": "in June, the
//! number of Lemmy instances increased from 100 to 519, while user numbers spiked to over
//! 45,000"); the total Lemmy accounts the-federation.info showed, quoted in "Lemmy bot accounts"
//! (sh.itjust.works/comment/942622, July 2023): 1,822,313 on 2023-06-24, 1,589,412 on 2023-06-30
//! after admins purged bot sign-ups (the surge of 2023-06-18 to 25 on servers with open sign-ups
//! and no captcha). Every other figure is marked as an assumption where it is used.

use super::{day_index, gaussian, smoothstep, ymd, Curves, Family, CURVE_DAYS};
use chrono::NaiveDate;
use fedicensus_core::Software;
use rand::Rng;

/// Calibration targets of the lemmy-2023 scenario at full size.
pub mod targets {
    /// The first calibration day: the wave starts (Reddit announced its API pricing the day
    /// before).
    pub const BEFORE: (i32, u32, u32) = (2023, 6, 1);
    /// The second calibration day: the end of June, after the bot purge.
    pub const AFTER: (i32, u32, u32) = (2023, 6, 30);
    /// Reachable Lemmy servers on [`BEFORE`] (Linux Format: "from 100").
    pub const LEMMY_BEFORE: f64 = 100.0;
    /// Reachable Lemmy servers on [`AFTER`] (Linux Format: "to 519").
    pub const LEMMY_AFTER: f64 = 519.0;
    /// Registered Lemmy accounts on [`BEFORE`]. An assumption: "tens of thousands"; no census
    /// figure for that day was found.
    pub const USERS_BEFORE: f64 = 30_000.0;
    /// Registered Lemmy accounts on [`AFTER`] (the-federation.info, 2023-06-30: 1,589,412).
    pub const USERS_AFTER: f64 = 1_589_412.0;
    /// Monthly actives on [`BEFORE`]. An assumption (a tenth of the accounts, about the
    /// fediverse's 1:11, FIELD.md).
    pub const MAU_BEFORE: f64 = 3_000.0;
    /// Monthly actives on [`AFTER`]: Linux Format's "user numbers spiked to over 45,000", read as
    /// active users (the registered count was thirty times that). An interpretation.
    pub const MAU_AFTER: f64 = 45_000.0;
}

/// Reachable Lemmy servers over time (knots, linearly interpolated). The two June knots are
/// the sourced targets; the others are assumptions: a slow rise since the first federating
/// release (0.7, 2020), and after June a slower growth to "well over 1,000" in the summer and a
/// plateau in the autumn.
pub(crate) const KNOTS: &[((i32, u32, u32), f64)] = &[
    ((2020, 1, 1), 0.0),
    ((2021, 1, 1), 30.0),
    ((2022, 1, 1), 55.0),
    ((2023, 1, 1), 85.0),
    (targets::BEFORE, targets::LEMMY_BEFORE),
    ((2023, 6, 15), 300.0),
    (targets::AFTER, targets::LEMMY_AFTER),
    ((2023, 7, 31), 1_000.0),
    ((2023, 9, 30), 1_250.0),
    ((2023, 12, 31), 1_350.0),
];

/// The daily curves: Lemmy's slow growth since 2020 and the Reddit wave.
///
/// The wave (an assumption in its shape, the totals are calibrated): a first surge around the
/// blackout of 2023-06-12, the bot sign-ups of 2023-06-18 to 25 (sharp, centred on the 21st),
/// a smaller bump when the API change took effect on 2023-07-01, and a tail. The share of wave
/// accounts active is low and falls: many were bots, or people who looked once.
pub(crate) fn build_curves() -> Curves {
    let first = day_index(ymd(2020, 1, 1)) as f64;
    let blackout = day_index(ymd(2023, 6, 12)) as f64;
    let bots = day_index(ymd(2023, 6, 21)) as f64;
    let api_change = day_index(ymd(2023, 7, 1)) as f64;
    let start = day_index(ymd(targets::BEFORE.0, targets::BEFORE.1, targets::BEFORE.2)) as f64;
    let after = day_index(ymd(targets::AFTER.0, targets::AFTER.1, targets::AFTER.2));
    let mut rs = vec![0.0; CURVE_DAYS];
    let mut rw = vec![0.0; CURVE_DAYS];
    let mut p = vec![0.0; CURVE_DAYS];
    let mut q = vec![0.0; CURVE_DAYS];
    for d in 0..CURVE_DAYS {
        let x = d as f64;
        if x >= first {
            rs[d] = 1.0;
        }
        let mut w = gaussian(x, blackout, 5.0) + 1.5 * gaussian(x, bots, 2.5);
        w += 0.4 * gaussian(x, api_change, 4.0);
        if x >= start {
            w += 0.004 * smoothstep((x - start) / 20.0);
        }
        rw[d] = w;
        p[d] = 0.12;
        if x >= start {
            // Old accounts come back with the wave, and drift off again.
            p[d] +=
                0.1 * smoothstep((x - start) / 20.0) * (-(x - api_change).max(0.0) / 150.0).exp();
        }
        q[d] = if x <= api_change {
            0.06
        } else {
            (0.06 * (-(x - api_change) / 150.0).exp()).max(0.025)
        };
    }
    super::finish_curves(&rs, &rw, p, q, after as usize)
}

/// The other software of the lemmy-2023 world (shares of the non-Lemmy servers are
/// assumptions; the software are those a Lemmy census of 2023 meets that the simulator serves
/// as they were in 2023). Mitra is `Software::Other("mitra")`.
pub(crate) const FAMILIES: &[Family] = &[
    Family {
        software: || Software::Mastodon,
        weight: 0.85,
        since: (2016, 10, 1),
        median_users: 20.0,
    },
    Family {
        software: || Software::Takahe,
        weight: 0.05,
        since: (2022, 11, 15),
        median_users: 3.0,
    },
    Family {
        software: || Software::Other(String::new()),
        weight: 0.10,
        since: (2022, 1, 1),
        median_users: 2.0,
    },
];

/// The `Software::Other` names of this world, with the versions [`version`] draws from.
pub(crate) const OTHER_SOFTWARE: &[(&str, &[&str])] = &[("mitra", &["2.4.1"])];

/// A release and the day it came out.
pub(crate) type Dated = (&'static str, (i32, u32, u32));

/// The releases of 2023, oldest first, each with its date (a release's tag or changelog date).
/// A server runs the newest one, up to the version it ends the scenario on ([`version`]), that
/// was out [`upgrade_lag_days`] before the day: see [`version_on`].
///
/// Lemmy: the LemmyNet/lemmy tags. Mastodon: CHANGELOG.md (4.1.4 is the last release before the
/// 4.2 line this world leaves out). Takahē: the jointakahe/takahe tags. Mitra: its CHANGELOG.md
/// (codeberg.org/silverpill/mitra).
pub(crate) const SERIES: &[(&str, &[Dated])] = &[
    (
        "lemmy",
        &[
            ("0.16.7", (2022, 9, 14)),
            ("0.17.0", (2023, 1, 31)),
            ("0.17.1", (2023, 2, 3)),
            ("0.17.2", (2023, 2, 22)),
            ("0.17.3", (2023, 6, 1)),
            ("0.17.4", (2023, 6, 12)),
            ("0.18.0", (2023, 6, 23)),
            ("0.18.1", (2023, 7, 7)),
            ("0.18.2", (2023, 7, 11)),
            ("0.18.3", (2023, 7, 28)),
            ("0.18.4", (2023, 8, 8)),
            ("0.18.5", (2023, 9, 29)),
        ],
    ),
    (
        "mastodon",
        &[
            ("4.0.2", (2022, 11, 15)),
            ("4.1.0", (2023, 2, 10)),
            ("4.1.1", (2023, 3, 16)),
            ("4.1.2", (2023, 4, 4)),
            ("4.1.3", (2023, 7, 6)),
            ("4.1.4", (2023, 7, 7)),
        ],
    ),
    (
        "takahe",
        &[
            ("0.6.0", (2022, 12, 24)),
            ("0.7.0", (2023, 1, 16)),
            ("0.8.0", (2023, 2, 19)),
            ("0.9.0", (2023, 6, 24)),
            ("0.10.0", (2023, 11, 12)),
            ("0.10.1", (2023, 11, 13)),
        ],
    ),
    (
        "mitra",
        &[
            ("1.12.0", (2023, 1, 26)),
            ("1.21.0", (2023, 4, 12)),
            ("1.30.0", (2023, 7, 18)),
            ("1.33.1", (2023, 8, 20)),
            ("2.0.0", (2023, 10, 2)),
            ("2.2.0", (2023, 10, 22)),
            ("2.4.1", (2023, 11, 23)),
            ("2.5.0", (2023, 12, 14)),
        ],
    ),
];

/// How many days after a release a server takes to run it: 0 to 27, fixed per server (an
/// assumption; admins of small servers upgrade when they get to it).
pub(crate) fn upgrade_lag_days(hash: u64) -> i64 {
    (hash % 28) as i64
}

/// The version a server that ends the scenario on `last` runs on `day` (already moved back by
/// its upgrade lag): the newest release of its series out by then, never past `last`; before
/// the series' first release, the first. `None` when `last` is in no series.
pub(crate) fn version_on(software: &str, last: &str, day: NaiveDate) -> Option<&'static str> {
    let (_, series) = SERIES.iter().find(|(s, _)| *s == software)?;
    let end = series.iter().position(|(v, _)| *v == last)?;
    let mut current = series[0].0;
    for (version, (y, m, d)) in &series[..=end] {
        if ymd(*y, *m, *d) <= day {
            current = *version;
        }
    }
    Some(current)
}

fn pick<R: Rng>(rng: &mut R, options: &[(&'static str, f64)]) -> &'static str {
    super::pick(rng, options)
}

/// The version a server of `software` runs at the end of the scenario (2023-12-31): a release
/// out at least [`upgrade_lag_days`]'s longest lag before it. The shares are assumptions: most
/// Lemmy servers on the last 0.18 (lemmy.world still ran 0.18.5 in January 2024), a tail that
/// stopped upgrading.
pub(crate) fn version<R: Rng>(rng: &mut R, software: &Software, _born: NaiveDate) -> String {
    match software {
        Software::Lemmy => pick(
            rng,
            &[
                ("0.18.5", 0.45),
                ("0.18.4", 0.15),
                ("0.18.3", 0.1),
                ("0.18.2", 0.06),
                ("0.18.1", 0.06),
                ("0.18.0", 0.02),
                ("0.17.4", 0.08),
                ("0.17.3", 0.03),
                ("0.17.2", 0.03),
                ("0.16.7", 0.02),
            ],
        )
        .to_string(),
        Software::Mastodon => pick(
            rng,
            &[
                ("4.1.4", 0.6),
                ("4.1.2", 0.15),
                ("4.1.1", 0.05),
                ("4.1.0", 0.05),
                ("4.0.2", 0.15),
            ],
        )
        .to_string(),
        Software::Takahe => {
            pick(rng, &[("0.10.1", 0.5), ("0.9.0", 0.4), ("0.8.0", 0.1)]).to_string()
        }
        Software::Other(name) if name == "mitra" => pick(
            rng,
            &[
                ("2.4.1", 0.55),
                ("2.2.0", 0.15),
                ("1.33.1", 0.15),
                ("1.30.0", 0.1),
                ("1.21.0", 0.05),
            ],
        )
        .to_string(),
        _ => "1.0.0".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_runs_the_newest_release_out_and_never_past_its_last() {
        assert_eq!(
            version_on("lemmy", "0.18.5", ymd(2023, 5, 1)),
            Some("0.17.2")
        );
        assert_eq!(
            version_on("lemmy", "0.18.5", ymd(2023, 6, 23)),
            Some("0.18.0")
        );
        assert_eq!(
            version_on("lemmy", "0.18.3", ymd(2023, 12, 1)),
            Some("0.18.3")
        );
        assert_eq!(
            version_on("lemmy", "0.18.5", ymd(2022, 1, 1)),
            Some("0.16.7")
        );
        assert_eq!(
            version_on("takahe", "0.10.1", ymd(2023, 7, 1)),
            Some("0.9.0")
        );
        assert_eq!(
            version_on("mitra", "2.5.0", ymd(2023, 3, 1)),
            Some("1.12.0")
        );
        assert_eq!(version_on("lemmy", "0.19.0", ymd(2023, 12, 31)), None);
    }
}
