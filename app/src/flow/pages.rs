//! `/sovereign/provision/<id>/jobs` (the jobs table, §D.3) and `/sovereign/provision/<id>/jobs/timeline`
//! (a Gantt of every job, §D.6). Both are rendered on the server from the jobs store — the table's filters
//! are a plain GET form and its headers links, so they work without JavaScript — and follow the run's event
//! stream once hydrated.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{FlowView, load_flow};
use super::page::{RunNav, follow_live, job_href, status_word};
use super::table::{JobsQuery, SortBy, Timeline, regions, rows, timeline};
use super::{Job, JobStatus};
use crate::time::{format_duration, format_utc};
use crate::ui::{ErrorView, TableRegion};

/// Loads the run and hands it to `body`, or says why not.
fn with_run(title: &'static str, body: fn(FlowView) -> AnyView) -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new_blocking(id, load_flow);
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the run…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => body(view),
                    Err(error) => {
                        view! {
                            <leptos_meta::Title text=format!("{title} not found · Catalyst") />
                            <h1>{title}</h1>
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

/// The page head shared by the jobs table and the timeline.
fn head(view: &FlowView, title: &'static str, blurb: &'static str, current: &'static str) -> AnyView {
    let id = view.deployment.id.clone();
    let fqdn = view.deployment.fqdn.clone();
    view! {
        <leptos_meta::Title text=format!("{fqdn} · {title} · Catalyst") />
        <div class="page-head">
            <div class="min-w-0">
                <p class="eyebrow">
                    <a href=crate::routes::page("deployments")>"Deployments"</a>
                    " / "
                    <a href=crate::routes::page(&format!("provision/{id}"))>{fqdn}</a>
                    " / "
                    {current}
                </p>
                <h1>{title}</h1>
                <p class="muted text-sm">{blurb}</p>
            </div>
        </div>
        <RunNav id current />
    }
    .into_any()
}

fn badge(s: JobStatus) -> impl IntoView {
    view! {
        <span class=format!("pill flow-badge-{}", s.as_str()) data-status=s.as_str()>
            {status_word(s)}
        </span>
    }
}

fn duration_text(ms: i64) -> String {
    if ms > 0 {
        format_duration(ms)
    } else {
        "—".to_string()
    }
}

const BATCHES: [(&str, &str); 3] = [
    ("infrastructure", "Cloud resources"),
    ("cluster", "Cluster hand-back"),
    ("components", "Components"),
];

fn batch_title(b: &str) -> &str {
    BATCHES.iter().find(|(k, _)| *k == b).map_or(b, |(_, t)| t)
}

#[component]
pub fn JobsPage() -> impl IntoView {
    with_run("Jobs", |view| view! { <JobsTable view /> }.into_any())
}

#[component]
fn JobsTable(view: FlowView) -> impl IntoView {
    let head = head(
        &view,
        "Jobs of the run",
        "Every OpenTofu resource, the cluster hand-back and every HelmRelease, running ones first.",
        "jobs",
    );
    let jobs = RwSignal::new(view.jobs.clone());
    follow_live(&view.deployment, jobs);
    let id = StoredValue::new(view.deployment.id.clone());
    let query = use_query_map();
    let q = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        JobsQuery {
            status: get("status"),
            batch: get("batch"),
            region: get("region"),
            q: get("q"),
            sort: SortBy::parse(&get("sort")),
            desc: get("dir") == "desc",
        }
    });
    let known_regions = regions(&view.jobs);
    let form = {
        let q = q.get_untracked();
        view! {
            <form method="get" class="filter-bar" aria-label="Filter jobs" data-testid="jobs-filter">
                <label class="field">
                    <span class="label">"Find"</span>
                    <input
                        class="input"
                        type="search"
                        name="q"
                        value=q.q.clone()
                        placeholder="name, component, dependency"
                        data-testid="jobs-search"
                    />
                </label>
                <label class="field">
                    <span class="label">"Status"</span>
                    <select name="status" class="input" data-testid="jobs-filter-status">
                        <option value="" selected=q.status.is_empty()>
                            "Any status"
                        </option>
                        {[JobStatus::Running, JobStatus::Pending, JobStatus::Succeeded, JobStatus::Failed]
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <option value=s.as_str() selected=q.status == s.as_str()>
                                        {status_word(s)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span class="label">"Phase"</span>
                    <select name="batch" class="input" data-testid="jobs-filter-batch">
                        <option value="" selected=q.batch.is_empty()>
                            "Every phase"
                        </option>
                        {BATCHES
                            .into_iter()
                            .map(|(k, t)| {
                                view! {
                                    <option value=k selected=q.batch == k>
                                        {t}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                {(!known_regions.is_empty())
                    .then(|| {
                        view! {
                            <label class="field">
                                <span class="label">"Region"</span>
                                <select name="region" class="input">
                                    <option value="" selected=q.region.is_empty()>
                                        "Every region"
                                    </option>
                                    {known_regions
                                        .iter()
                                        .map(|r| {
                                            view! {
                                                <option value=r.clone() selected=q.region == *r>
                                                    {r.clone()}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                        }
                    })}
                <input type="hidden" name="sort" value=q.sort.as_str() />
                <input type="hidden" name="dir" value=if q.desc { "desc" } else { "asc" } />
                <button type="submit" class="btn btn-secondary">
                    "Apply"
                </button>
            </form>
        }
    };
    // A column header: a link that sorts by it (again: the other way round).
    let header = move |key: SortBy, name: &'static str| {
        move || {
            let id = id.get_value();
            let cur = q.get();
            let here = cur.sort == key;
            let dir = if here && !cur.desc { "desc" } else { "asc" };
            let mut parts = vec![format!("sort={}", key.as_str()), format!("dir={dir}")];
            for (k, v) in [
                ("status", &cur.status),
                ("batch", &cur.batch),
                ("region", &cur.region),
                ("q", &cur.q),
            ] {
                if !v.is_empty() {
                    parts.push(format!("{k}={}", urlencoding(v)));
                }
            }
            let href = format!(
                "{}?{}",
                crate::routes::page(&format!("provision/{id}/jobs")),
                parts.join("&")
            );
            let sort = match (here, cur.desc) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            };
            view! {
                <th scope="col" aria-sort=sort>
                    <a href=href>{name}</a>
                </th>
            }
        }
    };
    // Rows are keyed by job name and read their job from an index, so a live update changes cells in place.
    let by_name = Memo::new(move |_| {
        jobs.with(|all| {
            all.iter()
                .map(|j| (j.job_name.clone(), j.clone()))
                .collect::<BTreeMap<String, Job>>()
        })
    });
    let order = Memo::new(move |_| {
        let cur = q.get();
        jobs.with(|all| {
            rows(all, &cur)
                .into_iter()
                .map(|j| j.job_name.clone())
                .collect::<Vec<_>>()
        })
    });
    let total = Memo::new(move |_| jobs.with(Vec::len));
    let causes = Memo::new(move |_| jobs.with(|j| super::cause::explain(j)));
    let empty = move || {
        let (title, hint) = if total.get() == 0 {
            (
                "No jobs yet",
                "The run lists its jobs as soon as OpenTofu has planned; this page fills in by itself.",
            )
        } else {
            ("No job matches", "Clear the filters to see every job of the run.")
        };
        view! {
            <div class="card empty" data-testid="jobs-empty">
                <h2>{title}</h2>
                <p class="muted">{hint}</p>
            </div>
        }
    };
    let table = view! {
        <Show when=move || !order.with(Vec::is_empty) fallback=empty>
            <p class="muted text-sm" data-testid="jobs-count">
                {move || format!("{} of {} job(s)", order.with(Vec::len), total.get())}
            </p>
            <TableRegion label="Jobs" card=true>
                <table class="data-table" data-testid="jobs-table">
                    <thead>
                        <tr>
                            {header(SortBy::Name, "Job")} <th scope="col" class="hide-sm">
                                "Phase"
                            </th> <th scope="col" class="hide-sm">
                                "Starts after"
                            </th> {header(SortBy::Status, "Status")} <th scope="col" class="hide-sm">
                                "Started"
                            </th> {header(SortBy::Duration, "Duration")}
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || order.get()
                            key=|name| name.clone()
                            children=move |name| view! { <JobRow name run=id by_name causes /> }
                        />
                    </tbody>
                </table>
            </TableRegion>
        </Show>
    };
    view! {
        {head}
        {form}
        {table}
    }
}

#[component]
fn JobRow(
    name: String,
    run: StoredValue<String>,
    by_name: Memo<BTreeMap<String, Job>>,
    causes: Memo<BTreeMap<String, super::cause::Cause>>,
) -> impl IntoView {
    let job = {
        let name = name.clone();
        Memo::new(move |_| by_name.with(|m| m.get(&name).cloned()))
    };
    let cause = Memo::new(move |_| causes.with(|c| c.get(&name).map(|c| c.sentence.clone())));
    move || job.get().map(|j| row(&run.get_value(), &j, cause.get()))
}

fn row(run: &str, j: &Job, cause: Option<String>) -> impl IntoView + use<> {
    let label = super::graph::label_of(j);
    let deps: Vec<String> = j
        .depends_on
        .iter()
        .map(|d| {
            d.strip_prefix(super::TOFU_PREFIX)
                .or_else(|| d.strip_prefix(super::INSTALL_PREFIX))
                .unwrap_or(d)
                .to_string()
        })
        .collect();
    let phase = if j.region.is_empty() {
        batch_title(&j.batch_id).to_string()
    } else {
        format!("{} · {}", batch_title(&j.batch_id), j.region)
    };
    view! {
        <tr data-testid="job-row" data-job=j.job_name.clone()>
            <td>
                <a class="mono break-all" href=job_href(run, &j.job_name) data-testid="job-link">
                    {label}
                </a>
                {cause
                    .map(|c| {
                        view! {
                            <span
                                class="flow-cause-text block"
                                class:flow-failed=j.status == JobStatus::Failed
                                data-testid="job-cause"
                            >
                                {c}
                            </span>
                        }
                    })}
            </td>
            <td class="hide-sm">{phase}</td>
            <td class="hide-sm mono text-sm">
                {if deps.is_empty() { "—".to_string() } else { deps.join(", ") }}
            </td>
            <td>{badge(j.status)}</td>
            <td class="hide-sm muted nowrap">{j.started_at.map_or_else(|| "—".to_string(), format_utc)}</td>
            <td class="nowrap" data-testid="job-duration">
                {duration_text(j.duration_ms)}
                {j
                    .expected_ms
                    .filter(|_| !j.status.is_terminal())
                    .map(|e| {
                        view! {
                            <span class="muted text-sm block" data-testid="job-expected">
                                {format!("usually ~{}", format_duration(e))}
                            </span>
                        }
                    })}
            </td>
        </tr>
    }
}

/// Percent-encodes a query value (what a browser's GET form would send).
fn urlencoding(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[component]
pub fn TimelinePage() -> impl IntoView {
    with_run("Timeline", |view| view! { <TimelineChart view /> }.into_any())
}

/// Geometry of the chart, in SVG user units.
/// The label column: [`super::table::LABEL_CHARS`] characters of 12 px monospace (a third of a phone's width).
const LABEL_W: f64 = 160.0;
const CHART_W: f64 = 640.0;
const ROW_H: f64 = 22.0;
const AXIS_H: f64 = 24.0;

#[component]
fn TimelineChart(view: FlowView) -> impl IntoView {
    let head = head(
        &view,
        "Timeline of the run",
        "One bar per job from its start to its end (or to now while it runs); jobs that have not started wait at the right.",
        "timeline",
    );
    let jobs = RwSignal::new(view.jobs.clone());
    follow_live(&view.deployment, jobs);
    let t = Memo::new(move |_| jobs.with(|j| timeline(j)));
    let run = StoredValue::new(view.deployment.id.clone());
    let causes = Memo::new(move |_| jobs.with(|j| super::cause::explain(j)));
    let path = Memo::new(move |_| jobs.with(|j| super::critical::critical_path(j)));
    let chart = move || {
        let t = t.get();
        let causes = causes.get();
        let path = path.get();
        if t.bars.is_empty() {
            return view! {
                <div class="card empty" data-testid="timeline-empty">
                    <h2>"No jobs yet"</h2>
                    <p class="muted">
                        "The run lists its jobs as soon as OpenTofu has planned; this page fills in by itself."
                    </p>
                </div>
            }
            .into_any();
        }
        // Why the jobs that wait or failed do so: in each row's tooltip and as a list under the chart.
        let why: Vec<(String, String, JobStatus)> = t
            .bars
            .iter()
            .filter_map(|b| {
                causes
                    .get(&b.job)
                    .map(|c| (b.label.clone(), c.sentence.clone(), b.status))
            })
            .collect();
        let list = (!why.is_empty()).then(|| {
            view! {
                <section class="card mt-4" aria-labelledby="tl-why-title" data-testid="timeline-causes">
                    <h2 id="tl-why-title" class="card-title">
                        "Why jobs wait or failed"
                    </h2>
                    <ul class="flow-list">
                        {why
                            .into_iter()
                            .map(|(label, sentence, status)| {
                                view! {
                                    <li class=format!("flow-item flow-{}", status.as_str())>
                                        <span class="flow-dot" aria-hidden="true"></span>
                                        <span class="mono break-all">{label}</span>
                                        <span class="flow-cause-text block" data-testid="timeline-cause">
                                            {sentence}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            }
        });
        let legend = (!path.is_empty()).then(|| {
            view! {
                <p class="muted text-sm" data-testid="timeline-critical-legend">
                    <span class="flow-critical-key" aria-hidden="true"></span>
                    {format!(
                        "Outlined: the critical path, the {} jobs that decided the run’s time.",
                        path.len(),
                    )}
                </p>
            }
        });
        let path: std::collections::BTreeSet<String> = path.into_iter().collect();
        view! {
            {legend}
            <Chart t causes path run=run.get_value() />
            {list}
        }
        .into_any()
    };
    view! {
        {head}
        {chart}
    }
}

#[component]
fn Chart(
    t: Timeline,
    causes: BTreeMap<String, super::cause::Cause>,
    path: std::collections::BTreeSet<String>,
    run: String,
) -> impl IntoView {
    let height = AXIS_H + t.bars.len() as f64 * ROW_H + 8.0;
    let width = LABEL_W + CHART_W + 90.0;
    let x = |ms: i64| LABEL_W + (ms as f64 / t.span as f64) * CHART_W;
    let ticks = (0..=t.span / t.step)
        .map(|i| {
            let ms = i * t.step;
            let tx = x(ms);
            view! {
                <g class="tl-tick">
                    <line x1=format!("{tx:.1}") x2=format!("{tx:.1}") y1="18" y2=format!("{height:.0}") />
                    <text x=format!("{tx:.1}") y="12" text-anchor="middle">
                        {if ms == 0 { "0".to_string() } else { format_duration(ms) }}
                    </text>
                </g>
            }
        })
        .collect_view();
    let rows = t
        .bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let y = AXIS_H + i as f64 * ROW_H;
            let (bx, bw) = match b.from {
                Some(from) => (x(from), (x(b.to) - x(from)).max(3.0)),
                None => (LABEL_W + CHART_W - 40.0, 40.0),
            };
            let label = super::table::fit_label(&b.label);
            let mut said = match b.from {
                Some(_) => format!(
                    "{}: {}, {}",
                    b.label,
                    status_word(b.status).to_lowercase(),
                    format_duration(b.duration_ms)
                ),
                None => format!("{}: {}", b.label, status_word(b.status).to_lowercase()),
            };
            if let Some(c) = causes.get(&b.job) {
                said.push_str(". ");
                said.push_str(&c.sentence);
            }
            view! {
                <g
                    class=format!("tl-row flow-{}", b.status.as_str())
                    class:tl-waiting=b.from.is_none()
                    class:tl-critical=path.contains(&b.job)
                    data-job=b.job.clone()
                    data-duration=duration_text(b.duration_ms)
                >
                    <title>{said}</title>
                    <a href=job_href(&run, &b.job) class="tl-link">
                        <text x="4" y=format!("{:.1}", y + 15.0) class="tl-label">
                            {label}
                        </text>
                    </a>
                    <rect
                        x=format!("{bx:.1}")
                        y=format!("{:.1}", y + 4.0)
                        width=format!("{bw:.1}")
                        height=format!("{:.1}", ROW_H - 8.0)
                        rx="3"
                    />
                    {b
                        .from
                        .map(|_| {
                            view! {
                                <text
                                    x=format!("{:.1}", bx + bw + 6.0)
                                    y=format!("{:.1}", y + 15.0)
                                    class="tl-dur"
                                >
                                    {duration_text(b.duration_ms)}
                                </text>
                            }
                        })}
                </g>
            }
        })
        .collect_view();
    let started = t.bars.iter().filter(|b| b.from.is_some()).count();
    let summary = format!(
        "Timeline: {started} of {} jobs started, {} from the first start to the last end",
        t.bars.len(),
        format_duration(t.span)
    );
    view! {
        <div
            class="flow-scroll"
            data-testid="timeline"
            tabindex="0"
            role="region"
            aria-label="Timeline, scrolls sideways"
        >
            <svg
                class="tl-svg"
                viewBox=format!("0 0 {width:.0} {height:.0}")
                width=format!("{width:.0}")
                height=format!("{height:.0}")
                role="group"
                aria-label=summary
            >
                {ticks}
                {rows}
            </svg>
        </div>
    }
}
