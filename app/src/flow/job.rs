//! `/sovereign/provision/<id>/jobs/<job>` (spec §D.4): one job — its status, timings and cause, the jobs it
//! waits for and the ones waiting for it (each a link to its own page), its attempts, and the last lines of
//! its log. Rendered on the server (complete without JavaScript); once hydrated it follows the run's event
//! stream, and reads the log again when the job's status changes.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::{JobView, load_job};
use super::graph::{Graph, label_of};
use super::page::{RunNav, follow_live, job_href, log_lines, status_word};
use super::{Job, JobKind, JobStatus};
use crate::time::{format_duration, format_utc};
use crate::ui::ErrorView;

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (p.get("id").unwrap_or_default(), p.get("job").unwrap_or_default())
    };
    let data = Resource::new_blocking(key, |(id, job)| load_job(id, job));
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the job…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <JobDetailView view /> }.into_any(),
                    Err(error) => {
                        view! {
                            <leptos_meta::Title text="Job not found · Catalyst" />
                            <h1>"Job"</h1>
                            <ErrorView error />
                            <p>
                                <a href=crate::routes::page("deployments")>"All deployments"</a>
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn kind_title(k: JobKind) -> &'static str {
    match k {
        JobKind::Resource => "OpenTofu resource",
        JobKind::Handback => "Cluster hand-back",
        JobKind::Release => "HelmRelease",
    }
}

/// A list of neighbouring jobs, each a link to its page with its status.
fn neighbours(run: &str, jobs: Vec<(String, String, JobStatus)>, testid: &'static str) -> AnyView {
    if jobs.is_empty() {
        return view! { <p class="muted text-sm">"None."</p> }.into_any();
    }
    view! {
        <ul class="flow-list" data-testid=testid>
            {jobs
                .into_iter()
                .map(|(name, label, status)| {
                    view! {
                        <li class=format!("flow-item flow-{}", status.as_str())>
                            <span class="flow-dot" aria-hidden="true"></span>
                            <a class="mono break-all" href=job_href(run, &name)>
                                {label}
                            </a>
                            " — "
                            {status_word(status)}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn JobDetailView(view: JobView) -> impl IntoView {
    let JobView {
        deployment,
        jobs,
        log,
    } = view;
    let run = deployment.id.clone();
    let fqdn = deployment.fqdn.clone();
    let name = log.detail.job.job_name.clone();
    let title = label_of(&log.detail.job);
    let executions = log.detail.executions.clone();
    let jobs = RwSignal::new(jobs);
    follow_live(&deployment, jobs);
    let job = {
        let name = name.clone();
        let first = log.detail.job.clone();
        Memo::new(move |_| {
            jobs.with(|all| all.iter().find(|j| j.job_name == name).cloned())
                .unwrap_or_else(|| first.clone())
        })
    };
    let status = Memo::new(move |_| job.with(|j| j.status));
    let cause = {
        let name = name.clone();
        Memo::new(move |_| jobs.with(|all| super::cause::explain(all).remove(&name)))
    };
    // The log as the server read it; read again (after hydration) each time the job's status changes.
    let lines = RwSignal::new(log.page.map(|p| p.lines).unwrap_or_default());
    #[cfg(feature = "hydrate")]
    {
        let (run, name) = (run.clone(), name.clone());
        Effect::new(move |prev: Option<JobStatus>| {
            let now = status.get();
            if prev.is_some_and(|p| p != now) {
                let (run, name) = (run.clone(), name.clone());
                leptos::task::spawn_local(async move {
                    if let Ok(fresh) = super::api::job_tail(run, name).await {
                        lines.set(fresh.page.map(|p| p.lines).unwrap_or_default());
                    }
                });
            }
            now
        });
    }
    let graph = Memo::new(move |_| jobs.with(|j| Graph::from_jobs(j)));
    let around = {
        let name = name.clone();
        move |upstream: bool| {
            graph.with(|g| {
                g.edges
                    .iter()
                    .filter(|e| if upstream { e.to == name } else { e.from == name })
                    .filter_map(|e| g.node(if upstream { &e.from } else { &e.to }))
                    .map(|n| (n.id.clone(), n.label.clone(), n.status))
                    .collect::<Vec<_>>()
            })
        }
    };
    let (up, down) = (around.clone(), around);
    let flow = super::page::CanvasView::default()
        .with_job(&name)
        .href(&crate::routes::page(&format!("provision/{run}/flow")));
    let (run_up, run_down) = (run.clone(), run.clone());
    let phase = {
        let j = job.get_untracked();
        if j.region.is_empty() {
            j.batch_id.clone()
        } else {
            format!("{} · {}", j.batch_id, j.region)
        }
    };
    let kind = kind_title(job.get_untracked().kind);
    view! {
        <leptos_meta::Title text=format!("{title} · {fqdn} · Job · Catalyst") />
        <div class="page-head">
            <div class="min-w-0">
                <p class="eyebrow break-all">
                    <a href=crate::routes::page("deployments")>"Deployments"</a>
                    " / "
                    <a href=crate::routes::page(&format!("provision/{run}"))>{fqdn.clone()}</a>
                    " / "
                    <a href=crate::routes::page(&format!("provision/{run}/jobs"))>"jobs"</a>
                </p>
                <h1 class="break-all" data-testid="job-title">
                    {title.clone()}
                </h1>
                <p class="muted text-sm">{kind} " · " {phase}</p>
            </div>
            <div class="head-actions">
                <span data-testid="job-status">
                    {move || {
                        let s = status.get();
                        view! {
                            <span class=format!("badge flow-badge-{}", s.as_str())>{status_word(s)}</span>
                        }
                    }}
                </span>
            </div>
        </div>
        <RunNav id=run.clone() current="jobs" />
        {move || {
            cause
                .get()
                .map(|c| {
                    let failed = status.get() == JobStatus::Failed;
                    view! {
                        <p
                            class="card flow-cause-text job-cause"
                            class:flow-failed=failed
                            data-testid="job-page-cause"
                        >
                            {c.sentence}
                        </p>
                    }
                })
        }}
        <section class="card mt-4" aria-labelledby="job-times-title">
            <h2 id="job-times-title" class="card-title">
                "Timings"
            </h2>
            <dl class="job-facts" data-testid="job-times">
                <dt>"Started"</dt>
                <dd>{move || job.with(|j| j.started_at.map_or_else(|| "—".to_string(), format_utc))}</dd>
                <dt>"Finished"</dt>
                <dd>{move || job.with(|j| j.finished_at.map_or_else(|| "—".to_string(), format_utc))}</dd>
                <dt>"Duration"</dt>
                <dd data-testid="job-duration">
                    {move || {
                        job.with(|j: &Job| {
                            if j.duration_ms > 0 { format_duration(j.duration_ms) } else { "—".to_string() }
                        })
                    }}
                </dd>
                <dt>"Attempts"</dt>
                <dd>{executions.len().to_string()}</dd>
            </dl>
        </section>
        <div class="job-around mt-4">
            <section class="card" aria-labelledby="job-up-title">
                <h2 id="job-up-title" class="card-title">
                    "Starts after"
                </h2>
                {move || neighbours(&run_up, up(true), "job-upstream")}
            </section>
            <section class="card" aria-labelledby="job-down-title">
                <h2 id="job-down-title" class="card-title">
                    "Needed by"
                </h2>
                {move || neighbours(&run_down, down(false), "job-downstream")}
            </section>
        </div>
        <section class="card mt-4" aria-labelledby="job-log-title">
            <div class="log-head">
                <h2 id="job-log-title" class="card-title">
                    "Log of the latest attempt"
                </h2>
                <a class="btn btn-secondary btn-sm" href=flow data-testid="job-on-canvas">
                    "Show on the canvas"
                </a>
            </div>
            <div class="log-pane" tabindex="0" role="log" aria-label="Log of the job" data-testid="job-log">
                {move || log_lines(lines.get())}
            </div>
        </section>
    }
}
