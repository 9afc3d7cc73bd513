//! The marketplace's building blocks: the card grid (also the wizard's Components step), cards, chips,
//! the removal confirmation dialog and toasts. All of them work on a `Catalog` and a `RwSignal<Selection>`
//! owned by the page that uses them.

use std::sync::Arc;

use leptos::prelude::*;

use super::engine::{Catalog, Selection, join_names};
use super::types::{Blueprint, Family, Tier, Visibility};
use crate::routes;

/// How many names a toast lists before "and N more".
const TOAST_NAMES: usize = 5;
/// How long a toast stays.
const TOAST_MS: u64 = 5000;

pub fn product_href(id: &str) -> String {
    routes::page(&format!("marketplace/product/{id}"))
}

pub fn family_href(id: &str) -> String {
    routes::page(&format!("marketplace/family/{id}"))
}

pub fn logo_src(b: &Blueprint) -> Option<String> {
    b.logo
        .as_ref()
        .map(|l| routes::page(&format!("component-logos/{l}")))
}

/// "a, b and c" with at most `TOAST_NAMES` names, then "and N more".
fn short_list(names: &[String]) -> String {
    if names.len() <= TOAST_NAMES {
        return join_names(names);
    }
    format!(
        "{}, and {} more",
        names[..TOAST_NAMES].join(", "),
        names.len() - TOAST_NAMES
    )
}

/// A message that disappears after a few seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
}

/// A removal waiting for the operator's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRemoval {
    /// A component id, or a family id when `family` is true.
    pub id: String,
    pub family: bool,
    pub name: String,
    /// Display names of the selected components that would go along.
    pub also: Vec<String>,
    /// DOM id of the control to focus when the dialog closes.
    pub return_focus: String,
}

/// Selection changes with their confirmations and toasts, shared by the grid, product and family pages.
#[derive(Clone, Copy)]
pub struct SelectionActions {
    catalog: StoredValue<Arc<Catalog>>,
    pub selection: RwSignal<Selection>,
    pub toasts: RwSignal<Vec<Toast>>,
    pub pending: RwSignal<Option<PendingRemoval>>,
    next_toast: StoredValue<u64>,
}

impl SelectionActions {
    pub fn new(catalog: Arc<Catalog>, selection: RwSignal<Selection>) -> Self {
        Self {
            catalog: StoredValue::new(catalog),
            selection,
            toasts: RwSignal::new(Vec::new()),
            pending: RwSignal::new(None),
            next_toast: StoredValue::new(0),
        }
    }

    fn catalog(&self) -> Arc<Catalog> {
        self.catalog.get_value()
    }

    pub fn is_selected(&self, id: &str) -> bool {
        let c = self.catalog();
        self.selection.with(|s| c.is_selected(s, id))
    }

