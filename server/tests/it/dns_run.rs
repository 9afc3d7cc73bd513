//! The run's DNS step on both databases against the real PowerDNS, with the `tofu` stand-in, a real bare Git
//! repository and the Hetzner API stand-in: a pool name is reserved when provisioning starts, committed and
//! published after `tofu output` (the canonical record set answered over DNS), released by the wipe with the
//! zone in the teardown report; a name someone else holds fails the run before anything is created; a
//! record set PowerDNS did not take is written again by the run until it is.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use app::deployments::{
    Actor, CreateDeployment, DeploymentStatus, DomainMode, DomainSpec, Phase, PhaseState, WipeRequest,
};
use app::error::AppError;
use server::crypto::SecretBox;
use server::db::Db;
use server::db::dns as zones;
use server::deployments::Engine;
use server::dns::{DnsResolver, PoolManager};

use crate::common;
use crate::common::engine::{GitRepo, HetznerStandin, eventually, request};
use crate::common::pdns::{pdns, unique_zone, world};

const NS: &str = "ns1.catalyst.test";

struct Run {
    engine: Engine,
    actor: Actor,
    pools: Arc<PoolManager>,
    pool: String,
    dir: std::path::PathBuf,
    git: GitRepo,
    _hetzner: HetznerStandin,
}

/// An engine whose runs write DNS through a pool manager on `pdns_url` (the test PowerDNS, or a proxy in
/// front of it) for a pool of its own.
fn run_on(db: Db, pdns_url: &str) -> Run {
    let git = GitRepo::new();
    let hetzner = HetznerStandin::start(serde_json::json!({}));
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let pool = unique_zone("pool");
    let pools = Arc::new(PoolManager {
        db: db.clone(),
        pdns: server::pdns::PdnsClient::new(
            pdns_url,
            app::deployments::Secret::new(pdns().api_key.clone()),
            "localhost",
        )
        .expect("client"),
        pools: vec![pool.clone()],
        nameservers: vec![NS.to_string()],
        // "The world's DNS" a recursive resolver would answer from: the second test PowerDNS.
        resolver: Some(DnsResolver::new(Some(world().dns)).expect("resolver")),
    });
    let log = dir.join("tofu.log").display().to_string();
    let mut cfg = crate::engine::config(&dir, Some(&git), &[("TOFU_STANDIN_LOG", &log)]);
    cfg.hetzner_api_url = hetzner.url.clone();
    cfg.validation.pool_domains = vec![pool.clone()];
    cfg.dns = Some(pools.clone());
    cfg.dns_retry = Duration::from_millis(200);
    cfg.delegation_poll = Duration::from_millis(200);
    let checks = checks(&db, &pool, &pools, &hetzner.url);
    Run {
        engine: Engine::new(db, SecretBox::generate(), cfg, "replica-a".into(), checks),
        actor: common::engine::owner(),
        pools,
        pool,
        dir,
        git,
        _hetzner: hetzner,
    }
}

/// The create path's live checks for this pool: its names through the pool manager, the token through the
/// Hetzner stand-in.
fn checks(db: &Db, pool: &str, pools: &Arc<PoolManager>, hetzner: &str) -> server::deployments::CreateChecks {
    server::deployments::CreateChecks {
        subdomains: Arc::new(server::wizard::PoolSubdomains {
            settings: Arc::new(server::wizard::WizardSettings {
                pool_domains: vec![pool.to_string()],
                nameservers: vec![NS.to_string()],
            }),
            pools: Some(pools.clone()),
            taken: Some(Arc::new(server::wizard::LiveDeployments { db: db.clone() })),
        }),
        tokens: Arc::new(server::wizard::HetznerTokens::new(hetzner)),
    }
}

/// A subdomain check that answered "available" before another deployment took the name: the race the run's
/// own reservation settles.
struct CheckedBeforeTheRace;

#[async_trait::async_trait]
impl app::ports::SubdomainCheckPort for CheckedBeforeTheRace {
    async fn check(
        &self,
        pool_domain: &str,
        subdomain: &str,
    ) -> Result<app::wizard::SubdomainCheck, app::error::AppError> {
        Ok(app::wizard::SubdomainCheck {
            status: app::wizard::Availability::Available,
            fqdn: format!("{subdomain}.{pool_domain}"),
            detail: String::new(),
        })
    }
}

