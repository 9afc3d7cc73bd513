//! `/sovereign/provision/<id>/flow`: the run as one graph, from the first OpenTofu resource to the last
//! HelmRelease. The server renders the first frame (the SVG from the same layout the browser computes)
//! and a list of the same graph, so the page is complete without JavaScript; once hydrated, the page follows
//! the deployment's event stream and recomputes the graph and its layout in wasm. The layout is stable: a
//! status change recolours a node and never moves it.

use leptos::prelude::*;
use std::collections::BTreeSet;

use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::api::{FlowView, load_flow};
use super::graph::{FOLDED_PREFIX, Graph, Node};
use super::layout::{Layout, NODE_H, NODE_W};
use super::{Job, JobKind, JobStatus};
use crate::time::format_duration;
use crate::ui::ErrorView;

#[component]
pub fn FlowPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new_blocking(id, load_flow);
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the flow…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <Canvas view /> }.into_any(),
                    Err(error) => {
                        view! {
                            <leptos_meta::Title text="Flow not found · Catalyst" />
                            <h1>"Flow"</h1>
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

/// What the canvas shows beside the run itself, kept in the query string so every state is a link (and works
/// without JavaScript): folded groups (`fold=infrastructure,components`), the zoom in percent (`zoom=75`)
/// and the job whose log is open (`job=install-cilium`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanvasView {
    pub fold: BTreeSet<String>,
    pub zoom: u32,
    pub job: String,
}

/// Nothing folded, 100 %, no log open (the page's plain address).
impl Default for CanvasView {
    fn default() -> Self {
        CanvasView::parse(None, None, None)
    }
}

/// Zoom steps, in percent.
pub const ZOOMS: [u32; 7] = [25, 50, 75, 100, 125, 150, 200];

impl CanvasView {
    pub fn parse(fold: Option<String>, zoom: Option<String>, job: Option<String>) -> CanvasView {
        let zoom = zoom
            .and_then(|z| z.parse::<u32>().ok())
            .filter(|z| ZOOMS.contains(z))
            .unwrap_or(100);
        CanvasView {
            fold: fold
                .unwrap_or_default()
                .split(',')
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect(),
            zoom,
            job: job.unwrap_or_default(),
        }
    }

    /// The page's address with this view.
    pub fn href(&self, base: &str) -> String {
        let mut parts = Vec::new();
        if !self.fold.is_empty() {
            parts.push(format!(
                "fold={}",
                encode(&self.fold.iter().cloned().collect::<Vec<_>>().join(","))
            ));
        }
        if self.zoom != 100 {
            parts.push(format!("zoom={}", self.zoom));
        }
        if !self.job.is_empty() {
            parts.push(format!("job={}", encode(&self.job)));
        }
        if parts.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", parts.join("&"))
        }
    }

    pub fn toggled(&self, group: &str) -> CanvasView {
        let mut v = self.clone();
        if !v.fold.remove(group) {
            v.fold.insert(group.to_string());
        }
        v
    }

    /// One zoom step in (`+1`) or out (`-1`), within [`ZOOMS`].
    pub fn zoomed(&self, step: i32) -> CanvasView {
        let i = ZOOMS.iter().position(|z| *z == self.zoom).unwrap_or(3) as i32;
        let j = (i + step).clamp(0, ZOOMS.len() as i32 - 1) as usize;
        CanvasView {
            zoom: ZOOMS[j],
            ..self.clone()
        }
    }

    pub fn with_job(&self, job: &str) -> CanvasView {
        CanvasView {
            job: job.to_string(),
            ..self.clone()
        }
    }
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b':' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The words for a status.
pub fn status_word(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Pending => "Waiting",
        JobStatus::Running => "Running",
        JobStatus::Succeeded => "Done",
        JobStatus::Failed => "Failed",
    }
}

fn phase_title(phase: &str) -> &'static str {
    match phase {
        "infrastructure" => "Cloud resources (OpenTofu)",
        "cluster" => "Cluster hand-back",
        "components" => "Components (HelmReleases)",
        _ => "Other",
    }
}

