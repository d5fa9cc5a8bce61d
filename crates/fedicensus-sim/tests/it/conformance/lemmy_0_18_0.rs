//! Lemmy 0.18.0, where it differs from 0.18.1 (LemmyNet/lemmy, `git diff 0.18.0 0.18.1`), copied
//! verbatim from the 0.18.0 tag (`crates/db_schema/src/source/local_site.rs`,
//! `crates/db_schema/src/source/person.rs`, `crates/api_common/src/site.rs`; no 0.18.0 release of
//! these crates is on crates.io):
//! - `LocalSite` still has `federation_worker_count`;
//! - `Person::inbox_url` is `#[serde(skip_serializing)]`: 0.18.0 never writes it but its own type
//!   requires it, so a 0.18.0 client rejects every 0.18.0 site answer. 0.18.1 made it
//!   `#[serde(skip, default = "placeholder_apub_url")]` "for crates which rely on Rust API such
//!   as lemmy-stats-crawler" (`source/mod.rs`). The simulator's 0.18.0 servers deviate the same
//!   way; the suite reads them with 0.18.1's `Person`, and checks that 0.18.0's rejects them.

use super::lemmy_0_18::{
    CustomEmojiView, DbUrl, InstanceId, Language, LanguageId, ListingType, LocalSiteId,
    LocalSiteRateLimit, PersonId, PersonView, RegistrationMode, Site, SiteAggregates, SiteId,
    Tagline,
};
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct GetSiteResponse {
    pub site_view: SiteView,
    pub admins: Vec<PersonView>,
    pub version: String,
    pub my_user: Option<super::LoggedOut>,
    pub all_languages: Vec<Language>,
    pub discussion_languages: Vec<LanguageId>,
    pub taglines: Vec<Tagline>,
    pub custom_emojis: Vec<CustomEmojiView>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct SiteView {
    pub site: Site,
    pub local_site: LocalSite,
    pub local_site_rate_limit: LocalSiteRateLimit,
    pub counts: SiteAggregates,
}

#[skip_serializing_none]
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
    pub default_post_listing_type: ListingType,
    pub legal_information: Option<String>,
    pub hide_modlog_mod_names: bool,
    pub application_email_admins: bool,
    pub slur_filter_regex: Option<String>,
    pub actor_name_max_length: i32,
    pub federation_enabled: bool,
    pub federation_worker_count: i32,
    pub captcha_enabled: bool,
    pub captcha_difficulty: String,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    pub registration_mode: RegistrationMode,
    pub reports_email_admins: bool,
}

/// 0.18.0's own `Person`, which cannot read 0.18.0's answers.
#[skip_serializing_none]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub display_name: Option<String>,
    pub avatar: Option<DbUrl>,
    pub banned: bool,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    pub actor_id: DbUrl,
    pub bio: Option<String>,
    pub local: bool,
    #[serde(skip)]
    pub private_key: Option<String>,
    #[serde(skip)]
    pub public_key: String,
    #[serde(skip)]
    pub last_refreshed_at: chrono::NaiveDateTime,
    pub banner: Option<DbUrl>,
    pub deleted: bool,
    #[serde(skip_serializing)]
    pub inbox_url: DbUrl,
    #[serde(skip)]
    pub shared_inbox_url: Option<DbUrl>,
    pub matrix_user_id: Option<String>,
    pub admin: bool,
    pub bot_account: bool,
    pub ban_expires: Option<chrono::NaiveDateTime>,
    pub instance_id: InstanceId,
}
