//! The wizard's server side: the draft store on both backends, and the server functions driven with
//! hand-crafted requests (what a client that skips the browser's checks would send), signed in as the roles
//! the policy distinguishes.

use crate::common;

use std::net::SocketAddr;

use app::auth::{OrgRole, PlatformRole};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use server::config::Settings;
use server::db::{self, Db};
use server::state::AppState;

on_both_backends!(drafts_round_trip);

async fn drafts_round_trip(db: Db) {
    let user = |email: &'static str| {
        let db = db.clone();
        async move {
            db::users::create(
                &db,
                &db::users::NewUser {
                    email: email.into(),
                    ..Default::default()
                },
            )
            .await
            .expect("create user")
            .expect("new")
            .id
        }
    };
    let (u1, u2) = (user("u1@example.com").await, user("u2@example.com").await);
    let org = db::orgs::create(&db, "acme", "Acme")
        .await
        .expect("create org")
        .expect("new");
    let other = db::orgs::create(&db, "globex", "Globex")
        .await
        .expect("create org")
        .expect("new");
    assert_eq!(db::drafts::get(&db, &u1).await.expect("get"), None);
    db::drafts::put(&db, &u1, &org.id, r#"{"a":1}"#, 0)
        .await
        .expect("put");
    db::drafts::put(&db, &u2, &org.id, r#"{"b":2}"#, 3)
        .await
        .expect("put");
    db::drafts::put(&db, &u1, &other.id, r#"{"a":2}"#, 1)
        .await
        .expect("overwrite");
    let row = db::drafts::get(&db, &u1).await.expect("get").expect("exists");
    assert_eq!(row.draft, r#"{"a":2}"#);
    assert_eq!(row.org_id, other.id, "the draft moved to the other organisation");
    assert_eq!(row.completed, 1);
    assert!(row.updated_at >= row.created_at);
    // A draft belongs to a real user and a real organisation.
    assert!(
        db::drafts::put(&db, "no-such-user", &org.id, "{}", 0)
            .await
            .is_err()
    );
    assert!(db::drafts::put(&db, &u1, "no-such-org", "{}", 0).await.is_err());
    assert!(db::drafts::delete(&db, &u1).await.expect("delete"));
    assert!(!db::drafts::delete(&db, &u1).await.expect("delete again"));
    assert_eq!(
        db::drafts::delete_older_than(&db, i64::MAX).await.expect("sweep"),
        1
    );
    assert_eq!(db::drafts::get(&db, &u2).await.expect("get"), None);
}

// ---- over HTTP -------------------------------------------------------------------------------------------

struct H {
    router: Router,
    state: AppState,
}

on_both_backends!(
    the_draft_handed_out_has_region_cards_that_follow_the_headquarters,
    a_new_user_gets_the_defaults_and_keeps_their_draft,
    the_server_rejects_what_the_browser_would_have,
    steps_cannot_be_skipped,
    future_step_urls_redirect_to_the_first_incomplete_step,
    the_components_step_is_the_marketplace_grid_server_rendered,
    subdomain_check_and_key_generation,
    launch_validates_the_whole_request_again,
    only_editors_and_above_may_draft_and_launch,
    token_check_against_the_hetzner_api,
    launch_hands_the_request_to_the_engine_and_clears_the_draft,
    rest_and_launch_refuse_alike,
    steps_posted_as_plain_forms_are_checked_saved_and_redirected,
);

fn settings() -> Settings {
    common::memory_settings()
}

async fn harness_with(db: Db, settings: Settings) -> H {
    let (router, state) = common::app_on(settings, db);
    H { router, state }
}

async fn harness(db: Db) -> H {
    harness_with(db, settings()).await
}

/// One signed-in browser.
struct Client<'a> {
    h: &'a H,
    cookie: String,
}

impl H {
    async fn client(&self, email: &str, platform: Option<PlatformRole>, role: Option<OrgRole>) -> Client<'_> {
        let (_, cookie) = common::sign_in(&self.state, email, platform, role).await;
        Client { h: self, cookie }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
        let (status, headers, body) = self.send_raw(req).await;
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    async fn send_raw(&self, mut req: Request<Body>) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40000))));
        let (status, headers, body) = common::send(&self.router, req).await;
        (status, headers, body.to_vec())
    }

    async fn first_org(&self) -> String {
        db::orgs::list(&self.state.db).await.expect("orgs").remove(0).id
    }
}

