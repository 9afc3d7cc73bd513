//! Denial of service (issue 18.7): the listener's header timeout and connection cap, the request timeout,
//! setup's token before any hash, per-address locks that a stranger cannot turn against an account, IPv6
//! /64 buckets, the single sign-on start and Hetzner token check limits, open event streams per account, and
//! the index of logins in flight.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use app::auth::{OrgRole, PlatformRole, RequestMeta};
use app::error::AppError;
use app::ports::SessionsPort;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use leptos::server_fn::error::FromServerFnError;
use server::db::Db;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_backends!(
    a_strangers_failures_lock_only_the_strangers_address,
    logins_in_flight_are_indexed_by_age,
);

const PASSWORD: &str = "correct horse battery staple";

fn meta(ip: &str) -> RequestMeta {
    RequestMeta {
        ip: ip.into(),
        ..RequestMeta::default()
    }
}

async fn a_strangers_failures_lock_only_the_strangers_address(db: Db) {
    let bind = "127.0.0.1:0".parse().expect("addr");
    let auth = server::auth::AuthService::new(
        db,
        server::auth::config::AuthSettings::defaults_for(bind),
        "test".into(),
    );
    auth.create_superadmin("victim@example.com", PASSWORD, "Victim")
        .await
        .expect("account");
    let stranger = meta("2001:db8:7:7::1");
    let mut locked = false;
    for _ in 0..server::auth::ratelimit::FAILURES_BEFORE_LOCK {
        match auth
            .login("victim@example.com", "not the password", &stranger)
            .await
        {
            Err(AppError::RateLimited { .. }) => locked = true,
            Err(AppError::Invalid(_)) => {}
            other => panic!("a wrong password is refused: {other:?}"),
        }
    }
    assert!(locked, "the stranger's address is locked after its failures");
    // The stranger stays locked, from any address of its /64 and even with the right password …
    let same_64 = meta("2001:db8:7:7:ffff::2");
    assert!(matches!(
        auth.login("victim@example.com", PASSWORD, &same_64).await,
        Err(AppError::RateLimited { .. })
    ));
    // … while the owner signs in from their own address.
    let owner = meta("198.51.100.20");
    let cookie = auth
        .login("victim@example.com", PASSWORD, &owner)
        .await
        .expect("the owner is not locked out by a stranger's failures");
    assert!(cookie.starts_with("catalyst_session="), "{cookie}");
}

async fn logins_in_flight_are_indexed_by_age(db: Db) {
    match &db {
        Db::Sqlite(pool) => {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as("EXPLAIN QUERY PLAN DELETE FROM oidc_logins WHERE created_at < 1")
                    .fetch_all(pool)
                    .await
                    .expect("plan");
            let plan: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
            assert!(
                plan.iter()
                    .any(|step| step.contains("USING INDEX oidc_logins_created_at")),
                "the sweep of old logins reads the index, not the table: {plan:?}"
            );
        }
        Db::Postgres(pool) => {
            let defs: Vec<String> =
                sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE tablename = 'oidc_logins'")
                    .fetch_all(pool)
                    .await
                    .expect("indexes");
            assert!(
                defs.iter().any(|d| d.contains("(created_at)")),
                "oidc_logins has an index on created_at: {defs:?}"
            );
        }
    }
}

/// Sends with a client address, as the listener would set it.
async fn send_from(
    router: &Router,
    mut req: Request<Body>,
    ip: [u8; 4],
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    let (s, h, b) = common::send(router, req).await;
    (s, h, b.to_vec())
}

on_both_backends!(
    setup_checks_its_token_before_hashing_anything,
    single_sign_on_starts_are_limited_per_address_and_ipv6_slash_64,
    hetzner_token_checks_are_limited_per_account,
    an_account_has_at_most_the_configured_number_of_open_streams,
);

async fn setup_checks_its_token_before_hashing_anything(db: Db) {
    let (router, state) = common::app_on(common::memory_settings(), db);
    let token = state
        .auth
        .prepare()
        .await
        .expect("prepare")
        .expect("a setup token");
    let setup = |token: String| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("token", token.as_str()),
                ("email", "root@example.com"),
                ("password", PASSWORD),
            ])
            .finish();
        Request::post(app::auth::api::Setup::PATH)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", common::ORIGIN)
            .body(Body::from(body))
            .expect("request")
    };
    let before = state.auth.hasher.started();
    let (status, _, body) = send_from(&router, setup("wrong-token".into()), [192, 0, 2, 9]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(AppError::de(body.into()).field_message("token").is_some());
    assert_eq!(
        state.auth.hasher.started(),
        before,
        "a wrong setup token must not cost a password hash"
    );
    let (status, _, _) = send_from(&router, setup(token), [192, 0, 2, 9]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        state.auth.hasher.started(),
        before + 1,
        "the right token hashes the password once"
    );
}

