//! The HTML document (`shell`) and the router (`App`).

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

use crate::auth::pages::routes::{
    AccountRoute, AuditRoute, LoginRoute, SetupRoute, SignupRoute, TokensRoute, UsersRoute,
};
use crate::billing::routes::BillingRoute;
use crate::catalog::routes::{FamilyRoute, MarketplaceLayoutRoute, MarketplaceRoute, ProductRoute};
use crate::deployments::routes::{DeploymentRoute, DeploymentsRoute};
use crate::flow::routes::{FlowRoute, JobRoute, JobsRoute, TimelineRoute};
use crate::home::HomePage;
use crate::routes::{BASE, REDEEM};
use crate::theme::current_theme;
use crate::ui::{ErrorList, Layout, NotFound};
use crate::vouchers::routes::{RedeemRoute, VoucherRoute, VouchersRoute};
use crate::wizard::routes::WizardRoute;

/// The whole HTML document, rendered on the server for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = current_theme().as_str();
    // The split modules' preload links need the site's paths (crate::split::preload_module).
    #[cfg(feature = "ssr")]
    provide_context(options.clone());
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="dark light" />
                <link rel="icon" type="image/svg+xml" href="/sovereign/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    provide_context(crate::split::Preloaded::default());
    // The console lives under BASE; the few public pages outside it (the voucher landing page) have a
    // router of their own, so links from them into the console load pages from the server.
    let public_root = crate::routes::is_public_root(&current_path());
    view! {
        <Stylesheet id="leptos" href="/sovereign/pkg/sovereign.css" />
        <Title text="Catalyst" />
        {if public_root { view! { <PublicRoot /> }.into_any() } else { view! { <Console /> }.into_any() }}
    }
}

/// The path of the page being rendered: the request's on the server, the address bar's in the browser.
fn current_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| parts.uri.path().to_string())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().pathname().unwrap_or_default()
    }
}

/// `/redeem`: the voucher landing page, public, in the sign-in pages' split module.
#[component]
fn PublicRoot() -> impl IntoView {
    view! {
        <Router base=REDEEM>
            <Layout>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("") view={Lazy::<RedeemRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// The console under BASE.
#[component]
fn Console() -> impl IntoView {
    view! {
        <Router base=BASE>
            <Layout>
                <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        // Every page but the overview is a lazy route: its code is a separate wasm chunk
                        // (docs/bundle.md).
                        <Route path=path!("/wizard") view={Lazy::<WizardRoute>::new()} ssr=SsrMode::Async />
                        <Route
                            path=path!("/wizard/:step")
                            view={Lazy::<WizardRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/deployments")
                            view={Lazy::<DeploymentsRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/provision/:id")
                            view={Lazy::<DeploymentRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/provision/:id/flow")
                            view={Lazy::<FlowRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/provision/:id/jobs")
                            view={Lazy::<JobsRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/provision/:id/jobs/timeline")
                            view={Lazy::<TimelineRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/provision/:id/jobs/:job")
                            view={Lazy::<JobRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <ParentRoute
                            path=path!("/marketplace")
                            view={Lazy::<MarketplaceLayoutRoute>::new()}
                            ssr=SsrMode::Async
                        >
                            <Route path=path!("") view={Lazy::<MarketplaceRoute>::new()} />
                            <Route path=path!("family/:id") view={Lazy::<FamilyRoute>::new()} />
                            <Route path=path!("product/:id") view={Lazy::<ProductRoute>::new()} />
                        </ParentRoute>
                        <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/signup") view={Lazy::<SignupRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                        <Route
                            path=path!("/settings/account")
                            view={Lazy::<AccountRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/settings/tokens")
                            view={Lazy::<TokensRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/vouchers")
                            view={Lazy::<VouchersRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/vouchers/:code")
                            view={Lazy::<VoucherRoute>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/billing") view={Lazy::<BillingRoute>::new()} ssr=SsrMode::Async />
                    </Routes>
                </ErrorBoundary>
            </Layout>
        </Router>
    }
}
