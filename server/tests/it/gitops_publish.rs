//! Rendering `clusters/<fqdn>/` and publishing it to a real Git repository: a local bare repository
//! (file://) and the same over smart HTTP with basic auth (`tests/standins/git_http.py` in front of
//! `git http-backend`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use app::deployments::Secret;
use git2::Repository;
use server::gitops::{
    ChartRef, ComponentRelease, GitRemote, GitopsError, RenderInput, Rendered, cluster_path, publish, render,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> PathBuf {
    root().join("clusters/_template")
}

fn comp(id: &str, ns: &str, deps: &[&str]) -> ComponentRelease {
    ComponentRelease {
        id: id.into(),
        chart: ChartRef {
            repository: format!("https://charts.example.com/{id}"),
            name: id.into(),
            version: "1.2.3".into(),
        },
        namespace: ns.into(),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    }
}

fn input(fqdn: &str, components: Vec<ComponentRelease>) -> RenderInput {
    RenderInput {
        fqdn: fqdn.into(),
        deployment_id: "dep-42".into(),
        components,
        ..Default::default()
    }
}

fn kit() -> Vec<ComponentRelease> {
    vec![
        comp("cert-manager", "cert-manager", &["cilium"]),
        comp("cilium", "kube-system", &[]),
        comp("flux", "flux-system", &[]),
        comp("cnpg", "cnpg-system", &["flux", "cert-manager"]),
    ]
}

/// A bare repository in a temp dir, and its file:// URL.
fn bare() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    Repository::init_bare(dir.path()).expect("git init --bare");
    let url = format!("file://{}", dir.path().display());
    (dir, url)
}

fn remote(url: &str) -> GitRemote {
    let mut r = GitRemote::new(url, "main", None);
    r.author_name = "Catalyst Test".into();
    r.author_email = "test@catalyst.invalid".into();
    r
}

/// Every file under `prefix` on `branch`, path → content.
fn tree_at(repo_dir: &Path, branch: &str, prefix: &str) -> BTreeMap<String, String> {
    let repo = Repository::open_bare(repo_dir).expect("open");
    let commit = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .expect("branch")
        .peel_to_commit()
        .expect("commit");
    let tree = commit.tree().expect("tree");
    let mut out = BTreeMap::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            let path = format!("{dir}{}", entry.name().unwrap_or_default());
            if let Some(rest) = path.strip_prefix(&format!("{prefix}/")) {
                let blob = repo.find_blob(entry.id()).expect("blob");
                out.insert(
                    rest.to_string(),
                    String::from_utf8_lossy(blob.content()).to_string(),
                );
            }
        }
        git2::TreeWalkResult::Ok
    })
    .expect("walk");
    out
}

fn commits(repo_dir: &Path, branch: &str) -> Vec<git2::Oid> {
    let repo = Repository::open_bare(repo_dir).expect("open");
    let mut walk = repo.revwalk().expect("revwalk");
    walk.push_ref(&format!("refs/heads/{branch}")).expect("push");
    walk.map(|o| o.expect("oid")).collect()
}

fn as_text(r: &Rendered) -> BTreeMap<String, String> {
    r.files
        .iter()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).to_string()))
        .collect()
}

/// Commits a file at `path` directly on the branch (someone else writing to the repository).
fn commit_elsewhere(repo_dir: &Path, branch: &str, path: &str, content: &str) {
    let repo = Repository::open_bare(repo_dir).expect("open");
    let parent = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    let mut index = git2::Index::new().expect("index");
    if let Some(p) = &parent {
        index.read_tree(&p.tree().expect("tree")).expect("read tree");
    }
    let blob = repo.blob(content.as_bytes()).expect("blob");
    let entry = git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: content.len() as u32,
        id: blob,
        flags: path.len() as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    };
    index.add(&entry).expect("add");
    let tree_id = index.write_tree_to(&repo).expect("write tree");
    let tree = repo.find_tree(tree_id).expect("tree");
    let sig = git2::Signature::now("Someone", "someone@example.com").expect("sig");
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        "unrelated change",
        &tree,
        &parents,
    )
    .expect("commit");
}

