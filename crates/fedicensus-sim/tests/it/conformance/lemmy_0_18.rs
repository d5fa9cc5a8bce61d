//! Lemmy 0.18's site and federated-instances answers, vendored: `lemmy_db_schema` 0.18.1 needs
//! `tokio-postgres`, `tokio-postgres-rustls` and an older `rustls` even without its `full`
//! feature, and `lemmy_api_common` 0.18.1 needs `actix-web`, so the types are copied here
//! verbatim (doc comments and the diesel/ts-rs derives left out), from the crates.io sources:
//! - `lemmy_api_common-0.18.1/src/site.rs`: `GetSiteResponse`, `GetFederatedInstancesResponse`,
//!   `FederatedInstances`;
//! - `lemmy_db_views-0.18.1/src/structs.rs`: `SiteView`, `CustomEmojiView`;
//! - `lemmy_db_views_actor-0.18.1/src/structs.rs`: `PersonView`;
//! - `lemmy_db_schema-0.18.1/src/`: `source/{site,local_site,local_site_rate_limit,person,
//!   instance,language,tagline,custom_emoji,custom_emoji_keyword}.rs`, `aggregates/structs.rs`,
//!   `newtypes.rs`, `lib.rs` (`ListingType`, `RegistrationMode`), `source/mod.rs`
//!   (`placeholder_apub_url`).
//!
//! `serde_with::skip_serializing_none` is serde_with 3's here (Lemmy used 1.14; the macro does the
//! same: `skip_serializing_if = "Option::is_none"` on every `Option` field). `my_user` is `None`
//! for a crawler and has an uninhabited type instead of `MyUserInfo`.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;
use url::Url;

#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Default, Serialize, Deserialize)]
pub struct PersonId(pub i32);
#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Default, Serialize, Deserialize)]
pub struct SiteId(i32);
#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Default, Serialize, Deserialize)]
pub struct LanguageId(pub i32);
#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Default, Serialize, Deserialize)]
pub struct InstanceId(i32);
#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Default, Serialize, Deserialize)]
pub struct LocalSiteId(i32);
#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Default, Serialize, Deserialize)]
pub struct CustomEmojiId(i32);

#[repr(transparent)]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
pub struct DbUrl(pub(crate) Box<Url>);

fn placeholder_apub_url() -> DbUrl {
    DbUrl(Box::new(
        Url::parse("http://example.com").expect("parse placeholer url"),
    ))
}

#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum ListingType {
    All,
    Local,
    Subscribed,
}

#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMode {
    Closed,
    RequireApplication,
    Open,
}

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

#[skip_serializing_none]
#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct GetFederatedInstancesResponse {
    pub federated_instances: Option<FederatedInstances>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct FederatedInstances {
    pub linked: Vec<Instance>,
    pub allowed: Vec<Instance>,
    pub blocked: Vec<Instance>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct SiteView {
    pub site: Site,
    pub local_site: LocalSite,
    pub local_site_rate_limit: LocalSiteRateLimit,
    pub counts: SiteAggregates,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct CustomEmojiView {
    pub custom_emoji: CustomEmoji,
    pub keywords: Vec<CustomEmojiKeyword>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct PersonView {
    pub person: Person,
    pub counts: PersonAggregates,
}

#[skip_serializing_none]
#[derive(PartialEq, Eq, Debug, Clone, Serialize, Deserialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub sidebar: Option<String>,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    pub icon: Option<DbUrl>,
    pub banner: Option<DbUrl>,
    pub description: Option<String>,
    pub actor_id: DbUrl,
    pub last_refreshed_at: chrono::NaiveDateTime,
    pub inbox_url: DbUrl,
    pub private_key: Option<String>,
    pub public_key: String,
    pub instance_id: InstanceId,
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
    pub captcha_enabled: bool,
    pub captcha_difficulty: String,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    pub registration_mode: RegistrationMode,
    pub reports_email_admins: bool,
}

#[skip_serializing_none]
#[derive(PartialEq, Eq, Debug, Clone, Serialize, Deserialize)]
pub struct LocalSiteRateLimit {
    pub id: i32,
    pub local_site_id: LocalSiteId,
    pub message: i32,
    pub message_per_second: i32,
    pub post: i32,
    pub post_per_second: i32,
    pub register: i32,
    pub register_per_second: i32,
    pub image: i32,
    pub image_per_second: i32,
    pub comment: i32,
    pub comment_per_second: i32,
    pub search: i32,
    pub search_per_second: i32,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
}

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
    #[serde(skip, default = "placeholder_apub_url")]
    pub inbox_url: DbUrl,
    #[serde(skip)]
    pub shared_inbox_url: Option<DbUrl>,
    pub matrix_user_id: Option<String>,
    pub admin: bool,
    pub bot_account: bool,
    pub ban_expires: Option<chrono::NaiveDateTime>,
    pub instance_id: InstanceId,
}

#[skip_serializing_none]
#[derive(PartialEq, Eq, Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: InstanceId,
    pub domain: String,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    pub software: Option<String>,
    pub version: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Language {
    pub id: LanguageId,
    pub code: String,
    pub name: String,
}

#[skip_serializing_none]
#[derive(PartialEq, Eq, Debug, Clone, Serialize, Deserialize)]
pub struct Tagline {
    pub id: i32,
    pub local_site_id: LocalSiteId,
    pub content: String,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
}

#[skip_serializing_none]
#[derive(PartialEq, Eq, Debug, Clone, Serialize, Deserialize)]
pub struct CustomEmoji {
    pub id: CustomEmojiId,
    pub local_site_id: LocalSiteId,
    pub shortcode: String,
    pub image_url: DbUrl,
    pub alt_text: String,
    pub category: String,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
}

#[derive(PartialEq, Eq, Debug, Clone, Serialize, Deserialize)]
pub struct CustomEmojiKeyword {
    pub id: i32,
    pub custom_emoji_id: CustomEmojiId,
    pub keyword: String,
}

#[derive(PartialEq, Eq, Debug, Serialize, Deserialize, Clone)]
pub struct PersonAggregates {
    pub id: i32,
    pub person_id: PersonId,
    pub post_count: i64,
    pub post_score: i64,
    pub comment_count: i64,
    pub comment_score: i64,
}

#[derive(PartialEq, Eq, Debug, Serialize, Deserialize, Clone)]
pub struct SiteAggregates {
    pub id: i32,
    pub site_id: SiteId,
    pub users: i64,
    pub posts: i64,
    pub comments: i64,
    pub communities: i64,
    pub users_active_day: i64,
    pub users_active_week: i64,
    pub users_active_month: i64,
    pub users_active_half_year: i64,
}
