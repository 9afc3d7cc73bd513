//! Store tests of accounts, organisations, sessions and API tokens: each runs on SQLite and on Postgres.

use crate::common;

use app::auth::{OrgRole, PlatformRole};
use server::db::users::NewUser;
use server::db::{self, Db, now_ms};

on_both_backends!(
    users_are_unique_by_email_and_found_by_identity,
    platform_roles_and_disabling,
    organisations_memberships_and_scoped_listing,
    invitations_work_once_and_expire,
    sessions_join_their_user_and_end,
    tokens_are_found_by_hash_until_revoked_or_expired,
    throttle_counts_failures_in_a_window,
    first_account_setup_consumes_the_tokens_once,
    oidc_logins_are_taken_once,
);

fn user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: "Ada".into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        ..NewUser::default()
    }
}

async fn users_are_unique_by_email_and_found_by_identity(db: Db) {
    let a = db::users::create(&db, &user("ada@example.com"))
        .await
        .expect("create")
        .expect("new");
    assert!(a.password_changed_at.is_some());
    assert!(!a.disabled);
    assert_eq!(a.sign_in_methods(), "password");
    assert!(
        db::users::create(&db, &user("ada@example.com"))
            .await
            .expect("create")
            .is_none(),
        "e-mail taken"
    );
    assert_eq!(
        db::users::by_email(&db, "ada@example.com")
            .await
            .expect("get")
            .map(|u| u.id),
        Some(a.id.clone())
    );
    assert_eq!(
        db::users::by_id(&db, &a.id).await.expect("get").map(|u| u.email),
        Some("ada@example.com".into())
    );
    assert_eq!(db::users::count(&db).await.expect("count"), 1);

    let sso = NewUser {
        email: "grace@example.com".into(),
        oidc_issuer: Some("https://id.example.com".into()),
        oidc_subject: Some("sub-1".into()),
        ..NewUser::default()
    };
    let g = db::users::create(&db, &sso).await.expect("create").expect("new");
    assert_eq!(g.password_hash, None);
    assert_eq!(g.password_changed_at, None);
    assert_eq!(g.sign_in_methods(), "oidc");
    let found = db::users::by_oidc(&db, "https://id.example.com", "sub-1")
        .await
        .expect("get")
        .expect("found");
    assert_eq!(found.id, g.id);
    assert!(
        db::users::by_oidc(&db, "https://other.example.com", "sub-1")
            .await
            .expect("get")
            .is_none()
    );
    // Linking an existing password account keeps its name unless the provider sends one.
    db::users::link_oidc(&db, &a.id, "https://id.example.com", "sub-2", "")
        .await
        .expect("link");
    let linked = db::users::by_oidc(&db, "https://id.example.com", "sub-2")
        .await
        .expect("get")
        .expect("linked");
    assert_eq!(
        (linked.id.as_str(), linked.display_name.as_str()),
        (a.id.as_str(), "Ada")
    );
    assert_eq!(linked.sign_in_methods(), "password+oidc");
    assert_eq!(db::users::list(&db).await.expect("list").len(), 2);
}

async fn platform_roles_and_disabling(db: Db) {
    let a = db::users::create(&db, &user("a@example.com"))
        .await
        .expect("c")
        .expect("n");
    let b = db::users::create(&db, &user("b@example.com"))
        .await
        .expect("c")
        .expect("n");
    assert!(
        db::users::set_platform_role(&db, &a.id, Some(PlatformRole::Superadmin))
            .await
            .expect("set")
    );
    assert!(
        db::users::set_platform_role(&db, &b.id, Some(PlatformRole::Superadmin))
            .await
            .expect("set")
    );
    assert_eq!(
        db::users::count_with_role(&db, PlatformRole::Superadmin, true)
            .await
            .expect("count"),
        2
    );
    assert!(db::users::set_disabled(&db, &b.id, true).await.expect("disable"));
    assert_eq!(
        db::users::count_with_role(&db, PlatformRole::Superadmin, true)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        db::users::count_with_role(&db, PlatformRole::Superadmin, false)
            .await
            .expect("count"),
        2
    );
    let b = db::users::by_id(&db, &b.id).await.expect("get").expect("b");
    assert!(b.disabled);
    assert_eq!(b.platform_role(), Some(PlatformRole::Superadmin));
    assert!(
        db::users::set_platform_role(&db, &b.id, None)
            .await
            .expect("clear")
    );
    assert_eq!(
        db::users::by_id(&db, &b.id)
            .await
            .expect("get")
            .expect("b")
            .platform_role(),
        None
    );
    assert!(
        !db::users::set_disabled(&db, "nobody", true)
            .await
            .expect("no row")
    );
}

