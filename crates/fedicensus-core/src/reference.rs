//! Other censuses' published figures, read from files the operator downloaded.
//!
//! Journalists quote several censuses of the fediverse that disagree, and none says why. To put
//! fedicensus's own series beside theirs, the operator downloads what each one publishes and
//! imports it (`fedicensus import-reference`); fedicensus never asks those services itself. Four
//! shapes are read, one per [`ReferenceSource`]:
//!
//! - **joinmastodon.org** (`api.joinmastodon.org/statistics`): a JSON array of days, each
//!   `{period, server_count, user_count, active_user_count}` with the counts as strings (later
//!   ones as `"5677157.0"`). Mastodon servers only.
//! - **FediDB**: `GET /v1/stats` (`total_instances`, `total_users`, `monthly_active_users`,
//!   `last_updated_at`), all software together; or a `SoftwareEntity` of `GET /v1/software` (one
//!   object, an array of them, or `{"data": [...]}`), per software, undated (the date is the
//!   operator's `--as-of`).
//! - **the-federation.info**: GraphQL answers (`{"data": {...}}`) of the site's own queries:
//!   `node_count_per_date {date count}` and `thefederation_stat {date users_total
//!   users_monthly}` (the Hasura API), or the older `statsGlobalToday`, `statsNodes`,
//!   `statsCountsNodes`, `statsUsersTotal` and `statsUsersMonthly` (Graphene), which are undated
//!   where they describe "today".
//! - **instances.social**: the list API's answer (`{"instances": [...], "pagination": ...}`, or
//!   the bare array), one object per instance with `name`, `users` (a string), `active_users`
//!   (logins in the previous week, or null), `up` and `dead`. It is summed into one point and its
//!   names kept as a list of domains.
//!
//! The files come from outside, so the readers are defensive: a file larger than
//! [`MAX_REFERENCE_BYTES`] or with more than [`MAX_ENTRIES`] entries is refused, no input panics,
//! and a file that is not the shape its source publishes is refused with a [`ReferenceError`]
//! naming the source and the place in the file (`$[12].server_count`). A figure that is absent
//! or `null` is "not reported", never zero; a figure that is there but is not a count is an
//! error, because a reference figure read wrong would be published wrong.

use crate::host::Host;
use crate::parse::lenient;
use crate::software::Software;
use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The largest file read: 64 MiB (instances.social's full list is a few MB).
pub const MAX_REFERENCE_BYTES: usize = 64 << 20;

/// The most entries (days, instances, rows) one file may hold.
pub const MAX_ENTRIES: usize = 1_000_000;

/// The scope of a figure that counts every software the source counts.
pub const SCOPE_ALL: &str = "all";

/// A public census whose published figures can be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReferenceSource {
    /// joinmastodon.org's statistics API.
    JoinMastodon,
    /// FediDB's statistics API.
    FediDb,
    /// the-federation.info's GraphQL API.
    TheFederation,
    /// instances.social's list API.
    InstancesSocial,
}

impl ReferenceSource {
    /// Every source, in the order pages list them.
    pub const ALL: [ReferenceSource; 4] = [
        ReferenceSource::JoinMastodon,
        ReferenceSource::FediDb,
        ReferenceSource::TheFederation,
        ReferenceSource::InstancesSocial,
    ];

    /// The stable name stored, exported and given to `--source`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReferenceSource::JoinMastodon => "joinmastodon",
            ReferenceSource::FediDb => "fedidb",
            ReferenceSource::TheFederation => "the-federation",
            ReferenceSource::InstancesSocial => "instances-social",
        }
    }

    /// The service's own name, for people.
    pub fn title(&self) -> &'static str {
        match self {
            ReferenceSource::JoinMastodon => "joinmastodon.org",
            ReferenceSource::FediDb => "FediDB",
            ReferenceSource::TheFederation => "the-federation.info",
            ReferenceSource::InstancesSocial => "instances.social",
        }
    }

    /// Reads a stable name (as [`ReferenceSource::as_str`] writes it).
    pub fn parse(name: &str) -> Option<ReferenceSource> {
        ReferenceSource::ALL
            .into_iter()
            .find(|s| s.as_str() == name.trim().to_ascii_lowercase())
    }
}

