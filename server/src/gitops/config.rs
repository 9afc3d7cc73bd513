//! The GitOps options (`--gitops-…`): where Catalyst pushes each Sovereign's Flux tree, and what the
//! Sovereigns use to pull it.
//!
//! Two modes (SECURITY.md "GitOps isolation"):
//! - **one repository per Sovereign** (`--gitops-forge-url`, `--gitops-forge-org`, the forge token from
//!   `CATALYST_GITOPS_FORGE_TOKEN` or `--gitops-forge-token-file`, `--gitops-ssh-known-hosts-file`): each
//!   Sovereign gets a private repository on a Gitea/Forgejo forge and a read-only deploy key registered on that
//!   repository only (`gitops::forge`);
//! - **one shared repository** (`--gitops-repo-url`, `--gitops-token`, `--gitops-pull-token`): every
//!   Sovereign's tree is `clusters/<fqdn>/` of that repository and every Sovereign pulls with the one pull
//!   token.
//!
//! The two exclude each other; a forge with any of its four settings missing stops the start with a sentence
//! naming the missing option.

use std::path::PathBuf;

use app::deployments::Secret;
use clap::Args;

use super::GitRemote;
use super::forge::{Forge, ForgeError};
use crate::config::value::ConfigError;

fn secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s.trim()))
}

/// Options of the GitOps repository.
#[derive(Debug, Clone, Args)]
pub struct GitopsArgs {
    /// Git repository (https) that receives every Sovereign's Flux tree (clusters/<fqdn>/) and that the
    /// Sovereigns' Flux pulls from. Required to provision; credentials go in --gitops-token, not here.
    #[arg(long, env = "CATALYST_GITOPS_REPO_URL", value_name = "URL", global = true)]
    pub gitops_repo_url: Option<String>,