#[test]
fn render_builds_the_tree_from_the_template_and_the_selection() {
    let r = render(&template(), &input("Acme.Omani.Works", kit())).expect("render");
    assert_eq!(r.root, "clusters/acme.omani.works");
    assert_eq!(cluster_path("acme.omani.works"), r.root);
    let files = as_text(&r);
    for f in [
        "kustomization.yaml",
        "flux-system/kustomization.yaml",
        "flux-system/sync.yaml",
        "infrastructure/provider/provider-terraform.yaml",
        "infrastructure/config/providerconfig-hcloud.yaml",
        "bootstrap-kit/kustomization.yaml",
        "bootstrap-kit/units.yaml",
        "bootstrap-kit/01-cilium/release.yaml",
        "bootstrap-kit/02-cert-manager/release.yaml",
        "bootstrap-kit/03-cert-manager-issuers/issuers.yaml",
        "bootstrap-kit/04-cnpg/release.yaml",
        "README.md",
    ] {
        assert!(files.contains_key(f), "{f} missing: {:?}", files.keys());
    }
    // Flux is installed by cloud-init: no HelmRelease, and a dependency on it is dropped.
    assert!(!files.keys().any(|k| k.contains("-flux/")));
    let cnpg = &files["bootstrap-kit/04-cnpg/release.yaml"];
    assert!(
        cnpg.contains("dependsOn:\n    - name: bp-cert-manager\n"),
        "{cnpg}"
    );
    assert!(!cnpg.contains("bp-flux"), "{cnpg}");
    // Template files are copied as they are, Flux variables included.
    let template_sync = std::fs::read_to_string(template().join("flux-system/sync.yaml")).expect("template");
    assert_eq!(files["flux-system/sync.yaml"], template_sync);
    assert!(files["README.md"].contains("dep-42"));
    // Only the selected components (and the issuers cert-manager brings), each a unit of two files, and the
    // kit's two lists: nothing left from the template's own kit.
    let kit_files: Vec<_> = files.keys().filter(|k| k.starts_with("bootstrap-kit/")).collect();
    assert_eq!(kit_files.len(), 10, "{kit_files:?}");
    let units = &files["bootstrap-kit/units.yaml"];
    assert!(
        units.contains("  name: kit-cnpg\n") && units.contains("    - name: kit-cert-manager\n"),
        "{units}"
    );
}

#[test]
fn render_refuses_bad_input() {
    let e = render(&template(), &input("not a domain", kit())).expect_err("fqdn");
    assert!(matches!(e, GitopsError::Invalid(_)), "{e}");
    let e = render(
        &template(),
        &input("a.example.com", vec![comp("a", "a", &["missing"])]),
    )
    .expect_err("dep");
    assert!(e.to_string().contains("missing"), "{e}");
    let e = render(Path::new("/nonexistent/template"), &input("a.example.com", kit())).expect_err("template");
    assert!(matches!(e, GitopsError::Template(_)), "{e}");
}

