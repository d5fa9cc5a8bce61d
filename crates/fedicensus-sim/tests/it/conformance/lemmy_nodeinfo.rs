//! Lemmy's NodeInfo and well-known documents, vendored from `lemmy_routes-0.16.7/src/nodeinfo.rs`
//! (crates.io; the types are private to that crate, and it needs actix-web). 0.15.2 and 0.17.4
//! declare the same types (the LemmyNet/lemmy tags, `crates/routes/src/nodeinfo.rs`); 0.18 makes
//! every field an `Option` with `#[serde(default)]` so that it can read other servers' documents
//! too, and still fills every one of them, so what 0.18 serves is what these types write.

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Serialize, Deserialize, Debug)]
pub struct NodeInfoWellKnown {
    pub links: Vec<NodeInfoWellKnownLinks>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct NodeInfoWellKnownLinks {
    pub rel: Url,
    pub href: Url,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub version: String,
    pub software: NodeInfoSoftware,
    pub protocols: Vec<String>,
    pub usage: NodeInfoUsage,
    pub open_registrations: bool,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct NodeInfoSoftware {
    pub name: String,
    pub version: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoUsage {
    pub users: NodeInfoUsers,
    pub local_posts: i64,
    pub local_comments: i64,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoUsers {
    pub total: i64,
    pub active_halfyear: i64,
    pub active_month: i64,
}
