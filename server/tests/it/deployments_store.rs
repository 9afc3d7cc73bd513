//! The deployments store on SQLite and Postgres: inserts, checked transitions, gap-free event sequences
//! under concurrent appenders, leases, secrets, and the key check.

use crate::common;

use app::deployments::{
    DeploymentStatus, EventKind, Level, ListQuery, Phase, PhaseState, ResourceAction, ResourceProgress,
    ResourceState,
};
use server::crypto::SecretBox;
use server::db::deployment_events::{self, Effect, NewEvent};
use server::db::deployments::{
    self as store, CreateLimits, InsertError, LimitReached, NewDeployment, StatusWrite, TransitionError,
};
use server::db::{Db, leases, orgs, secrets, users};

on_both_backends!(
    insert_get_list_and_org_scoping,
    transitions_are_checked_in_the_statement,
    events_get_gap_free_seqs_under_concurrent_appenders,
    effects_update_phase_and_resource_tables,
    leases_are_exclusive_until_they_expire,
    secrets_insert_once_and_list_by_prefix,
    the_secret_key_check_detects_a_wrong_key,
    a_live_domain_cannot_be_deployed_twice,
    creation_limits_hold_under_concurrent_creates,
    list_search_matches_domain_organisation_and_creator,
    keyset_pages_skip_and_repeat_nothing_while_rows_are_inserted,
    list_filters_by_region_and_provider_and_sorts_by_region_and_cost,
);

/// `store::list`'s total and rows.
async fn list_rows(
    db: &Db,
    orgs: Option<&[String]>,
    f: &app::deployments::ListFilter,
) -> Result<(i64, Vec<store::DeploymentRow>), server::db::DbError> {
    store::list(db, orgs, f).await.map(|p| (p.total, p.rows))
}

/// The list's filter for `sort`/`dir`, `per` rows a page, on the page after or before a cursor.
fn keyset(
    sort: &str,
    dir: &str,
    per: i64,
    after: Option<&str>,
    before: Option<&str>,
) -> app::deployments::ListFilter {
    ListQuery {
        sort: Some(sort.into()),
        dir: Some(dir.into()),
        per_page: Some(per),
        after: after.map(str::to_string),
        before: before.map(str::to_string),
        ..Default::default()
    }
    .parse()
    .expect("valid")
}

fn new_deployment(id: &str, org: &str, fqdn: &str) -> NewDeployment {
    NewDeployment {
        id: id.into(),
        org_id: org.into(),
        created_by: "u1".into(),
        fqdn: fqdn.into(),
        request: "{}".into(),
        bearer_sha256: "ab".repeat(32),
        secrets: vec![("request".into(), vec![1; 24], vec![2; 40])],
        first_event: NewEvent::info(Phase::Gitops, "created").with_kind(EventKind::Status, Some("pending")),
    }
}

