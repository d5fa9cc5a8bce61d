//! The crawl's progress as a person watching sees it: a bar on a terminal, a log line every ten
//! seconds otherwise.

use super::*;

/// A progress bar on a terminal; a log line every ten seconds otherwise.
#[derive(Clone)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last_line: Arc<std::sync::Mutex<Instant>>,
    /// Visits written so far in the pass (read by the demo's banner).
    visited: Arc<std::sync::atomic::AtomicU64>,
}

impl Progress {
    pub fn new() -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} {pos} visits ({per_sec}) {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            last_line: Arc::new(std::sync::Mutex::new(Instant::now())),
            visited: Arc::default(),
        }
    }

    /// Visits written so far in the pass this progress follows.
    pub fn visited(&self) -> u64 {
        self.visited.load(Ordering::Relaxed)
    }

    pub(super) fn update(&self, summary: &PassSummary, outcome: &Outcome) {
        self.visited.store(summary.visited, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_position(summary.visited);
            bar.set_message(format!(
                "{} discovered, last: {outcome}",
                summary.discovered
            ));
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= Duration::from_secs(10) {
            *last = Instant::now();
            tracing::info!(
                visited = summary.visited,
                discovered = summary.discovered,
                "crawling"
            );
        }
    }

    pub(super) fn finish(&self, summary: &PassSummary) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(format!("{} discovered", summary.discovered));
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("bar", &self.bar.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
