//! Where a census lives: what a person gives as the database (a plain SQLite path, a `sqlite:`
//! URL or a `postgres://` URL) turned into the URL [`Storage::connect`](crate::Storage::connect)
//! opens, and the SQLite file behind it. Every command of the binary and every script names its
//! database this way, so the rules are in one place: a plain path is created where creating is
//! asked for, and a census that must already exist is never created by a typo.

use std::path::PathBuf;

/// The URL storage opens for what a person gives as the database; a plain path becomes a SQLite
/// URL that creates the file if missing.
pub fn database_url(given: &str) -> String {
    let given = given.trim();
    if given.starts_with("sqlite:")
        || given.starts_with("postgres://")
        || given.starts_with("postgresql://")
    {
        given.to_string()
    } else {
        format!("sqlite://{given}?mode=rwc")
    }
}

/// The SQLite file a database (as given, or as a URL) names, if it names one: not `:memory:`,
/// not PostgreSQL.
pub fn sqlite_file(given: &str) -> Option<PathBuf> {
    let url = database_url(given);
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// What a person gives as the database, as the URL of a census that must already exist: every
/// command but `migrate`, `crawl` and `demo` reads (or adds to) a census, and a typo in a path
/// must not quietly create a new, empty one. A missing SQLite file is an error that names it, and
/// nothing is created; a PostgreSQL database's existence is the server's to tell.
pub fn existing_database_url(given: &str) -> Result<String, String> {
    let url = database_url(given)
        .replace("?mode=rwc&", "?")
        .replace("?mode=rwc", "");
    match sqlite_file(&url) {
        Some(path) if !path.exists() => Err(format!(
            "the database {} does not exist: give the path of an existing census (a typo?), or \
             create one with `fedicensus migrate --db {}` or `fedicensus crawl`",
            path.display(),
            given.trim()
        )),
        _ => Ok(url),
    }
}

#[cfg(test)]
mod tests {
    use super::{database_url, existing_database_url, sqlite_file};
    use std::path::PathBuf;

    #[test]
    fn an_existing_database_is_never_created() {
        let error = existing_database_url("/nonexistent/typo.db").expect_err("missing");
        assert!(
            error.contains("/nonexistent/typo.db does not exist"),
            "{error}"
        );
        assert!(existing_database_url("sqlite:///nonexistent/typo.db?mode=rwc").is_err());
        let file = std::env::temp_dir().join(format!("fc-exists-{}.db", std::process::id()));
        std::fs::write(&file, b"").expect("a file");
        let url = existing_database_url(&file.display().to_string()).expect("exists");
        assert_eq!(url, format!("sqlite://{}", file.display()));
        std::fs::remove_file(&file).expect("removed");
        assert_eq!(
            existing_database_url("postgres://u@h/db").as_deref(),
            Ok("postgres://u@h/db")
        );
        assert_eq!(
            existing_database_url("sqlite::memory:").as_deref(),
            Ok("sqlite::memory:")
        );
    }

    #[test]
    fn a_plain_path_becomes_a_sqlite_url_and_urls_pass_through() {
        assert_eq!(database_url("census.db"), "sqlite://census.db?mode=rwc");
        assert_eq!(
            database_url("/var/lib/f.db"),
            "sqlite:///var/lib/f.db?mode=rwc"
        );
        assert_eq!(database_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(database_url("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn the_sqlite_file_is_found_in_paths_and_urls_but_not_in_memory_or_postgres() {
        let f = |s: &str| sqlite_file(s);
        assert_eq!(f("census.db"), Some(PathBuf::from("census.db")));
        assert_eq!(
            f("sqlite:///var/f.db?mode=ro"),
            Some(PathBuf::from("/var/f.db"))
        );
        assert_eq!(f("sqlite:f.db"), Some(PathBuf::from("f.db")));
        assert_eq!(f("sqlite::memory:"), None);
        assert_eq!(f("sqlite://x.db?mode=memory"), None);
        assert_eq!(f("postgres://u@h/db"), None);
        assert_eq!(f("postgresql://u@h/db"), None);
    }
}
