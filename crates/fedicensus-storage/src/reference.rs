//! Other censuses' published figures, imported from files the operator downloaded (migration
//! 0035), so the dashboard can chart fedicensus beside them and say why they differ.
//!
//! An import is one file: its source, the SHA-256 of its bytes, when it was imported and the date
//! it is as of; its figures (one row per date and scope, `all` or one software) and, for a list
//! of servers, their names. The same bytes as of the same date import once: a second import is
//! recognised by its key `(source, sha256, as_of)` and changes nothing. Several imports of one
//! source overlap (a statistics answer downloaded each month repeats every earlier day); a
//! source's line takes, for each date, scope and figure, the value of the latest import that
//! published it, so a source's own later correction wins and nothing is counted twice. Nothing
//! here is an observation of fedicensus's: these figures are never mixed into its own series.

use crate::db::{count_of, stored_count, stored_instant, Conn, Sql, Storage};
use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_core::reference::{ReferenceFile, ReferenceSource};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Figure rows per multi-row INSERT (7 values each).
const FIGURE_ROWS: usize = 500;
/// Domain rows per multi-row INSERT (2 values each).
const DOMAIN_ROWS: usize = 1_000;

/// What importing a file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceImported {
    /// The import's id (the earlier one when the file was already imported).
    pub id: i64,
    /// False when the same file, as of the same date, was already imported: nothing changed.
    pub new: bool,
    /// The file's SHA-256, lowercase hex.
    pub sha256: String,
    /// Rows of figures and server names the import holds.
    pub points: u64,
    pub domains: u64,
}

/// One imported file, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceImport {
    pub id: i64,
    pub source: ReferenceSource,
    pub sha256: String,
    pub file_name: String,
    pub imported_at: DateTime<Utc>,
    pub as_of: NaiveDate,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    /// What the reader noticed, one line each.
    pub notes: Vec<String>,
    pub points: u64,
    pub domains: u64,
}

/// One date of a source's line: each figure from the latest import that published it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceValue {
    pub date: NaiveDate,
    pub servers: Option<u64>,
    pub users: Option<u64>,
    pub active_month: Option<u64>,
    pub active_week: Option<u64>,
}

/// A source's figures for one scope, by date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceLine {
    pub source: ReferenceSource,
    /// `all`, or a software's NodeInfo name.
    pub scope: String,
    /// Dates in order, only those the source published something for.
    pub values: Vec<ReferenceValue>,
}

/// One stored figure row with its import, as exported.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct FigureRow {
    pub(crate) import_id: i64,
    pub(crate) source: String,
    pub(crate) sha256: String,
    pub(crate) file_name: String,
    pub(crate) imported_at: DateTime<Utc>,
    pub(crate) as_of: NaiveDate,
    pub(crate) date: NaiveDate,
    pub(crate) scope: String,
    pub(crate) servers: Option<i64>,
    pub(crate) users: Option<i64>,
    pub(crate) active_month: Option<i64>,
    pub(crate) active_week: Option<i64>,
}

pub(crate) const FIGURES_SQL: &str = "SELECT f.import_id, i.source, i.sha256, i.file_name, \
     i.imported_at, i.as_of, f.date, f.scope, f.servers, f.users, f.active_month, f.active_week \
     FROM reference_figures f JOIN reference_imports i ON i.id = f.import_id \
     WHERE f.date >= $1 AND f.date <= $2";

#[derive(sqlx::FromRow)]
struct ImportRow {
    id: i64,
    source: String,
    sha256: String,
    file_name: String,
    imported_at: DateTime<Utc>,
    as_of: NaiveDate,
    first_date: NaiveDate,
    last_date: NaiveDate,
    notes: String,
    points: i64,
    domains: i64,
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: i64,
}

pub(crate) fn source_of(name: &str) -> Result<ReferenceSource> {
    ReferenceSource::parse(name).ok_or_else(|| Error::Corrupt {
        column: "reference_imports.source",
        value: name.to_owned(),
    })
}

fn opt(v: Option<u64>) -> Option<i64> {
    v.map(stored_count)
}

fn unsigned(v: Option<i64>) -> Option<u64> {
    v.map(count_of)
}

async fn insert_figures(conn: &mut Conn<'_>, id: i64, file: &ReferenceFile) -> Result<()> {
    for chunk in file.points.chunks(FIGURE_ROWS) {
        let mut text = String::from(
            "INSERT INTO reference_figures \
             (import_id, date, scope, servers, users, active_month, active_week) VALUES ",
        );
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                text.push_str(", ");
            }
            let b = r * 7;
            text.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            ));
        }
        let mut sql = Sql::new(text);
        for p in chunk {
            sql = sql
                .bind(id)
                .bind(p.date)
                .bind(p.scope.as_str())
                .bind(opt(p.servers))
                .bind(opt(p.users))
                .bind(opt(p.active_month))
                .bind(opt(p.active_week));
        }
        conn.execute(sql, "recording reference figures").await?;
    }
    for chunk in file.domains.chunks(DOMAIN_ROWS) {
        let mut text = String::from("INSERT INTO reference_domains (import_id, domain) VALUES ");
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!("(${}, ${})", r * 2 + 1, r * 2 + 2));
        }
        let mut sql = Sql::new(text);
        for d in chunk {
            sql = sql.bind(id).bind(d.as_str());
        }
        conn.execute(sql, "recording reference server names")
            .await?;
    }
    Ok(())
}

/// The lowercase hex SHA-256 of a file's bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

