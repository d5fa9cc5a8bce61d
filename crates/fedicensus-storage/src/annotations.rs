//! Chart annotations: dates where the world or a method changed (a takeover, a counting change,
//! a new methodology version). Users of other censuses asked for these markers so that a jump on
//! a chart comes with its explanation. The built-in ones are seeded by a migration, each with a
//! source; operators add their own.

use crate::db::{Conn, Sql, Storage};
use crate::error::{Error, Result};
use chrono::NaiveDate;

/// Who wrote an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationKind {
    /// Shipped with fedicensus (see the migration that seeds them).
    BuiltIn,
    /// Added by whoever runs this census.
    Operator,
}

impl AnnotationKind {
    /// The stable name stored and exported.
    pub fn as_str(&self) -> &'static str {
        match self {
            AnnotationKind::BuiltIn => "built_in",
            AnnotationKind::Operator => "operator",
        }
    }
}

/// A dated marker for charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub date: NaiveDate,
    pub title: String,
    pub description: String,
    pub kind: AnnotationKind,
    pub source_url: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AnnotationRow {
    date: NaiveDate,
    title: String,
    description: String,
    kind: String,
    source_url: Option<String>,
}

pub(crate) async fn annotations(
    conn: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Annotation>> {
    let rows = conn
        .fetch_all::<AnnotationRow>(
            Sql::new(
                "SELECT date, title, description, kind, source_url FROM annotations \
                 WHERE date >= $1 AND date <= $2 ORDER BY date, title",
            )
            .bind(from)
            .bind(to),
            "listing annotations",
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            let kind = match r.kind.as_str() {
                "built_in" => AnnotationKind::BuiltIn,
                "operator" => AnnotationKind::Operator,
                other => {
                    return Err(Error::Corrupt {
                        column: "annotations.kind",
                        value: other.to_owned(),
                    })
                }
            };
            Ok(Annotation {
                date: r.date,
                title: r.title,
                description: r.description,
                kind,
                source_url: r.source_url,
            })
        })
        .collect()
}

impl Storage {
    /// Annotations dated `from..=to`, oldest first.
    pub async fn annotations(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Annotation>> {
        let mut conn = self.acquire().await?;
        annotations(&mut conn.conn(), from, to).await
    }

    /// Adds an operator's annotation (kind `operator`). Adding the same date and title again
    /// changes nothing.
    pub async fn add_annotation(
        &self,
        date: NaiveDate,
        title: &str,
        description: &str,
        source_url: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.conn()
            .execute(
                Sql::new(
                    "INSERT INTO annotations (date, title, description, kind, source_url) \
                     VALUES ($1, $2, $3, 'operator', $4) ON CONFLICT (date, title) DO NOTHING",
                )
                .bind(date)
                .bind(title)
                .bind(description)
                .bind(source_url),
                "adding an annotation",
            )
            .await?;
        tx.commit().await
    }
}
