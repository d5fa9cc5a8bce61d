//! `fedicensus parse KIND FILE`: runs one of the crawler's document parsers on a saved file and
//! prints what it read as pretty JSON, measurements included. It is how a person checks what
//! fedicensus makes of a server's odd document (a bug report's attachment, a fixture) without
//! crawling anything.

use anyhow::{bail, Context};
use fedicensus_core::parse::{self, NodeInfoVersion};
use fedicensus_core::{Host, Measurement};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Parse one saved document as the crawler would and print the result as JSON.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What the document is.
    #[arg(value_enum)]
    kind: Kind,
    /// The file to read (for `host`: the name to normalise).
    file: String,
    /// For `well-known`: the URL the document was fetched from, to resolve relative hrefs.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// The document kinds, one per parser.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    /// `/.well-known/nodeinfo`
    WellKnown,
    /// A NodeInfo 1.0–2.2 document
    Nodeinfo,
    /// `/.well-known/x-nodeinfo2`
    Nodeinfo2,
    /// Mastodon `/api/v1/instance`
    InstanceV1,
    /// Mastodon `/api/v2/instance`
    InstanceV2,
    /// A peer list (Mastodon, GoToSocial, Lemmy)
    Peers,
    /// Mastodon `/api/v1/instance/activity`
    Activity,
    /// Lemmy `/api/v3/site`
    LemmySite,
    /// Misskey `/api/meta`
    MisskeyMeta,
    /// Misskey `/api/stats`
    MisskeyStats,
    /// PeerTube `/api/v1/server/stats`
    PeertubeStats,
    /// Legacy `/statistics.json`
    Statistics,
    /// A server's `{"error": ...}` body
    ErrorBody,
    /// One host name (the argument is the name, not a file)
    Host,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let output = match args.kind {
        Kind::Host => host(&args.file)?,
        kind => {
            let path = PathBuf::from(&args.file);
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            document(kind, &bytes, args.url.as_deref())
                .with_context(|| format!("{} does not parse", path.display()))?
        }
    };
    let mut text = serde_json::to_vec_pretty(&output).context("cannot write JSON")?;
    text.push(b'\n');
    crate::output::write_stdout(&text)
}

fn host(name: &str) -> anyhow::Result<Value> {
    match Host::parse(name) {
        Ok(host) => Ok(json!({
            "input": name,
            "host": host,
            "kind": host.kind(),
            "crawlable": host.is_crawlable(),
            "registrable_domain": host.registrable_domain(),
        })),
        Err(e) => bail!(
            "{name:?} is not a host fedicensus records: {e} ({})",
            e.as_str()
        ),
    }
}

/// The parsed document and its measurements as one JSON object.
fn output(
    kind: &str,
    document: &impl Serialize,
    measurements: Vec<Measurement>,
) -> anyhow::Result<Value> {
    Ok(json!({
        "kind": kind,
        "document": serde_json::to_value(document)?,
        "measurements": measurements,
    }))
}

fn document(kind: Kind, bytes: &[u8], url: Option<&str>) -> anyhow::Result<Value> {
    Ok(match kind {
        Kind::WellKnown => {
            let wk = parse::parse_well_known(bytes)?;
            let chosen = wk.choose(url.unwrap_or(""));
            let mut out = output("well-known", &wk, Vec::new())?;
            out["chosen"] = match chosen {
                Some((version, href)) => json!({"version": version, "href": href}),
                None => Value::Null,
            };
            out["known_versions"] = json!(NodeInfoVersion::ALL);
            out
        }
        Kind::Nodeinfo => {
            let ni = parse::parse_nodeinfo(bytes)?;
            output("nodeinfo", &ni, ni.measurements())?
        }
        Kind::Nodeinfo2 => {
            let ni = parse::parse_nodeinfo2(bytes)?;
            output("nodeinfo2", &ni, ni.measurements())?
        }
        Kind::InstanceV1 => {
            let doc = parse::parse_instance_v1(bytes)?;
            output("instance-v1", &doc, doc.measurements())?
        }
        Kind::InstanceV2 => {
            let doc = parse::parse_instance_v2(bytes)?;
            output("instance-v2", &doc, doc.measurements())?
        }
        Kind::Peers => {
            let doc = parse::parse_peers(bytes)?;
            let normalised = parse::normalise_peers(&doc.entries);
            let mut out = output("peers", &doc, doc.measurements())?;
            out["normalised"] = json!({
                "hosts": normalised.hosts.len(),
                "duplicates": normalised.duplicates,
                "rejected": normalised.rejected,
                "rejected_total": normalised.rejected_total(),
                "uncrawlable": normalised.hosts.iter().filter(|h| !h.is_crawlable()).count(),
            });
            out
        }
        Kind::Activity => {
            let doc = parse::parse_activity(bytes)?;
            output("activity", &doc, doc.measurements())?
        }
        Kind::LemmySite => {
            let doc = parse::parse_lemmy_site(bytes)?;
            output("lemmy-site", &doc, doc.measurements())?
        }
        Kind::MisskeyMeta => {
            let doc = parse::parse_misskey_meta(bytes)?;
            output("misskey-meta", &doc, doc.measurements())?
        }
        Kind::MisskeyStats => {
            let doc = parse::parse_misskey_stats(bytes)?;
            output("misskey-stats", &doc, doc.measurements())?
        }
        Kind::PeertubeStats => {
            let doc = parse::parse_peertube_stats(bytes)?;
            output("peertube-stats", &doc, doc.measurements())?
        }
        Kind::Statistics => {
            let doc = parse::parse_statistics_json(bytes)?;
            output("statistics", &doc, doc.measurements())?
        }
        Kind::ErrorBody => {
            let doc = parse::parse_error_body(bytes)?;
            output("error-body", &doc, Vec::new())?
        }
        Kind::Host => anyhow::bail!("`host` takes a name, not a file"),
    })
}
