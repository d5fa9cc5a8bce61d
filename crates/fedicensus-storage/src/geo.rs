//! Servers, users and monthly actives by the country and by the network (autonomous system) of
//! the address each server's visit connected to, over time.
//!
//! A server counts, on a date, under the country (or network) of the address its latest answer
//! on or before that date connected to (`observation_geo`, migration 0034), and under "unknown"
//! when that visit has no location: no geolocation database was configured then, or the
//! database has no country (network) for the address. Everything else is the declared-language
//! split's definition (`crate::languages`), itself the series' own: servers up in the
//! `UP_WINDOW`, figures carried forward and never past a refusal, flagged values left out of a
//! cleaned series. So the countries of a point add up to the `servers_up`, `users_total` or
//! `users_active_month` series' point, and every share has its denominator, unknown included.
//! A robots.txt refusal still counts under its address's country: the address was looked up
//! before robots.txt was read.
//!
//! A country here is where the machine answering for the name is (or the proxy in front of it:
//! a server behind Cloudflare counts where Cloudflare answered), not where its users live.

use crate::db::{Conn, Sql, Storage};
use crate::error::Result;
use crate::languages::{split_series, Split};
use crate::methodology::METHODOLOGY_VERSION;
use crate::series::{share_of_largest, SeriesPoint, SeriesQuery};
use std::collections::HashMap;

/// The name under which servers of no known country (or network) are counted, in every output.
pub const UNKNOWN: &str = "unknown";

/// How many of the largest networks the concentration figure adds up.
pub const TOP_NETWORKS: usize = 3;

const BY_COUNTRY: Split = Split {
    join: "LEFT JOIN observation_geo g ON g.observation_id = o.id",
    key: "g.country",
    what: "scanning the countries of visits",
    refusal_is_none: false,
};

const BY_NETWORK: Split = Split {
    join: "LEFT JOIN observation_geo g ON g.observation_id = o.id",
    key: "CAST(g.asn AS TEXT)",
    what: "scanning the networks of visits",
    refusal_is_none: false,
};

/// One group's points: a country or a network.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoLine {
    /// The ISO 3166-1 alpha-2 code (`DE`) or the AS number (`24940`), or `None`: unknown.
    pub key: Option<String>,
    /// The organisation the geolocation database names for a network (its latest name).
    pub name: Option<String>,
    /// One point per bucket, as in [`crate::Series`]: `servers_reporting` is the number of
    /// servers counted under this group (for figures, those whose figure is summed).
    pub points: Vec<SeriesPoint>,
}

impl GeoLine {
    /// The group's name in outputs: its code or number, or [`UNKNOWN`].
    pub fn code(&self) -> &str {
        self.key.as_deref().unwrap_or(UNKNOWN)
    }
}

/// A metric split by country or by network.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoSeries {
    pub query: SeriesQuery,
    /// Every group seen in the range, the largest at the last covered point first, unknown
    /// last.
    pub lines: Vec<GeoLine>,
    /// The sum over groups, unknown included: the denominator of each share (equal to the
    /// metric's own series).
    pub total: Vec<SeriesPoint>,
    /// Per point, the share of the metric (over servers of a known group) held by the
    /// [`TOP_NETWORKS`] largest groups: how concentrated hosting is. `None` where no server has
    /// a known group.
    pub top_share: Vec<Option<f64>>,
    pub methodology_version: &'static str,
}

impl GeoSeries {
    /// The share of the total in the unknown group, per point.
    pub fn unknown_share(&self) -> Vec<Option<f64>> {
        let unknown = self.lines.iter().find(|l| l.key.is_none());
        self.total
            .iter()
            .enumerate()
            .map(|(i, t)| match t.value {
                Some(total) if total > 0.0 => {
                    Some(unknown.and_then(|l| l.points[i].value).unwrap_or(0.0) / total)
                }
                _ => None,
            })
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct NameRow {
    asn: i64,
    name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AnyRow {
    found: i64,
}

async fn geo_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    split: Split,
    by: &str,
) -> Result<GeoSeries> {
    let split_out = split_series(conn, query, split, by).await?;
    let names: HashMap<String, String> = if split.key == BY_NETWORK.key {
        conn.fetch_all::<NameRow>(
            Sql::new(
                "SELECT asn, MAX(as_organization) AS name FROM observation_geo \
                 WHERE asn IS NOT NULL GROUP BY asn",
            ),
            "reading the networks' names",
        )
        .await?
        .into_iter()
        .filter_map(|r| Some((r.asn.to_string(), r.name?)))
        .collect()
    } else {
        HashMap::new()
    };
    let top_share = (0..split_out.total.len())
        .map(|i| {
            if i >= split_out.covered {
                return None;
            }
            let mut known: Vec<u64> = split_out
                .groups
                .iter()
                .filter(|(key, _)| key.is_some())
                .map(|(_, points)| points[i].value.unwrap_or(0.0).round().max(0.0) as u64)
                .collect();
            share_of_largest(&mut known, TOP_NETWORKS)
        })
        .collect();
    Ok(GeoSeries {
        query: query.clone(),
        lines: split_out
            .groups
            .into_iter()
            .map(|(key, points)| GeoLine {
                name: key.as_ref().and_then(|k| names.get(k).cloned()),
                key,
                points,
            })
            .collect(),
        total: split_out.total,
        top_share,
        methodology_version: METHODOLOGY_VERSION,
    })
}

impl Storage {
    /// `query.metric` (servers up, users, monthly actives) split by the country of each
    /// server's address as of each date (see the module's documentation and
    /// `docs/METHODOLOGY.md`), over every software or the one `query.software` names.
    pub async fn country_series(&self, query: &SeriesQuery) -> Result<GeoSeries> {
        let mut conn = self.acquire().await?;
        geo_series(&mut conn.conn(), query, BY_COUNTRY, "country").await
    }

    /// The same split by the network (autonomous system) of each server's address, with the
    /// share of the [`TOP_NETWORKS`] largest networks.
    pub async fn network_series(&self, query: &SeriesQuery) -> Result<GeoSeries> {
        let mut conn = self.acquire().await?;
        geo_series(&mut conn.conn(), query, BY_NETWORK, "network").await
    }

    /// Whether any visit was ever located (the crawler had a geolocation database): without,
    /// the country and network pages say how to add one.
    pub async fn has_locations(&self) -> Result<bool> {
        let mut conn = self.acquire().await?;
        let row = conn
            .conn()
            .fetch_optional::<AnyRow>(
                Sql::new("SELECT CAST(1 AS BIGINT) AS found FROM observation_geo LIMIT 1"),
                "looking for located visits",
            )
            .await?;
        Ok(row.is_some_and(|r| r.found == 1))
    }
}
