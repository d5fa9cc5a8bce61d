//! The one typed configuration tree, layered as zero2prod does: defaults in code, then the
//! `fedicensus.toml` file, then `FEDICENSUS__SECTION__KEY` environment variables, then flags.
//!
//! Unknown keys are errors that name the key (a typo must not silently fall back to a default),
//! and the libraries never see any of this: the binary turns each section into the library's
//! own config struct.

use anyhow::{bail, Context, Result};
use fedicensus_crawler::config as crawler_defaults;
use fedicensus_crawler::CrawlerConfig;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "fedicensus.toml";

pub use fedicensus_runner::pipeline::DEFAULT_SEEDS;

/// Everything fedicensus can be configured with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub crawler: CrawlerSettings,
    pub serve: ServeSettings,
    pub geo: GeoSettings,
}

/// `[geo]`: MaxMind-format databases the operator downloads (GeoLite2 Country or City and
/// GeoLite2 ASN, or DB-IP's lite databases); none is bundled and either may be left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeoSettings {
    /// A country (or city) database: each visit records its address's country.
    pub country_database: Option<PathBuf>,
    /// An ASN database: each visit records its address's network and its organisation.
    pub asn_database: Option<PathBuf>,
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// A SQLite file path (`fedicensus.db`, `sqlite://...`) or a `postgres://` URL.
    pub url: String,
}

/// `[crawler]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlerSettings {
    /// A page explaining the crawler and how to opt out; required for a real crawl.
    pub contact_url: Option<String>,
    /// Where discovery starts.
    pub seeds: Vec<String>,
    /// Hosts (and everything under them) never to be visited.
    pub deny: Vec<String>,
    pub concurrency: usize,
    pub per_ip_concurrency: usize,
    #[serde(with = "humantime_serde")]
    pub min_interval: Duration,
    /// Requests a second for the whole crawl; 0: no limit.
    pub requests_per_second: u32,
    /// Requests a second to one IP address, across all its hosts; 0: no limit.
    pub requests_per_second_per_address: u32,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub visit_timeout: Duration,
    pub document_cap_bytes: u64,
    pub peer_list_cap_bytes: u64,
    pub max_redirects: usize,
    pub domain_budget: usize,
    /// The longest `Crawl-delay` honoured; longer ones are cut to this.
    #[serde(with = "humantime_serde")]
    pub max_crawl_delay: Duration,
    /// How often a server that answered is visited again (with 10 % jitter).
    #[serde(with = "humantime_serde")]
    pub alive_every: Duration,
    /// How often a host's peer list is read (a visit sooner than this after the last read
    /// skips it).
    #[serde(with = "humantime_serde")]
    pub peers_every: Duration,
    /// How often a Mastodon server's weekly activity is read.
    #[serde(with = "humantime_serde")]
    pub activity_every: Duration,
    /// Read the block lists servers publish, with their peer lists (off by default; see
    /// docs/crawling.md, "Block lists").
    pub read_blocklists: bool,
    /// Keep documents and ask for them conditionally (`If-None-Match`, `If-Modified-Since`);
    /// a `304 Not Modified` counts as the same document read again.
    pub conditional_requests: bool,
    /// The most documents kept for conditional requests.
    pub cache_entries: usize,
    /// The most bytes kept for conditional requests.
    pub cache_bytes: u64,
}

/// `[serve]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeSettings {
    pub listen: String,
    /// A file holding the admin token; without one, admin actions are off.
    pub admin_token_file: Option<PathBuf>,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "fedicensus.db".into(),
        }
    }
}

