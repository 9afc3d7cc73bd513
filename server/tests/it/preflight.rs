//! Pre-flight (issue 21) through the REST API, against the Hetzner API stand-in (`tests/standins/hetzner.py`,
//! which speaks `/server_types`, `/pricing` and the project's collections in the API's shapes): a clean
//! request passes and costs what the stand-in's price list says (computed by hand below); each kind of
//! failure is reported on the wizard field (or console option) that fixes it; the capacity of the catalog's
//! default selection on one small control plane fails and the proposal passes; the number of Hetzner requests
//! stays small, also when a read is retried. On SQLite and Postgres (the price cache is a table).

use crate::common;

use app::auth::OrgRole;
use app::deployments::CreateDeployment;
use app::preflight::{CheckStatus, Money, PreflightReport, PriceSource};
use axum::body::Body;
use common::engine::{GitRepo, HetznerStandin, READONLY_TOKEN, request, standin_tofu};
use http::{Method, Request, StatusCode};
use server::db::{Db, DbUrl};
use server::preflight::HetznerLimits;

struct Env {
    router: axum::Router,
    cookie: String,
    hetzner: HetznerStandin,
    _git: GitRepo,
}

/// Settings a console needs for a launch to pass: a public https address, egress networks, a writable
/// GitOps repository, OpenTofu (the stand-in), the account's limits; `tweak` changes them.
async fn env(
    db: Db,
    standin_args: &[&str],
    seed: serde_json::Value,
    tweak: impl FnOnce(&mut server::config::Settings),
) -> Env {
    env_with_tofu(db, standin_args, seed, tweak, &[]).await
}

/// [`env`] whose OpenTofu stand-in gets `tofu_env` (its behaviour switches).
async fn env_with_tofu(
    db: Db,
    standin_args: &[&str],
    seed: serde_json::Value,
    tweak: impl FnOnce(&mut server::config::Settings),
    tofu_env: &[(&str, &str)],
) -> Env {
    let hetzner = HetznerStandin::start_with(seed, standin_args);
    let git = GitRepo::new();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut settings = common::settings_for(DbUrl::SqliteMemory, dir);
    settings.hetzner_api_url = hetzner.url.clone();
    settings.engine.tofu_bin = standin_tofu();
    settings.engine.public_url = "https://console.example.com/sovereign".into();
    settings.gitops = git.settings();
    settings.gitops.console_egress_cidrs = vec!["198.51.100.0/24".into()];
    settings.preflight.limits = HetznerLimits::parse(
        "servers=25,load_balancers=5,primary_ips=50,networks=10,firewalls=10,placement_groups=10,volumes=50",
    )
    .expect("limits");
    // The create path runs it too (the shared test settings leave that to this suite and it::wizard).
    settings.preflight.on_create = true;
    tweak(&mut settings);
    let mut config = server::engine_config(&settings);
    config.tofu_env = tofu_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let state = server::app_state_with_engine(settings, db, server::crypto::SecretBox::generate(), config);
    let router = server::http::router(state.clone());
    let (_, cookie) = common::sign_in(&state, "owner@acme.example", None, Some(OrgRole::Owner)).await;
    Env {
        router,
        cookie,
        hetzner,
        _git: git,
    }
}

impl Env {
    async fn post(&self, body: &CreateDeployment) -> (StatusCode, String) {
        self.post_to("/sovereign/api/v1/deployments/preflight", body)
            .await
    }

    async fn post_to(&self, uri: &str, body: &CreateDeployment) -> (StatusCode, String) {
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("content-type", "application/json")
            .header(http::header::COOKIE, &self.cookie)
            .header(http::header::ORIGIN, common::ORIGIN)
            .body(Body::from(serde_json::to_vec(body).expect("json")))
            .expect("request");
        let (status, _, bytes) = common::send(&self.router, req).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn preflight(&self, body: &CreateDeployment) -> PreflightReport {
        let (status, text) = self.post(body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).expect("a report")
    }
}

/// The one check with `id`.
fn check<'a>(r: &'a PreflightReport, id: &str) -> &'a app::preflight::Check {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {:#?}", r.checks))
}

fn not_passed(r: &PreflightReport) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .map(|c| format!("{} {:?}: {}", c.id, c.status, c.message))
        .collect()
}

