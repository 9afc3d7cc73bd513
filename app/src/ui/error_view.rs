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
                    errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()
                }}
            </ul>
            <p class="muted text-sm">
                "Reload the page to try again. If it keeps happening, the server log has the details."
            </p>
        </div>
    }
}

/// One error from a server call, shown inline. A missing permission also sets the page's status to 403; an
/// ended session offers the way back in.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let AppError::Forbidden(_) = &error
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    let sign_in = matches!(error, AppError::Unauthenticated).then(|| {
        let here = leptos_router::hooks::use_location();
        let next = format!(
            "{}{}",
            here.pathname.get_untracked(),
            here.search
                .get_untracked()
                .chars()
                .next()
                .map_or(String::new(), |_| format!("?{}", here.search.get_untracked()))
        );
        view! {
            " "
            <a href=crate::auth::login_url(&next) data-testid="sign-in-again">
                "Sign in again"
            </a>
        }
    });
    view! {
        <div class="alert alert-error" role="alert" data-testid="error" data-code=error.code()>
            {error.to_string()}
            {sign_in}
        </div>
    }
}
