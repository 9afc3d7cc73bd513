//! Tenants share nothing in GitOps (issue 18 item 5, the part that holds domains): a Sovereign's tree is
//! `clusters/<fqdn>/`, so whoever may deploy a domain may push that tree. An organisation that deletes a
//! deployment record before wiping it (its servers may still run and follow the tree) keeps the domain held:
//! no organisation can create a deployment of it — and so overwrite the live cluster's tree — until a
//! superadmin releases it (`domains.release`, audited). On both backends.

use crate::common;

use std::time::Duration;

use app::auth::{OrgRole, PlatformRole};
use app::deployments::{Actor, DeploymentStatus, ListQuery};
use app::error::AppError;
use common::engine::{GitRepo, eventually, module_dir, request, standin_tofu};
use server::crypto::SecretBox;
use server::db::Db;
use server::db::audit::AuditFilter;
use server::deployments::{Engine, EngineConfig};

fn with_platform(mut actor: Actor, role: PlatformRole) -> Actor {
    actor.principal.platform_role = Some(role);
    actor.principal.memberships.clear();
    actor
}

async fn a_deleted_unwiped_record_holds_its_domain_until_a_superadmin_releases_it(db: Db) {
    let git = GitRepo::new();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut cfg = EngineConfig::for_data_dir(&dir, common::repo_catalog().engine.clone());
    cfg.tofu_bin = standin_tofu();
    cfg.module_dir = module_dir();
    cfg.gitops = git.settings();
    // Runs stop at `tofu init`: deployments settle (failed) at once.
    cfg.tofu_env = vec![("TOFU_STANDIN_FAIL_AT".into(), "init".into())];
    cfg.poll = Duration::from_millis(100);
    // About holds, not the pre-flight (its console has no https URL nor Hetzner): as it::engine.
    cfg.preflight.on_create = false;
    let engine = Engine::new(
        db.clone(),
        SecretBox::generate(),
        cfg,
        "replica-a".into(),
        common::create_checks(),
    );
    let acme = common::engine::member("org-acme", OrgRole::Owner);
    let rival = common::engine::member("org-rival", OrgRole::Owner);
    let superadmin = with_platform(
        common::engine::member("org-ops", OrgRole::Owner),
        PlatformRole::Superadmin,
    );
    let sovereign_admin = with_platform(
        common::engine::member("org-ops2", OrgRole::Owner),
        PlatformRole::SovereignAdmin,
    );
    let fqdn = "held.example.com";
    let mut body = request(fqdn);
    body.org_id = Some("org-acme".into());
    let id = engine.create(&acme, body).await.expect("created").id;
    eventually(60, "the run to settle", || async {
        (engine.get(&acme, &id).await.expect("get").status == DeploymentStatus::Failed).then_some(())
    })
    .await;

    // The owner deletes the record without wiping: it disappears for the organisation…
    engine.delete(&acme, &id).await.expect("deleted");
    assert!(matches!(engine.get(&acme, &id).await, Err(AppError::NotFound(_))));
    let list = engine.list(&acme, ListQuery::default()).await.expect("list");
    assert_eq!(list.total, 0, "hidden from its organisation's list");

    // …but the domain stays held: no organisation can deploy it (and push over clusters/<fqdn>/).
    let mut theirs = request(fqdn);
    theirs.org_id = Some("org-rival".into());
    let e = engine.create(&rival, theirs.clone()).await.expect_err("held");
    assert!(
        matches!(&e, AppError::Conflict(m) if m.contains("another organisation")),
        "another organisation learns nothing about the holder: {e:?}"
    );
    assert!(
        !e.to_string().contains(&id) && !e.to_string().contains("org-acme"),
        "{e}"
    );
    let mut again = request(fqdn);
    again.org_id = Some("org-acme".into());
    assert!(
        matches!(engine.create(&acme, again).await, Err(AppError::Conflict(m)) if m.contains("still held")),
        "its own organisation is told why"
    );

    // Only a superadmin sees and releases held domains.
    for who in [&acme, &rival, &sovereign_admin] {
        assert!(
            matches!(engine.held_domains(who).await, Err(AppError::Forbidden(p)) if p == "domains.release")
        );
        assert!(matches!(
            engine.release_domain(who, &id).await,
            Err(AppError::Forbidden(_))
        ));
    }
    let held = engine.held_domains(&superadmin).await.expect("held");
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].fqdn.as_str(), held[0].deployment_id.as_str()),
        (fqdn, id.as_str())
    );
    // The superadmin still reaches the record (to wipe it, if its servers may run).
    assert_eq!(engine.get(&superadmin, &id).await.expect("visible").fqdn, fqdn);
    engine.release_domain(&superadmin, &id).await.expect("released");
    assert!(engine.held_domains(&superadmin).await.expect("held").is_empty());
    assert!(matches!(
        engine.release_domain(&superadmin, &id).await,
        Err(AppError::NotFound(_))
    ));
    let audit = server::db::audit::list(
        &db,
        &AuditFilter {
            action_prefix: Some("domains.release".into()),
            actor_id: None,
        },
        app::paging::PageRequest {
            page: 1,
            per_page: 10,
        },
    )
    .await
    .expect("audit");
    assert_eq!(audit.items.len(), 1);
    assert!(audit.items[0].detail.contains(fqdn), "{:?}", audit.items[0]);

    // Now the domain is free for any organisation.
    engine
        .create(&rival, theirs)
        .await
        .expect("created after the release");
}

on_both_backends!(a_deleted_unwiped_record_holds_its_domain_until_a_superadmin_releases_it);
