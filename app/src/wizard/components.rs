//! Step 5 — Components: the marketplace's own grid (`catalog::ComponentGrid`) in wizard mode, bound to the
//! draft's selection. The dependency engine is the marketplace's: adding brings dependencies (and cascading
//! families) along, removing asks first and shows what goes with it. The draft keeps the selection as ids;
//! the step is checked with `Catalog::validate_selection` in the browser and again on the server.

use std::sync::Arc;

use leptos::prelude::*;

use super::fields::FieldMessage;
use super::state::use_wizard;
use crate::catalog::{Catalog, ComponentGrid, get_catalog};
use crate::error::AppError;
use crate::ui::ErrorView;

/// Renders `children` with the validated catalog: at once if this wizard run already loaded it, else after
/// loading it (server-rendered on a full page load).
#[component]
pub fn WithCatalog<F, V>(children: F) -> impl IntoView
where
    F: Fn(Arc<Catalog>) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let state = use_wizard();
    if let Some(catalog) = state.catalog.get_value() {
        return children(catalog).into_any();
    }
    let children = Arc::new(children);
    let data = Resource::new_blocking(|| (), |_| get_catalog());
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="muted" aria-busy="true">
                    "Loading the component catalog…"
                </p>
            }
        }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match data
                        .await
                        .and_then(|d| {
                            Catalog::new(d)
                                .map_err(|problems| {
                                    AppError::Internal(
                                        format!(
                                            "The catalog is inconsistent: {}",
                                            problems.first().map(ToString::to_string).unwrap_or_default(),
                                        ),
                                    )
                                })
                        })
                    {
                        Ok(catalog) => {
                            let catalog = Arc::new(catalog);
                            state.catalog.set_value(Some(catalog.clone()));
                            children(catalog).into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}

#[component]
pub fn ComponentsStep() -> impl IntoView {
    view! {
        <div class="stack" id="f-components" tabindex="-1">
            <p class="lead-sm">
                "The platform building blocks Flux installs on your Sovereign. Dependencies come along automatically; "
                "removing a component that others need asks first. Mandatory components are always included."
            </p>
            <FieldMessage field="components" />
            <WithCatalog children=|catalog| view! { <Grid catalog /> } />
        </div>
    }
}

/// The grid over a selection signal that mirrors the draft's component ids.
#[component]
fn Grid(catalog: Arc<Catalog>) -> impl IntoView {
    let state = use_wizard();
    let ids = state.draft.with_untracked(|d| d.request.components.clone());
    // Ids the catalog no longer has are dropped; what remains is completed with mandatory components and
    // dependencies, exactly as the marketplace would.
    let known: Vec<&String> = ids.iter().filter(|id| catalog.blueprint(id).is_some()).collect();
    let start = catalog
        .selection_from_ids(&known)
        .unwrap_or_else(|_| catalog.default_selection());
    let start_ids = catalog.selection_ids(&start);
    let selection = RwSignal::new(start);
    if sorted(&ids) != start_ids {
        // Bring the draft in line without marking the field as edited (the user changed nothing).
        state.draft.update_untracked(|d| d.request.components = start_ids);
    }
    {
        let catalog = catalog.clone();
        Effect::watch(
            move || selection.get(),
            move |sel, _, _| {
                let ids = catalog.selection_ids(sel);
                if state.draft.with_untracked(|d| d.request.components != ids) {
                    state.edit("components", |d| d.request.components = ids);
                }
            },
            false,
        );
    }
    view! { <ComponentGrid catalog selection /> }
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v
}
