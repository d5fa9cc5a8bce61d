//! What a pass did: the counts the pass line prints and the crawl run records.

use super::*;

/// What one pass did.
#[derive(Debug, Default, Clone)]
pub struct PassSummary {
    pub visited: u64,
    pub recorded: u64,
    pub discovered: u64,
    pub by_outcome: BTreeMap<String, u64>,
    pub over_budget: u64,
    pub elapsed: Duration,
    pub cancelled: bool,
    /// What the crawler measured of its own health during the pass.
    pub health: Option<HealthReport>,
    /// Body bytes the pass's visits received (after decompression).
    pub body_bytes: u64,
    /// What the cache of documents held at the end of the pass and did (counts since it was
    /// made, so across the passes that shared it); `None` when conditional requests are off.
    pub cache: Option<CacheReport>,
}

impl PassSummary {
    /// Visits recorded `inconclusive`: failed while the crawler itself was stalled, so not
    /// counted against the servers.
    pub fn inconclusive(&self) -> u64 {
        self.by_outcome
            .get(&Outcome::Inconclusive.as_str())
            .copied()
            .unwrap_or(0)
    }
}

/// A run's record of the crawler's health, from what it measured.
pub(super) fn run_health(report: &HealthReport) -> RunHealth {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    RunHealth {
        lag_p99_ms: ms(report.lag_p99),
        lag_max_ms: ms(report.lag_max),
        stalled_ms: ms(report.stalled),
        cpu_permille: report.cpu_share.map(|c| (c * 1000.0).round() as u64),
        visit_limit_min: report.visit_limit_min as u64,
        visit_limit_max: report.visit_limit_max as u64,
    }
}

impl std::fmt::Display for PassSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "crawl pass {}: {} visits recorded, {} new servers discovered, {} held back by the \
             per-domain budget, in {:.1} s",
            if self.cancelled {
                "stopped"
            } else {
                "finished"
            },
            self.recorded,
            self.discovered,
            self.over_budget,
            self.elapsed.as_secs_f64()
        )?;
        let outcomes: Vec<String> = self
            .by_outcome
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if !outcomes.is_empty() {
            write!(f, "\noutcomes: {}", outcomes.join(", "))?;
        }
        if let Some(c) = &self.cache {
            write!(
                f,
                "\nconditional requests: {} sent, {} not modified, {} reused while fresh, {:.1} MB \
                 not transferred; {:.1} MB received; cache {} documents, {:.1} MB",
                c.conditional,
                c.not_modified,
                c.reused,
                c.bytes_saved as f64 / 1e6,
                self.body_bytes as f64 / 1e6,
                c.entries,
                c.bytes as f64 / 1e6
            )?;
        }
        if let Some(h) = &self.health {
            write!(
                f,
                "\ncrawler's own health: lag p99 {} ms, max {} ms, stalled {:.1} s of {:.1} s, \
                 visits in flight {}-{}; {} visits inconclusive (not counted against servers)",
                h.lag_p99.as_millis(),
                h.lag_max.as_millis(),
                h.stalled.as_secs_f64(),
                h.elapsed.as_secs_f64(),
                h.visit_limit_min,
                h.visit_limit_max,
                self.inconclusive()
            )?;
        }
        Ok(())
    }
}