fn pool_request(pool: &str, sub: &str) -> CreateDeployment {
    let mut c = request("unused.example.com");
    c.request.domain = DomainSpec {
        mode: DomainMode::Pool,
        pool_domain: pool.into(),
        subdomain: sub.into(),
        byo_domain: String::new(),
        registrar: None,
    };
    c
}

impl Run {
    async fn wait_for(&self, id: &str, want: DeploymentStatus) -> app::deployments::Deployment {
        eventually(90, &format!("{id} to become {want}"), || async {
            let d = self.engine.get(&self.actor, id).await.expect("get");
            (d.status == want).then_some(d)
        })
        .await
    }

    async fn messages(&self, id: &str) -> Vec<String> {
        self.engine
            .events(&self.actor, id, 0, Some(1000))
            .await
            .expect("events")
            .events
            .into_iter()
            .map(|e| e.message)
            .collect()
    }
}

/// `dig` at the test PowerDNS: the answer section as `(name, ttl, type, value)`.
fn dig(name: &str, rtype: &str) -> Vec<(String, u32, String, String)> {
    let server = pdns().dns;
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args([
            "-p",
            &server.port().to_string(),
            "+norecurse",
            "+noall",
            "+answer",
        ])
        .args([name, rtype])
        .output()
        .expect("dig runs (install Debian's bind9-dnsutils)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 5 && f[3] == rtype).then(|| {
                (
                    f[0].to_string(),
                    f[1].parse().unwrap_or_default(),
                    f[3].to_string(),
                    f[4..].join(" "),
                )
            })
        })
        .collect()
}

/// The canonical record set of `zone`, as a resolver sees it: (apex, a name under the wildcard, console).
fn record_set(zone: &str) -> Vec<Vec<(String, u32, String, String)>> {
    [
        zone.to_string(),
        format!("gitea.{zone}"),
        format!("console.{zone}"),
    ]
    .iter()
    .map(|n| dig(n, "A"))
    .collect()
}

