//! Runs one OpenTofu command for a deployment: its own process group in the deployment's work directory,
//! a clean environment (`TF_IN_AUTOMATION`, no Catalyst variables), every output line handed to the caller
//! as it arrives, a timeout and cancellation that stop the whole process group (SIGTERM, then SIGKILL), and a
//! pid file so a replica that takes the run over after a crash can stop a left-over OpenTofu first.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;

/// The longest output line kept whole; longer ones are cut (OpenTofu's own scanner allows 1 MiB).
pub const MAX_LINE: usize = 1024 * 1024;
/// How long OpenTofu gets to stop cleanly (and write its state) after SIGTERM.
pub const GRACE: Duration = Duration::from_secs(15);
const PID_FILE: &str = ".catalyst-tofu.pid";

/// Environment variables passed through to OpenTofu; everything else (database URLs, Catalyst's own
/// options) stays out of the child.
const PASS_THROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];
/// Prefixes passed through: OpenTofu's own settings (`TF_LOG`, `TF_CLI_CONFIG_FILE`, …).
const PASS_THROUGH_PREFIXES: &[&str] = &["TF_", "TOFU_"];

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, thiserror::Error)]
pub enum TofuError {
    #[error("the OpenTofu binary “{bin}” was not found")]
    Missing { bin: String },
    #[error("cannot start OpenTofu (“{bin}”): {source}")]
    Spawn {
        bin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("OpenTofu did not finish within {}", humanize(*.0))]
    TimedOut(Duration),
    #[error("cancelled")]
    Cancelled,
    #[error("OpenTofu exited with {}", match .0 { Some(c) => format!("code {c}"), None => "a signal".to_string() })]
    Exit(Option<i32>),
    #[error("reading OpenTofu's output failed: {0}")]
    Io(#[from] std::io::Error),
}

/// How long a spawn waits, in total, for an executable that is still open for writing somewhere.
const BUSY_WAIT: Duration = Duration::from_secs(2);

/// Starts `cmd`, retrying while the kernel answers `ETXTBSY`: the binary is still open for writing,
/// typically because another thread of this process forked while holding a write handle (the child
/// keeps it until its own `exec`), or because the binary is being replaced by an upgrade. Both pass
/// within milliseconds; any other error is returned at once.
async fn spawn_when_not_busy(cmd: &mut Command) -> std::io::Result<tokio::process::Child> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && started.elapsed() < BUSY_WAIT => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else if s > 0 {
        format!("{s} s")
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// How to call OpenTofu.
#[derive(Debug, Clone)]
pub struct Tofu {
    /// `--tofu-bin`: a name looked up on `PATH`, or a path.
    pub bin: PathBuf,
    /// Extra environment for every call (`TF_PLUGIN_CACHE_DIR`, …).
    pub env: Vec<(String, String)>,
}

/// One command.
#[derive(Debug, Clone)]
pub struct Step {
    pub args: Vec<String>,
    pub workdir: PathBuf,
    pub timeout: Duration,
    pub cancel: CancellationToken,
    /// Collect stdout and return it instead of handing it out line by line (`output -json`).
    pub capture_stdout: bool,
}

impl Tofu {
    /// The binary's full path, if it can be run.
    pub fn resolve(&self) -> Option<PathBuf> {
        resolve_bin(&self.bin)
    }

    fn env(&self) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
            .filter(|(k, _)| {
                k.to_str().is_some_and(|k| {
                    PASS_THROUGH.contains(&k) || PASS_THROUGH_PREFIXES.iter().any(|p| k.starts_with(p))
                })
            })
            .collect();
        for (k, v) in [
            ("TF_IN_AUTOMATION", "1"),
            ("TF_INPUT", "0"),
            ("CHECKPOINT_DISABLE", "1"),
        ] {
            env.push((k.into(), v.into()));
        }
        for (k, v) in &self.env {
            env.push((k.into(), v.into()));
        }
        env
    }

    /// Runs `step`, calling `on_line` for every output line (stdout lines only when not captured). Returns
    /// the captured stdout (empty unless `capture_stdout`). A non-zero exit is [`TofuError::Exit`].
    pub async fn run(&self, step: &Step, on_line: impl FnMut(Stream, String)) -> Result<Vec<u8>, TofuError> {
        let started = std::time::Instant::now();
        let result = self.run_step(step, on_line).await;
        let command = step.args.first().map(String::as_str).unwrap_or("-");
        crate::metrics::tofu_command(command, started.elapsed(), result.is_ok());
        result
    }

    async fn run_step(
        &self,
        step: &Step,
        mut on_line: impl FnMut(Stream, String),
    ) -> Result<Vec<u8>, TofuError> {
        let bin = self.resolve().ok_or_else(|| TofuError::Missing {
            bin: self.bin.display().to_string(),
        })?;
        let mut cmd = Command::new(&bin);
        cmd.args(&step.args)
            .current_dir(&step.workdir)
            .env_clear()
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: providers and plugins are stopped together with OpenTofu.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = spawn_when_not_busy(&mut cmd)
            .await
            .map_err(|source| TofuError::Spawn {
                bin: bin.display().to_string(),
                source,
            })?;
        let pid = child.id();
        if let Some(pid) = pid {
            let _ = std::fs::write(step.workdir.join(PID_FILE), pid.to_string());
        }
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let codec = || LinesCodec::new_with_max_length(MAX_LINE);
        let mut out = stdout.map(|s| FramedRead::new(s, codec()));
        let mut err = stderr.map(|s| FramedRead::new(s, codec()));
        let mut captured = Vec::new();
        let deadline = tokio::time::sleep(step.timeout);
        tokio::pin!(deadline);
        let mut stopped: Option<TofuError> = None;
        while out.is_some() || err.is_some() {
            tokio::select! {
                line = next_line(&mut out), if out.is_some() => match line {
                    Some(line) => {
                        if step.capture_stdout {
                            captured.extend_from_slice(line.as_bytes());
                            captured.push(b'\n');
                        } else {
                            on_line(Stream::Stdout, line);
                        }
                    }
                    None => out = None,
                },
                line = next_line(&mut err), if err.is_some() => match line {
                    Some(line) => on_line(Stream::Stderr, line),
                    None => err = None,
                },
                () = &mut deadline => {
                    stopped = Some(TofuError::TimedOut(step.timeout));
                    break;
                }
                () = step.cancel.cancelled() => {
                    stopped = Some(TofuError::Cancelled);
                    break;
                }
            }
        }
        if let Some(reason) = stopped {
            if let Some(pid) = pid {
                stop_group(pid, &mut child).await;
            }
            let _ = std::fs::remove_file(step.workdir.join(PID_FILE));
            return Err(reason);
        }
        let status = tokio::select! {
            status = child.wait() => status?,
            () = &mut deadline => {
                if let Some(pid) = pid { stop_group(pid, &mut child).await; }
                let _ = std::fs::remove_file(step.workdir.join(PID_FILE));
                return Err(TofuError::TimedOut(step.timeout));
            }
            () = step.cancel.cancelled() => {
                if let Some(pid) = pid { stop_group(pid, &mut child).await; }
                let _ = std::fs::remove_file(step.workdir.join(PID_FILE));
                return Err(TofuError::Cancelled);
            }
        };
        let _ = std::fs::remove_file(step.workdir.join(PID_FILE));
        if status.success() {
            Ok(captured)
        } else {
            Err(TofuError::Exit(status.code()))
        }
    }
}

async fn next_line<R: tokio::io::AsyncRead + Unpin>(
    r: &mut Option<FramedRead<R, LinesCodec>>,
) -> Option<String> {
    let reader = r.as_mut()?;
    match reader.next().await {
        Some(Ok(line)) => Some(line),
        // Over-long line: the codec skips to the next newline; say so instead of dropping it silently.
        Some(Err(LinesCodecError::MaxLineLengthExceeded)) => {
            Some(format!("[a line longer than {} KiB was cut]", MAX_LINE / 1024))
        }
        Some(Err(LinesCodecError::Io(_))) | None => None,
    }
}

/// SIGTERM to the process group, SIGKILL after the grace period.
async fn stop_group(pid: u32, child: &mut tokio::process::Child) {
    let pgid = Pid::from_raw(pid as i32);
    let _ = killpg(pgid, Signal::SIGTERM);
    if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = child.wait().await;
    }
    // Children of OpenTofu (providers) may outlive it briefly: make sure the group is gone.
    let _ = killpg(pgid, Signal::SIGKILL);
}

