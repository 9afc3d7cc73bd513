//! Roles over HTTP, on SQLite and Postgres (issue 18.3): nobody changes their own roles; a role grants only
//! what it holds itself, in that organisation (the policy's grant rule, `app::auth::policy::may_grant`);
//! adding an existing account to an organisation is an invitation the person accepts, and inviting answers
//! the same whether or not the address has an account.

use app::auth::{OrgRole, PlatformRole};
use http::StatusCode;
use leptos::server_fn::ServerFn;
use server::db::Db;

use crate::auth_http::{H, Res, harness_on, settings};
use crate::common;

on_both_backends!(
    nobody_changes_their_own_roles,
    a_role_grants_only_what_it_holds,
    joining_an_organisation_is_an_invitation_the_person_accepts,
    an_invitation_works_only_while_its_inviter_may_grant_its_role,
);

fn harness(db: Db) -> H {
    harness_on(settings(), db)
}

async fn org_id(h: &H) -> String {
    server::db::orgs::list(&h.state.db).await.expect("orgs")[0]
        .id
        .clone()
}

async fn role_of(h: &H, org: &str, user: &str) -> Option<OrgRole> {
    server::db::orgs::role_of(&h.state.db, org, user)
        .await
        .expect("role")
}

async fn set_role(h: &H, cookie: &str, user: &str, org: &str, role: &str) -> Res {
    h.call(
        app::auth::api::SetMemberRole::PATH,
        &[("user_id", user), ("org_id", org), ("role", role)],
        Some(cookie),
    )
    .await
}

async fn invite(h: &H, cookie: &str, email: &str, org: &str, role: &str) -> Res {
    h.call(
        app::auth::api::InviteUser::PATH,
        &[("email", email), ("org_id", org), ("role", role)],
        Some(cookie),
    )
    .await
}

/// The link's secret from an invitation answer.
fn token(res: &Res) -> String {
    let url = res.json()["Link"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("an invitation link: {}", res.body))
        .to_string();
    url.split("invite=").nth(1).expect("token").to_string()
}

async fn nobody_changes_their_own_roles(db: Db) {
    let h = harness(db);
    let (root, root_cookie) = h
        .user(
            "root@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Viewer),
        )
        .await;
    let (admin, admin_cookie) = h.user("admin@example.com", None, Some(OrgRole::Admin)).await;
    let org = org_id(&h).await;
    // Not even a superadmin: its own organisation role and its own platform role stay as they are.
    let res = set_role(&h, &root_cookie, &root, &org, "owner").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("your own role"), "{}", res.body);
    let res = h
        .call(
            app::auth::api::SetPlatformRole::PATH,
            &[("user_id", &root), ("role", "sovereign-admin")],
            Some(&root_cookie),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    // An organisation admin neither raises nor lowers itself.
    for role in ["owner", "viewer", "none"] {
        let res = set_role(&h, &admin_cookie, &admin, &org, role).await;
        assert!(
            res.status == StatusCode::CONFLICT || res.status == StatusCode::FORBIDDEN,
            "{role}: {} {}",
            res.status,
            res.body
        );
    }
    assert_eq!(role_of(&h, &org, &root).await, Some(OrgRole::Viewer));
    assert_eq!(role_of(&h, &org, &admin).await, Some(OrgRole::Admin));
    let root_row = server::db::users::by_id(&h.state.db, &root)
        .await
        .expect("read")
        .expect("root");
    assert_eq!(root_row.platform_role(), Some(PlatformRole::Superadmin));
}

