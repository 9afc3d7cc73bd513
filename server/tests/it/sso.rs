//! Single sign-on against the real OpenID Connect provider (`common::oidc`, npm oidc-provider), on SQLite and
//! Postgres: the linking rule of issue 18.2. An identity is its (issuer, `sub`); an existing account is linked
//! to a new identity only when the provider says its e-mail is verified **and** the person gives the account's
//! password in the same flow; otherwise the sign-in is refused with a message, and nothing is linked.

use app::auth::OrgRole;
use http::StatusCode;
use leptos::server_fn::ServerFn;
use server::db::Db;

use crate::auth_http::{H, PASSWORD, Res, get, harness_on, settings, with_cookie};
use crate::common;

on_both_backends!(
    an_existing_account_is_linked_only_with_its_password,
    an_unverified_or_unstated_email_never_reaches_an_existing_account,
    a_new_identity_gets_an_account_of_its_own,
);

fn sso_harness(db: Db) -> H {
    let mut s = settings();
    s.auth.oidc = Some(common::oidc::settings());
    harness_on(s, db)
}

/// Starts single sign-on at the console (coming from the users page), signs in at the provider as `login`,
/// and returns the console's answer to the provider's callback.
async fn sso(h: &H, login: &str) -> Res {
    let start = h
        .send(get("/sovereign/auth/oidc/start?next=%2Fsovereign%2Fusers"))
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let state = set_cookie(&start, "catalyst_oidc_state").expect("the login's state cookie");
    let back = common::oidc::authorize(start.location(), login).await;
    assert!(back.starts_with("/sovereign/auth/oidc/callback?"), "{back}");
    h.send(with_cookie(get(&back), &state)).await
}

/// The `name=value` a response sets for cookie `name` (not its removal).
fn set_cookie(res: &Res, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
        .find(|kv| kv.starts_with(&format!("{name}=")) && kv.len() > name.len() + 1)
}

fn clears_cookie(res: &Res, name: &str) -> bool {
    res.headers.get_all("set-cookie").iter().any(|v| {
        v.to_str()
            .is_ok_and(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
    })
}

async fn linked_subject(h: &H, email: &str) -> Option<String> {
    server::db::users::by_email(&h.state.db, email)
        .await
        .expect("read")
        .expect("the account exists")
        .oidc_subject
}

async fn who(h: &H, session: &str) -> String {
    h.call(app::auth::api::CurrentUser::PATH, &[], Some(session))
        .await
        .wire::<Option<app::auth::Me>>()
        .expect("signed in")
        .principal
        .email
}

/// The victim's first single sign-on does not sign anyone in to their account: it asks for the account's
/// password. A wrong password links nothing; the right one links the identity and signs in, once.
async fn an_existing_account_is_linked_only_with_its_password(db: Db) {
    let h = sso_harness(db);
    h.user("victim@example.com", None, Some(OrgRole::Editor)).await;

    let res = sso(&h, "victim").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/sovereign/login?link=sso");
    assert_eq!(
        res.session_cookie(),
        None,
        "the first SSO sign-in signs no one in"
    );
    assert_eq!(
        linked_subject(&h, "victim@example.com").await,
        None,
        "and links nothing"
    );
    let link = set_cookie(&res, app::auth::SSO_LINK_COOKIE).expect("a pending link for this browser");

    // The login page asks for the account's password, naming the account and the provider.
    let preview = h
        .call(app::auth::api::SsoLinkPreviewFn::PATH, &[], Some(&link))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.json()["email"], "victim@example.com");
    assert_eq!(preview.json()["provider"], common::oidc::LABEL);
    let page = h.send(with_cookie(get("/sovereign/login?link=sso"), &link)).await;
    assert!(
        page.body.contains("victim@example.com") && page.body.contains("data-testid=\"sso-link-form\""),
        "the login page asks for the password: {}",
        page.body
    );

    // Without the browser's cookie there is nothing to link; a wrong password links nothing.
    let res = h
        .call(app::auth::api::LinkSso::PATH, &[("password", PASSWORD)], None)
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    let res = h
        .call(
            app::auth::api::LinkSso::PATH,
            &[("password", "not the account's password")],
            Some(&link),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(
        res.app_error()
            .field_message("password")
            .is_some_and(|m| m.contains("victim@example.com")),
        "{:?}",
        res.app_error()
    );
    assert_eq!(res.session_cookie(), None);
    assert_eq!(linked_subject(&h, "victim@example.com").await, None);

    // The account's own password proves it: linked, signed in, back to the page the sign-in started from.
    let res = h
        .call(
            app::auth::api::LinkSso::PATH,
            &[("password", PASSWORD)],
            Some(&link),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json(), "/sovereign/users");
    assert!(clears_cookie(&res, app::auth::SSO_LINK_COOKIE));
    let session = res.session_cookie().expect("signed in");
    assert_eq!(who(&h, &session).await, "victim@example.com");
    assert_eq!(
        linked_subject(&h, "victim@example.com").await.as_deref(),
        Some("victim")
    );
    let again = h
        .call(
            app::auth::api::LinkSso::PATH,
            &[("password", PASSWORD)],
            Some(&link),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a pending link works once");

    // From now on the identity signs in directly.
    let res = sso(&h, "victim").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/sovereign/users");
    let session = res.session_cookie().expect("signed in");
    assert_eq!(who(&h, &session).await, "victim@example.com");

    let audit = server::db::audit::list(
        &h.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("auth.sso_link".into()),
            actor_id: None,
        },
        Default::default(),
    )
    .await
    .expect("audit");
    let actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["auth.sso_linked", "auth.sso_link_failed"]);
}

