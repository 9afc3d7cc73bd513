//! One GitOps repository and one read-only deploy key per Sovereign, made through the forge's API
//! (Gitea / Forgejo API v1; SECURITY.md "GitOps isolation").
//!
//! For each Sovereign the console creates a private repository in one organisation of the forge, generates
//! an Ed25519 key pair and registers its public half on that repository only, read-only. The Sovereign's Flux
//! gets the repository's SSH URL and the private half; the console pushes the tree to the repository's
//! HTTPS URL with its own write token. A tenant who reads its key from its cluster can read its own tree
//! only. Wiping the Sovereign deletes the key and the repository.
//!
//! Calls used: `POST /api/v1/orgs/{org}/repos`, `GET`/`DELETE /api/v1/repos/{org}/{repo}`,
//! `GET`/`POST /api/v1/repos/{org}/{repo}/keys` (`read_only: true`), `DELETE …/keys/{id}`.
//! Every answer of the forge is untrusted: errors quote at most [`MAX_QUOTE`] characters of it.

use std::fmt;
use std::time::Duration;

use app::deployments::Secret;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::GitRemote;

/// How much of a forge's error message an error quotes.
pub const MAX_QUOTE: usize = 200;

/// The title every deploy key Catalyst registers carries (the console finds and replaces its own keys by it).
pub const KEY_TITLE: &str = "catalyst-flux-read-only";

/// A Gitea/Forgejo API client for one organisation.
#[derive(Clone)]
pub struct Forge {
    /// `https://git.example.com` (the API is under `/api/v1`).
    base: String,
    /// The organisation that holds every Sovereign's repository.
    org: String,
    /// A token of a forge user allowed to create and delete repositories in `org`; also the push token.
    token: Secret,
    http: reqwest::Client,
}

impl fmt::Debug for Forge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forge")
            .field("base", &self.base)
            .field("org", &self.org)
            .field("token", &"***")
            .finish_non_exhaustive()
    }
}

/// A Sovereign's repository and its read-only key, as made by [`Forge::provision`].
#[derive(Clone)]
pub struct SovereignRepo {
    pub owner: String,
    pub name: String,
    /// Where the console pushes (HTTPS, with the forge token).
    pub clone_url: String,
    /// What the Sovereign's Flux pulls (SSH, with [`Self::private_key`]).
    pub ssh_url: String,
    /// The forge's id of the deploy key.
    pub key_id: i64,
    pub public_key: String,
    /// OpenSSH private key of the deploy key: seal it at rest, hand it to OpenTofu only as a sensitive
    /// variable, never log or return it.
    pub private_key: Secret,
}

impl fmt::Debug for SovereignRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SovereignRepo")
            .field("owner", &self.owner)
            .field("name", &self.name)
            .field("clone_url", &self.clone_url)
            .field("ssh_url", &self.ssh_url)
            .field("key_id", &self.key_id)
            .field("private_key", &"***")
            .finish_non_exhaustive()
    }
}

/// What went wrong talking to the forge: one bounded sentence naming what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeError {
    #[error("cannot reach the forge at {url}: {why} — check --gitops-forge-url and that the forge is up")]
    Unreachable { url: String, why: String },
    #[error(
        "the forge refused the token (HTTP {status}) — check the forge token (CATALYST_GITOPS_FORGE_TOKEN or --gitops-forge-token-file): it needs to create and delete repositories in the organisation “{org}”"
    )]
    Auth { status: u16, org: String },
    #[error("the forge has no organisation “{org}” — check --gitops-forge-org")]
    NoOrg { org: String },
    #[error("the forge answered HTTP {status} to {what}: {message}")]
    Refused {
        status: u16,
        what: String,
        message: String,
    },
    #[error(
        "the forge's answer to {what} is not what the Gitea API returns: {why} — check --gitops-forge-url"
    )]
    Unexpected { what: String, why: String },
    #[error("cannot make the deploy key: {0}")]
    Key(String),
    #[error("“{0}” cannot name a repository; use a Sovereign's domain")]
    Name(String),
}