async fn organisations_memberships_and_scoped_listing(db: Db) {
    let acme = db::orgs::create(&db, "acme", "Acme")
        .await
        .expect("create")
        .expect("new");
    assert!(
        db::orgs::create(&db, "acme", "Other")
            .await
            .expect("create")
            .is_none(),
        "slug taken"
    );
    let beta = db::orgs::create(&db, "beta", "Beta")
        .await
        .expect("create")
        .expect("new");
    assert_eq!(
        db::orgs::by_slug(&db, "beta").await.expect("get").map(|o| o.id),
        Some(beta.id.clone())
    );
    let a = db::users::create(&db, &user("a@example.com"))
        .await
        .expect("c")
        .expect("n");
    let b = db::users::create(&db, &user("b@example.com"))
        .await
        .expect("c")
        .expect("n");
    let c = db::users::create(&db, &user("c@example.com"))
        .await
        .expect("c")
        .expect("n");
    db::orgs::set_member(&db, &acme.id, &a.id, OrgRole::Owner)
        .await
        .expect("m");
    db::orgs::set_member(&db, &acme.id, &b.id, OrgRole::Viewer)
        .await
        .expect("m");
    db::orgs::set_member(&db, &beta.id, &b.id, OrgRole::Editor)
        .await
        .expect("m");
    db::orgs::set_member(&db, &acme.id, &b.id, OrgRole::Admin)
        .await
        .expect("role change is an upsert");
    assert_eq!(
        db::orgs::role_of(&db, &acme.id, &b.id).await.expect("role"),
        Some(OrgRole::Admin)
    );
    assert_eq!(db::orgs::role_of(&db, &acme.id, &c.id).await.expect("role"), None);
    let ms = db::orgs::memberships_of(&db, &b.id).await.expect("ms");
    assert_eq!(
        ms.iter()
            .map(|m| (m.org_slug.as_str(), m.role))
            .collect::<Vec<_>>(),
        [("acme", OrgRole::Admin), ("beta", OrgRole::Editor)]
    );
    assert_eq!(
        db::orgs::count_role(&db, &acme.id, OrgRole::Owner)
            .await
            .expect("count"),
        1
    );
    let in_beta = db::users::list_in_orgs(&db, std::slice::from_ref(&beta.id))
        .await
        .expect("list");
    assert_eq!(
        in_beta.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["b@example.com"]
    );
    let in_both = db::users::list_in_orgs(&db, &[acme.id.clone(), beta.id.clone()])
        .await
        .expect("list");
    assert_eq!(in_both.len(), 2, "members of either, once each");
    assert!(db::users::list_in_orgs(&db, &[]).await.expect("list").is_empty());
    assert!(
        db::orgs::remove_member(&db, &acme.id, &b.id)
            .await
            .expect("remove")
    );
    assert!(
        !db::orgs::remove_member(&db, &acme.id, &b.id)
            .await
            .expect("remove again")
    );
    assert_eq!(db::orgs::all_memberships(&db).await.expect("all").len(), 2);
}

async fn invitations_work_once_and_expire(db: Db) {
    let acme = db::orgs::create(&db, "acme", "Acme")
        .await
        .expect("create")
        .expect("new");
    let id = db::orgs::create_invitation(
        &db,
        &db::orgs::NewInvitation {
            token_hash: "h1",
            email: "new@example.com",
            org_id: &acme.id,
            role: OrgRole::Editor,
            created_by: "u1",
            expires_at: now_ms() + 60_000,
        },
    )
    .await
    .expect("invite");
    db::orgs::create_invitation(
        &db,
        &db::orgs::NewInvitation {
            token_hash: "h2",
            email: "late@example.com",
            org_id: &acme.id,
            role: OrgRole::Viewer,
            created_by: "u1",
            expires_at: now_ms() - 1,
        },
    )
    .await
    .expect("invite");
    let open = db::orgs::open_invitation(&db, "h1")
        .await
        .expect("get")
        .expect("open");
    assert_eq!(
        (open.email.as_str(), open.org_name.as_str(), open.role()),
        ("new@example.com", "Acme", OrgRole::Editor)
    );
    assert!(
        db::orgs::open_invitation(&db, "h2").await.expect("get").is_none(),
        "expired"
    );
    assert_eq!(
        db::orgs::open_invitations(&db, None).await.expect("list").len(),
        1
    );
    assert_eq!(
        db::orgs::open_invitations(&db, Some(&["other".into()]))
            .await
            .expect("list")
            .len(),
        0
    );
    assert!(db::orgs::accept_invitation(&db, &id).await.expect("accept"));
    assert!(
        !db::orgs::accept_invitation(&db, &id).await.expect("accept twice"),
        "a link works once"
    );
    assert!(db::orgs::open_invitation(&db, "h1").await.expect("get").is_none());
}