    pub fn toast(&self, text: String) {
        let id = self.next_toast.get_value();
        self.next_toast.set_value(id + 1);
        self.toasts.update(|t| {
            t.push(Toast { id, text });
            // Keep the region short.
            let excess = t.len().saturating_sub(3);
            t.drain(..excess);
        });
        let toasts = self.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|x| x.id != id)),
            std::time::Duration::from_millis(TOAST_MS),
        );
    }

    pub fn dismiss(&self, id: u64) {
        self.toasts.update(|t| t.retain(|x| x.id != id));
    }

    /// Adds or removes `id`; a removal that takes other components along asks first.
    pub fn toggle(&self, id: &str, return_focus: &str) {
        if self.is_selected(id) {
            self.request_remove(id, return_focus);
        } else {
            self.add(id);
        }
    }

    pub fn add(&self, id: &str) {
        let c = self.catalog();
        let name = c
            .blueprint(id)
            .map(|b| b.name.clone())
            .unwrap_or_else(|| id.to_string());
        let mut result = None;
        self.selection.update(|s| result = Some(c.add(s, id)));
        match result {
            Some(Ok(change)) => {
                let others: Vec<String> = change
                    .added
                    .iter()
                    .filter(|a| a.as_str() != id)
                    .cloned()
                    .collect();
                let names = c.names(&others);
                let text = if let Some(f) = change.cascaded_families.first().and_then(|f| c.family(f)) {
                    format!(
                        "Added {name}. Also added the {} family: {}.",
                        f.name,
                        short_list(&names)
                    )
                } else if !names.is_empty() {
                    format!("Added {name}. Also added: {}.", short_list(&names))
                } else {
                    format!("Added {name}.")
                };
                self.toast(text);
            }
            Some(Err(e)) => self.toast(e.to_string()),
            None => {}
        }
    }

    pub fn request_remove(&self, id: &str, return_focus: &str) {
        let c = self.catalog();
        let Some(b) = c.blueprint(id) else { return };
        if c.is_mandatory(id) {
            self.toast(format!(
                "{} is always installed: the platform cannot run without it.",
                b.name
            ));
            return;
        }
        match self.selection.with(|s| c.removal_impact(s, id)) {
            Ok(also) if also.is_empty() => self.remove_now(id, false),
            Ok(also) => self.pending.set(Some(PendingRemoval {
                id: id.to_string(),
                family: false,
                name: b.name.clone(),
                also: c.names(&also),
                return_focus: return_focus.to_string(),
            })),
            Err(e) => self.toast(e.to_string()),
        }
    }

    pub fn add_family(&self, family: &str) {
        let c = self.catalog();
        let name = c.family(family).map(|f| f.name.clone()).unwrap_or_default();
        let mut result = None;
        self.selection.update(|s| result = Some(c.add_family(s, family)));
        match result {
            Some(Ok(change)) if change.added.is_empty() => {
                self.toast(format!("All of {name} is already in the stack."))
            }
            Some(Ok(change)) => self.toast(format!(
                "Added the {name} family: {}.",
                short_list(&c.names(&change.added))
            )),
            Some(Err(e)) => self.toast(e.to_string()),
            None => {}
        }
    }

    pub fn request_remove_family(&self, family: &str, return_focus: &str) {
        let c = self.catalog();
        let Some(f) = c.family(family) else { return };
        match self.selection.with(|s| c.family_removal_impact(s, family)) {
            Ok(gone) if gone.is_empty() => {
                self.toast(format!("No removable {} components are selected.", f.name))
            }
            Ok(gone) => self.pending.set(Some(PendingRemoval {
                id: family.to_string(),
                family: true,
                name: f.name.clone(),
                also: c.names(&gone),
                return_focus: return_focus.to_string(),
            })),
            Err(e) => self.toast(e.to_string()),
        }
    }

    fn remove_now(&self, id: &str, family: bool) {
        let c = self.catalog();
        let mut result = None;
        self.selection.update(|s| {
            result = Some(if family {
                c.remove_family(s, id)
            } else {
                c.remove(s, id)
            });
        });
        match result {
            Some(Ok(change)) => {
                let text = if family {
                    let name = c.family(id).map(|f| f.name.clone()).unwrap_or_default();
                    format!("Removed from {name}: {}.", short_list(&c.names(&change.removed)))
                } else {
                    let name = c.blueprint(id).map(|b| b.name.clone()).unwrap_or_default();
                    let others: Vec<String> = change
                        .removed
                        .iter()
                        .filter(|r| r.as_str() != id)
                        .cloned()
                        .collect();
                    if others.is_empty() {
                        format!("Removed {name}.")
                    } else {
                        format!("Removed {name}. Also removed: {}.", short_list(&c.names(&others)))
                    }
                };
                self.toast(text);
            }
            Some(Err(e)) => self.toast(e.to_string()),
            None => {}
        }
    }

    /// Carries out the pending removal.
    pub fn confirm(&self) {
        if let Some(p) = self.pending.get_untracked() {
            self.pending.set(None);
            self.remove_now(&p.id, p.family);
            focus_by_id(&p.return_focus);
        }
    }

    pub fn cancel(&self) {
        if let Some(p) = self.pending.get_untracked() {
            self.pending.set(None);
            focus_by_id(&p.return_focus);
        }
    }

    pub fn reset(&self) {
        let c = self.catalog();
        self.selection.set(c.default_selection());
        self.toast("Reset to the default selection.".to_string());
    }
}

