//! Mastodon's `/api/v2/instance` (4.0+; Friendica implements part of it).
//!
//! It has no totals, only `usage.users.active_month` — Mastodon's own monthly-active figure, the
//! one [`crate::Observation::best`] prefers. Since 4.4 a server in limited-federation mode answers
//! 200 with `configuration.limited_federation: true` and `active_month` forced to 0; that zero is a
//! placeholder, not a measurement, so it is not reported.

use super::instance_v1::{document_software, measurements};
use super::{lenient, read_object, version::normalise_version, ParseError};
use crate::host::Host;
use crate::language::{self, DeclaredLanguage};
use crate::observation::{Measurement, Metric, Source};
use crate::software::Software;
use serde::Serialize;

/// A parsed `/api/v2/instance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceV2 {
    /// `domain` as sent: the account domain, which may differ from the web host queried.
    pub raw_domain: Option<String>,
    pub domain: Option<Host>,
    pub title: Option<String>,
    pub raw_version: Option<String>,
    /// The software the document names (`version`, `source_url`, GoToSocial's
    /// `account_domain`; see [`super::instance_v1::document_software`]), `None` when it names
    /// none.
    pub software: Option<Software>,
    /// The software's name as the document spells it, when it spells one.
    pub software_name: Option<String>,
    /// The software's own version as sent.
    pub software_version: Option<String>,
    pub version: Option<String>,
    pub users_active_month: Option<u64>,
    pub registrations_enabled: Option<bool>,
    pub approval_required: Option<bool>,
    /// `configuration.limited_federation` (4.4+).
    pub limited_federation: Option<bool>,
    /// `languages`, normalised ([`crate::language`]).
    pub languages: Vec<String>,
}

impl InstanceV2 {
    /// The languages it declared, tagged [`crate::Source::InstanceV2`].
    pub fn declared_languages(&self) -> Vec<DeclaredLanguage> {
        language::declared(crate::Source::InstanceV2, &self.languages)
    }

    /// The numbers reported, tagged [`Source::InstanceV2`] (not the forced 0 of limited
    /// federation).
    pub fn measurements(&self) -> Vec<Measurement> {
        let active = self
            .users_active_month
            .filter(|n| !(*n == 0 && self.limited_federation == Some(true)));
        measurements(Source::InstanceV2, &[(Metric::UsersActiveMonth, active)])
    }
}

/// Parses `/api/v2/instance`. Fails only on non-objects and error objects.
pub fn parse_instance_v2(bytes: &[u8]) -> Result<InstanceV2, ParseError> {
    let doc = read_object(bytes, "an instance document")?;
    let raw_domain = lenient::string_at(&doc, &["domain"]);
    let raw_version = lenient::string_at(&doc, &["version"]);
    let users = lenient::object(&doc, &["usage"]).and_then(|u| lenient::object(u, &["users"]));
    let registrations = lenient::object(&doc, &["registrations"]);
    let configuration = lenient::object(&doc, &["configuration"]);
    let sniff = document_software(&doc, raw_version.as_deref());
    Ok(InstanceV2 {
        domain: raw_domain.as_deref().and_then(|d| Host::parse(d).ok()),
        raw_domain,
        title: lenient::string_at(&doc, &["title"]),
        software: sniff.as_ref().map(|s| s.family.clone()),
        software_name: sniff.as_ref().and_then(|s| s.name.clone()),
        software_version: sniff.and_then(|s| s.version),
        version: raw_version.as_deref().and_then(normalise_version),
        raw_version,
        users_active_month: users.and_then(|u| lenient::count_at(u, &["active_month"])),
        registrations_enabled: registrations.and_then(|r| lenient::bool_at(r, &["enabled"])),
        approval_required: registrations.and_then(|r| lenient::bool_at(r, &["approval_required"])),
        limited_federation: configuration
            .and_then(|c| lenient::bool_at(c, &["limited_federation"])),
        languages: language::from_json(lenient::get(&doc, &["languages"])),
    })
}