async fn single_sign_on_starts_are_limited_per_address_and_ipv6_slash_64(db: Db) {
    let mut settings = common::memory_settings();
    settings.auth.trust_forwarded_for = true;
    settings.limits.sso_starts_per_minute = 2;
    let (router, _) = common::app_on(settings, db);
    let start = |from: &str| {
        Request::get(server::auth::public::OIDC_START)
            .header("x-forwarded-for", from)
            .body(Body::empty())
            .expect("request")
    };
    let location = |h: &http::HeaderMap| {
        h.get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    // No provider is configured: a start that passes the limit lands on the login page's "off" message.
    for from in ["2001:db8:5:5::1", "2001:db8:5:5::2"] {
        let (s, h, _) = common::send(&router, start(from)).await;
        assert_eq!(
            (s, location(&h)),
            (StatusCode::SEE_OTHER, "/sovereign/login?sso=off".into())
        );
    }
    let (s, h, _) = common::send(&router, start("2001:db8:5:5:abcd::3")).await;
    assert_eq!(
        (s, location(&h)),
        (StatusCode::SEE_OTHER, "/sovereign/login?sso=busy".into()),
        "a third start from the same /64 is refused"
    );
    assert!(h.contains_key("retry-after"));
    let (_, h, _) = common::send(&router, start("2001:db8:5:6::1")).await;
    assert_eq!(
        location(&h),
        "/sovereign/login?sso=off",
        "another /64 has its own bucket"
    );
}

async fn hetzner_token_checks_are_limited_per_account(db: Db) {
    let mut settings = common::memory_settings();
    settings.limits.hetzner_checks_per_minute = 2;
    let (router, state) = common::app_on(settings, db);
    let (_, alice) = common::sign_in(&state, "alice@example.com", None, Some(OrgRole::Editor)).await;
    let (_, bob) = common::sign_in(&state, "bob@example.com", None, Some(OrgRole::Editor)).await;
    let check = |cookie: &str| {
        Request::post(app::wizard::api::CheckHetznerToken::PATH)
            .header("content-type", "application/json")
            .header("origin", common::ORIGIN)
            .header("cookie", cookie)
            .body(Body::from(format!(r#"{{"token":"{}"}}"#, "x".repeat(64))))
            .expect("request")
    };
    for _ in 0..2 {
        let (s, _, body) = send_from(&router, check(&alice), [192, 0, 2, 10]).await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    }
    let (s, h, body) = send_from(&router, check(&alice), [192, 0, 2, 11]).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "the third check of the minute is refused, from any address"
    );
    assert!(matches!(AppError::de(body.into()), AppError::RateLimited { .. }));
    assert!(h.contains_key("retry-after"));
    let (s, _, _) = send_from(&router, check(&bob), [192, 0, 2, 10]).await;
    assert_eq!(s, StatusCode::OK, "another account has its own bucket");
    // The Credentials step posted without JavaScript checks its token too: same bucket (bob's second and
    // third call of the minute).
    let form = |cookie: &str| {
        Request::post("/sovereign/wizard/credentials")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", common::ORIGIN)
            .header("cookie", cookie)
            .body(Body::from(format!("secrets.hetznerToken={}", "x".repeat(64))))
            .expect("request")
    };
    let (s, _, _) = send_from(&router, form(&bob), [192, 0, 2, 10]).await;
    assert_ne!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "bob's second check of the minute goes through"
    );
    let (s, _, _) = send_from(&router, form(&bob), [192, 0, 2, 10]).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "the form's token check draws from the same per-account bucket"
    );
}

async fn an_account_has_at_most_the_configured_number_of_open_streams(db: Db) {
    use app::deployments::{EventKind, Phase};
    use server::db::deployment_events::NewEvent;
    let mut settings = common::memory_settings();
    settings.limits.max_streams_per_account = 2;
    let (router, state) = common::app_on(settings, db);
    let (_, owner) = common::sign_in(&state, "owner@example.com", None, Some(OrgRole::Owner)).await;
    let (_, other) = common::sign_in(&state, "other@example.com", Some(PlatformRole::Superadmin), None).await;
    let org = server::db::orgs::list(&state.db).await.expect("orgs")[0]
        .id
        .clone();
    server::db::deployments::insert(
        &state.db,
        &server::db::deployments::NewDeployment {
            id: "d-streams".into(),
            org_id: org,
            created_by: "u".into(),
            fqdn: "streams.omani.works".into(),
            request: "{}".into(),
            bearer_sha256: "ab".repeat(32),
            secrets: Vec::new(),
            first_event: NewEvent::info(Phase::Gitops, "created")
                .with_kind(EventKind::Status, Some("pending")),
        },
    )
    .await
    .expect("deployment");
    let open = |cookie: &str| {
        let req = Request::get("/sovereign/api/v1/deployments/d-streams/stream")
            .header("cookie", cookie)
            .body(Body::empty())
            .expect("request");
        common::oneshot(router.clone(), req)
    };
    let first = open(&owner).await;
    let second = open(&owner).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = open(&owner).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = common::to_bytes(third.into_body(), 4096).await.expect("body");
    let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(v["error"], "rate-limited", "{v}");
    let elsewhere = open(&other).await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::OK,
        "another account is not affected"
    );
    // A stream that ends (the browser closes the page) frees its place.
    drop(first);
    let again = open(&owner).await;
    assert_eq!(again.status(), StatusCode::OK);
    drop((second, again, elsewhere));
}