impl Client<'_> {
    /// Calls a server function as the hydrated app does (the console's Origin; JSON in and out, or postcard
    /// for the calls step 1 makes). Arguments are given as JSON and sent as the function takes them. An error
    /// is decoded as the browser decodes it (`AppError`'s own encoding, `app::wire`) and given back as the
    /// JSON of that `AppError` (`{"Invalid": [...]}`, `{"Forbidden": "…"}`), so assertions read the same.
    async fn call(&self, path: &str, body: Value) -> (StatusCode, Value) {
        use app::wizard::api::{DiscardDraft, GetWizard, SaveDraft};
        // Step 1's calls take postcard (`app::wizard::api`): encode the arguments as the browser does.
        fn postcard<T: serde::de::DeserializeOwned + serde::Serialize>(args: Value) -> Vec<u8> {
            let args: T = serde_json::from_value(args).expect("the arguments fit the function's type");
            app::wire::encode(&args).expect("the arguments encode")
        }
        let (content_type, body) = match path {
            p if p == GetWizard::PATH => ("application/x-postcard", postcard::<GetWizard>(body)),
            p if p == SaveDraft::PATH => ("application/x-postcard", postcard::<SaveDraft>(body)),
            p if p == DiscardDraft::PATH => ("application/x-postcard", postcard::<DiscardDraft>(body)),
            _ => ("application/json", body.to_string().into_bytes()),
        };
        let req = Request::post(path)
            .header("content-type", content_type)
            .header("accept", content_type)
            .header("origin", common::ORIGIN)
            .header("cookie", &self.cookie)
            .body(Body::from(body))
            .expect("req");
        let (status, headers, body) = self.h.send_raw(req).await;
        if !status.is_success() {
            use leptos::server_fn::error::FromServerFnError;
            let error = app::error::AppError::de(body.into());
            return (status, serde_json::to_value(error).unwrap_or(Value::Null));
        }
        let postcard = headers
            .get("content-type")
            .is_some_and(|t| t.as_bytes().starts_with(b"application/x-postcard"));
        if !postcard {
            return (status, serde_json::from_slice(&body).unwrap_or(Value::Null));
        }
        // The answers step 1 reads are postcard: decode them as the browser does, into their type, and give
        // that back as its JSON.
        let value = match path {
            p if p == GetWizard::PATH => app::wire::decode::<app::wizard::WizardBootstrap>(&body)
                .map(|v| serde_json::to_value(v).unwrap_or(Value::Null)),
            p if p == SaveDraft::PATH => app::wire::decode::<app::wizard::WizardDraft>(&body)
                .map(|v| serde_json::to_value(v).unwrap_or(Value::Null)),
            p if p == DiscardDraft::PATH => app::wire::decode::<()>(&body).map(|()| Value::Null),
            other => panic!("{other} answered postcard: teach the test client its type"),
        };
        (status, value.expect("the answer decodes as its type"))
    }

    async fn page(&self, uri: &str) -> (StatusCode, http::HeaderMap, String) {
        let req = Request::get(uri)
            .header("accept", "text/html")
            .header("cookie", &self.cookie)
            .body(Body::empty())
            .expect("req");
        self.h.send(req).await
    }

    async fn boot(&self) -> Value {
        let (s, v) = self.call(app::wizard::api::GetWizard::PATH, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }

    async fn draft(&self) -> Value {
        self.boot().await["draft"].clone()
    }

    async fn save(&self, draft: &Value, confirm: Option<&str>) -> (StatusCode, Value) {
        self.call(
            app::wizard::api::SaveDraft::PATH,
            json!({"draft": draft, "confirm": confirm}),
        )
        .await
    }

    async fn launch(&self, org_id: &str, request: &Value, token: &str) -> (StatusCode, Value) {
        self.call(
            app::wizard::api::Launch::PATH,
            json!({"org_id": org_id, "create": {"request": request, "secrets": {"hetznerToken": token}}}),
        )
        .await
    }
}

impl Client<'_> {
    /// `POST /sovereign/api/v1/deployments` with this client's session: status, headers, JSON body.
    async fn rest_create(&self, body: &Value) -> (StatusCode, http::HeaderMap, Value) {
        let req = Request::post("/sovereign/api/v1/deployments")
            .header("content-type", "application/json")
            .header("origin", common::ORIGIN)
            .header("cookie", &self.cookie)
            .body(Body::from(body.to_string()))
            .expect("req");
        let (status, headers, body) = self.h.send(req).await;
        (
            status,
            headers,
            serde_json::from_str(&body).unwrap_or(Value::Null),
        )
    }
}

