//! Lemmy 0.17's site answer: the envelope vendored, everything inside it the real crates.
//! `lemmy_api_common` 0.17.4 needs `actix`, `background-jobs`, `tokio` and `reqwest` even without
//! its `full` feature, so `GetSiteResponse`, `MyUserInfo` and `FederatedInstances` are copied
//! verbatim from `lemmy_api_common-0.17.4/src/site.rs` (crates.io); the types they hold come
//! from `lemmy_db_schema`, `lemmy_db_views` and `lemmy_db_views_actor` 0.17.4 themselves, built
//! without `full` (no diesel).

use lemmy_db_schema_0_17::newtypes::LanguageId;
use lemmy_db_schema_0_17::source::{language::Language, tagline::Tagline};
use lemmy_db_views_0_17::structs::{LocalUserSettingsView, SiteView};
use lemmy_db_views_actor_0_17::structs::{
    CommunityBlockView, CommunityFollowerView, CommunityModeratorView, PersonBlockView,
    PersonViewSafe,
};
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
/// Your user info.
pub struct MyUserInfo {
    pub local_user_view: LocalUserSettingsView,
    pub follows: Vec<CommunityFollowerView>,
    pub moderates: Vec<CommunityModeratorView>,
    pub community_blocks: Vec<CommunityBlockView>,
    pub person_blocks: Vec<PersonBlockView>,
    pub discussion_languages: Vec<LanguageId>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct FederatedInstances {
    pub linked: Vec<String>,
    pub allowed: Option<Vec<String>>,
    pub blocked: Option<Vec<String>>,
}
