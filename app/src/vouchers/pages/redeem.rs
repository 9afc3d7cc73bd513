//! `/redeem?code=…`: the public voucher landing page voucher e-mails link to. Server-rendered, whole
//! without JavaScript: exactly one of five states — validating (while a code is looked up in the browser),
//! no code (a form asks for one), not valid, ended, valid. "Sign up to redeem" carries the code to the
//! sign-up page in its address; the server checks and redeems it there (no browser storage).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::billing::format_money;
use crate::routes;
use crate::vouchers::api::redeem_state;
use crate::vouchers::{RedeemPreview, RedeemState};

#[component]
pub fn RedeemPage() -> impl IntoView {
    let query = use_query_map();
    let code = move || query.read().get("code").filter(|c| !c.trim().is_empty());
    let state = Resource::new_blocking(code, redeem_state);
    view! {
        <leptos_meta::Title text="Redeem a voucher · Catalyst" />
        <section class="auth-card card redeem" aria-live="polite">
            <Suspense fallback=|| {
                view! {
                    <div data-testid="redeem-loading">
                        <h1 class="auth-title">"Validating voucher…"</h1>
                    </div>
                }
            }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(RedeemState::Missing) => view! { <Missing /> }.into_any(),
                        Ok(RedeemState::NotValid) => {
                            view! { <NotValid detail="This code does not exist or has been retired." /> }
                                .into_any()
                        }
                        Ok(RedeemState::Unavailable(detail)) => view! { <NotValid detail /> }.into_any(),
                        Err(_) => {
                            view! {
                                <NotValid detail="Could not reach the voucher service. Check your connection and try again." />
                            }
                                .into_any()
                        }
                        Ok(RedeemState::Ended(p)) => view! { <Ended p /> }.into_any(),
                        Ok(RedeemState::Valid(p)) => view! { <Valid p /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A plain GET form to this page: works the same with and without JavaScript.
#[component]
fn CodeForm(#[prop(into)] label: String, #[prop(into)] button: String) -> impl IntoView {
    view! {
        <form method="get" action=routes::REDEEM class="form" data-testid="redeem-form">
            <div class="field">
                <label for="redeem-code">{label}</label>
                <input
                    id="redeem-code"
                    name="code"
                    class="input mono redeem-code-input"
                    autocomplete="off"
                    autocapitalize="characters"
                    spellcheck="false"
                    required=true
                    maxlength="64"
                    placeholder="SPRING-2027"
                />
            </div>
            <button type="submit" class="btn btn-primary w-full" data-testid="redeem-check">
                {button}
            </button>
        </form>
    }
}

#[component]
fn Missing() -> impl IntoView {
    view! {
        <div data-testid="redeem-missing">
            <h1 class="auth-title">"No voucher code"</h1>
            <p class="muted mb-4">
                "Type the code from your voucher e-mail to see what it gives your organisation."
            </p>
            <CodeForm label="Voucher code" button="Check voucher" />
        </div>
    }
}

#[component]
fn NotValid(#[prop(into)] detail: String) -> impl IntoView {
    view! {
        <div data-testid="redeem-not-valid">
            <h1 class="auth-title">"Voucher not valid"</h1>
            <p class="alert alert-error mb-4" role="alert" data-testid="redeem-detail">
                {detail}
            </p>
            <CodeForm label="Try another code" button="Check voucher" />
            <p class="muted text-sm mt-4">
                <a href=routes::page("signup") class="underline">
                    "Sign up without a voucher"
                </a>
            </p>
        </div>
    }
}

#[component]
fn Ended(p: RedeemPreview) -> impl IntoView {
    view! {
        <div data-testid="redeem-ended">
            <h1 class="auth-title">"This campaign has ended"</h1>
            <p class="muted mb-4">
                "The voucher " <code class="mono" data-testid="redeem-code">
                    {p.code.clone()}
                </code> " (" {format_money(p.credit_cents, &p.currency)}
                " of credit) no longer accepts redemptions."
            </p>
            <a href=routes::page("signup") class="btn btn-primary w-full" data-testid="redeem-signup">
                "Sign up without a voucher"
            </a>
        </div>
    }
}

#[component]
fn Valid(p: RedeemPreview) -> impl IntoView {
    let description = if p.description.trim().is_empty() {
        "Voucher credit will be applied to your first organisation.".to_string()
    } else {
        p.description.clone()
    };
    let signup = format!("{}?voucher={}", routes::page("signup"), p.code);
    let signin = crate::auth::login_url(&format!("{}?code={}", routes::page("billing"), p.code));
    view! {
        <div data-testid="redeem-valid">
            <p class="eyebrow">"Voucher valid"</p>
            <h1 class="auth-title" data-testid="redeem-credit">
                {format!("{} credit", format_money(p.credit_cents, &p.currency))}
            </h1>
            <p class="mb-4" data-testid="redeem-description">
                {description}
            </p>
            <p class="muted mb-4">
                "Code " <code class="mono" data-testid="redeem-code">
                    {p.code.clone()}
                </code>
            </p>
            <a href=signup class="btn btn-primary w-full" data-testid="redeem-signup">
                "Sign up to redeem"
            </a>
            <p class="muted text-sm mt-4">
                "Already have an account? " <a href=signin class="underline">
                    "Sign in and redeem it"
                </a> " on your organisation's billing page."
            </p>
        </div>
    }
}