#[tokio::test]
async fn publish_commits_the_tree_once_and_only_when_it_changes() {
    let (dir, url) = bare();
    let remote = remote(&url);
    let tree = render(&template(), &input("acme.omani.works", kit())).expect("render");

    let first = publish(&remote, &tree, "Render clusters/acme.omani.works")
        .await
        .expect("publish");
    assert!(first.changed);
    assert_eq!(tree_at(dir.path(), "main", &tree.root), as_text(&tree));
    let repo = Repository::open_bare(dir.path()).expect("open");
    let head = repo
        .find_commit(git2::Oid::from_str(&first.commit).expect("oid"))
        .expect("commit");
    assert_eq!(head.message().ok(), Some("Render clusters/acme.omani.works"));
    assert_eq!(head.author().name().ok(), Some("Catalyst Test"));
    assert_eq!(head.parent_count(), 0, "first commit of an empty repository");

    // Same tree again: nothing committed.
    let again = publish(&remote, &tree, "Render again")
        .await
        .expect("publish again");
    assert!(!again.changed);
    assert_eq!(again.commit, first.commit);
    assert_eq!(commits(dir.path(), "main").len(), 1);

    // A smaller selection: the dropped component's file disappears in the next commit.
    let smaller = render(
        &template(),
        &input("acme.omani.works", vec![comp("cilium", "kube-system", &[])]),
    )
    .expect("render");
    let third = publish(&remote, &smaller, "Drop components")
        .await
        .expect("publish");
    assert!(third.changed);
    let now = tree_at(dir.path(), "main", &smaller.root);
    assert!(now.contains_key("bootstrap-kit/01-cilium/release.yaml"));
    assert!(
        !now.keys().any(|k| k.contains("cert-manager")),
        "{:?}",
        now.keys()
    );
    assert_eq!(now, as_text(&smaller));
    assert_eq!(commits(dir.path(), "main").len(), 2);
}

#[tokio::test]
async fn publish_leaves_other_paths_alone_and_builds_on_the_current_tip() {
    let (dir, url) = bare();
    let remote = remote(&url);
    commit_elsewhere(dir.path(), "main", "README.md", "the fleet repository\n");
    let a = render(&template(), &input("a.example.com", kit())).expect("a");
    let b = render(&template(), &input("b.example.com", kit())).expect("b");
    publish(&remote, &a, "a").await.expect("a");
    commit_elsewhere(dir.path(), "main", "docs/notes.md", "written by a person\n");
    let pushed = publish(&remote, &b, "b").await.expect("b");

    let repo = Repository::open_bare(dir.path()).expect("open");
    let head = repo
        .find_commit(git2::Oid::from_str(&pushed.commit).expect("oid"))
        .expect("commit");
    assert_eq!(
        head.parent(0).expect("parent").message().ok(),
        Some("unrelated change")
    );
    assert_eq!(tree_at(dir.path(), "main", "clusters/a.example.com"), as_text(&a));
    assert_eq!(tree_at(dir.path(), "main", "clusters/b.example.com"), as_text(&b));
    assert_eq!(tree_at(dir.path(), "main", "docs").len(), 1);
    let readme = head
        .tree()
        .expect("tree")
        .get_name("README.md")
        .expect("readme")
        .id();
    assert_eq!(
        repo.find_blob(readme).expect("blob").content(),
        b"the fleet repository\n"
    );

    // A new branch is created when it does not exist yet.
    let mut other = remote.clone();
    other.branch = "sovereigns/staging".into();
    publish(&other, &a, "a on staging").await.expect("new branch");
    assert_eq!(
        tree_at(dir.path(), "sovereigns/staging", "clusters/a.example.com"),
        as_text(&a)
    );
}

