//! The jobs store (spec §C.11) on SQLite and Postgres: executions start and finish with the status,
//! timestamps only move forward, dependencies are never lost, lines are numbered and paged.

use crate::common;

use app::deployments::{EventKind, Level, Phase};
use app::flow::{ExecutionStatus, JobKind, JobStatus};
use server::db::Db;
use server::db::deployment_events::NewEvent;
use server::db::deployments::{self as store, NewDeployment};
use server::db::jobs::{self, JobWrite};

on_both_backends!(
    a_job_runs_once_per_attempt_with_numbered_lines,
    timestamps_are_monotonic_and_dependencies_never_lost,
    lines_page_and_stay_inside_their_deployment,
    jobs_sort_started_first_then_pending_by_name,
    concurrent_recorders_of_one_deployment_lose_no_write,
    a_reason_follows_the_state_it_explains_and_keeps_no_raw_text,
    expected_durations_are_the_median_of_the_organisation_s_earlier_runs,
);

async fn deployment(db: &Db, id: &str) {
    store::insert(
        db,
        &NewDeployment {
            id: id.into(),
            org_id: "acme".into(),
            created_by: "u1".into(),
            fqdn: format!("{id}.example.com"),
            request: "{}".into(),
            bearer_sha256: "ab".repeat(32),
            secrets: vec![],
            first_event: NewEvent::info(Phase::Gitops, "created")
                .with_kind(EventKind::Status, Some("pending")),
        },
    )
    .await
    .expect("insert");
}

fn release(component: &str) -> JobWrite {
    JobWrite::new(app::flow::install_job(component), JobKind::Release, component)
}

async fn a_job_runs_once_per_attempt_with_numbered_lines(db: Db) {
    deployment(&db, "d1").await;
    let w =
        |s: JobStatus, at: i64, line: &str| release("cert-manager").status(s).at(at).line(Level::Info, line);
    jobs::record(&db, "d1", &[w(JobStatus::Pending, 10, "[pending] seen")])
        .await
        .expect("record");
    let d = jobs::get(&db, "d1", "install-cert-manager")
        .await
        .expect("get")
        .expect("job");
    assert_eq!(
        (d.job.status, d.executions.len(), d.job.started_at),
        (JobStatus::Pending, 0, None)
    );

    jobs::record(
        &db,
        "d1",
        &[
            w(JobStatus::Running, 20, "[installing] a"),
            w(JobStatus::Running, 25, "[installing] b"),
            w(JobStatus::Succeeded, 30, "[installed] c"),
            // A repeated terminal status is not a new attempt.
            w(JobStatus::Succeeded, 35, "[installed] again"),
        ],
    )
    .await
    .expect("record");
    let d = jobs::get(&db, "d1", "install-cert-manager")
        .await
        .expect("get")
        .expect("job");
    assert_eq!(d.executions.len(), 1, "{:?}", d.executions);
    let e = &d.executions[0];
    assert_eq!(
        (e.status, e.started_at, e.finished_at, e.line_count),
        (ExecutionStatus::Succeeded, 20, Some(30), 3)
    );
    assert_eq!(
        (
            d.job.status,
            d.job.started_at,
            d.job.finished_at,
            d.job.duration_ms
        ),
        (JobStatus::Succeeded, Some(20), Some(30), 10)
    );
    assert_eq!(d.job.latest_execution_id.as_deref(), Some(e.id.as_str()));
    let page = jobs::lines(&db, "d1", &e.id, 0, 10)
        .await
        .expect("lines")
        .expect("execution");
    let got: Vec<(i64, &str)> = page
        .lines
        .iter()
        .map(|l| (l.line_number, l.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(1, "[installing] a"), (2, "[installing] b"), (3, "[installed] c")]
    );

    // A retry: a second execution; the first start stays, the latest execution moves.
    jobs::record(
        &db,
        "d1",
        &[
            w(JobStatus::Running, 40, "[installing] retry"),
            w(JobStatus::Failed, 50, "[failed] boom"),
        ],
    )
    .await
    .expect("record");
    let d = jobs::get(&db, "d1", "install-cert-manager")
        .await
        .expect("get")
        .expect("job");
    assert_eq!(d.executions.len(), 2);
    assert_eq!(d.executions[0].status, ExecutionStatus::Failed, "newest first");
    assert_eq!(d.executions[0].line_count, 2);
    assert_eq!(
        (d.job.status, d.job.started_at, d.job.finished_at),
        (JobStatus::Failed, Some(20), Some(50))
    );
    assert_eq!(
        d.job.latest_execution_id.as_deref(),
        Some(d.executions[0].id.as_str())
    );
}