#[tokio::test]
async fn requests_that_take_too_long_get_503_in_their_encoding() {
    let slow = Router::new()
        .route(
            "/sovereign/api/v1/slow",
            axum::routing::get(std::future::pending::<()>),
        )
        .route(
            "/sovereign/api/fn/slow",
            axum::routing::post(std::future::pending::<()>),
        )
        .layer(axum::middleware::from_fn_with_state(
            Duration::from_millis(50),
            server::http::limits::request_timeout,
        ));
    let (s, _, body) = common::send(
        &slow,
        Request::get("/sovereign/api/v1/slow")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(v["error"], "unavailable");
    let (s, _, body) = common::send(
        &slow,
        Request::post("/sovereign/api/fn/slow")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(matches!(AppError::de(body), AppError::Unavailable(_)));
}

/// The real router on a real listener with `limits`; returns its address.
async fn listen(limits: server::http::limits::Limits) -> SocketAddr {
    let (router, _) = common::app_over(common::memory_settings()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        server::serve_on(listener, router, &limits, std::future::pending()).await;
    });
    addr
}

/// Reads until the server closes the connection; fails the test after 30 s.
async fn read_to_close(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut got))
        .await
        .expect("the server closes the connection")
        .ok();
    got
}

/// Reads one whole `Content-Length` response.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("a response within 30 s")
            .expect("read");
        assert!(
            n > 0,
            "closed before a whole response: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if body.len() >= len {
                return text;
            }
        }
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n";

#[tokio::test]
async fn the_listener_closes_a_connection_that_trickles_its_headers() {
    let addr = listen(server::http::limits::Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: local")
        .await
        .expect("write");
    let got = read_to_close(&mut slow).await;
    assert!(
        !String::from_utf8_lossy(&got).contains("200 OK"),
        "no answer to a request whose headers never ended"
    );
    // An idle keep-alive connection is closed the same way.
    let mut idle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    idle.write_all(HEALTHZ).await.expect("write");
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    read_to_close(&mut idle).await;
}

#[tokio::test]
async fn the_listener_serves_at_most_max_connections_at_once() {
    let addr = listen(server::http::limits::Limits {
        max_connections: 1,
        header_read_timeout: Duration::from_secs(60),
        ..Default::default()
    })
    .await;
    let mut first = tokio::net::TcpStream::connect(addr).await.expect("connect");
    first.write_all(HEALTHZ).await.expect("write");
    assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
    // `first` stays open (keep-alive): a second client is not served meanwhile …
    let mut second = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect (kernel queue)");
    second.write_all(HEALTHZ).await.expect("write");
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), second.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "the second connection waits while the first holds the only slot"
    );
    // … and is served once the first closes.
    drop(first);
    assert!(read_response(&mut second).await.starts_with("HTTP/1.1 200"));
}