impl std::fmt::Display for ReferenceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dated set of figures a source published, for one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencePoint {
    /// The day the figures are for.
    pub date: NaiveDate,
    /// What the figures count: [`SCOPE_ALL`] or one software, by its NodeInfo name
    /// (`mastodon`, `pixelfed`).
    pub scope: String,
    /// Servers counted.
    pub servers: Option<u64>,
    /// Accounts (users) counted.
    pub users: Option<u64>,
    /// Monthly active users, as the source defines them.
    pub active_month: Option<u64>,
    /// Weekly active users (instances.social: logins in the previous week).
    pub active_week: Option<u64>,
}

impl ReferencePoint {
    fn empty(date: NaiveDate, scope: &str) -> ReferencePoint {
        ReferencePoint {
            date,
            scope: scope.to_owned(),
            servers: None,
            users: None,
            active_month: None,
            active_week: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.servers.is_none()
            && self.users.is_none()
            && self.active_month.is_none()
            && self.active_week.is_none()
    }
}

/// What one file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceFile {
    pub source: ReferenceSource,
    /// The points, by date then scope, one per date and scope.
    pub points: Vec<ReferencePoint>,
    /// The server names the file lists (instances.social), normalised, sorted, without repeats.
    pub domains: Vec<String>,
    /// The date the file is as of: the operator's `--as-of`, else the date the file gives
    /// (FediDB's `last_updated_at`, the latest `checked_at` of instances.social, the last day of
    /// a dated series).
    pub as_of: NaiveDate,
    /// What was noticed and how it was handled (repeated days, names that are not hosts, ...).
    pub notes: Vec<String>,
}

/// Why a file was refused. Each names the source and, where it applies, the place in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("{service}: the file has {bytes} bytes, more than the {limit} read")]
    TooLarge {
        service: ReferenceSource,
        bytes: usize,
        limit: usize,
    },
    #[error("{service}: not JSON: {message}")]
    Json {
        service: ReferenceSource,
        message: String,
    },
    #[error("{service}: at {location}: {message}")]
    Invalid {
        service: ReferenceSource,
        location: String,
        message: String,
    },
    #[error(
        "{service}: {what} carries no date; give the date it is as of with --as-of YYYY-MM-DD"
    )]
    NeedsDate {
        service: ReferenceSource,
        what: &'static str,
    },
}