async fn insert_get_list_and_org_scoping(db: Db) {
    for (i, org) in ["acme", "acme", "other"].iter().enumerate() {
        store::insert(
            &db,
            &new_deployment(&format!("d{i}"), org, &format!("s{i}.example.com")),
        )
        .await
        .expect("insert");
    }
    let row = store::get(&db, "d0").await.expect("get").expect("exists");
    assert_eq!(
        (row.status(), row.last_seq, row.org_id.as_str()),
        (DeploymentStatus::Pending, 1, "acme")
    );
    let phases = store::phases(&db, "d0").await.expect("phases");
    assert_eq!(phases.len(), Phase::PROVISION.len());
    assert!(phases.iter().all(|p| p.state == PhaseState::Pending));
    let events = deployment_events::list_after(&db, "d0", 0, 10)
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].seq, events[0].kind), (1, EventKind::Status));

    let acme = ["acme".to_string()];
    let all = ListQuery::default().parse().expect("valid");
    let (total, rows) = list_rows(&db, Some(&acme), &all).await.expect("list");
    assert_eq!(total, 2);
    assert!(rows.iter().all(|r| r.org_id == "acme"));
    // Several organisations, every organisation, none.
    let both = ["other".to_string(), "acme".to_string()];
    assert_eq!(list_rows(&db, Some(&both), &all).await.expect("list").0, 3);
    assert_eq!(list_rows(&db, None, &all).await.expect("list").0, 3);
    let (total, rows) = list_rows(&db, Some(&[]), &all).await.expect("list");
    assert_eq!((total, rows.len()), (0, 0));
    let paged = ListQuery {
        per_page: Some(2),
        page: Some(2),
        ..Default::default()
    }
    .parse()
    .expect("valid");
    let (total, rows) = list_rows(&db, Some(&both), &paged).await.expect("list");
    assert_eq!(
        (total, rows.len()),
        (3, 1),
        "the page placeholders follow the organisations'"
    );
    let fqdn_asc = ListQuery {
        sort: Some("fqdn".into()),
        dir: Some("asc".into()),
        per_page: Some(1),
        page: Some(2),
        ..Default::default()
    }
    .parse()
    .expect("valid");
    let (total, rows) = list_rows(&db, Some(&acme), &fqdn_asc).await.expect("list");
    assert_eq!((total, rows.len(), rows[0].id.as_str()), (2, 1, "d1"));
    let failed_only = ListQuery {
        status: Some("failed".into()),
        ..Default::default()
    }
    .parse()
    .expect("valid");
    assert_eq!(
        list_rows(&db, Some(&acme), &failed_only).await.expect("list").0,
        0
    );
}

async fn transitions_are_checked_in_the_statement(db: Db) {
    store::insert(&db, &new_deployment("d1", "acme", "a.example.com"))
        .await
        .expect("insert");
    let w = StatusWrite::new(DeploymentStatus::Ready, Phase::Components, "ready");
    match store::transition(&db, "d1", &w).await {
        Err(TransitionError::Illegal(i)) => {
            assert_eq!(
                (i.from, i.to),
                (DeploymentStatus::Pending, DeploymentStatus::Ready)
            )
        }
        other => panic!("pending → ready must be illegal: {other:?}"),
    }
    let row = store::transition(
        &db,
        "d1",
        &StatusWrite::new(DeploymentStatus::Provisioning, Phase::Gitops, "go"),
    )
    .await
    .expect("pending → provisioning");
    assert_eq!((row.status(), row.last_seq), (DeploymentStatus::Provisioning, 2));
    let mut fail = StatusWrite::new(DeploymentStatus::Failed, Phase::TofuApply, "boom");
    fail.error = Some(r#"{"phase":"tofu-apply","message":"boom","hint":"retry"}"#.into());
    let row = store::transition(&db, "d1", &fail)
        .await
        .expect("provisioning → failed");
    assert!(row.finished_at.is_some());
    assert!(row.error.is_some());
    // Retry only from failed; a new run clears the error and finished_at.
    let mut retry = StatusWrite::new(DeploymentStatus::Provisioning, Phase::TofuInit, "retry");
    retry.only_from = Some(vec![DeploymentStatus::Failed]);
    retry.start_run = true;
    let row = store::transition(&db, "d1", &retry)
        .await
        .expect("failed → provisioning");
    assert!(row.error.is_none() && row.finished_at.is_none());
    assert!(matches!(
        store::transition(&db, "d1", &retry).await,
        Err(TransitionError::Illegal(_))
    ));
    assert!(matches!(
        store::transition(&db, "missing", &retry).await,
        Err(TransitionError::NotFound)
    ));
    let events = deployment_events::list_after(&db, "d1", 0, 100)
        .await
        .expect("events");
    let statuses: Vec<_> = events.iter().filter_map(|e| e.state.clone()).collect();
    assert_eq!(statuses, ["pending", "provisioning", "failed", "provisioning"]);
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(events[2].level, Level::Error);
    // Settled rows can be deleted, in-flight ones cannot.
    assert!(!store::delete_settled(&db, "d1").await.expect("delete"));
}

async fn events_get_gap_free_seqs_under_concurrent_appenders(db: Db) {
    store::insert(&db, &new_deployment("d1", "acme", "a.example.com"))
        .await
        .expect("insert");
    store::insert(&db, &new_deployment("d2", "acme", "b.example.com"))
        .await
        .expect("insert");
    let mut tasks = Vec::new();
    for t in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let id = if i % 2 == 0 { "d1" } else { "d2" };
                let batch: Vec<NewEvent> = (0..3)
                    .map(|k| NewEvent::info(Phase::TofuApply, format!("t{t} i{i} k{k}")))
                    .collect();
                deployment_events::append(&db, id, &batch, &[])
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    for (id, n) in [("d1", 8 * 13 * 3), ("d2", 8 * 12 * 3)] {
        let events = deployment_events::list_after(&db, id, 0, 10_000)
            .await
            .expect("events");
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let expected: Vec<i64> = (1..=(n as i64 + 1)).collect();
        assert_eq!(seqs, expected, "{id}: 1..=n without gaps or duplicates");
        assert!(events.iter().skip(1).all(|e| e.message.contains(" k")));
        // Batches stay contiguous: k0, k1, k2 of one append are adjacent.
        for w in events[1..].chunks(3) {
            let prefix = |m: &str| m.rsplit_once(' ').map(|(p, _)| p.to_string()).unwrap_or_default();
            assert!(
                w.iter().all(|e| prefix(&e.message) == prefix(&w[0].message)),
                "{w:?}"
            );
        }
        assert_eq!(
            store::get(&db, id).await.expect("get").expect("row").last_seq,
            n as i64 + 1
        );
    }
    let page = deployment_events::list_after(&db, "d1", 10, 5)
        .await
        .expect("page");
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [11, 12, 13, 14, 15]
    );
    assert!(matches!(
        deployment_events::append(&db, "nope", &[NewEvent::info(Phase::Gitops, "x")], &[]).await,
        Err(deployment_events::AppendError::NoDeployment)
    ));
}

