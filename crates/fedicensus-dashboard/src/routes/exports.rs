//! `GET /api/v1/exports/{file}`: whole-census exports as CSV, streamed.
//!
//! The exports are storage's (`fedicensus export` writes the same files), and may be large: all
//! observations of a census of 30,000 servers visited every 6 hours are about 44 million rows a
//! year. So they are not built in memory or cached: storage writes the CSV on a blocking thread
//! into a writer that hands 64 KiB chunks to the response through a small channel, and waits
//! while the client is slower than the database (memory stays at a few chunks, whatever the
//! size). A client that goes away stops the export.
//!
//! Waiting for a slow client keeps the export's database connection, so exports are limited to
//! [`MAX_CONCURRENT_EXPORTS`](crate::state::MAX_CONCURRENT_EXPORTS) at once: with ten slow downloads and no limit, all eight pool
//! connections were held at the clients' pace and the API and `/healthz` stopped answering.
//! One more export is answered `503` with `Retry-After`; a client that stops reading altogether
//! is cut by the server's idle timeout ([`crate::ServeLimits`]), which frees its slot.

use super::api::{EARLIEST, LATEST};
use super::Params;
use crate::error::{Error, Result};
use crate::state::{AppState, EXPORT_RETRY_AFTER_SECS};
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fedicensus_storage::{Export, METHODOLOGY_VERSION};
use std::collections::HashMap;
use std::io::Write;
use tokio::sync::mpsc;

type QueryMap = std::result::Result<Query<HashMap<String, String>>, QueryRejection>;

/// The files, as named in the URL.
pub const FILES: &str = "observations.csv, activity.csv, peer_edges.csv, snapshot.csv, \
                         reference_figures.csv, block_edges.csv, most_blocked.csv, \
                         blocks_per_week.csv";
/// Bytes per chunk handed to the response.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the export and the client.
const CHUNKS_IN_FLIGHT: usize = 4;

/// `GET /api/v1/exports/{file}` with `from` and `to` (observations, activity; default the first
/// and the last crawl, as `fedicensus export`) or `date` (snapshot; default the last crawled day).
pub async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    query: QueryMap,
) -> Result<Response> {
    let params = Params::new(query, &["from", "to", "date"])?;
    let (from, to) = match (params.date("from")?, params.date("to")?) {
        (Some(from), Some(to)) => (from, to),
        // The defaults of `fedicensus export`: the first and the last crawl, so that the same
        // file name gives the same rows from either.
        (from, to) if file == "observations.csv" || file == "activity.csv" => {
            match crate::data::crawl_range(&state.storage).await? {
                Some((first, last)) => (from.unwrap_or(first), to.unwrap_or(last)),
                None => (from.unwrap_or(EARLIEST), to.unwrap_or(LATEST)),
            }
        }
        (from, to) => (from.unwrap_or(EARLIEST), to.unwrap_or(LATEST)),
    };
    if from > to {
        return Err(Error::bad(
            "from",
            format!("{from} is after to={to}"),
            "from on or before to",
        ));
    }
    let what = match file.as_str() {
        "observations.csv" => Export::Observations { from, to },
        "activity.csv" => Export::Activity { from, to },
        // `peer-edges.csv` is the name this URL had before it took the file's own name.
        "peer_edges.csv" | "peer-edges.csv" => Export::PeerEdges,
        "reference_figures.csv" => Export::References { from, to },
        "block_edges.csv" => Export::BlockEdges,
        "most_blocked.csv" => Export::MostBlocked,
        "blocks_per_week.csv" => Export::BlocksPerWeek,
        "snapshot.csv" => Export::Snapshot(match params.date("date")? {
            Some(date) => date,
            None => crate::data::data_range(&state.storage).await?.1,
        }),
        other => {
            return Err(Error::NotFound(format!(
                "no export {other:?}; there are {FILES}"
            )))
        }
    };
    let permit = state
        .exports
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::Busy {
            what: "every export slot is in use",
            retry_after_secs: EXPORT_RETRY_AFTER_SECS,
        })?;
    let name = what.file_name();
    let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    let storage = state.storage.clone();
    let runtime = tokio::runtime::Handle::current();
    let log_name = name.clone();
    tokio::task::spawn_blocking(move || {
        // The slot is given back when the export ends, however it ends.
        let _permit = permit;
        let mut writer = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = runtime.block_on(storage.export_csv(&what, &mut writer));
        let result = match result {
            Ok(_) => writer.flush(),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        };
        if let Err(e) = result {
            // The client went away, or the export failed: the response ends early, which an
            // HTTP client sees as an incomplete body, never as a complete file.
            tracing::warn!(error = %e, export = %log_name, "a streamed export ended early");
            let _ = tx.try_send(Err(e));
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-fedicensus-methodology-version"),
                METHODOLOGY_VERSION.to_owned(),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// A `Write` that sends full chunks down a channel, waiting while the channel is full (it runs
/// on a blocking thread, inside `Handle::block_on`, where a blocking send is not allowed, so it
/// retries). Fails once the receiving side, the response, is gone.
struct ChannelWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut chunk = Ok(Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK),
        )));
        loop {
            match self.tx.try_send(chunk) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(back)) => {
                    chunk = back;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::BrokenPipe,
                        "the client went away",
                    ))
                }
            }
        }
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
