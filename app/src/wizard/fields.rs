//! Building blocks shared by the steps: the message under a field, the "default" badge, section headings.

use leptos::prelude::*;

use super::ids::error_id;
use super::state::use_wizard;

/// The message of `field` (from the shared rules, or from the server), announced to screen readers.
#[component]
pub fn FieldMessage(#[prop(into)] field: String) -> impl IntoView {
    let state = use_wizard();
    let id = error_id(&field);
    let f = field.clone();
    let testid = format!("error-{field}");
    view! {
        <p class="field-error" id=id data-testid=testid role="alert" aria-live="polite">
            {move || state.error(&f)}
        </p>
    }
}

/// `aria-invalid` for the input of `field` (reactive).
pub fn aria_invalid(field: &'static str) -> impl Fn() -> Option<&'static str> + Send + Sync + Copy + 'static {
    let state = use_wizard();
    move || state.error(field).map(|_| "true")
}

/// `aria-invalid` for a field whose name is built at run time.
pub fn aria_invalid_dyn(field: String) -> impl Fn() -> Option<&'static str> + Send + Sync + Clone + 'static {
    let state = use_wizard();
    move || state.error(&field).map(|_| "true")
}