/// Moves keyboard focus to an element (after a dialog closes). No-op on the server.
fn focus_by_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// The status region where toasts appear.
#[component]
pub fn ToastRegion(actions: SelectionActions) -> impl IntoView {
    view! {
        <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
            <For each=move || actions.toasts.get() key=|t| t.id let:t>
                <div class="toast" data-testid="toast">
                    <span>{t.text.clone()}</span>
                    <button
                        type="button"
                        class="toast-close"
                        aria-label="Dismiss"
                        on:click=move |_| actions.dismiss(t.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

/// The confirmation before a removal that takes other components along. A modal `<dialog>`: focus stays
/// inside (Tab and Shift+Tab cycle), Escape keeps everything, and focus returns to the control that opened it.
#[component]
pub fn RemovalDialog(actions: SelectionActions) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let keep = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        let open = actions.pending.with(|p| p.is_some());
        if let Some(d) = dialog.get() {
            if open && !d.open() {
                let _ = d.show_modal();
                if let Some(k) = keep.get() {
                    let _ = k.focus();
                }
            } else if !open && d.open() {
                d.close();
            }
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Tab"
            && let Some(d) = dialog.get()
        {
            trap_tab(&d, &ev);
        }
    };
    let title = move || {
        actions.pending.with(|p| match p {
            Some(p) if p.family => format!("Remove the {} family?", p.name),
            Some(p) => format!("Remove {}?", p.name),
            None => String::new(),
        })
    };
    let lead = move || {
        actions.pending.with(|p| match p {
            Some(p) if p.family => format!(
                "This removes {} selected component{}:",
                p.also.len(),
                if p.also.len() == 1 { "" } else { "s" }
            ),
            Some(p) => format!(
                "{} is used by {} other component{}. Removing it will also remove:",
                p.name,
                p.also.len(),
                if p.also.len() == 1 { "" } else { "s" }
            ),
            None => String::new(),
        })
    };
    view! {
        <dialog
            node_ref=dialog
            class="dialog"
            aria-labelledby="removal-title"
            aria-describedby="removal-lead"
            data-testid="removal-dialog"
            on:cancel=move |ev: leptos::ev::Event| {
                ev.prevent_default();
                actions.cancel();
            }
            on:keydown=on_keydown
        >
            <h2 id="removal-title" class="dialog-title">
                {title}
            </h2>
            <p id="removal-lead" class="muted">
                {lead}
            </p>
            <ul class="dialog-list" data-testid="removal-list">
                {move || {
                    actions
                        .pending
                        .with(|p| p.as_ref().map(|p| p.also.clone()).unwrap_or_default())
                        .into_iter()
                        .map(|n| view! { <li>{n}</li> })
                        .collect_view()
                }}
            </ul>
            <div class="dialog-actions">
                <button
                    type="button"
                    class="btn btn-secondary"
                    node_ref=keep
                    on:click=move |_| actions.cancel()
                >
                    "Keep"
                </button>
                <button
                    type="button"
                    class="btn btn-danger"
                    data-testid="confirm-remove"
                    on:click=move |_| actions.confirm()
                >
                    "Remove all"
                </button>
            </div>
        </dialog>
    }
}

/// Keeps Tab and Shift+Tab inside the dialog.
#[allow(unused_variables)]
fn trap_tab(dialog: &leptos::web_sys::HtmlDialogElement, ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Ok(nodes) = dialog
            .query_selector_all("button:not([disabled]), [href], input, [tabindex]:not([tabindex='-1'])")
        else {
            return;
        };
        let items: Vec<web_sys::HtmlElement> = (0..nodes.length())
            .filter_map(|i| nodes.item(i))
            .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
            .collect();
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return;
        };
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let is = |el: &web_sys::HtmlElement| {
            active
                .as_ref()
                .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
        };
        let inside = items.iter().any(&is);
        if ev.shift_key() && (is(first) || !inside) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && (is(last) || !inside) {
            ev.prevent_default();
            let _ = first.focus();
        }
    }
}

/// The family chip: a link to the family page, coloured by family.
#[component]
pub fn FamilyChip(family: Family) -> impl IntoView {
    view! {
        <a
            class="chip chip-family"
            href=family_href(&family.id)
            style=format!("--fam:{}", family.color)
            title=family.subtitle.clone()
        >
            {family.name.clone()}
        </a>
    }
}

#[component]
pub fn TierChip(tier: Tier) -> impl IntoView {
    view! { <span class=format!("chip chip-tier tier-{}", tier.as_str())>{tier.label().to_uppercase()}</span> }
}

