//! The pages of accounts and access: sign-in, sign-up, first-run setup, users, API tokens, account, audit.

mod account;
mod audit;
mod login;
pub mod routes;
mod setup;
mod signup;
mod tokens;
mod users;

pub use account::AccountPage;
pub use audit::AuditPage;
pub use login::LoginPage;
pub use setup::SetupPage;
pub use signup::SignupPage;
pub use tokens::TokensPage;
pub use users::UsersPage;

use leptos::prelude::*;

use crate::error::AppError;

/// The message for `field` from the last result of an action, if the server rejected that field.
pub(crate) fn field_error<T: 'static>(
    value: impl With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    move || {
        value.with(|v| match v {
            Some(Err(e)) => e.field_message(field).map(str::to_string),
            _ => None,
        })
    }
}

/// The error of the last result when it is not about one of the form's own fields (those show beside
/// their input).
pub(crate) fn form_error<T: 'static>(
    value: impl With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
    fields: &'static [&'static str],
) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static {
    move || {
        value.with(|v| match v {
            Some(Err(e))
                if e.fields().is_empty()
                    || e.fields().iter().any(|f| !fields.contains(&f.field.as_str())) =>
            {
                Some(e.clone())
            }
            _ => None,
        })
    }
}

/// One labelled input with its error below it, wired for screen readers.
#[component]
pub(crate) fn Field(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    #[prop(into, default = "text".to_string())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(default = None)] value: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(into, optional)] minlength: Option<String>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        let has_hint = hint.is_some();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                name=name
                type=kind
                class="input"
                autocomplete=autocomplete
                value=value
                required=required
                readonly=readonly
                autofocus=autofocus
                minlength=minlength
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
            />
            {hint
                .map(|h| {
                    view! {
                        <p class="field-hint" id=hint_id>
                            {h}
                        </p>
                    }
                })}
            <p class="field-error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// After a successful sign-in or sign-out in the hydrated app: load `path` as a new page, so the frame
/// and every resource start from the new session.
pub fn hard_navigate(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// The frame of the sign-in pages: a centred card under a heading.
#[component]
pub(crate) fn AuthCard(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <section class="auth-card card">
            <h1 class="auth-title">{title}</h1>
            {children()}
        </section>
    }
}
