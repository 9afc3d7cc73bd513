//! The GitOps options (`--gitops-…`): where Catalyst pushes each Sovereign's Flux tree, and what the
//! Sovereigns use to pull it.

use std::path::PathBuf;

use app::deployments::Secret;
use clap::Args;

use super::GitRemote;
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

/// Validated GitOps options.
#[derive(Debug, Clone)]
pub struct GitopsSettings {
    /// `None` until an operator configures a repository: provisioning then refuses with a clear message.
    pub remote: Option<GitRemote>,
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
    pub fn validate(&self) -> Result<GitopsSettings, ConfigError> {
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
                let mut r = GitRemote::new(url, branch.clone(), push_token.filter(|t| !t.is_empty()));
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
        let node_ssh_cidrs =
            cidr_list(&self.node_ssh_cidrs).map_err(|p| ConfigError::new("--node-ssh-cidrs", p))?;
        let console_egress_cidrs = cidr_list(&self.console_egress_cidrs)
            .map_err(|p| ConfigError::new("--console-egress-cidrs", p))?;
        Ok(GitopsSettings {
            remote,
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
}