#[tokio::test]
async fn a_branch_that_moves_during_the_push_is_rebuilt_on_top() {
    let (dir, url) = bare();
    commit_elsewhere(dir.path(), "main", "README.md", "start\n");
    let repo_dir = dir.path().to_path_buf();
    let calls = Arc::new(AtomicU32::new(0));
    let mut remote = remote(&url);
    let (d, c) = (repo_dir.clone(), calls.clone());
    // Someone pushes between our fetch and our push, once.
    remote.before_push = Some(Arc::new(move |attempt| {
        c.fetch_add(1, Ordering::SeqCst);
        if attempt == 1 {
            commit_elsewhere(&d, "main", "other/file.txt", "raced\n");
        }
    }));
    let tree = render(&template(), &input("acme.omani.works", kit())).expect("render");
    let out = publish(&remote, &tree, "render")
        .await
        .expect("publish after a retry");
    assert!(out.changed);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "built twice");
    assert_eq!(
        tree_at(&repo_dir, "main", "other").len(),
        1,
        "the racing commit is kept"
    );
    assert_eq!(tree_at(&repo_dir, "main", &tree.root), as_text(&tree));

    // A branch that never stops moving: a clear refusal after three attempts.
    let mut remote = self::remote(&url);
    let d = repo_dir.clone();
    let n = Arc::new(AtomicU32::new(0));
    remote.before_push = Some(Arc::new(move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        commit_elsewhere(&d, "main", &format!("race/{i}.txt"), "again\n");
    }));
    let other = render(&template(), &input("b.example.com", kit())).expect("render");
    let e = publish(&remote, &other, "render")
        .await
        .expect_err("keeps moving");
    assert!(matches!(e, GitopsError::Rejected(_)), "{e}");
    assert!(e.to_string().contains("kept moving"), "{e}");
}

struct GitHttp {
    child: Child,
    url: String,
}

impl GitHttp {
    fn start(root_dir: &Path, token: &str) -> GitHttp {
        let mut child = Command::new("python3")
            .arg(root().join("tests/standins/git_http.py"))
            .args(["--port", "0", "--user", "catalyst", "--token", token, "--root"])
            .arg(root_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the Git HTTP stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_string();
        GitHttp { child, url }
    }
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn publish_over_http_with_a_token_and_a_clear_auth_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo_dir = dir.path().join("fleet.git");
    Repository::init_bare(&repo_dir).expect("init");
    // git http-backend only accepts pushes to repositories that allow them.
    Repository::open_bare(&repo_dir)
        .expect("open")
        .config()
        .expect("config")
        .set_bool("http.receivepack", true)
        .expect("set");
    let server = GitHttp::start(dir.path(), "s3cret-token");
    let url = format!("{}/fleet.git", server.url);
    let tree = render(&template(), &input("acme.omani.works", kit())).expect("render");

    let mut good = remote(&url);
    good.token = Some(Secret::new("s3cret-token"));
    let out = publish(&good, &tree, "over http").await.expect("push over http");
    assert!(out.changed);
    assert_eq!(tree_at(&repo_dir, "main", &tree.root), as_text(&tree));
    let again = publish(&good, &tree, "over http")
        .await
        .expect("idempotent over http");
    assert!(!again.changed);

    let mut bad = remote(&url);
    bad.token = Some(Secret::new("wrong-token-value"));
    let e = publish(&bad, &tree, "nope").await.expect_err("refused");
    assert!(matches!(e, GitopsError::Auth(_)), "{e:?}");
    assert!(e.to_string().contains("--gitops-token"), "{e}");
    assert!(!e.to_string().contains("wrong-token-value"), "{e}");

    let e = publish(&remote(&url), &tree, "no token")
        .await
        .expect_err("needs a token");
    assert!(matches!(e, GitopsError::Auth(_)), "{e:?}");

    let e = publish(&remote("http://127.0.0.1:9/fleet.git"), &tree, "x")
        .await
        .expect_err("nobody listens");
    assert!(matches!(e, GitopsError::Unreachable(_)), "{e:?}");
}

#[test]
fn remote_settings_are_checked_before_any_network() {
    assert!(remote("https://git.example.com/fleet.git").check().is_ok());
    let e = remote("https://user:token@git.example.com/fleet.git")
        .check()
        .expect_err("userinfo");
    assert!(e.contains("--gitops-token"), "{e}");
    assert!(remote("ssh://git@example.com/x").check().is_err());
    let mut r = remote("https://git.example.com/fleet.git");
    r.branch = "bad..branch".into();
    assert!(r.check().is_err());
    let dbg = format!(
        "{:?}",
        GitRemote::new("https://x/y", "main", Some(Secret::new("tok-123")))
    );
    assert!(!dbg.contains("tok-123"), "{dbg}");
}
