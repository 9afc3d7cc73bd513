//! Committing a rendered tree to the GitOps repository and pushing it, with libgit2 (git2; vendored
//! libgit2, HTTPS through the system's OpenSSL). Works in a fresh temporary bare repository each time: fetch
//! the branch, rebuild only `clusters/<fqdn>` on top of its tip, commit, push. Nothing is cached between
//! pushes, so replicas never share or lock a working copy.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;

use app::deployments::Secret;
use git2::{
    Cred, CredentialType, ErrorClass, ErrorCode, FetchOptions, Oid, PushOptions, RemoteCallbacks, Repository,
};

use super::GitopsError;
use super::render::Rendered;

/// How often a push is rebuilt on a branch that moved meanwhile.
const ATTEMPTS: u32 = 3;

/// The GitOps repository and how to write to it.
#[derive(Clone)]
pub struct GitRemote {
    /// `https://…` (or `http://`, `file://` for tests). Credentials never go in the URL: use `token`.
    pub url: String,
    pub branch: String,
    /// HTTP basic-auth user sent with `token` (GitHub accepts anything, GitLab wants `oauth2`, Gitea the
    /// token's owner).
    pub username: String,
    /// Token with write access to the branch; `None` for a repository that needs none (file://, tests).
    pub token: Option<Secret>,
    /// Commit author and committer.
    pub author_name: String,
    pub author_email: String,
    /// Test seam: called with the attempt number after the commit is built and before it is pushed.
    #[doc(hidden)]
    pub before_push: Option<Arc<dyn Fn(u32) + Send + Sync>>,
}

impl GitRemote {
    pub fn new(url: impl Into<String>, branch: impl Into<String>, token: Option<Secret>) -> Self {
        Self {
            url: url.into(),
            branch: branch.into(),
            username: "catalyst".into(),
            token,
            author_name: "Catalyst".into(),
            author_email: "catalyst@localhost".into(),
            before_push: None,
        }
    }

    /// Checks the URL and branch (no network): what `--gitops-repo-url` / `--gitops-branch` validation uses.
    pub fn check(&self) -> Result<(), String> {
        let url = self.url.trim();
        let scheme_ok = ["https://", "http://", "file://"]
            .iter()
            .any(|s| url.starts_with(s));
        if !scheme_ok {
            return Err(format!("“{url}” is not an https:// (or file://) Git URL"));
        }
        if let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        {
            let authority = rest.split('/').next().unwrap_or_default();
            if authority.contains('@') {
                return Err("put credentials in --gitops-token, not in the URL".into());
            }
            if authority.is_empty() {
                return Err(format!("“{url}” has no host"));
            }
        }
        if git2::Reference::is_valid_name(&format!("refs/heads/{}", self.branch)) {
            Ok(())
        } else {
            Err(format!("“{}” is not a valid branch name", self.branch))
        }
    }
}

impl fmt::Debug for GitRemote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitRemote")
            .field("url", &self.url)
            .field("branch", &self.branch)
            .field("username", &self.username)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// The branch's commit after the publish (hex).
    pub commit: String,
    /// False when the tree was already exactly this: nothing was committed or pushed.
    pub changed: bool,
}

/// Checks that the remote takes pushes with the configured credentials, without pushing: it opens a push
/// connection (smart HTTP's `git-receive-pack` advertisement, which hosts answer only to a writer) and lists
/// the branches. For the pre-flight. Blocking: run it on the blocking pool.
pub fn probe_push(remote: &GitRemote) -> Result<(), GitopsError> {
    remote.check().map_err(GitopsError::Invalid)?;
    let work = tempfile::Builder::new()
        .prefix("catalyst-gitops-probe-")
        .tempdir()
        .map_err(|e| GitopsError::Git(format!("cannot create a temporary repository: {e}")))?;
    let repo = Repository::init_bare(work.path()).map_err(|e| git_error(e, remote))?;
    let asked = Cell::new(0);
    let mut conn = repo
        .remote_anonymous(remote.url.trim())
        .map_err(|e| git_error(e, remote))?;
    let c = conn
        .connect_auth(git2::Direction::Push, Some(callbacks(remote, &asked)), None)
        .map_err(|e| match git_error_auth(e, remote, &asked) {
            Attempt::Failed(e) => e,
            Attempt::Moved(why) => GitopsError::Git(why),
        })
        .map_err(|e| e.scrub(remote.token.as_ref()))?;
    c.list()
        .map_err(|e| git_error(e, remote).scrub(remote.token.as_ref()))?;
    Ok(())
}