async fn effects_update_phase_and_resource_tables(db: Db) {
    store::insert(&db, &new_deployment("d1", "acme", "a.example.com"))
        .await
        .expect("insert");
    let running = Effect::Phase {
        phase: Phase::TofuApply,
        state: PhaseState::Running,
    };
    let resource = |state| ResourceProgress {
        address: "hcloud_server.control_plane[0]".into(),
        resource_type: "hcloud_server".into(),
        action: ResourceAction::Create,
        state,
        elapsed_secs: 10,
        cloud_id: None,
        updated_at: 1,
    };
    deployment_events::append(
        &db,
        "d1",
        &[NewEvent::info(Phase::TofuApply, "start")],
        std::slice::from_ref(&running),
    )
    .await
    .expect("append");
    deployment_events::append(
        &db,
        "d1",
        &[NewEvent::info(Phase::TofuApply, "creating")],
        &[Effect::Resource(resource(ResourceState::Applying))],
    )
    .await
    .expect("append");
    let mut done = resource(ResourceState::Complete);
    done.cloud_id = Some("4711".into());
    deployment_events::append(
        &db,
        "d1",
        &[NewEvent::info(Phase::TofuApply, "done")],
        &[
            Effect::Resource(done),
            Effect::Phase {
                phase: Phase::TofuApply,
                state: PhaseState::Succeeded,
            },
        ],
    )
    .await
    .expect("append");
    let resources = store::resources(&db, "d1").await.expect("resources");
    assert_eq!(resources.len(), 1);
    assert_eq!(
        (resources[0].state, resources[0].cloud_id.as_deref()),
        (ResourceState::Complete, Some("4711"))
    );
    let apply = store::phases(&db, "d1")
        .await
        .expect("phases")
        .into_iter()
        .find(|p| p.phase == Phase::TofuApply)
        .expect("apply");
    assert_eq!((apply.state, apply.attempts), (PhaseState::Succeeded, 1));
    assert!(apply.started_at.is_some() && apply.finished_at.is_some());
    // A second start counts an attempt and clears the finish time.
    deployment_events::append(
        &db,
        "d1",
        &[NewEvent::info(Phase::TofuApply, "again")],
        &[running],
    )
    .await
    .expect("append");
    let apply = store::phases(&db, "d1")
        .await
        .expect("phases")
        .into_iter()
        .find(|p| p.phase == Phase::TofuApply)
        .expect("apply");
    assert_eq!(
        (apply.state, apply.attempts, apply.finished_at),
        (PhaseState::Running, 2, None)
    );
    deployment_events::append(
        &db,
        "d1",
        &[NewEvent::info(Phase::TofuPlan, "plan")],
        &[Effect::ClearResources],
    )
    .await
    .expect("append");
    assert!(store::resources(&db, "d1").await.expect("resources").is_empty());
}