async fn timestamps_are_monotonic_and_dependencies_never_lost(db: Db) {
    deployment(&db, "d1").await;
    let deps = vec![
        "install-flux".to_string(),
        "install-cilium".to_string(),
        "install-flux".to_string(),
    ];
    jobs::record(&db, "d1", &[release("cert-manager").depends_on(deps)])
        .await
        .expect("record");
    // Later writes without dependencies (the watcher does not know them) keep them.
    jobs::record(
        &db,
        "d1",
        &[
            release("cert-manager").status(JobStatus::Running).at(100),
            release("cert-manager").status(JobStatus::Succeeded).at(200),
        ],
    )
    .await
    .expect("record");
    // A late write from the past (an event delivered out of order) moves nothing back.
    jobs::record(
        &db,
        "d1",
        &[release("cert-manager").status(JobStatus::Running).at(50)],
    )
    .await
    .expect("record");
    jobs::record(
        &db,
        "d1",
        &[release("cert-manager").status(JobStatus::Succeeded).at(60)],
    )
    .await
    .expect("record");
    let d = jobs::get(&db, "d1", "install-cert-manager")
        .await
        .expect("get")
        .expect("job");
    assert_eq!(
        d.job.depends_on,
        vec!["install-cilium", "install-flux"],
        "sorted, deduplicated, kept"
    );
    assert_eq!(d.job.started_at, Some(100), "the first start stays");
    assert_eq!(d.job.finished_at, Some(200), "the finish never moves back");
    assert!(d.executions.iter().all(|e| e.finished_at >= Some(e.started_at)));
    // Dependencies are replaced only by a write that brings some.
    jobs::record(
        &db,
        "d1",
        &[release("cert-manager").depends_on(["install-gateway".to_string()])],
    )
    .await
    .expect("record");
    let d = jobs::get(&db, "d1", "install-cert-manager")
        .await
        .expect("get")
        .expect("job");
    assert_eq!(d.job.depends_on, vec!["install-gateway"]);
    assert_eq!(
        d.job.status,
        JobStatus::Succeeded,
        "a write without a status keeps it"
    );
}

async fn lines_page_and_stay_inside_their_deployment(db: Db) {
    deployment(&db, "d1").await;
    deployment(&db, "d2").await;
    let mut writes = vec![release("flux").status(JobStatus::Running).at(1)];
    for i in 0..7 {
        writes.push(release("flux").line(Level::Warn, format!("line {i}")).at(2 + i));
    }
    jobs::record(&db, "d1", &writes).await.expect("record");
    let exec = jobs::get(&db, "d1", "install-flux")
        .await
        .expect("get")
        .expect("job")
        .executions[0]
        .id
        .clone();
    let p1 = jobs::lines(&db, "d1", &exec, 0, 3)
        .await
        .expect("lines")
        .expect("exec");
    assert_eq!((p1.lines.len(), p1.next_from, p1.has_more), (3, 3, true));
    let p2 = jobs::lines(&db, "d1", &exec, p1.next_from, 10)
        .await
        .expect("lines")
        .expect("exec");
    assert_eq!((p2.lines.len(), p2.next_from, p2.has_more), (4, 7, false));
    assert_eq!(p2.lines[0].message, "line 3");
    assert_eq!(p2.lines[0].level, Level::Warn);
    assert!(
        jobs::lines(&db, "d2", &exec, 0, 10)
            .await
            .expect("lines")
            .is_none(),
        "another deployment's execution"
    );
    // Lines for a job with nothing running are dropped, not attached to a finished attempt.
    jobs::record(
        &db,
        "d1",
        &[
            release("flux").status(JobStatus::Succeeded).at(20),
            release("flux").line(Level::Info, "late").at(21),
        ],
    )
    .await
    .expect("record");
    let p = jobs::lines(&db, "d1", &exec, 0, 100)
        .await
        .expect("lines")
        .expect("exec");
    assert_eq!(p.lines.len(), 7);
}