/// [`publish_blocking`] on the blocking thread pool.
pub async fn publish(remote: &GitRemote, tree: &Rendered, message: &str) -> Result<PushOutcome, GitopsError> {
    let (remote, tree, message) = (remote.clone(), tree.clone(), message.to_string());
    tokio::task::spawn_blocking(move || publish_blocking(&remote, &tree, &message))
        .await
        .map_err(|e| GitopsError::Git(format!("the push task failed: {e}")))?
}

/// Commits `tree` as the whole content of `tree.root` on the remote branch (creating the branch if it does
/// not exist) and pushes it. Idempotent: an identical tree pushes nothing.
pub fn publish_blocking(
    remote: &GitRemote,
    tree: &Rendered,
    message: &str,
) -> Result<PushOutcome, GitopsError> {
    remote.check().map_err(GitopsError::Invalid)?;
    let work = tempfile::Builder::new()
        .prefix("catalyst-gitops-")
        .tempdir()
        .map_err(|e| GitopsError::Git(format!("cannot create a temporary repository: {e}")))?;
    let repo = Repository::init_bare(work.path()).map_err(|e| git_error(e, remote))?;
    let mut last = None;
    for attempt in 1..=ATTEMPTS {
        match attempt_once(&repo, remote, tree, message, attempt) {
            Ok(outcome) => return Ok(outcome),
            Err(Attempt::Moved(why)) => {
                tracing::info!(branch = %remote.branch, attempt, "GitOps branch moved while pushing; rebuilding on its new tip");
                last = Some(why);
            }
            Err(Attempt::Failed(e)) => return Err(e.scrub(remote.token.as_ref())),
        }
    }
    Err(GitopsError::Rejected(format!(
        "branch {} kept moving ({}); try again",
        remote.branch,
        last.unwrap_or_default()
    ))
    .scrub(remote.token.as_ref()))
}

enum Attempt {
    /// The remote branch changed under us (non-fast-forward): rebuild and retry.
    Moved(String),
    Failed(GitopsError),
}

impl From<GitopsError> for Attempt {
    fn from(e: GitopsError) -> Self {
        Attempt::Failed(e)
    }
}

fn attempt_once(
    repo: &Repository,
    remote: &GitRemote,
    tree: &Rendered,
    message: &str,
    attempt: u32,
) -> Result<PushOutcome, Attempt> {
    let branch = &remote.branch;
    let tracking = format!("refs/remotes/origin/{branch}");
    let local = format!("refs/heads/{branch}");

    // What the remote has now.
    let parent_oid = fetch_branch(repo, remote, &tracking)?;
    let parent = match parent_oid {
        Some(oid) => Some(repo.find_commit(oid).map_err(|e| git_error(e, remote))?),
        None => None,
    };
    let base_tree = match &parent {
        Some(c) => Some(c.tree().map_err(|e| git_error(e, remote))?),
        None => None,
    };

    let sub = write_dir(repo, &tree.files, remote)?;
    let components: Vec<&str> = tree.root.split('/').filter(|c| !c.is_empty()).collect();
    let new_tree_oid = replace_at(repo, base_tree.as_ref(), &components, sub, remote)?;
    if let (Some(base), Some(p)) = (&base_tree, &parent)
        && base.id() == new_tree_oid
    {
        return Ok(PushOutcome {
            commit: p.id().to_string(),
            changed: false,
        });
    }

    let new_tree = repo.find_tree(new_tree_oid).map_err(|e| git_error(e, remote))?;
    let sig =
        git2::Signature::now(&remote.author_name, &remote.author_email).map_err(|e| git_error(e, remote))?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    // Point the local branch at the parent first, so the commit below may move it.
    match parent_oid {
        Some(oid) => {
            repo.reference(&local, oid, true, "catalyst: base of the render")
                .map_err(|e| git_error(e, remote))?;
        }
        None => {
            if let Ok(mut r) = repo.find_reference(&local) {
                r.delete().map_err(|e| git_error(e, remote))?;
            }
        }
    }
    let commit = repo
        .commit(Some(&local), &sig, &sig, message, &new_tree, &parents)
        .map_err(|e| git_error(e, remote))?;

    if let Some(hook) = &remote.before_push {
        hook(attempt);
    }
    push_branch(repo, remote, &local)?;
    Ok(PushOutcome {
        commit: commit.to_string(),
        changed: true,
    })
}

