//! The page frame: header with the product name, navigation to the pages that exist, theme switch.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::Me;
use crate::auth::api::{Logout, current_user};
use crate::routes;
use crate::theme::ThemeToggle;
use crate::ui::NoInputForm;

/// Navigation entries: (label, path). Only pages that exist, and that the signed-in user may open, are
/// listed; nothing is listed when signed out.
fn nav_items(me: Option<&Me>) -> Vec<(&'static str, String)> {
    let Some(me) = me else { return Vec::new() };
    let mut items = vec![
        ("Overview", routes::home()),
        ("Deployments", routes::page("deployments")),
        ("Marketplace", routes::page("marketplace")),
    ];
    if crate::auth::policy::allowed(&me.principal, crate::auth::policy::Action::WizardUse, None) {
        items.push(("New Sovereign", routes::page("wizard")));
    }
    if me.can_manage_users {
        items.push(("Users", routes::page("users")));
    }
    if crate::auth::policy::allowed(&me.principal, crate::auth::policy::Action::BillingRead, None) {
        items.push(("Billing", routes::page("billing")));
    }
    if crate::auth::policy::allowed(&me.principal, crate::auth::policy::Action::VoucherRead, None) {
        items.push(("Vouchers", routes::page("vouchers")));
    }
    if me.can_read_audit {
        items.push(("Audit", routes::page("audit")));
    }
    items
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let me = crate::wire::postcard_resource(current_user);
    view! {
        <a href="#main" class="skip-link">
            "Skip to content"
        </a>
        <header class="app-header">
            <div class="app-header-inner">
                <a href=routes::home() class="brand" aria-label="Catalyst home">
                    <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
                        <defs>
                            <linearGradient id="brand-g" x1="0" y1="0" x2="1" y2="1">
                                <stop offset="0" stop-color="#38bdf8" />
                                <stop offset="1" stop-color="#818cf8" />
                            </linearGradient>
                        </defs>
                        <path fill="url(#brand-g)" d="M16 2 29 9.5v13L16 30 3 22.5v-13z" />
                        <path fill="#0b1020" opacity=".55" d="M16 8.5 23.5 13v8L16 25.5 8.5 21v-8z" />
                    </svg>
                    <span>"Catalyst"</span>
                </a>
                <Suspense fallback=|| {
                    view! { <nav aria-label="Main" class="main-nav"></nav> }
                }>
                    {move || Suspend::new(async move {
                        let me = me.await.ok().flatten();
                        let items = nav_items(me.as_ref());
                        view! {
                            <nav aria-label="Main" class="main-nav">
                                {items
                                    .into_iter()
                                    .map(|(label, href)| {
                                        let exact = href == routes::home();
                                        // The overview is current only on itself; other entries also on their sub-pages.
                                        view! {
                                            <A href=href exact=exact attr:class="nav-link">
                                                {label}
                                            </A>
                                        }
                                    })
                                    .collect_view()}
                            </nav>
                            <div class="header-actions">
                                <ThemeToggle />
                                {me.map(|me| view! { <UserMenu me /> })}
                            </div>
                        }
                    })}
                </Suspense>
            </div>
        </header>
        <main id="main" class="app-main" tabindex="-1">
            {children()}
        </main>
    }
}

/// The signed-in user's menu: who they are, their settings, and signing out. A `<details>` element, so it
/// opens with the keyboard and without JavaScript.
#[component]
fn UserMenu(me: Me) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let done = logout.value();
    Effect::new(move |_| {
        if let Some(Ok(to)) = done.get() {
            crate::auth::pages::hard_navigate(&to);
        }
    });
    let p = me.principal;
    // Upper-cased by the stylesheet (`.avatar`): `char::to_uppercase` would put Unicode's case tables (13 KB)
    // into the main wasm module, which every page loads.
    let initial = p.label().chars().next().unwrap_or('?').to_string();
    view! {
        <details class="user-menu" data-testid="user-menu">
            // The name is the visible e-mail with a hidden prefix (not an aria-label that replaces it): what
            // a speech-input user reads on the button is part of its accessible name (WCAG 2.5.3).
            <summary class="user-menu-button">
                <span class="avatar" aria-hidden="true">
                    {initial}
                </span>
                <span class="sr-only">"Account menu of "</span>
                <span class="user-menu-email">{p.email.clone()}</span>
            </summary>
            <div class="user-menu-panel">
                <p class="user-menu-who">
                    <span class="font-semibold" data-testid="user-email">
                        {p.email.clone()}
                    </span>
                    <span class="muted text-xs">
                        {p.platform_role.map_or(String::new(), |r| r.label().to_string())}
                    </span>
                </p>
                <a href=routes::page("settings/account") class="user-menu-item">
                    "Account and password"
                </a>
                <a href=routes::page("settings/tokens") class="user-menu-item">
                    "API tokens"
                </a>
                <NoInputForm action=logout input={Logout {}} class="contents">
                    <button type="submit" class="user-menu-item" data-testid="sign-out">
                        "Sign out"
                    </button>
                </NoInputForm>
            </div>
        </details>
    }
}
