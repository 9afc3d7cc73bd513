//! The overview page: what Catalyst is and the state of this console.

use leptos::prelude::*;

use crate::auth::api::current_user;
use crate::auth::policy::{Action, allowed};
use crate::system::{CheckSystem, StatusReport, check_system};
use crate::ui::{ErrorView, NoInputForm};

#[component]
pub fn HomePage() -> impl IntoView {
    let initial = crate::wire::postcard_resource(check_system);
    let me = crate::wire::postcard_resource(current_user);
    let check = ServerAction::<CheckSystem>::new();
    view! {
        <leptos_meta::Title text="Catalyst · Sovereign cloud control plane" />
        <section class="hero">
            <p class="eyebrow">"Sovereign cloud control plane"</p>
            <h1>"Launch your Sovereign"</h1>
            <p class="lead">
                "Design a Kubernetes platform on your own cloud account, launch it with OpenTofu and Flux, "
                "watch every step come up live, and run it afterwards — from this console."
            </p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let may_design = me
                        .await
                        .ok()
                        .flatten()
                        .is_some_and(|me| allowed(&me.principal, Action::WizardUse, None));
                    // The wizard is offered only to those who may use it (editors and above).
                    view! {
                        <div class="hero-actions">
                            {may_design
                                .then(|| {
                                    view! {
                                        <a
                                            class="btn btn-primary"
                                            href=crate::routes::page("wizard")
                                            data-testid="cta-wizard"
                                        >
                                            "Design a new Sovereign →"
                                        </a>
                                    }
                                })} <a class="btn btn-secondary" href=crate::routes::page("marketplace")>
                                "Browse components"
                            </a>
                        </div>
                    }
                })}
            </Suspense>
        </section>
        <section class="grid-cards" aria-label="Console status">
            <article class="card" data-testid="system-card">
                <h2 class="card-title">"This console"</h2>
                <Suspense fallback=|| {
                    view! { <p class="muted">"Loading…"</p> }
                }>
                    {move || Suspend::new(async move {
                        match initial.await {
                            Ok(report) => view! { <StatusFacts report /> }.into_any(),
                            Err(error) => view! { <ErrorView error /> }.into_any(),
                        }
                    })}
                </Suspense>
                <NoInputForm
                    action=check
                    input={CheckSystem {}}
                    class="mt-4 flex items-center gap-3 flex-wrap"
                >
                    <button
                        type="submit"
                        class="btn btn-secondary"
                        data-testid="check-db"
                        disabled=move || check.pending().get()
                    >
                        {move || if check.pending().get() { "Checking…" } else { "Check the database now" }}
                    </button>
                    <span data-testid="check-result" aria-live="polite" class="text-sm">
                        {move || match check.value().get() {
                            None => {
                                view! { <span class="muted">"Not checked yet in this session."</span> }
                                    .into_any()
                            }
                            Some(Ok(r)) => {
                                view! {
                                    <span class="text-ok">
                                        {format!(
                                            "{} answered in {}",
                                            backend_label(&r.database),
                                            crate::time::format_millis(r.database_latency_us),
                                        )}
                                    </span>
                                }
                                    .into_any()
                            }
                            Some(Err(error)) => view! { <ErrorView error /> }.into_any(),
                        }}
                    </span>
                </NoInputForm>
            </article>
        </section>
    }
}

fn backend_label(db: &str) -> &'static str {
    match db {
        "postgres" => "PostgreSQL",
        "sqlite" => "SQLite",
        _ => "The database",
    }
}

#[component]
fn StatusFacts(report: StatusReport) -> impl IntoView {
    let backend = match &report.database_version {
        Some(v) => format!("{} {v}", backend_label(&report.database)),
        None => backend_label(&report.database).to_string(),
    };
    view! {
        <dl class="facts">
            <dt>"Database"</dt>
            <dd data-testid="db-backend">{backend}</dd>
            {report
                .schema_version
                .map(|m| {
                    view! {
                        <dt>"Schema"</dt>
                        <dd>{format!("migration {m}")}</dd>
                    }
                })}
            {report
                .version
                .clone()
                .map(|v| {
                    view! {
                        <dt>"Version"</dt>
                        <dd>{v}</dd>
                    }
                })}
            <dt>"Up for"</dt>
            <dd>{crate::time::format_duration(report.uptime_secs as i64 * 1000)}</dd>
        </dl>
    }
}