/// Callbacks that answer a credentials request once with the token (a second request means it was
/// refused; answering again would loop).
fn callbacks<'a>(remote: &'a GitRemote, asked: &'a Cell<u32>) -> RemoteCallbacks<'a> {
    let mut cbs = RemoteCallbacks::new();
    cbs.credentials(move |_url, _user, allowed| {
        asked.set(asked.get() + 1);
        if asked.get() > 1 {
            return Err(git2::Error::new(
                ErrorCode::Auth,
                ErrorClass::Http,
                "credentials refused",
            ));
        }
        match &remote.token {
            Some(t) if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) => {
                Cred::userpass_plaintext(&remote.username, t.expose())
            }
            Some(_) => Err(git2::Error::new(
                ErrorCode::Auth,
                ErrorClass::Http,
                "the server wants a credential type other than user and token",
            )),
            None => Err(git2::Error::new(
                ErrorCode::Auth,
                ErrorClass::Http,
                "the repository needs credentials and no --gitops-token is set",
            )),
        }
    });
    cbs
}

/// Fetches the branch into `tracking`; `None` when the remote has no such branch (or no commits at all).
fn fetch_branch(repo: &Repository, remote: &GitRemote, tracking: &str) -> Result<Option<Oid>, Attempt> {
    let asked = Cell::new(0);
    let mut conn = repo
        .remote_anonymous(remote.url.trim())
        .map_err(|e| git_error(e, remote))?;
    let wanted = format!("refs/heads/{}", remote.branch);
    let exists = {
        let c = conn
            .connect_auth(git2::Direction::Fetch, Some(callbacks(remote, &asked)), None)
            .map_err(|e| git_error_auth(e, remote, &asked))?;
        let heads = c.list().map_err(|e| git_error(e, remote))?;
        heads.iter().any(|h| h.name() == wanted)
    };
    if !exists {
        return Ok(None);
    }
    let asked = Cell::new(0);
    let mut fo = FetchOptions::new();
    fo.remote_callbacks(callbacks(remote, &asked));
    conn.fetch(&[format!("+{wanted}:{tracking}")], Some(&mut fo), None)
        .map_err(|e| git_error_auth(e, remote, &asked))?;
    let oid = repo.refname_to_id(tracking).map_err(|e| git_error(e, remote))?;
    Ok(Some(oid))
}

fn push_branch(repo: &Repository, remote: &GitRemote, local: &str) -> Result<(), Attempt> {
    let asked = Cell::new(0);
    let refused: RefCell<Option<String>> = RefCell::new(None);
    let mut conn = repo
        .remote_anonymous(remote.url.trim())
        .map_err(|e| git_error(e, remote))?;
    {
        let mut cbs = callbacks(remote, &asked);
        cbs.push_update_reference(|name, status| {
            if let Some(s) = status {
                *refused.borrow_mut() = Some(format!("{name}: {s}"));
            }
            Ok(())
        });
        let mut po = PushOptions::new();
        po.remote_callbacks(cbs);
        let spec = format!("{local}:refs/heads/{}", remote.branch);
        if let Err(e) = conn.push(&[spec], Some(&mut po)) {
            if e.code() == ErrorCode::NotFastForward || is_non_ff(e.message()) {
                return Err(Attempt::Moved(e.message().to_string()));
            }
            return Err(git_error_auth(e, remote, &asked));
        }
    }
    match refused.into_inner() {
        None => Ok(()),
        Some(why) if is_non_ff(&why) => Err(Attempt::Moved(why)),
        Some(why) => Err(Attempt::Failed(GitopsError::Rejected(why))),
    }
}

