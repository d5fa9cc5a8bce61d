//! The operator's geolocation databases (`[geo]`), read from their files and checked before a
//! crawl starts: a missing, unreadable, damaged or wrong file stops the crawl with a message that
//! names it, rather than a crawl that silently locates nothing.

use crate::error::{Context, Result};
use fedicensus_crawler::GeoDatabases;
use std::path::Path;
use std::sync::Arc;

/// Opens the country and ASN databases at the paths given (either may be absent; `None` when
/// both are).
pub fn open(country: Option<&Path>, asn: Option<&Path>) -> Result<Option<Arc<GeoDatabases>>> {
    let read = |path: Option<&Path>, what: &str| -> Result<Option<(String, Vec<u8>)>> {
        path.map(|p| {
            let bytes = std::fs::read(p)
                .with_context(|| format!("reading the {what} database {} ([geo])", p.display()))?;
            Ok((p.display().to_string(), bytes))
        })
        .transpose()
    };
    let country = read(country, "country")?;
    let asn = read(asn, "ASN")?;
    let databases = GeoDatabases::from_bytes(country, asn)
        .context("checking the geolocation databases ([geo])")?;
    Ok(databases.map(Arc::new))
}