    /// Branch Catalyst pushes to and Flux follows.
    #[arg(
        long,
        env = "CATALYST_GITOPS_BRANCH",
        default_value = "main",
        value_name = "BRANCH",
        global = true
    )]
    pub gitops_branch: String,

    /// User name sent with the tokens (HTTP basic auth): any for GitHub, `oauth2` for GitLab, the token's
    /// owner for Gitea.
    #[arg(
        long,
        env = "CATALYST_GITOPS_USERNAME",
        default_value = "catalyst",
        value_name = "NAME",
        global = true
    )]
    pub gitops_username: String,

    /// Token with write access to the branch. Set the environment variable or --gitops-token-file: a value
    /// on the command line is readable by every user of the machine (it works, with a warning).
    #[arg(long, env = "CATALYST_GITOPS_TOKEN", value_name = "TOKEN", value_parser = secret, hide_env_values = true, global = true, conflicts_with = "gitops_token_file")]
    pub gitops_token: Option<Secret>,

    /// File holding the token with write access to the branch (e.g. a mounted secret).
    #[arg(long, env = "CATALYST_GITOPS_TOKEN_FILE", value_name = "FILE", global = true)]
    pub gitops_token_file: Option<PathBuf>,

    /// Read-only token the Sovereigns' Flux pulls with (stored in each cluster). Unset: the repository is
    /// public. Set the environment variable or --gitops-pull-token-file.
    #[arg(long, env = "CATALYST_GITOPS_PULL_TOKEN", value_name = "TOKEN", value_parser = secret, hide_env_values = true, global = true, conflicts_with = "gitops_pull_token_file")]
    pub gitops_pull_token: Option<Secret>,

    /// File holding the read-only pull token.
    #[arg(
        long,
        env = "CATALYST_GITOPS_PULL_TOKEN_FILE",
        value_name = "FILE",
        global = true
    )]
    pub gitops_pull_token_file: Option<PathBuf>,

    /// A Gitea/Forgejo forge (https) on which every Sovereign gets a private repository of its own and a
    /// read-only deploy key registered on that repository only. Needs --gitops-forge-org, the forge token
    /// (CATALYST_GITOPS_FORGE_TOKEN or --gitops-forge-token-file) and --gitops-ssh-known-hosts-file; excludes
    /// --gitops-repo-url.
    #[arg(long, env = "CATALYST_GITOPS_FORGE_URL", value_name = "URL", global = true)]
    pub gitops_forge_url: Option<String>,

    /// The forge organisation that holds every Sovereign's repository (`sovereign-<fqdn>`).
    #[arg(long, env = "CATALYST_GITOPS_FORGE_ORG", value_name = "ORG", global = true)]
    pub gitops_forge_org: Option<String>,

    /// File holding the forge token (e.g. a mounted secret); or set CATALYST_GITOPS_FORGE_TOKEN. There is no
    /// flag for the token itself. Its user creates and deletes repositories in the organisation and pushes.
    #[arg(
        long,
        env = "CATALYST_GITOPS_FORGE_TOKEN_FILE",
        value_name = "FILE",
        global = true
    )]
    pub gitops_forge_token_file: Option<PathBuf>,

    /// known_hosts lines of the forge's SSH server (e.g. `ssh-keyscan -p 22 git.example.com`): the
    /// Sovereigns' Flux accepts only these host keys when it pulls over SSH.
    #[arg(
        long,
        env = "CATALYST_GITOPS_SSH_KNOWN_HOSTS_FILE",
        value_name = "FILE",
        global = true
    )]
    pub gitops_ssh_known_hosts_file: Option<PathBuf>,

    /// The template every Sovereign's tree is rendered from.
    #[arg(
        long,
        env = "CATALYST_GITOPS_TEMPLATE_DIR",
        default_value = "clusters/_template",
        value_name = "DIR",
        global = true
    )]
    pub gitops_template_dir: PathBuf,

    /// Networks allowed to SSH into the Sovereigns' nodes (comma-separated CIDRs). Empty: no SSH from
    /// anywhere.
    #[arg(
        long,
        env = "CATALYST_NODE_SSH_CIDRS",
        default_value = "",
        value_name = "CIDRS",
        global = true
    )]
    pub node_ssh_cidrs: String,

    /// This console's public egress addresses (comma-separated CIDRs): the only networks each Sovereign
    /// region's Kubernetes API answers (its firewall opens 6443 to nothing else). Empty: the API answers no
    /// one outside the region, and the console cannot watch a new Sovereign come up.
    #[arg(
        long,
        env = "CATALYST_CONSOLE_EGRESS_CIDRS",
        default_value = "",
        value_name = "CIDRS",
        global = true
    )]
    pub console_egress_cidrs: String,

    /// Sovereigns take their certificate from Let's Encrypt's staging directory (untrusted certificates,
    /// generous rate limits): for consoles that test provisioning. Both issuers exist on every Sovereign.
    #[arg(
        long,
        env = "CATALYST_SOVEREIGN_ACME_STAGING",
        default_value_t = false,
        global = true
    )]
    pub sovereign_acme_staging: bool,
}

/// The environment variable holding the forge token itself.
pub const FORGE_TOKEN_ENV: &str = "CATALYST_GITOPS_FORGE_TOKEN";

/// A forge that gives every Sovereign a repository and a read-only deploy key of its own.
#[derive(Debug, Clone)]
pub struct ForgeSettings {
    /// `https://git.example.com`, without a trailing slash.
    pub url: String,
    pub org: String,
    /// Creates and deletes the repositories and pushes the trees; never reaches a Sovereign.
    pub token: Secret,
    /// known_hosts lines of the forge's SSH server, handed to every Sovereign's Flux.
    pub known_hosts: String,
}

impl ForgeSettings {
    pub fn client(&self) -> Result<Forge, ForgeError> {
        Forge::new(&self.url, &self.org, self.token.clone())
    }
}