async fn sessions_join_their_user_and_end(db: Db) {
    let a = db::users::create(&db, &user("a@example.com"))
        .await
        .expect("c")
        .expect("n");
    let new = |hash: &'static str, expires_at: i64| db::sessions::NewSession {
        token_hash: hash,
        user_id: "",
        expires_at,
        ip: "192.0.2.1",
        user_agent: "test",
        method: "password",
    };
    let s1 = db::sessions::create(
        &db,
        &db::sessions::NewSession {
            user_id: &a.id,
            ..new("s1", now_ms() + 60_000)
        },
    )
    .await
    .expect("session");
    let s2 = db::sessions::create(
        &db,
        &db::sessions::NewSession {
            user_id: &a.id,
            ..new("s2", now_ms() + 60_000)
        },
    )
    .await
    .expect("session");
    db::sessions::create(
        &db,
        &db::sessions::NewSession {
            user_id: &a.id,
            ..new("s3", now_ms() - 1)
        },
    )
    .await
    .expect("session");
    let found = db::sessions::lookup(&db, "s1")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (found.session_id.as_str(), found.email.as_str()),
        (s1.as_str(), "a@example.com")
    );
    assert!(found.has_password);
    assert!(!found.disabled);
    assert!(db::sessions::lookup(&db, "nope").await.expect("lookup").is_none());
    db::sessions::touch(&db, &s1, 42).await.expect("touch");
    assert_eq!(
        db::sessions::lookup(&db, "s1")
            .await
            .expect("lookup")
            .expect("found")
            .last_seen_at,
        42
    );
    // s1 is idle since ms 42; s3 is past its absolute expiry; s2 is fresh.
    assert_eq!(db::sessions::delete_expired(&db, 60_000).await.expect("sweep"), 2);
    assert!(db::sessions::lookup(&db, "s2").await.expect("lookup").is_some());
    let s4 = db::sessions::create(
        &db,
        &db::sessions::NewSession {
            user_id: &a.id,
            ..new("s4", now_ms() + 60_000)
        },
    )
    .await
    .expect("session");
    assert_eq!(
        db::sessions::delete_for_user(&db, &a.id, Some(&s4))
            .await
            .expect("others"),
        1
    );
    assert!(
        db::sessions::lookup(&db, "s4").await.expect("lookup").is_some(),
        "the kept session stays"
    );
    assert!(db::sessions::delete(&db, &s4).await.expect("delete"));
    assert!(!db::sessions::delete(&db, &s2).await.expect("already gone"));
}

async fn tokens_are_found_by_hash_until_revoked_or_expired(db: Db) {
    let a = db::users::create(&db, &user("a@example.com"))
        .await
        .expect("c")
        .expect("n");
    let b = db::users::create(&db, &user("b@example.com"))
        .await
        .expect("c")
        .expect("n");
    let t = |name: &'static str, hash: &'static str, expires_at: Option<i64>| db::tokens::NewToken {
        user_id: "",
        name,
        token_hash: hash,
        prefix: "cat_abcd",
        expires_at,
    };
    let ci = db::tokens::create(
        &db,
        &db::tokens::NewToken {
            user_id: &a.id,
            ..t("CI", "h-ci", None)
        },
    )
    .await
    .expect("create");
    db::tokens::create(
        &db,
        &db::tokens::NewToken {
            user_id: &a.id,
            ..t("old", "h-old", Some(now_ms() - 1))
        },
    )
    .await
    .expect("create");
    db::tokens::create(
        &db,
        &db::tokens::NewToken {
            user_id: &b.id,
            ..t("B", "h-b", Some(now_ms() + 60_000))
        },
    )
    .await
    .expect("create");
    let list = db::tokens::list_for_user(&db, &a.id).await.expect("list");
    assert_eq!(
        list.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["CI"],
        "expired tokens are not listed"
    );
    assert_eq!(
        db::tokens::count_live_for_user(&db, &a.id).await.expect("count"),
        1
    );
    let found = db::tokens::lookup(&db, "h-ci")
        .await
        .expect("lookup")
        .expect("live");
    assert_eq!(
        (found.token_id.as_str(), found.email.as_str()),
        (ci.id.as_str(), "a@example.com")
    );
    assert!(
        db::tokens::lookup(&db, "h-old").await.expect("lookup").is_none(),
        "expired"
    );
    db::tokens::touch(&db, &ci.id, 1234).await.expect("touch");
    assert_eq!(
        db::tokens::lookup(&db, "h-ci")
            .await
            .expect("lookup")
            .expect("live")
            .last_used_at,
        Some(1234)
    );
    assert_eq!(
        db::tokens::revoke(&db, &b.id, &ci.id).await.expect("revoke"),
        None,
        "only its owner revokes it"
    );
    assert_eq!(
        db::tokens::revoke(&db, &a.id, &ci.id).await.expect("revoke"),
        Some("CI".into())
    );
    assert_eq!(
        db::tokens::revoke(&db, &a.id, &ci.id).await.expect("revoke"),
        None,
        "already revoked"
    );
    assert!(db::tokens::lookup(&db, "h-ci").await.expect("lookup").is_none());
}

