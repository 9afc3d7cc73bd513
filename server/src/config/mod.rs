//! Configuration: one typed struct from CLI flags and environment variables, validated once at start.
//! Every problem is reported as one line naming the option (`--database-url: …`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::catalog::CatalogStore;
use crate::db::DbUrl;

pub mod value;

pub use value::{ConfigError, MAX_DURATION, parse_duration};

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

    /// Address and port of the Prometheus metrics listener (`GET /metrics`), apart from the console's;
    /// unset: no metrics.
    #[arg(long, env = "CATALYST_METRICS_BIND", value_name = "ADDR:PORT", global = true)]
    pub metrics_bind: Option<String>,

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

    /// The Hetzner Cloud API: the wizard's token check and the wipe's sweep of left-over resources talk to
    /// it (tests point it at a stand-in).
    #[arg(
        long,
        env = "CATALYST_HETZNER_API_URL",
        default_value = crate::hetzner::DEFAULT_API_URL,
        value_name = "URL",
        global = true
    )]
    pub hetzner_api_url: String,

    /// Catalyst's PowerDNS (`--pdns-…`).
    #[command(flatten)]
    pub pdns: crate::pdns::PdnsArgs,

    /// The pre-flight's options (`--hetzner-limits`, `--allow-local-console`).
    #[command(flatten)]
    pub preflight: crate::preflight::PreflightArgs,

    #[command(flatten)]
    pub engine: EngineArgs,
    /// Accounts, sessions and single sign-on.
    #[command(flatten)]
    pub auth: crate::auth::config::AuthConfig,
    /// Connection, request, stream and rate limits.
    #[command(flatten)]
    pub limits: crate::http::limits::LimitArgs,
    /// Outgoing e-mail (`--smtp-…`).
    #[command(flatten)]
    pub mail: crate::mail::config::MailArgs,
}

/// Options of the provisioning engine.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// The OpenTofu executable (1.6 or newer): a name looked up on PATH, or a path.
    #[arg(
        long,
        env = "CATALYST_TOFU_BIN",
        default_value = "tofu",
        value_name = "PATH",
        global = true
    )]
    pub tofu_bin: PathBuf,

    /// The OpenTofu module copied into every deployment's work directory.
    #[arg(
        long,
        env = "CATALYST_TOFU_MODULE_DIR",
        default_value = "infra/hetzner",
        value_name = "DIR",
        global = true
    )]
    pub tofu_module_dir: PathBuf,

    /// Time limit of `tofu init`, `plan` and `output` (e.g. 15m, 90s).
    #[arg(
        long,
        env = "CATALYST_TOFU_TIMEOUT",
        default_value = "15m",
        value_name = "DURATION",
        global = true
    )]
    pub tofu_timeout: String,

    /// Time limit of `tofu apply` and `tofu destroy`.
    #[arg(
        long,
        env = "CATALYST_TOFU_APPLY_TIMEOUT",
        default_value = "90m",
        value_name = "DURATION",
        global = true
    )]
    pub tofu_apply_timeout: String,

    /// How long to wait, after apply, for the control plane to send its kubeconfig back.
    #[arg(
        long,
        env = "CATALYST_CLUSTER_TIMEOUT",
        default_value = "30m",
        value_name = "DURATION",
        global = true
    )]
    pub cluster_timeout: String,

    /// How long Flux gets to install every selected component.
    #[arg(
        long,
        env = "CATALYST_INSTALL_TIMEOUT",
        default_value = "2h",
        value_name = "DURATION",
        global = true
    )]
    pub install_timeout: String,

    /// A run whose replica stops renewing its lease for this long is taken over by another replica.
    #[arg(
        long,
        env = "CATALYST_LEASE_TTL",
        default_value = "30s",
        value_name = "DURATION",
        global = true
    )]
    pub lease_ttl: String,

    /// How many deployments one organisation may have in flight (provisioning, installing, wiping) at once;
    /// a create beyond it is refused with 429. 0: no limit.
    #[arg(
        long,
        env = "CATALYST_MAX_DEPLOYMENTS_IN_FLIGHT",
        default_value_t = 3,
        value_name = "N",
        global = true
    )]
    pub max_deployments_in_flight: u32,

    /// How many deployments one organisation may create in any 24 hours (deleted records still count);
    /// a create beyond it is refused with 429. 0: no limit.
    #[arg(
        long,
        env = "CATALYST_MAX_DEPLOYMENTS_PER_DAY",
        default_value_t = 10,
        value_name = "N",
        global = true
    )]
    pub max_deployments_per_day: u32,

    /// The file with the 256-bit key that encrypts secrets at rest (64 hex characters).
    /// [default: <data-dir>/secret.key, generated on first run — back it up]
    #[arg(long, env = "CATALYST_SECRET_KEY_FILE", value_name = "FILE", global = true)]
    pub secret_key_file: Option<PathBuf>,
    // The console's public URL (`--public-url`, where new clusters send their kubeconfig back) is the
    // auth options' (`auth::config::AuthConfig::public_url`): one address for browsers and clusters.
}

