//! Configuration: one typed struct from CLI flags and environment variables, validated once at start.
//! Every problem is reported as one line naming the option (`--database-url: …`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalog::CatalogStore;
use crate::db::DbUrl;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "catalyst",
    version,
    about = "Catalyst — design, launch and run your own Kubernetes platform (a Sovereign) on your own cloud account.",
    long_about = None,
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the console (what `catalyst` does without a command).
    Serve,
    /// Work with the component catalog (`platform/`).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Manage accounts from the command line (first superadmin, …).
    Admin {
        #[command(subcommand)]
        command: crate::auth::admin::AdminCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum CatalogCommand {
    /// Validate a catalog folder: exit 0 and a summary if it is valid, otherwise exit 1 and one line per
    /// problem (file: field: problem).
    Check {
        /// The catalog folder [default: --catalog-dir]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port the console listens on.
    #[arg(
        long,
        env = "CATALYST_BIND",
        default_value = "127.0.0.1:3000",
        value_name = "ADDR:PORT",
        global = true
    )]
    pub bind: String,

    /// Database: `sqlite://FILE` (embedded, created on first run) or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    /// [default: sqlite://<data-dir>/catalyst.db]
    #[arg(long, env = "CATALYST_DATABASE_URL", value_name = "URL", global = true)]
    pub database_url: Option<String>,

    /// Folder for Catalyst's own files: the SQLite database, keys, OpenTofu work directories. Created if missing.
    #[arg(
        long,
        env = "CATALYST_DATA_DIR",
        default_value = "data",
        value_name = "DIR",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Log output: `pretty` for people, `json` for log collectors.
    #[arg(long, env = "CATALYST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Log filter: a level (`error`, `warn`, `info`, `debug`, `trace`) or directives like `info,server::tofu=debug`.
    #[arg(
        long,
        env = "CATALYST_LOG_LEVEL",
        default_value = "info",
        value_name = "FILTER",
        global = true
    )]
    pub log_level: String,

    /// Folder with the built browser assets (`cargo leptos build` writes `target/site`).
    #[arg(
        long,
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site",
        value_name = "DIR",
        global = true
    )]
    pub site_root: PathBuf,

    /// Pool domains new Sovereigns can get a subdomain of (comma-separated), e.g. `omani.works,omani.homes`.
    /// Empty (`--pool-domains ""`) offers bring-your-own domains only.
    #[arg(
        long,
        env = "CATALYST_POOL_DOMAINS",
        default_value = "omani.works",
        value_name = "DOMAINS",
        global = true
    )]
    pub pool_domains: String,

    /// Nameservers a bring-your-own domain is delegated to (comma-separated).
    /// [default: ns1, ns2 and ns3 of the first pool domain]
    #[arg(long, env = "CATALYST_NAMESERVERS", value_name = "HOSTS", global = true)]
    pub nameservers: Option<String>,

    /// Base URL of the Hetzner Cloud API (tests point it at a local stand-in).
    #[arg(
        long,
        env = "CATALYST_HETZNER_API_URL",
        default_value = "https://api.hetzner.cloud/v1",
        value_name = "URL",
        global = true
    )]
    pub hetzner_api_url: String,

    /// Folder with the component catalog: `families.yaml` and one `<id>/blueprint.yaml` per component. It is
    /// validated at start; any problem stops the server.
    #[arg(
        long,
        env = "CATALYST_CATALOG_DIR",
        default_value = "platform",
        value_name = "DIR",
        global = true
    )]
    pub catalog_dir: PathBuf,
    /// The GitOps repository (`--gitops-…`).
    #[command(flatten)]
    pub gitops: crate::gitops::config::GitopsArgs,
    /// Accounts, sessions and single sign-on.
    #[command(flatten)]
    pub auth: crate::auth::config::AuthConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A configuration problem: which option, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {problem}")]
pub struct ConfigError {
    pub option: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(option: &'static str, problem: impl Into<String>) -> Self {
        Self {
            option,
            problem: problem.into(),
        }
    }
}

/// The configuration after validation.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database: DbUrl,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub log_level: String,
    pub site_root: PathBuf,
    /// Pool domains, lowercased, validated, without duplicates.
    pub pool_domains: Vec<String>,
    /// Nameservers for BYO domains.
    pub nameservers: Vec<String>,
    /// Hetzner Cloud API base URL, without a trailing slash.
    pub hetzner_api_url: String,
    /// The validated component catalog (from `--catalog-dir`).
    pub catalog: Arc<CatalogStore>,
    pub gitops: crate::gitops::config::GitopsSettings,
    pub auth: crate::auth::config::AuthSettings,
}

