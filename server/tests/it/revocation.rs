//! Revocation, on SQLite and Postgres (issue 18.8): an open live event stream (SSE) ends within seconds of
//! its caller losing access — signing out, a password change made in another session, being disabled,
//! losing the role in the deployment's organisation, a revoked API token, or a session ended by another
//! replica (a database change this replica hears of only by re-reading).
//!
//! Each test opens a stream, reads its first event (so it is live), takes access away, and reads the stream
//! to its end. A stream that stays open fails the test after 30 s (a guard against hanging, far above the
//! 2 s re-check; not a timing assertion).

use std::time::Duration;

use app::auth::{OrgRole, PlatformRole};
use app::deployments::{EventKind, Phase};
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use server::db::Db;
use server::db::deployment_events::NewEvent;
use server::db::deployments::{self as store, NewDeployment};

use crate::auth_http::{H, PASSWORD, harness_on, settings};
use crate::common;

on_both_backends!(
    signing_out_ends_the_stream,
    a_password_change_ends_the_streams_of_other_sessions,
    disabling_the_account_ends_its_streams,
    losing_the_organisation_role_ends_the_stream,
    revoking_the_api_token_ends_its_stream,
    a_session_ended_by_another_replica_ends_the_stream,
);

const DEPLOYMENT: &str = "d-live";

/// The console with a superadmin (returned) and a pending deployment of its first organisation.
async fn console(db: Db) -> (H, String) {
    let h = harness_on(settings(), db);
    let (_, root) = h
        .user(
            "root@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    let org = server::db::orgs::list(&h.state.db).await.expect("orgs")[0]
        .id
        .clone();
    store::insert(
        &h.state.db,
        &NewDeployment {
            id: DEPLOYMENT.into(),
            org_id: org,
            created_by: "root".into(),
            fqdn: "live.example.com".into(),
            request: "{}".into(),
            bearer_sha256: "ab".repeat(32),
            secrets: Vec::new(),
            first_event: NewEvent::info(Phase::Gitops, "created")
                .with_kind(EventKind::Status, Some("pending")),
        },
    )
    .await
    .expect("insert");
    (h, root)
}

/// Opens the deployment's live stream with `credential` (a `Cookie` value, or `Bearer …`) and reads until its
/// first event has arrived.
async fn open_stream(h: &H, credential: &str) -> Body {
    let mut req = Request::get(format!("/sovereign/api/v1/deployments/{DEPLOYMENT}/stream"));
    req = if credential.starts_with("Bearer ") {
        req.header("authorization", credential)
    } else {
        req.header("cookie", credential)
    };
    let res = common::oneshot(h.router.clone(), req.body(Body::empty()).expect("request")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("id: 1") {
        let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
            .await
            .expect("the first event within 30 s")
            .expect("the stream is open")
            .expect("a frame");
        if let Ok(data) = frame.into_data() {
            got.extend_from_slice(&data);
        }
    }
    body
}

/// Reads `body` to its end; fails if it is still open after 30 s.
async fn ends(mut body: Body, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => panic!("{what}: the stream is still open 30 s later"),
            Ok(None) => return,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("{what}: the stream failed instead of ending: {e}"),
        }
    }
}

async fn login(h: &H, email: &str) -> String {
    h.call(
        app::auth::api::Login::PATH,
        &[("email", email), ("password", PASSWORD)],
        None,
    )
    .await
    .session_cookie()
    .expect("signed in")
}

async fn signing_out_ends_the_stream(db: Db) {
    let (h, _) = console(db).await;
    let (_, cookie) = h.user("viewer@example.com", None, Some(OrgRole::Viewer)).await;
    let stream = open_stream(&h, &cookie).await;
    let res = h.call(app::auth::api::Logout::PATH, &[], Some(&cookie)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    ends(stream, "signed out").await;
}

async fn a_password_change_ends_the_streams_of_other_sessions(db: Db) {
    let (h, _) = console(db).await;
    h.user("ada@example.com", None, Some(OrgRole::Viewer)).await;
    let (laptop, phone) = (
        login(&h, "ada@example.com").await,
        login(&h, "ada@example.com").await,
    );
    let stream = open_stream(&h, &phone).await;
    let res = h
        .call(
            app::auth::api::ChangePassword::PATH,
            &[("current", PASSWORD), ("new", "a brand new passphrase")],
            Some(&laptop),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    ends(stream, "password changed in another session").await;
}

async fn disabling_the_account_ends_its_streams(db: Db) {
    let (h, root) = console(db).await;
    let (id, cookie) = h.user("leaver@example.com", None, Some(OrgRole::Editor)).await;
    let stream = open_stream(&h, &cookie).await;
    let res = h
        .call(
            app::auth::api::SetUserDisabled::PATH,
            &[("user_id", &id), ("disabled", "true")],
            Some(&root),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    ends(stream, "disabled").await;
}

async fn losing_the_organisation_role_ends_the_stream(db: Db) {
    let (h, root) = console(db).await;
    let (id, cookie) = h.user("mover@example.com", None, Some(OrgRole::Viewer)).await;
    let org = server::db::orgs::list(&h.state.db).await.expect("orgs")[0]
        .id
        .clone();
    let stream = open_stream(&h, &cookie).await;
    let res = h
        .call(
            app::auth::api::SetMemberRole::PATH,
            &[("user_id", &id), ("org_id", &org), ("role", "none")],
            Some(&root),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    ends(stream, "removed from the organisation").await;
}

async fn revoking_the_api_token_ends_its_stream(db: Db) {
    let (h, _) = console(db).await;
    let (_, cookie) = h.user("ci@example.com", None, Some(OrgRole::Viewer)).await;
    let created = h
        .call(
            app::auth::api::CreateToken::PATH,
            &[("name", "ci")],
            Some(&cookie),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let token = created.json();
    let secret = token["secret"].as_str().expect("secret").to_string();
    let id = token["info"]["id"].as_str().expect("id").to_string();
    let stream = open_stream(&h, &format!("Bearer {secret}")).await;
    let res = h
        .call(app::auth::api::RevokeToken::PATH, &[("id", &id)], Some(&cookie))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    ends(stream, "token revoked").await;
}

/// Another replica signs the session out: it deletes the row, and this replica's cache never hears of it.
async fn a_session_ended_by_another_replica_ends_the_stream(db: Db) {
    let (h, _) = console(db).await;
    let (id, cookie) = h.user("far@example.com", None, Some(OrgRole::Viewer)).await;
    let stream = open_stream(&h, &cookie).await;
    let ended = server::db::sessions::delete_for_user(&h.state.db, &id, None)
        .await
        .expect("delete");
    assert_eq!(ended, 1);
    ends(stream, "signed out through another replica").await;
}
