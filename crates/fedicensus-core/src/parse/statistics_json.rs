//! `/statistics.json`, the pre-NodeInfo document of diaspora*, Friendica and RedMatrix: a flat
//! object with snake_case keys. Old pods that serve nothing else can still be counted from it.
//! Build suffixes in versions (`0.5.7.0-p56ebcc76`) are handled by [`normalise_version`].

use super::instance_v1::measurements;
use super::{lenient, read_object, version::normalise_version, ParseError};
use crate::observation::{Measurement, Metric, Source};
use crate::software::Software;
use serde::Serialize;

/// A parsed `/statistics.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatisticsJson {
    pub name: Option<String>,
    /// `network` as sent (`Diaspora`, `Friendica`).
    pub network: Option<String>,
    /// The family `network` maps to.
    pub software: Option<Software>,
    pub raw_version: Option<String>,
    pub version: Option<String>,
    pub registrations_open: Option<bool>,
    pub total_users: Option<u64>,
    pub active_users_halfyear: Option<u64>,
    pub active_users_monthly: Option<u64>,
    pub local_posts: Option<u64>,
    pub local_comments: Option<u64>,
}

impl StatisticsJson {
    /// The numbers reported, tagged [`Source::StatisticsJson`].
    pub fn measurements(&self) -> Vec<Measurement> {
        measurements(
            Source::StatisticsJson,
            &[
                (Metric::UsersTotal, self.total_users),
                (Metric::UsersActiveMonth, self.active_users_monthly),
                (Metric::UsersActiveHalfyear, self.active_users_halfyear),
                (Metric::LocalPosts, self.local_posts),
                (Metric::LocalComments, self.local_comments),
            ],
        )
    }
}

/// Parses `/statistics.json`.
pub fn parse_statistics_json(bytes: &[u8]) -> Result<StatisticsJson, ParseError> {
    let doc = read_object(bytes, "a statistics.json document")?;
    let network = lenient::string_at(&doc, &["network"]);
    let raw_version = lenient::string_at(&doc, &["version"]);
    let count = |key: &str| lenient::count_at(&doc, &[key]);
    Ok(StatisticsJson {
        name: lenient::string_at(&doc, &["name"]),
        software: network
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(Software::from_nodeinfo_name),
        network,
        version: raw_version.as_deref().and_then(normalise_version),
        raw_version,
        registrations_open: lenient::bool_at(&doc, &["registrations_open"]),
        total_users: count("total_users"),
        active_users_halfyear: count("active_users_halfyear"),
        active_users_monthly: count("active_users_monthly"),
        local_posts: count("local_posts"),
        local_comments: count("local_comments"),
    })
}