/// A comma-separated list of domain names, each checked with the wizard's domain rule.
fn domain_list(raw: &str, what: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for d in raw
        .split(',')
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
    {
        if d.is_empty() {
            continue;
        }
        if let Some(problem) = app::deployments::validate::domain_name(&d) {
            return Err(format!("“{d}” is not a {what}: {problem}"));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

impl Config {
    /// Checks every option that can be checked without side effects beyond creating the data folder.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        let bind = SocketAddr::from_str(self.bind.trim()).map_err(|_| {
            ConfigError::new(
                "--bind",
                format!(
                    "“{}” is not an address and port; use the form 127.0.0.1:3000 or [::]:3000",
                    self.bind
                ),
            )
        })?;
        tracing_subscriber::EnvFilter::try_new(&self.log_level).map_err(|e| {
            ConfigError::new(
                "--log-level",
                format!(
                    "“{}” is not a log filter ({e}); use e.g. info or debug",
                    self.log_level
                ),
            )
        })?;
        ensure_writable_dir(&self.data_dir).map_err(|problem| ConfigError::new("--data-dir", problem))?;
        let database = match &self.database_url {
            Some(url) => DbUrl::parse(url).map_err(|problem| ConfigError::new("--database-url", problem))?,
            None => DbUrl::Sqlite {
                path: self.data_dir.join("catalyst.db"),
            },
        };
        if let DbUrl::Sqlite { path } = &database
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            ensure_writable_dir(parent).map_err(|problem| ConfigError::new("--database-url", problem))?;
        }
        let pool_domains = domain_list(&self.pool_domains, "domain name")
            .map_err(|problem| ConfigError::new("--pool-domains", problem))?;
        let nameservers = match &self.nameservers {
            Some(raw) => domain_list(raw, "nameserver host name")
                .map_err(|problem| ConfigError::new("--nameservers", problem))?,
            None => pool_domains
                .first()
                .map(|p| (1..=3).map(|i| format!("ns{i}.{p}")).collect())
                .unwrap_or_default(),
        };
        let hetzner_api_url = self.hetzner_api_url.trim().trim_end_matches('/').to_string();
        if !(hetzner_api_url.starts_with("https://") || hetzner_api_url.starts_with("http://")) {
            return Err(ConfigError::new(
                "--hetzner-api-url",
                format!("“{hetzner_api_url}” is not an http(s) URL; use e.g. https://api.hetzner.cloud/v1"),
            ));
        }
        let catalog = load_catalog(&self.catalog_dir)?;
        let gitops = self.gitops.validate()?;
        let auth = self.auth.validate(bind)?;
        Ok(Settings {
            hetzner_api_url,
            pool_domains,
            nameservers,
            gitops,
            auth,
            bind,
            database,
            data_dir: self.data_dir.clone(),
            log_format: self.log_format,
            log_level: self.log_level.clone(),
            site_root: self.site_root.clone(),
            catalog: Arc::new(catalog),
        })
    }
}

/// Loads and validates the catalog; every problem is one line of the error, naming file and field.
pub fn load_catalog(dir: &Path) -> Result<CatalogStore, ConfigError> {
    crate::catalog::load(dir).map_err(|problems| {
        let n = problems.0.len();
        let lines: Vec<String> = problems.0.iter().map(|p| format!("  {p}")).collect();
        ConfigError::new(
            "--catalog-dir",
            format!(
                "the catalog in {} has {n} problem{}:\n{}",
                dir.display(),
                if n == 1 { "" } else { "s" },
                lines.join("\n")
            ),
        )
    })
}

/// Creates `dir` if needed and proves it is writable by writing and removing a probe file.
fn ensure_writable_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create folder {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".catalyst-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(|e| format!("cannot write to folder {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Renders a clap error as one line (clap's own rendering spans several).
pub fn one_line(err: &clap::Error) -> String {
    err.render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        let mut argv = vec![
            "catalyst",
            "--catalog-dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../platform"),
        ];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("parses").config
    }

    #[test]
    fn defaults_are_documented_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let c = config(&["--data-dir", data.to_str().expect("utf8")]);
        assert_eq!(c.bind, "127.0.0.1:3000");
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.log_level, "info");
        let s = c.validate().expect("valid");
        assert_eq!(
            s.database,
            DbUrl::Sqlite {
                path: data.join("catalyst.db")
            }
        );
        assert!(data.is_dir(), "data dir is created on first run");
        assert_eq!(s.pool_domains, vec!["omani.works"]);
        assert_eq!(
            s.nameservers,
            vec!["ns1.omani.works", "ns2.omani.works", "ns3.omani.works"]
        );
        let s = config(&[
            "--data-dir",
            data.to_str().expect("utf8"),
            "--pool-domains",
            " A.example, b.example.,a.example",
            "--nameservers",
            "ns.x.example",
        ])
        .validate()
        .expect("valid");
        assert_eq!(s.pool_domains, vec!["a.example", "b.example"]);
        assert_eq!(s.nameservers, vec!["ns.x.example"]);
        let s = config(&["--data-dir", data.to_str().expect("utf8"), "--pool-domains", ""])
            .validate()
            .expect("valid");
        assert!(s.pool_domains.is_empty() && s.nameservers.is_empty());
    }

    #[test]
    fn bad_values_name_their_option() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().to_str().expect("utf8");
        let e = config(&["--data-dir", d, "--database-url", "nonsense"])
            .validate()
            .expect_err("rejected");
        assert_eq!(e.option, "--database-url");
        assert!(e.to_string().starts_with("--database-url: "), "{e}");

        let e = config(&["--data-dir", d, "--bind", "localhost"])
            .validate()
            .expect_err("rejected");
        assert_eq!(e.option, "--bind");

        let e = config(&["--data-dir", d, "--pool-domains", "omani.works,not a domain"])
            .validate()
            .expect_err("rejected");
        assert_eq!(e.option, "--pool-domains");
        let e = config(&["--data-dir", d, "--nameservers", "ns1"])
            .validate()
            .expect_err("rejected");
        assert_eq!(e.option, "--nameservers");

        let e = config(&["--data-dir", d, "--log-level", "info,=[=="])
            .validate()
            .expect_err("rejected");
        assert_eq!(e.option, "--log-level");

        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").expect("write");
        let e = config(&["--data-dir", file.join("sub").to_str().expect("utf8")])
            .validate()
            .expect_err("rejected");
        assert_eq!(e.option, "--data-dir");
    }

    #[test]
    fn clap_errors_render_on_one_line() {
        let err = Cli::try_parse_from(["catalyst", "--log-format", "xml"]).expect_err("rejected");
        let line = one_line(&err);
        assert!(!line.contains('\n'));
        assert!(line.contains("--log-format"), "{line}");
        assert!(line.contains("pretty"), "{line}");
    }
}