async fn jobs_sort_started_first_then_pending_by_name(db: Db) {
    deployment(&db, "d1").await;
    jobs::record(
        &db,
        "d1",
        &[
            release("zeta"),
            release("alpha"),
            release("early").status(JobStatus::Succeeded).at(5),
            release("late").status(JobStatus::Running).at(9),
            JobWrite::new(
                app::flow::tofu_job("hcloud_network.main"),
                JobKind::Resource,
                "hcloud_network",
            )
            .status(JobStatus::Running)
            .at(7),
        ],
    )
    .await
    .expect("record");
    let names: Vec<String> = jobs::list(&db, "d1")
        .await
        .expect("list")
        .into_iter()
        .map(|j| j.job_name)
        .collect();
    assert_eq!(
        names,
        [
            "install-late",
            "tofu:hcloud_network.main",
            "install-early",
            "install-alpha",
            "install-zeta"
        ]
    );
    let net = &jobs::list(&db, "d1").await.expect("list")[1];
    assert_eq!(
        (net.kind, net.batch_id.as_str()),
        (JobKind::Resource, "infrastructure")
    );
}

/// The run's recorders write at once (the event appender, the phase transitions, the watcher): none of their
/// writes may be refused (SQLite refused a transaction that read before it wrote: "database is locked").
async fn concurrent_recorders_of_one_deployment_lose_no_write(db: Db) {
    deployment(&db, "d1").await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let c = format!("c{t}-{i}");
                jobs::record(
                    &db,
                    "d1",
                    &[release(&c)
                        .status(JobStatus::Running)
                        .at(10)
                        .line(Level::Info, "started")],
                )
                .await
                .map_err(|e| format!("{c}: {e}"))?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("every write is recorded");
    }
    assert_eq!(jobs::list(&db, "d1").await.expect("list").len(), 80);
}

/// What the watcher says about a component becomes a reason of a known kind, kept while the state lasts and
/// forgotten when it changes; the cluster's own text is never stored (only sanitised names). (Seen failing:
/// with `None if changed => old_reason` in the merge, the installed job kept its timeout reason.)
async fn a_reason_follows_the_state_it_explains_and_keeps_no_raw_text(db: Db) {
    use app::deployments::{ComponentPhase, ComponentProgress};
    use app::flow::cause::Reason;
    use server::db::deployment_events::Effect;
    deployment(&db, "d1").await;
    let seen = |state: ComponentPhase, message: &str| {
        server::flow::writes_of(
            &[],
            &[Effect::Component(ComponentProgress {
                id: "keycloak".into(),
                state,
                message: message.into(),
                updated_at: 100,
            })],
        )
    };
    let reason = |db: Db| async move {
        jobs::get(&db, "d1", "install-keycloak")
            .await
            .expect("get")
            .expect("job")
            .job
            .reason
    };
    jobs::record(
        &db,
        "d1",
        &seen(
            ComponentPhase::Pending,
            "dependency 'flux-system/bp-cnpg<b>' is not ready",
        ),
    )
    .await
    .expect("record");
    assert_eq!(
        reason(db.clone()).await,
        Some(Reason::Dependency { on: "cnpgb".into() })
    );
    // A write about something else (no status, no reason) keeps it.
    jobs::record(&db, "d1", &[release("keycloak")])
        .await
        .expect("record");
    assert_eq!(
        reason(db.clone()).await,
        Some(Reason::Dependency { on: "cnpgb".into() })
    );
    jobs::record(
        &db,
        "d1",
        &seen(
            ComponentPhase::Failed,
            "Helm install failed for release flux-system/bp-keycloak: context deadline exceeded (token=hunter2)",
        ),
    )
    .await
    .expect("record");
    let d = jobs::get(&db, "d1", "install-keycloak")
        .await
        .expect("get")
        .expect("job");
    assert_eq!(
        (d.job.status, d.job.reason.clone()),
        (JobStatus::Failed, Some(Reason::Timeout))
    );
    let listed = jobs::list(&db, "d1").await.expect("list");
    assert_eq!(listed[0].reason, Some(Reason::Timeout));
    assert!(!serde_json::to_string(&listed).expect("json").contains("hunter2"));
    let sentence = &app::flow::cause::explain(&listed)["install-keycloak"].sentence;
    assert!(
        sentence.starts_with("The install of keycloak timed out"),
        "{sentence}"
    );
    // The next state forgets the old reason, with or without a reason of its own.
    jobs::record(
        &db,
        "d1",
        &seen(ComponentPhase::Installed, "Helm install succeeded"),
    )
    .await
    .expect("record");
    assert_eq!(reason(db.clone()).await, None);
    jobs::record(
        &db,
        "d1",
        &[release("keycloak")
            .status(JobStatus::Failed)
            .reason(Some(Reason::ChartPull))],
    )
    .await
    .expect("record");
    jobs::record(&db, "d1", &[release("keycloak").status(JobStatus::Running)])
        .await
        .expect("record");
    assert_eq!(
        reason(db).await,
        None,
        "a retry forgets why the last attempt failed"
    );
}