fn is_non_ff(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("non-fast-forward")
        || m.contains("fetch first")
        || m.contains("not fast-forward")
        || m.contains("non-fastforwardable")
}

/// Writes the files as a tree (nested folders from the `/` in their paths) and returns its id.
fn write_dir(
    repo: &Repository,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
    remote: &GitRemote,
) -> Result<Oid, Attempt> {
    // Group by first path component.
    let mut here: Vec<(&str, &Vec<u8>)> = Vec::new();
    let mut dirs: std::collections::BTreeMap<&str, std::collections::BTreeMap<String, Vec<u8>>> =
        std::collections::BTreeMap::new();
    for (path, content) in files {
        match path.split_once('/') {
            Some((dir, rest)) => {
                dirs.entry(dir)
                    .or_default()
                    .insert(rest.to_string(), content.clone());
            }
            None => here.push((path.as_str(), content)),
        }
    }
    let mut builder = repo.treebuilder(None).map_err(|e| git_error(e, remote))?;
    for (name, content) in here {
        let blob = repo.blob(content).map_err(|e| git_error(e, remote))?;
        builder
            .insert(name, blob, 0o100644)
            .map_err(|e| git_error(e, remote))?;
    }
    for (name, sub) in dirs {
        let oid = write_dir(repo, &sub, remote)?;
        builder
            .insert(name, oid, 0o040000)
            .map_err(|e| git_error(e, remote))?;
    }
    builder.write().map_err(|e| git_error(e, remote).into())
}

/// `base` with the folder at `path` replaced by the tree `sub` (intermediate folders created as needed).
fn replace_at(
    repo: &Repository,
    base: Option<&git2::Tree<'_>>,
    path: &[&str],
    sub: Oid,
    remote: &GitRemote,
) -> Result<Oid, Attempt> {
    let mut builder = repo.treebuilder(base).map_err(|e| git_error(e, remote))?;
    let Some((first, rest)) = path.split_first() else {
        return Ok(sub);
    };
    let child = if rest.is_empty() {
        sub
    } else {
        let existing = base
            .and_then(|t| t.get_name(first))
            .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
            .map(|e| repo.find_tree(e.id()))
            .transpose()
            .map_err(|e| git_error(e, remote))?;
        replace_at(repo, existing.as_ref(), rest, sub, remote)?
    };
    builder
        .insert(first, child, 0o040000)
        .map_err(|e| git_error(e, remote))?;
    builder.write().map_err(|e| git_error(e, remote).into())
}

fn git_error_auth(e: git2::Error, remote: &GitRemote, asked: &Cell<u32>) -> Attempt {
    if asked.get() > 1 || e.code() == ErrorCode::Auth {
        return Attempt::Failed(GitopsError::Auth(e.message().to_string()).scrub(remote.token.as_ref()));
    }
    Attempt::Failed(git_error(e, remote))
}

fn git_error(e: git2::Error, remote: &GitRemote) -> GitopsError {
    let msg = e.message().to_string();
    let lower = msg.to_ascii_lowercase();
    let err = if e.code() == ErrorCode::Auth
        || lower.contains("status code: 401")
        || lower.contains("status code: 403")
        || lower.contains("authentication")
    {
        GitopsError::Auth(msg)
    } else if matches!(
        e.class(),
        ErrorClass::Net | ErrorClass::Os | ErrorClass::Ssl | ErrorClass::Http
    ) && (lower.contains("connect")
        || lower.contains("resolve")
        || lower.contains("timed out")
        || lower.contains("refused"))
    {
        GitopsError::Unreachable(msg)
    } else if lower.contains("status code: 404")
        || lower.contains("not found")
        || lower.contains("not appear to be a git repository")
    {
        GitopsError::Git(format!("no Git repository at {}: {msg}", remote.url))
    } else {
        GitopsError::Git(msg)
    };
    err.scrub(remote.token.as_ref())
}