/// Validated GitOps options.
#[derive(Debug, Clone)]
pub struct GitopsSettings {
    /// `None` until an operator configures a repository: provisioning then refuses with a clear message.
    pub remote: Option<GitRemote>,
    /// One repository per Sovereign on this forge; `None`: the shared repository (`remote`).
    pub forge: Option<ForgeSettings>,
    pub branch: String,
    pub username: String,
    pub pull_token: Option<Secret>,
    pub template_dir: PathBuf,
    pub node_ssh_cidrs: Vec<String>,
    /// The console's egress networks: the Sovereigns' Kubernetes APIs answer only these.
    pub console_egress_cidrs: Vec<String>,
    /// Sovereigns use Let's Encrypt's staging issuer.
    pub acme_staging: bool,
}

impl Default for GitopsSettings {
    fn default() -> Self {
        Self {
            remote: None,
            forge: None,
            branch: "main".into(),
            username: "catalyst".into(),
            pull_token: None,
            template_dir: PathBuf::from("clusters/_template"),
            node_ssh_cidrs: Vec::new(),
            console_egress_cidrs: Vec::new(),
            acme_staging: false,
        }
    }
}

impl GitopsSettings {
    /// The configured repository, or the error provisioning shows when there is none.
    pub fn require_remote(&self) -> Result<&GitRemote, super::GitopsError> {
        self.remote.as_ref().ok_or_else(|| {
            super::GitopsError::Invalid(
                "no GitOps repository is configured: start Catalyst with --gitops-repo-url (and --gitops-token)".into(),
            )
        })
    }
}

impl GitopsArgs {
    /// [`Self::validate_with`] the process's environment.
    pub fn validate(&self) -> Result<GitopsSettings, ConfigError> {
        self.validate_with(|name| std::env::var(name).ok())
    }

    /// `env` reads an environment variable (the process's own in production, a map in tests).
    pub fn validate_with(&self, env: impl Fn(&str) -> Option<String>) -> Result<GitopsSettings, ConfigError> {
        let branch = self.gitops_branch.trim().to_string();
        let username = self.gitops_username.trim().to_string();
        if username.is_empty() {
            return Err(ConfigError::new(
                "--gitops-username",
                "must not be empty; use e.g. catalyst",
            ));
        }
        let from_file =
            |option: &'static str, path: &Option<PathBuf>| -> Result<Option<Secret>, ConfigError> {
                path.as_deref()
                    .map(|p| crate::at_rest::read_secret_file(p).map(|v| secret(&v).unwrap_or_default()))
                    .transpose()
                    .map_err(|problem| ConfigError::new(option, problem))
            };
        let push_token = match from_file("--gitops-token-file", &self.gitops_token_file)? {
            Some(t) => Some(t),
            None => self.gitops_token.clone(),
        };
        let pull_token = match from_file("--gitops-pull-token-file", &self.gitops_pull_token_file)? {
            Some(t) => Some(t),
            None => self.gitops_pull_token.clone(),
        };
        let remote = match self
            .gitops_repo_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(url) => {
                let mut r = GitRemote::new(url, branch.clone(), push_token.clone().filter(|t| !t.is_empty()));
                r.username = username.clone();
                r.check().map_err(|problem| {
                    let option = if problem.contains("branch") {
                        "--gitops-branch"
                    } else {
                        "--gitops-repo-url"
                    };
                    ConfigError::new(option, problem)
                })?;
                Some(r)
            }
            None => None,
        };
        let forge = self.forge(&env)?;
        if forge.is_some() {
            // One mode at a time: a shared repository's tokens next to a forge would be a second way in.
            let shared = [
                (
                    "--gitops-repo-url",
                    self.gitops_repo_url
                        .as_deref()
                        .is_some_and(|u| !u.trim().is_empty()),
                ),
                (
                    "--gitops-token",
                    push_token.as_ref().is_some_and(|t| !t.is_empty()),
                ),
                (
                    "--gitops-pull-token",
                    pull_token.as_ref().is_some_and(|t| !t.is_empty()),
                ),
            ];
            if let Some((option, _)) = shared.iter().find(|(_, set)| *set) {
                return Err(ConfigError::new(
                    option,
                    "is for the one shared repository, but --gitops-forge-url gives every Sovereign a repository of its own; leave it out (or leave the --gitops-forge-… options out)",
                ));
            }
        }
        let node_ssh_cidrs =
            cidr_list(&self.node_ssh_cidrs).map_err(|p| ConfigError::new("--node-ssh-cidrs", p))?;
        let console_egress_cidrs = cidr_list(&self.console_egress_cidrs)
            .map_err(|p| ConfigError::new("--console-egress-cidrs", p))?;
        Ok(GitopsSettings {
            remote,
            forge,
            branch,
            username,
            pull_token: pull_token.filter(|t| !t.is_empty()),
            template_dir: self.gitops_template_dir.clone(),
            node_ssh_cidrs,
            console_egress_cidrs,
            acme_staging: self.sovereign_acme_staging,
        })
    }
}

