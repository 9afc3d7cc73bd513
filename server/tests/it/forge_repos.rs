//! One GitOps repository and one read-only deploy key per Sovereign (issue 18 item 5; SECURITY.md "GitOps
//! isolation"): `server::gitops::forge` against the Gitea API stand-in (`tests/standins/forge.py`), whose
//! repositories are real bare repositories served by the Git HTTP stand-in (`tests/standins/git_http.py`),
//! so the console's real push lands there. The adapter keeps no state in the database: these tests need
//! neither SQLite nor Postgres.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use app::deployments::Secret;
use git2::Repository;
use server::gitops::forge::{Forge, ForgeError, KEY_TITLE, MAX_QUOTE};
use server::gitops::{ChartRef, ComponentRelease, GitRemote, RenderInput, publish, render};

pub(crate) const TOKEN: &str = "forge-write-token-7f3a";
pub(crate) const ORG: &str = "sovereigns";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A stand-in process, killed on drop.
pub(crate) struct Proc {
    child: Child,
    pub(crate) url: String,
}

impl Proc {
    fn start(script: &str, args: &[&str], dir: &Path) -> Proc {
        let mut child = Command::new("python3")
            .arg(root().join("tests/standins").join(script))
            .args(args)
            .arg("--root")
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_string();
        Proc { child, url }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Git HTTP server and the forge in front of the same directory of bare repositories.
pub(crate) struct Stand {
    pub(crate) dir: tempfile::TempDir,
    _git: Proc,
    pub(crate) forge: Proc,
}

pub(crate) fn stand() -> Stand {
    let dir = tempfile::tempdir().expect("tempdir");
    let git = Proc::start(
        "git_http.py",
        &["--port", "0", "--user", "catalyst", "--token", TOKEN],
        dir.path(),
    );
    let forge = Proc::start(
        "forge.py",
        &[
            "--port",
            "0",
            "--token",
            TOKEN,
            "--org",
            ORG,
            "--git-url",
            &git.url,
        ],
        dir.path(),
    );
    Stand {
        dir,
        _git: git,
        forge,
    }
}

impl Stand {
    pub(crate) fn client(&self) -> Forge {
        Forge::new(&self.forge.url, ORG, Secret::new(TOKEN)).expect("client")
    }

    pub(crate) async fn state(&self) -> serde_json::Value {
        reqwest::get(format!("{}/__standin/state", self.forge.url))
            .await
            .expect("state")
            .json()
            .await
            .expect("json")
    }
}

fn input(fqdn: &str) -> RenderInput {
    RenderInput {
        fqdn: fqdn.into(),
        deployment_id: format!("dep-{fqdn}"),
        components: vec![ComponentRelease {
            id: "flux".into(),
            chart: ChartRef {
                repository: "https://charts.example.com/flux".into(),
                name: "flux".into(),
                version: "1.2.3".into(),
            },
            namespace: "flux-system".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Every file path on `main` of a bare repository.
pub(crate) fn files(repo_dir: &Path) -> Vec<String> {
    let repo = Repository::open_bare(repo_dir).expect("open");
    let tree = repo
        .find_reference("refs/heads/main")
        .expect("main")
        .peel_to_commit()
        .expect("commit")
        .tree()
        .expect("tree");
    let mut out = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            out.push(format!("{dir}{}", entry.name().unwrap_or_default()));
        }
        git2::TreeWalkResult::Ok
    })
    .expect("walk");
    out
}

#[tokio::test]
async fn two_sovereigns_get_two_repositories_and_two_read_only_keys_each_on_its_own() {
    let s = stand();
    let forge = s.client();
    let a = forge.provision("acme.omani.works", "main").await.expect("a");
    let b = forge.provision("beta.omani.works", "main").await.expect("b");

    assert_ne!((&a.owner, &a.name), (&b.owner, &b.name));
    assert_eq!(a.owner, ORG);
    // The stand-in answers Gitea's scp form on port 22; Flux gets the ssh:// form.
    assert_eq!(a.ssh_url, format!("ssh://git@forge.invalid/{ORG}/{}.git", a.name));
    assert_ne!(a.public_key, b.public_key);
    assert_ne!(a.private_key.expose(), b.private_key.expose());
    for r in [&a, &b] {
        let private = ssh_key::PrivateKey::from_openssh(r.private_key.expose()).expect("OpenSSH private key");
        assert_eq!(private.algorithm(), ssh_key::Algorithm::Ed25519);
        assert_eq!(
            private.public_key().to_openssh().expect("public"),
            r.public_key,
            "the private half matches the registered key"
        );
        assert!(
            !format!("{r:?}").contains(r.private_key.expose()),
            "Debug hides the key"
        );
    }

    // Each key is registered on its own repository only, read-only.
    let state = s.state().await;
    let keys = |repo: &str| -> Vec<(String, bool, String)> {
        state["keys"][repo]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| {
                (
                    k["key"].as_str().unwrap_or_default().to_string(),
                    k["read_only"].as_bool().unwrap_or(false),
                    k["title"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let a_full = format!("{}/{}", a.owner, a.name);
    let b_full = format!("{}/{}", b.owner, b.name);
    assert_eq!(
        keys(&a_full),
        vec![(a.public_key.clone(), true, KEY_TITLE.to_string())]
    );
    assert_eq!(
        keys(&b_full),
        vec![(b.public_key.clone(), true, KEY_TITLE.to_string())]
    );

    // The console's real push lands in each Sovereign's own repository, and only its own tree is there.
    let template = GitRemote::new("https://unused.invalid/x.git", "main", None);
    for (r, fqdn) in [(&a, "acme.omani.works"), (&b, "beta.omani.works")] {
        let tree = render(&root().join("clusters/_template"), &input(fqdn)).expect("render");
        let out = publish(&forge.push_remote(r, &template), &tree, "first tree")
            .await
            .expect("push to the Sovereign's repository");
        assert!(out.changed);
    }
    let a_files = files(&s.dir.path().join(ORG).join(format!("{}.git", a.name)));
    let b_files = files(&s.dir.path().join(ORG).join(format!("{}.git", b.name)));
    assert!(
        a_files
            .iter()
            .any(|f| f.starts_with("clusters/acme.omani.works/")),
        "{a_files:?}"
    );
    assert!(
        a_files.iter().all(|f| !f.contains("beta.omani.works")),
        "{a_files:?}"
    );
    assert!(
        b_files
            .iter()
            .any(|f| f.starts_with("clusters/beta.omani.works/")),
        "{b_files:?}"
    );
    assert!(
        b_files.iter().all(|f| !f.contains("acme.omani.works")),
        "{b_files:?}"
    );

    // A retried phase finds the repository and replaces its key: still exactly one, the new one.
    let again = forge.provision("acme.omani.works", "main").await.expect("retry");
    assert_eq!(again.name, a.name);
    assert_ne!(again.public_key, a.public_key);
    let state = s.state().await;
    let a_keys: Vec<&str> = state["keys"][&a_full]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["key"].as_str())
        .collect();
    assert_eq!(a_keys, vec![again.public_key.as_str()]);
}

#[tokio::test]
async fn wipe_deletes_the_repository_and_its_key() {
    let s = stand();
    let forge = s.client();
    let a = forge.provision("acme.omani.works", "main").await.expect("a");
    let b = forge.provision("beta.omani.works", "main").await.expect("b");
    let a_dir = s.dir.path().join(ORG).join(format!("{}.git", a.name));
    assert!(a_dir.exists());

    forge.remove("acme.omani.works").await.expect("wipe");
    let state = s.state().await;
    let repos: Vec<&str> = state["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(repos, vec![format!("{}/{}", b.owner, b.name).as_str()]);
    assert!(state["keys"].get(format!("{}/{}", a.owner, a.name)).is_none());
    assert!(!a_dir.exists(), "the bare repository is gone");
    // The other Sovereign keeps its key.
    assert_eq!(
        state["keys"][format!("{}/{}", b.owner, b.name)]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Wiping again (a retried wipe) is not an error.
    forge.remove("acme.omani.works").await.expect("wipe again");
}

#[tokio::test]
async fn forge_errors_are_bounded_sentences_naming_what_to_check() {
    let s = stand();

    let wrong = Forge::new(&s.forge.url, ORG, Secret::new("not-the-token-91")).expect("client");
    let e = wrong
        .provision("acme.omani.works", "main")
        .await
        .expect_err("401");
    assert!(matches!(e, ForgeError::Auth { status: 401, .. }), "{e:?}");
    assert!(e.to_string().contains("--gitops-forge-token"), "{e}");
    assert!(!e.to_string().contains("not-the-token-91"), "{e}");

    let no_org = Forge::new(&s.forge.url, "nobody", Secret::new(TOKEN)).expect("client");
    let e = no_org
        .provision("acme.omani.works", "main")
        .await
        .expect_err("404");
    assert!(e.to_string().contains("--gitops-forge-org"), "{e}");

    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let gone = Forge::new(&url, ORG, Secret::new(TOKEN)).expect("client");
    let e = gone.remove("acme.omani.works").await.expect_err("unreachable");
    assert!(matches!(e, ForgeError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("--gitops-forge-url"), "{e}");
    assert!(!e.to_string().contains(TOKEN), "{e}");

    // A hostile forge's error message: long, multi-line, echoing the token. Quoted bounded, token masked.
    let long = format!("boom {TOKEN}\n{}", "x".repeat(5000));
    let mut body = BTreeMap::new();
    body.insert("status", serde_json::json!(500));
    body.insert("message", serde_json::json!(long));
    reqwest::Client::new()
        .post(format!("{}/__standin/fail", s.forge.url))
        .json(&body)
        .send()
        .await
        .expect("arm the fault");
    let e = s
        .client()
        .provision("acme.omani.works", "main")
        .await
        .expect_err("500");
    let text = e.to_string();
    assert!(matches!(e, ForgeError::Refused { status: 500, .. }), "{e:?}");
    assert!(text.contains("creating the repository"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains('\n'), "{text}");
    assert!(
        text.chars().count() < MAX_QUOTE + 120,
        "{} chars: {text}",
        text.chars().count()
    );
}

#[tokio::test]
async fn the_forge_check_of_the_preflight_names_what_is_wrong() {
    let s = stand();
    s.client()
        .check()
        .await
        .expect("the forge, its token and its organisation are fine");
    let e = Forge::new(&s.forge.url, "nobody", Secret::new(TOKEN))
        .expect("client")
        .check()
        .await
        .expect_err("no such organisation");
    assert!(matches!(e, ForgeError::NoOrg { .. }), "{e:?}");
    assert!(e.to_string().contains("--gitops-forge-org"), "{e}");
    let e = Forge::new(&s.forge.url, ORG, Secret::new("not-the-token-91"))
        .expect("client")
        .check()
        .await
        .expect_err("wrong token");
    assert!(matches!(e, ForgeError::Auth { status: 401, .. }), "{e:?}");
    assert!(e.to_string().contains("--gitops-forge-token-file"), "{e}");
    assert!(!e.to_string().contains("not-the-token-91"), "{e}");
}
