//! Secrets at rest (issue 18 item 8): the real `catalyst` binary provisions through the `tofu` stand-in while
//! the test reads every file of its data directory, during `tofu apply` and after it. No file holds the
//! Hetzner token, the region's kubeconfig bearer or a GitOps token in plaintext (the database keeps
//! ciphertexts and hashes; OpenTofu got the secrets through its environment); every file and folder is
//! private (0600 / 0700), also a database the test created 0644 before the start; and a secret given on the
//! command line works but is warned about.

use crate::common;

use std::path::{Path, PathBuf};

use common::engine::{GitRepo, TOKEN, eventually, request, userdata_bearer};

use crate::restart::{Console, console_command, deployment, free_port, ready, session_in};

const PUSH_TOKEN: &str = "push-token-from-a-file-0123456789";

const PULL_TOKEN: &str = "pull-token-on-the-command-line-0123456789";

fn start(dir: &Path, port: u16, git: &GitRepo, log: &Path) -> Console {
    let token_file = dir.join("gitops-token");
    std::fs::write(&token_file, format!("{PUSH_TOKEN}\n")).expect("token file");
    let out = std::fs::File::create(log).expect("log file");
    Console(
        console_command(dir, port, git)
            .arg("--gitops-token-file")
            .arg(&token_file)
            // A secret on the command line: accepted, with a warning.
            .args(["--gitops-pull-token", PULL_TOKEN])
            .args(["--log-level", "warn"])
            .env("TOFU_STANDIN_DELAY", "0.3")
            .env("TOFU_STANDIN_USERDATA", dir.join("userdata"))
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("catalyst starts"),
    )
}

/// Every file under `root` (recursively) with its mode.
fn files(root: &Path) -> Vec<(PathBuf, u32, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_dir() {
                out.push((e.path(), mode, true));
                stack.push(e.path());
            } else if meta.is_file() {
                out.push((e.path(), mode, false));
            }
        }
    }
    out
}

/// No secret in any file of the data directory; nothing readable by others.
fn check_data_dir(data: &Path, secrets: &[&str], when: &str) {
    use std::os::unix::fs::PermissionsExt;
    let root_mode = std::fs::metadata(data).expect("data dir").permissions().mode() & 0o777;
    assert_eq!(root_mode, 0o700, "{when}: the data directory");
    let all = files(data);
    assert!(
        all.iter().any(|(p, _, _)| p.ends_with("tofu.auto.tfvars.json")),
        "{when}: a work directory exists"
    );
    for (path, mode, is_dir) in &all {
        assert_eq!(
            mode & 0o077,
            0,
            "{when}: {} is readable by others ({mode:o})",
            path.display()
        );
        if !is_dir {
            let Ok(bytes) = std::fs::read(path) else { continue };
            for secret in secrets {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{when}: {} holds a secret in plaintext ({}…)",
                    path.display(),
                    &secret[..8]
                );
            }
        }
    }
    assert!(
        all.iter()
            .any(|(p, m, _)| p.file_name().is_some_and(|n| n == "catalyst.db") && *m == 0o600),
        "{when}: the database is 0600"
    );
    assert!(
        all.iter()
            .any(|(p, m, _)| p.file_name().is_some_and(|n| n == "secret.key") && *m == 0o600),
        "{when}: the key file is 0600"
    );
}

#[tokio::test]
async fn no_secret_sits_in_the_data_directory_during_or_after_a_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let git = GitRepo::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // Made by this process (umask 022): the data directory 0755, the database 0644.
    let cookie = session_in(&dir).await;
    let data = dir.join("data");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(
        std::fs::metadata(data.join("catalyst.db"))
            .expect("db")
            .permissions()
            .mode()
            & 0o077,
        0o044
    );
    let log = dir.join("catalyst.log");
    let mut child = start(&dir, port, &git, &log);
    ready(&base).await;
    let res = reqwest::Client::new()
        .post(format!("{base}/sovereign/api/v1/deployments"))
        .header("cookie", &cookie)
        .header("origin", &base)
        .json(&request("at-rest.example.com"))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), 201);
    let id = res.json::<serde_json::Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();

    // During apply.
    eventually(60, "apply under way", || async {
        let d = deployment(&base, &cookie, &id).await;
        let applying = d["status"] == "provisioning"
            && d["resources"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["state"] == "complete"));
        applying.then_some(())
    })
    .await;
    check_data_dir(&data, &[TOKEN, PUSH_TOKEN, PULL_TOKEN], "during apply");

    // After: the run waits for the cluster; the control plane got its bearer in its user data only.
    eventually(120, "the run to finish Phase 0", || async {
        (deployment(&base, &cookie, &id).await["status"] == "waiting-for-cluster").then_some(())
    })
    .await;
    let bearer = userdata_bearer(&dir.join("userdata"), &id, "fsn1").expect("user data");
    check_data_dir(
        &data,
        &[TOKEN, PUSH_TOKEN, PULL_TOKEN, bearer.as_str()],
        "after apply",
    );
    assert!(!data.join("deployments").join(&id).join("tfplan").exists());

    child.kill().expect("stop");
    child.wait().expect("reaped");
    let out = std::fs::read_to_string(&log).expect("log");
    assert!(
        out.contains("--gitops-pull-token was given on the command line"),
        "the command-line secret is warned about: {out}"
    );
    assert!(!out.contains("--gitops-token was given"), "{out}");
    assert!(out.contains("made private what others could read"), "{out}");
    for secret in [TOKEN, PUSH_TOKEN, PULL_TOKEN, bearer.as_str()] {
        assert!(!out.contains(secret), "the log holds a secret");
    }
}
