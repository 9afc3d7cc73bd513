//! The pre-flight's checks of Catalyst itself: what a new Sovereign needs from the console that launches it.
//! None of these is a wizard field: each names the console option that fixes it.
//!
//! - `--public-url`: every new cluster PUTs its kubeconfig there, so it must be https and reachable from
//!   Hetzner — not a loopback, private or link-local address, nor a name only this network resolves.
//! - `--console-egress-cidrs`: each region's Kubernetes API answers only these networks; without them the
//!   console cannot watch the Sovereign come up.
//! - the GitOps repository: configured, and it takes pushes with the configured token (a push connection is
//!   opened and the branches listed; nothing is pushed).
//! - `--tofu-bin`: runs, and `tofu version -json` says 1.6 or newer.

use std::net::IpAddr;
use std::time::Duration;

use app::preflight::{Check, CheckKind, CheckStatus};
use tokio_util::sync::CancellationToken;

use super::config::PreflightConfig;
use crate::tofu::runner::{Step, Tofu, parse_version};

pub async fn checks(config: &PreflightConfig) -> Vec<Check> {
    let (url, gitops, tofu) = tokio::join!(public_url(config), gitops(config), tofu(config));
    vec![url, egress(config), gitops, tofu]
}

/// A loopback, private, shared (CGNAT), link-local, documentation or unspecified address: one a cluster on
/// Hetzner cannot reach over the internet.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || v6.to_ipv4_mapped().is_some_and(|v4| is_local(IpAddr::V4(v4)))
        }
    }
}

/// Host names only a local network resolves.
fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost"
        || [
            ".localhost",
            ".local",
            ".internal",
            ".lan",
            ".home.arpa",
            ".test",
            ".invalid",
        ]
        .iter()
        .any(|s| h.ends_with(s))
        || !h.contains('.')
}

