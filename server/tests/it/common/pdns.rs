//! A real PowerDNS for the tests: `CATALYST_TEST_PDNS_URL` / `_API_KEY` / `_DNS` if set (`scripts/test.sh`
//! exports them from `scripts/pdns-throwaway.sh`); otherwise the first test that asks starts one with that
//! script (Debian's pdns-server and pdns-backend-sqlite3 must be installed) and a watchdog stops it and
//! removes its directory when this test process exits. Tests share the server, so each uses zones of its
//! own ([`unique_zone`]).

use std::net::SocketAddr;
use std::process::Command;
use std::sync::OnceLock;

use app::deployments::Secret;
use server::pdns::{PdnsClient, PdnsSettings};

/// Where the test PowerDNS answers.
#[derive(Debug, Clone)]
pub struct TestPdns {
    pub url: String,
    pub api_key: String,
    /// Its DNS port (UDP and TCP).
    pub dns: SocketAddr,
}

impl TestPdns {
    pub fn settings(&self) -> PdnsSettings {
        PdnsSettings {
            url: self.url.clone(),
            api_key: Secret::new(self.api_key.clone()),
            server_id: "localhost".into(),
            resolver: None,
        }
    }

    pub fn client(&self) -> PdnsClient {
        self.settings().client().expect("PowerDNS client")
    }
}

/// The shared test PowerDNS (Catalyst's own).
pub fn pdns() -> &'static TestPdns {
    static PDNS: OnceLock<TestPdns> = OnceLock::new();
    PDNS.get_or_init(|| from_env_or_start("CATALYST_TEST_PDNS"))
}

/// A second, independent PowerDNS playing "the rest of the DNS": the parent zones of bring-your-own
/// domains as their registries publish them, and the resolver the console asks (`--dns-resolver`).
pub fn world() -> &'static TestPdns {
    static WORLD: OnceLock<TestPdns> = OnceLock::new();
    WORLD.get_or_init(|| from_env_or_start("CATALYST_TEST_WORLD_DNS"))
}

fn from_env_or_start(prefix: &str) -> TestPdns {
    let var = |name: &str| {
        std::env::var(format!("{prefix}_{name}"))
            .ok()
            .filter(|v| !v.is_empty())
    };
    if let (Some(url), Some(api_key), Some(dns)) = (var("URL"), var("API_KEY"), var("DNS")) {
        return TestPdns {
            url,
            api_key,
            dns: dns.parse().expect("a host:port DNS address"),
        };
    }
    start(prefix).unwrap_or_else(|e| {
        panic!(
            "no PowerDNS for the DNS tests: {e}. Install Debian's pdns-server and pdns-backend-sqlite3 (scripts/test.sh does), or set {prefix}_URL, {prefix}_API_KEY and {prefix}_DNS."
        )
    })
}

fn start(prefix: &str) -> Result<TestPdns, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pdns-throwaway.sh");
    let out = Command::new("bash")
        .args([script, "start", prefix])
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let get = |name: &str| {
        let key = format!("export {prefix}_{name}=");
        text.lines()
            .find_map(|l| l.strip_prefix(&key))
            .map(str::to_string)
            .ok_or_else(|| format!("{script} printed no {prefix}_{name}"))
    };
    let dir = get("DIR")?;
    // Watchdog: when this test process exits, stop the server and remove its directory.
    let watch = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; bash {script} stop {dir} >/dev/null 2>&1",
        pid = std::process::id()
    );
    Command::new("setsid")
        .args(["sh", "-c", &watch])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the PowerDNS watchdog: {e}"))?;
    Ok(TestPdns {
        url: get("URL")?,
        api_key: get("API_KEY")?,
        dns: get("DNS")?.parse().map_err(|e| format!("DNS address: {e}"))?,
    })
}

/// A zone name no other test uses: `<label>-<random>.test`.
pub fn unique_zone(label: &str) -> String {
    format!(
        "{label}-{}.test",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Runs `nsupdate` (bind9-dnsutils) against `server` with `commands` (without `server`/`send`), signed
/// with the TSIG key `name`/`secret` (hmac-sha256) when given. Returns whether the update was accepted,
/// and nsupdate's output.
pub fn nsupdate(server: SocketAddr, key: Option<(&str, &str)>, commands: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new("nsupdate");
    if let Some((name, secret)) = key {
        // A key file rather than `-y`: the secret stays off the command line.
        let file = dir.path().join("key.conf");
        std::fs::write(
            &file,
            format!("key \"{name}\" {{\n  algorithm hmac-sha256;\n  secret \"{secret}\";\n}};\n"),
        )
        .expect("key file");
        cmd.arg("-k").arg(&file);
    }
    let script = format!("server {} {}\n{commands}\nsend\n", server.ip(), server.port());
    let script_file = dir.path().join("update.txt");
    std::fs::write(&script_file, script).expect("script");
    let out = cmd
        .arg(&script_file)
        .output()
        .expect("nsupdate runs (install Debian's bind9-dnsutils)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
