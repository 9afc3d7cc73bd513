//! The options of accounts and sessions: flags and environment variables, validated into [`AuthSettings`].

use std::net::SocketAddr;
use std::time::Duration;

use app::auth::{OrgRole, PlatformRole, SignupPolicy};
use clap::{Args, ValueEnum};
use url::Url;

use crate::config::value::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignupArg {
    /// Anyone may create an account (and gets an organisation of their own).
    Open,
    /// Only people with an invitation link may create an account.
    InviteOnly,
}

#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// The console's public address as browsers see it, e.g. `https://console.example.com` (the console lives
    /// under `/sovereign` there). Used for the `Secure` cookie flag (https), the single sign-on redirect and
    /// the same-origin check of every form and API call. [default: http://<bind>]
    #[arg(long, env = "CATALYST_PUBLIC_URL", value_name = "URL", global = true)]
    pub public_url: Option<String>,

    /// Who may create an account: `invite-only` (an invitation link is needed) or `open`.
    #[arg(long, env = "CATALYST_SIGNUP", value_enum, default_value_t = SignupArg::InviteOnly, global = true)]
    pub signup: SignupArg,

    /// A session ends after this long without a request (`30m`, `2h`, `1d`).
    #[arg(
        long,
        env = "CATALYST_SESSION_IDLE_TIMEOUT",
        default_value = "2h",
        value_name = "DURATION",
        global = true
    )]
    pub session_idle_timeout: String,

    /// A session ends this long after sign-in, however active (`12h`, `7d`).
    #[arg(
        long,
        env = "CATALYST_SESSION_MAX_AGE",
        default_value = "12h",
        value_name = "DURATION",
        global = true
    )]
    pub session_max_age: String,

    /// Take the client address for rate limits and the audit log from the last `X-Forwarded-For` entry
    /// (set this only behind a proxy that writes that header). [default: off]
    #[arg(
        long,
        env = "CATALYST_TRUST_FORWARDED_FOR",
        default_value_t = false,
        global = true
    )]
    pub trust_forwarded_for: bool,

    /// Single sign-on: the OpenID Connect issuer URL (e.g. `https://id.example.com/realms/acme`). Setting it
    /// shows a sign-in button on the login page. [default: none, SSO off]
    #[arg(long, env = "CATALYST_OIDC_ISSUER", value_name = "URL", global = true)]
    pub oidc_issuer: Option<String>,

    /// Single sign-on: the client id registered at the provider. [default: none]
    #[arg(long, env = "CATALYST_OIDC_CLIENT_ID", value_name = "ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// Single sign-on: the client secret. Set the environment variable or --oidc-client-secret-file: a value on
    /// the command line is readable by every user of the machine (it works, with a warning). [default: none]
    #[arg(
        long,
        env = "CATALYST_OIDC_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        global = true,
        conflicts_with = "oidc_client_secret_file"
    )]
    pub oidc_client_secret: Option<String>,

    /// Single sign-on: file holding the client secret (e.g. a mounted secret; a trailing newline is ignored).
    #[arg(
        long,
        env = "CATALYST_OIDC_CLIENT_SECRET_FILE",
        value_name = "FILE",
        global = true
    )]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,

    /// Single sign-on: the ID-token or userinfo claim that carries the person's groups or roles.
    #[arg(
        long,
        env = "CATALYST_OIDC_ROLE_CLAIM",
        default_value = "groups",
        value_name = "CLAIM",
        global = true
    )]
    pub oidc_role_claim: String,

    /// Single sign-on: claim values to roles, comma-separated `VALUE=ROLE` where ROLE is `superadmin`,
    /// `sovereign-admin` or `org:<slug>:<owner|admin|editor|viewer>`, e.g.
    /// `catalyst-admins=superadmin,acme-devs=org:acme:editor`. [default: none]
    #[arg(long, env = "CATALYST_OIDC_ROLE_MAP", value_name = "MAP", global = true)]
    pub oidc_role_map: Option<String>,

    /// Single sign-on: extra scopes to request besides `openid email profile` (space-separated, e.g. `groups`).
    #[arg(
        long,
        env = "CATALYST_OIDC_SCOPES",
        default_value = "",
        value_name = "SCOPES",
        global = true
    )]
    pub oidc_scopes: String,

    /// Single sign-on: the provider's name on the login button ("Sign in with <LABEL>").
    #[arg(
        long,
        env = "CATALYST_OIDC_LABEL",
        default_value = "single sign-on",
        value_name = "LABEL",
        global = true
    )]
    pub oidc_label: String,
}

