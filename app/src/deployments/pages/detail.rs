//! `/sovereign/provision/<id>`: one deployment coming up. The server renders the current state and the
//! newest events (complete without JavaScript); once hydrated, the page follows the live stream from the
//! last rendered event (`?after=<seq>`), and the browser's reconnects resume by `Last-Event-ID`, so a reload
//! or a dropped connection neither loses nor repeats a line.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::StatusBadge;
use super::progress::Link;
use crate::deployments::api::{CancelDeployment, DeploymentView, RetryDeployment, load_deployment};
use crate::deployments::status::DeploymentStatus;
use crate::deployments::types::{
    Deployment, DeploymentEvent, Level, PhaseProgress, PhaseState, ResourceProgress, ResourceState,
};
use crate::time::{Millis, format_duration, format_rfc3339, format_utc};
use crate::ui::ErrorView;

#[component]
pub fn DeploymentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new_blocking(id, load_deployment);
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the deployment…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <Live view /> }.into_any(),
                    Err(error) => {
                        view! {
                            <leptos_meta::Title text="Deployment not found · Catalyst" />
                            <h1>"Deployment"</h1>
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

#[component]
fn Live(view: DeploymentView) -> impl IntoView {
    let DeploymentView { deployment, events } = view;
    let after = events.last().map(|e| e.seq).unwrap_or(deployment.last_seq);
    let settled = deployment.status.settled();
    let stream_url = format!("{}?after={after}", deployment.stream_url);
    let id = deployment.id.clone();
    let fqdn = deployment.fqdn.clone();
    // Same value on server and browser at first render; ticks in the browser only.
    let now = RwSignal::new(deployment.updated_at);
    let deployment = RwSignal::new(deployment);
    let events = RwSignal::new(events);
    let link = RwSignal::new(if settled { Link::Finished } else { Link::Static });

    #[cfg(feature = "hydrate")]
    {
        let url = stream_url.clone();
        Effect::new(move |started: Option<bool>| {
            if started.is_some() || link.get_untracked() == Link::Finished {
                return true;
            }
            super::live::follow(&url, deployment, events, link, now);
            true
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&stream_url, &now);

    let retry = ServerAction::<RetryDeployment>::new();
    let cancel = ServerAction::<CancelDeployment>::new();
    // A retry or cancel changes the status: reload the view from its answer.
    Effect::new(move |_| {
        if let Some(Ok(d)) = retry.value().get() {
            deployment.set(d);
            #[cfg(feature = "hydrate")]
            if link.get_untracked() == Link::Finished {
                let after = deployment.with_untracked(|d| d.last_seq);
                let url = deployment.with_untracked(|d| format!("{}?after={after}", d.stream_url));
                super::live::follow(&url, deployment, events, link, now);
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(d)) = cancel.value().get() {
            deployment.set(d);
        }
    });

    let status = move || deployment.with(|d| d.status);
    // Parts are type-erased (`into_any`): one view this size would exceed the compiler's query depth.
    let header = view! {
        <leptos_meta::Title text=format!("{fqdn} · Deployment · Catalyst") />
        <div class="page-head">
            <div class="min-w-0">
                <p class="eyebrow">
                    <a href=crate::routes::page("deployments")>"Deployments"</a>
                    " / "
                    {id.clone()}
                </p>
                <h1 class="break-all" data-testid="deployment-fqdn">
                    {fqdn.clone()}
                </h1>
                <p class="muted text-sm">
                    {move || {
                        deployment
                            .with(|d| {
                                format!(
                                    "Created {} by {} · {} region(s) · {} component(s)",
                                    format_utc(d.created_at),
                                    if d.created_by_name.is_empty() {
                                        "a removed account"
                                    } else {
                                        d.created_by_name.as_str()
                                    },
                                    d.request.regions.len(),
                                    d.request.components.len(),
                                )
                            })
                    }}
                </p>
            </div>
            <div class="head-actions">
                <span data-testid="deployment-status">
                    {move || view! { <StatusBadge status=status() /> }}
                </span>
                <LinkState link />
            </div>
        </div>
    }
    .into_any();
    let error = view! {
        {move || {
            deployment
                .with(|d| d.error.clone())
                .filter(|_| status() == DeploymentStatus::Failed)
                .map(|e| {
                    view! {
                        <section class="alert alert-error mb-4" role="alert" data-testid="error-panel">
                            <p class="font-semibold">
                                {format!("Failed in {}", e.phase.label().to_lowercase())}
                            </p>
                            <p class="mt-1">{e.message.clone()}</p>
                            // The hint says what to do and to retry; only those who may retry can act on it.
                            {if deployment.with(|d| d.can.retry) {
                                view! { <p class="mt-2 hint">{e.hint.clone()}</p> }.into_any()
                            } else {
                                view! {
                                    <p class="mt-2 hint" data-testid="retry-elsewhere">
                                        "An editor, admin or owner of this organisation can fix the cause and retry it."
                                    </p>
                                }
                                    .into_any()
                            }}
                        </section>
                    }
                })
        }}
    }
    .into_any();
    let toolbar = view! {
        <div class="toolbar">
            <a
                class="btn btn-secondary"
                data-testid="flow-link"
                href=crate::routes::page(&format!("provision/{id}/flow"))
            >
                "Flow of the run"
            </a>
            <a
                class="btn btn-secondary"
                data-testid="jobs-link"
                href=crate::routes::page(&format!("provision/{id}/jobs"))
            >
                "Jobs"
            </a>
            <a
                class="btn btn-secondary"
                data-testid="timeline-link"
                href=crate::routes::page(&format!("provision/{id}/jobs/timeline"))
            >
                "Timeline"
            </a>
            {move || {
                (status() == DeploymentStatus::Failed && deployment.with(|d| d.can.retry))
                    .then(|| {
                        let id = deployment.with_untracked(|d| d.id.clone());
                        view! {
                            <ActionForm action=retry attr:data-testid="retry-form">
                                <input type="hidden" name="id" value=id />
                                <button
                                    type="submit"
                                    class="btn btn-primary"
                                    disabled=move || retry.pending().get()
                                >
                                    {move || if retry.pending().get() { "Retrying…" } else { "Retry" }}
                                </button>
                            </ActionForm>
                        }
                    })
            }}
            {move || {
                (status().in_flight() && deployment.with(|d| d.can.cancel))
                    .then(|| {
                        let id = deployment.with_untracked(|d| d.id.clone());
                        view! {
                            <ActionForm action=cancel>
                                <input type="hidden" name="id" value=id />
                                <button
                                    type="submit"
                                    class="btn btn-secondary"
                                    disabled=move || cancel.pending().get()
                                >
                                    {move || {
                                        if cancel.pending().get() { "Cancelling…" } else { "Cancel run" }
                                    }}
                                </button>
                            </ActionForm>
                        }
                    })
            }}
            {move || {
                deployment
                    .with(|d| {
                        (d.can.kubeconfig && !d.kubeconfig_regions.is_empty())
                            .then(|| {
                                view! {
                                    <a
                                        class="btn btn-secondary"
                                        data-testid="kubeconfig-link"
                                        download=""
                                        href=format!(
                                            "{}/deployments/{}/kubeconfig",
                                            crate::routes::API_V1,
                                            d.id,
                                        )
                                    >
                                        "Download kubeconfig"
                                    </a>
                                }
                            })
                    })
            }}
            {move || retry.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorView error /> })}
            {move || cancel.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorView error /> })}
        </div>
    }
    .into_any();
    let grid = view! {
        <div class="detail-grid">
            <section class="card" aria-labelledby="phases-title">
                <h2 id="phases-title" class="card-title">
                    "Phases"
                </h2>
                <ol class="phases" data-testid="phases">
                    {move || {
                        deployment
                            .with(|d| d.phases.clone())
                            .into_iter()
                            .map(|p| {
                                let n = now.get();
                                view! { <PhaseRow p now=n /> }
                            })
                            .collect_view()
                    }}
                </ol>
                {move || {
                    deployment
                        .with(|d| d.result.clone())
                        .map(|r| {
                            view! {
                                <dl class="facts mt-4">
                                    <dt>"Load balancer"</dt>
                                    <dd class="mono">{r.load_balancer_ip}</dd>
                                    <dt>"Control plane"</dt>
                                    <dd class="mono">{r.control_plane_ip}</dd>
                                    <dt>"Console"</dt>
                                    <dd class="break-all">{r.console_url}</dd>
                                </dl>
                            }
                        })
                }}
            </section>
            <section class="card" aria-labelledby="resources-title">
                <h2 id="resources-title" class="card-title">
                    "Cloud resources "
                    <span class="muted text-sm">
                        {move || {
                            deployment
                                .with(|d| {
                                    let done = d
                                        .resources
                                        .iter()
                                        .filter(|r| r.state == ResourceState::Complete)
                                        .count();
                                    format!("{done} of {} done", d.resources.len())
                                })
                        }}
                    </span>
                </h2>
                <Resources deployment />
                <Components deployment />
            </section>
        </div>
    }
    .into_any();
    view! {
        {header}
        {error}
        {toolbar}
        {grid}
        <LogPane events />
    }
}

#[component]
fn LinkState(link: RwSignal<Link>) -> impl IntoView {
    view! {
        // While live, a green dot (CSS) before the word: seen at a glance, not read out as "black circle".
        <span
            class="link-state muted text-sm"
            class:is-live=move || link.get() == Link::Live
            data-testid="link-state"
            aria-live="polite"
        >
            {move || match link.get() {
                Link::Static => "Snapshot",
                Link::Live => "Live",
                Link::Reconnecting => "Reconnecting…",
                Link::Finished => "Finished",
            }}
        </span>
    }
}

fn phase_icon(state: PhaseState) -> &'static str {
    match state {
        PhaseState::Pending => "○",
        PhaseState::Running => "◐",
        PhaseState::Succeeded => "✓",
        PhaseState::Failed => "✕",
        PhaseState::Skipped => "–",
    }
}

