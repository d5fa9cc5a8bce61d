//! The country and network of the address a visit connected to, from MaxMind-format databases
//! the operator supplies: GeoLite2 Country or City (or DB-IP's country lite) for the country,
//! GeoLite2 ASN (or DB-IP's ASN lite) for the network. None is bundled; without one a visit has
//! no [`Location`] and everything else works the same.
//!
//! The crawler reads no file: the binary reads the databases' bytes and hands them to
//! [`GeoDatabases::from_bytes`], which checks them whole before the crawl starts (a malformed
//! or wrong database is an error at startup that names the file, never a panic mid-crawl). A
//! lookup that still fails to decode counts as "not found" for that visit.

use std::fmt;
use std::net::IpAddr;

use chrono::DateTime;
use fedicensus_core::geo::{country_code, organization};
use fedicensus_core::Location;
use maxminddb::{path, MaxMindDbError, Reader};

/// Why a geolocation database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The file is not a MaxMind DB, or is damaged.
    #[error("{name} is not a valid MaxMind DB file: {source}")]
    Invalid {
        name: String,
        #[source]
        source: MaxMindDbError,
    },
    /// A valid database of the wrong kind (an ASN database given as the country one, ...).
    #[error(
        "{name} is a {database_type} database, not {wanted} (give a GeoLite2 or DB-IP {wanted} \
         database)"
    )]
    WrongKind {
        name: String,
        database_type: String,
        wanted: &'static str,
    },
}

/// One opened database and the label its rows carry.
struct Database {
    reader: Reader<Vec<u8>>,
    label: String,
}

impl Database {
    fn open(name: &str, bytes: Vec<u8>, wanted: &'static str) -> Result<Database, GeoError> {
        let invalid = |source| GeoError::Invalid {
            name: name.to_owned(),
            source,
        };
        let reader = Reader::from_source(bytes).map_err(invalid)?;
        // The whole file once, so that a damaged record is found now and not at some visit.
        reader.verify().map_err(invalid)?;
        let metadata = reader.metadata();
        let kind = metadata.database_type.to_ascii_lowercase();
        let fits = match wanted {
            "country" => kind.contains("country") || kind.contains("city"),
            _ => kind.contains("asn"),
        };
        if !fits {
            return Err(GeoError::WrongKind {
                name: name.to_owned(),
                database_type: metadata.database_type.clone(),
                wanted,
            });
        }
        let built = i64::try_from(metadata.build_epoch)
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(|t| t.date_naive().to_string())
            .unwrap_or_else(|| "undated".into());
        let label = format!(
            "{} {built}",
            organization(&metadata.database_type).unwrap_or_else(|| "unnamed".into())
        );
        Ok(Database { reader, label })
    }
}

/// The operator's geolocation databases, opened and checked.
pub struct GeoDatabases {
    country: Option<Database>,
    asn: Option<Database>,
    label: String,
}

impl fmt::Debug for GeoDatabases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoDatabases")
            .field("databases", &self.label)
            .finish_non_exhaustive()
    }
}

impl GeoDatabases {
    /// Opens a country database and an ASN database, each given as its name (for messages) and
    /// its bytes; either may be absent. `Ok(None)` when both are.
    pub fn from_bytes(
        country: Option<(String, Vec<u8>)>,
        asn: Option<(String, Vec<u8>)>,
    ) -> Result<Option<GeoDatabases>, GeoError> {
        let country = country
            .map(|(name, bytes)| Database::open(&name, bytes, "country"))
            .transpose()?;
        let asn = asn
            .map(|(name, bytes)| Database::open(&name, bytes, "ASN"))
            .transpose()?;
        if country.is_none() && asn.is_none() {
            return Ok(None);
        }
        let label = [&country, &asn]
            .into_iter()
            .flatten()
            .map(|d| d.label.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Ok(Some(GeoDatabases {
            country,
            asn,
            label,
        }))
    }

    /// The databases' names and build dates, as every row they produce records them.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// What the databases say of `ip`. Never fails: an address a database does not hold, or a
    /// record that does not decode, has no country (or no network).
    pub fn locate(&self, ip: IpAddr) -> Location {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let country = self.country.as_ref().and_then(|db| {
            let found = db.reader.lookup(ip).ok()?;
            let code: String = found.decode_path(&path!["country", "iso_code"]).ok()??;
            country_code(&code)
        });
        let (asn, as_organization) = self
            .asn
            .as_ref()
            .and_then(|db| {
                let found = db.reader.lookup(ip).ok()?;
                let number: Option<u32> = found
                    .decode_path(&path!["autonomous_system_number"])
                    .ok()
                    .flatten();
                let name: Option<String> = found
                    .decode_path(&path!["autonomous_system_organization"])
                    .ok()
                    .flatten();
                Some((number, name.as_deref().and_then(organization)))
            })
            .unwrap_or((None, None));
        Location {
            country,
            asn,
            // A name without a number would be a network nobody can count: dropped with it.
            as_organization: asn.and(as_organization),
            database: self.label.clone(),
        }
    }
}
