//! Lemmy 0.15's site answer, vendored: `lemmy_api_common` 0.15.2 cannot be built without
//! diesel's PostgreSQL backend (its `diesel`, `lemmy_utils` and `lemmy_db_*` dependencies are not
//! optional there), so its types are copied here verbatim, trimmed to what `GetSiteResponse`
//! holds, from the crates.io sources:
//! - `lemmy_api_common-0.15.2/src/site.rs`: `GetSiteResponse`, `FederatedInstances`;
//! - `lemmy_db_views-0.15.2/src/site_view.rs`: `SiteView`;
//! - `lemmy_db_views_actor-0.15.2/src/person_view.rs`: `PersonViewSafe`;
//! - `lemmy_db_schema-0.15.2/src/source/site.rs`: `Site`; `src/source/person.rs`: `PersonSafe`;
//!   `src/aggregates/site_aggregates.rs`, `person_aggregates.rs`; `src/newtypes.rs`: `PersonId`,
//!   `DbUrl`.
//!
//! Only the diesel derives are left out, and `my_user`, which is `None` for a crawler (it sends no
//! login token), has an uninhabited type instead of `MyUserInfo`: any value there is rejected.

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Default, Serialize, Deserialize)]
pub struct PersonId(pub i32);

#[repr(transparent)]
#[derive(Clone, PartialEq, Serialize, Deserialize, Debug)]
pub struct DbUrl(Url);

#[derive(Debug, Serialize, Deserialize)]
pub struct GetSiteResponse {
    pub site_view: Option<SiteView>, // Because the site might not be set up yet
    pub admins: Vec<PersonViewSafe>,
    pub online: usize,
    pub version: String,
    pub my_user: Option<super::LoggedOut>,
    pub federated_instances: Option<FederatedInstances>, // Federation may be disabled
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct FederatedInstances {
    pub linked: Vec<String>,
    pub allowed: Option<Vec<String>>,
    pub blocked: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct SiteView {
    pub site: Site,
    pub creator: PersonSafe,
    pub counts: SiteAggregates,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct PersonViewSafe {
    pub person: PersonSafe,
    pub counts: PersonAggregates,
}

#[derive(PartialEq, Debug, Clone, Serialize, Deserialize)]
pub struct Site {
    pub id: i32,
    pub name: String,
    pub sidebar: Option<String>,
    pub creator_id: PersonId,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    pub enable_downvotes: bool,
    pub open_registration: bool,
    pub enable_nsfw: bool,
    pub icon: Option<DbUrl>,
    pub banner: Option<DbUrl>,
    pub description: Option<String>,
    pub community_creation_admin_only: bool,
    pub require_email_verification: bool,
    pub require_application: bool,
    pub application_question: Option<String>,
    pub private_instance: bool,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct PersonSafe {
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
    pub banner: Option<DbUrl>,
    pub deleted: bool,
    pub inbox_url: DbUrl,
    pub shared_inbox_url: Option<DbUrl>,
    pub matrix_user_id: Option<String>,
    pub admin: bool,
    pub bot_account: bool,
    pub ban_expires: Option<chrono::NaiveDateTime>,
}

#[derive(PartialEq, Debug, Serialize, Deserialize, Clone)]
pub struct PersonAggregates {
    pub id: i32,
    pub person_id: PersonId,
    pub post_count: i64,
    pub post_score: i64,
    pub comment_count: i64,
    pub comment_score: i64,
}

#[derive(PartialEq, Debug, Serialize, Deserialize, Clone)]
pub struct SiteAggregates {
    pub id: i32,
    pub site_id: i32,
    pub users: i64,
    pub posts: i64,
    pub comments: i64,
    pub communities: i64,
    pub users_active_day: i64,
    pub users_active_week: i64,
    pub users_active_month: i64,
    pub users_active_half_year: i64,
}
