//! The page frame: header with the product name, navigation to the pages that exist, theme switch.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::routes;
use crate::theme::ThemeToggle;

/// Navigation entries: (label, path). Only pages that exist are listed.
fn nav_items() -> Vec<(&'static str, String)> {
    vec![
        ("Overview", routes::home()),
        ("Deployments", routes::page("deployments")),
        ("Marketplace", routes::page("marketplace")),
    ]
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    view! {
        <a href="#main" class="skip-link">"Skip to content"</a>
        <header class="app-header">
            <div class="app-header-inner">
                <a href=routes::home() class="brand" aria-label="Catalyst home">
                    <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
                        <defs>
                            <linearGradient id="brand-g" x1="0" y1="0" x2="1" y2="1">
                                <stop offset="0" stop-color="#38bdf8"/>
                                <stop offset="1" stop-color="#818cf8"/>
                            </linearGradient>
                        </defs>
                        <path fill="url(#brand-g)" d="M16 2 29 9.5v13L16 30 3 22.5v-13z"/>
                        <path fill="#0b1020" opacity=".55" d="M16 8.5 23.5 13v8L16 25.5 8.5 21v-8z"/>
                    </svg>
                    <span>"Catalyst"</span>
                </a>
                <nav aria-label="Main" class="main-nav">
                    {nav_items()
                        .into_iter()
                        .map(|(label, href)| {
                            let path = href.clone();
                            let current = move || {
                                let p = location.pathname.get();
                                p == path || (path != routes::home() && p.starts_with(&path))
                            };
                            view! {
                                <A href=href attr:class="nav-link" attr:aria-current=move || current().then_some("page")>
                                    {label}
                                </A>
                            }
                        })
                        .collect_view()}
                </nav>
                <div class="header-actions">
                    <ThemeToggle/>
                </div>
            </div>
        </header>
        <main id="main" class="app-main" tabindex="-1">
            {children()}
        </main>
    }
}
