//! The `fedicensus` binary: parses the command line, sets up logging once, and wires the library
//! crates together. It is the only place that reads the environment or installs a tracing
//! subscriber (an architecture invariant, checked in CI).
//!
//! Exit codes: 0 success (also when standard output's reader stops early, as `| head` does); 1 a
//! runtime failure (the message says what); 2 bad arguments.

/// `println!` for a command's output, returning an `anyhow::Result` instead of panicking when
/// standard output cannot be written (see [`output::write_stdout`]).
macro_rules! outln {
    () => {
        $crate::output::write_stdout(b"\n")
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

mod crawl;
mod demo;
mod downsample;
mod export;
mod import;
mod network;
mod output;
mod parse;
mod probe;
mod reference;
mod serve;
mod settings;
mod simulate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// A census of the fediverse: crawl servers, record their growth, chart it honestly.
#[derive(Debug, Parser)]
#[command(name = "fedicensus", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Crawl every server that is due, into the database (once, or on a schedule).
    Crawl(crawl::Args),
    /// Serve a simulated fediverse on loopback, or print its ground truth.
    Simulate(simulate::Args),
    /// Parse a saved server document (NodeInfo, peers, ...) or a host name and print it as JSON.
    Parse(parse::Args),
    /// Visit one server and print every request, its outcome and what was extracted.
    Probe(probe::Args),
    /// Serve the dashboard (pages, charts, JSON/CSV API) over a census database.
    Serve(serve::Args),
    /// Crawl the simulated fediverse of autumn 2022 into a database, then serve its dashboard.
    Demo(demo::Args),
    /// Export the census as CSV files with a manifest (row counts, SHA-256, versions).
    Export(export::Args),
    /// Run the database migrations, then exit.
    Migrate(export::MigrateArgs),
    /// Write every table as CSV with a manifest, for `import` (a census moving house).
    ExportTables(import::ExportTablesArgs),
    /// Read a directory written by `export-tables` into an empty database (checks SHA-256 first).
    Import(import::Args),
    /// Copy every row of one database into another, empty one (e.g. SQLite to PostgreSQL).
    Copy(import::CopyArgs),
    /// Thin old raw observations to the visits the published figures rest on (kept raw unless run).
    Downsample(downsample::Args),
    /// Record another census's published figures from a file you downloaded (for comparison).
    ImportReference(reference::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    // A crawl holds a socket per visit in flight (and the demo the simulator's end as well):
    // the soft limit on open files, often 1,024, is raised to the hard one the system allows.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files limit"),
        Err(err) => tracing::warn!(error = %err, "could not raise the open files limit"),
    }
    let result = match cli.command {
        Command::Crawl(args) => crawl::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Parse(args) => parse::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Export(args) => export::run(args),
        Command::Migrate(args) => export::migrate(args),
        Command::ExportTables(args) => import::export_tables(args),
        Command::Import(args) => import::run(args),
        Command::Copy(args) => import::copy(args),
        Command::Downsample(args) => downsample::run(args),
        Command::ImportReference(args) => reference::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader has all it wanted (`fedicensus parse ... | head`): not a failure of ours.
        Err(err) if err.is::<output::StdoutClosed>() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", error_text(&err));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, `: ` between them, leaving out a cause whose text is
/// already printed: several error types (sqlx's, a migration's) print their source in their own
/// message too, and `{:#}` then repeated it (`... at line 948: ... at line 948`).
fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Bad input found after parsing (a missing database, a range the wrong way round): printed as
/// clap prints its own errors, exit status 2.
pub(crate) fn usage_error(message: String) -> ! {
    clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{message}\n")).exit()
}

/// Logs go to standard error, filtered by `RUST_LOG` (default: info for fedicensus crates).
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,fedicensus=info,fedicensus_sim=info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::error_text;

    /// An error that prints its source in its own message, as sqlx's do.
    #[derive(Debug)]
    struct Repeats(Inner);
    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error returned from database: {}", self.0)
        }
    }
    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[derive(Debug)]
    struct Inner;
    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("syntax error at line 948")
        }
    }
    impl std::error::Error for Inner {}

    #[test]
    fn an_error_chain_prints_each_text_once() {
        let err = anyhow::Error::new(Repeats(Inner)).context("opening the database census.db");
        assert_eq!(
            error_text(&err),
            "opening the database census.db: error returned from database: syntax error at line 948"
        );
    }
}