/// Another identity with the victim's address whose provider says the address is not verified, or does not
/// say, never reaches the victim's account and gets no account of its own: the sign-in is refused with a
/// message saying why.
async fn an_unverified_or_unstated_email_never_reaches_an_existing_account(db: Db) {
    let h = sso_harness(db);
    h.user("victim@example.com", None, Some(OrgRole::Editor)).await;
    for (login, code) in [("victim+unstated", "unverified"), ("victim+unverified", "email")] {
        let res = sso(&h, login).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{login}: {}", res.body);
        assert_eq!(res.location(), format!("/sovereign/login?sso={code}"), "{login}");
        assert_eq!(res.session_cookie(), None, "{login}: nobody signed in");
        assert_eq!(
            set_cookie(&res, app::auth::SSO_LINK_COOKIE),
            None,
            "{login}: no way to link"
        );
        assert_eq!(linked_subject(&h, "victim@example.com").await, None, "{login}");
        let issuer = common::oidc::issuer();
        assert_eq!(
            server::db::users::by_oidc(&h.state.db, &issuer, login)
                .await
                .expect("read"),
            None,
            "{login}: no account for it either"
        );
        let page = h.send(get(&format!("/sovereign/login?sso={code}"))).await;
        assert!(
            page.body.contains("data-testid=\"sso-error\""),
            "{login}: the login page explains: {}",
            page.body
        );
    }
    let page = h.send(get("/sovereign/login?sso=unverified")).await;
    assert!(page.body.contains("did not confirm"), "{}", page.body);
}

/// An identity whose e-mail no account has gets a new account, linked to it, with the role map applied.
async fn a_new_identity_gets_an_account_of_its_own(db: Db) {
    let h = sso_harness(db);
    h.user("admin@example.com", None, Some(OrgRole::Owner)).await;
    let res = sso(&h, "oidc-dev").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/sovereign/users");
    let session = res.session_cookie().expect("signed in");
    assert_eq!(who(&h, &session).await, "oidc-dev@example.com");
    assert_eq!(
        linked_subject(&h, "oidc-dev@example.com").await.as_deref(),
        Some("oidc-dev")
    );
    let user = server::db::users::by_email(&h.state.db, "oidc-dev@example.com")
        .await
        .expect("read")
        .expect("created");
    let acme = server::db::orgs::by_slug(&h.state.db, "acme")
        .await
        .expect("read")
        .expect("the role map's organisation");
    assert_eq!(
        server::db::orgs::role_of(&h.state.db, &acme.id, &user.id)
            .await
            .expect("role"),
        Some(OrgRole::Editor)
    );
}
