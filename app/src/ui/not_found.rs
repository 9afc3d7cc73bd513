//! The 404 page (served with HTTP status 404).

use leptos::prelude::*;

use crate::routes;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <leptos_meta::Title text="Page not found · Catalyst" />
        <section class="status-page" data-testid="not-found">
            <p class="status-code">"404"</p>
            <h1>"Page not found"</h1>
            <p class="muted">
                "There is nothing at this address. It may have moved, or the link may be mistyped."
            </p>
            <a class="btn btn-primary" href=routes::home()>
                "Back to the overview"
            </a>
        </section>
    }
}
