//! "Why the numbers differ": what each census means by a server, a user and an active user, as
//! far as its own documentation or code says (each row names where), beside fedicensus's own
//! definitions (docs/METHODOLOGY.md), and the imports of their published figures as JSON. The
//! Comparison page and `/api/v1/references` show the same rows.

use fedicensus_core::reference::ReferenceSource;
use fedicensus_storage::{ReferenceImport, ReferenceLine};
use serde::Serialize;
use serde_json::{json, Value};

/// One census's definitions, with where they are written.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Definition {
    /// The source's stable name (`joinmastodon`, ...), or `fedicensus`.
    pub source: &'static str,
    pub title: &'static str,
    /// What the census covers.
    pub scope: &'static str,
    pub server: &'static str,
    pub user: &'static str,
    pub active: &'static str,
    /// Where each definition is written (repository, file and commit, or our own document).
    pub cited: &'static str,
}

/// fedicensus first, then every source in [`ReferenceSource::ALL`] order.
pub const DEFINITIONS: [Definition; 5] = [
    Definition {
        source: "fedicensus",
        title: "fedicensus",
        scope: "Every software that serves NodeInfo, found through peer lists from seeds.",
        server: "A domain a visit reached (confirmed). Charts compare servers up: answered at least once in the 7 days ending with the date; dead ones still count on the dates they were alive.",
        user: "The sum of each server's latest NodeInfo usage.users.total reported in the last 30 days (instance API as a fallback).",
        active: "The same sum of monthly active users (the Mastodon instance API v2 first, then NodeInfo activeMonth).",
        cited: "docs/METHODOLOGY.md, \"Definitions\" and \"Series\" (methodology version in every export).",
    },
    Definition {
        source: "joinmastodon",
        title: "joinmastodon.org",
        scope: "Mastodon servers only.",
        server: "\"Servers Up\": the servers joinmastodon.org's crawler reached on the date (\"Data collected by crawling all accessible Mastodon servers on {date}\"); how servers are found is not said.",
        user: "user_count: not described in the site's code (the API's own code is not public); the field's name is all it says.",
        active: "\"Monthly Active Users\" (active_user_count); the window and its source are not described.",
        cited: "mastodon/joinmastodon pages/about/index.tsx and locales/en.json (stats.servers, stats.monthly_active_users, stats.disclaimer), commit 547a7914060177d6954c041520d3b0027155dcbe; types/api.ts (Day).",
    },
    Definition {
        source: "fedidb",
        title: "FediDB",
        scope: "Every software its crawler indexes (total_instances); per software in /v1/software.",
        server: "An instance FediDB's crawler indexed; each is crawled once every 24 hours. When a server leaves the total is not said.",
        user: "NodeInfo usage.users.total.",
        active: "NodeInfo usage.users.activeMonth; /v1/stats is \"updated every 15 minutes using the latest data we collect\".",
        cited: "fedidb/fedidb-nuxt components/DataSources/DataSourcesCrawlFrequencySection.vue, commit 21008a0b9018bcbc402ef1010eac7e5d6c38b158; pages/resources/api-docs.vue, commit 5ceacb5f6a21ca1d6cd7519a48612619023ff7a8.",
    },
    Definition {
        source: "the-federation",
        title: "the-federation.info",
        scope: "Every platform, but only servers registered with it (no crawl of peers).",
        server: "A registered node, not blocked, with a successful fetch in the last 30 days.",
        user: "NodeInfo users total, one row per node per day.",
        active: "NodeInfo users monthly (activeMonth), per node per day; half-year actives are kept too.",
        cited: "thefederationinfo/the-federation.info thefederation/models/node.py (NodeQuerySet.active) and thefederation/tasks.py, commit 779db57b329618e6491d8eaaf4ae04068686c966.",
    },
    Definition {
        source: "instances-social",
        title: "instances.social",
        scope: "Servers that answer the Mastodon API (Mastodon, Pleroma and lookalikes), found through peers.",
        server: "An instance in its list; one down for two weeks is dead and left out of the list unless include_dead is asked (fedicensus counts the live ones of an imported list).",
        user: "stats.user_count of /api/v1/instance.",
        active: "active_users: logins of the previous week (/api/v1/instance/activity), not monthly actives; MAU from /api/v2/instance is stored but not in the list API.",
        cited: "TheKinrar/instances controllers/api/v1/instances/index.js, helpers/APIUtils.js (createInstanceJson) and jobs/check_instance.js, commit 7c9f686af31f4333c72280bf763ca4d883868847.",
    },
];

/// The command that imports a source's file, for the page's instructions.
pub fn import_command(source: ReferenceSource) -> String {
    let (url, file) = match source {
        ReferenceSource::JoinMastodon => {
            ("https://api.joinmastodon.org/statistics", "statistics.json")
        }
        ReferenceSource::FediDb => ("https://api.fedidb.org/v1/stats", "fedidb-stats.json"),
        ReferenceSource::TheFederation => (
            "the answer of https://the-federation.info/graphql to its Nodes chart's query",
            "the-federation.json",
        ),
        ReferenceSource::InstancesSocial => (
            "https://instances.social/api/1.0/instances/list?count=0 (with an API token)",
            "instances.json",
        ),
    };
    format!(
        "# download {url} as {file}, then:\nfedicensus import-reference --db census.db --source {} {file}",
        source.as_str()
    )
}

/// An import as JSON.
pub fn import_json(i: &ReferenceImport) -> Value {
    json!({
        "id": i.id,
        "source": i.source.as_str(),
        "title": i.source.title(),
        "file_name": i.file_name,
        "sha256": i.sha256,
        "imported_at": i.imported_at,
        "as_of": i.as_of,
        "first_date": i.first_date,
        "last_date": i.last_date,
        "figures": i.points,
        "server_names": i.domains,
        "notes": i.notes,
    })
}

/// A source's line as JSON.
pub fn line_json(l: &ReferenceLine) -> Value {
    json!({
        "source": l.source.as_str(),
        "title": l.source.title(),
        "scope": l.scope,
        "values": l.values.iter().map(|v| json!({
            "date": v.date,
            "servers": v.servers,
            "users": v.users,
            "active_month": v.active_month,
            "active_week": v.active_week,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_has_its_definitions_and_a_command() {
        for source in ReferenceSource::ALL {
            let d = DEFINITIONS
                .iter()
                .find(|d| d.source == source.as_str())
                .unwrap_or_else(|| panic!("{source} has no definitions"));
            assert_eq!(d.title, source.title());
            assert!(d.cited.contains("commit"), "{source} cites a commit");
            assert!(import_command(source).contains(&format!("--source {}", source.as_str())));
        }
    }
}