async fn a_pool_run_publishes_the_record_set_and_the_wipe_releases_it(db: Db) {
    let r = run_on(db.clone(), &pdns().url);
    let zone = format!("acme.{}", r.pool);
    let id = r
        .engine
        .create(&r.actor, pool_request(&r.pool, "acme"))
        .await
        .expect("created")
        .id;
    let d = r.wait_for(&id, DeploymentStatus::WaitingForCluster).await;
    let ip = d.result.clone().expect("outputs").load_balancer_ip;
    assert!(ip.starts_with("198.51.100."), "{ip}");
    assert_eq!(d.phase(Phase::Dns).expect("dns").state, PhaseState::Succeeded);

    // The canonical record set (README → DNS): @, * and console, A, TTL 300, the load balancer's address.
    for (name, answer) in [zone.clone(), format!("gitea.{zone}"), format!("console.{zone}")]
        .iter()
        .zip(record_set(&zone))
    {
        assert_eq!(
            answer,
            [(format!("{name}."), 300, "A".to_string(), ip.clone())],
            "{name}"
        );
    }
    // Delegated from the pool with NS (and signed: DS).
    assert_eq!(dig(&zone, "NS").len(), 1, "{:?}", dig(&zone, "NS"));
    assert!(!dig(&zone, "DS").is_empty(), "the pool zone holds the DS record");
    let row = zones::get(&db, &zone).await.expect("get").expect("row");
    assert!(row.is_active() && row.published, "{row:?}");
    assert_eq!(row.deployment_id, id);
    assert_eq!(row.load_balancer_ip.as_deref(), Some(ip.as_str()));
    let messages = r.messages(&id).await;
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("Reserved {zone} for this deployment"))),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("Published {zone}, *.{zone}, console.{zone} → {ip}"))),
        "{messages:?}"
    );

    // The Sovereign's update key: through OpenTofu's environment only (cloud-init applies it as the Secrets
    // cert-manager/ and external-dns/sovereign-dns-tsig), named in the variables file with the server.
    let key_name = server::dns::tsig_key_name(&zone);
    let key = r
        .pools
        .pdns
        .tsig_key(&key_name)
        .await
        .expect("pdns")
        .expect("the zone's key");
    let workdir = r.engine.config().work_root.join(&id);
    let vars: serde_json::Value =
        serde_json::from_slice(&std::fs::read(workdir.join("tofu.auto.tfvars.json")).expect("tfvars"))
            .expect("json");
    assert_eq!(vars["dns_server"], NS);
    assert_eq!(vars["dns_tsig_key_name"], key_name.as_str());
    assert!(
        vars.get("dns_tsig_secret").is_none(),
        "the secret is not in the file"
    );
    let log = std::fs::read_to_string(r.dir.join("tofu.log")).expect("tofu log");
    let applied = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["argv"][0] == "apply")
        .expect("an apply");
    assert_eq!(
        applied["tf_var_sha256"]["dns_tsig_secret"],
        server::crypto::sha256_hex(key.key.as_bytes()).as_str(),
        "OpenTofu got the zone's key from its environment"
    );
    assert!(
        !r.messages(&id).await.iter().any(|m| m.contains(&key.key)),
        "the key is in no event"
    );
    // DNS-01 with it: the ClusterIssuer's solver is RFC 2136 (not HTTP-01).
    let tree = r.git.files_under(&format!("clusters/{zone}"));
    assert!(
        tree.values()
            .any(|c| c.contains("rfc2136:") && c.contains("${SOVEREIGN_DNS_TSIG_KEYNAME}")),
        "{:?}",
        tree.keys()
    );
    assert!(!tree.values().any(|c| c.contains("http01:")), "no HTTP-01 solver");
    // What the Sovereign can do with that key: change its own zone (an ACME challenge), nothing else.
    let challenge = |name: &str| format!("zone {name}\nupdate add _acme-challenge.{name}. 60 TXT \"token\"");
    let (ok, out) = common::pdns::nsupdate(pdns().dns, Some((&key_name, &key.key)), &challenge(&zone));
    assert!(ok, "{out}");
    assert_eq!(dig(&format!("_acme-challenge.{zone}"), "TXT").len(), 1);
    let (ok, out) = common::pdns::nsupdate(pdns().dns, Some((&key_name, &key.key)), &challenge(&r.pool));
    assert!(
        !ok && out.contains("REFUSED"),
        "the pool zone refuses the Sovereign's key: {out}"
    );
    assert!(dig(&format!("_acme-challenge.{}", r.pool), "TXT").is_empty());

    // The wipe: cloud first, then the name — records, zone, delegation and key gone, listed as removed.
    r.engine.cancel(&r.actor, &id).await.expect("cancel");
    r.engine
        .wipe(
            &r.actor,
            &id,
            WipeRequest {
                confirm: zone.clone(),
                hetzner_token: None,
            },
        )
        .await
        .expect("wipe accepted");
    let d = r.wait_for(&id, DeploymentStatus::Wiped).await;
    let report = d.teardown.expect("teardown report");
    assert!(report.remaining.is_empty(), "{report:?}");
    assert!(
        report
            .removed
            .iter()
            .any(|c| c.kind == "dns_zone" && c.name == zone),
        "{report:?}"
    );
    assert!(record_set(&zone).iter().all(Vec::is_empty), "no records left");
    assert!(dig(&zone, "NS").is_empty(), "no delegation left");
    assert!(!r.pools.pdns.zone_exists(&zone).await.expect("pdns"));
    assert!(
        r.pools
            .pdns
            .tsig_key(&server::dns::tsig_key_name(&zone))
            .await
            .expect("pdns")
            .is_none(),
        "the update key is gone"
    );
    assert!(
        zones::get(&db, &zone).await.expect("get").is_none(),
        "the name is free"
    );
}