/// A job's expected duration is the median of what the same job took in the organisation's earlier runs that
/// finished it; later runs, other organisations' runs and unfinished attempts do not count. (Seen failing:
/// without `o.created_at < d.created_at` the later run's 1 000 s made the median 55 s; without the org join,
/// the other organisation's run did.)
async fn expected_durations_are_the_median_of_the_organisation_s_earlier_runs(db: Db) {
    let insert = |id: &'static str, org: &'static str| {
        let db = db.clone();
        async move {
            store::insert(
                &db,
                &NewDeployment {
                    id: id.into(),
                    org_id: org.into(),
                    created_by: "u1".into(),
                    fqdn: format!("{id}.example.com"),
                    request: "{}".into(),
                    bearer_sha256: "ab".repeat(32),
                    secrets: vec![],
                    first_event: NewEvent::info(Phase::Gitops, "created")
                        .with_kind(EventKind::Status, Some("pending")),
                },
            )
            .await
            .expect("insert");
            // Creation times are milliseconds: keep the runs apart.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
    };
    let ran = |id: &'static str, ms: i64, status: JobStatus| {
        let db = db.clone();
        async move {
            jobs::record(
                &db,
                id,
                &[
                    release("cnpg").status(JobStatus::Running).at(1_000),
                    release("cnpg").status(status).at(1_000 + ms),
                ],
            )
            .await
            .expect("record");
        }
    };
    insert("e1", "acme").await;
    insert("e2", "acme").await;
    insert("e3", "acme").await;
    insert("x1", "other").await;
    insert("now", "acme").await;
    insert("later", "acme").await;
    ran("e1", 10_000, JobStatus::Succeeded).await;
    ran("e2", 30_000, JobStatus::Succeeded).await;
    ran("e3", 500_000, JobStatus::Failed).await;
    ran("x1", 900_000, JobStatus::Succeeded).await;
    ran("later", 1_000_000, JobStatus::Succeeded).await;
    jobs::record(&db, "now", &[release("cnpg"), release("brand-new")])
        .await
        .expect("record");
    let listed = jobs::list(&db, "now").await.expect("list");
    let expected: Vec<(&str, Option<i64>)> = listed
        .iter()
        .map(|j| (j.job_name.as_str(), j.expected_ms))
        .collect();
    assert_eq!(
        expected,
        [("install-brand-new", None), ("install-cnpg", Some(20_000))]
    );
    // The first run of an organisation has no history.
    assert!(
        jobs::list(&db, "e1")
            .await
            .expect("list")
            .iter()
            .all(|j| j.expected_ms.is_none())
    );
}