async fn leases_are_exclusive_until_they_expire(db: Db) {
    store::insert(&db, &new_deployment("d1", "acme", "a.example.com"))
        .await
        .expect("insert");
    assert_eq!(
        leases::orphaned_runs(&db).await.expect("orphans"),
        ["d1"],
        "pending without a lease"
    );
    assert!(
        leases::acquire(&db, "d1", "replica-a", 60_000)
            .await
            .expect("acquire")
    );
    assert!(leases::orphaned_runs(&db).await.expect("orphans").is_empty());
    assert!(
        !leases::acquire(&db, "d1", "replica-b", 60_000)
            .await
            .expect("acquire"),
        "held by a"
    );
    assert!(
        leases::acquire(&db, "d1", "replica-a", 60_000)
            .await
            .expect("re-acquire"),
        "ours already"
    );
    assert!(leases::renew(&db, "d1", "replica-a", 1).await.expect("renew"));
    assert!(
        !leases::renew(&db, "d1", "replica-b", 60_000)
            .await
            .expect("renew"),
        "not b's"
    );
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(
        leases::orphaned_runs(&db).await.expect("orphans"),
        ["d1"],
        "expired"
    );
    assert!(
        leases::acquire(&db, "d1", "replica-b", 60_000)
            .await
            .expect("take over")
    );
    assert!(
        !leases::renew(&db, "d1", "replica-a", 60_000)
            .await
            .expect("renew"),
        "a lost it"
    );
    assert_eq!(
        leases::holder(&db, "d1").await.expect("holder").map(|h| h.0),
        Some("replica-b".into())
    );
    leases::release(&db, "d1", "replica-a")
        .await
        .expect("release by non-holder is a no-op");
    assert!(leases::holder(&db, "d1").await.expect("holder").is_some());
    leases::release(&db, "d1", "replica-b").await.expect("release");
    assert!(leases::holder(&db, "d1").await.expect("holder").is_none());
}

async fn secrets_insert_once_and_list_by_prefix(db: Db) {
    store::insert(&db, &new_deployment("d1", "acme", "a.example.com"))
        .await
        .expect("insert");
    assert!(
        secrets::insert_once(&db, "d1", "kubeconfig:fsn1", b"n", b"c1")
            .await
            .expect("insert")
    );
    assert!(
        !secrets::insert_once(&db, "d1", "kubeconfig:fsn1", b"n", b"c2")
            .await
            .expect("second")
    );
    assert!(
        secrets::insert_once(&db, "d1", "kubeconfig:hel1", b"n", b"c3")
            .await
            .expect("insert")
    );
    assert_eq!(
        secrets::names(&db, "d1", "kubeconfig:").await.expect("names"),
        ["kubeconfig:fsn1", "kubeconfig:hel1"]
    );
    assert_eq!(
        secrets::get(&db, "d1", "kubeconfig:fsn1")
            .await
            .expect("get")
            .expect("row")
            .ciphertext,
        b"c1"
    );
    secrets::put(&db, "d1", "request", b"n2", b"new")
        .await
        .expect("put");
    assert_eq!(
        secrets::get(&db, "d1", "request")
            .await
            .expect("get")
            .expect("row")
            .ciphertext,
        b"new"
    );
    assert!(
        secrets::names(&db, "d1", "kube%")
            .await
            .expect("names")
            .is_empty(),
        "prefix is not a pattern"
    );
}

