//! The PowerDNS options (`--pdns-…`). The API key never comes from the command line (other users of the
//! machine can read it there): `CATALYST_PDNS_API_KEY` or the file named by `--pdns-api-key-file`.

use std::path::{Path, PathBuf};

use app::deployments::Secret;
use clap::Args;

use super::{PdnsClient, PdnsError};
use crate::config::value::ConfigError;

/// The environment variable holding the API key itself.
pub const API_KEY_ENV: &str = "CATALYST_PDNS_API_KEY";

/// Options of Catalyst's PowerDNS.
#[derive(Debug, Clone, Args)]
pub struct PdnsArgs {
    /// PowerDNS's HTTP API (its webserver with `api=yes`), e.g. `http://127.0.0.1:8081`. Unset: no DNS —
    /// pool subdomains cannot be checked or given out, and deployments stop at their DNS step.
    #[arg(long, env = "CATALYST_PDNS_URL", value_name = "URL", global = true)]
    pub pdns_url: Option<String>,

    /// File holding PowerDNS's API key (e.g. a mounted secret); or set CATALYST_PDNS_API_KEY. There is no
    /// flag for the key itself.
    #[arg(long, env = "CATALYST_PDNS_API_KEY_FILE", value_name = "FILE", global = true)]
    pub pdns_api_key_file: Option<PathBuf>,

    /// The server id in PowerDNS's API paths (`/api/v1/servers/<id>`).
    #[arg(
        long,
        env = "CATALYST_PDNS_SERVER_ID",
        default_value = "localhost",
        value_name = "ID",
        global = true
    )]
    pub pdns_server_id: String,

    /// The DNS server (`host:port`, an address) Catalyst asks whether a bring-your-own domain is delegated
    /// to its nameservers. Unset: the machine's resolvers (`/etc/resolv.conf`).
    #[arg(long, env = "CATALYST_DNS_RESOLVER", value_name = "ADDR:PORT", global = true)]
    pub dns_resolver: Option<String>,
}

/// Validated PowerDNS options.
#[derive(Debug, Clone)]
pub struct PdnsSettings {
    /// The API's root, without a trailing slash.
    pub url: String,
    pub api_key: Secret,
    pub server_id: String,
    /// `--dns-resolver`; `None`: the machine's resolvers.
    pub resolver: Option<std::net::SocketAddr>,
}

impl PdnsSettings {
    pub fn client(&self) -> Result<PdnsClient, PdnsError> {
        PdnsClient::new(&self.url, self.api_key.clone(), &self.server_id)
    }
}

fn read_key_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value = text.trim().to_string();
    if value.is_empty() {
        return Err(format!(
            "{} is empty; put PowerDNS's API key in it",
            path.display()
        ));
    }
    Ok(value)
}

impl PdnsArgs {
    /// `env` reads an environment variable (the process's own in production, a map in tests).
    pub fn validate(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<PdnsSettings>, ConfigError> {
        let url = self
            .pdns_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        let key = match &self.pdns_api_key_file {
            Some(path) => Some(read_key_file(path).map_err(|p| ConfigError::new("--pdns-api-key-file", p))?),
            None => env(API_KEY_ENV)
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty()),
        };
        let server_id = self.pdns_server_id.trim().to_string();
        if server_id.is_empty()
            || !server_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(ConfigError::new(
                "--pdns-server-id",
                format!(
                    "“{}” is not a PowerDNS server id; leave the option out for `localhost`",
                    self.pdns_server_id
                ),
            ));
        }
        let resolver = match self
            .dns_resolver
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => None,
            Some(r) => Some(r.parse::<std::net::SocketAddr>().map_err(|_| {
                ConfigError::new(
                    "--dns-resolver",
                    format!(
                        "“{r}” is not an address with a port; use e.g. 127.0.0.1:53 or [2001:db8::53]:53"
                    ),
                )
            })?),
        };
        let Some(url) = url else {
            if key.is_some() {
                return Err(ConfigError::new(
                    "--pdns-url",
                    "an API key is set but no URL; set --pdns-url (CATALYST_PDNS_URL) to PowerDNS's API, e.g. http://127.0.0.1:8081",
                ));
            }
            return Ok(None);
        };
        let parsed = url::Url::parse(&url).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
        if parsed.is_none() {
            return Err(ConfigError::new(
                "--pdns-url",
                format!("“{url}” is not an http(s) URL without credentials; use e.g. http://127.0.0.1:8081"),
            ));
        }
        let Some(key) = key else {
            return Err(ConfigError::new(
                "--pdns-api-key-file",
                format!(
                    "PowerDNS's API key is missing: set {API_KEY_ENV} or --pdns-api-key-file (never on the command line)"
                ),
            ));
        };
        Ok(Some(PdnsSettings {
            url,
            api_key: Secret::new(key),
            server_id,
            resolver,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: PdnsArgs,
    }

    fn parse(args: &[&str]) -> PdnsArgs {
        let mut argv = vec!["t"];
        argv.extend_from_slice(args);
        T::try_parse_from(argv).expect("parses").a
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn unset_means_no_dns() {
        assert!(parse(&[]).validate(no_env).expect("valid").is_none());
    }

    #[test]
    fn key_from_environment_or_file() {
        let env = |n: &str| (n == API_KEY_ENV).then(|| " from-env \n".to_string());
        let s = parse(&["--pdns-url", "http://127.0.0.1:8081/"])
            .validate(env)
            .expect("valid")
            .expect("configured");
        assert_eq!(s.url, "http://127.0.0.1:8081");
        assert_eq!(s.api_key.expose(), "from-env");
        assert_eq!(s.server_id, "localhost");

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("key");
        std::fs::write(&file, "from-file\n").expect("write");
        let s = parse(&[
            "--pdns-url",
            "http://127.0.0.1:8081",
            "--pdns-api-key-file",
            file.to_str().expect("utf-8"),
        ])
        .validate(env)
        .expect("valid")
        .expect("configured");
        assert_eq!(
            s.api_key.expose(),
            "from-file",
            "the file wins over the environment"
        );
    }

    #[test]
    fn problems_name_their_option() {
        let e = parse(&["--pdns-url", "http://127.0.0.1:8081"])
            .validate(no_env)
            .expect_err("no key");
        assert_eq!(e.option, "--pdns-api-key-file");
        assert!(e.problem.contains(API_KEY_ENV), "{e}");
        let env = |_: &str| Some("k".to_string());
        let e = parse(&["--pdns-url", "pdns:8081"])
            .validate(env)
            .expect_err("bad url");
        assert_eq!(e.option, "--pdns-url");
        let e = parse(&["--pdns-url", "http://u:p@127.0.0.1:8081"])
            .validate(env)
            .expect_err("credentials in url");
        assert_eq!(e.option, "--pdns-url");
        let e = parse(&[]).validate(env).expect_err("key without url");
        assert_eq!(e.option, "--pdns-url");
        let e = parse(&["--pdns-url", "http://x:1", "--pdns-server-id", "a/b"])
            .validate(env)
            .expect_err("bad id");
        assert_eq!(e.option, "--pdns-server-id");
        let e = parse(&[
            "--pdns-url",
            "http://x:1",
            "--pdns-api-key-file",
            "/nonexistent/key",
        ])
        .validate(env)
        .expect_err("missing file");
        assert_eq!(e.option, "--pdns-api-key-file");
        // There is no flag for the key itself.
        assert!(T::try_parse_from(["t", "--pdns-api-key", "k"]).is_err());
    }
}
