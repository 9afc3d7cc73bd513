//! Vouchers end to end below the browser, every test on SQLite and on Postgres: the redeem preview's exact
//! answers, who may issue/list/switch/revoke, revoking keeps history, codes in any case, the redemption's
//! one transaction and its exact cap under concurrency, the credit ledger, and the voucher e-mail delivered
//! by a real SMTP server (retried after a temporary refusal, one sender across replicas).

use std::net::SocketAddr;
use std::time::Duration;

use app::auth::{OrgRole, PlatformRole};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Method, Request, StatusCode};
use server::billing::store as billing_store;
use server::db::{Db, now_ms};
use server::mail::{Mailer, WorkerConfig};
use server::state::AppState;
use server::vouchers::store::{self, Redeem, RedeemError};

use crate::common::{self, smtp};

// ---- harness --------------------------------------------------------------------------------------------

struct H {
    router: Router,
    state: AppState,
}

async fn harness(db: Db) -> H {
    harness_with(db, common::memory_settings()).await
}

async fn harness_with(db: Db, settings: server::config::Settings) -> H {
    let state = server::app_state(settings, db);
    H {
        router: server::http::router(state.clone()),
        state,
    }
}

struct Res {
    status: StatusCode,
    body: String,
}

impl Res {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl H {
    /// A JSON request from client address `ip`, with the console's Origin and `cookie` if given.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        cookie: Option<&str>,
        ip: [u8; 4],
    ) -> Res {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("origin", common::ORIGIN)
            .header("content-type", "application/json");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let mut req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        let (status, _, body) = common::send(&self.router, req).await;
        Res {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn json(&self, method: Method, path: &str, body: serde_json::Value, cookie: &str) -> Res {
        self.request(
            method,
            path,
            Some(&body.to_string()),
            Some(cookie),
            [192, 0, 2, 1],
        )
        .await
    }

    async fn preview(&self, body: &str, ip: [u8; 4]) -> Res {
        self.request(
            Method::POST,
            "/sovereign/api/v1/vouchers/redeem-preview",
            Some(body),
            None,
            ip,
        )
        .await
    }

    async fn admin(&self, email: &str) -> String {
        common::sign_in(
            &self.state,
            email,
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await
        .1
    }

    async fn issue(&self, cookie: &str, body: serde_json::Value) -> Res {
        self.json(Method::POST, "/sovereign/api/v1/vouchers", body, cookie)
            .await
    }

    async fn org(&self, name: &str) -> String {
        self.state
            .auth
            .create_org_named(name)
            .await
            .expect("organisation")
            .id
    }
}

fn voucher(code: &str, credit_cents: i64, max: i64) -> serde_json::Value {
    serde_json::json!({"code": code, "credit_cents": credit_cents, "max_redemptions": max})
}

async fn redeem(db: &Db, code: &str, org: &str) -> Result<store::Redeemed, RedeemError> {
    store::redeem(
        db,
        &Redeem {
            code: app::vouchers::validate::normalize_code(code),
            org_id: org.to_string(),
            user_id: None,
            order_id: uuid::Uuid::new_v4().to_string(),
            ledger_id: uuid::Uuid::new_v4().to_string(),
            now: now_ms(),
        },
    )
    .await
}

async fn times_redeemed(db: &Db, code: &str) -> i64 {
    store::get(db, code)
        .await
        .expect("read")
        .expect("voucher")
        .times_redeemed
}

/// Every organisation's balance equals the sum of its ledger.
async fn ledger_matches(db: &Db, org: &str) -> i64 {
    let balance = billing_store::account(db, org)
        .await
        .expect("account")
        .map_or(0, |a| a.balance_cents);
    assert_eq!(
        billing_store::ledger_sum(db, org).await.expect("sum"),
        balance,
        "the balance of {org} is the sum of its ledger"
    );
    balance
}

// ---- the redeem preview --------------------------------------------------------------------------------

async fn preview_answers_exactly_as_specified(db: Db) {
    let h = harness(db).await;
    let admin = h.admin("admin@example.com").await;
    assert_eq!(
        h.issue(
            &admin,
            serde_json::json!({"code": "spring-2027", "credit_cents": 10_000, "description": "Spring"})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    for code in ["OFF-2027", "ONCE-2027", "GONE-2027"] {
        let res = h.issue(&admin, voucher(code, 2_500, 1)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    // Ended two ways: switched off, and used up.
    let off = h
        .json(
            Method::PATCH,
            "/sovereign/api/v1/vouchers/off-2027",
            serde_json::json!({"active": false}),
            &admin,
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let org = h.org("Acme").await;
    redeem(&h.state.db, "ONCE-2027", &org).await.expect("redeemed");
    // Retired.
    let gone = h
        .request(
            Method::DELETE,
            "/sovereign/api/v1/vouchers/gone-2027",
            None,
            Some(&admin),
            [192, 0, 2, 1],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);

    // 200, in any case and with spaces around, signed out; exactly these fields.
    for (i, body) in [
        r#"{"code":"SPRING-2027"}"#,
        r#"{"code":"  spring-2027 "}"#,
        r#"{"code":"Spring-2027"}"#,
    ]
    .into_iter()
    .enumerate()
    {
        let res = h.preview(body, [198, 51, 100, i as u8]).await;
        assert_eq!(res.status, StatusCode::OK, "{body}: {}", res.body);
        assert_eq!(
            res.json(),
            serde_json::json!({
                "code": "SPRING-2027", "credit_cents": 10_000, "currency": "EUR", "description": "Spring",
                "active": true, "accepting_redemptions": true,
            }),
            "{body}: no counts, no dates"
        );
    }
    // 410 with the same shape: off, and used up.
    let res = h.preview(r#"{"code":"off-2027"}"#, [198, 51, 100, 10]).await;
    assert_eq!(res.status, StatusCode::GONE, "{}", res.body);
    assert_eq!(
        res.json(),
        serde_json::json!({
            "code": "OFF-2027", "credit_cents": 2_500, "currency": "EUR", "description": "",
            "active": false, "accepting_redemptions": false,
        })
    );
    let res = h.preview(r#"{"code":"once-2027"}"#, [198, 51, 100, 10]).await;
    assert_eq!(res.status, StatusCode::GONE, "{}", res.body);
    assert_eq!(res.json()["active"], true);
    assert_eq!(res.json()["accepting_redemptions"], false);
    for hidden in [
        "times_redeemed",
        "max_redemptions",
        "created_at",
        "deleted_at",
        "created_by",
    ] {
        assert!(res.json().get(hidden).is_none(), "{hidden} is hidden");
    }
    // 404 for unknown and retired alike: the same status and the same body.
    let unknown = h.preview(r#"{"code":"NO-SUCH-CODE"}"#, [198, 51, 100, 11]).await;
    let retired = h.preview(r#"{"code":"gone-2027"}"#, [198, 51, 100, 11]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(retired.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.body, retired.body,
        "a revoked code is indistinguishable from an unknown one"
    );
    assert_eq!(unknown.json()["error"], "not-found");
    assert!(
        unknown.json()["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("voucher not valid"))
    );
    let weird = h.preview(r#"{"code":"not a code!"}"#, [198, 51, 100, 11]).await;
    assert_eq!(weird.status, StatusCode::NOT_FOUND, "{}", weird.body);
    // 400: not JSON, not an object, no code, an empty code, a code that is not a string.
    for (body, says) in [
        ("{not json", "invalid JSON body"),
        ("[]", "invalid JSON body"),
        ("", "invalid JSON body"),
        ("{}", "code is required"),
        (r#"{"code":null}"#, "code is required"),
        (r#"{"code":"   "}"#, "code is required"),
        (r#"{"code":5}"#, "code must be a string"),
    ] {
        let res = h.preview(body, [198, 51, 100, 12]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}: {}", res.body);
        assert!(
            res.json()["detail"].as_str().is_some_and(|d| d.starts_with(says)),
            "{body}: {}",
            res.body
        );
    }
}

/// Per client address: a burst of 30, then one every 2 s; another address is unaffected.
async fn preview_is_rate_limited_per_client_address(db: Db) {
    let h = harness(db).await;
    let ip = [203, 0, 113, 7];
    for i in 0..server::vouchers::PREVIEW_QUOTA.burst {
        let res = h.preview(r#"{"code":"NOPE"}"#, ip).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "request {i}: {}", res.body);
    }
    let res = h.preview(r#"{"code":"NOPE"}"#, ip).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(
        res.body.contains("Too many voucher checks from your address"),
        "{}",
        res.body
    );
    let other = h.preview(r#"{"code":"NOPE"}"#, [203, 0, 113, 8]).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

// ---- administration -------------------------------------------------------------------------------------

async fn only_superadmins_and_sovereign_admins_administer_vouchers(db: Db) {
    let h = harness(db).await;
    let admin = h.admin("admin@example.com").await;
    let (_, sovereign) = common::sign_in(
        &h.state,
        "sov@example.com",
        Some(PlatformRole::SovereignAdmin),
        None,
    )
    .await;
    let (_, owner) = common::sign_in(&h.state, "owner@example.com", None, Some(OrgRole::Owner)).await;
    for (cookie, who) in [(&owner, "an organisation owner")] {
        let res = h.issue(cookie, voucher("NOPE-1", 100, 0)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{who}: {}", res.body);
        assert!(res.body.contains("vouchers.issue"), "{}", res.body);
        for (m, p, perm) in [
            (Method::GET, "/sovereign/api/v1/vouchers", "vouchers.read"),
            (Method::GET, "/sovereign/api/v1/vouchers/NOPE-1", "vouchers.read"),
            (
                Method::PATCH,
                "/sovereign/api/v1/vouchers/NOPE-1",
                "vouchers.update",
            ),
            (
                Method::DELETE,
                "/sovereign/api/v1/vouchers/NOPE-1",
                "vouchers.revoke",
            ),
        ] {
            let body = (m == Method::PATCH).then_some(r#"{"active":false}"#);
            let res = h.request(m.clone(), p, body, Some(cookie), [192, 0, 2, 1]).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{who} {m} {p}: {}", res.body);
            assert!(res.body.contains(perm), "{}", res.body);
        }
    }
    // A sovereign admin issues, lists, switches and revokes; each change is in the audit log.
    let res = h
        .issue(
            &sovereign,
            serde_json::json!({"code": "Sov-1", "credit_cents": 5_000, "recipient_email": ""}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let issued = res.json();
    assert_eq!(issued["voucher"]["code"], "SOV-1", "stored upper-case");
    assert_eq!(issued["voucher"]["active"], true, "active by default");
    assert_eq!(issued["voucher"]["max_redemptions"], 0, "unlimited by default");
    assert_eq!(issued["email_queued"], false);
    let res = h
        .json(
            Method::PATCH,
            "/sovereign/api/v1/vouchers/sov-1",
            serde_json::json!({"active": false}),
            &sovereign,
        )
        .await;
    assert_eq!(
        (res.status, res.json()["active"].clone()),
        (StatusCode::OK, false.into())
    );
    let res = h
        .request(
            Method::DELETE,
            "/sovereign/api/v1/vouchers/SOV-1",
            None,
            Some(&sovereign),
            [192, 0, 2, 1],
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let res = h
        .request(
            Method::DELETE,
            "/sovereign/api/v1/vouchers/SOV-1",
            None,
            Some(&admin),
            [192, 0, 2, 1],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "revoking twice: {}", res.body);
    let audit = server::db::audit::list(
        &h.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("vouchers.".into()),
            actor_id: None,
        },
        app::paging::PageRequest::new(None, None),
    )
    .await
    .expect("audit");
    let mut actions: Vec<(String, String, String)> = audit
        .items
        .iter()
        .map(|e| (e.action.clone(), e.target.clone(), e.actor.clone()))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            ("vouchers.issue".into(), "SOV-1".into(), "sov@example.com".into()),
            ("vouchers.revoke".into(), "SOV-1".into(), "sov@example.com".into()),
            ("vouchers.update".into(), "SOV-1".into(), "sov@example.com".into()),
        ]
    );
    // Bad input names its fields; a code is never reused.
    let res = h
        .issue(
            &admin,
            serde_json::json!({"code": "x", "credit_cents": 0, "currency": "OMR", "max_redemptions": -2}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let body = res.json();
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["code", "credit", "currency", "max_redemptions"]);
    let res = h.issue(&admin, voucher("sov-1", 100, 0)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.body.contains("taken"), "{}", res.body);
}

async fn the_list_searches_pages_and_hides_revoked_ones(db: Db) {
    let h = harness(db).await;
    let admin = h.admin("admin@example.com").await;
    for i in 0..23 {
        let desc = if i % 2 == 0 {
            "Spring campaign"
        } else {
            "Partner 50% off"
        };
        let res = h
            .issue(
                &admin,
                serde_json::json!({"code": format!("C-{i:02}"), "credit_cents": 100, "description": desc}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    h.request(
        Method::DELETE,
        "/sovereign/api/v1/vouchers/C-00",
        None,
        Some(&admin),
        [192, 0, 2, 1],
    )
    .await;
    let list = async |q: &str| {
        let path = format!("/sovereign/api/v1/vouchers?{q}");
        let res = h
            .request(Method::GET, &path, None, Some(&admin), [192, 0, 2, 1])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{q}: {}", res.body);
        res.json()
    };
    let page = list("perPage=10").await;
    assert_eq!(page["total"], 22, "revoked ones are left out");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(10));
    let times: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v["created_at"].as_i64())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    let last = list("perPage=10&page=3").await;
    assert_eq!(last["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(list("revoked=true").await["total"], 23);
    // Any case, code or description; `%` is a literal.
    assert_eq!(list("q=spring").await["total"], 11);
    assert_eq!(list("q=c-1").await["total"], 10);
    assert_eq!(list("q=50%25").await["total"], 11);
    assert_eq!(list("q=5_%25").await["total"], 0);
}

async fn revoking_keeps_the_history(db: Db) {
    let h = harness(db).await;
    let admin = h.admin("admin@example.com").await;
    h.issue(&admin, voucher("KEEP-1", 4_000, 0)).await;
    let (a, b) = (h.org("Alpha").await, h.org("Beta").await);
    for org in [&a, &b] {
        let res = h
            .json(
                Method::POST,
                &format!("/sovereign/api/v1/orgs/{org}/vouchers/redeem"),
                serde_json::json!({"code": "keep-1"}),
                &admin,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        assert_eq!(res.json()["balance_cents"], 4_000);
    }
    let res = h
        .request(
            Method::DELETE,
            "/sovereign/api/v1/vouchers/keep-1",
            None,
            Some(&admin),
            [192, 0, 2, 1],
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let detail = h
        .request(
            Method::GET,
            "/sovereign/api/v1/vouchers/keep-1",
            None,
            Some(&admin),
            [192, 0, 2, 1],
        )
        .await
        .json();
    assert!(detail["voucher"]["deleted_at"].is_i64(), "{detail}");
    assert_eq!(detail["voucher"]["times_redeemed"], 2);
    let names: Vec<&str> = detail["redemptions"]
        .as_array()
        .expect("redemptions")
        .iter()
        .filter_map(|r| r["org_name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{detail}");
    assert!(names.contains(&"Alpha") && names.contains(&"Beta"));
    // The credit stays, and a revoked code never redeems again.
    for org in [&a, &b] {
        assert_eq!(ledger_matches(&h.state.db, org).await, 4_000);
        let billing = h
            .request(
                Method::GET,
                &format!("/sovereign/api/v1/orgs/{org}/billing"),
                None,
                Some(&admin),
                [192, 0, 2, 1],
            )
            .await
            .json();
        assert_eq!(billing["balance_cents"], 4_000);
        assert_eq!(billing["ledger"][0]["reason"], "voucher:KEEP-1");
        assert_eq!(billing["orders"][0]["kind"], "voucher");
    }
    let c = h.org("Gamma").await;
    let res = h
        .json(
            Method::POST,
            &format!("/sovereign/api/v1/orgs/{c}/vouchers/redeem"),
            serde_json::json!({"code": "KEEP-1"}),
            &admin,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(
        res.body.contains("does not exist or has been retired"),
        "{}",
        res.body
    );
}

// ---- redemption -----------------------------------------------------------------------------------------

async fn seed_voucher(db: &Db, code: &str, credit: i64, max: i64, active: bool) {
    assert!(
        store::insert(
            db,
            &store::NewVoucherRow {
                code: code.into(),
                credit_cents: credit,
                currency: "EUR".into(),
                description: String::new(),
                active,
                max_redemptions: max,
                created_by: None,
                now: now_ms(),
            },
        )
        .await
        .expect("insert")
    );
}

async fn org_row(db: &Db, name: &str) -> String {
    let slug = format!("o-{}", uuid::Uuid::new_v4().simple());
    server::db::orgs::create(db, &slug, name)
        .await
        .expect("org")
        .expect("free slug")
        .id
}

async fn codes_are_case_insensitive_and_redeem_once_per_organisation(db: Db) {
    seed_voucher(&db, "MIXED-1", 1_500, 0, true).await;
    let (a, b) = (org_row(&db, "A").await, org_row(&db, "B").await);
    let r = redeem(&db, "mixed-1", &a).await.expect("lower case redeems");
    assert_eq!((r.credit_cents, r.balance_cents), (1_500, 1_500));
    assert!(matches!(
        redeem(&db, "MIXED-1", &a).await,
        Err(RedeemError::AlreadyRedeemed)
    ));
    assert!(matches!(
        redeem(&db, " Mixed-1 ", &a).await,
        Err(RedeemError::AlreadyRedeemed)
    ));
    redeem(&db, "mIxEd-1", &b).await.expect("another organisation");
    assert_eq!(
        times_redeemed(&db, "MIXED-1").await,
        2,
        "the refused try did not count"
    );
    assert_eq!(ledger_matches(&db, &a).await, 1_500);
    assert_eq!(ledger_matches(&db, &b).await, 1_500);
    // A second voucher adds to the same account.
    seed_voucher(&db, "MORE-1", 500, 0, true).await;
    assert_eq!(
        redeem(&db, "more-1", &a).await.expect("more").balance_cents,
        2_000
    );
    assert_eq!(ledger_matches(&db, &a).await, 2_000);
}

async fn ended_and_retired_vouchers_never_redeem(db: Db) {
    seed_voucher(&db, "OFF-1", 100, 0, false).await;
    seed_voucher(&db, "CAP-1", 100, 1, true).await;
    seed_voucher(&db, "GONE-1", 100, 0, true).await;
    assert!(store::revoke(&db, "GONE-1", now_ms()).await.expect("revoke"));
    let org = org_row(&db, "A").await;
    let other = org_row(&db, "B").await;
    assert!(matches!(
        redeem(&db, "off-1", &org).await,
        Err(RedeemError::Inactive)
    ));
    redeem(&db, "cap-1", &other).await.expect("the one redemption");
    assert!(matches!(
        redeem(&db, "cap-1", &org).await,
        Err(RedeemError::UsedUp)
    ));
    assert!(matches!(
        redeem(&db, "gone-1", &org).await,
        Err(RedeemError::NotFound)
    ));
    assert!(matches!(
        redeem(&db, "never-1", &org).await,
        Err(RedeemError::NotFound)
    ));
    assert_eq!(ledger_matches(&db, &org).await, 0);
    assert!(billing_store::account(&db, &org).await.expect("read").is_none());
    for code in ["OFF-1", "GONE-1"] {
        assert_eq!(times_redeemed(&db, code).await, 0);
    }
    assert_eq!(times_redeemed(&db, "CAP-1").await, 1);
}

/// A statement of the test's own that fails every insert into the ledger: the redemption's last step.
async fn break_the_ledger(db: &Db, broken: bool) {
    match db {
        Db::Sqlite(pool) => {
            let sql = if broken {
                "CREATE TRIGGER test_ledger_broken BEFORE INSERT ON credit_ledger \
                 BEGIN SELECT RAISE(ABORT, 'test: the ledger is broken'); END"
            } else {
                "DROP TRIGGER test_ledger_broken"
            };
            sqlx::query(sql).execute(pool).await.expect("trigger");
        }
        Db::Postgres(pool) => {
            let sqls: &[&str] = if broken {
                &[
                    "CREATE FUNCTION test_ledger_broken() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'test: the ledger is broken'; END; $$",
                    "CREATE TRIGGER test_ledger_broken BEFORE INSERT ON credit_ledger \
                     FOR EACH ROW EXECUTE FUNCTION test_ledger_broken()",
                ]
            } else {
                &[
                    "DROP TRIGGER test_ledger_broken ON credit_ledger",
                    "DROP FUNCTION test_ledger_broken()",
                ]
            };
            for sql in sqls {
                sqlx::query(sql).execute(pool).await.expect("trigger");
            }
        }
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await,
    }
    .expect("count")
}

async fn a_failure_after_the_redemption_rolls_everything_back(db: Db) {
    seed_voucher(&db, "ATOMIC-1", 900, 1, true).await;
    let org = org_row(&db, "A").await;
    break_the_ledger(&db, true).await;
    let err = redeem(&db, "atomic-1", &org)
        .await
        .expect_err("the ledger insert fails");
    assert!(matches!(err, RedeemError::Db(_)), "{err:?}");
    // Nothing of it stayed: not the claim on the cap, not the redemption, not the order, not the account.
    assert_eq!(times_redeemed(&db, "ATOMIC-1").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM voucher_redemptions").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM credit_accounts").await, 0);
    break_the_ledger(&db, false).await;
    // The cap of 1 is still free: the failed attempt took nothing.
    let r = redeem(&db, "ATOMIC-1", &org).await.expect("now it redeems");
    assert_eq!(r.balance_cents, 900);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM voucher_redemptions").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(ledger_matches(&db, &org).await, 900);
}

async fn the_cap_is_exact_under_concurrent_redemptions(db: Db) {
    const CAP: i64 = 7;
    const TRIES: usize = 40;
    seed_voucher(&db, "RUSH-1", 1_000, CAP, true).await;
    let mut orgs = Vec::new();
    for i in 0..TRIES {
        orgs.push(org_row(&db, &format!("Org {i}")).await);
    }
    let tasks: Vec<_> = orgs
        .iter()
        .map(|org| {
            let (db, org) = (db.clone(), org.clone());
            tokio::spawn(async move { redeem(&db, "rush-1", &org).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(RedeemError::UsedUp) => {}
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    assert_eq!(ok, CAP, "exactly the cap succeeds");
    assert_eq!(times_redeemed(&db, "RUSH-1").await, CAP);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM voucher_redemptions").await, CAP);
    let mut total = 0;
    for org in &orgs {
        total += ledger_matches(&db, org).await;
    }
    assert_eq!(total, CAP * 1_000, "the ledgers add up to the credit given");
}

async fn the_ledger_is_append_only(db: Db) {
    seed_voucher(&db, "LEDGER-1", 100, 0, true).await;
    let org = org_row(&db, "A").await;
    redeem(&db, "LEDGER-1", &org).await.expect("redeemed");
    for sql in [
        "UPDATE credit_ledger SET amount_cents = 1000000",
        "DELETE FROM credit_ledger",
    ] {
        let refused = match &db {
            Db::Sqlite(pool) => sqlx::query(sql).execute(pool).await.is_err(),
            Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.is_err(),
        };
        assert!(refused, "{sql} is refused");
    }
    assert_eq!(ledger_matches(&db, &org).await, 100);
}

// ---- e-mail ---------------------------------------------------------------------------------------------

fn quick_retries() -> WorkerConfig {
    WorkerConfig {
        first_retry: Duration::ZERO,
        ..WorkerConfig::default()
    }
}

async fn mail_harness(db: Db, mail: server::mail::config::MailSettings) -> H {
    let mut settings = common::memory_settings();
    settings.mail = mail;
    harness_with(db, settings).await
}

fn recipient(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", uuid::Uuid::new_v4().simple())
}

async fn issuing_with_a_recipient_delivers_the_voucher_mail(db: Db) {
    let h = mail_harness(db.clone(), smtp::mail_settings("https://console.example.com")).await;
    let admin = h.admin("admin@example.com").await;
    let to = recipient("ana");
    let res = h
        .issue(
            &admin,
            serde_json::json!({"code": "mail-1", "credit_cents": 12_345, "description": "Launch week", "recipient_email": to.to_uppercase()}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["email_queued"], true);
    assert!(
        smtp::delivered_to(&to).is_empty(),
        "queued, not sent by the issue call"
    );
    let sender = Mailer::new(
        db.clone(),
        smtp::mail_settings("https://console.example.com"),
        "replica-a".into(),
        quick_retries(),
    )
    .expect("mailer");
    let round = sender.run_once().await.expect("round");
    assert_eq!((round.leader, round.sent, round.retried), (true, 1, 0));
    let got = smtp::delivered_to(&to);
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m["mail_from"], "vouchers@example.com");
    assert_eq!(m["subject"], "Your Catalyst voucher: €123.45 of credit");
    assert_eq!(m["content_type"], "multipart/alternative");
    let link = "https://console.example.com/redeem?code=MAIL-1";
    for part in ["text", "html"] {
        let body = m[part].as_str().expect("part");
        assert!(body.contains("MAIL-1"), "{part}: {body}");
        assert!(body.contains(link), "{part}: {body}");
        assert!(body.contains("Launch week"), "{part}: {body}");
    }
    // Sent once: the next round has nothing to do.
    assert_eq!(sender.run_once().await.expect("round").sent, 0);
    let detail = h
        .request(
            Method::GET,
            "/sovereign/api/v1/vouchers/MAIL-1",
            None,
            Some(&admin),
            [192, 0, 2, 1],
        )
        .await
        .json();
    assert_eq!(detail["mails"][0]["status"], "sent");
    assert_eq!(detail["mails"][0]["recipient"], to);
}

async fn a_failed_send_is_retried(db: Db) {
    let h = mail_harness(db.clone(), smtp::mail_settings("https://console.example.com")).await;
    let admin = h.admin("admin@example.com").await;
    // The test server refuses this recipient with 451 the first time (a temporary failure).
    let to = recipient("fail-once");
    let res = h
        .issue(
            &admin,
            serde_json::json!({"code": "RETRY-1", "credit_cents": 100, "recipient_email": to}),
        )
        .await;
    assert_eq!(res.json()["email_queued"], true, "{}", res.body);
    let sender = Mailer::new(
        db.clone(),
        smtp::mail_settings("https://console.example.com"),
        "replica-a".into(),
        quick_retries(),
    )
    .expect("mailer");
    let first = sender.run_once().await.expect("round");
    assert_eq!((first.sent, first.retried, first.failed), (0, 1, 0));
    assert!(smtp::delivered_to(&to).is_empty());
    let mails = store::mails(&db, "RETRY-1").await.expect("mails");
    assert_eq!((mails[0].status.as_str(), mails[0].attempts), ("pending", 1));
    assert!(
        mails[0].last_error.as_deref().is_some_and(|e| e.contains("451")),
        "{:?}",
        mails[0].last_error
    );
    let second = sender.run_once().await.expect("round");
    assert_eq!((second.sent, second.retried), (1, 0));
    assert_eq!(smtp::delivered_to(&to).len(), 1);
    let mails = store::mails(&db, "RETRY-1").await.expect("mails");
    assert_eq!((mails[0].status.as_str(), mails[0].attempts), ("sent", 2));

    // A permanent refusal (550) is not retried; the answer is kept for the voucher's page.
    let to = recipient("reject");
    h.issue(
        &admin,
        serde_json::json!({"code": "REJECT-1", "credit_cents": 100, "recipient_email": to}),
    )
    .await;
    let round = sender.run_once().await.expect("round");
    assert_eq!((round.sent, round.retried, round.failed), (0, 0, 1));
    let mails = store::mails(&db, "REJECT-1").await.expect("mails");
    assert_eq!(mails[0].status, "failed");
    assert!(mails[0].last_error.as_deref().is_some_and(|e| e.contains("550")));

    // Backoff: after a failure the message waits before the next attempt.
    let cfg = WorkerConfig::default();
    let to = recipient("fail-once");
    h.issue(
        &admin,
        serde_json::json!({"code": "LATER-1", "credit_cents": 100, "recipient_email": to}),
    )
    .await;
    let slow = Mailer::new(
        db.clone(),
        smtp::mail_settings("https://console.example.com"),
        "replica-a".into(),
        cfg,
    )
    .expect("mailer");
    assert_eq!(slow.run_once().await.expect("round").retried, 1);
    assert_eq!(slow.run_once().await.expect("round").sent, 0, "not due again yet");
}

async fn issuing_never_waits_for_or_fails_with_the_mail_server(db: Db) {
    // No SMTP server configured: issued, nothing queued.
    let h = harness(db.clone()).await;
    let admin = h.admin("admin@example.com").await;
    let res = h
        .issue(
            &admin,
            serde_json::json!({"code": "NOMAIL-1", "credit_cents": 100, "recipient_email": "x@example.com"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["email_queued"], false);
    // A configured server that is down: issued and queued; the send fails and waits for a retry.
    let down = smtp::unreachable_mail_settings("https://console.example.com");
    let h = mail_harness(db.clone(), down.clone()).await;
    let res = h
        .issue(
            &admin,
            serde_json::json!({"code": "DOWN-1", "credit_cents": 100, "recipient_email": "y@example.com"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["email_queued"], true);
    let sender = Mailer::new(db.clone(), down, "replica-a".into(), quick_retries()).expect("mailer");
    let round = sender.run_once().await.expect("round");
    assert_eq!((round.sent, round.retried), (0, 1));
    let mails = store::mails(&db, "DOWN-1").await.expect("mails");
    assert_eq!(mails[0].status, "pending");
}

async fn one_replica_sends_at_a_time(db: Db) {
    let h = mail_harness(db.clone(), smtp::mail_settings("https://console.example.com")).await;
    let admin = h.admin("admin@example.com").await;
    let to = recipient("once");
    h.issue(
        &admin,
        serde_json::json!({"code": "LEASE-1", "credit_cents": 100, "recipient_email": to}),
    )
    .await;
    let short = WorkerConfig {
        lease_ttl: Duration::from_secs(3600),
        ..quick_retries()
    };
    let a = Mailer::new(
        db.clone(),
        smtp::mail_settings("https://c.example.com"),
        "replica-a".into(),
        short.clone(),
    )
    .expect("a");
    let b = Mailer::new(
        db.clone(),
        smtp::mail_settings("https://c.example.com"),
        "replica-b".into(),
        short,
    )
    .expect("b");
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let (ra, rb) = (ra.expect("a"), rb.expect("b"));
    assert!(
        ra.leader != rb.leader,
        "exactly one holds the lease: {ra:?} {rb:?}"
    );
    assert_eq!(ra.sent + rb.sent, 1);
    assert_eq!(smtp::delivered_to(&to).len(), 1);
    // The holder keeps it; the other takes over once it is given up.
    let (leader, other) = if ra.leader { (&a, &b) } else { (&b, &a) };
    assert!(leader.run_once().await.expect("renew").leader);
    assert!(!other.run_once().await.expect("wait").leader);
    server::mail::outbox::release_lease(
        &db,
        server::mail::LEASE,
        if ra.leader { "replica-a" } else { "replica-b" },
    )
    .await
    .expect("release");
    assert!(other.run_once().await.expect("take over").leader);
}

// ---- sign-up with a voucher ----------------------------------------------------------------------------

impl H {
    /// Calls the sign-up server function as the page's form does (form-encoded, JSON answer).
    async fn signup(&self, email: &str, voucher: Option<&str>) -> (StatusCode, Vec<u8>) {
        use leptos::server_fn::ServerFn;
        let mut form = vec![
            ("email", email.to_string()),
            ("password", "correct horse battery staple".to_string()),
            ("display_name", String::new()),
        ];
        if let Some(v) = voucher {
            form.push(("voucher", v.to_string()));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = Request::post(<app::auth::api::Signup as ServerFn>::PATH)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("origin", common::ORIGIN)
            .body(Body::from(body))
            .expect("request");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 99], 40000))));
        let (status, _, body) = common::send(&self.router, req).await;
        (status, body.to_vec())
    }
}

fn app_error(bytes: &[u8]) -> app::error::AppError {
    use leptos::server_fn::error::FromServerFnError;
    app::error::AppError::de(bytes.to_vec().into())
}

/// Sign-up is invite-only here (the default): a voucher that accepts redemptions is the invitation, and
/// the new account's own organisation gets its credit in the same step.
async fn a_voucher_link_is_an_invitation_that_credits_the_new_organisation(db: Db) {
    let h = harness(db.clone()).await;
    let admin = h.admin("admin@example.com").await;
    h.issue(
        &admin,
        serde_json::json!({"code": "WELCOME-1", "credit_cents": 20_000, "max_redemptions": 2}),
    )
    .await;
    let (status, body) = h.signup("nobody@example.com", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app_error(&body).field_message("invite").is_some(),
        "invite-only without a voucher"
    );

    let (status, body) = h.signup("new@example.com", Some("welcome-1")).await;
    assert_eq!(status, StatusCode::OK, "{:?}", app_error(&body));
    assert_eq!(
        serde_json::from_slice::<String>(&body).expect("next page"),
        "/sovereign/wizard",
        "straight on to the wizard"
    );
    let user = server::db::users::by_email(&db, "new@example.com")
        .await
        .expect("read")
        .expect("the account exists");
    let orgs = server::db::orgs::memberships_of(&db, &user.id)
        .await
        .expect("orgs");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].role, OrgRole::Owner, "their own organisation");
    assert_eq!(ledger_matches(&db, &orgs[0].org_id).await, 20_000);
    let ledger = billing_store::ledger(&db, &orgs[0].org_id, 10)
        .await
        .expect("ledger");
    assert_eq!(ledger[0].reason, "voucher:WELCOME-1");
    assert_eq!(times_redeemed(&db, "WELCOME-1").await, 1);

    // Not valid, and ended: refused on the voucher field, and no account is made.
    let (status, body) = h.signup("other@example.com", Some("NO-SUCH-1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app_error(&body)
            .field_message("voucher")
            .is_some_and(|m| m.contains("does not exist or has been retired")),
        "{:?}",
        app_error(&body)
    );
    h.json(
        Method::PATCH,
        "/sovereign/api/v1/vouchers/WELCOME-1",
        serde_json::json!({"active": false}),
        &admin,
    )
    .await;
    let (status, body) = h.signup("late@example.com", Some("Welcome-1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app_error(&body)
            .field_message("voucher")
            .is_some_and(|m| m.contains("campaign has ended")),
        "{:?}",
        app_error(&body)
    );
    for email in ["other@example.com", "late@example.com"] {
        assert!(
            server::db::users::by_email(&db, email)
                .await
                .expect("read")
                .is_none()
        );
    }
}

// ---- launches paid by credit ----------------------------------------------------------------------------

/// A launch through the one create path (`Engine::create`): paid by credit when the organisation has a credit
/// account (the order and the ledger's spend), refused with the amount missing when the credit is short (and
/// nothing stored), not billed when the organisation has no account.
async fn a_launch_is_paid_by_credit_or_refused_with_the_amount_missing(db: Db) {
    use app::ports::BillingPort;
    let h = harness(db.clone()).await;
    let funded = org_row(&db, "Funded").await;
    let poor = org_row(&db, "Poor").await;
    let free = org_row(&db, "Unbilled").await;
    let mut body = common::engine::request("launch.example.com");
    let monthly = h.state.engine.launch_price_cents(&body.request).await;
    assert!(monthly > 1_000, "{monthly}");
    seed_voucher(&db, "BIG-1", monthly + 1_000, 0, true).await;
    seed_voucher(&db, "SMALL-1", monthly - 1, 0, true).await;
    redeem(&db, "BIG-1", &funded).await.expect("funded");
    redeem(&db, "SMALL-1", &poor).await.expect("poor");

    // Covered: created, and the first month is spent from the credit.
    body.org_id = Some(funded.clone());
    let actor = common::engine::member(&funded, OrgRole::Owner);
    let q = h
        .state
        .billing
        .quote(&actor.principal, &funded, monthly)
        .await
        .expect("quote");
    assert!(q.billed && q.covered() && q.missing_cents == 0, "{q:?}");
    let created = h
        .state
        .engine
        .create(&actor, body.clone())
        .await
        .expect("created");
    let order = billing_store::deployment_order(&db, &created.id)
        .await
        .expect("read")
        .expect("an order for the launch");
    assert_eq!((order.amount_cents, order.paid_by_credit), (monthly, true));
    assert_eq!(ledger_matches(&db, &funded).await, 1_000);
    let ledger = billing_store::ledger(&db, &funded, 10).await.expect("ledger");
    assert_eq!(ledger[0].amount_cents, -monthly);
    assert_eq!(ledger[0].reason, format!("deployment:{}", created.id));
    // The Review step's quote agrees: after the launch 1,000 is left, short of another month.
    let q = h
        .state
        .billing
        .quote(&actor.principal, &funded, monthly)
        .await
        .expect("quote");
    assert!(q.billed && !q.covered(), "{q:?}");
    assert_eq!((q.balance_cents, q.missing_cents), (1_000, monthly - 1_000));
    // The same organisation again: 1,000 left, not enough.
    let mut again = common::engine::request("launch2.example.com");
    again.org_id = Some(funded.clone());
    let err = h
        .state
        .engine
        .create(&actor, again)
        .await
        .expect_err("not covered");
    let missing = app::billing::format_money(monthly - 1_000, "EUR");
    assert!(
        matches!(&err, app::error::AppError::Conflict(m) if m.contains(&format!("{missing} is missing"))),
        "{err:?}"
    );

    // Short by one cent: refused, nothing stored.
    let mut short = common::engine::request("short.example.com");
    short.org_id = Some(poor.clone());
    let actor = common::engine::member(&poor, OrgRole::Owner);
    let err = h
        .state
        .engine
        .create(&actor, short)
        .await
        .expect_err("not covered");
    assert!(
        matches!(&err, app::error::AppError::Conflict(m) if m.contains("€0.01 is missing")),
        "{err:?}"
    );
    assert_eq!(ledger_matches(&db, &poor).await, monthly - 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM deployments WHERE fqdn = 'short.example.com'"
        )
        .await,
        0
    );

    // No credit account: not billed, no order.
    let mut unbilled = common::engine::request("free.example.com");
    unbilled.org_id = Some(free.clone());
    let actor = common::engine::member(&free, OrgRole::Owner);
    let created = h.state.engine.create(&actor, unbilled).await.expect("created");
    assert!(
        billing_store::deployment_order(&db, &created.id)
            .await
            .expect("read")
            .is_none()
    );
    h.state.engine.shutdown().await;
}

/// The charge is part of the deployment's insert: a balance that dropped after the create path's own check
/// refuses the insert, and no deployment row is left.
async fn the_charge_shares_the_deployments_transaction(db: Db) {
    use server::db::deployments::{self as deployments_store, CreateLimits, InsertError};
    let org = org_row(&db, "Racing").await;
    seed_voucher(&db, "RACE-1", 5_000, 0, true).await;
    redeem(&db, "RACE-1", &org).await.expect("credit");
    let new = |id: &str| deployments_store::NewDeployment {
        id: id.into(),
        org_id: org.clone(),
        created_by: "u".into(),
        fqdn: format!("{id}.example.com"),
        request: "{}".into(),
        bearer_sha256: "0".repeat(64),
        secrets: vec![],
        first_event: server::db::deployment_events::NewEvent::log(
            app::deployments::Phase::Gitops,
            app::deployments::Level::Info,
            "created".to_string(),
        ),
    };
    let charge = |id: &str, cents: i64| server::billing::ledger::Posting {
        org_id: org.clone(),
        amount_cents: -cents,
        currency: "EUR".into(),
        reason: format!("deployment:{id}"),
        open_account: false,
        order: server::billing::ledger::NewOrder {
            id: uuid::Uuid::new_v4().to_string(),
            kind: "deployment",
            voucher_code: None,
            deployment_id: Some(id.into()),
            amount_cents: cents,
            paid_by_credit: true,
            description: String::new(),
            created_by: None,
        },
        ledger_id: uuid::Uuid::new_v4().to_string(),
        now: now_ms(),
    };
    deployments_store::insert_charged(&db, &new("one"), CreateLimits::OFF, Some(&charge("one", 3_000)))
        .await
        .expect("covered");
    let refused =
        deployments_store::insert_charged(&db, &new("two"), CreateLimits::OFF, Some(&charge("two", 3_000)))
            .await;
    assert!(matches!(refused, Err(InsertError::NotCovered)), "{refused:?}");
    assert!(
        deployments_store::get(&db, "two").await.expect("read").is_none(),
        "rolled back"
    );
    assert!(deployments_store::get(&db, "one").await.expect("read").is_some());
    assert_eq!(ledger_matches(&db, &org).await, 2_000);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM orders WHERE kind = 'deployment'").await,
        1
    );
}

/// One organisation pressing Redeem many times at once (two tabs, a double click, a retrying client) is
/// credited once: the other tries are refused as already redeemed and the ledger holds one grant.
async fn one_organisation_redeeming_at_once_is_credited_once(db: Db) {
    const TRIES: usize = 20;
    seed_voucher(&db, "TWICE-1", 2_500, 0, true).await;
    let org = org_row(&db, "Eager").await;
    let tasks: Vec<_> = (0..TRIES)
        .map(|_| {
            let (db, org) = (db.clone(), org.clone());
            tokio::spawn(async move { redeem(&db, "twice-1", &org).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(RedeemError::AlreadyRedeemed) => {}
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    assert_eq!(ok, 1, "credited once");
    assert_eq!(times_redeemed(&db, "TWICE-1").await, 1);
    assert_eq!(ledger_matches(&db, &org).await, 2_500);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM credit_ledger").await, 1);
}

/// Launches racing for the same credit never overdraw it: of 12 concurrent charges of 3,000 against 10,000,
/// exactly 3 are stored (each with its order and ledger spend) and the rest are refused with nothing stored.
async fn concurrent_launches_never_overdraw_the_credit(db: Db) {
    use server::db::deployments::{self as deployments_store, CreateLimits, InsertError};
    const TRIES: usize = 12;
    let org = org_row(&db, "Busy").await;
    seed_voucher(&db, "POOL-1", 10_000, 0, true).await;
    redeem(&db, "POOL-1", &org).await.expect("credit");
    let tasks: Vec<_> = (0..TRIES)
        .map(|i| {
            let (db, org) = (db.clone(), org.clone());
            tokio::spawn(async move {
                let id = format!("race{i}");
                let new = deployments_store::NewDeployment {
                    id: id.clone(),
                    org_id: org.clone(),
                    created_by: "u".into(),
                    fqdn: format!("{id}.example.com"),
                    request: "{}".into(),
                    bearer_sha256: "0".repeat(64),
                    secrets: vec![],
                    first_event: server::db::deployment_events::NewEvent::log(
                        app::deployments::Phase::Gitops,
                        app::deployments::Level::Info,
                        "created".to_string(),
                    ),
                };
                let charge = server::billing::ledger::Posting {
                    org_id: org,
                    amount_cents: -3_000,
                    currency: "EUR".into(),
                    reason: format!("deployment:{id}"),
                    open_account: false,
                    order: server::billing::ledger::NewOrder {
                        id: uuid::Uuid::new_v4().to_string(),
                        kind: "deployment",
                        voucher_code: None,
                        deployment_id: Some(id.clone()),
                        amount_cents: 3_000,
                        paid_by_credit: true,
                        description: String::new(),
                        created_by: None,
                    },
                    ledger_id: uuid::Uuid::new_v4().to_string(),
                    now: now_ms(),
                };
                deployments_store::insert_charged(&db, &new, CreateLimits::OFF, Some(&charge)).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => ok += 1,
            Err(InsertError::NotCovered) => {}
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    assert_eq!(ok, 3, "exactly what the credit covers");
    assert_eq!(ledger_matches(&db, &org).await, 1_000);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM deployments").await, 3);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM orders WHERE kind = 'deployment'").await,
        3
    );
}

on_both_backends!(
    one_organisation_redeeming_at_once_is_credited_once,
    concurrent_launches_never_overdraw_the_credit,
    a_launch_is_paid_by_credit_or_refused_with_the_amount_missing,
    the_charge_shares_the_deployments_transaction,
    a_voucher_link_is_an_invitation_that_credits_the_new_organisation,
    preview_answers_exactly_as_specified,
    preview_is_rate_limited_per_client_address,
    only_superadmins_and_sovereign_admins_administer_vouchers,
    the_list_searches_pages_and_hides_revoked_ones,
    revoking_keeps_the_history,
    codes_are_case_insensitive_and_redeem_once_per_organisation,
    ended_and_retired_vouchers_never_redeem,
    a_failure_after_the_redemption_rolls_everything_back,
    the_cap_is_exact_under_concurrent_redemptions,
    the_ledger_is_append_only,
    issuing_with_a_recipient_delivers_the_voucher_mail,
    a_failed_send_is_retried,
    issuing_never_waits_for_or_fails_with_the_mail_server,
    one_replica_sends_at_a_time,
);