async fn the_secret_key_check_detects_a_wrong_key(db: Db) {
    let key = SecretBox::generate();
    key.verify_against(&db).await.expect("first use records the key");
    key.verify_against(&db).await.expect("same key passes");
    let other = SecretBox::generate();
    let e = other.verify_against(&db).await.expect_err("another key fails");
    let msg = e.to_string();
    assert!(
        msg.contains(key.key_id()) && msg.contains(other.key_id()),
        "{msg}"
    );
}

async fn a_live_domain_cannot_be_deployed_twice(db: Db) {
    store::insert(&db, &new_deployment("d1", "acme", "a.example.com"))
        .await
        .expect("insert");
    let e = store::insert(&db, &new_deployment("d2", "acme", "a.example.com"))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(e, store::InsertError::FqdnTaken(ref f) if f == "a.example.com"),
        "{e:?}"
    );
    assert!(
        store::get(&db, "d2").await.expect("get").is_none(),
        "nothing half-inserted"
    );
}

/// The per-organisation limits are decided in the insert's transaction: eight concurrent creations in one
/// organisation with room for three in flight store exactly three (seen failing on Postgres without the
/// advisory lock: all eight passed the count); a settled deployment frees its slot, deleting a record does not
/// give a per-day slot back, and other organisations are not counted.
async fn creation_limits_hold_under_concurrent_creates(db: Db) {
    let limits = CreateLimits {
        in_flight: 3,
        per_day: 5,
    };
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                store::insert_limited(
                    &db,
                    &new_deployment(&format!("c{i}"), "acme", &format!("c{i}.example.com")),
                    limits,
                )
                .await
            })
        })
        .collect();
    let mut stored = Vec::new();
    let mut refused = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.expect("task") {
            Ok(()) => stored.push(format!("c{i}")),
            Err(InsertError::Limit(LimitReached::InFlight { max: 3 })) => refused += 1,
            Err(e) => panic!("c{i}: {e}"),
        }
    }
    assert_eq!((stored.len(), refused), (3, 5), "{stored:?}");
    let (in_flight, today, _) = store::usage(&db, "acme").await.expect("usage");
    assert_eq!((in_flight, today), (3, 3));

    // Another organisation has its own room.
    store::insert_limited(&db, &new_deployment("o1", "other", "o1.example.com"), limits)
        .await
        .expect("another organisation is not counted");

    // One settles (fails) and its record is deleted: an in-flight slot is free again, the day's count keeps it.
    let mut fail = StatusWrite::new(DeploymentStatus::Failed, Phase::Gitops, "failed");
    fail.error = Some(r#"{"phase":"gitops","message":"x","hint":"y"}"#.into());
    store::transition(&db, &stored[0], &fail)
        .await
        .expect("pending → failed");
    assert!(store::delete_settled(&db, &stored[0]).await.expect("delete"));
    store::insert_limited(&db, &new_deployment("n1", "acme", "n1.example.com"), limits)
        .await
        .expect("a slot in flight is free again");
    // 4 created today; room for one more today, but not in flight (3 again).
    match store::insert_limited(&db, &new_deployment("n2", "acme", "n2.example.com"), limits).await {
        Err(InsertError::Limit(LimitReached::InFlight { max: 3 })) => {}
        other => panic!("in flight: {other:?}"),
    }
    let mut fail = StatusWrite::new(DeploymentStatus::Failed, Phase::Gitops, "failed");
    fail.error = Some(r#"{"phase":"gitops","message":"x","hint":"y"}"#.into());
    store::transition(&db, "n1", &fail)
        .await
        .expect("pending → failed");
    store::insert_limited(&db, &new_deployment("n2", "acme", "n2.example.com"), limits)
        .await
        .expect("the fifth of the day");
    store::transition(&db, "n2", &fail)
        .await
        .expect("pending → failed");
    match store::insert_limited(&db, &new_deployment("n3", "acme", "n3.example.com"), limits).await {
        Err(InsertError::Limit(LimitReached::PerDay {
            max: 5,
            retry_after_ms,
        })) => {
            assert!(
                retry_after_ms > 0 && retry_after_ms <= store::DAY_MS,
                "{retry_after_ms}"
            )
        }
        other => panic!("per day: {other:?}"),
    }
    assert!(
        store::get(&db, "n3").await.expect("get").is_none(),
        "a refused creation stores nothing"
    );
}

/// Search: a part of the domain, the organisation's name or the creator's e-mail or name, case-insensitive,
/// LIKE wildcards taken literally; the per-status counts follow the search and leave the status filter out.
async fn list_search_matches_domain_organisation_and_creator(db: Db) {
    let acme = orgs::create(&db, "acme", "Acme Corp")
        .await
        .expect("org")
        .expect("new");
    let globex = orgs::create(&db, "globex", "Globex")
        .await
        .expect("org")
        .expect("new");
    let zoe = users::create(
        &db,
        &users::NewUser {
            email: "zoe@example.org".into(),
            display_name: "Zoë Quartermain".into(),
            ..Default::default()
        },
    )
    .await
    .expect("user")
    .expect("new");
    for (id, org, fqdn, by) in [
        ("d1", &acme.id, "shop.acme.example", "u1"),
        ("d2", &acme.id, "intranet.example.com", &zoe.id),
        ("d3", &globex.id, "shop.globex.example", "u1"),
        ("d4", &globex.id, "s1.example.com", "u1"),
    ] {
        let mut d = new_deployment(id, org, fqdn);
        d.created_by = by.to_string();
        store::insert(&db, &d).await.expect("insert");
    }
    store::transition(
        &db,
        "d3",
        &StatusWrite::new(DeploymentStatus::Provisioning, Phase::Gitops, "go"),
    )
    .await
    .expect("pending → provisioning");
    let search = |q: &str, status: Option<&str>| {
        ListQuery {
            q: Some(q.into()),
            status: status.map(str::to_string),
            sort: Some("fqdn".into()),
            dir: Some("asc".into()),
            ..Default::default()
        }
        .parse()
        .expect("valid")
    };
    let ids = |rows: Vec<store::DeploymentRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    // Domain (substring and prefix), organisation name, creator e-mail and display name.
    let (total, rows) = list_rows(&db, None, &search("SHOP", None)).await.expect("list");
    assert_eq!((total, ids(rows)), (2, vec!["d1".to_string(), "d3".to_string()]));
    let (_, rows) = list_rows(&db, None, &search("intra", None)).await.expect("list");
    assert_eq!(ids(rows), ["d2"]);
    let (_, rows) = list_rows(&db, None, &search("acme corp", None))
        .await
        .expect("list");
    assert_eq!(ids(rows), ["d2", "d1"], "fqdn ascending: intranet… before shop…");
    let (_, rows) = list_rows(&db, None, &search("zoe@", None)).await.expect("list");
    assert_eq!(ids(rows), ["d2"]);
    let (_, rows) = list_rows(&db, None, &search("quarter", None))
        .await
        .expect("list");
    assert_eq!(ids(rows), ["d2"]);
    // LIKE wildcards are text: "s_" would match "s1…" as a pattern.
    let (total, _) = list_rows(&db, None, &search("s_", None)).await.expect("list");
    assert_eq!(total, 0, "'_' is taken literally");
    let (total, _) = list_rows(&db, None, &search("%", None)).await.expect("list");
    assert_eq!(total, 0, "'%' is taken literally");
    // Search within the caller's organisations only.
    let only_acme = [acme.id.clone()];
    let (_, rows) = list_rows(&db, Some(&only_acme), &search("shop", None))
        .await
        .expect("list");
    assert_eq!(ids(rows), ["d1"]);
    // Search and status together; the counts ignore the status filter but follow the search and scope.
    let (_, rows) = list_rows(&db, None, &search("shop", Some("provisioning")))
        .await
        .expect("list");
    assert_eq!(ids(rows), ["d3"]);
    let counts = store::status_counts(&db, None, &search("shop", Some("provisioning")))
        .await
        .expect("counts");
    assert_eq!(
        counts,
        [
            (DeploymentStatus::Pending, 1),
            (DeploymentStatus::Provisioning, 1)
        ]
    );
    let all = ListQuery::default().parse().expect("valid");
    let counts = store::status_counts(&db, Some(&only_acme), &all)
        .await
        .expect("counts");
    assert_eq!(counts, [(DeploymentStatus::Pending, 2)]);
    assert!(
        store::status_counts(&db, Some(&[]), &all)
            .await
            .expect("counts")
            .is_empty()
    );
}

/// Keyset paging: walking the list page by page by its `next` cursors while other deployments are created
/// between the fetches shows every deployment that existed at the start exactly once, in order (offset paging
/// would show the row at each page's end again, since new rows push everything down); `prev` cursors walk
/// back through the same pages. For a numeric sort (created, many rows in the same millisecond: ties broken by
/// id) and a text sort (domain, new rows landing on both sides of the cursor).
async fn keyset_pages_skip_and_repeat_nothing_while_rows_are_inserted(db: Db) {
    for i in 0..23 {
        store::insert(
            &db,
            &new_deployment(&format!("k{i:02}"), "acme", &format!("k{i:02}.example.com")),
        )
        .await
        .expect("insert");
    }
    for (sort, dir) in [("created", "desc"), ("fqdn", "asc"), ("created", "asc")] {
        let start = list_rows(&db, None, &keyset(sort, dir, 200, None, None))
            .await
            .expect("list")
            .1;
        let original: Vec<String> = start.into_iter().map(|r| r.id).collect();
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        let mut inserted = 0;
        loop {
            let page = store::list(&db, None, &keyset(sort, dir, 5, after.as_deref(), None))
                .await
                .expect("page");
            seen.extend(page.rows.iter().map(|r| r.id.clone()));
            // Others create deployments meanwhile: some sort before the cursor, some after it.
            for name in [
                format!("a{sort}{dir}{inserted}"),
                format!("z{sort}{dir}{inserted}"),
            ] {
                store::insert(
                    &db,
                    &new_deployment(&name, "acme", &format!("{name}.example.com")),
                )
                .await
                .expect("insert");
            }
            inserted += 1;
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
            assert!(inserted < 100, "{sort} {dir}: the pages never end");
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort} {dir}: a row came twice: {seen:?}"
        );
        let old_in_order: Vec<&String> = seen.iter().filter(|id| original.contains(id)).collect();
        assert_eq!(
            old_in_order,
            original.iter().collect::<Vec<_>>(),
            "{sort} {dir}: every row that was there at the start, once, in order"
        );
        // Nothing is inserted now: forward to the last page, then back by `prev` cursors, the same rows.
        let now_all: Vec<String> = list_rows(&db, None, &keyset(sort, dir, 200, None, None))
            .await
            .expect("list")
            .1
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut page = store::list(&db, None, &keyset(sort, dir, 5, None, None))
            .await
            .expect("first page");
        assert!(page.prev.is_none(), "{sort} {dir}: nothing before the first page");
        let mut forward: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
        while let Some(next) = page.next.clone() {
            page = store::list(&db, None, &keyset(sort, dir, 5, Some(&next), None))
                .await
                .expect("next page");
            forward.extend(page.rows.iter().map(|r| r.id.clone()));
        }
        assert_eq!(forward, now_all, "{sort} {dir}: forward");
        let mut back: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
        let mut before = page.prev.clone();
        while let Some(cursor) = before {
            let page = store::list(&db, None, &keyset(sort, dir, 5, None, Some(&cursor)))
                .await
                .expect("previous page");
            assert!(page.next.is_some(), "{sort} {dir}: a previous page links forward");
            let mut ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
            ids.extend(back);
            back = ids;
            before = page.prev;
        }
        assert_eq!(
            back, now_all,
            "{sort} {dir}: walking back reaches the first row, none skipped"
        );
    }
}

