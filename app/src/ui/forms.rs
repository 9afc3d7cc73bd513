//! Forms of the shell.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A form that runs a server action needing no input: without JavaScript it posts to the server function, once
/// hydrated its submit dispatches `input`.
///
/// The shell (the main wasm module) uses this instead of `ActionForm`, whose submit handler decodes the form
/// with serde_qs and brings leptos' form-data extraction along: 25 KB gzip of the main module
/// (BENCHMARKS.md → "Browser bundle"). Pages in split modules may use `ActionForm` freely.
#[component]
pub fn NoInputForm<S>(
    action: ServerAction<S>,
    /// What a submit dispatches (the server function's argument struct, e.g. `Logout {}`).
    input: S,
    #[prop(into)] class: String,
    children: Children,
) -> impl IntoView
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    view! {
        <form
            action=S::url()
            method="post"
            class=class
            on:submit=move |ev| {
                ev.prevent_default();
                action.dispatch(input.clone());
            }
        >
            {children()}
        </form>
    }
}
