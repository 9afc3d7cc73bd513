//! The real `catalyst` binary is killed (SIGKILL) in the middle of `tofu apply` and started again on the same
//! data directory: the run resumes by itself and completes Phase 0 — nothing is left "provisioning", nothing
//! needs cleaning up by hand. (OpenTofu is the stand-in, each resource taking 0.4 s; GitOps goes to a bare
//! repository.)

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::engine::{GitRepo, eventually, module_dir, repo_root, request, standin_tofu, template_dir};
use server::db::{Db, DbUrl};

/// An owner of the console's organisation with a session, written into the database the binary will use
/// (`<data-dir>/catalyst.db`): the `Cookie` header value.
pub(crate) async fn session_in(dir: &std::path::Path) -> String {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let url = DbUrl::Sqlite {
        path: data.join("catalyst.db"),
    };
    let db = Db::connect(&url).await.expect("sqlite opens");
    db.migrate().await.expect("migrates");
    let state = server::app_state_with(
        common::settings_for(url, data),
        db.clone(),
        server::crypto::SecretBox::generate(),
    );
    let (_, cookie) =
        common::sign_in(&state, "ops@acme.example", None, Some(app::auth::OrgRole::Owner)).await;
    db.close().await;
    cookie
}

/// What a console on 127.0.0.1 needs to pass the pre-flight its create path runs (as scripts/test.sh gives
/// the browser tests' servers): a local console allowed, an egress range, the account's limits.
pub(crate) const PREFLIGHT_FLAGS: [&str; 5] = [
    "--allow-local-console",
    "--console-egress-cidrs",
    "127.0.0.1/32",
    "--hetzner-limits",
    "servers=500,load_balancers=100,primary_ips=1000,networks=100,firewalls=100,placement_groups=100,volumes=1000",
];

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A console process started by a test: stopped when the test ends, also when an assertion fails first
/// (a failed run used to leave its console running after the test process exited).
pub(crate) struct Console(pub(crate) Child);

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Console {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Console {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// The `catalyst` binary as these tests start it: on `127.0.0.1:<port>` with its data under `<dir>/data`, the
/// `tofu` stand-in and this repository's module, catalog and Flux template, the shared Hetzner stand-in, the
/// pre-flight flags of a local console and GitOps pushed to `git`. Callers add their own flags and output.
pub(crate) fn console_command(dir: &std::path::Path, port: u16, git: &GitRepo) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalyst"));
    cmd.args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--tofu-bin")
        .arg(standin_tofu())
        .arg("--tofu-module-dir")
        .arg(module_dir())
        .arg("--catalog-dir")
        .arg(repo_root().join("platform"))
        // The create path checks the token with Hetzner: the shared stand-in accepts the test token.
        .args(["--hetzner-api-url", crate::common::hetzner_api()])
        // The create path runs the pre-flight: this console is local, so say so, as the browser tests' do.
        .args(PREFLIGHT_FLAGS)
        .arg("--gitops-template-dir")
        .arg(template_dir())
        .args(["--gitops-repo-url", &git.url]);
    cmd
}

fn start(dir: &std::path::Path, port: u16, git: &GitRepo) -> Console {
    Console(
        console_command(dir, port, git)
            .args(["--lease-ttl", "2s", "--log-level", "warn"])
            // Each resource takes a while, so the kill lands in the middle of apply.
            .env("TOFU_STANDIN_DELAY", "0.4")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("catalyst starts"),
    )
}

pub(crate) async fn ready(base: &str) {
    eventually(60, "catalyst ready", || async {
        let ok = reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success());
        ok.then_some(())
    })
    .await
}

pub(crate) async fn deployment(base: &str, cookie: &str, id: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{base}/sovereign/api/v1/deployments/{id}"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_killed_console_resumes_its_run_when_started_again() {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let git = GitRepo::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let cookie = session_in(&dir).await;
    let mut first = start(&dir, port, &git);
    ready(&base).await;
    let res = reqwest::Client::new()
        .post(format!("{base}/sovereign/api/v1/deployments"))
        .header("cookie", &cookie)
        .header("origin", &base)
        .json(&request("restart.example.com"))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), 201);
    let id = res.json::<serde_json::Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    eventually(30, "apply under way", || async {
        let d = deployment(&base, &cookie, &id).await;
        let applying = d["resources"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["state"] == "complete"));
        applying.then_some(())
    })
    .await;

    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");

    let mut second = start(&dir, port, &git);
    ready(&base).await;
    let d = deployment(&base, &cookie, &id).await;
    assert_eq!(
        d["status"], "provisioning",
        "still owed after the crash, not failed"
    );
    eventually(90, "the resumed run to finish Phase 0", || async {
        (deployment(&base, &cookie, &id).await["status"] == "waiting-for-cluster").then_some(())
    })
    .await;
    let d = deployment(&base, &cookie, &id).await;
    let apply = d["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .find(|p| p["phase"] == "tofu-apply")
        .expect("apply phase")
        .clone();
    assert_eq!(apply["state"], "succeeded");
    assert_eq!(apply["attempts"], 2, "apply ran again after the restart");
    let events: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{base}/sovereign/api/v1/deployments/{id}/events?limit=1000"
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("json");
    let seqs: Vec<i64> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["seq"].as_i64())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "one gap-free log across both processes"
    );
    second.kill().expect("stop");
    second.wait().expect("reaped");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
