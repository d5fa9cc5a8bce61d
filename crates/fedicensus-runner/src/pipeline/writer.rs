//! The writer: one task that records finished visits in batched transactions, each with the
//! release of its leases, so the visits never wait on the database and a killed crawl loses
//! nothing it had stored (recording is idempotent).

use super::*;

/// A finished visit on its way to the writer.
pub(super) struct Finished {
    pub(super) due: DueHost,
    pub(super) report: VisitReport,
    /// When the host is due again.
    pub(super) next: DateTime<Utc>,
    /// The names in its peer list (counted in [`HELD_PEERS`] until written).
    pub(super) peers: usize,
}

/// The leasing loop's side of the writer.
pub(super) struct Handoff<'a> {
    pub(super) to_writer: &'a mpsc::Sender<Finished>,
    /// How many visits the writer has stored.
    pub(super) written: &'a mut watch::Receiver<u64>,
    /// Peer names read and not yet stored (see [`HELD_PEERS`]).
    pub(super) held_peers: &'a Arc<AtomicUsize>,
}

/// The writer task's state and what it reports to the leasing loop and the progress display.
pub(super) struct Writer {
    pub(super) storage: Storage,
    pub(super) run: RunId,
    pub(super) worker: String,
    pub(super) written: watch::Sender<u64>,
    pub(super) held_peers: Arc<AtomicUsize>,
    pub(super) summary: Arc<std::sync::Mutex<PassSummary>>,
    pub(super) progress: Progress,
}

/// Visits written in one transaction, at most.
pub(super) const WRITE_BATCH: usize = 256;

/// The writer task: records finished visits in batches of whatever has arrived (up to
/// [`WRITE_BATCH`]), each batch in one transaction with the release of its leases, and counts
/// what it wrote on `written`.
pub(super) async fn write_visits(
    writer: Writer,
    mut from_visits: mpsc::Receiver<Finished>,
) -> Result<()> {
    let Writer {
        storage,
        run,
        worker,
        written,
        held_peers,
        summary,
        progress,
    } = writer;
    let mut buffer: Vec<Finished> = Vec::with_capacity(WRITE_BATCH);
    let mut total = 0u64;
    loop {
        if from_visits.recv_many(&mut buffer, WRITE_BATCH).await == 0 {
            return Ok(());
        }
        let peers: usize = buffer.iter().map(|f| f.peers).sum();
        let visits: Vec<(Observation, DateTime<Utc>)> = buffer
            .drain(..)
            .map(|f| (f.report.observation, f.next))
            .collect();
        let recorded = match reconnecting("recording visits", || {
            storage.record_visits(&visits, Some(run), &worker)
        })
        .await
        {
            Ok(recorded) => recorded,
            // Anything but a conflict (a full disk, a refused query) is the batch's own error,
            // reported as it is rather than hidden behind a retry one visit at a time.
            Err(err) if !write_conflict(&err) => {
                return Err(err)
                    .with_context(|| format!("recording a batch of {} visits", visits.len()))
            }
            Err(err) => {
                // Two PostgreSQL workers' batches can deadlock on the servers their peer lists
                // share (the database aborts one). Recording is idempotent, so the batch is
                // written again one visit a transaction, each retried a few times.
                tracing::warn!(error = %err, visits = visits.len(), "a batched write met a conflicting one; writing one by one");
                let mut recorded = Vec::with_capacity(visits.len());
                for visit in &visits {
                    let mut attempt = 0;
                    let one = loop {
                        attempt += 1;
                        match reconnecting("recording a visit", || {
                            storage.record_visits(std::slice::from_ref(visit), Some(run), &worker)
                        })
                        .await
                        {
                            Ok(mut one) => break one.pop(),
                            Err(_) if attempt < 5 => {
                                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                            }
                            Err(err) => {
                                return Err(err).with_context(|| {
                                    format!("recording the visit of {}", visit.0.host)
                                })
                            }
                        }
                    };
                    recorded.extend(one);
                }
                recorded
            }
        };
        total += visits.len() as u64;
        let mut summary = summary.lock().unwrap_or_else(|e| e.into_inner());
        for ((observation, _), recorded) in visits.iter().zip(&recorded) {
            summary.visited += 1;
            if recorded.newly_stored {
                summary.recorded += 1;
            }
            summary.discovered += recorded.servers_discovered;
            progress.update(&summary, &observation.outcome);
        }
        drop(summary);
        drop(visits);
        held_peers.fetch_sub(peers, Ordering::Relaxed);
        written.send_replace(total);
    }
}
