//! Readable error messages for error boundaries and failed server calls.

use leptos::prelude::*;

use crate::error::AppError;

/// Fallback of an `<ErrorBoundary>`: lists what went wrong in plain words.
#[component]
pub fn ErrorList(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert" data-testid="error-boundary">
            <p class="font-semibold">"Something went wrong"</p>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
            <p class="muted text-sm">"Reload the page to try again. If it keeps happening, the server log has the details."</p>
        </div>
    }
}

/// One error from a server call, shown inline.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert">
            {error.to_string()}
        </div>
    }
}
