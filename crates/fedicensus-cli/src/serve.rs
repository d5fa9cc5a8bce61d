//! `fedicensus serve`: the dashboard over a census database.
//!
//! Opens storage (running its migrations), loads the chart definitions (the ones embedded in the
//! binary, or `--dashboards DIR`), reads the admin token from a file if one is given (a token on
//! the command line would show in `ps`), serves through the census runner
//! ([`fedicensus_runner::serve`]), prints its URL, and stops gracefully on Ctrl-C. Connections
//! are capped below the open-files limit (raised to the hard limit at start) and timed out when
//! their headers are slow or they sit idle ([`fedicensus_dashboard::ServeLimits`]).

use anyhow::{bail, Context};
use clap::Args as ClapArgs;
use fedicensus_dashboard::ChartSet;
use fedicensus_runner::serve::ServeOptions;
use fedicensus_storage::Storage;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `fedicensus serve`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The database: `sqlite://PATH`, a plain file path (SQLite, created if missing) or
    /// `postgres://USER@HOST/DB`.
    #[arg(long)]
    db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A file holding the bearer token for admin actions; without it they are off.
    #[arg(long)]
    admin_token_file: Option<PathBuf>,
    /// Load chart definitions from this directory instead of the ones built in.
    #[arg(long)]
    dashboards: Option<PathBuf>,
    /// The contact URL the crawler's User-Agent names (shown on the etiquette page).
    #[arg(long, default_value = "https://example.invalid/fedicensus")]
    contact_url: String,
    /// The address other sites reach the dashboard at (e.g. https://census.example.org), written
    /// into the embed snippets under every chart; by default `http://` and the listening address,
    /// unless that is 0.0.0.0 or [::] (then the snippets give paths only).
    #[arg(long)]
    public_url: Option<String>,
}

/// The public address `--public-url` gives (http or https, no path, trailing `/` dropped), or
/// the listening address when it can be reached as it is.
pub fn public_url(given: Option<&str>, listen: SocketAddr) -> anyhow::Result<Option<String>> {
    match given {
        Some(url) => {
            let url = url.trim().trim_end_matches('/');
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            match rest {
                Some(host)
                    if !host.is_empty()
                        && !host.contains(['/', '?', '#', '"', '<', '>', ' ', '\\']) =>
                {
                    Ok(Some(url.to_owned()))
                }
                _ => bail!(
                    "--public-url {url:?} is not an address such as https://census.example.org \
                     (http or https, a host and maybe a port, no path)"
                ),
            }
        }
        None if listen.ip().is_unspecified() => Ok(None),
        None => Ok(Some(format!("http://{listen}"))),
    }
}

/// The dashboard's connection limits: the cap below the open-files limit, which `main` has
/// already raised to the hard limit where the system allows.
pub fn serve_limits() -> fedicensus_dashboard::ServeLimits {
    match rlimit::Resource::NOFILE.get() {
        Ok((soft, _)) => fedicensus_dashboard::ServeLimits::for_descriptor_limit(soft),
        Err(err) => {
            tracing::warn!(error = %err, "could not read the open files limit");
            fedicensus_dashboard::ServeLimits::default()
        }
    }
}

/// Runs `fedicensus serve`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let charts = match &args.dashboards {
        Some(dir) => ChartSet::load_dir(dir)
            .with_context(|| format!("loading chart definitions from {}", dir.display()))?,
        None => ChartSet::embedded().context("loading the built-in chart definitions")?,
    };
    let admin_token = match &args.admin_token_file {
        None => None,
        Some(file) => {
            let token = std::fs::read_to_string(file)
                .with_context(|| format!("reading the admin token from {}", file.display()))?;
            let token = token.trim().to_owned();
            if token.len() < 16 {
                bail!(
                    "the admin token in {} is shorter than 16 characters; use a long random one",
                    file.display()
                );
            }
            Some(token)
        }
    };
    // A typo in a path must not serve a new, empty census: the database must exist.
    let url = crate::settings::existing_database(&args.db);
    let options = ServeOptions {
        charts,
        admin_token,
        contact_url: args.contact_url.clone(),
        db_file: fedicensus_storage::location::sqlite_file(&args.db),
        limits: serve_limits(),
        public_url: public_url(args.public_url.as_deref(), args.listen)?,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let storage = Storage::connect(&url)
            .await
            .with_context(|| format!("opening the database {}", args.db))?;
        let state = fedicensus_runner::serve::state(storage.clone(), &options)?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        println!("fedicensus dashboard: http://{addr}/");
        fedicensus_runner::serve::serve(listener, state, options.limits, async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C: finishing requests in flight, then stopping");
        })
        .await?;
        storage.close().await;
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::public_url;
    use std::net::SocketAddr;

    #[test]
    fn the_public_url_is_an_http_address_or_the_reachable_listening_one() {
        let local: SocketAddr = "127.0.0.1:8080".parse().expect("an address");
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("an address");
        let given = |url: &str| public_url(Some(url), any).ok().flatten();
        assert_eq!(
            given("https://census.example.org/").as_deref(),
            Some("https://census.example.org")
        );
        assert_eq!(
            given("http://10.0.0.2:8080").as_deref(),
            Some("http://10.0.0.2:8080")
        );
        for bad in [
            "census.example.org",
            "ftp://x.example",
            "https://",
            "https://x.example/census",
            "https://x.example\"><script>",
        ] {
            assert!(public_url(Some(bad), any).is_err(), "{bad}");
        }
        assert_eq!(
            public_url(None, local).ok().flatten().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(public_url(None, any).ok().flatten(), None);
    }
}