async fn a_name_held_elsewhere_fails_the_run_before_anything_is_created(db: Db) {
    let r = run_on(db.clone(), &pdns().url);
    let zone = format!("taken.{}", r.pool);
    // Another deployment's live Sovereign has it.
    let other = r
        .engine
        .create(&r.actor, pool_request(&r.pool, "taken"))
        .await
        .expect("created")
        .id;
    r.wait_for(&other, DeploymentStatus::WaitingForCluster).await;
    r.engine.cancel(&r.actor, &other).await.expect("cancel");
    r.engine.delete(&r.actor, &other).await.expect("record deleted");
    // A deleted, not wiped record holds its domain (domain_holds::): a create of it is refused at once. For a
    // pool name the create path's pool manager check answers first (its zone is still active), beside the
    // field and naming no deployment; domain_holds:: covers the hold's own refusal.
    let held = r
        .engine
        .create(&r.actor, pool_request(&r.pool, "taken"))
        .await
        .expect_err("held");
    assert!(
        matches!(&held, AppError::Invalid(f) if f.len() == 1 && f[0].field == "domain.subdomain" && f[0].message.contains("already taken")),
        "{held:?}"
    );
    assert!(!held.to_string().contains(&other), "{held}");
    // The run's own check is the second line: a record removed for good while its name stayed (as records
    // deleted before holds existed were) must not let a new run take the name.
    assert!(
        server::db::deployments::release_held(&db, &other)
            .await
            .expect("remove the record")
    );
    // The record is gone, the Sovereign (and its name) are not.
    assert!(
        zones::get(&db, &zone)
            .await
            .expect("get")
            .expect("row")
            .is_active()
    );

    // The create path asks the pool manager first: the name is refused before anything is stored.
    match r.engine.create(&r.actor, pool_request(&r.pool, "taken")).await {
        Err(app::error::AppError::Invalid(f)) => {
            assert_eq!(f.len(), 1, "{f:?}");
            assert_eq!(f[0].field, "domain.subdomain");
            assert!(f[0].message.contains("already taken"), "{f:?}");
        }
        other => panic!("the create path must refuse a held name: {other:?}"),
    }
    // Taken between the create path's check and the run (a race): the run's reservation refuses it.
    let raced = Engine::new(
        db.clone(),
        SecretBox::generate(),
        r.engine.config().clone(),
        "replica-b".into(),
        server::deployments::CreateChecks {
            subdomains: Arc::new(CheckedBeforeTheRace),
            tokens: r.engine.checks().tokens.clone(),
        },
    );
    let id = raced
        .create(&r.actor, pool_request(&r.pool, "taken"))
        .await
        .expect("created")
        .id;
    let d = r.wait_for(&id, DeploymentStatus::Failed).await;
    let error = d.error.clone().expect("error");
    assert_eq!(error.phase, Phase::Dns);
    assert!(
        error.message.contains(&zone) && error.message.contains("already taken"),
        "{error:?}"
    );
    assert!(
        error.hint.contains("Another deployment holds this name"),
        "{error:?}"
    );
    assert_eq!(
        d.phase(Phase::TofuInit).expect("init").state,
        PhaseState::Pending,
        "OpenTofu never ran"
    );
    assert!(
        !r.engine
            .config()
            .work_root
            .join(&id)
            .join("terraform.tfstate")
            .exists(),
        "nothing was created"
    );
    assert_eq!(
        zones::get(&db, &zone)
            .await
            .expect("get")
            .expect("row")
            .deployment_id,
        other,
        "the holder keeps it"
    );
    r.pools.release(&zone).await.expect("cleanup");
}