fn kind_word(k: JobKind) -> &'static str {
    match k {
        JobKind::Resource => "OpenTofu resource",
        JobKind::Handback => "cluster hand-back",
        JobKind::Release => "HelmRelease",
    }
}

/// What a node's box says: the job's label, or a folded group's short title.
fn display_label(n: &Node) -> String {
    if n.folded > 0 {
        // The short phase name, so the box holds the whole label (the count is on the second line).
        match n.group.split_once('@') {
            Some((phase, region)) => format!("{} · {region}", short_phase(phase)),
            None => short_phase(&n.group).to_string(),
        }
    } else {
        n.label.clone()
    }
}

fn short_phase(phase: &str) -> &'static str {
    match phase {
        "infrastructure" => "Cloud resources",
        "cluster" => "Cluster hand-back",
        "components" => "Components",
        _ => "Other",
    }
}

fn node_text(n: &Node) -> String {
    let what = if n.folded > 0 {
        format!("folded group of {} steps, Enter unfolds", n.folded)
    } else {
        kind_word(n.kind).to_string()
    };
    let mut s = format!(
        "{}, {what}: {}",
        display_label(n),
        status_word(n.status).to_lowercase()
    );
    if n.duration_ms > 0 {
        s.push_str(&format!(", {}", format_duration(n.duration_ms)));
    }
    if let (Some(e), false) = (n.expected_ms, n.status.is_terminal()) {
        s.push_str(&format!(", about {} in earlier runs", format_duration(e)));
    }
    s
}

/// A node's second line: its status and time — so far, or with what earlier runs took (`~`).
pub fn time_line(status: JobStatus, duration_ms: i64, expected_ms: Option<i64>) -> String {
    let word = status_word(status);
    match (status, expected_ms) {
        (JobStatus::Pending, Some(e)) => format!("{word} · ~{}", format_duration(e)),
        (JobStatus::Running, Some(e)) if duration_ms > 0 => {
            format!(
                "{word} · {} of ~{}",
                format_duration(duration_ms),
                format_duration(e)
            )
        }
        _ if duration_ms > 0 => format!("{word} · {}", format_duration(duration_ms)),
        _ => word.to_string(),
    }
}

/// Cuts a label to what fits in a node box (12 px monospace).
fn short(label: &str) -> String {
    cut(label, 26)
}