/// Reads a file downloaded from `source`. `as_of` is the operator's date for figures the file
/// does not date (and the file's as-of date when given).
pub fn parse_reference(
    source: ReferenceSource,
    bytes: &[u8],
    as_of: Option<NaiveDate>,
) -> Result<ReferenceFile, ReferenceError> {
    if bytes.len() > MAX_REFERENCE_BYTES {
        return Err(ReferenceError::TooLarge {
            service: source,
            bytes: bytes.len(),
            limit: MAX_REFERENCE_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ReferenceError::Json {
        service: source,
        message: e.to_string(),
    })?;
    let mut reader = Reader {
        source,
        as_of,
        points: BTreeMap::new(),
        notes: Vec::new(),
    };
    let domains = match source {
        ReferenceSource::JoinMastodon => {
            reader.joinmastodon(&value)?;
            Vec::new()
        }
        ReferenceSource::FediDb => {
            reader.fedidb(&value)?;
            Vec::new()
        }
        ReferenceSource::TheFederation => {
            reader.the_federation(&value)?;
            Vec::new()
        }
        ReferenceSource::InstancesSocial => reader.instances_social(&value)?,
    };
    let points: Vec<ReferencePoint> = reader.points.into_values().collect();
    let Some(last) = points.iter().map(|p| p.date).max() else {
        return Err(reader_error(source, "$", "the file holds no figure"));
    };
    let file_as_of = as_of.unwrap_or(last);
    Ok(ReferenceFile {
        source,
        points,
        domains,
        as_of: file_as_of,
        notes: reader.notes,
    })
}

fn reader_error(source: ReferenceSource, location: &str, message: &str) -> ReferenceError {
    ReferenceError::Invalid {
        service: source,
        location: location.to_owned(),
        message: message.to_owned(),
    }
}

struct Reader {
    source: ReferenceSource,
    as_of: Option<NaiveDate>,
    /// By (date, scope).
    points: BTreeMap<(NaiveDate, String), ReferencePoint>,
    notes: Vec<String>,
}

/// Which figure of a point a value goes to.
#[derive(Clone, Copy)]
enum Figure {
    Servers,
    Users,
    ActiveMonth,
    ActiveWeek,
}

impl Reader {
    fn invalid(&self, location: &str, message: impl Into<String>) -> ReferenceError {
        ReferenceError::Invalid {
            service: self.source,
            location: location.to_owned(),
            message: message.into(),
        }
    }

    fn needs_date(&self, what: &'static str) -> Result<NaiveDate, ReferenceError> {
        self.as_of.ok_or(ReferenceError::NeedsDate {
            service: self.source,
            what,
        })
    }

    fn array<'v>(&self, value: &'v Value, location: &str) -> Result<&'v [Value], ReferenceError> {
        let Value::Array(items) = value else {
            return Err(self.invalid(
                location,
                format!("expected an array, found {}", lenient::type_name(value)),
            ));
        };
        if items.len() > MAX_ENTRIES {
            return Err(self.invalid(
                location,
                format!("{} entries, more than the {MAX_ENTRIES} read", items.len()),
            ));
        }
        Ok(items)
    }

    fn object<'v>(
        &self,
        value: &'v Value,
        location: &str,
    ) -> Result<&'v Map<String, Value>, ReferenceError> {
        match value {
            Value::Object(map) => Ok(map),
            other => Err(self.invalid(
                location,
                format!("expected an object, found {}", lenient::type_name(other)),
            )),
        }
    }

    /// A count: absent or `null` is not reported; anything else must be a non-negative integer
    /// (a number, an integral float, or either as a string).
    fn count(
        &self,
        map: &Map<String, Value>,
        key: &str,
        location: &str,
    ) -> Result<Option<u64>, ReferenceError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => lenient::count(value).map(Some).ok_or_else(|| {
                self.invalid(
                    &format!("{location}.{key}"),
                    format!("not a count: {}", shown(value)),
                )
            }),
        }
    }

    /// A date from `YYYY-MM-DD` or an RFC 3339 instant (its UTC date).
    fn date(&self, value: Option<&Value>, location: &str) -> Result<NaiveDate, ReferenceError> {
        let Some(Value::String(text)) = value else {
            return Err(self.invalid(
                location,
                format!(
                    "expected a date, found {}",
                    value.map_or("nothing", lenient::type_name)
                ),
            ));
        };
        let text = text.trim();
        let date = DateTime::parse_from_rfc3339(text)
            .map(|t| t.naive_utc().date())
            .ok()
            .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
            .or_else(|| {
                // `2022-09-30T00:00:00.000+00:00` parses above; other instants keep their day.
                text.get(..10)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            })
            .ok_or_else(|| self.invalid(location, format!("not a date: {}", shown_str(text))))?;
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date");
        let latest = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");
        if date < earliest || date > latest {
            return Err(self.invalid(location, format!("date out of range: {date}")));
        }
        Ok(date)
    }

    /// Sets one figure of the point at (date, scope). A second value for the same figure
    /// replaces the first (later in the file wins) and is noted when it differs.
    fn set(&mut self, date: NaiveDate, scope: &str, figure: Figure, value: Option<u64>) {
        let Some(value) = value else {
            self.points
                .entry((date, scope.to_owned()))
                .or_insert_with(|| ReferencePoint::empty(date, scope));
            return;
        };
        let point = self
            .points
            .entry((date, scope.to_owned()))
            .or_insert_with(|| ReferencePoint::empty(date, scope));
        let slot = match figure {
            Figure::Servers => &mut point.servers,
            Figure::Users => &mut point.users,
            Figure::ActiveMonth => &mut point.active_month,
            Figure::ActiveWeek => &mut point.active_week,
        };
        if let Some(old) = slot.replace(value) {
            if old != value {
                self.notes.push(format!(
                    "{date} ({scope}) is given twice with different figures; the later one is kept"
                ));
            }
        }
    }

    fn drop_empty(&mut self) {
        self.points.retain(|_, p| !p.is_empty());
    }

    // --- joinmastodon.org ----------------------------------------------------------------------

    fn joinmastodon(&mut self, value: &Value) -> Result<(), ReferenceError> {
        let days = self.array(value, "$")?;
        let mut seen = BTreeSet::new();
        let mut repeated = 0usize;
        for (i, day) in days.iter().enumerate() {
            let at = format!("$[{i}]");
            let map = self.object(day, &at)?;
            let date = self.date(map.get("period"), &format!("{at}.period"))?;
            let servers = self.count(map, "server_count", &at)?;
            let users = self.count(map, "user_count", &at)?;
            let active = self.count(map, "active_user_count", &at)?;
            if servers.is_none() && users.is_none() && active.is_none() {
                return Err(
                    self.invalid(&at, "none of server_count, user_count, active_user_count")
                );
            }
            if !seen.insert(date) {
                repeated += 1;
            }
            let scope = Software::Mastodon.as_str();
            self.set(date, scope, Figure::Servers, servers);
            self.set(date, scope, Figure::Users, users);
            self.set(date, scope, Figure::ActiveMonth, active);
        }
        if repeated > 0 {
            self.notes.push(format!(
                "{repeated} day(s) listed more than once; each is counted once"
            ));
        }
        Ok(())
    }

    // --- FediDB --------------------------------------------------------------------------------

    fn fedidb(&mut self, value: &Value) -> Result<(), ReferenceError> {
        match value {
            Value::Object(map)
                if map.contains_key("total_instances") || map.contains_key("total_users") =>
            {
                self.fedidb_stats(map)
            }
            Value::Object(map) if map.contains_key("data") => {
                let items = self.array(&map["data"], "$.data")?;
                self.fedidb_software_list(items, "$.data")
            }
            Value::Object(map) if map.contains_key("instance_count") => {
                let date = self.needs_date("a FediDB software entity")?;
                self.fedidb_software(map, date, "$")
            }
            Value::Array(_) => {
                let items = self.array(value, "$")?;
                self.fedidb_software_list(items, "$")
            }
            other => Err(self.invalid(
                "$",
                format!(
                    "neither /v1/stats (total_instances, total_users) nor /v1/software \
                     (instance_count) but {}",
                    lenient::type_name(other)
                ),
            )),
        }
    }

    fn fedidb_stats(&mut self, map: &Map<String, Value>) -> Result<(), ReferenceError> {
        let date = match self.as_of {
            Some(date) => date,
            None => match map.get("last_updated_at") {
                None | Some(Value::Null) => {
                    self.needs_date("a FediDB /v1/stats answer without last_updated_at")?
                }
                value => self.date(value, "$.last_updated_at")?,
            },
        };
        let servers = self.count(map, "total_instances", "$")?;
        let users = self.count(map, "total_users", "$")?;
        let active = self.count(map, "monthly_active_users", "$")?;
        self.set(date, SCOPE_ALL, Figure::Servers, servers);
        self.set(date, SCOPE_ALL, Figure::Users, users);
        self.set(date, SCOPE_ALL, Figure::ActiveMonth, active);
        self.drop_empty();
        Ok(())
    }

    fn fedidb_software_list(&mut self, items: &[Value], at: &str) -> Result<(), ReferenceError> {
        // The shape first: a file of another kind is named as such, not asked for a date.
        let mut entities = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let location = format!("{at}[{i}]");
            let map = self.object(item, &location)?;
            if !map.contains_key("instance_count") {
                return Err(self.invalid(
                    &location,
                    "not a FediDB software entity (no instance_count)",
                ));
            }
            entities.push((location, map));
        }
        let date = self.needs_date("a FediDB software list")?;
        for (location, map) in entities {
            self.fedidb_software(map, date, &location)?;
        }
        Ok(())
    }

    fn fedidb_software(
        &mut self,
        map: &Map<String, Value>,
        date: NaiveDate,
        at: &str,
    ) -> Result<(), ReferenceError> {
        let name = match map.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() && name.len() <= 100 => name,
            _ => {
                return Err(self.invalid(&format!("{at}.name"), "a software entity needs its name"))
            }
        };
        let scope = Software::from_nodeinfo_name(name).as_str().to_owned();
        let servers = self.count(map, "instance_count", at)?;
        let users = self.count(map, "user_count", at)?;
        let active = self.count(map, "monthly_active_users", at)?;
        self.set(date, &scope, Figure::Servers, servers);
        self.set(date, &scope, Figure::Users, users);
        self.set(date, &scope, Figure::ActiveMonth, active);
        self.drop_empty();
        Ok(())
    }

    // --- the-federation.info -------------------------------------------------------------------

    fn the_federation(&mut self, value: &Value) -> Result<(), ReferenceError> {
        let root = self.object(value, "$")?;
        let data = match root.get("data") {
            Some(Value::Object(data)) => data,
            Some(Value::Null) | None => {
                let why = root
                    .get("errors")
                    .and_then(|e| e.get(0))
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .map_or_else(
                        || "no data".to_owned(),
                        |m| format!("an error: {}", shown_str(m)),
                    );
                return Err(self.invalid("$.data", format!("the answer is {why}")));
            }
            Some(other) => {
                return Err(self.invalid(
                    "$.data",
                    format!("expected an object, found {}", lenient::type_name(other)),
                ))
            }
        };
        let mut read_any = false;
        // Dated series: {date, count}.
        for (key, figure) in [
            ("node_count_per_date", Figure::Servers),
            ("node_count_per_date_by_platform_id", Figure::Servers),
            ("statsCountsNodes", Figure::Servers),
            ("statsUsersTotal", Figure::Users),
            ("statsUsersMonthly", Figure::ActiveMonth),
        ] {
            let Some(list) = data.get(key) else { continue };
            read_any = true;
            let at = format!("$.data.{key}");
            for (i, row) in self.array(list, &at)?.iter().enumerate() {
                let location = format!("{at}[{i}]");
                let map = self.object(row, &location)?;
                let date = self.date(map.get("date"), &format!("{location}.date"))?;
                let count = self.count(map, "count", &location)?;
                self.set(date, SCOPE_ALL, figure, count);
            }
        }
        // Hasura's daily totals: rows of `thefederation_stat`.
        if let Some(list) = data.get("thefederation_stat") {
            read_any = true;
            let at = "$.data.thefederation_stat";
            for (i, row) in self.array(list, at)?.iter().enumerate() {
                let location = format!("{at}[{i}]");
                let map = self.object(row, &location)?;
                let date = self.date(map.get("date"), &format!("{location}.date"))?;
                let users = self.count(map, "users_total", &location)?;
                let active = self.count(map, "users_monthly", &location)?;
                self.set(date, SCOPE_ALL, Figure::Users, users);
                self.set(date, SCOPE_ALL, Figure::ActiveMonth, active);
            }
        }
        // Graphene's "today": undated.
        if let Some(today) = data.get("statsGlobalToday") {
            read_any = true;
            let date = self.needs_date("statsGlobalToday")?;
            let map = self.object(today, "$.data.statsGlobalToday")?;
            let users = self.count(map, "usersTotal", "$.data.statsGlobalToday")?;
            let active = self.count(map, "usersMonthly", "$.data.statsGlobalToday")?;
            self.set(date, SCOPE_ALL, Figure::Users, users);
            self.set(date, SCOPE_ALL, Figure::ActiveMonth, active);
        }
        if let Some(nodes) = data.get("statsNodes") {
            read_any = true;
            let date = self.needs_date("statsNodes")?;
            let n = self.array(nodes, "$.data.statsNodes")?.len();
            self.set(date, SCOPE_ALL, Figure::Servers, Some(n as u64));
        }
        if !read_any {
            return Err(self.invalid(
                "$.data",
                "none of node_count_per_date, thefederation_stat, statsGlobalToday, statsNodes, \
                 statsCountsNodes, statsUsersTotal, statsUsersMonthly",
            ));
        }
        self.drop_empty();
        Ok(())
    }

    // --- instances.social ----------------------------------------------------------------------

    fn instances_social(&mut self, value: &Value) -> Result<Vec<String>, ReferenceError> {
        let (items, at, total) = match value {
            Value::Object(map) => {
                let Some(list) = map.get("instances") else {
                    return Err(self.invalid("$", "no `instances` list"));
                };
                let total = map
                    .get("pagination")
                    .and_then(|p| p.get("total"))
                    .and_then(lenient::count);
                (self.array(list, "$.instances")?, "$.instances", total)
            }
            Value::Array(_) => (self.array(value, "$")?, "$", None),
            other => {
                return Err(self.invalid(
                    "$",
                    format!(
                        "expected the list API's object, found {}",
                        lenient::type_name(other)
                    ),
                ))
            }
        };
        let mut servers = 0u64;
        let mut users: Option<u64> = None;
        let mut active: Option<u64> = None;
        let mut latest_check: Option<NaiveDate> = None;
        let mut dead = 0u64;
        let mut not_hosts = 0u64;
        let mut domains = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let location = format!("{at}[{i}]");
            let map = self.object(item, &location)?;
            let name = match map.get("name") {
                Some(Value::String(name)) => name,
                _ => {
                    return Err(
                        self.invalid(&format!("{location}.name"), "an instance needs its name")
                    )
                }
            };
            let instance_users = self.count(map, "users", &location)?;
            let instance_active = self.count(map, "active_users", &location)?;
            if let Some(Value::String(_)) = map.get("checked_at") {
                let checked =
                    self.date(map.get("checked_at"), &format!("{location}.checked_at"))?;
                latest_check = latest_check.max(Some(checked));
            }
            if lenient::bool_at(map, &["dead"]) == Some(true) {
                dead += 1;
                continue;
            }
            servers += 1;
            if let Some(u) = instance_users {
                users = Some(users.unwrap_or(0).saturating_add(u));
            }
            if let Some(a) = instance_active {
                active = Some(active.unwrap_or(0).saturating_add(a));
            }
            match Host::parse(name) {
                Ok(host) => {
                    domains.insert(host.as_str().to_owned());
                }
                Err(_) => not_hosts += 1,
            }
        }
        let date = match self.as_of.or(latest_check) {
            Some(date) => date,
            None => self.needs_date("an instances.social list without checked_at")?,
        };
        let scope = Software::Mastodon.as_str();
        self.set(date, scope, Figure::Servers, Some(servers));
        self.set(date, scope, Figure::Users, users);
        self.set(date, scope, Figure::ActiveWeek, active);
        if dead > 0 {
            self.notes.push(format!(
                "{dead} instance(s) marked dead (down for two weeks) are not counted"
            ));
        }
        if not_hosts > 0 {
            self.notes.push(format!(
                "{not_hosts} name(s) that are not host names are counted but not listed as domains"
            ));
        }
        if let Some(total) = total {
            let listed = items.len() as u64;
            if total > listed {
                self.notes.push(format!(
                    "the file lists {listed} of the {total} instances the query matched \
                     (a page or a sample): its sums are of those {listed} only"
                ));
            }
        }
        Ok(domains.into_iter().collect())
    }
}