on_both_backends!(
    a_clean_request_passes_and_costs_what_the_price_list_says,
    each_failure_names_the_field_that_fixes_it,
    catalysts_own_settings_are_checked,
    hetzner_is_asked_little_also_when_it_fails_once,
    the_create_path_refuses_what_the_preflight_refuses,
    a_server_hetzner_cannot_place_is_named_with_what_it_has_now,
);

/// The fields of a 422's `fields`, sorted.
fn refused_fields(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).expect("json");
    let mut f: Vec<String> = v["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields in {text}"))
        .iter()
        .map(|f| f["field"].as_str().unwrap_or_default().to_string())
        .collect();
    f.sort_unstable();
    f
}

/// REST `POST /sovereign/api/v1/deployments` (the one create path, which the wizard's Launch uses too) runs
/// the pre-flight again: a failure is refused on its field, a warning until its id is acknowledged; the same
/// request with the problem fixed and the warning acknowledged is created.
async fn the_create_path_refuses_what_the_preflight_refuses(db: Db) {
    let env = env(
        db,
        &[
            "--unavailable",
            "cpx42@fsn1",
            "--deprecated",
            "cpx32@fsn1=2027-03-01T00:00:00+00:00",
        ],
        serde_json::json!({}),
        |_| {},
    )
    .await;
    const CREATE: &str = "/sovereign/api/v1/deployments";
    let mut body = request("gate.acme.example");

    let (status, text) = env.post_to(CREATE, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(
        refused_fields(&text),
        ["regions[0].controlPlaneSize", "regions[0].workerSize"]
    );
    assert!(text.contains("no cpx42 available in fsn1"), "{text}");
    assert!(text.contains("Acknowledge this warning"), "{text}");

    // The unavailable worker type replaced: only the warning is left, until it is acknowledged.
    body.request.regions[0].worker_size = "cx43".into();
    let (status, text) = env.post_to(CREATE, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(refused_fields(&text), ["regions[0].controlPlaneSize"]);
    assert!(text.contains("2027-03-01"), "{text}");
    body.acknowledged_warnings = vec!["server-type:regions[0].controlPlaneSize".into()];
    let (status, text) = env.post_to(CREATE, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
}

async fn a_clean_request_passes_and_costs_what_the_price_list_says(db: Db) {
    let env = env(db, &[], serde_json::json!({}), |_| {}).await;
    // fsn1: one cpx32 control plane, one cpx42 worker, the catalog's mandatory components.
    let body = request("clean.acme.example");
    let r = env.preflight(&body).await;
    assert!(not_passed(&r).is_empty(), "{:#?}", not_passed(&r));
    assert!(r.refusal(&[]).is_empty());
    assert_eq!(
        check(&r, "server-type:regions[0].workerSize").field.as_deref(),
        Some("regions[0].workerSize")
    );

    let e = r.estimate.as_ref().expect("an estimate");
    assert_eq!(e.source, PriceSource::Api, "prices from GET /pricing");
    assert!(e.as_of_ms.is_some());
    let lines: Vec<(&str, u32)> = e.regions[0]
        .lines
        .iter()
        .map(|l| (l.what.as_str(), l.count))
        .collect();
    assert_eq!(
        lines,
        [
            ("cpx32 control plane", 1),
            ("cpx42 worker", 1),
            ("lb11 load balancer", 1),
            ("primary IPv4", 2),
            ("volume of 10 GB", 8),
            ("volume of 20 GB", 2),
            ("volume of 100 GB", 1),
        ],
        "the mandatory components claim cnpg 20, gitea 20, harbor 10, netbird 10, openbao 10, powerdns 10, \
         seaweedfs 10 + 100 + 10, valkey 10 and vcluster 10 GB (platform/*/kit.yaml); Hetzner's smallest volume is 10 GB"
    );
    // The stand-in's list (fsn1, net per month): cpx32 13.99, cpx42 25.49, lb11 5.39, IPv4 0.50, volume
    // 0.0440 per GB. 13.99 + 25.49 + 5.39 + 2 × 0.50 + 220 GB × 0.0440 (9.68) = 55.55.
    assert_eq!(e.monthly.net, Money::eur(55, 55));
    // Gross as the stand-in states each price (net × 1.19, to 4 decimals): 16.6481 + 30.3331 + 6.4141 +
    // 2 × 0.5950 + 220 × 0.0524 = 66.1133.
    assert_eq!(e.monthly.gross, Money(66_113_300_000));
    // Hourly (the stand-in's hourly prices, monthly / 730 to 4 decimals: 0.0192, 0.0349, 0.0074, 0.0007;
    // a volume's is its monthly price / 730, to 10⁻⁹: 8 × 0.000602740 + 2 × 0.001205479 + 0.006027397):
    // 0.0192 + 0.0349 + 0.0074 + 2 × 0.0007 + 0.013260275 = 0.076160275.
    assert_eq!(e.hourly.net, Money(76_160_275));
    // 20 TB included with each server and with the load balancer.
    assert_eq!(e.regions[0].included_traffic, 3 * 20 * (1u64 << 40));

    // The capacity fit, by hand: cpx32 control plane 4000m − 500m, 8 GiB − 1920 MiB; cpx42 worker 8000m −
    // 200m, 16 GiB − 640 MiB.
    let fit = &r.capacity[0];
    assert_eq!(fit.allocatable.cpu_millis, 3500 + 7800);
    assert_eq!(fit.allocatable.memory_bytes, (8192 - 1920 + 16384 - 640) << 20);
    assert_eq!(fit.status, CheckStatus::Pass);

    // The price list is cached for the next run (and for the wizard without a token).
    env.hetzner.clear_requests().await;
    let again = env.preflight(&body).await;
    let asked: Vec<String> = env
        .hetzner
        .requests()
        .await
        .into_iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(!asked.iter().any(|p| p == "GET /v1/pricing"), "{asked:?}");
    assert_eq!(
        again.estimate.as_ref().map(|e| e.monthly.net),
        Some(Money::eur(55, 55))
    );
}

async fn each_failure_names_the_field_that_fixes_it(db: Db) {
    let mut body = request("taken.acme.example");
    let names = server::preflight::hetzner::module_names(&body.request);
    let taken = names["servers"][0].clone();
    // The project already holds 24 servers (one of them named like this launch's first control plane).
    let mut servers = vec![serde_json::json!({"id": 1, "name": taken})];
    servers.extend((2..=24).map(|i| serde_json::json!({"id": i, "name": format!("other-{i}")})));
    let env = env(
        db,
        &[
            "--unavailable",
            "cpx42@fsn1",
            "--deprecated",
            "cpx32@fsn1=2027-03-01T00:00:00+00:00",
        ],
        serde_json::json!({ "servers": servers }),
        |_| {},
    )
    .await;
    let r = env.preflight(&body).await;

    let worker = check(&r, "server-type:regions[0].workerSize");
    assert_eq!(worker.status, CheckStatus::Fail, "{}", worker.message);
    assert_eq!(worker.field.as_deref(), Some("regions[0].workerSize"));
    assert!(
        worker.message.contains("no cpx42 available in fsn1"),
        "{}",
        worker.message
    );
    // The nearest type the stand-in has available there: same architecture and kind, at least as large
    // (cx43: 8 shared vCPU, 16 GB, like cpx42).
    assert!(
        worker.message.contains("Nearest type available there: cx43"),
        "{}",
        worker.message
    );

    let cp = check(&r, "server-type:regions[0].controlPlaneSize");
    assert_eq!(cp.status, CheckStatus::Warn, "{}", cp.message);
    assert!(cp.message.contains("2027-03-01"), "{}", cp.message);

    let limit = check(&r, "limits:servers");
    assert_eq!(limit.status, CheckStatus::Fail, "{}", limit.message);
    // 24 held + 2 new = 26 of 25.
    assert!(
        limit
            .message
            .contains("needs 1 more servers than the limit of 25"),
        "{}",
        limit.message
    );
    assert_eq!(limit.field.as_deref(), Some("regions[0].workerCount"));

    let names = check(&r, "name-collision:names");
    assert_eq!(names.status, CheckStatus::Fail);
    assert!(names.message.contains(&taken), "{}", names.message);
    assert_eq!(names.field.as_deref(), Some("domain.byoDomain"));

    // A refused launch names exactly these fields, and the warning until it is acknowledged.
    let refusal = r.refusal(&[]);
    let mut fields: Vec<&str> = refusal.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "domain.byoDomain",
            "regions[0].controlPlaneSize",
            "regions[0].workerCount",
            "regions[0].workerSize"
        ]
    );
    assert_eq!(r.refusal(std::slice::from_ref(&cp.id)).len(), 3);

    // Fixed: one larger control plane instead (room under the limit), another domain: passes.
    body.request.regions[0].worker_size = String::new();
    body.request.domain.byo_domain = "fresh.acme.example".into();
    body.request.regions[0].worker_count = 0;
    body.request.regions[0].control_plane_size = "ccx33".into();
    let r = env.preflight(&body).await;
    assert!(not_passed(&r).is_empty(), "{:#?}", not_passed(&r));

    // A read-only token: refused on the token field.
    body.secrets.hetzner_token = app::deployments::Secret::new(READONLY_TOKEN);
    let r = env.preflight(&body).await;
    let token = check(&r, "token:token");
    assert_eq!(token.status, CheckStatus::Fail);
    assert!(token.message.contains("read-only"), "{}", token.message);
    assert_eq!(token.field.as_deref(), Some("secrets.hetznerToken"));

    // The catalog's default selection on one cpx32 control plane without workers cannot come up; the
    // proposed workers make it fit.
    let catalog = common::repo_catalog().engine.clone();
    body.secrets.hetzner_token = app::deployments::Secret::new(common::engine::TOKEN);
    body.request.components = catalog.selection_ids(&catalog.default_selection());
    body.request.regions[0].control_plane_size = "cpx32".into();
    body.request.regions[0].worker_size = String::new();
    body.request.regions[0].worker_count = 0;
    let r = env.preflight(&body).await;
    let capacity = check(&r, "capacity:regions[0]");
    assert_eq!(capacity.status, CheckStatus::Fail, "{}", capacity.message);
    assert_eq!(capacity.field.as_deref(), Some("regions[0].workerCount"));
    let proposal = r.capacity[0].proposal.clone().expect("a proposal");
    assert_ne!(proposal.worker_size, "cpx42", "cpx42 is not available in fsn1");
    body.request.regions[0].worker_size = proposal.worker_size.clone();
    body.request.regions[0].worker_count = proposal.worker_count;
    let r = env.preflight(&body).await;
    assert_eq!(
        check(&r, "capacity:regions[0]").status,
        CheckStatus::Pass,
        "{proposal:?}"
    );

    // An invalid request is refused with field errors before anything is asked of Hetzner.
    body.request.regions[0].cloud_region = "mars1".into();
    let (status, text) = env.post(&body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("regions[0].cloudRegion"), "{text}");
}

async fn catalysts_own_settings_are_checked(db: Db) {
    let env = env(db, &[], serde_json::json!({}), |s| {
        s.engine.public_url = "http://127.0.0.1:3000/sovereign".into();
        s.gitops.console_egress_cidrs = Vec::new();
        s.gitops.remote = None;
        s.engine.tofu_bin = "/nonexistent/tofu".into();
        s.preflight.limits = HetznerLimits::default();
    })
    .await;
    let r = env.preflight(&request("own.acme.example")).await;
    for (id, option, says) in [
        ("public-url:public-url", "--public-url", "is not https"),
        (
            "console-egress:console-egress",
            "--console-egress-cidrs",
            "is not set",
        ),
        ("gitops:gitops", "--gitops-repo-url", "No GitOps repository"),
        ("tofu:tofu", "--tofu-bin", "is not installed"),
    ] {
        let c = check(&r, id);
        assert_eq!(c.status, CheckStatus::Fail, "{id}: {}", c.message);
        assert_eq!(c.option.as_deref(), Some(option));
        assert!(c.message.contains(says), "{id}: {}", c.message);
    }
    // Without --hetzner-limits the account's limits cannot be judged: a warning naming the option.
    let limits = check(&r, "limits:account");
    assert_eq!(limits.status, CheckStatus::Warn);
    assert_eq!(limits.option.as_deref(), Some("--hetzner-limits"));
    assert!(r.refusal(&[]).iter().all(|e| e.field == "preflight"));
}

async fn hetzner_is_asked_little_also_when_it_fails_once(db: Db) {
    let env = env(db, &[], serde_json::json!({}), |_| {}).await;
    let body = request("count.acme.example");
    env.hetzner.clear_requests().await;
    let r = env.preflight(&body).await;
    let first = env.hetzner.requests().await;
    // GET /servers, POST /ssh_keys (write check), GET /server_types, GET /pricing, and one page of each of
    // the seven other collections.
    assert_eq!(first.len(), 11, "{first:?}");
    assert_eq!(r.api_requests, 11);
    assert!(
        first
            .iter()
            .all(|(m, p)| !p.contains("datacenter") && (m == "GET" || p == "/v1/ssh_keys"))
    );

    // One failed read is asked once more; nothing else changes.
    env.hetzner.clear_requests().await;
    env.hetzner
        .fail_next("/v1/server_types", 1, 503, "unavailable")
        .await;
    let r = env.preflight(&body).await;
    // The price list is cached now: 10 requests, plus the retry.
    assert_eq!(env.hetzner.requests().await.len(), 11);
    assert_eq!(r.api_requests, 11);
    assert!(not_passed(&r).is_empty(), "{:#?}", not_passed(&r));

    // Hetzner keeps failing: the server types are reported as not judged, after three attempts.
    env.hetzner.clear_requests().await;
    env.hetzner
        .fail_next("/v1/server_types", 3, 503, "unavailable")
        .await;
    let r = env.preflight(&body).await;
    let c = check(&r, "server-type:server-types");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.message.contains("run the pre-flight again"), "{}", c.message);
    assert_eq!(r.api_requests, 12);
}

