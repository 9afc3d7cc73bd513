//! The wizard's frame: loads the draft, provides [`WizardState`], and renders the stepper, the current step
//! and the footer (Back / Continue). Steps the user has not reached redirect to the first incomplete one.

use futures::FutureExt;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use super::api::get_wizard;
use super::state::{WizardState, step_url, use_wizard};
use super::{components, credentials, domain, later, org, provider, review, topology};
use crate::ui::{ErrorView, NotFound};
use crate::wizard::step::Step;

/// `/sovereign/wizard` and `/sovereign/wizard/<step>`.
#[component]
pub fn WizardPage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.read().get("step"));
    // Postcard in the page, as get_wizard answers: step 1 decodes no JSON (`wire`).
    let boot = crate::wire::postcard_resource(get_wizard);
    view! {
        <leptos_meta::Title text="New Sovereign · Catalyst" />
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading your draft…"</p> }
        }>
            {move || Suspend::new(async move {
                match boot.await {
                    Ok(boot) => {
                        provide_context(WizardState::new(boot));
                        view! { <WizardBody slug /> }.into_any()
                    }
                    Err(error @ crate::error::AppError::Forbidden(_)) => {
                        view! {
                            <section class="card wizard-refused" data-testid="wizard-refused">
                                <h1>"New Sovereign"</h1>
                                <p class="muted">
                                    "Sovereigns are designed and launched by editors, admins and owners of an organisation. "
                                    "Ask an admin or owner of your organisation to give you the editor role."
                                </p>
                                <ErrorView error />
                            </section>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the URL shows: the step, a redirect to the first incomplete step, or not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Show(Step),
    Redirect(Step),
    NotFound,
}

#[component]
fn WizardBody(slug: Memo<Option<String>>) -> impl IntoView {
    let state = use_wizard();
    // Re-render only when the outcome changes, not on every keystroke or when progress moves on.
    let outcome = Memo::new(move |_| {
        let first = state.draft.with(|d| d.first_incomplete());
        outcome_for(slug.get().as_deref(), first)
    });
    move || match outcome.get() {
        Outcome::Redirect(first) => {
            view! { <Redirect path=step_url(first) options=full_path() /> }.into_any()
        }
        Outcome::NotFound => view! { <NotFound /> }.into_any(),
        Outcome::Show(step) => view! { <StepFrame step /> }.into_any(),
    }
}

/// Loads the code of the wizard step at `path` (`/sovereign/wizard/<step>`), if it is one, so that the step can
/// hydrate: hydration cannot wait for a chunk to arrive. The frontend awaits this before hydrating.
pub async fn preload_step_of(path: &str) {
    let step = path
        .strip_prefix(crate::routes::BASE)
        .and_then(|p| p.strip_prefix("/wizard/"))
        .and_then(|slug| Step::from_slug(slug.trim_end_matches('/')));
    if let Some(step) = step {
        step_maker(step).await;
    }
}

/// The view constructor of one step, from its wasm module (fetched on first use): the first step is in the
/// wizard's own module (`wizard`, with the frame), the others share `wizard_steps`.
async fn step_maker(step: Step) -> fn() -> AnyView {
    match step {
        Step::Org => org_step().await,
        later => later_step(later).await,
    }
}

in_chunk!(
    wizard,
    preload_org_step,
    fn org_step() -> fn() -> AnyView {
        || view! { <org::OrgStep/> }.into_any()
    }
);

in_chunk!(
    wizard_steps,
    preload_later_steps,
    /// Steps 2–7. `Step::Org` is never asked of this module (see [`step_maker`]); it gets the 404 view
    /// rather than pulling step 1's code in here as well.
    fn later_step(step: Step) -> fn() -> AnyView {
        // Each hands the wizard's state this module's rules and Launch before it renders (`later`).
        match step {
            Step::Topology => || {
                later::install();
                view! { <topology::TopologyStep/> }.into_any()
            },
            Step::Provider => || {
                later::install();
                view! { <provider::ProviderStep/> }.into_any()
            },
            Step::Credentials => || {
                later::install();
                view! { <credentials::CredentialsStep/> }.into_any()
            },
            Step::Components => || {
                later::install();
                view! { <components::ComponentsStep/> }.into_any()
            },
            Step::Domain => || {
                later::install();
                view! { <domain::DomainStep/> }.into_any()
            },
            Step::Review => || {
                later::install();
                view! { <review::ReviewStep/> }.into_any()
            },
            Step::Org => || view! { <NotFound/> }.into_any(),
        }
    }
);

fn outcome_for(slug: Option<&str>, first_incomplete: Step) -> Outcome {
    match slug.map(Step::from_slug) {
        None => Outcome::Redirect(first_incomplete),
        Some(None) => Outcome::NotFound,
        Some(Some(step)) if step > first_incomplete => Outcome::Redirect(first_incomplete),
        Some(Some(step)) => Outcome::Show(step),
    }
}

/// Redirects use full paths: the router must not prefix its base again.
fn full_path() -> leptos_router::NavigateOptions {
    leptos_router::NavigateOptions {
        resolve: false,
        replace: true,
        ..Default::default()
    }
}

#[component]
fn StepFrame(step: Step) -> impl IntoView {
    let state = use_wizard();
    // What was typed, chosen or pressed before the page hydrated (the controls kept it) goes to the state
    // once the page is live, through the controls' own handlers.
    Effect::new(move |_| super::browser::adopt_early_input());
    // Steps 2–7 are a wasm module of their own (`in_chunk!`, built with `--split`): step 1 does not carry the
    // provider tables, the component grid or the review. The server renders the step in place (the route is
    // `SsrMode::Async`) and preloads its chunk, so hydration does not wait on a second round trip.
    // The server always has the code; the browser has it when hydrating (the frontend loads the current step's
    // chunk before hydration starts: see [`preload_step_of`]) and fetches it when moving on to another step.
    let content = match step_maker(step).now_or_never() {
        Some(make) => make(),
        None => view! {
            <Suspense fallback=|| {
                view! {
                    <p class="muted" data-testid="wizard-step-loading">
                        "Loading this step…"
                    </p>
                }
            }>{Suspend::new(async move { (step_maker(step).await)() })}</Suspense>
        }
        .into_any(),
    };
    let body = move || {
        view! {
            <header class="wizard-head">
                <p class="eyebrow">{format!("Step {} · {}", step.number(), step.label())}</p>
                <h1>{step.title()}</h1>
            </header>
            <div class="wizard-content">{content}</div>
            <p
                class="alert alert-error wizard-notice"
                role="alert"
                data-testid="wizard-notice"
                hidden=move || state.notice.with(|n| n.is_none())
            >
                {move || state.notice.get()}
            </p>
        }
    };
    // Every step is a form posted to its own URL: without JavaScript the server applies, checks and saves it
    // (`server::wizard::form`); with it, the page does the same without a reload.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        state.continue_from(step);
    };
    // The Components step hosts the marketplace grid, which has its own search form: forms cannot nest, so
    // that step's frame is a plain element, and Continue submits an empty form beside it.
    let frame = if step == Step::Components {
        view! {
            <div class="wizard-form">{body()} <Footer step form=Some(STEP_FORM) /></div>
            <form id=STEP_FORM method="post" action=step_url(step) on:submit=submit></form>
        }
        .into_any()
    } else {
        view! {
            <form class="wizard-form" method="post" action=step_url(step) novalidate=true on:submit=submit>
                {body()}
                <Footer step form=None />
            </form>
        }
        .into_any()
    };
    view! {
        <div class="wizard" data-step=step.slug()>
            <Stepper current=step />
            {frame}
        </div>
    }
}

/// The seven steps; completed ones and the next one to complete are links, the current one is marked, later
/// ones are inert (and greyed out: only inert steps are, so every link keeps its contrast).
#[component]
fn Stepper(current: Step) -> impl IntoView {
    let state = use_wizard();
    view! {
        <nav class="stepper" aria-label="Wizard steps">
            <p class="stepper-compact" data-testid="stepper-compact">
                {format!("Step {} of 7 · {}", current.number(), current.label())}
            </p>
            <ol class="stepper-list">
                {Step::ALL
                    .into_iter()
                    .map(|s| {
                        let done = move || state.draft.with(|d| s.number() <= d.completed);
                        let reachable = move || state.draft.with(|d| d.reachable(s));
                        let class = move || {
                            if s == current {
                                "step is-current"
                            } else if done() {
                                "step is-done"
                            } else if reachable() {
                                "step is-next"
                            } else {
                                "step is-future"
                            }
                        };
                        let inner = move || {
                            // The next step to complete: a link like a done one, not greyed out as inert.
                            view! {
                                <span class="step-dot" aria-hidden="true">
                                    {s.number()}
                                </span>
                                <span class="step-text">
                                    <span class="step-label">{s.label()}</span>
                                    <span class="step-desc">{s.description()}</span>
                                </span>
                            }
                        };
                        view! {
                            <li class=class data-testid=format!("stepper-{}", s.slug())>
                                {move || {
                                    if s == current {
                                        view! {
                                            <span class="step-inner" aria-current="step">
                                                {inner()}
                                            </span>
                                        }
                                            .into_any()
                                    } else if reachable() {
                                        view! {
                                            <a class="step-inner" href=step_url(s)>
                                                {inner()}
                                            </a>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <span class="step-inner" aria-disabled="true">
                                                {inner()}
                                            </span>
                                        }
                                            .into_any()
                                    }
                                }}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <StartOver />
        </nav>
    }
}

/// Throws the draft away and begins again at step 1. The first press asks, the second discards.
#[component]
fn StartOver() -> impl IntoView {
    let armed = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let discard = move |_| {
        if !armed.get_untracked() {
            armed.set(true);
            return;
        }
        leptos::task::spawn_local(async move {
            match super::api::discard_draft().await {
                Ok(()) => super::browser::load(&step_url(Step::Org)),
                Err(e) => {
                    armed.set(false);
                    failed.set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <div class="start-over">
            <button
                type="button"
                class="btn btn-ghost btn-sm"
                data-testid="start-over"
                on:click=discard
                on:blur=move |_| armed.set(false)
            >
                {move || if armed.get() { "Discard this draft? Press again" } else { "Start over" }}
            </button>
            <p class="field-error" role="alert">
                {move || failed.get()}
            </p>
        </div>
    }
}

/// The id of the Components step's form (outside the grid, see [`StepFrame`]).
const STEP_FORM: &str = "wizard-step-form";

/// Back and Continue. Continue submits the step's form (`form`: one outside the footer's own).
#[component]
fn Footer(step: Step, form: Option<&'static str>) -> impl IntoView {
    let state = use_wizard();
    // Launch is disabled until the pre-flight passed only once the page is alive: without JavaScript the
    // server runs the pre-flight when the form is posted.
    let alive = RwSignal::new(false);
    Effect::new(move |_| alive.set(true));
    let label = move || {
        if state.busy.get() {
            "Working…"
        } else if step == Step::Review {
            "⚡ Launch Sovereign"
        } else {
            "Continue →"
        }
    };
    view! {
        <footer class="wizard-footer">
            <div class="wizard-footer-inner">
                <p class="wizard-progress" data-testid="wizard-progress">
                    {format!("Step {} of 7 · {} · {}%", step.number(), step.label(), step.percent())}
                </p>
                {move || {
                    (step == Step::Review)
                        .then(|| state.credit_short.get())
                        .flatten()
                        .map(|why| {
                            view! {
                                <p
                                    class="field-error wizard-launch-why"
                                    id="launch-credit-short"
                                    data-testid="launch-credit-short"
                                >
                                    {why}
                                </p>
                            }
                        })
                }}
                <div class="wizard-actions">
                    {match step.prev() {
                        Some(prev) => {
                            view! {
                                <a class="btn btn-secondary" href=step_url(prev) data-testid="wizard-back">
                                    "← Back"
                                </a>
                            }
                                .into_any()
                        }
                        None => {
                            view! {
                                <span
                                    class="btn btn-secondary"
                                    aria-disabled="true"
                                    data-testid="wizard-back"
                                >
                                    "← Back"
                                </span>
                            }
                                .into_any()
                        }
                    }}
                    <button
                        type="submit"
                        form=form
                        class="btn btn-primary"
                        data-testid="wizard-continue"
                        aria-busy=move || state.busy.get().to_string()
                        disabled=move || alive.get() && step == Step::Review && !state.may_launch()
                        aria-describedby=move || {
                            (step == Step::Review && state.credit_short.with(Option::is_some))
                                .then_some("launch-credit-short")
                        }
                    >
                        {label}
                    </button>
                </div>
            </div>
        </footer>
    }
}