/// A value for an error message, cut short and in JSON (so it cannot forge lines).
fn shown(value: &Value) -> String {
    let text = value.to_string();
    shown_str(&text)
}

fn shown_str(text: &str) -> String {
    const MAX: usize = 60;
    let cut: String = text.chars().take(MAX).collect();
    let quoted = serde_json::Value::String(cut).to_string();
    if text.chars().count() > MAX {
        format!("{quoted}…")
    } else {
        quoted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    #[test]
    fn a_count_that_is_not_one_names_the_source_and_the_place() {
        let body = br#"[{"period":"2022-11-01T00:00:00.000+00:00","server_count":"many"}]"#;
        let e = parse_reference(ReferenceSource::JoinMastodon, body, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"joinmastodon: at $[0].server_count: not a count: "\"many\"""#
        );
    }

    #[test]
    fn an_oversized_file_is_refused_before_it_is_read() {
        let body = vec![b' '; MAX_REFERENCE_BYTES + 1];
        let e = parse_reference(ReferenceSource::FediDb, &body, None).unwrap_err();
        assert!(matches!(e, ReferenceError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn an_undated_answer_asks_for_as_of() {
        let body = br#"{"name":"Pixelfed","instance_count":3}"#;
        let e = parse_reference(ReferenceSource::FediDb, body, None).unwrap_err();
        assert!(e.to_string().contains("--as-of"), "{e}");
        let ok = parse_reference(ReferenceSource::FediDb, body, Some(day(2024, 1, 2)))
            .expect("dated by --as-of");
        assert_eq!(ok.points[0].scope, "pixelfed");
        assert_eq!(ok.points[0].servers, Some(3));
    }

    #[test]
    fn a_graphql_error_answer_is_refused_with_its_message() {
        let body = br#"{"errors":[{"message":"field 'x' not found"}],"data":null}"#;
        let e = parse_reference(ReferenceSource::TheFederation, body, None).unwrap_err();
        assert!(e.to_string().contains("field 'x' not found"), "{e}");
    }

    #[test]
    fn a_day_given_twice_with_other_figures_keeps_the_later_and_says_so() {
        let body = br#"[
            {"period":"2022-11-01","server_count":"1","user_count":"2","active_user_count":"3"},
            {"period":"2022-11-01","server_count":"4","user_count":"2","active_user_count":"3"}]"#;
        let f = parse_reference(ReferenceSource::JoinMastodon, body, None).expect("parses");
        assert_eq!(f.points.len(), 1);
        assert_eq!(f.points[0].servers, Some(4));
        assert!(
            f.notes.iter().any(|n| n.contains("different figures")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn source_names_round_trip() {
        for s in ReferenceSource::ALL {
            assert_eq!(ReferenceSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReferenceSource::parse("mastodon.social"), None);
    }
}