/// Region and provider filters (any region of the deployment), sorting by region and by monthly cost, and a
/// cursor of a text sort.
async fn list_filters_by_region_and_provider_and_sorts_by_region_and_cost(db: Db) {
    let with_regions = |fqdn: &str, regions: &[&str]| {
        let mut req = common::engine::request(fqdn).request;
        let spec = req.regions[0].clone();
        req.regions = regions
            .iter()
            .map(|r| app::deployments::RegionSpec {
                cloud_region: (*r).to_string(),
                ..spec.clone()
            })
            .collect();
        serde_json::to_string(&req).expect("json")
    };
    for (id, regions, cents) in [
        ("r1", &["fsn1"][..], 1_000),
        ("r2", &["hel1", "fsn1"][..], 3_000),
        ("r3", &["nbg1"][..], 2_000),
    ] {
        let mut d = new_deployment(id, "acme", &format!("{id}.example.com"));
        d.request = with_regions(&d.fqdn, regions);
        store::insert_priced(&db, &d, CreateLimits::OFF, None, cents)
            .await
            .expect("insert");
    }
    let row = store::get(&db, "r2").await.expect("get").expect("row");
    assert_eq!(
        (row.regions.as_str(), row.providers.as_str(), row.monthly_cents),
        (",hel1,fsn1,", ",hetzner,", 3_000)
    );
    let ids = |rows: Vec<store::DeploymentRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let query = |region: Option<&str>, provider: Option<&str>, sort: &str| {
        ListQuery {
            region: region.map(str::to_string),
            provider: provider.map(str::to_string),
            sort: Some(sort.into()),
            dir: Some("asc".into()),
            ..Default::default()
        }
        .parse()
        .expect("valid")
    };
    let (total, rows) = list_rows(&db, None, &query(Some("fsn1"), None, "fqdn"))
        .await
        .expect("list");
    assert_eq!((total, ids(rows)), (2, vec!["r1".to_string(), "r2".to_string()]));
    let (_, rows) = list_rows(&db, None, &query(Some("hel1"), None, "fqdn"))
        .await
        .expect("list");
    assert_eq!(ids(rows), ["r2"], "a deployment's second region counts too");
    let (total, _) = list_rows(&db, None, &query(Some("ash"), None, "fqdn"))
        .await
        .expect("list");
    assert_eq!(total, 0);
    let (total, _) = list_rows(&db, None, &query(None, Some("hetzner"), "fqdn"))
        .await
        .expect("list");
    assert_eq!(total, 3);
    let (total, _) = list_rows(&db, None, &query(Some("fsn1"), Some("aws"), "fqdn"))
        .await
        .expect("list");
    assert_eq!(total, 0, "filters combine");
    let (_, rows) = list_rows(&db, None, &query(None, None, "cost"))
        .await
        .expect("list");
    assert_eq!(ids(rows), ["r1", "r3", "r2"], "cheapest first");
    let (_, rows) = list_rows(&db, None, &query(None, None, "region"))
        .await
        .expect("list");
    assert_eq!(ids(rows), ["r1", "r2", "r3"], "fsn1, hel1…, nbg1");
    let counts = store::status_counts(&db, None, &query(Some("fsn1"), None, "fqdn"))
        .await
        .expect("counts");
    assert_eq!(
        counts,
        [(DeploymentStatus::Pending, 2)],
        "counts follow the region filter"
    );
    // One row a page by region: the cursor carries the region text.
    let first = store::list(&db, None, &keyset("region", "asc", 1, None, None))
        .await
        .expect("page");
    assert_eq!(ids(first.rows), ["r1"]);
    let second = store::list(
        &db,
        None,
        &keyset("region", "asc", 1, first.next.as_deref(), None),
    )
    .await
    .expect("page");
    assert_eq!(ids(second.rows), ["r2"]);
    let back = store::list(
        &db,
        None,
        &keyset("region", "asc", 1, None, second.prev.as_deref()),
    )
    .await
    .expect("page");
    assert_eq!((ids(back.rows), back.prev), (vec!["r1".to_string()], None));
}