async fn a_role_grants_only_what_it_holds(db: Db) {
    let h = harness(db);
    h.user(
        "root@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    let (sov, sov_cookie) = h
        .user("sov@example.com", Some(PlatformRole::SovereignAdmin), None)
        .await;
    let (_, admin_cookie) = h.user("admin@example.com", None, Some(OrgRole::Admin)).await;
    let (viewer, _) = h.user("viewer@example.com", None, Some(OrgRole::Viewer)).await;
    let (editor, _) = h.user("editor@example.com", None, Some(OrgRole::Editor)).await;
    let org = org_id(&h).await;

    // A sovereign admin holds no role in an organisation: it cannot make anyone (or itself) an admin or editor,
    // nor invite one; it may only manage viewers.
    let res = set_role(&h, &sov_cookie, &viewer, &org, "admin").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(
        res.app_error(),
        app::error::AppError::Forbidden("wizard.use".into())
    );
    assert_eq!(
        set_role(&h, &sov_cookie, &editor, &org, "viewer").await.status,
        StatusCode::FORBIDDEN,
        "taking away a role it does not hold is granting it backwards"
    );
    assert_eq!(
        invite(&h, &sov_cookie, "new@example.com", &org, "admin")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let res = invite(&h, &sov_cookie, "sov@example.com", &org, "admin").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "not itself either");
    assert_eq!(role_of(&h, &org, &sov).await, None);
    assert_eq!(role_of(&h, &org, &viewer).await, Some(OrgRole::Viewer));
    assert_eq!(
        invite(&h, &sov_cookie, "new@example.com", &org, "viewer")
            .await
            .status,
        StatusCode::OK
    );

    // An organisation admin grants admin and below, never owner.
    assert_eq!(
        set_role(&h, &admin_cookie, &viewer, &org, "admin").await.status,
        StatusCode::OK
    );
    let res = set_role(&h, &admin_cookie, &editor, &org, "owner").await;
    assert_eq!(
        res.app_error(),
        app::error::AppError::Forbidden("org.owners.manage".into())
    );
    assert_eq!(
        invite(&h, &admin_cookie, "boss@example.com", &org, "owner")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(role_of(&h, &org, &viewer).await, Some(OrgRole::Admin));
    assert_eq!(role_of(&h, &org, &editor).await, Some(OrgRole::Editor));

    // Rights in one organisation give nothing in another.
    let other = server::db::orgs::create(&h.state.db, "other", "Other")
        .await
        .expect("create")
        .expect("new");
    server::db::orgs::set_member(&h.state.db, &other.id, &editor, OrgRole::Viewer)
        .await
        .expect("member");
    let res = set_role(&h, &admin_cookie, &editor, &other.id, "editor").await;
    assert_eq!(
        res.app_error(),
        app::error::AppError::Forbidden("org.members.manage".into())
    );
}

async fn joining_an_organisation_is_an_invitation_the_person_accepts(db: Db) {
    let h = harness(db);
    let (_, root_cookie) = h
        .user(
            "root@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    let (ada, ada_cookie) = h.user("ada@example.com", None, Some(OrgRole::Viewer)).await;
    let (_, eve_cookie) = h.user("eve@example.com", None, Some(OrgRole::Viewer)).await;
    let other = server::db::orgs::create(&h.state.db, "other", "Other")
        .await
        .expect("create")
        .expect("new");

    // The answer for an address with an account and one without has the same shape and says nothing more.
    let known = invite(&h, &root_cookie, "ada@example.com", &other.id, "editor").await;
    let unknown = invite(&h, &root_cookie, "nobody@example.com", &other.id, "editor").await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.body);
    assert_eq!(unknown.status, StatusCode::OK, "{}", unknown.body);
    let shape = |v: &serde_json::Value| {
        let mut keys: Vec<String> = v["Link"].as_object().expect("a link").keys().cloned().collect();
        keys.sort();
        (v.as_object().expect("object").len(), keys)
    };
    assert_eq!(shape(&known.json()), shape(&unknown.json()));
    assert_eq!(
        role_of(&h, &other.id, &ada).await,
        None,
        "an invitation adds no one by itself"
    );
    // Nor does setting a role on someone who is not a member.
    let res = set_role(&h, &root_cookie, &ada, &other.id, "editor").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("invite them"), "{}", res.body);
    assert_eq!(role_of(&h, &other.id, &ada).await, None);

    // Someone else cannot accept Ada's invitation; Ada can, once.
    let ada_token = token(&known);
    let accept = |cookie: String, token: String| {
        let h = &h;
        async move {
            h.call(
                app::auth::api::AcceptInvitation::PATH,
                &[("invite", token.as_str())],
                Some(&cookie),
            )
            .await
        }
    };
    let res = accept(eve_cookie.clone(), ada_token.clone()).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    let res = accept(ada_cookie.clone(), ada_token.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(role_of(&h, &other.id, &ada).await, Some(OrgRole::Editor));
    let res = accept(ada_cookie.clone(), ada_token).await;
    assert_eq!(
        res.status,
        StatusCode::NOT_FOUND,
        "a link works once: {}",
        res.body
    );

    // Signed in, the invitation page offers to join; signed out, to sign up or sign in.
    let again = invite(&h, &root_cookie, "eve@example.com", &other.id, "viewer").await;
    let eve_token = token(&again);
    let page = h
        .send(crate::auth_http::with_cookie(
            crate::auth_http::get(&format!("/sovereign/signup?invite={eve_token}")),
            &eve_cookie,
        ))
        .await;
    assert!(
        page.body.contains("data-testid=\"accept-invite\""),
        "{}",
        page.body
    );
    let page = h
        .send(crate::auth_http::get(&format!(
            "/sovereign/signup?invite={eve_token}"
        )))
        .await;
    assert!(
        page.body.contains("data-testid=\"signup-form\"")
            && page.body.contains("data-testid=\"invite-sign-in\""),
        "{}",
        page.body
    );

    // Both invitations went to the audit log as invitations.
    let audit = server::db::audit::list(
        &h.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("users.invited".into()),
            actor_id: None,
        },
        Default::default(),
    )
    .await
    .expect("audit");
    assert_eq!(audit.items.len(), 3);
}

async fn an_invitation_works_only_while_its_inviter_may_grant_its_role(db: Db) {
    let h = harness(db);
    let (_, root_cookie) = h
        .user(
            "root@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    let (admin, admin_cookie) = h.user("admin@example.com", None, Some(OrgRole::Admin)).await;
    let org = org_id(&h).await;
    let res = invite(&h, &admin_cookie, "new@example.com", &org, "admin").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let invitation = token(&res);
    // The inviter is demoted before the invitation is used: it no longer grants admin.
    assert_eq!(
        set_role(&h, &root_cookie, &admin, &org, "viewer").await.status,
        StatusCode::OK
    );
    let res = h
        .call(
            app::auth::api::Signup::PATH,
            &[
                ("email", "new@example.com"),
                ("password", crate::auth_http::PASSWORD),
                ("invite", &invitation),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("no longer"), "{}", res.body);
    assert!(
        server::db::users::by_email(&h.state.db, "new@example.com")
            .await
            .expect("read")
            .is_none()
    );
}