/// One `VALUE=ROLE` rule of `--oidc-role-map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappedRole {
    Platform(PlatformRole),
    Org { slug: String, role: OrgRole },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: String,
    pub role_claim: String,
    pub role_map: Vec<(String, MappedRole)>,
    pub scopes: Vec<String>,
    pub label: String,
}

/// Accounts and sessions after validation.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `https://console.example.com` — scheme, host and port only.
    pub public_origin: String,
    pub secure_cookies: bool,
    pub signup: SignupPolicy,
    pub idle_timeout: Duration,
    pub max_age: Duration,
    pub trust_forwarded_for: bool,
    pub oidc: Option<OidcSettings>,
}

impl AuthSettings {
    /// The settings a console bound to `bind` has without any auth option (tests start from here).
    pub fn defaults_for(bind: SocketAddr) -> AuthSettings {
        AuthSettings {
            public_origin: default_origin(bind),
            secure_cookies: false,
            signup: SignupPolicy::InviteOnly,
            idle_timeout: Duration::from_secs(2 * 3600),
            max_age: Duration::from_secs(12 * 3600),
            trust_forwarded_for: false,
            oidc: None,
        }
    }

    /// Where the console's pages are: `<origin>/sovereign`.
    pub fn console_url(&self) -> String {
        format!("{}{}", self.public_origin, app::routes::BASE)
    }
}

fn default_origin(bind: SocketAddr) -> String {
    let host = match bind {
        SocketAddr::V4(a) if a.ip().is_unspecified() => "localhost".to_string(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => "localhost".to_string(),
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    format!("http://{host}:{}", bind.port())
}

impl AuthConfig {
    pub fn validate(&self, bind: SocketAddr) -> Result<AuthSettings, ConfigError> {
        let mut s = AuthSettings::defaults_for(bind);
        if let Some(raw) = &self.public_url {
            s.public_origin = parse_public_url(raw).map_err(|p| ConfigError::new("--public-url", p))?;
            s.secure_cookies = s.public_origin.starts_with("https://");
        }
        s.signup = match self.signup {
            SignupArg::Open => SignupPolicy::Open,
            SignupArg::InviteOnly => SignupPolicy::InviteOnly,
        };
        s.idle_timeout = parse_duration(&self.session_idle_timeout)
            .map_err(|p| ConfigError::new("--session-idle-timeout", p))?;
        s.max_age =
            parse_duration(&self.session_max_age).map_err(|p| ConfigError::new("--session-max-age", p))?;
        if s.idle_timeout > s.max_age {
            return Err(ConfigError::new(
                "--session-idle-timeout",
                format!(
                    "{} is longer than --session-max-age ({}); make it shorter",
                    self.session_idle_timeout, self.session_max_age
                ),
            ));
        }
        s.trust_forwarded_for = self.trust_forwarded_for;
        s.oidc = self.oidc()?;
        Ok(s)
    }

    fn oidc(&self) -> Result<Option<OidcSettings>, ConfigError> {
        let Some(issuer) = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            for (option, set) in [
                ("--oidc-client-id", self.oidc_client_id.is_some()),
                ("--oidc-client-secret", self.oidc_client_secret.is_some()),
                (
                    "--oidc-client-secret-file",
                    self.oidc_client_secret_file.is_some(),
                ),
                ("--oidc-role-map", self.oidc_role_map.is_some()),
            ] {
                if set {
                    return Err(ConfigError::new(
                        option,
                        "is set but --oidc-issuer is not; set both or neither",
                    ));
                }
            }
            return Ok(None);
        };
        let issuer = Url::parse(issuer)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or_else(|| {
                ConfigError::new(
                    "--oidc-issuer",
                    format!("“{issuer}” is not a URL; use e.g. https://id.example.com/realms/acme"),
                )
            })?;
        let client_id = self
            .oidc_client_id
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ConfigError::new("--oidc-client-id", "is required with --oidc-issuer"))?;
        let from_file = self
            .oidc_client_secret_file
            .as_deref()
            .map(crate::at_rest::read_secret_file)
            .transpose()
            .map_err(|problem| ConfigError::new("--oidc-client-secret-file", problem))?;
        let client_secret = from_file
            .or_else(|| self.oidc_client_secret.clone())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ConfigError::new(
                    "--oidc-client-secret",
                    "is required with --oidc-issuer (use CATALYST_OIDC_CLIENT_SECRET or --oidc-client-secret-file)",
                )
            })?;
        let role_claim = self.oidc_role_claim.trim().to_string();
        if role_claim.is_empty() {
            return Err(ConfigError::new(
                "--oidc-role-claim",
                "must name a claim, e.g. groups",
            ));
        }
        let role_map = match &self.oidc_role_map {
            Some(map) => parse_role_map(map).map_err(|p| ConfigError::new("--oidc-role-map", p))?,
            None => Vec::new(),
        };
        Ok(Some(OidcSettings {
            issuer,
            client_id,
            client_secret,
            role_claim,
            role_map,
            scopes: self.oidc_scopes.split_whitespace().map(str::to_string).collect(),
            label: self.oidc_label.trim().to_string(),
        }))
    }
}