/// Availability data can be wrong: the pre-flight passes, then `apply` fails because Hetzner cannot place
/// the control plane (`resource_unavailable`, as terraform-provider-hcloud reports it). The run's error
/// names the type, the location and the node, and the hint what Hetzner reports available now — the
/// nearest type in that location and the locations that have the type. (With OpenTofu's bare message, the
/// error was "error during placement (resource_unavailable, …)" and the hint the generic retry: seen.)
async fn a_server_hetzner_cannot_place_is_named_with_what_it_has_now(db: Db) {
    let env = env_with_tofu(
        db,
        &["--unavailable", "cpx42@fsn1"],
        serde_json::json!({}),
        |s| s.engine.tofu_module_dir = common::engine::module_dir(),
        &[("TOFU_STANDIN_FAIL_RESOURCE", "hcloud_server.control_plane")],
    )
    .await;
    let mut body = request("placed.acme.example");
    body.request.regions[0].worker_size = "cx43".into();
    let (status, text) = env.post_to("/sovereign/api/v1/deployments", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let d: serde_json::Value = common::engine::eventually(60, "the run to fail", || async {
        let req = Request::builder()
            .uri(format!("/sovereign/api/v1/deployments/{id}"))
            .header(http::header::COOKIE, &env.cookie)
            .body(Body::empty())
            .expect("request");
        let (_, _, bytes) = common::send(&env.router, req).await;
        let d: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        (d["status"] == "failed").then_some(d)
    })
    .await;
    let error = &d["error"];
    assert_eq!(error["phase"], "tofu-apply", "{d:#}");
    assert_eq!(
        error["message"],
        "Hetzner has no cpx32 available in fsn1 right now, so it could not create this control plane (resource_unavailable).",
    );
    let hint = error["hint"].as_str().expect("hint");
    // The stand-in sells every type everywhere (cpx42 not in fsn1): the nearest shared x86 type with at
    // least cpx32's 4 vCPU and 8 GB in fsn1 is cx33, and cpx32 is sold in every other location.
    assert!(
        hint.contains("cx33 (4 vCPU, 8 GB) as the control-plane size in fsn1"),
        "{hint}"
    );
    assert!(hint.contains("cpx32 in nbg1, hel1, ash, hil"), "{hint}");
    assert!(!hint.contains("cpx42"), "{hint}");
    // The control plane's job on the flow canvas says the same in one sentence (issue 23).
    let req = Request::builder()
        .uri(format!("/sovereign/api/v1/deployments/{id}/jobs"))
        .header(http::header::COOKIE, &env.cookie)
        .body(Body::empty())
        .expect("request");
    let (_, _, bytes) = common::send(&env.router, req).await;
    let list: server::flow::http::JobList = serde_json::from_slice(&bytes).expect("jobs");
    let causes = app::flow::cause::explain(&list.jobs);
    let cp: Vec<&String> = causes
        .iter()
        .filter(|(job, _)| job.starts_with("tofu:hcloud_server.control_plane"))
        .map(|(_, c)| &c.sentence)
        .collect();
    assert_eq!(cp.len(), 1, "{causes:?}");
    assert!(
        cp[0].starts_with(
            "Hetzner has no cpx32 available in fsn1 right now, so it could not create this control plane"
        ),
        "{}",
        cp[0]
    );
}
