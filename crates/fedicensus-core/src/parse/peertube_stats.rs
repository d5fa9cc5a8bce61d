//! PeerTube's `/api/v1/server/stats` (`ServerStats`): users with daily, weekly and monthly
//! actives, and local videos (which PeerTube's NodeInfo reports as `localPosts`).

use super::instance_v1::measurements;
use super::{lenient, read_object, ParseError};
use crate::observation::{Measurement, Metric, Source};
use serde::Serialize;

/// A parsed `/api/v1/server/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeertubeStats {
    pub total_users: Option<u64>,
    pub total_daily_active_users: Option<u64>,
    pub total_weekly_active_users: Option<u64>,
    pub total_monthly_active_users: Option<u64>,
    pub total_local_videos: Option<u64>,
    pub total_local_video_comments: Option<u64>,
    pub total_local_video_views: Option<u64>,
    pub total_instance_followers: Option<u64>,
    pub total_instance_following: Option<u64>,
}

impl PeertubeStats {
    /// The numbers reported, tagged [`Source::PeertubeStats`]; videos count as posts, as in
    /// PeerTube's NodeInfo.
    pub fn measurements(&self) -> Vec<Measurement> {
        measurements(
            Source::PeertubeStats,
            &[
                (Metric::UsersTotal, self.total_users),
                (Metric::UsersActiveMonth, self.total_monthly_active_users),
                (Metric::UsersActiveWeek, self.total_weekly_active_users),
                (Metric::LocalPosts, self.total_local_videos),
                (Metric::LocalComments, self.total_local_video_comments),
            ],
        )
    }
}

/// Parses `/api/v1/server/stats`.
pub fn parse_peertube_stats(bytes: &[u8]) -> Result<PeertubeStats, ParseError> {
    let doc = read_object(bytes, "a PeerTube stats document")?;
    let count = |key: &str| lenient::count_at(&doc, &[key]);
    Ok(PeertubeStats {
        total_users: count("totalUsers"),
        total_daily_active_users: count("totalDailyActiveUsers"),
        total_weekly_active_users: count("totalWeeklyActiveUsers"),
        total_monthly_active_users: count("totalMonthlyActiveUsers"),
        total_local_videos: count("totalLocalVideos"),
        total_local_video_comments: count("totalLocalVideoComments"),
        total_local_video_views: count("totalLocalVideoViews"),
        total_instance_followers: count("totalInstanceFollowers"),
        total_instance_following: count("totalInstanceFollowing"),
    })
}
