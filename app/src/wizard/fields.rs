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

/// A control's `prop:value` (or `prop:checked`) that never writes over what the person typed before the page
/// hydrated: while hydrating, its first run writes nothing (the control keeps its text, and
/// [`super::browser::adopt_early_input`] hands that text to the state once the page is live); every later
/// run writes `value`, which is what the state holds once the control's own handler or a programmatic edit
/// changed it. Give it a value read through a `Memo` of the field, so edits of other fields do not rewrite
/// this control.
pub fn live<T: 'static>(
    value: impl Fn() -> T + Send + Sync + 'static,
) -> impl Fn() -> Option<T> + Send + Sync + 'static {
    let first = std::sync::atomic::AtomicBool::new(true);
    let hydrating = Owner::current_shared_context().is_some_and(|sc| sc.during_hydration());
    move || {
        let v = value();
        let skip = first.swap(false, std::sync::atomic::Ordering::Relaxed) && hydrating;
        (!skip).then_some(v)
    }
}