impl Storage {
    /// Records a file read by [`fedicensus_core::reference::parse_reference`]: `bytes` are the
    /// file's (for its SHA-256), `file_name` the name it was read from. The same bytes as of the
    /// same date again change nothing (and answer `new: false` with the earlier import's id).
    pub async fn import_reference(
        &self,
        file: &ReferenceFile,
        bytes: &[u8],
        file_name: &str,
        imported_at: DateTime<Utc>,
    ) -> Result<ReferenceImported> {
        let sha256 = sha256_hex(bytes);
        let first = file.points.iter().map(|p| p.date).min();
        let last = file.points.iter().map(|p| p.date).max();
        let (Some(first_date), Some(last_date)) = (first, last) else {
            return Err(Error::InvalidQuery(format!(
                "{}: the file holds no figure",
                file.source
            )));
        };
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let existing = conn
            .fetch_optional::<IdRow>(
                Sql::new(
                    "SELECT id FROM reference_imports \
                     WHERE source = $1 AND sha256 = $2 AND as_of = $3",
                )
                .bind(file.source.as_str())
                .bind(sha256.as_str())
                .bind(file.as_of),
                "looking for an earlier import",
            )
            .await?;
        let points = file.points.len() as u64;
        let domains = file.domains.len() as u64;
        if let Some(row) = existing {
            tx.rollback().await?;
            return Ok(ReferenceImported {
                id: row.id,
                new: false,
                sha256,
                points,
                domains,
            });
        }
        let row = conn
            .fetch_one::<IdRow>(
                Sql::new(
                    "INSERT INTO reference_imports \
                     (source, sha256, file_name, imported_at, as_of, first_date, last_date, notes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(file.source.as_str())
                .bind(sha256.as_str())
                .bind(file_name)
                .bind(stored_instant(imported_at))
                .bind(file.as_of)
                .bind(first_date)
                .bind(last_date)
                .bind(file.notes.join("\n")),
                "recording a reference import",
            )
            .await?;
        insert_figures(&mut conn, row.id, file).await?;
        tx.commit().await?;
        Ok(ReferenceImported {
            id: row.id,
            new: true,
            sha256,
            points,
            domains,
        })
    }

    /// Every import, oldest first.
    pub async fn reference_imports(&self) -> Result<Vec<ReferenceImport>> {
        let mut conn = self.acquire().await?;
        let rows = conn
            .conn()
            .fetch_all::<ImportRow>(
                Sql::new(
                    "SELECT i.id, i.source, i.sha256, i.file_name, i.imported_at, i.as_of, \
                     i.first_date, i.last_date, i.notes, \
                     CAST((SELECT COUNT(*) FROM reference_figures f WHERE f.import_id = i.id) \
                     AS BIGINT) AS points, \
                     CAST((SELECT COUNT(*) FROM reference_domains d WHERE d.import_id = i.id) \
                     AS BIGINT) AS domains \
                     FROM reference_imports i ORDER BY i.id",
                ),
                "listing reference imports",
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ReferenceImport {
                    id: r.id,
                    source: source_of(&r.source)?,
                    sha256: r.sha256,
                    file_name: r.file_name,
                    imported_at: r.imported_at,
                    as_of: r.as_of,
                    first_date: r.first_date,
                    last_date: r.last_date,
                    notes: r
                        .notes
                        .lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    points: count_of(r.points),
                    domains: count_of(r.domains),
                })
            })
            .collect()
    }

    /// Every source's lines with dates in `from..=to`, by source then scope: each date's
    /// figures from the latest import that published them.
    pub async fn reference_lines(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReferenceLine>> {
        let mut conn = self.acquire().await?;
        let rows = conn
            .conn()
            .fetch_all::<FigureRow>(
                Sql::new(format!("{FIGURES_SQL} ORDER BY i.id, f.date, f.scope"))
                    .bind(from)
                    .bind(to),
                "reading reference figures",
            )
            .await?;
        // Imports in id order: a later import overwrites what an earlier one gave.
        let mut lines: BTreeMap<(ReferenceSource, String), BTreeMap<NaiveDate, ReferenceValue>> =
            BTreeMap::new();
        for r in rows {
            let source = source_of(&r.source)?;
            let value = lines
                .entry((source, r.scope))
                .or_default()
                .entry(r.date)
                .or_insert(ReferenceValue {
                    date: r.date,
                    servers: None,
                    users: None,
                    active_month: None,
                    active_week: None,
                });
            let overwrite = |slot: &mut Option<u64>, v: Option<i64>| {
                if let Some(v) = unsigned(v) {
                    *slot = Some(v);
                }
            };
            overwrite(&mut value.servers, r.servers);
            overwrite(&mut value.users, r.users);
            overwrite(&mut value.active_month, r.active_month);
            overwrite(&mut value.active_week, r.active_week);
        }
        Ok(lines
            .into_iter()
            .map(|((source, scope), values)| ReferenceLine {
                source,
                scope,
                values: values.into_values().collect(),
            })
            .collect())
    }

    /// The server names imported lists hold, each once, sorted.
    pub async fn reference_domains(&self) -> Result<Vec<String>> {
        #[derive(sqlx::FromRow)]
        struct DomainRow {
            domain: String,
        }
        let mut conn = self.acquire().await?;
        let rows = conn
            .conn()
            .fetch_all::<DomainRow>(
                Sql::new("SELECT DISTINCT domain FROM reference_domains ORDER BY domain"),
                "listing reference server names",
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.domain).collect())
    }
}
