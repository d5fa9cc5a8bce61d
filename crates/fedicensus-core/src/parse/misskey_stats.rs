//! Misskey's `POST /api/stats`: `original*` counts are local, the others include remote users and
//! notes; `instances` is the number of known hosts.

use super::instance_v1::measurements;
use super::{lenient, read_object, ParseError};
use crate::observation::{Measurement, Metric, Source};
use serde::Serialize;

/// A parsed `/api/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MisskeyStats {
    /// Local users.
    pub original_users_count: Option<u64>,
    /// Local notes.
    pub original_notes_count: Option<u64>,
    /// Users known, local and remote.
    pub users_count: Option<u64>,
    /// Notes known, local and remote.
    pub notes_count: Option<u64>,
    /// Hosts known.
    pub instances: Option<u64>,
}

impl MisskeyStats {
    /// Local users and notes and known hosts, tagged [`Source::MisskeyStats`].
    pub fn measurements(&self) -> Vec<Measurement> {
        measurements(
            Source::MisskeyStats,
            &[
                (Metric::UsersTotal, self.original_users_count),
                (Metric::LocalPosts, self.original_notes_count),
                (Metric::DomainCount, self.instances),
            ],
        )
    }
}

/// Parses `/api/stats`.
pub fn parse_misskey_stats(bytes: &[u8]) -> Result<MisskeyStats, ParseError> {
    let doc = read_object(bytes, "a Misskey stats document")?;
    let count = |key: &str| lenient::count_at(&doc, &[key]);
    Ok(MisskeyStats {
        original_users_count: count("originalUsersCount"),
        original_notes_count: count("originalNotesCount"),
        users_count: count("usersCount"),
        notes_count: count("notesCount"),
        instances: count("instances"),
    })
}
