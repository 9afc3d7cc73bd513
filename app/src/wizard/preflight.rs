//! The Review step's pre-flight: it runs when the step opens (with this session's token), lists every check
//! with its answer, links each problem to the wizard field that fixes it (the message is put beside that
//! field), asks for an explicit acknowledgement of each warning, and shows the cost of what the launch
//! creates from Hetzner's prices. Launch stays disabled until it passed ([`WizardState::may_launch`]).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::ids::field_id;
use super::later::create_of;
use super::sizing::{money, total_label};
use super::state::{PreflightState, WizardState, step_url, use_wizard};
use crate::error::FieldError;
use crate::preflight::{Check, CheckStatus, CostEstimate, PreflightReport, PriceSource};
use crate::wizard::step::Step;

/// Runs the pre-flight of the request as it is now.
pub fn run(state: WizardState) {
    let create = create_of(&state);
    let org_id = create.org_id.clone().unwrap_or_default();
    state.preflight.set(PreflightState::Running);
    spawn_local(async move {
        let answer = crate::preflight::api::run_preflight(org_id, create).await;
        state.preflight.set(match answer {
            Ok(report) => PreflightState::Done(report),
            Err(e) => PreflightState::Failed(e.to_string()),
        });
    });
}

fn status_id(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Warn => "warn",
        CheckStatus::Fail => "fail",
    }
}

fn badge(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "badge badge-ok",
        CheckStatus::Warn => "badge badge-warn",
        CheckStatus::Fail => "badge badge-err",
    }
}

fn summary(r: &PreflightReport) -> String {
    let fails = r.failures().count();
    let warns = r.warnings().count();
    match (fails, warns) {
        (0, 0) => format!("All {} checks passed.", r.checks.len()),
        (0, w) => format!(
            "{} checks passed; {w} warning{} to acknowledge before Launch.",
            r.checks.len() - w,
            if w == 1 { "" } else { "s" }
        ),
        (f, _) => format!(
            "{f} check{} failed: Launch stays disabled until {} fixed.",
            if f == 1 { "" } else { "s" },
            if f == 1 { "it is" } else { "they are" }
        ),
    }
}

/// One check: its answer, and what fixes it — a link to the field (its message goes beside the field), or
/// the console option; a warning's acknowledgement.
#[component]
fn CheckItem(check: Check) -> impl IntoView {
    let state = use_wizard();
    let id = check.id.clone();
    let fix = match (&check.field, check.status) {
        (_, CheckStatus::Pass) => None,
        (Some(field), _) => {
            let step = Step::of_field(field);
            let href = format!("{}#{}", step_url(step), field_id(field));
            let error = FieldError::new(field.clone(), check.message.clone());
            let f = field.clone();
            Some(
                view! {
                    <a
                        class="btn btn-ghost btn-sm"
                        href=href
                        data-testid="preflight-fix"
                        on:click=move |_| {
                            let e = error.clone();
                            state
                                .server_errors
                                .update(|errs| {
                                    errs.retain(|x| x.field != e.field);
                                    errs.push(e);
                                });
                            state.attempted.set(Some(step));
                            browser::focus_field_later(&f);
                        }
                    >
                        {format!("Fix on the {} step", step.label())}
                    </a>
                }
                .into_any(),
            )
        }
        (None, _) => check.option.clone().map(|o| {
            view! { <p class="muted">"The console's operator fixes this with " <code>{o}</code> "."</p> }
                .into_any()
        }),
    };
    let ack = (check.status == CheckStatus::Warn).then(|| {
        let id = id.clone();
        let checked = {
            let id = id.clone();
            move || state.acknowledged.with(|a| a.contains(&id))
        };
        view! {
            <label class="check-line" data-testid="preflight-ack">
                <input
                    type="checkbox"
                    prop:checked=checked
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let id = id.clone();
                        state
                            .acknowledged
                            .update(|a| {
                                a.retain(|x| *x != id);
                                if on {
                                    a.push(id);
                                }
                            });
                    }
                />
                " I understand this warning and launch anyway"
            </label>
        }
    });
    view! {
        <li
            class=format!("preflight-check is-{}", status_id(check.status))
            data-testid=format!("preflight-check-{id}")
            data-status=status_id(check.status)
        >
            <p class="preflight-head">
                <span class=badge(check.status)>{check.status.label()}</span>
                " "
                <strong>{check.kind.label()}</strong>
                <span class="muted">{format!(" — {}", check.subject)}</span>
            </p>
            <p class="preflight-message">{check.message.clone()}</p>
            {fix}
            {ack}
        </li>
    }
}

#[component]
fn Estimate(e: CostEstimate) -> impl IntoView {
    let source = match (e.source, e.as_of_ms) {
        (PriceSource::BuiltIn, _) | (_, None) => {
            "Catalyst's built-in list prices: Hetzner's own have not been fetched yet.".to_string()
        }
        (PriceSource::Api, Some(ms)) => format!("Hetzner's prices as of {}.", crate::time::format_utc(ms)),
        (PriceSource::Cached, Some(ms)) => format!(
            "Hetzner's prices as of {} (the last ones fetched; Hetzner did not answer now).",
            crate::time::format_utc(ms)
        ),
    };
    view! {
        <div class="preflight-cost" data-testid="preflight-cost">
            <p class="cost-total" data-testid="preflight-cost-total">
                {total_label(&e)}
            </p>
            <ul class="review-regions">
                {e
                    .regions
                    .iter()
                    .map(|r| {
                        view! {
                            <li class="review-region">
                                <p>
                                    <strong>{r.location.clone()}</strong>
                                    {format!(" · {} per month", money(r.monthly.net))}
                                </p>
                                <ul class="muted">
                                    {r
                                        .lines
                                        .iter()
                                        .map(|l| {
                                            view! {
                                                <li>
                                                    {format!(
                                                        "{} × {} — {}",
                                                        l.count,
                                                        l.what,
                                                        money(l.monthly.net),
                                                    )}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="muted">{source}</p>
        </div>
    }
}

/// The Review step's pre-flight section.
#[component]
pub fn PreflightPanel() -> impl IntoView {
    let state = use_wizard();
    // In the browser only (the token lives there): once when the step opens.
    Effect::new(move |_| run(state));
    view! {
        <section class="card review-section preflight" data-testid="preflight" aria-live="polite">
            <header class="review-head">
                <h2 class="card-title">"Pre-flight"</h2>
                <button
                    type="button"
                    class="btn btn-ghost"
                    data-testid="preflight-rerun"
                    disabled=move || state.preflight.with(|p| matches!(p, PreflightState::Running))
                    on:click=move |_| run(state)
                >
                    "Run again"
                </button>
            </header>
            {move || match state.preflight.get() {
                PreflightState::Idle | PreflightState::Running => {
                    view! {
                        <p class="muted" data-testid="preflight-running">
                            "Checking the request with Hetzner and the console…"
                        </p>
                    }
                        .into_any()
                }
                PreflightState::Failed(m) => {
                    view! {
                        <p class="field-error" role="alert" data-testid="preflight-error">
                            {format!("The pre-flight could not run: {m}")}
                        </p>
                    }
                        .into_any()
                }
                PreflightState::Done(r) => {
                    let estimate = r.estimate.clone();
                    view! {
                        <p data-testid="preflight-summary">{summary(&r)}</p>
                        <ul class="preflight-list">
                            {r
                                .checks
                                .iter()
                                .cloned()
                                .map(|check| view! { <CheckItem check /> })
                                .collect_view()}
                        </ul>
                        {estimate.map(|e| view! { <Estimate e /> })}
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