/// `https://console.example.com` or `https://console.example.com/sovereign` → the origin.
pub fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw.trim())
        .map_err(|e| format!("“{raw}” is not a URL ({e}); use e.g. https://console.example.com"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "“{raw}” must be an http:// or https:// address, e.g. https://console.example.com"
        ));
    }
    let path = url.path().trim_end_matches('/');
    if !(path.is_empty() || path == app::routes::BASE) || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "“{raw}” has a path; give the address without it (the console is always under {}), e.g. https://console.example.com",
            app::routes::BASE
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// A session lifetime: the options' one duration syntax (`crate::config::value::parse_duration`: `90s`, `30m`,
/// `12h`, `7d`), with a unit, and between one second and 366 days.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    if raw.trim().ends_with(|c: char| c.is_ascii_digit()) || raw.trim().ends_with("ms") {
        return Err(format!(
            "“{raw}” is not a session duration; use a number and s, m, h or d, e.g. 30m or 12h"
        ));
    }
    crate::config::value::parse_duration(raw)
}

/// `groupA=superadmin,groupB=org:acme:editor` → rules.
pub fn parse_role_map(raw: &str) -> Result<Vec<(String, MappedRole)>, String> {
    let mut rules = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (value, role) = part
            .rsplit_once('=')
            .ok_or_else(|| format!("“{part}” is not VALUE=ROLE, e.g. catalyst-admins=superadmin"))?;
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("“{part}” has no claim value before ="));
        }
        let role = role.trim();
        let mapped = if let Some(p) = PlatformRole::parse(role) {
            MappedRole::Platform(p)
        } else if let Some(rest) = role.strip_prefix("org:") {
            let (slug, r) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("“{role}” is not org:<slug>:<role>, e.g. org:acme:editor"))?;
            let slug = app::auth::validate::org_slug("slug", slug)
                .map_err(|e| format!("“{role}”: {}", e.message))?;
            let role = OrgRole::parse(r)
                .ok_or_else(|| format!("“{r}” in “{part}” is not owner, admin, editor or viewer"))?;
            MappedRole::Org { slug, role }
        } else {
            return Err(format!(
                "“{role}” in “{part}” is not superadmin, sovereign-admin or org:<slug>:<role>"
            ));
        };
        rules.push((value.to_string(), mapped));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: AuthConfig,
    }

    fn oidc(args: &[&str]) -> Result<Option<OidcSettings>, ConfigError> {
        let mut argv = vec![
            "t",
            "--oidc-issuer",
            "https://id.example.com",
            "--oidc-client-id",
            "catalyst",
        ];
        argv.extend_from_slice(args);
        T::try_parse_from(argv).expect("parses").a.oidc()
    }

    #[test]
    fn the_client_secret_can_come_from_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("oidc-secret");
        std::fs::write(&file, "from-the-file\n").expect("write");
        let path = file.to_str().expect("utf-8");
        let s = oidc(&["--oidc-client-secret-file", path])
            .expect("valid")
            .expect("on");
        assert_eq!(s.client_secret, "from-the-file");
        let s = oidc(&["--oidc-client-secret", "from-the-flag"])
            .expect("valid")
            .expect("on");
        assert_eq!(s.client_secret, "from-the-flag");
        let missing = dir.path().join("missing");
        let e = oidc(&["--oidc-client-secret-file", missing.to_str().expect("utf-8")]).expect_err("missing");
        assert_eq!(e.option, "--oidc-client-secret-file");
        let e = oidc(&[]).expect_err("no secret");
        assert_eq!(e.option, "--oidc-client-secret");
        // Both the value and the file: refused by the parser.
        let argv = [
            "t",
            "--oidc-client-secret",
            "x",
            "--oidc-client-secret-file",
            path,
        ];
        assert!(T::try_parse_from(argv).is_err());
        // A file without an issuer is a mistake, named.
        let argv = ["t", "--oidc-client-secret-file", path];
        let e = T::try_parse_from(argv)
            .expect("parses")
            .a
            .oidc()
            .expect_err("no issuer");
        assert_eq!(e.option, "--oidc-client-secret-file");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration(" 12h "), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        for bad in [
            "",
            "12",
            "500ms",
            "h",
            "0s",
            "1w",
            "-5m",
            "1.5h",
            "400d",
            "18446744073709551615d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn public_urls() {
        assert_eq!(
            parse_public_url("https://console.example.com"),
            Ok("https://console.example.com".into())
        );
        assert_eq!(
            parse_public_url("https://console.example.com/sovereign/"),
            Ok("https://console.example.com".into())
        );
        assert_eq!(
            parse_public_url("http://127.0.0.1:8080"),
            Ok("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            parse_public_url("https://Console.Example.com:443"),
            Ok("https://console.example.com".into())
        );
        for bad in [
            "console.example.com",
            "ftp://x.example",
            "https://x.example/other",
            "https://x.example/?a=1",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_origin_follows_bind() {
        assert_eq!(
            default_origin("127.0.0.1:3000".parse().expect("addr")),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            default_origin("0.0.0.0:8080".parse().expect("addr")),
            "http://localhost:8080"
        );
        assert_eq!(
            default_origin("[::1]:3000".parse().expect("addr")),
            "http://[::1]:3000"
        );
    }

    #[test]
    fn role_maps() {
        let rules =
            parse_role_map("catalyst-admins=superadmin, ops=sovereign-admin,acme devs=org:acme:editor")
                .expect("valid");
        assert_eq!(
            rules,
            vec![
                (
                    "catalyst-admins".into(),
                    MappedRole::Platform(PlatformRole::Superadmin)
                ),
                ("ops".into(), MappedRole::Platform(PlatformRole::SovereignAdmin)),
                (
                    "acme devs".into(),
                    MappedRole::Org {
                        slug: "acme".into(),
                        role: OrgRole::Editor
                    }
                ),
            ]
        );
        for bad in [
            "x",
            "=superadmin",
            "a=root",
            "a=org:acme",
            "a=org:Acme:editor",
            "a=org:acme:boss",
        ] {
            assert!(parse_role_map(bad).is_err(), "{bad}");
        }
    }
}