#[derive(Deserialize)]
struct RepoJson {
    name: String,
    #[serde(default)]
    clone_url: String,
    #[serde(default)]
    ssh_url: String,
    #[serde(default)]
    owner: Option<OwnerJson>,
}

#[derive(Deserialize)]
struct OwnerJson {
    #[serde(default)]
    login: String,
}

#[derive(Deserialize)]
struct KeyJson {
    id: i64,
    #[serde(default)]
    title: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    read_only: bool,
}

/// The key type and base64 body of an OpenSSH public key line (its comment left out).
fn key_body(line: &str) -> String {
    line.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// The `ssh://` form Flux needs of a forge's SSH clone URL (Gitea answers `git@host:org/repo.git` on port
/// 22 and `ssh://git@host:port/org/repo.git` otherwise).
pub fn flux_ssh_url(ssh_url: &str) -> Result<String, ForgeError> {
    let url = ssh_url.trim();
    if url.starts_with("ssh://") {
        return Ok(url.to_string());
    }
    match url.split_once(':') {
        Some((user_host, path))
            if user_host.contains('@') && !user_host.contains('/') && !path.is_empty() =>
        {
            Ok(format!("ssh://{user_host}/{}", path.trim_start_matches('/')))
        }
        _ => Err(ForgeError::Unexpected {
            what: "reading the repository's SSH URL".into(),
            why: format!("“{}” is neither ssh://… nor user@host:path", quote(url)),
        }),
    }
}

/// The repository name of a Sovereign: `sovereign-<fqdn>` (Gitea allows `[A-Za-z0-9_.-]`, up to 100
/// characters; longer domains keep a prefix and a digest of the whole name).
pub fn repo_name(fqdn: &str) -> Result<String, ForgeError> {
    let fqdn = fqdn.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !fqdn.is_empty()
        && fqdn
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !fqdn.starts_with('.')
        && !fqdn.contains("..");
    if !ok {
        return Err(ForgeError::Name(quote(&fqdn)));
    }
    let name = format!("sovereign-{fqdn}");
    if name.len() <= 100 {
        return Ok(name);
    }
    let digest = crate::crypto::sha256_hex(fqdn.as_bytes());
    Ok(format!("{}-{}", &name[..80], &digest[..16]))
}

impl Forge {
    pub fn new(base_url: &str, org: &str, token: Secret) -> Result<Self, ForgeError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("catalyst/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ForgeError::Unreachable {
                url: base.clone(),
                why: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Self {
            base,
            org: org.trim().to_string(),
            token,
            http,
        })
    }

    pub fn org(&self) -> &str {
        &self.org
    }

    /// The remote the console pushes a Sovereign's tree to: the repository's HTTPS URL with the forge token.
    pub fn push_remote(&self, repo: &SovereignRepo, template: &GitRemote) -> GitRemote {
        let mut r = template.clone();
        r.url = repo.clone_url.clone();
        r.token = Some(self.token.clone());
        r
    }

    /// Checks that the forge answers, takes the token and has the organisation (the pre-flight).
    pub async fn check(&self) -> Result<(), ForgeError> {
        let org = self.org.clone();
        let what = format!("reading the organisation {org}");
        let (status, body) = self
            .call(Method::GET, &format!("/orgs/{org}"), None, &what)
            .await?;
        match status {
            StatusCode::OK => Ok(()),
            StatusCode::NOT_FOUND => Err(ForgeError::NoOrg { org }),
            s => Err(self.refused(s, &body, &what)),
        }
    }

    /// Makes (or finds) the Sovereign's repository and registers a new read-only deploy key on it,
    /// replacing any key Catalyst registered there before (its private half is not kept).
    pub async fn provision(&self, fqdn: &str, branch: &str) -> Result<SovereignRepo, ForgeError> {
        let generated = crate::crypto::generate_ed25519(&format!("flux@{}", fqdn.trim()))
            .map_err(|e| ForgeError::Key(e.to_string()))?;
        self.provision_with_key(fqdn, branch, &generated.private_key)
            .await
    }

    /// Makes (or finds) the Sovereign's repository and makes `private_key`'s public half its one read-only
    /// deploy key of Catalyst's: kept if it is registered already, otherwise registered after every other
    /// key Catalyst registered there is deleted. Idempotent: a retried phase or a restart keeps the key the
    /// running Sovereign's Flux already holds.
    pub async fn provision_with_key(
        &self,
        fqdn: &str,
        branch: &str,
        private_key: &Secret,
    ) -> Result<SovereignRepo, ForgeError> {
        let public_key = ssh_key::PrivateKey::from_openssh(private_key.expose())
            .and_then(|k| k.public_key().to_openssh())
            .map_err(|e| ForgeError::Key(e.to_string()))?;
        let name = repo_name(fqdn)?;
        let repo = self.ensure_repo(&name, branch).await?;
        let owner = repo
            .owner
            .as_ref()
            .map(|o| o.login.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| self.org.clone());
        if repo.clone_url.is_empty() || repo.ssh_url.is_empty() {
            return Err(ForgeError::Unexpected {
                what: format!("creating {owner}/{name}"),
                why: "no clone_url or ssh_url".into(),
            });
        }
        let ssh_url = flux_ssh_url(&repo.ssh_url)?;
        let wanted = key_body(&public_key);
        let mut kept = None;
        for key in self.keys(&owner, &name).await? {
            if key.title != KEY_TITLE {
                continue;
            }
            if kept.is_none() && key.read_only && key_body(&key.key) == wanted {
                kept = Some(key.id);
            } else {
                self.delete_key(&owner, &name, key.id).await?;
            }
        }
        let key_id = match kept {
            Some(id) => id,
            None => {
                let what = format!("adding the deploy key to {owner}/{name}");
                let (status, body) = self
                    .call(
                        Method::POST,
                        &format!("/repos/{owner}/{name}/keys"),
                        Some(json!({ "title": KEY_TITLE, "key": public_key, "read_only": true })),
                        &what,
                    )
                    .await?;
                if status != StatusCode::CREATED && status != StatusCode::OK {
                    return Err(self.refused(status, &body, &what));
                }
                parse::<KeyJson>(&body, &what)?.id
            }
        };
        Ok(SovereignRepo {
            owner,
            name: repo.name,
            clone_url: repo.clone_url,
            ssh_url,
            key_id,
            public_key,
            private_key: private_key.clone(),
        })
    }

    /// Deletes the Sovereign's deploy keys and repository. A repository already gone is not an error.
    pub async fn remove(&self, fqdn: &str) -> Result<(), ForgeError> {
        let name = repo_name(fqdn)?;
        let org = self.org.clone();
        let keys = match self.keys(&org, &name).await {
            Ok(k) => k,
            Err(ForgeError::Refused { status: 404, .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        for key in keys {
            self.delete_key(&org, &name, key.id).await?;
        }
        let what = format!("deleting {org}/{name}");
        let (status, body) = self
            .call(Method::DELETE, &format!("/repos/{org}/{name}"), None, &what)
            .await?;
        match status {
            StatusCode::NO_CONTENT | StatusCode::OK | StatusCode::NOT_FOUND => Ok(()),
            s => Err(self.refused(s, &body, &what)),
        }
    }

    async fn ensure_repo(&self, name: &str, branch: &str) -> Result<RepoJson, ForgeError> {
        let org = &self.org;
        let what = format!("creating the repository {org}/{name}");
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/orgs/{org}/repos"),
                Some(json!({
                    "name": name,
                    "private": true,
                    "auto_init": false,
                    "default_branch": branch,
                    "description": "GitOps tree of one Sovereign (managed by Catalyst)",
                })),
                &what,
            )
            .await?;
        match status {
            StatusCode::CREATED | StatusCode::OK => parse(&body, &what),
            StatusCode::CONFLICT => {
                let what = format!("reading {org}/{name}");
                let (status, body) = self
                    .call(Method::GET, &format!("/repos/{org}/{name}"), None, &what)
                    .await?;
                if status != StatusCode::OK {
                    return Err(self.refused(status, &body, &what));
                }
                parse(&body, &what)
            }
            StatusCode::NOT_FOUND => Err(ForgeError::NoOrg { org: org.clone() }),
            s => Err(self.refused(s, &body, &what)),
        }
    }

    async fn keys(&self, owner: &str, name: &str) -> Result<Vec<KeyJson>, ForgeError> {
        let what = format!("listing the deploy keys of {owner}/{name}");
        let (status, body) = self
            .call(Method::GET, &format!("/repos/{owner}/{name}/keys"), None, &what)
            .await?;
        if status != StatusCode::OK {
            return Err(self.refused(status, &body, &what));
        }
        parse(&body, &what)
    }

    async fn delete_key(&self, owner: &str, name: &str, id: i64) -> Result<(), ForgeError> {
        let what = format!("deleting deploy key {id} of {owner}/{name}");
        let (status, body) = self
            .call(
                Method::DELETE,
                &format!("/repos/{owner}/{name}/keys/{id}"),
                None,
                &what,
            )
            .await?;
        match status {
            StatusCode::NO_CONTENT | StatusCode::OK | StatusCode::NOT_FOUND => Ok(()),
            s => Err(self.refused(s, &body, &what)),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        what: &str,
    ) -> Result<(StatusCode, Vec<u8>), ForgeError> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .header("Authorization", format!("token {}", self.token.expose()))
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let unreachable = |e: reqwest::Error| ForgeError::Unreachable {
            url: self.base.clone(),
            why: quote(&without_url(&e)),
        };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(ForgeError::Auth {
                status: status.as_u16(),
                org: self.org.clone(),
            });
        }
        // Read at most 1 MiB of an answer.
        let mut bytes = Vec::new();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            if bytes.len() + chunk.len() > 1 << 20 {
                return Err(ForgeError::Unexpected {
                    what: what.to_string(),
                    why: "the answer is larger than 1 MiB".into(),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes))
    }

    fn refused(&self, status: StatusCode, body: &[u8], what: &str) -> ForgeError {
        #[derive(Deserialize)]
        struct Msg {
            #[serde(default)]
            message: String,
        }
        let message = serde_json::from_slice::<Msg>(body)
            .map(|m| m.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(body).to_string());
        let message = quote(&message.replace(self.token.expose(), "***"));
        ForgeError::Refused {
            status: status.as_u16(),
            what: what.to_string(),
            message: if message.is_empty() {
                "no message".into()
            } else {
                message
            },
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T, ForgeError> {
    serde_json::from_slice(body).map_err(|e| ForgeError::Unexpected {
        what: what.to_string(),
        why: quote(&e.to_string()),
    })
}

/// reqwest's message without the URL it may carry (the URL is named separately).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s = format!("{s}: {inner}");
        source = inner.source();
    }
    s
}

/// One line of at most [`MAX_QUOTE`] printable characters.
fn quote(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() <= MAX_QUOTE {
        clean
    } else {
        let mut cut: String = clean.chars().take(MAX_QUOTE).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_domain_and_stay_within_gitea_limits() {
        assert_eq!(
            repo_name("Acme.Omani.Works").unwrap(),
            "sovereign-acme.omani.works"
        );
        let long = format!("{}.example.com", "a".repeat(120));
        let n = repo_name(&long).unwrap();
        assert!(n.len() <= 100, "{n}");
        assert_ne!(n, repo_name(&format!("{}.example.org", "a".repeat(120))).unwrap());
        for bad in ["", "a/b", "../x", "a..b", "a b"] {
            assert!(repo_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flux_gets_the_ssh_url_form() {
        assert_eq!(
            flux_ssh_url("git@git.example.com:sovereigns/sovereign-a.b.git").unwrap(),
            "ssh://git@git.example.com/sovereigns/sovereign-a.b.git"
        );
        assert_eq!(
            flux_ssh_url("ssh://git@git.example.com:2222/sovereigns/x.git").unwrap(),
            "ssh://git@git.example.com:2222/sovereigns/x.git"
        );
        for bad in ["", "https://git.example.com/x.git", "git.example.com:x"] {
            assert!(flux_ssh_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quotes_are_one_bounded_line() {
        let q = quote(&format!("line1\nline2\u{7}{}", "x".repeat(500)));
        assert!(!q.contains('\n'));
        assert!(q.chars().count() <= MAX_QUOTE + 1);
    }
}