/// The component's logo, or a letter tile.
#[component]
pub fn Logo(blueprint: Blueprint, color: String, #[prop(optional)] large: bool) -> impl IntoView {
    let class = if large { "logo logo-lg" } else { "logo" };
    match logo_src(&blueprint) {
        Some(src) => {
            view! { <img class=class src=src alt="" width="40" height="40" loading="lazy" /> }.into_any()
        }
        None => {
            let letter: String = blueprint.name.chars().take(1).collect();
            view! {
                <span class=format!("{class} logo-tile") style=format!("--fam:{color}") aria-hidden="true">
                    {letter}
                </span>
            }
            .into_any()
        }
    }
}

/// One component card: name (links to the product page), family chip, add/remove toggle, summary, tier,
/// dependencies and the selected state.
#[component]
pub fn ComponentCard(
    catalog: Arc<Catalog>,
    blueprint: Blueprint,
    actions: SelectionActions,
) -> impl IntoView {
    let id = blueprint.id.clone();
    let family = catalog.family(&blueprint.family).cloned();
    let color = family.as_ref().map(|f| f.color.clone()).unwrap_or_default();
    let tier = catalog.effective_tier(&id).unwrap_or(blueprint.tier);
    let deps: Vec<String> = catalog
        .dependencies_of(&id)
        .into_iter()
        .map(|d| d.name.clone())
        .collect();
    let selected = {
        let id = id.clone();
        Memo::new(move |_| actions.is_selected(&id))
    };
    let toggle_id = format!("toggle-{id}");
    let name = blueprint.name.clone();
    let on_toggle = {
        let (id, toggle_id) = (id.clone(), toggle_id.clone());
        move |_| actions.toggle(&id, &toggle_id)
    };
    view! {
        <article
            class="cc"
            class:cc-selected=selected
            data-testid="component-card"
            data-id=id.clone()
            data-selected=move || selected.get().to_string()
        >
            <div class="cc-head">
                <Logo blueprint=blueprint.clone() color=color.clone() />
                <div class="cc-title">
                    <h3 class="cc-name">
                        <a class="cc-link" href=product_href(&id)>
                            {name.clone()}
                        </a>
                    </h3>
                    {family.map(|f| view! { <FamilyChip family=f /> })}
                </div>
                <button
                    type="button"
                    id=toggle_id
                    class="cc-toggle"
                    data-testid="toggle"
                    aria-pressed=move || selected.get().to_string()
                    aria-label=move || {
                        if selected.get() { format!("Remove {name}") } else { format!("Add {name}") }
                    }
                    on:click=on_toggle
                >
                    <span aria-hidden="true">{move || if selected.get() { "✓" } else { "+" }}</span>
                </button>
            </div>
            <p class="cc-desc">{blueprint.summary.clone()}</p>
            <div class="cc-chips">
                <TierChip tier />
                {deps
                    .into_iter()
                    .map(|d| {
                        view! {
                            <span class="chip chip-dep" title="Needs">
                                {d}
                            </span>
                        }
                    })
                    .collect_view()}
                <Show when=move || selected.get()>
                    <span class="chip chip-selected">"SELECTED"</span>
                </Show>
            </div>
        </article>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Choose,
    Always,
}

fn matches(catalog: &Catalog, b: &Blueprint, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let family = catalog.family(&b.family);
    let hay = format!(
        "{} {} {} {} {} {}",
        b.name,
        b.id,
        b.summary,
        b.description,
        family.map(|f| f.name.as_str()).unwrap_or(""),
        family.map(|f| f.subtitle.as_str()).unwrap_or("")
    )
    .to_lowercase();
    words.iter().all(|w| hay.contains(w.as_str()))
}

/// The marketplace grid, reused by the wizard's Components step.
///
/// - `catalog`: the engine over the validated catalog (`Catalog::new(get_catalog().await?)`).
/// - `selection`: the selection it shows and changes. The page owns it: the marketplace starts from
///   `catalog.default_selection()`, the wizard passes its draft's selection (convert ids with
///   `catalog.selection_from_ids(&draft.components)` and back with `catalog.selection_ids(&sel)`).
/// - `initial_query`: text for the search box (e.g. from `?q=`).
///
/// It renders two tabs — "Choose your stack (n)" with the non-mandatory components (search, family chips,
/// add/remove toggles) and "Always included (m)" with the mandatory ones grouped by family — plus the
/// "Selected x of N" counter, "Reset to defaults", a confirmation dialog for removals that take dependents
/// along, and toasts saying what changed.
#[component]
pub fn ComponentGrid(
    catalog: Arc<Catalog>,
    selection: RwSignal<Selection>,
    #[prop(optional, into)] initial_query: String,
) -> impl IntoView {
    let actions = SelectionActions::new(catalog.clone(), selection);
    let query = RwSignal::new(initial_query);
    let family_filter = RwSignal::new(None::<String>);
    let tab = RwSignal::new(Tab::Choose);
    let total = catalog.len();

    let listed: Vec<Blueprint> = catalog
        .blueprints_by_name()
        .filter(|b| b.visibility == Visibility::Listed)
        .cloned()
        .collect();
    let choose: Vec<Blueprint> = listed
        .iter()
        .filter(|b| !catalog.is_mandatory(&b.id))
        .cloned()
        .collect();
    let always_count = catalog
        .blueprints()
        .iter()
        .filter(|b| catalog.is_mandatory(&b.id))
        .count();
    let chip_families: Vec<Family> = catalog
        .families()
        .iter()
        .filter(|f| choose.iter().any(|b| b.family == f.id))
        .cloned()
        .collect();

    let words = Memo::new(move |_| {
        query.with(|q| {
            q.to_lowercase()
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
    });
    let visible = {
        let catalog = catalog.clone();
        let choose = choose.clone();
        Memo::new(move |_| {
            let fam = family_filter.get();
            words.with(|w| {
                choose
                    .iter()
                    .filter(|b| fam.as_deref().is_none_or(|f| b.family == f) && matches(&catalog, b, w))
                    .map(|b| b.id.clone())
                    .collect::<Vec<_>>()
            })
        })
    };
    let selected_count = move || selection.with(Selection::len);
    let chosen_count = {
        let catalog = catalog.clone();
        move || {
            selection.with(|s| {
                catalog
                    .selection_ids(s)
                    .iter()
                    .filter(|id| !catalog.is_mandatory(id))
                    .count()
            })
        }
    };

    let cards = choose
        .iter()
        .map(|b| {
            let id = b.id.clone();
            let shown = move || visible.with(|v| v.contains(&id));
            view! {
                <div class="cc-cell" class:hidden=move || !shown()>
                    <ComponentCard catalog=catalog.clone() blueprint=b.clone() actions />
                </div>
            }
        })
        .collect_view();

    let always = catalog
        .families()
        .iter()
        .filter_map(|f| {
            let members: Vec<&Blueprint> = catalog
                .members(&f.id)
                .into_iter()
                .filter(|b| catalog.is_mandatory(&b.id))
                .collect();
            if members.is_empty() {
                return None;
            }
            let items = members
                .into_iter()
                .map(|b| {
                    let why = catalog
                        .explain(&catalog.mandatory_selection(), &b.id)
                        .map(|e| catalog.explain_text(&e).join(" "))
                        .unwrap_or_default();
                    view! {
                        <li class="always-item">
                            <Logo blueprint=b.clone() color=f.color.clone() />
                            <div>
                                <a href=product_href(&b.id) class="always-name">
                                    {b.name.clone()}
                                </a>
                                <p class="muted text-sm">{b.summary.clone()}</p>
                                <p class="text-xs muted">{why}</p>
                            </div>
                        </li>
                    }
                })
                .collect_view();
            Some(view! {
                <section class="always-group" aria-labelledby=format!("always-{}", f.id)>
                    <h3 id=format!("always-{}", f.id) class="always-family">
                        <FamilyChip family=f.clone() />
                        <span class="muted text-sm">{f.subtitle.clone()}</span>
                    </h3>
                    <ul class="always-list">{items}</ul>
                </section>
            })
        })
        .collect_view();

    let on_tab_key = move |ev: leptos::ev::KeyboardEvent| {
        let next = match ev.key().as_str() {
            "ArrowRight" | "ArrowLeft" | "Home" | "End" => Some(if tab.get_untracked() == Tab::Choose {
                Tab::Always
            } else {
                Tab::Choose
            }),
            _ => None,
        };
        if let Some(t) = next {
            ev.prevent_default();
            tab.set(t);
            focus_by_id(if t == Tab::Choose {
                "tab-choose"
            } else {
                "tab-always"
            });
        }
    };

    view! {
        <div class="grid-root" data-testid="component-grid">
            <div class="tabs" role="tablist" aria-label="Components">
                <button
                    type="button"
                    role="tab"
                    id="tab-choose"
                    class="tab"
                    aria-controls="panel-choose"
                    aria-selected=move || (tab.get() == Tab::Choose).to_string()
                    tabindex=move || if tab.get() == Tab::Choose { "0" } else { "-1" }
                    on:click=move |_| tab.set(Tab::Choose)
                    on:keydown=on_tab_key
                >
                    {move || format!("Choose your stack ({})", chosen_count())}
                </button>
                <button
                    type="button"
                    role="tab"
                    id="tab-always"
                    class="tab"
                    aria-controls="panel-always"
                    aria-selected=move || (tab.get() == Tab::Always).to_string()
                    tabindex=move || if tab.get() == Tab::Always { "0" } else { "-1" }
                    on:click=move |_| tab.set(Tab::Always)
                    on:keydown=on_tab_key
                >
                    {format!("Always included ({always_count})")}
                </button>
            </div>

            <div
                id="panel-choose"
                role="tabpanel"
                aria-labelledby="tab-choose"
                class="panel"
                hidden=move || tab.get() != Tab::Choose
            >
                // The cards' names are third-level headings: this is the level between them and the page's title.
                <h2 class="sr-only">"Components to choose"</h2>
                <div class="grid-toolbar">
                    <div class="counter">
                        <p data-testid="selected-count">
                            "Selected " <strong>{selected_count}</strong> {format!(" of {total}")}
                        </p>
                        <div
                            class="meter"
                            role="progressbar"
                            aria-label="Components selected"
                            aria-valuemin="0"
                            aria-valuemax=total.to_string()
                            aria-valuenow=move || selected_count().to_string()
                        >
                            <span style=move || {
                                format!("width:{:.1}%", selected_count() as f64 * 100.0 / total.max(1) as f64)
                            }></span>
                        </div>
                    </div>
                    <button
                        type="button"
                        class="btn btn-secondary"
                        data-testid="reset"
                        on:click=move |_| actions.reset()
                    >
                        "Reset to defaults"
                    </button>
                </div>
                <form class="search" method="get" role="search" on:submit=|ev| ev.prevent_default()>
                    <label for="component-search" class="sr-only">
                        "Search components"
                    </label>
                    <input
                        id="component-search"
                        name="q"
                        class="input"
                        type="search"
                        autocomplete="off"
                        placeholder=format!("Search {} components…", choose.len())
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                        data-testid="search"
                    />
                </form>
                <div class="family-chips" role="group" aria-label="Filter by family">
                    <button
                        type="button"
                        class="fchip"
                        aria-pressed=move || family_filter.with(Option::is_none).to_string()
                        on:click=move |_| family_filter.set(None)
                    >
                        "All"
                    </button>
                    {chip_families
                        .into_iter()
                        .map(|f| {
                            let fid = f.id.clone();
                            let fid2 = f.id.clone();
                            view! {
                                <button
                                    type="button"
                                    class="fchip"
                                    style=format!("--fam:{}", f.color)
                                    data-family=f.id.clone()
                                    aria-pressed=move || {
                                        family_filter.with(|x| x.as_deref() == Some(fid.as_str())).to_string()
                                    }
                                    on:click=move |_| {
                                        family_filter
                                            .update(|x| {
                                                *x = if x.as_deref() == Some(fid2.as_str()) {
                                                    None
                                                } else {
                                                    Some(fid2.clone())
                                                }
                                            })
                                    }
                                >
                                    {f.name.clone()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                <p class="sr-only" aria-live="polite">
                    {move || format!("{} components shown", visible.with(Vec::len))}
                </p>
                <div class="cards">{cards}</div>
                <Show when=move || visible.with(Vec::is_empty)>
                    <p class="empty" data-testid="empty">
                        "No components match your filters."
                    </p>
                </Show>
            </div>

            <div
                id="panel-always"
                role="tabpanel"
                aria-labelledby="tab-always"
                class="panel"
                hidden=move || tab.get() != Tab::Always
            >
                <h2 class="sr-only">"Always included"</h2>
                <p class="lead-sm">
                    "These components run on every Sovereign: the platform is built on them, so they are always installed "
                    "and cannot be removed."
                </p>
                <div class="always">{always}</div>
            </div>

            <RemovalDialog actions />
            <ToastRegion actions />
        </div>
    }
}
