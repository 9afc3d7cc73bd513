//! The real OpenID Connect provider of the single sign-on tests: `tests/oidc/provider.mjs` (npm
//! `oidc-provider`, the same one the browser tests use), started once per test process on a free port and
//! stopped by a watchdog when the process exits. `scripts/test.sh` installs Node and the npm packages
//! before the cargo tests.
//!
//! A test plays the browser: [`authorize`] follows the console's redirect to the provider, signs in on the
//! provider's development login page with a login name (which picks the claims: `victim` is
//! victim@example.com, verified; `victim+unverified` and `victim+unstated` are other identities with the
//! same address, `email_verified` false or absent), consents, and returns where the provider sends the
//! browser back to: the console's callback with a code.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use server::auth::config::OidcSettings;

/// The client secret the provider is started with.
const CLIENT_SECRET: &str = "catalyst-test-secret";
/// The label of the sign-in button.
pub const LABEL: &str = "Test IdP";

/// The provider's issuer URL, starting it on first use.
pub fn issuer() -> String {
    static ISSUER: OnceLock<Result<String, String>> = OnceLock::new();
    match ISSUER.get_or_init(start) {
        Ok(issuer) => issuer.clone(),
        Err(e) => panic!(
            "no OpenID Connect provider for the single sign-on tests: {e}. Run `npm install` at the repository root \
             (scripts/test.sh does) so that node_modules/oidc-provider exists, with Node on PATH."
        ),
    }
}

/// Single sign-on settings against the test provider, with the role map the browser tests use.
pub fn settings() -> OidcSettings {
    OidcSettings {
        issuer: issuer().parse().expect("issuer URL"),
        client_id: "catalyst".into(),
        client_secret: CLIENT_SECRET.into(),
        role_claim: "groups".into(),
        role_map: server::auth::config::parse_role_map(
            "catalyst-admins=superadmin,acme-devs=org:acme:editor",
        )
        .expect("role map"),
        scopes: vec!["groups".into()],
        label: LABEL.into(),
    }
}

fn start() -> Result<String, String> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if !root.join("node_modules/oidc-provider").exists() {
        return Err(format!(
            "{}/node_modules/oidc-provider is missing",
            root.display()
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut child = Command::new("node")
        .arg(root.join("tests/oidc/provider.mjs"))
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_CLIENT_ID", "catalyst")
        .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env(
            "OIDC_REDIRECT_URIS",
            format!("{}/sovereign/auth/oidc/callback", super::ORIGIN),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let issuer = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(issuer) = line.strip_prefix("oidc-provider listening on ") {
                    break issuer.trim().to_string();
                }
            }
            _ => {
                let status = child.wait().map_err(|e| e.to_string())?;
                return Err(format!(
                    "tests/oidc/provider.mjs exited ({status}) before it listened"
                ));
            }
        }
    };
    // Keep reading its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    // Watchdog: when this test process exits, stop the provider.
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill {child} 2>/dev/null",
        pid = std::process::id(),
        child = child.id()
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the provider watchdog: {e}"))?;
    std::mem::forget(child);
    Ok(issuer)
}

/// Plays the browser at the provider: from the authorization URL the console redirected to, signs in as
/// `login` on the development login page, consents, and returns the console URL (path and query) the provider
/// sends the browser back to.
pub async fn authorize(authorization_url: &str, login: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut url = reqwest::Url::parse(authorization_url).expect("authorization URL");
    for _ in 0..12 {
        let res = send(&client, client.get(url.clone()), &mut cookies).await;
        if res.status().is_redirection() {
            let location = location(&res);
            if let Some(console) = location.strip_prefix(super::ORIGIN) {
                return console.to_string();
            }
            url = url.join(&location).expect("redirect URL");
            continue;
        }
        let page = res.text().await.expect("provider page");
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no form on the provider's page: {page}"));
        let form: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        let post = client.post(url.join(action).expect("form URL")).form(&form);
        let res = send(&client, post, &mut cookies).await;
        assert!(
            res.status().is_redirection(),
            "the provider answered its form with {}",
            res.status()
        );
        url = url.join(&location(&res)).expect("redirect URL");
    }
    panic!("the provider never sent the browser back to the console")
}

/// Sends `req` with the cookies the provider set so far, and keeps the ones it sets now.
async fn send(
    client: &reqwest::Client,
    req: reqwest::RequestBuilder,
    cookies: &mut BTreeMap<String, String>,
) -> reqwest::Response {
    let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let req = req.header("cookie", jar.join("; ")).build().expect("request");
    let res = client.execute(req).await.expect("the provider answers");
    for set in res.headers().get_all("set-cookie") {
        let Some((name, value)) = set
            .to_str()
            .ok()
            .and_then(|c| c.split(';').next())
            .and_then(|kv| kv.split_once('='))
        else {
            continue;
        };
        if value.is_empty() {
            cookies.remove(name);
        } else {
            cookies.insert(name.to_string(), value.to_string());
        }
    }
    res
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
