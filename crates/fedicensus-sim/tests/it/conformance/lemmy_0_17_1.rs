//! Lemmy 0.17.0 and 0.17.1, where they differ from 0.17.4 (LemmyNet/lemmy, `git diff 0.17.1
//! 0.17.4`): `LocalSite` has no `reports_email_admins` (added in 0.17.2). `LocalSite` is copied
//! verbatim from the 0.17.1 tag (`crates/db_schema/src/source/local_site.rs`, the same in 0.17.0);
//! everything else in the site answer is 0.17.4's (`lemmy_0_17`), which the same diff leaves
//! unchanged.

use super::lemmy_0_17::{FederatedInstances, MyUserInfo};
use lemmy_db_schema_0_17::newtypes::{LanguageId, LocalSiteId, SiteId};
use lemmy_db_schema_0_17::source::local_site::RegistrationMode;
use lemmy_db_schema_0_17::source::{language::Language, tagline::Tagline};
use lemmy_db_schema_0_17::{
    aggregates::structs::SiteAggregates, source::local_site_rate_limit::LocalSiteRateLimit,
    source::site::Site,
};
use lemmy_db_views_actor_0_17::structs::PersonViewSafe;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct GetSiteResponse {
    pub site_view: SiteView,
    pub admins: Vec<PersonViewSafe>,
    pub online: usize,
    pub version: String,
    pub my_user: Option<MyUserInfo>,
    pub federated_instances: Option<FederatedInstances>, // Federation may be disabled
    pub all_languages: Vec<Language>,
    pub discussion_languages: Vec<LanguageId>,
    pub taglines: Option<Vec<Tagline>>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct SiteView {
    pub site: Site,
    pub local_site: LocalSite,
    pub local_site_rate_limit: LocalSiteRateLimit,
    pub counts: SiteAggregates,
}

#[derive(PartialEq, Eq, Debug, Clone, Serialize, Deserialize)]
pub struct LocalSite {
    pub id: LocalSiteId,
    pub site_id: SiteId,
    pub site_setup: bool,
    pub enable_downvotes: bool,
    pub enable_nsfw: bool,
    pub community_creation_admin_only: bool,
    pub require_email_verification: bool,
    pub application_question: Option<String>,
    pub private_instance: bool,
    pub default_theme: String,
    pub default_post_listing_type: String,
    pub legal_information: Option<String>,
    pub hide_modlog_mod_names: bool,
    pub application_email_admins: bool,
    pub slur_filter_regex: Option<String>,
    pub actor_name_max_length: i32,
    pub federation_enabled: bool,
    pub federation_debug: bool,
    pub federation_worker_count: i32,
    pub captcha_enabled: bool,
    pub captcha_difficulty: String,
    pub registration_mode: RegistrationMode,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
}
