//! The flow page as a lazily loaded route in the `console` wasm module (with the other deployment pages).

use leptos::prelude::*;

use super::job::JobPage;
use super::page::FlowPage;
use super::pages::{JobsPage, TimelinePage};

/// `/sovereign/provision/<id>/flow`.
pub struct FlowRoute;

in_chunk!(
    console,
    preload_flow_route,
    fn flow_route_view(_this: FlowRoute) -> AnyView {
        view! { <FlowPage/> }.into_any()
    }
);

lazy_route_in!(FlowRoute, flow_route_view, preload_flow_route);

/// `/sovereign/provision/<id>/jobs`.
pub struct JobsRoute;

in_chunk!(
    console,
    preload_jobs_route,
    fn jobs_route_view(_this: JobsRoute) -> AnyView {
        view! { <JobsPage/> }.into_any()
    }
);

lazy_route_in!(JobsRoute, jobs_route_view, preload_jobs_route);

/// `/sovereign/provision/<id>/jobs/timeline`.
pub struct TimelineRoute;

in_chunk!(
    console,
    preload_timeline_route,
    fn timeline_route_view(_this: TimelineRoute) -> AnyView {
        view! { <TimelinePage/> }.into_any()
    }
);

lazy_route_in!(TimelineRoute, timeline_route_view, preload_timeline_route);

/// `/sovereign/provision/<id>/jobs/<job>`.
pub struct JobRoute;

in_chunk!(
    console,
    preload_job_route,
    fn job_route_view(_this: JobRoute) -> AnyView {
        view! { <JobPage/> }.into_any()
    }
);

lazy_route_in!(JobRoute, job_route_view, preload_job_route);
