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
    /// The validated component catalog (from `--catalog-dir`).
    pub catalog: Arc<CatalogStore>,
    pub gitops: crate::gitops::config::GitopsSettings,
    pub auth: crate::auth::config::AuthSettings,
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
        let catalog = load_catalog(&self.catalog_dir)?;
        let gitops = self.gitops.validate()?;
        let auth = self.auth.validate(bind)?;
        Ok(Settings {
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
