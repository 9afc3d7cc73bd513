//! The real SMTP server of the mail tests (`tests/smtp/server.py`, aiosmtpd): `CATALYST_TEST_SMTP_ADDR` and
//! `CATALYST_TEST_SMTP_DIR` if set (`scripts/test.sh` exports them), otherwise the first test starts one with
//! `scripts/smtp-test-server.sh` and a watchdog stops it when this test process exits.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use server::mail::config::{MailSettings, SmtpSecurity, SmtpSettings};

pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// Where the server writes each delivered message (`<n>.json`, `<n>.eml`).
    pub dir: PathBuf,
}

pub fn smtp() -> &'static Smtp {
    static SMTP: OnceLock<Smtp> = OnceLock::new();
    SMTP.get_or_init(|| {
        let (addr, dir) = match (
            std::env::var("CATALYST_TEST_SMTP_ADDR"),
            std::env::var("CATALYST_TEST_SMTP_DIR"),
        ) {
            (Ok(addr), Ok(dir)) => (addr, dir),
            _ => start(),
        };
        let (host, port) = addr.rsplit_once(':').expect("host:port");
        Smtp {
            host: host.to_string(),
            port: port.parse().expect("port"),
            dir: PathBuf::from(dir),
        }
    })
}

fn start() -> (String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/smtp-test-server.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg("start")
        .output()
        .expect("run scripts/smtp-test-server.sh");
    assert!(
        out.status.success(),
        "the test SMTP server did not start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let var = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name} missing from: {text}"))
            .to_string()
    };
    let (addr, dir, pid) = (
        var("CATALYST_TEST_SMTP_ADDR"),
        var("CATALYST_TEST_SMTP_DIR"),
        var("CATALYST_TEST_SMTP_PID"),
    );
    // Watchdog: when this test process exits, stop the server and remove its folder.
    let watch = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 1; done; bash {script} stop {pid} {dir}",
        me = std::process::id()
    );
    spawn_detached(&watch).expect("start the SMTP server's watchdog");
    (addr, dir)
}

/// Runs `script` in its own session, outliving this process (it waits for it to exit).
fn spawn_detached(script: &str) -> Result<(), String> {
    Command::new("setsid")
        .args(["sh", "-c", script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Mail settings sending to the test server (plain SMTP on localhost), links under `public_origin`.
pub fn mail_settings(public_origin: &str) -> MailSettings {
    let s = smtp();
    MailSettings {
        smtp: Some(SmtpSettings {
            host: s.host.clone(),
            port: s.port,
            security: SmtpSecurity::None,
            credentials: None,
            from: "Catalyst <vouchers@example.com>".into(),
        }),
        public_origin: public_origin.to_string(),
    }
}

/// Mail settings for an SMTP server that is not there (a closed port).
pub fn unreachable_mail_settings(public_origin: &str) -> MailSettings {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    MailSettings {
        smtp: Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            credentials: None,
            from: "Catalyst <vouchers@example.com>".into(),
        }),
        public_origin: public_origin.to_string(),
    }
}

/// What the server delivered to `recipient`, oldest first: the envelope and the parsed message.
pub fn delivered_to(recipient: &str) -> Vec<serde_json::Value> {
    read_all(&smtp().dir)
        .into_iter()
        .filter(|m| {
            m["rcpt_tos"]
                .as_array()
                .is_some_and(|to| to.iter().any(|t| t.as_str() == Some(recipient)))
        })
        .collect()
}

fn read_all(dir: &Path) -> Vec<serde_json::Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut numbered: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| {
            let n = p.file_stem()?.to_str()?.parse().ok()?;
            Some((n, p))
        })
        .collect();
    numbered.sort();
    numbered
        .into_iter()
        .filter_map(|(_, p)| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
        .collect()
}