impl Default for CrawlerSettings {
    fn default() -> Self {
        CrawlerSettings {
            contact_url: None,
            seeds: DEFAULT_SEEDS.iter().map(|s| s.to_string()).collect(),
            deny: Vec::new(),
            concurrency: crawler_defaults::DEFAULT_CONCURRENCY,
            per_ip_concurrency: crawler_defaults::DEFAULT_PER_IP_CONCURRENCY,
            min_interval: crawler_defaults::DEFAULT_MIN_INTERVAL,
            requests_per_second: crawler_defaults::DEFAULT_REQUESTS_PER_SECOND
                .map_or(0, NonZeroU32::get),
            requests_per_second_per_address:
                crawler_defaults::DEFAULT_REQUESTS_PER_SECOND_PER_ADDRESS.map_or(0, NonZeroU32::get),
            connect_timeout: crawler_defaults::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: crawler_defaults::DEFAULT_REQUEST_TIMEOUT,
            visit_timeout: crawler_defaults::DEFAULT_VISIT_TIMEOUT,
            document_cap_bytes: crawler_defaults::DEFAULT_DOCUMENT_CAP,
            peer_list_cap_bytes: crawler_defaults::DEFAULT_PEER_LIST_CAP,
            max_redirects: crawler_defaults::DEFAULT_MAX_REDIRECTS,
            domain_budget: crawler_defaults::DEFAULT_DOMAIN_BUDGET,
            max_crawl_delay: crawler_defaults::DEFAULT_MAX_CRAWL_DELAY,
            alive_every: fedicensus_crawler::schedule::ALIVE_EVERY,
            peers_every: crawler_defaults::DEFAULT_PEERS_EVERY,
            activity_every: crawler_defaults::DEFAULT_ACTIVITY_EVERY,
            read_blocklists: false,
            conditional_requests: true,
            cache_entries: fedicensus_crawler::cache::DEFAULT_CACHE_ENTRIES,
            cache_bytes: fedicensus_crawler::cache::DEFAULT_CACHE_BYTES,
        }
    }
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            listen: "127.0.0.1:8080".into(),
            admin_token_file: None,
        }
    }
}

impl Settings {
    /// Defaults, then `file` (when given it must exist; otherwise `fedicensus.toml` is read if
    /// present), then the environment (`FEDICENSUS__CRAWLER__CONCURRENCY=16`).
    pub fn load(file: Option<&Path>) -> Result<Settings> {
        Settings::figment(file)?
            .extract()
            .map_err(|e| anyhow::anyhow!(describe(e)))
    }

    fn figment(file: Option<&Path>) -> Result<Figment> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => {
                if !path.is_file() {
                    bail!("the configuration file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            // A missing default file is fine: defaults and the environment suffice.
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        Ok(figment.merge(Env::prefixed("FEDICENSUS__").split("__")))
    }

    /// The crawler's own config from the `[crawler]` section (the contact URL is checked by the
    /// crawler, which refuses to start without one).
    pub fn crawler_config(&self) -> Result<CrawlerConfig> {
        let c = &self.crawler;
        let mut config = CrawlerConfig::new(c.contact_url.clone().unwrap_or_default());
        config.concurrency = c.concurrency;
        config.per_ip_concurrency = c.per_ip_concurrency;
        config.min_interval = c.min_interval;
        config.requests_per_second = NonZeroU32::new(c.requests_per_second);
        config.requests_per_second_per_address = NonZeroU32::new(c.requests_per_second_per_address);
        config.connect_timeout = c.connect_timeout;
        config.request_timeout = c.request_timeout;
        config.visit_timeout = c.visit_timeout;
        config.document_cap = c.document_cap_bytes;
        config.peer_list_cap = c.peer_list_cap_bytes;
        config.max_redirects = c.max_redirects;
        config.domain_budget = c.domain_budget;
        config.max_crawl_delay = c.max_crawl_delay;
        config.alive_every = c.alive_every;
        config.peers_every = c.peers_every;
        config.activity_every = c.activity_every;
        config.read_blocklists = c.read_blocklists;
        config.conditional_requests = c.conditional_requests;
        config.cache = fedicensus_crawler::CacheLimits {
            entries: c.cache_entries,
            bytes: c.cache_bytes,
        };
        config.deny = c.deny.clone();
        config.geo = fedicensus_runner::geo::open(
            self.geo.country_database.as_deref(),
            self.geo.asn_database.as_deref(),
        )?;
        config
            .validate()
            .context("checking the [crawler] settings")?;
        Ok(config)
    }
}

/// Figment's errors already name the key and where it came from; say it in one line.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// [`existing_database_url`](fedicensus_storage::location::existing_database_url), a missing
/// database being a usage error (exit status 2).
pub fn existing_database(given: &str) -> String {
    fedicensus_storage::location::existing_database_url(given)
        .unwrap_or_else(|message| crate::usage_error(message))
}

#[cfg(test)]
// figment's `Jail` closures return `figment::Result`, whose error is large; that is its API.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_need_no_file() {
        Jail::expect_with(|_| {
            let settings = Settings::load(None).expect("defaults load");
            assert_eq!(settings, Settings::default());
            Ok(())
        });
    }

