//! The store test suite: every test runs unchanged against SQLite and Postgres.

use crate::common;

use app::audit::Outcome;
use app::paging::PageRequest;
use server::db::audit::{AuditFilter, NewAudit};
use server::db::{self, Db};

on_both_backends!(
    migrations_are_applied,
    settings_round_trip,
    settings_upsert_overwrites,
    audit_appends_and_pages_newest_first,
    audit_filters_by_action_prefix_and_actor,
    audit_prefix_is_not_a_pattern,
    status_report_pings_live_and_reuses_the_facts,
);

async fn migrations_are_applied(db: Db) {
    assert_eq!(
        db.applied_migration().await.expect("reads"),
        db.latest_known_migration()
    );
    db.ping().await.expect("pings");
    assert!(!db.server_version().await.expect("version").is_empty());
    // Running them again is a no-op.
    db.migrate().await.expect("idempotent");
}

/// The overview's status report: the database's version and migration are read once and reused, the round
/// trip is measured on every report, so a database that stops answering is reported at once.
async fn status_report_pings_live_and_reuses_the_facts(db: Db) {
    use server::system::System;
    let system = System::new(
        db.clone(),
        std::sync::Arc::new(server::state::Instance::default()),
    );
    let first = system.report().await.expect("reports");
    assert_eq!(first.schema_version, Some(db.latest_known_migration()));
    assert!(first.database_version.as_ref().is_some_and(|v| !v.is_empty()));
    let again = system.report().await.expect("reports again");
    assert_eq!(
        (&again.database_version, again.schema_version),
        (&first.database_version, first.schema_version)
    );
    db.close().await;
    assert!(
        system.report().await.is_err(),
        "a closed database must not be reported as answering"
    );
}

async fn settings_round_trip(db: Db) {
    assert_eq!(db::settings::get(&db, "console.name").await.expect("get"), None);
    let value = serde_json::json!({"name": "Acme Sovereign", "n": 3, "ok": true, "unicode": "Ωmega"});
    db::settings::put(&db, "console.name", &value, "u1")
        .await
        .expect("put");
    assert_eq!(
        db::settings::get(&db, "console.name").await.expect("get"),
        Some(value)
    );
    let rows = db::settings::list(&db).await.expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].updated_by, "u1");
    assert!(
        rows[0].updated_at > 1_700_000_000_000,
        "timestamps are epoch milliseconds"
    );
    assert!(db::settings::delete(&db, "console.name").await.expect("delete"));
    assert!(
        !db::settings::delete(&db, "console.name")
            .await
            .expect("delete again")
    );
}

async fn settings_upsert_overwrites(db: Db) {
    db::settings::put(&db, "a.b", &serde_json::json!(1), "u1")
        .await
        .expect("put");
    db::settings::put(&db, "a.b", &serde_json::json!(2), "u2")
        .await
        .expect("put");
    assert_eq!(
        db::settings::get(&db, "a.b").await.expect("get"),
        Some(serde_json::json!(2))
    );
    let rows = db::settings::list(&db).await.expect("list");
    assert_eq!((rows.len(), rows[0].updated_by.as_str()), (1, "u2"));
}

fn entry(action: &str, actor_id: Option<&str>) -> NewAudit {
    NewAudit {
        actor_id: actor_id.map(str::to_string),
        actor: actor_id.unwrap_or("anonymous").to_string(),
        action: action.to_string(),
        target: "t".into(),
        outcome: Outcome::Success,
        detail: "d".into(),
        ip: "127.0.0.1".into(),
        request_id: "r".into(),
    }
}

async fn audit_appends_and_pages_newest_first(db: Db) {
    for i in 0..7 {
        db::audit::append(&db, &entry(&format!("test.e{i}"), Some("u1")))
            .await
            .expect("append");
    }
    let p1 = db::audit::list(&db, &AuditFilter::default(), PageRequest::new(Some(1), Some(3)))
        .await
        .expect("list");
    assert_eq!(p1.total, 7);
    assert_eq!(p1.pages(), 3);
    let actions: Vec<_> = p1.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["test.e6", "test.e5", "test.e4"]);
    let p3 = db::audit::list(&db, &AuditFilter::default(), PageRequest::new(Some(3), Some(3)))
        .await
        .expect("list");
    assert_eq!(p3.items.len(), 1);
    assert_eq!(p3.items[0].action, "test.e0");
    assert_eq!(p3.items[0].ip, "127.0.0.1");
    assert_eq!(p3.items[0].outcome, Outcome::Success);
}

async fn audit_filters_by_action_prefix_and_actor(db: Db) {
    db::audit::append(&db, &entry("auth.login", Some("u1")))
        .await
        .expect("append");
    db::audit::append(&db, &entry("auth.logout", Some("u2")))
        .await
        .expect("append");
    db::audit::append(&db, &entry("users.role", Some("u1")))
        .await
        .expect("append");
    db::audit::append(&db, &entry("auth.login_failed", None))
        .await
        .expect("append");
    let auth = AuditFilter {
        action_prefix: Some("auth.".into()),
        actor_id: None,
    };
    let page = db::audit::list(&db, &auth, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.total, 3);
    let u1_auth = AuditFilter {
        action_prefix: Some("auth.".into()),
        actor_id: Some("u1".into()),
    };
    let page = db::audit::list(&db, &u1_auth, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(
        page.items.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["auth.login"]
    );
    assert_eq!(page.items[0].actor_id.as_deref(), Some("u1"));
}

async fn audit_prefix_is_not_a_pattern(db: Db) {
    db::audit::append(&db, &entry("a_b", None)).await.expect("append");
    db::audit::append(&db, &entry("axb", None)).await.expect("append");
    let f = AuditFilter {
        action_prefix: Some("a_".into()),
        actor_id: None,
    };
    let page = db::audit::list(&db, &f, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(
        page.items.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["a_b"]
    );
}
