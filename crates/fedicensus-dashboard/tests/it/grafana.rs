//! The Grafana dashboard's SQL (`dashboards/grafana/*.json`), run against PostgreSQL: every
//! `rawSql` (panels, the template variable, the annotation query) with Grafana's macros expanded
//! as Grafana's PostgreSQL data source expands them, on a fresh database migrated by storage and
//! filled with the same observations as the other tests. Skipped, with a message, when
//! `FEDICENSUS_TEST_POSTGRES_URL` is not set.

use crate::fill;
use anyhow::{bail, ensure, Context, Result};
use fedicensus_storage::Storage;
use serde_json::Value;
use sqlx::{Column, Row};
use std::path::PathBuf;

const POSTGRES_VAR: &str = "FEDICENSUS_TEST_POSTGRES_URL";
const FROM: &str = "'2022-09-01T00:00:00Z'";
const TO: &str = "'2022-12-31T00:00:00Z'";

/// Every `rawSql` in a dashboard, with where it is (panel title or what else).
fn raw_sql(value: &Value, place: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            let here = map
                .get("title")
                .or_else(|| map.get("name"))
                .and_then(Value::as_str)
                .unwrap_or(place);
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("rawSql", Value::String(sql)) => out.push((here.to_owned(), sql.clone())),
                    // The template variable's query is SQL too.
                    ("query", Value::String(sql))
                        if map.get("type").and_then(Value::as_str) == Some("query") =>
                    {
                        out.push((format!("variable {here}"), sql.clone()))
                    }
                    _ => raw_sql(v, here, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| raw_sql(v, place, out)),
        _ => {}
    }
}

/// The text of a macro's argument, from just after `name(` to its closing parenthesis.
fn argument(sql: &str, open: usize) -> Result<(String, usize)> {
    let mut depth = 1;
    for (i, c) in sql[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((sql[open..open + i].trim().to_owned(), open + i + 1));
                }
            }
            _ => {}
        }
    }
    bail!("unbalanced parentheses after {}", &sql[..open])
}

/// Expands the macros as Grafana's PostgreSQL data source does, for the range FROM..TO and the
/// software variable set to two families.
fn expand(sql: &str) -> Result<String> {
    let mut out = sql.to_owned();
    while let Some(at) = out.find("$__timeFilter(") {
        let (column, end) = argument(&out, at + "$__timeFilter(".len())?;
        out = format!(
            "{}{column} BETWEEN {FROM} AND {TO}{}",
            &out[..at],
            &out[end..]
        );
    }
    out = out
        .replace("$__timeFrom()", FROM)
        .replace("$__timeTo()", TO)
        .replace("${software}", "'mastodon','misskey'")
        .replace("$software", "'mastodon','misskey'");
    if let Some(at) = out.find('$') {
        bail!("a macro or variable the test does not know: {}", &out[at..]);
    }
    Ok(out)
}

fn dashboards() -> Result<Vec<PathBuf>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dashboards/grafana");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    ensure!(!files.is_empty(), "no dashboard in {}", dir.display());
    Ok(files)
}

#[test]
fn every_macro_in_the_grafana_dashboards_is_one_the_test_expands() -> Result<()> {
    for file in dashboards()? {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        let mut queries = Vec::new();
        raw_sql(&json, "dashboard", &mut queries);
        ensure!(
            queries.len() >= 5,
            "{}: {} queries",
            file.display(),
            queries.len()
        );
        for (place, sql) in &queries {
            expand(sql).with_context(|| format!("{}: {place}", file.display()))?;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_grafana_dashboards_sql_runs_on_postgresql() -> Result<()> {
    let Ok(url) = std::env::var(POSTGRES_VAR) else {
        crate::skipped(&format!(
            "{POSTGRES_VAR} not set (the Grafana dashboard's SQL needs PostgreSQL)"
        ));
        return Ok(());
    };
    // A database of its own, so tests running at the same time cannot collide.
    let name = format!(
        "fedicensus_grafana_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let base = url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .context("a database URL")?;
    let db_url = format!("{base}/{name}");
    let result = run_all(&db_url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    result
}

async fn run_all(db_url: &str) -> Result<()> {
    let storage = Storage::connect(db_url).await?;
    fill(&storage).await?;
    storage.close().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(db_url)
        .await?;
    let mut ran = 0;
    for file in dashboards()? {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        let mut queries = Vec::new();
        raw_sql(&json, "dashboard", &mut queries);
        for (place, sql) in &queries {
            let expanded = expand(sql)?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(expanded.clone()))
                .fetch_all(&pool)
                .await
                .with_context(|| format!("{}: {place}:\n{expanded}", file.display()))?;
            ensure!(
                !rows.is_empty(),
                "{place}: no rows on the test data:\n{expanded}"
            );
            let columns: Vec<String> = rows[0]
                .columns()
                .iter()
                .map(|c| c.name().to_owned())
                .collect();
            if sql.contains("AS \"time\"") {
                ensure!(
                    columns.first().map(String::as_str) == Some("time"),
                    "{place}: time first: {columns:?}"
                );
            }
            if place == "Servers known" {
                // big, dead, misskey and the hostile server: four known by the end.
                let last: i64 = rows.last().context("a row")?.try_get("servers known")?;
                assert_eq!(last, 4, "{place}");
            }
            if place == "Software at the end of the range" {
                let total: i64 = rows
                    .iter()
                    .map(|r| r.try_get::<i64, _>("servers"))
                    .sum::<Result<i64, _>>()?;
                assert_eq!(
                    total, 4,
                    "{place}: every server that answered once has a family"
                );
            }
            ran += 1;
        }
    }
    ensure!(ran >= 7, "only {ran} queries ran");
    println!("{ran} Grafana queries ran on PostgreSQL");
    Ok(())
}