/// What is wrong with the console's address for a new cluster, if anything.
async fn url_problem(raw: &str) -> Option<String> {
    let url = match url::Url::parse(raw) {
        Ok(u) => u,
        Err(e) => return Some(format!("{raw} is not a URL ({e})")),
    };
    if url.scheme() != "https" {
        return Some(format!(
            "{raw} is not https: new clusters send their kubeconfig there, so it must be https"
        ));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        None => Some(format!("{raw} has no host")),
        Some(url::Host::Ipv4(ip)) if is_local(IpAddr::V4(ip)) => Some(format!(
            "{ip} is a loopback or private address that a cluster on Hetzner cannot reach"
        )),
        Some(url::Host::Ipv6(ip)) if is_local(IpAddr::V6(ip)) => Some(format!(
            "{ip} is a loopback or private address that a cluster on Hetzner cannot reach"
        )),
        Some(url::Host::Domain(name)) if is_local_name(name) => Some(format!(
            "{name} is a name only a local network resolves; a cluster on Hetzner cannot reach it"
        )),
        Some(url::Host::Domain(name)) => {
            let lookup = tokio::time::timeout(
                Duration::from_secs(3),
                tokio::net::lookup_host((name.to_string(), port)),
            )
            .await;
            match lookup {
                Ok(Ok(addrs)) => {
                    let addrs: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                    if !addrs.is_empty() && addrs.iter().all(|ip| is_local(*ip)) {
                        Some(format!(
                            "{name} resolves only to local addresses ({}), which a cluster on Hetzner cannot reach",
                            addrs
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    } else {
                        None
                    }
                }
                // The console's own resolver may not know its public name (split DNS): not a reason to refuse.
                _ => None,
            }
        }
        Some(_) => None,
    }
}

async fn public_url(config: &PreflightConfig) -> Check {
    let raw = config.public_url.trim_end_matches('/');
    let (status, message) = match url_problem(raw).await {
        None => (
            CheckStatus::Pass,
            format!("New clusters reach the console at {raw}."),
        ),
        Some(p) if config.options.allow_local_console => (
            CheckStatus::Pass,
            format!("{p}; allowed by --allow-local-console (development only)."),
        ),
        Some(p) => (
            CheckStatus::Fail,
            format!(
                "{p}. Start the console with --public-url set to its public https address (https://console.example.com)."
            ),
        ),
    };
    Check::new(
        CheckKind::PublicUrl,
        "public-url",
        status,
        "Console address",
        message,
    )
    .option("--public-url")
}

fn egress(config: &PreflightConfig) -> Check {
    let cidrs = &config.gitops.console_egress_cidrs;
    let open = cidrs.iter().any(|c| c == "0.0.0.0/0" || c == "::/0");
    let (status, message) = if cidrs.is_empty() {
        (
            CheckStatus::Fail,
            "--console-egress-cidrs is not set: each region's Kubernetes API answers only those networks, so the console could not watch the Sovereign come up. Set it to the console's public egress addresses.".to_string(),
        )
    } else if open {
        (
            CheckStatus::Warn,
            format!(
                "--console-egress-cidrs ({}) opens each region's Kubernetes API to the whole internet; narrow it to the console's egress addresses.",
                cidrs.join(", ")
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("Each region's Kubernetes API will answer {}.", cidrs.join(", ")),
        )
    };
    Check::new(
        CheckKind::ConsoleEgress,
        "console-egress",
        status,
        "Console egress",
        message,
    )
    .option("--console-egress-cidrs")
}

async fn gitops(config: &PreflightConfig) -> Check {
    if let Some(forge) = &config.gitops.forge {
        return forge_check(forge).await;
    }
    let (status, message) = match &config.gitops.remote {
        None => (
            CheckStatus::Fail,
            "No GitOps repository is configured: every Sovereign's Flux pulls its tree from it. Start the console with --gitops-repo-url (and CATALYST_GITOPS_TOKEN).".to_string(),
        ),
        Some(remote) => {
            let r = remote.clone();
            let probe = tokio::task::spawn_blocking(move || crate::gitops::probe_push(&r));
            match tokio::time::timeout(Duration::from_secs(20), probe).await {
                Ok(Ok(Ok(()))) => (
                    CheckStatus::Pass,
                    format!("{} takes pushes to {}.", remote.url, remote.branch),
                ),
                Ok(Ok(Err(e))) => {
                    // The git library's words (and the remote's) go to the server log only.
                    tracing::warn!(url = %remote.url, error = %e, "pre-flight: the GitOps repository refused a push");
                    (
                        CheckStatus::Fail,
                        format!(
                            "The GitOps repository {} does not take pushes to {}; check --gitops-repo-url and its token (the server log has the details).",
                            remote.url, remote.branch
                        ),
                    )
                }
                Ok(Err(_)) | Err(_) => (
                    CheckStatus::Fail,
                    format!(
                        "The GitOps repository {} did not answer within 20 s; check the URL and the network.",
                        remote.url
                    ),
                ),
            }
        }
    };
    Check::new(CheckKind::Gitops, "gitops", status, "GitOps repository", message).option("--gitops-repo-url")
}

/// With a forge: it answers, takes the token and has the organisation (each Sovereign gets its repository
/// there during the run).
async fn forge_check(forge: &crate::gitops::config::ForgeSettings) -> Check {
    let checked = match forge.client() {
        Ok(client) => match tokio::time::timeout(Duration::from_secs(20), client.check()).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!("the forge at {} did not answer within 20 s", forge.url)),
        },
        Err(e) => Err(e.to_string()),
    };
    let (status, message) = match checked {
        Ok(()) => (
            CheckStatus::Pass,
            format!(
                "The forge {} takes the token: the Sovereign gets a repository of its own in “{}” with a read-only deploy key.",
                forge.url, forge.org
            ),
        ),
        // ForgeError sentences are bounded and never carry the token.
        Err(why) => (
            CheckStatus::Fail,
            format!("The forge cannot make the Sovereign's repository: {why}."),
        ),
    };
    Check::new(CheckKind::Gitops, "gitops", status, "GitOps repository", message).option("--gitops-forge-url")
}

async fn tofu(config: &PreflightConfig) -> Check {
    let tofu = Tofu {
        bin: config.tofu_bin.clone(),
        env: Vec::new(),
    };
    let shown = config.tofu_bin.display().to_string();
    let step = Step {
        args: vec!["version".into(), "-json".into()],
        workdir: std::env::temp_dir(),
        timeout: Duration::from_secs(20),
        cancel: CancellationToken::new(),
        capture_stdout: true,
    };
    let (status, message) = match tofu.run(&step, |_, _| {}).await {
        Ok(out) => match parse_version(&out) {
            Some((major, minor)) if (major, minor) >= (1, 6) => {
                (CheckStatus::Pass, format!("OpenTofu {major}.{minor} ({shown})."))
            }
            Some((major, minor)) => (
                CheckStatus::Fail,
                format!(
                    "{shown} is OpenTofu {major}.{minor}; Catalyst needs 1.6 or newer (https://opentofu.org/docs/intro/install/)."
                ),
            ),
            None => (
                CheckStatus::Warn,
                format!("{shown} runs, but its version could not be read from `version -json`."),
            ),
        },
        Err(crate::tofu::runner::TofuError::Missing { bin }) => (
            CheckStatus::Fail,
            format!(
                "OpenTofu ({bin}) is not installed here; install OpenTofu 1.6 or newer (https://opentofu.org/docs/intro/install/) or point --tofu-bin at it."
            ),
        ),
        Err(e) => {
            tracing::warn!(bin = %shown, error = %e, "pre-flight: OpenTofu did not run");
            (
                CheckStatus::Fail,
                format!("{shown} did not run; check --tofu-bin (the server log has the details)."),
            )
        }
    };
    Check::new(CheckKind::Tofu, "tofu", status, "OpenTofu", message).option("--tofu-bin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_addresses_are_recognised() {
        for local in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_local(local.parse().expect("ip")), "{local}");
        }
        for public in ["203.0.114.1", "95.216.1.1", "2a01:4f8::1", "100.128.0.1"] {
            assert!(!is_local(public.parse().expect("ip")), "{public}");
        }
        assert!(is_local_name("localhost"));
        assert!(is_local_name("console.internal"));
        assert!(is_local_name("myhost"));
        assert!(!is_local_name("console.example.com"));
    }

    #[tokio::test]
    async fn the_console_address_must_be_public_https() {
        assert!(
            url_problem("http://console.example.com/sovereign")
                .await
                .is_some_and(|p| p.contains("not https"))
        );
        assert!(
            url_problem("https://127.0.0.1:3000/sovereign")
                .await
                .is_some_and(|p| p.contains("loopback"))
        );
        assert!(url_problem("https://[::1]/sovereign").await.is_some());
        assert!(url_problem("https://localhost/sovereign").await.is_some());
        assert!(url_problem("https://95.216.1.1/sovereign").await.is_none());
    }
}