/// Cuts text to at most `max` characters, marking the cut.
fn cut(label: &str, max: usize) -> String {
    let max = max.max(2);
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// Once hydrated, follows the deployment's event stream into `jobs` (until the run settles).
pub fn follow_live(deployment: &crate::deployments::types::Deployment, jobs: RwSignal<Vec<Job>>) {
    #[cfg(feature = "hydrate")]
    {
        let url = format!("{}?after={}", deployment.stream_url, deployment.last_seq);
        let settled = deployment.status.settled();
        let id = deployment.id.clone();
        Effect::new(move |started: Option<bool>| {
            if started.is_none() && !settled {
                super::live::follow(&url, id.clone(), jobs);
            }
            true
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (deployment, jobs);
}

/// The three views of a run, as tabs of links (the current one marked).
#[component]
pub fn RunNav(id: String, current: &'static str) -> impl IntoView {
    let tabs = [
        ("flow", "Flow", format!("provision/{id}/flow")),
        ("jobs", "Jobs", format!("provision/{id}/jobs")),
        ("timeline", "Timeline", format!("provision/{id}/jobs/timeline")),
    ];
    view! {
        <nav class="run-nav" aria-label="Views of the run">
            {tabs
                .into_iter()
                .map(|(key, name, path)| {
                    let here = key == current;
                    view! {
                        <a
                            href=crate::routes::page(&path)
                            class="run-tab"
                            class:run-tab-current=here
                            aria-current=here.then_some("page")
                            data-testid=format!("run-tab-{key}")
                        >
                            {name}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

#[component]
fn Canvas(view: FlowView) -> impl IntoView {
    let FlowView { deployment, jobs } = view;
    let id = deployment.id.clone();
    let fqdn = deployment.fqdn.clone();
    let jobs = RwSignal::new(jobs);
    let graph = Memo::new(move |_| jobs.with(|j| Graph::from_jobs(j)));
    // Why each failed or waiting job is so, from the jobs themselves (recomputed live).
    let causes = Memo::new(move |_| jobs.with(|j| super::cause::explain(j)));
    let path = Memo::new(move |_| jobs.with(|j| super::critical::critical_path(j)));
    let query = use_query_map();
    let cv = Memo::new(move |_| {
        let q = query.read();
        CanvasView::parse(q.get("fold"), q.get("zoom"), q.get("job"))
    });
    // What the canvas draws: the graph with the folded groups as one node each.
    let shown = Memo::new(move |_| cv.with(|v| graph.with(|g| g.fold(&v.fold))));
    let layout = Memo::new(move |_| shown.with(Layout::of));
    // The critical path as drawn: its jobs (a folded group stands for its members) and its edges
    // (`from\0to`, between consecutive steps that are not inside one folded group).
    let critical = Memo::new(move |_| {
        cv.with(|v| {
            graph.with(|g| {
                let owner = |id: &str| match g.node(id) {
                    Some(n) if v.fold.contains(&n.group) => format!("{FOLDED_PREFIX}{}", n.group),
                    _ => id.to_string(),
                };
                path.with(|p| {
                    let ids: Vec<String> = p.iter().map(|id| owner(id)).collect();
                    let mut set: BTreeSet<String> = ids.iter().cloned().collect();
                    for w in ids.windows(2) {
                        if w[0] != w[1] {
                            set.insert(format!("{}\u{0}{}", w[0], w[1]));
                        }
                    }
                    set
                })
            })
        })
    });
    let base = StoredValue::new(crate::routes::page(&format!("provision/{}/flow", deployment.id)));
    let run_id = StoredValue::new(deployment.id.clone());
    let navigate = use_navigate();
    // Full paths (the router must not prefix its base again); the page keeps its scroll position.
    let go = Callback::new(move |href: String| {
        navigate(
            &href,
            leptos_router::NavigateOptions {
                resolve: false,
                scroll: false,
                ..Default::default()
            },
        )
    });

    follow_live(&deployment, jobs);
    let id_for_pane = id.clone();
    let back = crate::routes::page(&format!("provision/{id}"));
    let header = view! {
        <leptos_meta::Title text=format!("{fqdn} · Flow · Catalyst") />
        <div class="page-head">
            <div class="min-w-0">
                <p class="eyebrow">
                    <a href=crate::routes::page("deployments")>"Deployments"</a>
                    " / "
                    <a href=back.clone()>{fqdn.clone()}</a>
                    " / flow"
                </p>
                <h1>"Flow of the run"</h1>
                <p class="muted text-sm">
                    "Every step from the first cloud resource to the last component; an arrow means “starts when that one is done”."
                </p>
            </div>
            <div class="head-actions">
                <span class="flow-status" data-testid="flow-status">
                    {move || {
                        let s = graph.with(Graph::status);
                        view! {
                            <span class=format!("badge flow-badge-{}", s.as_str())>{status_word(s)}</span>
                        }
                    }}
                </span>
            </div>
        </div>
    }
    .into_any();

    let groups = view! {
        <ul class="flow-groups" aria-label="Phases">
            {move || {
                graph
                    .with(|g| g.groups.clone())
                    .into_iter()
                    .map(|g| {
                        let title = if g.region.is_empty() {
                            phase_title(&g.phase).to_string()
                        } else {
                            format!("{} · {}", phase_title(&g.phase), g.region)
                        };
                        let folded = cv.with(|v| v.fold.contains(&g.id));
                        let href = cv.with(|v| v.toggled(&g.id).href(&base.get_value()));
                        view! {
                            <li class=format!("flow-group flow-{}", g.status.as_str())>
                                <a class="flow-fold" href=href data-testid=format!("fold-{}", g.id)>
                                    <span class="flow-dot" aria-hidden="true"></span>
                                    {title.clone()}
                                    ": "
                                    {status_word(g.status)}
                                    {format!(" ({})", g.nodes)}
                                    <span class="flow-fold-word">
                                        {if folded { "unfold" } else { "fold" }}
                                    </span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
    .into_any();

    // The canvas keeps its elements: nodes and edges are keyed by id (`<For>`), and each reads its own
    // status, duration, label and place from memos, so a live update changes attributes in place and never
    // replaces the element that has the keyboard focus (or the scroll position of the frame).
    let has_nodes = Memo::new(move |_| graph.with(|g| !g.nodes.is_empty()));
    let zoom = Memo::new(move |_| f64::from(cv.with(|v| v.zoom)) / 100.0);
    // Nodes in reading order of the canvas: layer by layer, top to bottom (the tab order).
    let node_ids = Memo::new(move |_| layout.with(|l| l.layers.concat()));
    let edge_ids = Memo::new(move |_| {
        shown.with(|g| {
            g.edges
                .iter()
                .map(|e| (e.from.clone(), e.to.clone()))
                .collect::<Vec<_>>()
        })
    });
    // Pan: dragging the canvas's background scrolls its frame (arrow keys do the same once it has focus).
    let frame = NodeRef::<leptos::html::Div>::new();
    let drag = StoredValue::new(None::<(i32, i32, i32, i32)>);
    let on_down = move |ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "hydrate")]
        {
            let on_node = ev
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                .and_then(|e| e.closest(".flow-node").ok().flatten())
                .is_some();
            if let (false, Some(f)) = (on_node, frame.get_untracked()) {
                drag.set_value(Some((
                    ev.client_x(),
                    ev.client_y(),
                    f.scroll_left(),
                    f.scroll_top(),
                )));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, frame, drag);
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        if let (Some((x, y, left, top)), Some(f)) = (drag.get_value(), frame.get_untracked()) {
            f.set_scroll_left(left - (ev.client_x() - x));
            f.set_scroll_top(top - (ev.client_y() - y));
        }
    };
    let on_up = move |_: leptos::ev::PointerEvent| drag.set_value(None);
    // Keys on the canvas: + and - zoom, 0 back to 100 %, Escape closes the log pane.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let v = cv.get_untracked();
        let next = match ev.key().as_str() {
            "+" | "=" => v.zoomed(1),
            "-" | "_" => v.zoomed(-1),
            "0" => CanvasView {
                zoom: 100,
                ..v.clone()
            },
            "Escape" => v.with_job(""),
            _ => return,
        };
        if next != v {
            ev.prevent_default();
            go.run(next.href(&base.get_value()));
        }
    };
    let tools = view! {
        <div class="flow-tools" data-testid="flow-tools">
            <a
                class="btn btn-secondary btn-sm"
                href=move || cv.with(|v| v.zoomed(-1).href(&base.get_value()))
                aria-label="Zoom out"
                data-testid="zoom-out"
            >
                "−"
            </a>
            <span class="flow-zoom" data-testid="zoom-level" aria-live="polite">
                {move || format!("{} %", cv.with(|v| v.zoom))}
            </span>
            <a
                class="btn btn-secondary btn-sm"
                href=move || cv.with(|v| v.zoomed(1).href(&base.get_value()))
                aria-label="Zoom in"
                data-testid="zoom-in"
            >
                "+"
            </a>
            <span class="muted text-sm">
                "Drag or use the arrow keys to move around; + and − zoom; Enter on a step opens its log, a double-click its page."
            </span>
            {move || {
                path.with(|p| {
                    (!p.is_empty())
                        .then(|| {
                            view! {
                                <span class="muted text-sm" data-testid="flow-critical-legend">
                                    <span class="flow-critical-key" aria-hidden="true"></span>
                                    {format!(
                                        "Bold: the critical path, the {} steps that decided the run’s time.",
                                        p.len(),
                                    )}
                                </span>
                            }
                        })
                })
            }}
        </div>
    };
    let svg = view! {
        <div
            class="flow-scroll"
            data-testid="flow-canvas"
            node_ref=frame
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointerleave=on_up
            on:keydown=on_key
        >
            <Show
                when=move || has_nodes.get()
                fallback=|| {
                    view! {
                        <p class="muted p-4">
                            "Nothing has started yet: the steps appear here as the run plans them."
                        </p>
                    }
                }
            >
                <svg
                    class="flow-svg"
                    viewBox=move || layout.with(|l| format!("0 0 {:.0} {:.0}", l.width, l.height))
                    width=move || layout.with(|l| format!("{:.0}", l.width * zoom.get()))
                    height=move || layout.with(|l| format!("{:.0}", l.height * zoom.get()))
                    role="group"
                    aria-label="Flow of the run: one box per step"
                >
                    <defs>
                        <marker
                            id="flow-arrow"
                            viewBox="0 0 10 10"
                            refX="10"
                            refY="5"
                            markerWidth="7"
                            markerHeight="7"
                            orient="auto-start-reverse"
                        >
                            <path d="M0,0 L10,5 L0,10 z" class="flow-arrowhead" />
                        </marker>
                    </defs>
                    <For
                        each=move || edge_ids.get()
                        key=|e| e.clone()
                        children=move |(from, to)| view! { <FlowEdge from to graph=shown layout critical /> }
                    />
                    <For
                        each=move || node_ids.get()
                        key=|id| id.clone()
                        children=move |node| {
                            view! {
                                <FlowNode id=node run=run_id graph=shown layout causes critical cv base go />
                            }
                        }
                    />
                </svg>
            </Show>
        </div>
    }
    .into_any();

    let list = view! {
        <section class="card mt-4" aria-labelledby="flow-list-title" data-testid="flow-list">
            <h2 id="flow-list-title" class="card-title">
                "The same steps as a list"
            </h2>
            {move || {
                let g = graph.get();
                g.groups
                    .iter()
                    .map(|grp| {
                        let title = if grp.region.is_empty() {
                            phase_title(&grp.phase).to_string()
                        } else {
                            format!("{} · {}", phase_title(&grp.phase), grp.region)
                        };
                        let items = g
                            .nodes
                            .iter()
                            .filter(|n| n.group == grp.id)
                            .map(|n| {
                                let waits: Vec<String> = g
                                    .upstream(&n.id)
                                    .iter()
                                    .map(|u| u.label.clone())
                                    .collect();
                                let cause = causes.with(|c| c.get(&n.id).map(|c| c.sentence.clone()));
                                view! {
                                    <li class=format!("flow-item flow-{}", n.status.as_str())>
                                        <span class="flow-dot" aria-hidden="true"></span>
                                        <span class="mono break-all">{n.label.clone()}</span>
                                        " — "
                                        {status_word(n.status)}
                                        {(n.duration_ms > 0)
                                            .then(|| format!(" · {}", format_duration(n.duration_ms)))}
                                        {(!waits.is_empty())
                                            .then(|| {
                                                view! {
                                                    <span class="muted text-sm block">
                                                        "Starts after: " {waits.join(", ")}
                                                    </span>
                                                }
                                            })}
                                        {cause
                                            .map(|c| {
                                                view! {
                                                    <span
                                                        class="flow-cause-text block"
                                                        data-testid="flow-cause"
                                                    >
                                                        {c}
                                                    </span>
                                                }
                                            })}
                                    </li>
                                }
                            })
                            .collect_view();
                        view! {
                            <h3 class="flow-list-phase">{title} ": " {status_word(grp.status)}</h3>
                            <ol class="flow-list">{items}</ol>
                        }
                    })
                    .collect_view()
            }}
        </section>
    }
    .into_any();

    let pane = move || {
        let job = cv.with(|v| v.job.clone());
        (!job.is_empty()).then(|| {
            let status = {
                let job = job.clone();
                Memo::new(move |_| graph.with(|g| g.node(&job).map(|n| n.status)))
            };
            let close = cv.with(|v| v.with_job("").href(&base.get_value()));
            let cause = {
                let job = job.clone();
                Memo::new(move |_| causes.with(|c| c.get(&job).map(|c| c.sentence.clone())))
            };
            view! { <LogPane id=id_for_pane.clone() job status cause close /> }
        })
    };
    view! {
        {header}
        <RunNav id=id.clone() current="flow" />
        {groups}
        {tools}
        // The canvas and, once a step is chosen, its log beside it (below it on narrow screens): the pane never
        // covers the canvas.
        <div class="flow-stage" class:flow-stage-open=move || cv.with(|v| !v.job.is_empty())>
            {svg}
            {pane}
        </div>
        {list}
    }
}

/// The log of one job (its latest execution's last lines), floating over the canvas; re-read when the
/// job's status changes. Without JavaScript it is part of the page the server sends for `?job=`.
#[component]
fn LogPane(
    id: String,
    job: String,
    status: Memo<Option<JobStatus>>,
    cause: Memo<Option<String>>,
    close: String,
) -> impl IntoView {
    let page = job_href(&id, &job);
    let data = Resource::new(
        move || (id.clone(), job.clone(), status.get()),
        |(id, job, _)| super::api::job_tail(id, job),
    );
    view! {
        <aside class="flow-pane card" data-testid="flow-pane" aria-labelledby="flow-pane-title">
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading the log…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(log) => {
                            let j = &log.detail.job;
                            let title = super::graph::label_of(j);
                            let sub = if j.duration_ms > 0 {
                                format!("{} · {}", status_word(j.status), format_duration(j.duration_ms))
                            } else {
                                status_word(j.status).to_string()
                            };
                            let lines = log.page.map(|p| p.lines).unwrap_or_default();
                            view! {
                                <div class="log-head">
                                    <h2 id="flow-pane-title" class="card-title mono break-all">
                                        {title}
                                    </h2>
                                    <span class=format!("pill flow-badge-{}", j.status.as_str())>{sub}</span>
                                </div>
                                {move || {
                                    cause
                                        .get()
                                        .map(|c| {
                                            view! {
                                                <p class="flow-cause-text" data-testid="flow-pane-cause">
                                                    {c}
                                                </p>
                                            }
                                        })
                                }}
                                <div
                                    class="log-pane"
                                    tabindex="0"
                                    role="log"
                                    aria-label="Log of the step"
                                    data-testid="flow-pane-log"
                                >
                                    {log_lines(lines)}
                                </div>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="mt-2">
                <a class="btn btn-secondary btn-sm" href=close data-testid="flow-pane-close">
                    "Close the log"
                </a>
                " "
                <a class="btn btn-secondary btn-sm" href=page data-testid="flow-pane-open">
                    "Open the job’s page"
                </a>
            </p>
        </aside>
    }
}

/// A job's log lines (or a word that there are none yet), as the pane and the job page show them.
pub fn log_lines(lines: Vec<super::LogLine>) -> AnyView {
    if lines.is_empty() {
        return view! { <p class="muted">"No log lines yet."</p> }.into_any();
    }
    lines
        .into_iter()
        .map(|l| {
            view! {
                <div class=format!("log-line log-{}", l.level.as_str()) data-testid="flow-pane-line">
                    <span class="log-time">{format!("#{}", l.line_number)}</span>
                    <span class="log-phase">
                        {crate::time::format_rfc3339(l.at).get(11..19).unwrap_or_default().to_string()}
                    </span>
                    <span class="log-msg">{l.message}</span>
                </div>
            }
        })
        .collect_view()
        .into_any()
}

/// The address of a job's page (`/provision/<id>/jobs/<job>`, the job's name percent-encoded).
pub fn job_href(id: &str, job: &str) -> String {
    let mut name = String::with_capacity(job.len());
    for b in job.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                name.push(b as char)
            }
            _ => name.push_str(&format!("%{b:02X}")),
        }
    }
    crate::routes::page(&format!("provision/{id}/jobs/{name}"))
}

/// One edge of the canvas; its path and colour follow the layout and its source's status.
#[component]
fn FlowEdge(
    from: String,
    to: String,
    graph: Memo<Graph>,
    layout: Memo<Layout>,
    critical: Memo<BTreeSet<String>>,
) -> impl IntoView {
    let on_path = {
        let key = format!("{from}\u{0}{to}");
        Memo::new(move |_| critical.with(|c| c.contains(&key)))
    };
    let path = {
        let (from, to) = (from.clone(), to.clone());
        Memo::new(move |_| layout.with(|l| l.edge_path(&from, &to).unwrap_or_default()))
    };
    let status = Memo::new(move |_| graph.with(|g| g.node(&from).map_or(JobStatus::Pending, |n| n.status)));
    view! {
        <path
            class=move || {
                let path = if on_path.get() { " flow-edge-critical" } else { "" };
                format!("flow-edge flow-{}{path}", status.get().as_str())
            }
            d=move || path.get()
            marker-end="url(#flow-arrow)"
        />
    }
}

/// One node of the canvas: created once per job and updated in place.
#[component]
fn FlowNode(
    id: String,
    run: StoredValue<String>,
    graph: Memo<Graph>,
    layout: Memo<Layout>,
    causes: Memo<std::collections::BTreeMap<String, super::cause::Cause>>,
    critical: Memo<BTreeSet<String>>,
    cv: Memo<CanvasView>,
    base: StoredValue<String>,
    go: Callback<String>,
) -> impl IntoView {
    // Click or Enter: a job opens its log; a folded group unfolds.
    let open = {
        let id = id.clone();
        move || {
            let v = cv.get_untracked();
            let next = match id.strip_prefix(FOLDED_PREFIX) {
                Some(group) => v.toggled(group),
                None => v.with_job(&id),
            };
            go.run(next.href(&base.get_value()));
        }
    };
    let on_click = {
        let open = open.clone();
        move |_: leptos::ev::MouseEvent| open()
    };
    // Double-click: the job's own page (a folded group has none).
    let on_dblclick = {
        let id = id.clone();
        move |_: leptos::ev::MouseEvent| {
            if !id.starts_with(FOLDED_PREFIX) {
                go.run(job_href(&run.get_value(), &id));
            }
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" || ev.key() == " " {
            ev.prevent_default();
            ev.stop_propagation();
            open();
        }
    };
    let node = {
        let id = id.clone();
        Memo::new(move |_| graph.with(|g| g.node(&id).cloned()))
    };
    let place = {
        let id = id.clone();
        Memo::new(move |_| layout.with(|l| l.places.get(&id).copied()))
    };
    let status = Memo::new(move |_| node.with(|n| n.as_ref().map_or(JobStatus::Pending, |n| n.status)));
    let label = Memo::new(move |_| node.with(|n| n.as_ref().map(display_label).unwrap_or_default()));
    let duration = Memo::new(move |_| node.with(|n| n.as_ref().map_or(0, |n| n.duration_ms)));
    let folded = Memo::new(move |_| node.with(|n| n.as_ref().map_or(0, |n| n.folded)));
    let expected = Memo::new(move |_| node.with(|n| n.as_ref().and_then(|n| n.expected_ms)));
    let on_path = {
        let id = id.clone();
        Memo::new(move |_| critical.with(|c| c.contains(&id)))
    };
    let cause = {
        let id = id.clone();
        Memo::new(move |_| causes.with(|c| c.get(&id).cloned()))
    };
    let aria = Memo::new(move |_| {
        let text = node.with(|n| n.as_ref().map(node_text).unwrap_or_default());
        match cause.get() {
            Some(c) => format!("{text}. {}", c.sentence),
            None => text,
        }
    });
    let tip = {
        let id = id.clone();
        move || match cause.get() {
            Some(c) => format!("{id}: {}", c.sentence),
            None => id.clone(),
        }
    };
    let sub = move || {
        let (s, d) = (status.get(), duration.get());
        if folded.get() > 0 {
            // A folded phase: how many steps it stands for (its name is the first line).
            format!("{} · {} steps", status_word(s), folded.get())
        } else {
            time_line(s, d, expected.get())
        }
    };
    view! {
        <g
            class=move || {
                let path = if on_path.get() { " flow-critical" } else { "" };
                format!("flow-node flow-{}{path}", status.get().as_str())
            }
            transform=move || {
                place.get().map(|p| format!("translate({:.1},{:.1})", p.x, p.y)).unwrap_or_default()
            }
            tabindex="0"
            role="img"
            aria-label=move || aria.get()
            data-node=id.clone()
            on:click=on_click
            on:dblclick=on_dblclick
            on:keydown=on_key
        >
            <title>{tip}</title>
            <rect width=NODE_W.to_string() height=NODE_H.to_string() rx="8" />
            <text x="12" y="18" class="flow-label">
                {move || short(&label.get())}
            </text>
            <text x="12" y="35" class="flow-sub">
                {sub}
            </text>
            <text x="12" y="52" class="flow-cause" data-testid="flow-node-cause">
                {move || cause.get().map(|c| cut(&c.short, 32)).unwrap_or_default()}
            </text>
        </g>
    }
}

/// Applies one event of the deployment's stream to the jobs: resource and component changes update (or
/// add) their job; anything else returns true when the jobs should be read again (a status change).
pub fn apply_event(jobs: &mut Vec<Job>, e: &crate::deployments::types::DeploymentEvent) -> bool {
    use crate::deployments::types::{ComponentPhase, EventKind, Phase};
    // The reason a change brings (a component's from its message, as the server classifies it); `None`: the
    // change says nothing about one (a resource's: the server's diagnosis arrives with the next read).
    let (name, kind, app, status, reason) = match e.kind {
        EventKind::Resource if matches!(e.phase, Phase::TofuPlan | Phase::TofuApply) => {
            let Some(r) = &e.resource else { return false };
            (
                super::tofu_job(&r.address),
                JobKind::Resource,
                r.resource_type.clone(),
                JobStatus::of_resource(r.state),
                None,
            )
        }
        EventKind::Component => {
            let (Some(c), Some(s)) = (&e.component, e.state.as_deref().and_then(ComponentPhase::parse))
            else {
                return false;
            };
            (
                super::install_job(c),
                JobKind::Release,
                c.clone(),
                JobStatus::of_component(s),
                Some(super::cause::classify_release(s, &e.message)),
            )
        }
        EventKind::Status => return true,
        _ => return false,
    };
    if let Some(j) = jobs.iter_mut().find(|j| j.job_name == name) {
        if j.status != status && status != JobStatus::Pending && j.started_at.is_none() {
            j.started_at = Some(e.at);
        }
        // The store's rule: a change that brings a reason sets it; another status forgets the old one.
        match reason {
            Some(r) => j.reason = r,
            None if j.status != status => j.reason = None,
            None => {}
        }
        j.status = status;
        // Durations follow the events (the store's rules: so far while running, start to finish after).
        if let Some(start) = j.started_at {
            if status == JobStatus::Running {
                j.finished_at = None;
            } else if status.is_terminal() && j.finished_at.is_none() {
                j.finished_at = Some(e.at.max(start));
            }
            if status != JobStatus::Pending {
                j.duration_ms = j.finished_at.unwrap_or(e.at).max(start) - start;
            }
        }
    } else {
        jobs.push(Job {
            job_name: name,
            kind,
            app_id: app,
            batch_id: kind.batch().to_string(),
            region: String::new(),
            depends_on: Vec::new(),
            status,
            started_at: (status != JobStatus::Pending).then_some(e.at),
            finished_at: None,
            duration_ms: 0,
            latest_execution_id: None,
            reason: reason.flatten(),
            expected_ms: None,
        });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_view_is_the_plain_address() {
        assert_eq!(CanvasView::default().href("/f"), "/f");
        assert_eq!(CanvasView::default().with_job("x").href("/f"), "/f?job=x");
    }

    #[test]
    fn a_folded_phase_s_label_fits_its_box_whole() {
        for group in [
            "infrastructure",
            "cluster",
            "components@fsn1-2",
            "infrastructure@nbg1-3",
        ] {
            let n = Node {
                id: format!("{FOLDED_PREFIX}{group}"),
                label: group.to_string(),
                kind: JobKind::Resource,
                status: JobStatus::Running,
                group: group.to_string(),
                duration_ms: 0,
                folded: 1234,
                expected_ms: None,
            };
            let label = display_label(&n);
            assert_eq!(short(&label), label, "{group}: cut");
            assert!(node_text(&n).contains("1234 steps"));
        }
    }
}