/// Stops an OpenTofu left running in `workdir` by a process that died (its pid file is still there and the
/// process still runs in that directory). Returns whether one was stopped.
pub async fn stop_leftover(workdir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(workdir.join(PID_FILE)) else {
        return false;
    };
    let _ = std::fs::remove_file(workdir.join(PID_FILE));
    let Ok(pid) = text.trim().parse::<i32>() else {
        return false;
    };
    // Guard against pid reuse: only a process whose working directory is this workdir.
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    let ours = match (cwd, std::fs::canonicalize(workdir).ok()) {
        (Some(cwd), Some(dir)) => cwd == dir,
        _ => false,
    };
    if !ours {
        return false;
    }
    let pgid = Pid::from_raw(pid);
    let _ = killpg(pgid, Signal::SIGTERM);
    for _ in 0..(GRACE.as_millis() / 100) {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    true
}

/// A name is looked up on `PATH`; a path must exist and be executable.
pub fn resolve_bin(bin: &Path) -> Option<PathBuf> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if bin.components().count() > 1 || bin.is_absolute() {
        return executable(bin).then(|| bin.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| executable(p))
}

/// Parses `tofu version -json` (`{"terraform_version":"1.8.2", …}`) into (major, minor).
pub fn parse_version(json: &[u8]) -> Option<(u32, u32)> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let s = v
        .get("terraform_version")
        .or_else(|| v.get("tofu_version"))?
        .as_str()?;
    let mut parts = s.trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, body: &str) -> PathBuf {
        let p = dir.join("fake-tofu");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    #[tokio::test]
    async fn a_binary_still_open_for_writing_is_started_once_it_is_closed() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("fake-tofu");
        // Written and left open, as a forked sibling thread's child holds it until its exec.
        let mut handle = std::fs::File::create(&p).expect("create");
        std::io::Write::write_all(&mut handle, b"#!/bin/sh\necho started\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let busy = std::process::Command::new(&p)
            .output()
            .expect_err("busy while open");
        assert_eq!(busy.kind(), std::io::ErrorKind::ExecutableFileBusy);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(handle);
        });
        let tofu = Tofu { bin: p, env: vec![] };
        let mut lines = Vec::new();
        tofu.run(&step(dir.path(), Duration::from_secs(30)), |_, l| lines.push(l))
            .await
            .expect("started once closed");
        assert_eq!(lines, vec!["started".to_string()]);
    }

    fn step(dir: &Path, timeout: Duration) -> Step {
        Step {
            args: vec!["apply".into()],
            workdir: dir.to_path_buf(),
            timeout,
            cancel: CancellationToken::new(),
            capture_stdout: false,
        }
    }

    #[tokio::test]
    async fn lines_arrive_from_both_pipes_in_a_clean_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = script(
            dir.path(),
            r#"echo "args: $*"; echo "automation=$TF_IN_AUTOMATION db=${CATALYST_DATABASE_URL:-unset}"; echo oops >&2; exit 0"#,
        );
        // SAFETY of the test: the variable is only read by the child.
        let tofu = Tofu {
            bin,
            env: vec![("TF_PLUGIN_CACHE_DIR".into(), "/tmp/cache".into())],
        };
        let mut lines = Vec::new();
        tofu.run(&step(dir.path(), Duration::from_secs(10)), |s, l| {
            lines.push((s, l))
        })
        .await
        .expect("runs");
        assert!(
            lines.contains(&(Stream::Stdout, "args: apply".into())),
            "{lines:?}"
        );
        assert!(
            lines.contains(&(Stream::Stdout, "automation=1 db=unset".into())),
            "{lines:?}"
        );
        assert!(lines.contains(&(Stream::Stderr, "oops".into())), "{lines:?}");
        assert!(!dir.path().join(PID_FILE).exists(), "pid file removed");
    }

    #[tokio::test]
    async fn non_zero_exit_and_missing_binary_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tofu = Tofu {
            bin: script(dir.path(), "echo failing; exit 3"),
            env: vec![],
        };
        let e = tofu
            .run(&step(dir.path(), Duration::from_secs(10)), |_, _| {})
            .await
            .expect_err("fails");
        assert!(matches!(e, TofuError::Exit(Some(3))), "{e}");
        let missing = Tofu {
            bin: PathBuf::from("definitely-not-a-tofu-binary"),
            env: vec![],
        };
        let e = missing
            .run(&step(dir.path(), Duration::from_secs(10)), |_, _| {})
            .await
            .expect_err("missing");
        assert!(matches!(e, TofuError::Missing { .. }), "{e}");
    }

    #[tokio::test]
    async fn timeout_and_cancel_stop_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("child.pid");
        // A grandchild that would outlive its parent unless the group is killed.
        let tofu = Tofu {
            bin: script(
                dir.path(),
                &format!("sleep 300 & echo $! > {}; echo started; wait", marker.display()),
            ),
            env: vec![],
        };
        let started = std::time::Instant::now();
        let e = tofu
            .run(&step(dir.path(), Duration::from_millis(500)), |_, _| {})
            .await
            .expect_err("times out");
        assert!(matches!(e, TofuError::TimedOut(_)), "{e}");
        assert!(started.elapsed() < GRACE, "SIGTERM was enough");
        let grandchild: i32 = std::fs::read_to_string(&marker)
            .expect("pid")
            .trim()
            .parse()
            .expect("int");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !Path::new(&format!("/proc/{grandchild}")).exists() || is_zombie(grandchild),
            "grandchild stopped"
        );

        let s = step(dir.path(), Duration::from_secs(60));
        let cancel = s.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            cancel.cancel();
        });
        let e = tofu.run(&s, |_, _| {}).await.expect_err("cancelled");
        assert!(matches!(e, TofuError::Cancelled), "{e}");
    }

    fn is_zombie(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
    }

    #[tokio::test]
    async fn captures_stdout_for_outputs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tofu = Tofu {
            bin: script(dir.path(), r#"printf '{\n  "a": 1\n}\n'"#),
            env: vec![],
        };
        let mut s = step(dir.path(), Duration::from_secs(10));
        s.capture_stdout = true;
        let out = tofu
            .run(&s, |_, _| panic!("no lines when captured"))
            .await
            .expect("runs");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["a"], 1);
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse_version(br#"{"terraform_version":"1.8.2","platform":"linux_amd64"}"#),
            Some((1, 8))
        );
        assert_eq!(parse_version(b"OpenTofu v1.6.0"), None);
        assert_eq!(humanize(Duration::from_secs(5400)), "90 min");
        assert_eq!(humanize(Duration::from_secs(7200)), "2 h");
    }
}
