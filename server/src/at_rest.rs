//! Secrets at rest on the console's machine: file modes and how secrets reach the process.
//!
//! - Everything Catalyst and its children (OpenTofu) create is private: the process runs with umask 077
//!   ([`private_umask`]), and at start the data directory is made 0700 and the files in it that hold
//!   secrets (the SQLite database with its `-wal`/`-shm`, `secret.key`) 0600 ([`secure_data_dir`]), also
//!   when an earlier version or an operator created them more open.
//! - Secret options are read from the environment or from a file (`--gitops-token-file`, …), never needed
//!   on the command line, where every user of the machine can read them (`ps`, `/proc/<pid>/cmdline`);
//!   a secret given there still works but is warned about ([`secret_flags_in`]).

use std::path::{Path, PathBuf};

/// Options whose value is a secret: given on the command line they are readable by every user of the
/// machine. Each has an environment variable and a `…-file` option instead.
pub const SECRET_FLAGS: &[(&str, &str)] = &[
    ("--gitops-token", "CATALYST_GITOPS_TOKEN or --gitops-token-file"),
    (
        "--gitops-pull-token",
        "CATALYST_GITOPS_PULL_TOKEN or --gitops-pull-token-file",
    ),
    (
        "--oidc-client-secret",
        "CATALYST_OIDC_CLIENT_SECRET or --oidc-client-secret-file",
    ),
];

/// The secret options present in `args` (the process's arguments, `--flag value` or `--flag=value`), with
/// what to use instead.
pub fn secret_flags_in<I, S>(args: I) -> Vec<(&'static str, &'static str)>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string()).collect();
    SECRET_FLAGS
        .iter()
        .filter(|(flag, _)| {
            args.iter()
                .take_while(|a| a.as_str() != "--")
                .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
        })
        .copied()
        .collect()
}

/// Files and folders Catalyst creates from here on are readable by its own user only.
pub fn private_umask() {
    use nix::sys::stat::{Mode, umask};
    umask(Mode::from_bits_truncate(0o077));
}

/// Makes `data_dir` 0700 and each of `secret_files` that exists 0600 (plus a SQLite database's `-wal` and
/// `-shm` files). Returns what it had to tighten (for a log line).
pub fn secure_data_dir(data_dir: &Path, secret_files: &[PathBuf]) -> std::io::Result<Vec<String>> {
    let mut tightened = Vec::new();
    if set_mode(data_dir, 0o700)? {
        tightened.push(format!("{} (folder, now 0700)", data_dir.display()));
    }
    for file in secret_files {
        let mut all = vec![file.clone()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            all.push(PathBuf::from(name));
        }
        for f in all {
            if f.is_file() && set_mode(&f, 0o600)? {
                tightened.push(format!("{} (now 0600)", f.display()));
            }
        }
    }
    Ok(tightened)
}

/// Sets `path`'s permission bits to `mode` if they differ; true if changed.
fn set_mode(path: &Path, mode: u32) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current == mode {
        return Ok(false);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(true)
}

/// Reads a secret from a `…-file` option: the file's content without its trailing newline. Errors are one
/// sentence for the start-up message.
pub fn read_secret_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value = text.trim_end_matches(['\n', '\r']).to_string();
    if value.trim().is_empty() {
        return Err(format!("{} is empty; put the secret in it", path.display()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secret_flags_on_the_command_line_are_found() {
        assert_eq!(
            secret_flags_in(["catalyst", "--gitops-token", "abc", "--bind", "x"])
                .iter()
                .map(|(f, _)| *f)
                .collect::<Vec<_>>(),
            ["--gitops-token"]
        );
        assert_eq!(
            secret_flags_in(["catalyst", "--oidc-client-secret=s", "--gitops-pull-token=p"]).len(),
            2
        );
        assert!(secret_flags_in(["catalyst", "--gitops-token-file", "/run/secrets/t"]).is_empty());
        assert!(secret_flags_in(["catalyst", "--", "--gitops-token"]).is_empty());
    }

    #[test]
    fn the_data_dir_and_secret_files_are_made_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let db = data.join("catalyst.db");
        for f in [db.clone(), data.join("catalyst.db-wal"), data.join("secret.key")] {
            std::fs::write(&f, "x").expect("write");
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        let done = secure_data_dir(&data, &[db.clone(), data.join("secret.key"), data.join("absent")])
            .expect("secured");
        assert_eq!(done.len(), 4, "{done:?}");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&data.join("catalyst.db-wal")), 0o600);
        assert_eq!(mode(&data.join("secret.key")), 0o600);
        assert!(
            secure_data_dir(&data, &[db]).expect("again").is_empty(),
            "nothing left to do"
        );
    }

    #[test]
    fn secret_files_lose_their_trailing_newline_and_must_not_be_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("token");
        std::fs::write(&f, "s3cret\n").expect("write");
        assert_eq!(read_secret_file(&f).expect("read"), "s3cret");
        std::fs::write(&f, "\n").expect("write");
        assert!(read_secret_file(&f).expect_err("empty").contains("empty"));
        assert!(read_secret_file(&dir.path().join("none")).is_err());
    }
}