impl GitopsArgs {
    /// The forge, all four settings or none: a half-configured one is refused naming what is missing.
    fn forge(&self, env: &impl Fn(&str) -> Option<String>) -> Result<Option<ForgeSettings>, ConfigError> {
        let url = self
            .gitops_forge_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        let org = self
            .gitops_forge_org
            .as_deref()
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty());
        let token = match &self.gitops_forge_token_file {
            Some(path) => Some(
                crate::at_rest::read_secret_file(path)
                    .map_err(|p| ConfigError::new("--gitops-forge-token-file", p))?,
            ),
            None => env(FORGE_TOKEN_ENV),
        }
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
        let known_hosts = self
            .gitops_ssh_known_hosts_file
            .as_deref()
            .map(|p| {
                std::fs::read_to_string(p)
                    .map_err(|e| {
                        ConfigError::new(
                            "--gitops-ssh-known-hosts-file",
                            format!("cannot read {}: {e}", p.display()),
                        )
                    })
                    .and_then(|text| {
                        known_hosts(&text).map_err(|problem| {
                            ConfigError::new(
                                "--gitops-ssh-known-hosts-file",
                                format!("{}: {problem}", p.display()),
                            )
                        })
                    })
            })
            .transpose()?;
        if url.is_none() && org.is_none() && token.is_none() && known_hosts.is_none() {
            return Ok(None);
        }
        let (Some(url), Some(org), Some(token), Some(known_hosts)) = (url, org, token, known_hosts) else {
            let set: Vec<&str> = [
                ("--gitops-forge-url", self.gitops_forge_url.is_some()),
                ("--gitops-forge-org", self.gitops_forge_org.is_some()),
                (
                    "the forge token",
                    self.gitops_forge_token_file.is_some() || env(FORGE_TOKEN_ENV).is_some(),
                ),
                (
                    "--gitops-ssh-known-hosts-file",
                    self.gitops_ssh_known_hosts_file.is_some(),
                ),
            ]
            .iter()
            .filter(|(_, s)| *s)
            .map(|(o, _)| *o)
            .collect();
            let given = format!("a forge is half configured (given: {})", set.join(", "));
            return Err(self.missing_forge_option(env, &given));
        };
        let parsed = url::Url::parse(&url).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
        if parsed.is_none() {
            return Err(ConfigError::new(
                "--gitops-forge-url",
                format!(
                    "“{url}” is not an http(s) URL without credentials; use e.g. https://git.example.com (the token goes in CATALYST_GITOPS_FORGE_TOKEN)"
                ),
            ));
        }
        if org.len() > 100
            || !org
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(ConfigError::new(
                "--gitops-forge-org",
                format!("“{org}” is not a forge organisation name (letters, digits, - _ .)"),
            ));
        }
        Ok(Some(ForgeSettings {
            url,
            org,
            token: Secret::new(token),
            known_hosts,
        }))
    }

    /// The first forge setting that is missing, as the error that names it.
    fn missing_forge_option(&self, env: &impl Fn(&str) -> Option<String>, given: &str) -> ConfigError {
        let has = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
        if !has(&self.gitops_forge_url) {
            return ConfigError::new(
                "--gitops-forge-url",
                format!(
                    "{given}; set it to the forge's address (e.g. https://git.example.com), or leave every --gitops-forge-… option out"
                ),
            );
        }
        if !has(&self.gitops_forge_org) {
            return ConfigError::new(
                "--gitops-forge-org",
                format!("{given}; set it to the forge organisation that holds the Sovereigns' repositories"),
            );
        }
        if self.gitops_forge_token_file.is_none() && !has(&env(FORGE_TOKEN_ENV)) {
            return ConfigError::new(
                "--gitops-forge-token-file",
                format!(
                    "{given}; the forge token is missing: set {FORGE_TOKEN_ENV} or --gitops-forge-token-file (never on the command line)"
                ),
            );
        }
        ConfigError::new(
            "--gitops-ssh-known-hosts-file",
            format!(
                "{given}; set it to a file with the forge's SSH host keys (ssh-keyscan output): the Sovereigns' Flux accepts no other"
            ),
        )
    }
}