#[component]
fn PhaseRow(p: PhaseProgress, now: Millis) -> impl IntoView {
    let duration = p.duration(now).map(format_duration).unwrap_or_default();
    view! {
        <li
            class=format!("phase phase-{}", p.state.as_str())
            data-testid=format!("phase-{}", p.phase.as_str())
            data-state=p.state.as_str()
        >
            <span class="phase-icon" aria-hidden="true">
                {phase_icon(p.state)}
            </span>
            <span class="phase-name">{p.phase.label()}</span>
            <span class="phase-state muted">{p.state.as_str()}</span>
            <span class="phase-time mono muted">{duration}</span>
        </li>
    }
}

#[component]
fn Resources(deployment: RwSignal<Deployment>) -> impl IntoView {
    view! {
        {move || {
            let resources: Vec<ResourceProgress> = deployment.with(|d| d.resources.clone());
            if resources.is_empty() {
                return view! {
                    <p class="muted text-sm">"OpenTofu lists the resources once it has planned."</p>
                }
                    .into_any();
            }
            view! {
                <ul class="resources" data-testid="resources">
                    {resources
                        .into_iter()
                        .map(|r| {
                            view! {
                                <li
                                    class=format!("resource resource-{}", r.state.as_str())
                                    data-testid="resource-row"
                                >
                                    <span class="mono break-all">{r.address.clone()}</span>
                                    <span class="muted text-sm">{r.action.as_str()}</span>
                                    <span class="resource-state">{r.state.as_str()}</span>
                                    <span class="mono muted text-sm">
                                        {(r.elapsed_secs > 0).then(|| format!("{} s", r.elapsed_secs))}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
    }
}

#[component]
fn Components(deployment: RwSignal<Deployment>) -> impl IntoView {
    view! {
        {move || {
            let components = deployment.with(|d| d.components.clone());
            (!components.is_empty())
                .then(|| {
                    view! {
                        <h2 class="card-title mt-4">"Components"</h2>
                        <ul class="resources" data-testid="components">
                            {components
                                .into_iter()
                                .map(|c| {
                                    view! {
                                        <li class=format!("resource component-{}", c.state.as_str())>
                                            <span class="strong">{c.id.clone()}</span>
                                            <span class="resource-state">{c.state.as_str()}</span>
                                            <span class="muted text-sm break-all col-span-2">
                                                {c.message.clone()}
                                            </span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })
        }}
    }
}

fn level_rank(l: Level) -> u8 {
    match l {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warn => 2,
        Level::Error => 3,
    }
}

/// `09:38:05`.
fn clock(at: Millis) -> String {
    format_rfc3339(at).get(11..19).unwrap_or_default().to_string()
}

fn line_text(e: &DeploymentEvent) -> String {
    format!(
        "{} {:5} [{}] {}",
        clock(e.at),
        e.level.as_str(),
        e.phase.as_str(),
        e.message
    )
}

#[component]
fn LogPane(events: RwSignal<Vec<DeploymentEvent>>) -> impl IntoView {
    let follow = RwSignal::new(true);
    let min_level = RwSignal::new(Level::Info);
    let copied = RwSignal::new(false);
    let pane = NodeRef::<leptos::html::Div>::new();
    let visible = move || {
        let min = level_rank(min_level.get());
        events.with(|all| {
            all.iter()
                .filter(|e| level_rank(e.level) >= min)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    // Follow: keep the newest line in view as lines arrive.
    Effect::new(move |_| {
        events.track();
        if follow.get()
            && let Some(el) = pane.get()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let copy = move |_| {
        let text = visible().iter().map(line_text).collect::<Vec<_>>().join("\n");
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text);
            copied.set(true);
            set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    view! {
        <section class="card mt-4" aria-labelledby="log-title">
            <div class="log-head">
                <h2 id="log-title" class="card-title">
                    "Log"
                </h2>
                <div class="log-controls">
                    <label class="inline-field">
                        <span class="muted text-sm">"Level"</span>
                        <select
                            class="input input-sm"
                            data-testid="level-filter"
                            on:change=move |ev| {
                                if let Some(l) = Level::parse(&event_target_value(&ev)) {
                                    min_level.set(l);
                                }
                            }
                        >
                            <option value="debug">"Debug and up"</option>
                            <option value="info" selected>
                                "Info and up"
                            </option>
                            <option value="warn">"Warnings and errors"</option>
                            <option value="error">"Errors only"</option>
                        </select>
                    </label>
                    <button
                        type="button"
                        class="btn btn-secondary btn-sm"
                        data-testid="follow-toggle"
                        aria-pressed=move || follow.get().to_string()
                        on:click=move |_| follow.update(|f| *f = !*f)
                    >
                        {move || if follow.get() { "Pause" } else { "Follow" }}
                    </button>
                    <button
                        type="button"
                        class="btn btn-secondary btn-sm"
                        data-testid="copy-log"
                        on:click=copy
                    >
                        {move || if copied.get() { "Copied" } else { "Copy" }}
                    </button>
                </div>
            </div>
            <div
                class="log-pane"
                node_ref=pane
                data-testid="log-pane"
                tabindex="0"
                role="log"
                aria-label="Deployment log"
            >
                {move || {
                    let lines = visible();
                    if lines.is_empty() {
                        return view! { <p class="muted">"No lines at this level yet."</p> }.into_any();
                    }
                    lines
                        .into_iter()
                        .map(|e| {
                            view! {
                                <div
                                    class=format!("log-line log-{}", e.level.as_str())
                                    data-testid="log-line"
                                    data-seq=e.seq
                                >
                                    <span class="log-time">{clock(e.at)}</span>
                                    <span class="log-phase">{e.phase.as_str()}</span>
                                    <span class="log-msg">{e.message.clone()}</span>
                                </div>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </div>
        </section>
    }
}
