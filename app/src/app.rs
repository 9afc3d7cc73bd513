//! The HTML document (`shell`) and the router (`App`).

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::auth::pages::{AccountPage, AuditPage, LoginPage, SetupPage, SignupPage, TokensPage, UsersPage};
use crate::catalog::pages::{FamilyPage, MarketplaceLayout, MarketplacePage, ProductPage};
use crate::deployments::pages::{DeploymentPage, DeploymentsPage};
use crate::home::HomePage;
use crate::routes::BASE;
use crate::theme::current_theme;
use crate::ui::{ErrorList, Layout, NotFound};
use crate::wizard::WizardPage;

/// The whole HTML document, rendered on the server for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = current_theme().as_str();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark light"/>
                <link rel="icon" type="image/svg+xml" href="/sovereign/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/sovereign/pkg/sovereign.css"/>
        <Title text="Catalyst"/>
        <Router base=BASE>
            <Layout>
                <ErrorBoundary fallback=|errors| view! { <ErrorList errors/> }>
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                        <Route path=path!("/wizard") view=WizardPage ssr=SsrMode::Async/>
                        <Route path=path!("/wizard/:step") view=WizardPage ssr=SsrMode::Async/>
                        <Route path=path!("/deployments") view=DeploymentsPage ssr=SsrMode::Async/>
                        <Route path=path!("/provision/:id") view=DeploymentPage ssr=SsrMode::Async/>
                        <ParentRoute path=path!("/marketplace") view=MarketplaceLayout ssr=SsrMode::Async>
                            <Route path=path!("") view=MarketplacePage/>
                            <Route path=path!("family/:id") view=FamilyPage/>
                            <Route path=path!("product/:id") view=ProductPage/>
                        </ParentRoute>
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                        <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async/>
                        <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                        <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async/>
                        <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                        <Route path=path!("/settings/account") view=AccountPage ssr=SsrMode::Async/>
                        <Route path=path!("/settings/tokens") view=TokensPage ssr=SsrMode::Async/>
                    </Routes>
                </ErrorBoundary>
            </Layout>
        </Router>
    }
}