async fn throttle_counts_failures_in_a_window(db: Db) {
    let window_start = now_ms() - 60_000;
    for n in 1..=3 {
        assert_eq!(
            db::users::throttle_fail(&db, "login:x", window_start)
                .await
                .expect("fail"),
            n
        );
    }
    assert_eq!(
        db::users::throttle_locked_until(&db, "login:x")
            .await
            .expect("read"),
        None
    );
    db::users::throttle_lock(&db, "login:x", now_ms() + 30_000)
        .await
        .expect("lock");
    assert!(
        db::users::throttle_locked_until(&db, "login:x")
            .await
            .expect("read")
            .is_some()
    );
    // While locked, the count does not restart even if the window is old.
    assert_eq!(
        db::users::throttle_fail(&db, "login:x", now_ms() + 1)
            .await
            .expect("fail"),
        4
    );
    db::users::throttle_lock(&db, "login:x", now_ms() - 1)
        .await
        .expect("unlock");
    // A window that began before `window_start` restarts.
    assert_eq!(
        db::users::throttle_fail(&db, "login:x", now_ms() + 1)
            .await
            .expect("fail"),
        1
    );
    db::users::throttle_clear(&db, "login:x").await.expect("clear");
    assert_eq!(
        db::users::throttle_fail(&db, "login:x", window_start)
            .await
            .expect("fail"),
        1
    );
    assert_eq!(
        db::users::throttle_fail(&db, "login:y", window_start)
            .await
            .expect("fail"),
        1,
        "keys are separate"
    );
}

async fn first_account_setup_consumes_the_tokens_once(db: Db) {
    db::users::add_setup_token(&db, "t1", "replica-a")
        .await
        .expect("token");
    db::users::add_setup_token(&db, "t2", "replica-b")
        .await
        .expect("token");
    assert!(db::users::setup_token_exists(&db, "t2").await.expect("exists"));
    let admin = NewUser {
        platform_role: Some(PlatformRole::Superadmin),
        ..user("root@example.com")
    };
    assert!(
        db::users::create_first(&db, "wrong", &admin)
            .await
            .expect("tx")
            .is_none(),
        "a wrong token creates nothing"
    );
    assert_eq!(db::users::count(&db).await.expect("count"), 0);
    let first = db::users::create_first(&db, "t2", &admin)
        .await
        .expect("tx")
        .expect("created");
    assert_eq!(first.platform_role(), Some(PlatformRole::Superadmin));
    assert!(
        !db::users::setup_token_exists(&db, "t1").await.expect("exists"),
        "every replica's token is spent"
    );
    let again = NewUser {
        email: "second@example.com".into(),
        ..admin
    };
    assert!(
        db::users::create_first(&db, "t1", &again)
            .await
            .expect("tx")
            .is_none()
    );
    assert_eq!(db::users::count(&db).await.expect("count"), 1);
}

async fn oidc_logins_are_taken_once(db: Db) {
    db::sessions::put_oidc_login(&db, "state-hash", "nonce", "verifier", "/sovereign/users")
        .await
        .expect("put");
    let login = db::sessions::take_oidc_login(&db, "state-hash")
        .await
        .expect("take")
        .expect("present");
    assert_eq!(
        (
            login.nonce.as_str(),
            login.pkce_verifier.as_str(),
            login.next.as_str()
        ),
        ("nonce", "verifier", "/sovereign/users")
    );
    assert!(
        db::sessions::take_oidc_login(&db, "state-hash")
            .await
            .expect("take")
            .is_none(),
        "a state works once"
    );
}
