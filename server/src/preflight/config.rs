//! The pre-flight's options: the account's Hetzner limits (which Hetzner's API does not report) and the
//! development switch that lets a console on a loopback or private address launch.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::config::value::ConfigError;
use crate::gitops::config::GitopsSettings;

#[derive(Debug, Clone, Args)]
pub struct PreflightArgs {
    /// The Hetzner account's limits as its console shows them (Hetzner console → Limits), e.g.
    /// `servers=25,load_balancers=5,primary_ips=50`. Keys: servers, load_balancers, primary_ips, networks,
    /// firewalls, placement_groups, volumes. Hetzner's API does not report limits: without this the
    /// pre-flight can only count what the project holds and warn.
    #[arg(long, env = "CATALYST_HETZNER_LIMITS", value_name = "KIND=N,…", global = true)]
    pub hetzner_limits: Option<String>,

    /// Development and tests only: let a console whose --public-url is http, loopback or private launch
    /// (its clusters must reach it some other way, e.g. stand-ins on the same machine).
    #[arg(
        long,
        env = "CATALYST_ALLOW_LOCAL_CONSOLE",
        default_value_t = false,
        global = true
    )]
    pub allow_local_console: bool,
}

/// Validated [`PreflightArgs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightOptions {
    pub limits: HetznerLimits,
    pub allow_local_console: bool,
    /// Whether `Engine::create` runs the pre-flight before it stores a request (always, from the command line;
    /// test suites about something else — the runs, the event log, access — turn it off in code, since their
    /// deliberately incomplete consoles would fail it; `it::preflight` and `it::wizard` keep it on).
    pub on_create: bool,
}

impl Default for PreflightOptions {
    fn default() -> Self {
        PreflightOptions {
            limits: HetznerLimits::default(),
            allow_local_console: false,
            on_create: true,
        }
    }
}

impl PreflightArgs {
    pub fn validate(&self) -> Result<PreflightOptions, ConfigError> {
        let limits = match &self.hetzner_limits {
            Some(raw) if !raw.trim().is_empty() => {
                HetznerLimits::parse(raw).map_err(|p| ConfigError::new("--hetzner-limits", p))?
            }
            _ => HetznerLimits::default(),
        };
        Ok(PreflightOptions {
            limits,
            allow_local_console: self.allow_local_console,
            on_create: true,
        })
    }
}

/// An account's limits per kind of resource; `None`: not given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HetznerLimits {
    pub servers: Option<u32>,
    pub load_balancers: Option<u32>,
    pub primary_ips: Option<u32>,
    pub networks: Option<u32>,
    pub firewalls: Option<u32>,
    pub placement_groups: Option<u32>,
    pub volumes: Option<u32>,
}

/// The kinds `--hetzner-limits` takes, as Hetzner's API names the collections.
pub const LIMIT_KINDS: [&str; 7] = [
    "servers",
    "load_balancers",
    "primary_ips",
    "networks",
    "firewalls",
    "placement_groups",
    "volumes",
];

impl HetznerLimits {
    pub fn parse(raw: &str) -> Result<HetznerLimits, String> {
        let mut l = HetznerLimits::default();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("“{part}” is not KIND=N (e.g. servers=25)"))?;
            let n: u32 = v
                .trim()
                .parse()
                .map_err(|_| format!("“{}” in “{part}” is not a whole number", v.trim()))?;
            let slot = match k.trim() {
                "servers" => &mut l.servers,
                "load_balancers" => &mut l.load_balancers,
                "primary_ips" => &mut l.primary_ips,
                "networks" => &mut l.networks,
                "firewalls" => &mut l.firewalls,
                "placement_groups" => &mut l.placement_groups,
                "volumes" => &mut l.volumes,
                other => {
                    return Err(format!(
                        "“{other}” is not a kind of limit; use {}",
                        LIMIT_KINDS.join(", ")
                    ));
                }
            };
            *slot = Some(n);
        }
        Ok(l)
    }

    /// The limit of a collection (`servers`), if given.
    pub fn of(&self, kind: &str) -> Option<u32> {
        match kind {
            "servers" => self.servers,
            "load_balancers" => self.load_balancers,
            "primary_ips" => self.primary_ips,
            "networks" => self.networks,
            "firewalls" => self.firewalls,
            "placement_groups" => self.placement_groups,
            "volumes" => self.volumes,
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        LIMIT_KINDS.iter().all(|k| self.of(k).is_none())
    }
}

/// What the pre-flight needs from the configuration (the engine's settings plus `PreflightOptions`).
#[derive(Debug, Clone)]
pub struct PreflightConfig {
    /// `--hetzner-api-url`.
    pub hetzner_api_url: String,
    /// The console's public base URL (`https://console.example.com/sovereign`).
    pub public_url: String,
    /// `--gitops-*`, `--console-egress-cidrs`.
    pub gitops: GitopsSettings,
    /// `--tofu-bin`.
    pub tofu_bin: PathBuf,
    pub options: PreflightOptions,
    /// Limit of each Hetzner request (a pre-flight makes about ten, most in parallel).
    pub request_timeout: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_refuse_with_a_reason() {
        let l = HetznerLimits::parse("servers=25, load_balancers = 5,volumes=0").expect("valid");
        assert_eq!(l.servers, Some(25));
        assert_eq!(l.load_balancers, Some(5));
        assert_eq!(l.volumes, Some(0));
        assert_eq!(l.networks, None);
        assert!(!l.is_empty());
        assert!(HetznerLimits::parse("").expect("empty").is_empty());
        let e = HetznerLimits::parse("servers=ten").expect_err("bad number");
        assert!(e.contains("not a whole number"), "{e}");
        let e = HetznerLimits::parse("cpus=4").expect_err("bad kind");
        assert!(e.contains("servers, load_balancers"), "{e}");
        assert!(HetznerLimits::parse("servers").is_err());
    }
}