/// Validated engine options.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub tofu_bin: PathBuf,
    pub tofu_module_dir: PathBuf,
    pub tofu_timeout: Duration,
    pub tofu_apply_timeout: Duration,
    pub cluster_timeout: Duration,
    pub install_timeout: Duration,
    pub lease_ttl: Duration,
    pub secret_key_file: Option<PathBuf>,
    pub public_url: String,
    /// `--max-deployments-in-flight`, `--max-deployments-per-day`.
    pub limits: crate::db::deployments::CreateLimits,
}

impl EngineSettings {
    /// Defaults (tests).
    pub fn defaults(bind: SocketAddr) -> Self {
        Self {
            tofu_bin: PathBuf::from("tofu"),
            tofu_module_dir: PathBuf::from("infra/hetzner"),
            tofu_timeout: Duration::from_secs(15 * 60),
            tofu_apply_timeout: Duration::from_secs(90 * 60),
            cluster_timeout: Duration::from_secs(30 * 60),
            install_timeout: Duration::from_secs(2 * 3600),
            lease_ttl: Duration::from_secs(30),
            secret_key_file: None,
            public_url: format!("http://{bind}/sovereign"),
            limits: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
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
    pub engine: EngineSettings,
    /// The validated component catalog (from `--catalog-dir`).
    pub catalog: Arc<CatalogStore>,
    pub gitops: crate::gitops::config::GitopsSettings,
    /// `--hetzner-api-url`, without a trailing slash.
    pub hetzner_api_url: String,
    pub auth: crate::auth::config::AuthSettings,
    /// Catalyst's PowerDNS; `None` without `--pdns-url`.
    pub pdns: Option<crate::pdns::PdnsSettings>,
    pub limits: crate::http::limits::Limits,
    /// Outgoing e-mail; links in messages start at the public origin.
    pub mail: crate::mail::config::MailSettings,
    /// `--metrics-bind`: the Prometheus listener; `None`: no metrics endpoint.
    pub metrics_bind: Option<SocketAddr>,
    /// `--hetzner-limits`, `--allow-local-console`.
    pub preflight: crate::preflight::PreflightOptions,
}

/// `--tofu-bin` as every run uses it: a path (anything with a `/`) is made absolute against the directory the
/// console starts in and must be an executable file — each run works in its own directory, where a relative
/// path would no longer point at it; a bare name stays a name, looked up on `PATH` when a run starts.
pub fn resolve_tofu_bin(bin: &std::path::Path) -> Result<PathBuf, String> {
    if bin.as_os_str().is_empty() {
        return Err("is empty; give the OpenTofu executable's name on PATH or its path".into());
    }
    if bin.components().count() == 1 && !bin.is_absolute() {
        return Ok(bin.to_path_buf());
    }
    let full = if bin.is_absolute() {
        bin.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot resolve {} (no current directory: {e})", bin.display()))?
            .join(bin)
    };
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(&full) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(full),
        Ok(_) => Err(format!(
            "{} is not an executable file; point it at the OpenTofu binary (1.6 or newer)",
            full.display()
        )),
        Err(_) => Err(format!(
            "{} does not exist; install OpenTofu 1.6 or newer (https://opentofu.org/docs/intro/install/) or correct the path",
            full.display()
        )),
    }
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
        if let Some(problem) = app::deployments::fields::domain_name(&d) {
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
        let metrics_bind = match self
            .metrics_bind
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            None => None,
            Some(raw) => {
                let addr = SocketAddr::from_str(raw).map_err(|_| {
                    ConfigError::new(
                        "--metrics-bind",
                        format!("“{raw}” is not an address and port; use the form 0.0.0.0:9090"),
                    )
                })?;
                if addr == bind {
                    return Err(ConfigError::new(
                        "--metrics-bind",
                        format!("{addr} is the console's own address (--bind); give metrics another port"),
                    ));
                }
                Some(addr)
            }
        };
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
        let e = &self.engine;
        let duration = |option: &'static str, value: &str| {
            parse_duration(value).map_err(|p| ConfigError::new(option, p))
        };
        // `--public-url` belongs to the auth options (same-origin checks, links in e-mails); clusters PUT
        // their kubeconfig back to the same address.
        let auth = self.auth.validate(bind)?;
        let public_url = auth.console_url();
        if let Some(path) = &e.secret_key_file
            && !path.is_file()
        {
            return Err(ConfigError::new(
                "--secret-key-file",
                format!(
                    "{} does not exist; create it with `openssl rand -hex 32 > {}` (and back it up), or leave the option out to use <data-dir>/secret.key",
                    path.display(),
                    path.display()
                ),
            ));
        }
        let engine = EngineSettings {
            tofu_bin: resolve_tofu_bin(&e.tofu_bin).map_err(|p| ConfigError::new("--tofu-bin", p))?,
            tofu_module_dir: e.tofu_module_dir.clone(),
            tofu_timeout: duration("--tofu-timeout", &e.tofu_timeout)?,
            tofu_apply_timeout: duration("--tofu-apply-timeout", &e.tofu_apply_timeout)?,
            cluster_timeout: duration("--cluster-timeout", &e.cluster_timeout)?,
            install_timeout: duration("--install-timeout", &e.install_timeout)?,
            lease_ttl: duration("--lease-ttl", &e.lease_ttl)?,
            secret_key_file: e.secret_key_file.clone(),
            public_url,
            limits: crate::db::deployments::CreateLimits {
                in_flight: e.max_deployments_in_flight,
                per_day: e.max_deployments_per_day,
            },
        };
        let mail = self
            .mail
            .validate(&auth.public_origin, |name| std::env::var(name).ok())?;
        let catalog = load_catalog(&self.catalog_dir)?;
        let gitops = self.gitops.validate()?;
        let hetzner_api_url = self.hetzner_api_url.trim().trim_end_matches('/').to_string();
        if !(hetzner_api_url.starts_with("https://") || hetzner_api_url.starts_with("http://"))
            || hetzner_api_url.len() < 10
        {
            return Err(ConfigError::new(
                "--hetzner-api-url",
                format!(
                    "“{hetzner_api_url}” is not an http(s) URL; leave the option out for {}",
                    crate::hetzner::DEFAULT_API_URL
                ),
            ));
        }
        let pdns = self.pdns.validate(|name| std::env::var(name).ok())?;
        let preflight = self.preflight.validate()?;
        Ok(Settings {
            metrics_bind,
            preflight,
            pdns,
            mail,
            hetzner_api_url,
            pool_domains,
            nameservers,
            engine,
            gitops,
            auth,
            bind,
            database,
            data_dir: self.data_dir.clone(),
            log_format: self.log_format,
            log_level: self.log_level.clone(),
            site_root: self.site_root.clone(),
            catalog: Arc::new(catalog),
            limits: self.limits.validate()?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

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
    fn engine_options_are_validated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().to_str().expect("utf8");
        let s = config(&["--data-dir", d, "--bind", "127.0.0.1:3500"])
            .validate()
            .expect("valid");
        assert_eq!(s.engine.public_url, "http://127.0.0.1:3500/sovereign");
        assert_eq!(s.engine.tofu_apply_timeout, Duration::from_secs(5400));
        assert_eq!(s.engine.tofu_bin, PathBuf::from("tofu"));
        // A relative path is resolved once, against the directory the console starts in (cargo runs unit
        // tests in server/), because each run works in a directory of its own.
        let s = config(&["--data-dir", d, "--tofu-bin", "../tests/standins/tofu"])
            .validate()
            .expect("valid");
        assert!(s.engine.tofu_bin.is_absolute(), "{}", s.engine.tofu_bin.display());
        assert!(s.engine.tofu_bin.ends_with("tests/standins/tofu"));
        let e = config(&["--data-dir", d, "--tofu-bin", "tests/standins/tofu"])
            .validate()
            .expect_err("not there from server/");
        assert_eq!(e.option, "--tofu-bin");
        assert!(e.problem.contains("does not exist"), "{e}");
        let e = config(&["--data-dir", d, "--tofu-timeout", "soon"])
            .validate()
            .expect_err("bad");
        assert_eq!(e.option, "--tofu-timeout");
        let e = config(&["--data-dir", d, "--lease-ttl", "0s"])
            .validate()
            .expect_err("zero");
        assert_eq!(e.option, "--lease-ttl");
        let e = config(&["--data-dir", d, "--public-url", "console.example.com"])
            .validate()
            .expect_err("bad url");
        assert_eq!(e.option, "--public-url");
        assert!(e.problem.contains("https://console.example.com"), "{e}");
        let e = config(&["--data-dir", d, "--secret-key-file", "/nonexistent/key"])
            .validate()
            .expect_err("missing");
        assert_eq!(e.option, "--secret-key-file");
        assert!(e.problem.contains("openssl rand -hex 32"), "{e}");
        let s = config(&[
            "--data-dir",
            d,
            "--public-url",
            "https://console.example.com/sovereign/",
        ])
        .validate()
        .expect("ok");
        assert_eq!(s.engine.public_url, "https://console.example.com/sovereign");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("42"), Ok(Duration::from_secs(42)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "",
            "m",
            "0s",
            "1w",
            "-5m",
            "1.5h",
            "367d",
            "18446744073709551615",
            "18446744073709551615h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    /// README.md's configuration table is the documentation of every option: one row per flag of
    /// `catalyst --help`, naming its environment variable, and no row for a flag that does not exist.
    #[test]
    fn readme_lists_every_option_once_with_its_environment_variable() {
        use clap::CommandFactory;
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
        let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `--")).collect();
        let cli = Cli::command();
        let mut flags = Vec::new();
        for arg in cli.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let flag = format!("`--{long}`");
            let matching: Vec<&&str> = rows
                .iter()
                .filter(|r| r.starts_with(&format!("| {flag} |")))
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "README.md must have exactly one configuration row for {flag}: {matching:?}"
            );
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                assert!(
                    matching[0].contains(&format!("| `{env}` |")),
                    "README.md's row for {flag} must name `{env}`: {}",
                    matching[0]
                );
            }
            flags.push(flag);
        }
        for row in rows {
            assert!(
                flags.iter().any(|f| row.starts_with(&format!("| {f} |"))),
                "README.md documents an option that does not exist: {row}"
            );
        }
    }
}