/// A PowerDNS API proxy that answers 503 to record-set writes of one zone while `blocked`.
struct Proxy {
    url: String,
    blocked: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(zone: &str) -> Proxy {
    use axum::extract::Request;
    use axum::response::{IntoResponse, Response};
    let blocked = Arc::new(AtomicBool::new(true));
    let target = pdns().url.trim_end_matches('/').to_string();
    let suffix = format!("/zones/{zone}.");
    let http = reqwest::Client::new();
    let flag = blocked.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (http, target, suffix, flag) = (http.clone(), target.clone(), suffix.clone(), flag.clone());
        async move {
            let (parts, body) = req.into_parts();
            let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            if parts.method == axum::http::Method::PATCH
                && parts.uri.path().ends_with(&suffix)
                && flag.load(Ordering::Acquire)
            {
                return (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "{\"error\": \"unavailable (test proxy)\"}",
                )
                    .into_response();
            }
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
            let mut fwd = http.request(parts.method.clone(), format!("{target}{path}"));
            for (k, v) in &parts.headers {
                if k != axum::http::header::HOST {
                    fwd = fwd.header(k, v);
                }
            }
            match fwd.body(body).send().await {
                Ok(res) => {
                    let status = res.status();
                    let bytes = res.bytes().await.unwrap_or_default();
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(bytes))
                        .unwrap_or_default()
                }
                Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Proxy { url, blocked, task }
}

async fn a_record_set_powerdns_did_not_take_is_written_again_by_the_run(db: Db) {
    // The pool name is known before the engine exists: the proxy blocks writes to that zone only.
    let probe = run_on(db.clone(), &pdns().url);
    let zone = format!("late.{}", probe.pool);
    let p = proxy(&zone).await;
    let r = Run {
        engine: {
            let mut cfg = probe.engine.config().clone();
            let pools = Arc::new(PoolManager {
                pdns: server::pdns::PdnsClient::new(
                    &p.url,
                    app::deployments::Secret::new(pdns().api_key.clone()),
                    "localhost",
                )
                .expect("client"),
                ..(*probe.pools).clone()
            });
            cfg.dns = Some(pools);
            let checks = probe.engine.checks().clone();
            Engine::new(db.clone(), SecretBox::generate(), cfg, "replica-a".into(), checks)
        },
        ..probe
    };
    let id = r
        .engine
        .create(&r.actor, pool_request(&r.pool, "late"))
        .await
        .expect("created")
        .id;
    // Committed, PowerDNS refusing the records: the run keeps at it, visibly, and does not move on.
    eventually(90, "the run writing the records again", || async {
        let m = r.messages(&id).await;
        (m.iter().any(|m| m.contains("did not take the records yet"))
            && m.iter().any(|m| m.starts_with("Cannot write the records yet")))
        .then_some(())
    })
    .await;
    let d = r.engine.get(&r.actor, &id).await.expect("get");
    assert_eq!(d.status, DeploymentStatus::Provisioning);
    assert_eq!(d.phase(Phase::Dns).expect("dns").state, PhaseState::Running);
    let row = zones::get(&db, &zone).await.expect("get").expect("row");
    assert!(row.is_active() && !row.published, "{row:?}");
    assert!(
        record_set(&zone).iter().all(Vec::is_empty),
        "nothing published yet"
    );

    p.blocked.store(false, Ordering::Release);
    let d = r.wait_for(&id, DeploymentStatus::WaitingForCluster).await;
    let ip = d.result.expect("outputs").load_balancer_ip;
    assert_eq!(dig(&format!("console.{zone}"), "A")[0].3, ip);
    assert!(zones::get(&db, &zone).await.expect("get").expect("row").published);
    r.pools.release(&zone).await.expect("cleanup");
}

/// Bring-your-own, manual: the zone is Catalyst's at once, and the run holds — visibly, saying what the
/// world's DNS shows and what it should — until the domain's NS records at the registrar name Catalyst's
/// nameservers, then continues by itself.
async fn a_byo_run_holds_until_the_domain_is_delegated(db: Db) {
    let r = run_on(db.clone(), &pdns().url);
    // The registrar's view, as a recursive resolver answers it: the domain still on the registrar's parking
    // nameservers.
    let domain = unique_zone("byo");
    let w = world().client();
    w.create_zone(&domain, &["ns1.parking.test".to_string()], false)
        .await
        .expect("world zone");
    let id = r
        .engine
        .create(&r.actor, request(&domain))
        .await
        .expect("created")
        .id;
    let waiting = format!(
        "Waiting for the domain's delegation: found ns1.parking.test, expected {NS} — set these nameservers at {domain}'s registrar (registrars typically take 1–4 hours, up to 48 hours)."
    );
    eventually(90, "the run holding for the delegation", || async {
        r.messages(&id).await.contains(&waiting).then_some(())
    })
    .await;
    let d = r.engine.get(&r.actor, &id).await.expect("get");
    assert_eq!(d.status, DeploymentStatus::Provisioning);
    assert_eq!(d.phase(Phase::Dns).expect("dns").state, PhaseState::Running);
    // Catalyst serves the domain's records already (they answer as soon as the delegation is there).
    let ip = dig(&format!("console.{domain}"), "A");
    assert_eq!(ip.len(), 1, "{ip:?}");
    // Still holding a while later: the same answer is not repeated as a new event.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(r.messages(&id).await.iter().filter(|m| **m == waiting).count(), 1);
    assert_eq!(
        r.engine.get(&r.actor, &id).await.expect("get").status,
        DeploymentStatus::Provisioning
    );

    // The customer sets Catalyst's nameservers at the registrar.
    w.replace_rrsets(
        &domain,
        &[server::pdns::RecordSet::new(
            &domain,
            "NS",
            3600,
            vec![format!("{NS}.")],
        )],
    )
    .await
    .expect("flip");
    let d = r.wait_for(&id, DeploymentStatus::WaitingForCluster).await;
    assert_eq!(d.phase(Phase::Dns).expect("dns").state, PhaseState::Succeeded);
    let messages = r.messages(&id).await;
    assert!(
        messages.contains(&format!(
            "{domain} is delegated to Catalyst's nameservers ({NS})."
        )),
        "{messages:?}"
    );
    let _ = w.delete_zone(&domain).await;
    r.pools.release(&domain).await.expect("cleanup");
}

/// A record deleted without a wipe holds its pool name (and the zone keeps answering with the load
/// balancer's address); a superadmin's release frees it whole — records, zone, delegation and update key —
/// so the next holder starts from nothing. (Before, the release removed only the record: the zone and its
/// row stayed, and the name could never be reserved again: seen.)
async fn releasing_a_held_domain_releases_its_dns_zone(db: Db) {
    let r = run_on(db.clone(), &pdns().url);
    let zone = format!("held.{}", r.pool);
    let id = r
        .engine
        .create(&r.actor, pool_request(&r.pool, "held"))
        .await
        .expect("created")
        .id;
    r.wait_for(&id, DeploymentStatus::WaitingForCluster).await;
    assert!(r.pools.pdns.zone_exists(&zone).await.expect("pdns"));
    r.engine.cancel(&r.actor, &id).await.expect("cancel");
    eventually(60, "the run to settle", || async {
        let s = r.engine.get(&r.actor, &id).await.expect("get").status;
        s.settled().then_some(())
    })
    .await;
    r.engine.delete(&r.actor, &id).await.expect("deleted");
    assert!(r.pools.pdns.zone_exists(&zone).await.expect("pdns"), "held");

    let mut superadmin = common::engine::member("org-ops", app::auth::OrgRole::Owner);
    superadmin.principal.platform_role = Some(app::auth::PlatformRole::Superadmin);
    r.engine.release_domain(&superadmin, &id).await.expect("released");
    assert!(
        !r.pools.pdns.zone_exists(&zone).await.expect("pdns"),
        "the zone is gone"
    );
    assert!(record_set(&zone).iter().all(Vec::is_empty), "no records left");
    assert!(dig(&zone, "NS").is_empty(), "no delegation left");
    assert!(
        r.pools
            .pdns
            .tsig_key(&server::dns::tsig_key_name(&zone))
            .await
            .expect("pdns")
            .is_none(),
        "the update key is gone"
    );
    assert!(
        zones::get(&db, &zone).await.expect("get").is_none(),
        "the name is free"
    );
    // The name can be reserved again.
    r.engine
        .create(&r.actor, pool_request(&r.pool, "held"))
        .await
        .expect("created after the release");
}

crate::on_both_backends!(
    releasing_a_held_domain_releases_its_dns_zone,
    a_byo_run_holds_until_the_domain_is_delegated,
    a_pool_run_publishes_the_record_set_and_the_wipe_releases_it,
    a_name_held_elsewhere_fails_the_run_before_anything_is_created,
    a_record_set_powerdns_did_not_take_is_written_again_by_the_run,
);