impl Client<'_> {
    /// Posts a step as a browser without JavaScript does: a URL-encoded form from the console's origin.
    async fn form(&self, path: &str, body: &str) -> (StatusCode, String) {
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", common::ORIGIN)
            .header("cookie", &self.cookie)
            .body(Body::from(body.to_string()))
            .expect("req");
        let (status, headers, _) = self.h.send(req).await;
        let to = headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, to)
    }
}

/// The wizard without JavaScript (`server::wizard::form`): a step posted as a form is applied to the draft,
/// checked with the shared rules and saved; the answer goes on to the next step, or back with the errors.
async fn steps_posted_as_plain_forms_are_checked_saved_and_redirected(db: Db) {
    let h = harness(db).await;
    let c = h.client("nojs@example.com", None, Some(OrgRole::Editor)).await;
    // An empty name: back to the step with the rule's message in the URL; what else was posted is kept.
    let (s, to) = c
        .form(
            "/sovereign/wizard/organisation",
            "org.name=&org.headquarters=Tallinn%2C+Estonia&org.compliance=GDPR&secrets.hetznerToken=never-kept",
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(
        to.starts_with("/sovereign/wizard/organisation?e=org.name%3A"),
        "{to}"
    );
    let d = c.draft().await;
    assert_eq!(d["request"]["org"]["name"], "");
    assert_eq!(d["request"]["org"]["headquarters"], "Tallinn, Estonia");
    assert_eq!(d["request"]["org"]["compliance"], json!(["gdpr"]));
    assert_eq!(d["completed"], 0);
    assert!(!d.to_string().contains("never-kept"), "no secret in the draft");
    // The page it goes back to shows the message beside the field, with the values kept.
    let (s, _, html) = c.page(&to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Enter your organisation&#x27;s name.")
            || html.contains("Enter your organisation's name."),
        "{html}"
    );
    assert!(html.contains("Tallinn, Estonia"));
    // A valid step is confirmed and goes on; a box left unchecked is not posted, and clears.
    let (s, to) = c
        .form(
            "/sovereign/wizard/organisation",
            "org.name=Nojs+Bank&org.headquarters=Tallinn",
        )
        .await;
    assert_eq!(
        (s, to.as_str()),
        (StatusCode::SEE_OTHER, "/sovereign/wizard/topology")
    );
    let d = c.draft().await;
    assert_eq!(d["request"]["org"]["name"], "Nojs Bank");
    assert_eq!(d["request"]["org"]["compliance"], json!([]));
    assert_eq!(d["completed"], 1);
    let (s, to) = c
        .form("/sovereign/wizard/topology", "topology=solo&haEnabled=on")
        .await;
    assert_eq!(
        (s, to.as_str()),
        (StatusCode::SEE_OTHER, "/sovereign/wizard/provider")
    );
    let d = c.draft().await;
    assert_eq!(d["request"]["topology"], "solo");
    assert_eq!(d["request"]["haEnabled"], true);
    assert_eq!(d["request"]["regions"].as_array().map(Vec::len), Some(1));
    // A step not reached yet cannot be confirmed: back with the reason as the step's notice.
    let (s, to) = c.form("/sovereign/wizard/domain", "domain.subdomain=skip").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/sovereign/wizard/domain?e=form%3A"), "{to}");
    // No Launch before the last step.
    let (s, to) = c.form("/sovereign/wizard/review", "secrets.hetznerToken=x").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/sovereign/wizard/review?e=form%3A"), "{to}");
    assert_eq!(c.draft().await["completed"], 2);
    // Another site's form is refused before it reaches the wizard.
    let req = Request::post("/sovereign/wizard/organisation")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("cookie", &c.cookie)
        .body(Body::from("org.name=Evil"))
        .expect("req");
    let (s, _, _) = h.send(req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(c.draft().await["request"]["org"]["name"], "Nojs Bank");
    // A viewer may not use the wizard at all.
    let v = h
        .client("viewer-nojs@example.com", None, Some(OrgRole::Viewer))
        .await;
    let (s, _) = v.form("/sovereign/wizard/organisation", "org.name=X").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

fn fields(v: &Value) -> Vec<String> {
    v["Invalid"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn forbidden(v: &Value) -> &str {
    v["Forbidden"].as_str().unwrap_or_default()
}

/// Step 1 saves the headquarters without touching the region cards (its wasm has no region tables); the
/// draft the server hands out has cards that follow the headquarters, unless the user arranged them.
async fn the_draft_handed_out_has_region_cards_that_follow_the_headquarters(db: Db) {
    let h = harness(db).await;
    let c = h.client("hq@example.com", None, Some(OrgRole::Editor)).await;
    let mut d = c.draft().await;
    assert_eq!(
        d["request"]["regions"][0]["cloudRegion"], "fsn1",
        "Frankfurt's default"
    );
    d["request"]["org"]["headquarters"] = "Helsinki, Finland".into();
    let (s, v) = c.save(&d, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = c.draft().await;
    assert_eq!(d["request"]["regions"][0]["provider"], "hetzner");
    assert_eq!(d["request"]["regions"][0]["cloudRegion"], "hel1");

    // Cards the user arranged stay as they are.
    let mut d = d;
    d["request"]["regions"][0]["cloudRegion"] = "nbg1".into();
    d["regionsCustomised"] = true.into();
    d["request"]["org"]["headquarters"] = "Frankfurt, Germany".into();
    let (s, v) = c.save(&d, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(c.draft().await["request"]["regions"][0]["cloudRegion"], "nbg1");
}

async fn a_new_user_gets_the_defaults_and_keeps_their_draft(db: Db) {
    let h = harness(db).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let boot = c.boot().await;
    let mut d = boot["draft"].clone();
    // Their only organisation is the default; it is the one offered.
    let org = h.first_org().await;
    assert_eq!(d["orgId"], org.as_str());
    assert_eq!(boot["orgs"].as_array().map(Vec::len), Some(1));
    assert_eq!(d["request"]["org"]["name"], "Acme Financial");
    assert_eq!(d["request"]["topology"], "zoned");
    assert_eq!(d["request"]["domain"]["poolDomain"], "omani.works");
    assert_eq!(d["completed"], 0);
    // The selection starts at the catalog's defaults (what the marketplace starts with).
    let catalog = common::repo_catalog().engine.clone();
    let defaults = catalog.selection_ids(&catalog.default_selection());
    assert!(!defaults.is_empty());
    assert_eq!(d["request"]["components"], json!(defaults));

    d["request"]["org"]["name"] = "Globex Bank".into();
    let (s, v) = c.save(&d, Some("org")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["completed"], 1);
    let again = c.draft().await;
    assert_eq!(again["request"]["org"]["name"], "Globex Bank");
    assert_eq!(again["completed"], 1);
    // Another user has their own draft.
    let other = h.client("ops@example.com", None, Some(OrgRole::Owner)).await;
    assert_eq!(other.draft().await["request"]["org"]["name"], "Acme Financial");
    // "Start over" throws the draft away.
    let (s, _) = c.call(app::wizard::api::DiscardDraft::PATH, json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c.draft().await["completed"], 0);
}

async fn the_server_rejects_what_the_browser_would_have(db: Db) {
    let h = harness(db).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let mut d = c.draft().await;
    d["request"]["org"]["name"] = "   ".into();
    let (s, v) = c.save(&d, Some("org")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), vec!["org.name"]);
    // The typed data is kept even though the step was not confirmed.
    assert_eq!(c.draft().await["completed"], 0);

    d["request"]["org"]["name"] = "Acme".into();
    assert_eq!(c.save(&d, Some("org")).await.0, StatusCode::OK);
    assert_eq!(c.save(&d, Some("topology")).await.0, StatusCode::OK);
    // A provider Catalyst cannot provision is refused, not accepted and ignored.
    let good_regions = d["request"]["regions"].clone();
    d["request"]["regions"][1]["provider"] = "aws".into();
    d["request"]["regions"][1]["cloudRegion"] = "eu-west-1".into();
    d["request"]["regions"][1]["controlPlaneSize"] = "m6i.xlarge".into();
    d["request"]["regions"][0]["workerCount"] = 51.into();
    let (s, v) = c.save(&d, Some("provider")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        fields(&v),
        vec![
            "regions[0].workerCount",
            "regions[0].workerSize",
            "regions[1].provider"
        ]
    );
    d["request"]["regions"] = good_regions;
    assert_eq!(c.save(&d, Some("provider")).await.0, StatusCode::OK);
    d["request"]["hetznerProjectId"] = "1234567".into();
    d["request"]["sshPublicKey"] = ED25519.into();
    assert_eq!(c.save(&d, Some("credentials")).await.0, StatusCode::OK);

    // Components: the catalog's engine decides. An unknown id, a component without its dependency and a
    // missing mandatory component are each refused with the marketplace's message.
    let catalog = common::repo_catalog().engine.clone();
    let (needy, dep) = catalog
        .blueprints()
        .iter()
        .find_map(|b| {
            catalog
                .dependencies_of(&b.id)
                .into_iter()
                .find(|d| !catalog.is_mandatory(&d.id))
                .filter(|_| !catalog.is_mandatory(&b.id))
                .map(|d| (b.clone(), d.id.clone()))
        })
        .expect("the catalog has a component with an optional dependency");
    let mut ids: Vec<String> = catalog.selection_ids(&catalog.mandatory_selection());
    ids.push(needy.id.clone());
    ids.retain(|i| *i != dep);
    ids.push("no-such-component".into());
    d["request"]["components"] = json!(ids);
    let (s, v) = c.save(&d, Some("components")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let f = fields(&v);
    assert!(f.contains(&format!("components[{}]", ids.len() - 1)), "{v}");
    assert!(
        v["Invalid"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&format!("{} needs", needy.name))))),
        "{v}"
    );
    assert_eq!(c.draft().await["completed"], 4, "components not confirmed");
    let defaults = catalog.selection_ids(&catalog.default_selection());
    d["request"]["components"] = json!(defaults);
    let (s, v) = c.save(&d, Some("components")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["completed"], 5);
}

async fn steps_cannot_be_skipped(db: Db) {
    let h = harness(db).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let d = c.draft().await;
    let (s, v) = c.save(&d, Some("domain")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // Nor can the client raise its own progress.
    let mut forged = d.clone();
    forged["completed"] = 6.into();
    assert_eq!(c.save(&forged, None).await.0, StatusCode::OK);
    assert_eq!(c.draft().await["completed"], 0);
}

async fn future_step_urls_redirect_to_the_first_incomplete_step(db: Db) {
    let h = harness(db).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let (status, headers, _) = c.page("/sovereign/wizard/domain").await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers["location"], "/sovereign/wizard/organisation");
    let (status, _, html) = c.page("/sovereign/wizard/organisation").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Tell us about your organisation"),
        "step 1 is server-rendered"
    );
    assert!(html.contains(r#"id="f-org-name""#));
    assert!(html.contains("Step 1 of 7 · Organisation · 14%"));
    assert!(html.contains("Created in organisation"), "the owner is named");
}

async fn the_components_step_is_the_marketplace_grid_server_rendered(db: Db) {
    let h = harness(db).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let mut d = c.draft().await;
    for step in ["org", "topology", "provider"] {
        assert_eq!(c.save(&d, Some(step)).await.0, StatusCode::OK, "{step}");
    }
    d["request"]["hetznerProjectId"] = "1234567".into();
    d["request"]["sshPublicKey"] = ED25519.into();
    assert_eq!(c.save(&d, Some("credentials")).await.0, StatusCode::OK);
    let (status, _, html) = c.page("/sovereign/wizard/components").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-testid="component-grid""#), "the grid");
    assert!(html.contains("Choose your stack"));
    assert!(html.contains("Always included"));
    let catalog = common::repo_catalog().engine.clone();
    let total = catalog.len();
    let selected = catalog.default_selection().len();
    assert!(
        html.contains(&format!("{selected}</strong> of {total}"))
            || html.contains(&format!("{selected}<!----></strong>")),
        "the counter shows the draft's selection"
    );
    // Forms cannot nest: the grid's search form must not sit inside a wizard form.
    let grid_at = html.find(r#"data-testid="component-grid""#).expect("grid");
    let before = &html[..grid_at];
    assert!(
        before
            .rfind("<form")
            .is_none_or(|f| before[f..].contains("</form>")),
        "no open <form> around the grid"
    );
}

async fn subdomain_check_and_key_generation(db: Db) {
    let h = harness(db).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let check = |sub: &str| json!({"pool_domain": "omani.works", "subdomain": sub});
    let (s, v) = c
        .call(app::wizard::api::CheckSubdomain::PATH, check("acme"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "available");
    assert_eq!(v["fqdn"], "acme.omani.works");
    assert_eq!(
        c.call(app::wizard::api::CheckSubdomain::PATH, check("console"))
            .await
            .1["status"],
        "reserved"
    );
    assert_eq!(
        c.call(app::wizard::api::CheckSubdomain::PATH, check("-x"))
            .await
            .1["status"],
        "invalid"
    );
    let (_, v) = c
        .call(
            app::wizard::api::CheckSubdomain::PATH,
            json!({"pool_domain": "evil.example", "subdomain": "acme"}),
        )
        .await;
    assert_eq!(v["status"], "unsupported-pool");
    // A zone Catalyst's PowerDNS already serves is not available, whoever made it.
    let label = format!("ext{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let pdns = crate::common::pdns::pdns().client();
    pdns.create_zone(
        &format!("{label}.omani.works"),
        &["ns1.omani.works".into()],
        false,
    )
    .await
    .expect("zone");
    let (_, v) = c
        .call(app::wizard::api::CheckSubdomain::PATH, check(&label))
        .await;
    assert_eq!(v["status"], "taken", "{v}");
    pdns.delete_zone(&format!("{label}.omani.works"))
        .await
        .expect("cleanup");

    let (s, v) = c
        .call(
            app::wizard::api::GenerateSshKey::PATH,
            json!({"fqdn": "acme.omani.works"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let public = v["publicKey"].as_str().expect("public key");
    assert!(public.ends_with("catalyst@acme.omani.works"));
    assert_eq!(app::deployments::fields::ssh_public_key(public), None);
    assert!(
        v["privateKey"]
            .as_str()
            .is_some_and(|k| k.contains("OPENSSH PRIVATE KEY"))
    );
    // The private key is not kept: the draft has no trace of it.
    let d = c.draft().await;
    assert!(!d.to_string().contains("PRIVATE"));
}

async fn launch_validates_the_whole_request_again(db: Db) {
    let h = harness(db).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let org = h.first_org().await;
    let d = c.draft().await;
    let mut request = d["request"].clone();
    request["sshPublicKey"] = "not a key".into();
    request["domain"]["subdomain"] = "console".into();
    request["components"] = json!(["no-such-component"]);
    let (s, v) = c.launch(&org, &request, "short").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let f = fields(&v);
    for expected in [
        "hetznerProjectId",
        "sshPublicKey",
        "domain.subdomain",
        "secrets.hetznerToken",
        "components[0]",
    ] {
        assert!(f.iter().any(|x| x == expected), "{expected} in {f:?}");
    }
    assert!(!v.to_string().contains("short\""), "the token is not echoed");
}

async fn only_editors_and_above_may_draft_and_launch(db: Db) {
    let h = harness(db).await;
    let viewer = h.client("viewer@example.com", None, Some(OrgRole::Viewer)).await;
    let org = h.first_org().await;
    let other = db::orgs::create(&h.state.db, "globex", "Globex")
        .await
        .expect("create")
        .expect("new");

    // A viewer may not use the wizard, nor launch: 403 naming the permission, on the page too.
    let (s, v) = viewer.call(app::wizard::api::GetWizard::PATH, json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(forbidden(&v), "wizard.use");
    let editor = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let request = editor.draft().await["request"].clone();
    let (s, v) = viewer.launch(&org, &request, &"x".repeat(64)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(forbidden(&v), "deployments.create");
    let (status, _, html) = viewer.page("/sovereign/wizard/organisation").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("wizard.use"));
    let (_, _, home) = viewer.page("/sovereign").await;
    assert!(
        !home.contains(r#"href="/sovereign/wizard""#),
        "no New Sovereign link for a viewer"
    );

    // An editor of one organisation cannot draft for, or launch in, another.
    let mut d = editor.draft().await;
    d["orgId"] = other.id.clone().into();
    let (s, v) = editor.save(&d, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), vec!["orgId"]);
    let (s, v) = editor.launch(&other.id, &request, &"x".repeat(64)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(forbidden(&v), "deployments.create");
    // In their own organisation the launch is checked (and reaches the checks after the policy).
    let (s, v) = editor.launch(&org, &request, "short").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, _, home) = editor.page("/sovereign").await;
    assert!(home.contains(r#"href="/sovereign/wizard""#), "New Sovereign link");

    // A superadmin may create Sovereigns anywhere: every organisation is offered, and they may switch.
    let admin = h
        .client("root@example.com", Some(PlatformRole::Superadmin), None)
        .await;
    let boot = admin.boot().await;
    let names: Vec<&str> = boot["orgs"]
        .as_array()
        .expect("orgs")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{boot}");
    assert!(names.contains(&"Globex"));
    let mut d = boot["draft"].clone();
    d["orgId"] = other.id.clone().into();
    let (s, v) = admin.save(&d, Some("org")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(admin.draft().await["orgId"], other.id.as_str());
    let row = db::drafts::get(&h.state.db, &admin_id(&h, "root@example.com").await)
        .await
        .expect("get")
        .expect("saved");
    assert_eq!(row.org_id, other.id);
}

async fn admin_id(h: &H, email: &str) -> String {
    db::users::by_email(&h.state.db, email)
        .await
        .expect("lookup")
        .expect("exists")
        .id
}

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIJqkUdW0kITcizpA/hK0ctsNltkludKjpEl7vyqQir e2e@catalyst";

/// Infra's Hetzner API stand-in on a free port; killed when the guard drops.
struct StandIn(std::process::Child, String);

const TOKEN: &str = "rw0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const READONLY: &str = "ro0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

impl StandIn {
    fn start() -> StandIn {
        use std::io::BufRead;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut child = std::process::Command::new("python3")
            .arg(root.join("tests/standins/hetzner.py"))
            .args(["--port", "0", "--token", TOKEN, "--readonly-token", READONLY])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the stand-in");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the stand-in prints its address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        StandIn(child, url)
    }

    async fn requests(&self) -> Value {
        let base = self.1.trim_end_matches("/v1");
        reqwest::get(format!("{base}/__standin/requests"))
            .await
            .expect("stand-in answers")
            .json()
            .await
            .expect("JSON")
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn token_check_against_the_hetzner_api(db: Db) {
    assert_eq!(TOKEN.len(), 64);
    let standin = StandIn::start();
    let mut settings = settings();
    settings.hetzner_api_url = standin.1.clone();
    let h = harness_with(db.clone(), settings).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let path = app::wizard::api::CheckHetznerToken::PATH;
    let (s, v) = c.call(path, json!({"token": TOKEN})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    // The real protocol: a read of the project, then a write only a read & write token gets past.
    let seen = standin.requests().await;
    let calls: Vec<String> = seen
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap_or(""),
                r["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        calls.iter().any(|c| c.starts_with("GET /v1/servers")),
        "{calls:?}"
    );
    assert!(calls.iter().any(|c| c == "POST /v1/ssh_keys"), "{calls:?}");

    let unknown = "w".repeat(64);
    let (_, v) = c.call(path, json!({"token": unknown})).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["failure"], "rejected");
    assert_eq!(v["status"], 401);
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("Read & Write")),
        "{v}"
    );
    assert!(!v.to_string().contains(&unknown), "the token is never echoed");

    let (_, v) = c.call(path, json!({"token": READONLY})).await;
    assert_eq!(v["failure"], "rejected", "{v}");
    assert_eq!(v["status"], 403);
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("read-only")),
        "{v}"
    );
    assert!(!v.to_string().contains(READONLY));

    let (_, v) = c.call(path, json!({"token": "short"})).await;
    assert_eq!(v["failure"], "too-short");

    // Nothing listening: unreachable.
    let mut unreachable = common::memory_settings();
    unreachable.hetzner_api_url = "http://127.0.0.1:9".into();
    let nowhere = harness_with(db, unreachable).await;
    let c = nowhere
        .client("dev2@example.com", None, Some(OrgRole::Editor))
        .await;
    let (_, v) = c.call(path, json!({"token": TOKEN})).await;
    assert_eq!(v["failure"], "unreachable", "{v}");
    assert!(!v.to_string().contains(TOKEN));
}

async fn launch_hands_the_request_to_the_engine_and_clears_the_draft(db: Db) {
    let standin = StandIn::start();
    let git = common::engine::GitRepo::new();
    let mut settings = settings();
    settings.hetzner_api_url = standin.1.clone();
    // What the pre-flight needs from the console to pass (its failures are it::preflight's subject).
    settings.gitops = git.settings();
    settings.gitops.console_egress_cidrs = vec!["198.51.100.0/24".into()];
    settings.engine.tofu_bin = common::engine::standin_tofu();
    settings.preflight.allow_local_console = true;
    settings.preflight.on_create = true;
    settings.preflight.limits =
        server::preflight::HetznerLimits::parse("servers=50,load_balancers=10,primary_ips=100")
            .expect("limits");
    let h = harness_with(db, settings).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let org = h.first_org().await;
    let mut d = c.draft().await;
    d["request"]["hetznerProjectId"] = "1234567".into();
    // The default selection needs workers beside the one control plane (the pre-flight's capacity check).
    for r in d["request"]["regions"].as_array_mut().expect("regions") {
        r["workerCount"] = 2.into();
        r["workerSize"] = "cpx42".into();
    }
    d["request"]["sshPublicKey"] = ED25519.into();
    // A name of its own: the run this launch starts takes it in the shared PowerDNS, which the other tests
    // of this process ask about "acme".
    let sub = format!("launch{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    d["request"]["domain"]["subdomain"] = sub.clone().into();
    for step in [
        "org",
        "topology",
        "provider",
        "credentials",
        "components",
        "domain",
    ] {
        let (s, v) = c.save(&d, Some(step)).await;
        assert_eq!(s, StatusCode::OK, "{step}: {v}");
    }
    let request = d["request"].clone();

    // A token Hetzner refuses stops the launch on its field (the pre-flight's first check); the draft is kept.
    let (s, v) = c.launch(&org, &request, &"w".repeat(64)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), vec!["secrets.hetznerToken"]);
    assert_eq!(c.draft().await["completed"], 6, "the draft is kept on failure");

    let (s, v) = c.launch(&org, &request, TOKEN).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v.as_str().expect("the new deployment's id");
    let row = db::deployments::get(&h.state.db, id)
        .await
        .expect("get")
        .expect("the engine stored it");
    assert_eq!(row.fqdn, format!("{sub}.omani.works"));
    assert_eq!(row.org_id, org, "in the organisation the wizard chose");
    assert!(
        !row.request.contains(TOKEN),
        "the token is not in the stored request"
    );
    // The run is over for the wizard: the next visit starts afresh.
    let fresh = c.draft().await;
    assert_eq!(fresh["completed"], 0);
    assert_eq!(fresh["request"]["domain"]["subdomain"], "");

    // The name is taken now: the Domain step's check says so, and a second launch lands on the field.
    let (_, v) = c
        .call(
            app::wizard::api::CheckSubdomain::PATH,
            json!({"pool_domain": "omani.works", "subdomain": sub}),
        )
        .await;
    // "taken" (the deployment holds it) until the run's DNS phase reserves the zone, "reserved" (a run in
    // progress holds it) after: which one depends on how far the run got, both refuse the name.
    assert!(
        v["status"] == "taken" || v["status"] == "reserved",
        "the launched name is no longer available: {v}"
    );
    let (s, v) = c.launch(&org, &request, TOKEN).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), vec!["domain.subdomain"]);
}

/// One create path (issues 18.4 and 19.2): REST `POST /deployments` and the wizard's Launch refuse the same
/// requests with the same messages — the shared rules, a token Hetzner refuses (REST skipped that check
/// before: it answered 201 for this body), a domain another deployment holds (REST's 409 is the wizard's
/// error beside the domain field), and the organisation's per-day limit (429 naming the limit, Retry-After).
async fn rest_and_launch_refuse_alike(db: Db) {
    let mut settings = settings();
    settings.engine.limits = server::db::deployments::CreateLimits {
        in_flight: 0,
        per_day: 2,
    };
    let h = harness_with(db, settings).await;
    let c = h.client("dev@example.com", None, Some(OrgRole::Editor)).await;
    let org = h.first_org().await;
    let good = serde_json::to_value(common::engine::request("alike.example.org")).expect("json");
    let token = common::engine::TOKEN;
    let with = |request: &Value, token: &str| json!({"request": request, "secrets": {"hetznerToken": token}});

    // The shared rules, request and secrets.
    let mut bad = good["request"].clone();
    bad["org"]["name"] = "".into();
    bad["sshPublicKey"] = "not a key".into();
    for (request, token) in [(&bad, "short"), (&good["request"], &*"w".repeat(64))] {
        let (s, _, rest) = c.rest_create(&with(request, token)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{rest}");
        let (s, wizard) = c.launch(&org, request, token).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{wizard}");
        assert_eq!(rest["fields"], wizard["Invalid"], "same fields, same messages");
    }
    let (_, _, rest) = c.rest_create(&with(&good["request"], &"w".repeat(64))).await;
    assert_eq!(
        rest["fields"][0]["field"], "secrets.hetznerToken",
        "Hetzner refused the token: {rest}"
    );

    // Created through REST; the same domain again is a conflict for both, with the same message.
    let (s, _, created) = c.rest_create(&with(&good["request"], token)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let (s, _, rest) = c.rest_create(&with(&good["request"], token)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{rest}");
    let (s, wizard) = c.launch(&org, &good["request"], token).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{wizard}");
    assert_eq!(fields(&wizard), vec!["domain.byoDomain"]);
    assert_eq!(wizard["Invalid"][0]["message"], rest["detail"]);

    // The second of the day through the wizard; the third is refused by both, naming the limit.
    let mut other = good["request"].clone();
    other["domain"]["byoDomain"] = "alike-2.example.org".into();
    let (s, v) = c.launch(&org, &other, token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    other["domain"]["byoDomain"] = "alike-3.example.org".into();
    let (s, headers, rest) = c.rest_create(&with(&other, token)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{rest}");
    let detail = rest["detail"].as_str().expect("detail");
    assert!(
        detail.contains("--max-deployments-per-day") && detail.contains("(2,"),
        "{detail}"
    );
    assert!(headers.get("retry-after").is_some());
    let (s, wizard) = c.launch(&org, &other, token).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{wizard}");
    assert_eq!(wizard["RateLimited"]["detail"], rest["detail"]);
    let filter = app::deployments::ListQuery::default().parse().expect("filter");
    let stored = db::deployments::list(&h.state.db, None, &filter)
        .await
        .expect("list")
        .total;
    assert_eq!(stored, 2, "two created, nothing stored for the refusals");
}