/// Checks known_hosts text: at least one host key line, each `[marker] hosts keytype base64 [comment]`.
fn known_hosts(text: &str) -> Result<String, String> {
    if text.contains("PRIVATE KEY") {
        return Err("holds a private key; it takes the forge's public host keys (known_hosts lines)".into());
    }
    let mut lines = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|f| f.starts_with('@')) {
            fields.remove(0);
        }
        let ok = fields.len() >= 3
            && (fields[1].starts_with("ssh-")
                || fields[1].starts_with("ecdsa-")
                || fields[1].starts_with("sk-"))
            && fields[2]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
        if !ok {
            return Err(format!(
                "line {} is not a known_hosts line (host key-type base64-key); make the file with ssh-keyscan",
                n + 1
            ));
        }
        lines += 1;
    }
    if lines == 0 {
        return Err("holds no host key; make it with ssh-keyscan <forge host>".into());
    }
    Ok(text.trim().to_string() + "\n")
}

/// `203.0.113.0/24, 2001:db8::/32` → checked CIDRs.
fn cidr_list(raw: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for c in raw.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (ip, prefix) = c
            .split_once('/')
            .ok_or_else(|| format!("“{c}” is not a CIDR; use the form 203.0.113.0/24"))?;
        let ip: std::net::IpAddr = ip
            .parse()
            .map_err(|_| format!("“{c}” is not a CIDR; use the form 203.0.113.0/24"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match prefix.parse::<u8>() {
            Ok(p) if p <= max => out.push(c.to_string()),
            _ => return Err(format!("“{c}” has a prefix length outside 0–{max}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        g: GitopsArgs,
    }

    fn parse(args: &[&str]) -> GitopsArgs {
        let mut argv = vec!["t"];
        argv.extend_from_slice(args);
        T::try_parse_from(argv).expect("parses").g
    }

    #[test]
    fn defaults_leave_gitops_unconfigured() {
        let s = parse(&[]).validate().expect("valid");
        assert!(s.remote.is_none());
        assert_eq!(s.branch, "main");
        assert_eq!(s.template_dir, PathBuf::from("clusters/_template"));
        assert!(s.node_ssh_cidrs.is_empty());
        assert!(s.console_egress_cidrs.is_empty());
        assert!(!s.acme_staging);
        assert!(
            parse(&["--sovereign-acme-staging"])
                .validate()
                .expect("valid")
                .acme_staging
        );
    }

    #[test]
    fn a_configured_remote_carries_the_token_and_hides_it() {
        let s = parse(&[
            "--gitops-repo-url",
            "https://git.example.com/fleet.git",
            "--gitops-token",
            "tok-very-secret",
            "--gitops-username",
            "oauth2",
            "--node-ssh-cidrs",
            "203.0.113.0/24, 2001:db8::/32",
            "--console-egress-cidrs",
            "198.18.0.7/32",
        ])
        .validate()
        .expect("valid");
        let r = s.remote.expect("remote");
        assert_eq!(r.username, "oauth2");
        assert_eq!(r.token.as_ref().map(|t| t.expose()), Some("tok-very-secret"));
        assert!(!format!("{r:?}").contains("tok-very-secret"));
        assert_eq!(s.node_ssh_cidrs, ["203.0.113.0/24", "2001:db8::/32"]);
        assert_eq!(s.console_egress_cidrs, ["198.18.0.7/32"]);
    }

    #[test]
    fn bad_values_name_their_option() {
        let e = parse(&["--gitops-repo-url", "https://u:p@git.example.com/x.git"])
            .validate()
            .expect_err("userinfo");
        assert_eq!(e.option, "--gitops-repo-url");
        let e = parse(&["--console-egress-cidrs", "198.18.0.7"])
            .validate()
            .expect_err("not a CIDR");
        assert_eq!(e.option, "--console-egress-cidrs");
        let e = parse(&["--gitops-repo-url", "git@github.com:x/y.git"])
            .validate()
            .expect_err("scp form");
        assert_eq!(e.option, "--gitops-repo-url");
        let e = parse(&[
            "--gitops-repo-url",
            "https://git.example.com/x.git",
            "--gitops-branch",
            "a..b",
        ])
        .validate()
        .expect_err("branch");
        assert_eq!(e.option, "--gitops-branch");
        let e = parse(&["--node-ssh-cidrs", "10.0.0.0/33"])
            .validate()
            .expect_err("cidr");
        assert_eq!(e.option, "--node-ssh-cidrs");
        let e = parse(&["--node-ssh-cidrs", "somewhere"])
            .validate()
            .expect_err("cidr");
        assert_eq!(e.option, "--node-ssh-cidrs");
    }

    #[test]
    fn tokens_can_come_from_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let push = dir.path().join("push");
        let pull = dir.path().join("pull");
        std::fs::write(&push, "push-from-file\n").expect("write");
        std::fs::write(&pull, "pull-from-file").expect("write");
        let s = parse(&[
            "--gitops-repo-url",
            "https://git.example.com/fleet.git",
            "--gitops-token-file",
            push.to_str().expect("utf-8"),
            "--gitops-pull-token-file",
            pull.to_str().expect("utf-8"),
        ])
        .validate()
        .expect("valid");
        let r = s.remote.expect("remote");
        assert_eq!(r.token.as_ref().map(|t| t.expose()), Some("push-from-file"));
        assert_eq!(s.pull_token.as_ref().map(|t| t.expose()), Some("pull-from-file"));
        let e = parse(&[
            "--gitops-token-file",
            dir.path().join("missing").to_str().expect("utf-8"),
        ])
        .validate()
        .expect_err("missing file");
        assert_eq!(e.option, "--gitops-token-file");
        // Both the value and the file: refused by the parser.
        let mut argv = vec!["t", "--gitops-token", "x", "--gitops-token-file"];
        argv.push(push.to_str().expect("utf-8"));
        assert!(T::try_parse_from(argv).is_err());
    }

    const KNOWN_HOSTS: &str = "# ssh-keyscan git.example.com\ngit.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

    /// A forge's four settings as files in `dir`, minus the options in `leave_out`.
    fn forge_args(dir: &std::path::Path, leave_out: &[&str]) -> Vec<String> {
        let token = dir.join("forge-token");
        let hosts = dir.join("known_hosts");
        std::fs::write(&token, "forge-token-from-a-file\n").expect("write");
        std::fs::write(&hosts, KNOWN_HOSTS).expect("write");
        let all = [
            ("--gitops-forge-url", "https://git.example.com/".to_string()),
            ("--gitops-forge-org", "sovereigns".to_string()),
            ("--gitops-forge-token-file", token.display().to_string()),
            ("--gitops-ssh-known-hosts-file", hosts.display().to_string()),
        ];
        all.iter()
            .filter(|(o, _)| !leave_out.contains(o))
            .flat_map(|(o, v)| [o.to_string(), v.clone()])
            .collect()
    }

    fn parse_owned(args: &[String]) -> GitopsArgs {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        parse(&refs)
    }

    #[test]
    fn a_complete_forge_is_one_repository_per_sovereign() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = parse_owned(&forge_args(dir.path(), &[]))
            .validate_with(|_| None)
            .expect("valid");
        let f = s.forge.expect("forge");
        assert_eq!(f.url, "https://git.example.com");
        assert_eq!(f.org, "sovereigns");
        assert_eq!(f.token.expose(), "forge-token-from-a-file");
        assert!(f.known_hosts.contains("ssh-ed25519"));
        assert!(!format!("{f:?}").contains("forge-token-from-a-file"));
        assert!(s.remote.is_none());
        // The token from the environment instead of a file.
        let s = parse_owned(&forge_args(dir.path(), &["--gitops-forge-token-file"]))
            .validate_with(|n| (n == FORGE_TOKEN_ENV).then(|| "from-the-env".to_string()))
            .expect("valid");
        assert_eq!(s.forge.expect("forge").token.expose(), "from-the-env");
        // No forge option at all: the shared repository as before.
        assert!(parse(&[]).validate_with(|_| None).expect("valid").forge.is_none());
    }

    #[test]
    fn a_half_configured_forge_names_the_missing_option() {
        let dir = tempfile::tempdir().expect("tempdir");
        for missing in [
            "--gitops-forge-url",
            "--gitops-forge-org",
            "--gitops-forge-token-file",
            "--gitops-ssh-known-hosts-file",
        ] {
            let e = parse_owned(&forge_args(dir.path(), &[missing]))
                .validate_with(|_| None)
                .expect_err(missing);
            assert_eq!(e.option, missing, "{e}");
            assert!(e.to_string().contains("half configured"), "{e}");
        }
        let e = parse_owned(&forge_args(dir.path(), &["--gitops-forge-token-file"]))
            .validate_with(|_| None)
            .expect_err("no token");
        assert!(e.to_string().contains(FORGE_TOKEN_ENV), "{e}");
        // Only the known hosts: still a half-configured forge.
        let e = parse_owned(&forge_args(
            dir.path(),
            &[
                "--gitops-forge-url",
                "--gitops-forge-org",
                "--gitops-forge-token-file",
            ],
        ))
        .validate_with(|_| None)
        .expect_err("hosts only");
        assert_eq!(e.option, "--gitops-forge-url");
    }

    #[test]
    fn a_forge_excludes_the_shared_repository_and_bad_values_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (shared, value) in [
            ("--gitops-repo-url", "https://git.example.com/fleet.git"),
            ("--gitops-pull-token", "pull"),
            ("--gitops-token", "push"),
        ] {
            let mut args = forge_args(dir.path(), &[]);
            args.extend([shared.to_string(), value.to_string()]);
            let e = parse_owned(&args).validate_with(|_| None).expect_err(shared);
            assert_eq!(e.option, shared, "{e}");
        }
        let mut args = forge_args(dir.path(), &["--gitops-forge-url"]);
        args.extend([
            "--gitops-forge-url".into(),
            "https://user:pw@git.example.com".into(),
        ]);
        let e = parse_owned(&args)
            .validate_with(|_| None)
            .expect_err("credentials");
        assert_eq!(e.option, "--gitops-forge-url");
        let mut args = forge_args(dir.path(), &["--gitops-forge-org"]);
        args.extend(["--gitops-forge-org".into(), "a/b".into()]);
        let e = parse_owned(&args).validate_with(|_| None).expect_err("org");
        assert_eq!(e.option, "--gitops-forge-org");
        for bad in [
            "",
            "# only a comment\n",
            "not a known hosts line\n",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n",
        ] {
            std::fs::write(dir.path().join("bad_hosts"), bad).expect("write");
            let mut args = forge_args(dir.path(), &["--gitops-ssh-known-hosts-file"]);
            args.extend([
                "--gitops-ssh-known-hosts-file".into(),
                dir.path().join("bad_hosts").display().to_string(),
            ]);
            let e = parse_owned(&args).validate_with(|_| None).expect_err(bad);
            assert_eq!(e.option, "--gitops-ssh-known-hosts-file", "{bad:?}: {e}");
        }
    }
}