    #[test]
    fn file_and_environment_layer_over_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "[crawler]\ncontact_url = \"https://example.org/bot\"\nconcurrency = 8\nmin_interval = \"2s\"\n",
            )?;
            jail.set_env("FEDICENSUS__CRAWLER__CONCURRENCY", "16");
            jail.set_env("FEDICENSUS__CRAWLER__REQUESTS_PER_SECOND_PER_ADDRESS", "3");
            jail.set_env("FEDICENSUS__DATABASE__URL", "postgres://db/fedicensus");
            let settings = Settings::load(Some(Path::new("custom.toml"))).expect("loads");
            assert_eq!(settings.crawler.concurrency, 16);
            assert_eq!(settings.crawler.min_interval, Duration::from_secs(2));
            assert_eq!(settings.database.url, "postgres://db/fedicensus");
            let config = settings.crawler_config().expect("valid");
            assert_eq!(config.concurrency, 16);
            assert_eq!(config.requests_per_second, None, "0 is no limit");
            assert_eq!(config.requests_per_second_per_address, NonZeroU32::new(3));
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        Jail::expect_with(|jail| {
            jail.create_file("fedicensus.toml", "[crawler]\nconcurency = 8\n")?;
            let error = Settings::load(None).expect_err("a typo is refused");
            assert!(error.to_string().contains("concurency"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn a_wrong_value_is_an_error_that_names_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file("fedicensus.toml", "[crawler]\nmin_interval = \"soon\"\n")?;
            let error = Settings::load(None).expect_err("not a duration");
            let text = error.to_string();
            assert!(text.contains("min_interval"), "{text}");
            Ok(())
        });
    }

    #[test]
    fn a_named_file_that_does_not_exist_is_an_error() {
        Jail::expect_with(|_| {
            let error = Settings::load(Some(Path::new("nope.toml"))).expect_err("missing file");
            assert!(error.to_string().contains("nope.toml"));
            Ok(())
        });
    }

    #[test]
    fn the_annotated_example_file_loads_and_states_every_default() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fedicensus.toml.example");
        Jail::expect_with(|_| {
            let settings = Settings::load(Some(&example)).expect("the example loads");
            let mut expected = Settings::default();
            expected.crawler.contact_url = Some("https://example.org/about-our-census".into());
            assert_eq!(settings, expected);
            settings.crawler_config().expect("a valid crawler config");
            Ok(())
        });
    }

    #[test]
    fn a_geo_database_that_is_missing_or_not_one_stops_the_start_naming_it() {
        Jail::expect_with(|jail| {
            let contact = "[crawler]\ncontact_url = \"https://example.org/bot\"\n";
            jail.create_file(
                "missing.toml",
                &format!("{contact}[geo]\ncountry_database = \"nowhere.mmdb\"\n"),
            )?;
            let settings = Settings::load(Some(Path::new("missing.toml"))).expect("loads");
            let error = format!("{:#}", settings.crawler_config().expect_err("no such file"));
            assert!(
                error.contains("nowhere.mmdb") && error.contains("[geo]"),
                "{error}"
            );

            jail.create_file("fake.mmdb", "not a database")?;
            jail.create_file(
                "fake.toml",
                &format!("{contact}[geo]\nasn_database = \"fake.mmdb\"\n"),
            )?;
            let settings = Settings::load(Some(Path::new("fake.toml"))).expect("loads");
            let error = format!(
                "{:#}",
                settings.crawler_config().expect_err("not a database")
            );
            assert!(
                error.contains("fake.mmdb") && error.contains("not a valid MaxMind DB"),
                "{error}"
            );

            jail.create_file("typo.toml", "[geo]\ncountry = \"x.mmdb\"\n")?;
            let error = Settings::load(Some(Path::new("typo.toml"))).expect_err("unknown key");
            assert!(error.to_string().contains("country"), "{error}");

            // MaxMind's test databases: the crawler gets them, opened and checked.
            let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fedicensus-crawler/tests/fixtures/geo");
            jail.create_file(
                "good.toml",
                &format!(
                    "{contact}[geo]\ncountry_database = \"{}\"\nasn_database = \"{}\"\n",
                    fixtures.join("GeoLite2-Country-Test.mmdb").display(),
                    fixtures.join("GeoLite2-ASN-Test.mmdb").display()
                ),
            )?;
            let settings = Settings::load(Some(Path::new("good.toml"))).expect("loads");
            let config = settings.crawler_config().expect("valid databases");
            let geo = config.geo.expect("databases given");
            let at = geo.locate("81.2.69.142".parse().expect("an address"));
            assert_eq!(at.country.as_deref(), Some("GB"));
            Ok(())
        });
    }

    #[test]
    fn a_crawl_without_a_contact_url_is_refused() {
        let error = Settings::default()
            .crawler_config()
            .expect_err("no contact URL");
        assert!(
            format!("{error:#}").to_lowercase().contains("contact"),
            "{error:#}"
        );
    }
}
