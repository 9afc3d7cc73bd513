//! The HTTP surface: health probes at the root, the REST API (each capability's routes, joined in `api`), the
//! Leptos pages and server functions, and static assets — everything but the probes under `/sovereign`.

pub mod api;
pub mod assets;
pub mod extract;
pub mod headers;
pub mod health;
pub mod inputs;
pub mod limits;
pub mod meta;
pub mod metrics;

use std::sync::{Arc, OnceLock};

use app::error::AppError;
use app::ports::{
    AccountsPort, ApiTokensPort, AuditPort, BillingPort, CatalogPort, CloudCredentialsPort, DeploymentsPort,
    OrganisationsPort, PreflightPort, SessionsPort, SingleSignOnPort, SubdomainCheckPort, SystemPort,
    VouchersPort, WizardPort,
};
use app::routes::BASE;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Redirect;
use axum::routing::get;
use http::Request;
use leptos::prelude::provide_context;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::catalog::CatalogService;
use crate::state::AppState;
use crate::system::System;
use crate::wizard;

pub use meta::REQUEST_ID;

/// The engine implementations server functions reach through Leptos context.
#[derive(Clone)]
pub struct Ports {
    pub system: Arc<dyn SystemPort>,
    pub wizard: Arc<dyn WizardPort>,
    pub subdomains: Arc<dyn SubdomainCheckPort>,
    pub cloud_credentials: Arc<dyn CloudCredentialsPort>,
    pub deployments: Arc<dyn DeploymentsPort>,
    pub catalog: Arc<dyn CatalogPort>,
    pub preflight: Arc<dyn PreflightPort>,
    /// Accounts and access: one service behind the five ports of its use cases.
    pub auth: crate::auth::Auth,
    pub vouchers: Arc<dyn VouchersPort>,
    pub billing: Arc<dyn BillingPort>,
}

impl Ports {
    pub fn new(state: &AppState) -> Self {
        // The wizard's Domain and Credentials checks are the engine's own (what Launch and REST run).
        let checks = state.engine.checks();
        Self {
            system: Arc::new(System::new(state.db.clone(), state.instance.clone())),
            wizard: Arc::new(wizard::Wizard {
                db: state.db.clone(),
                settings: Arc::new(crate::wizard_settings(&state.settings)),
            }),
            subdomains: checks.subdomains.clone(),
            cloud_credentials: checks.tokens.clone(),
            deployments: Arc::new(state.engine.clone()),
            catalog: Arc::new(CatalogService {
                store: state.settings.catalog.clone(),
            }),
            preflight: Arc::new(state.engine.preflight().clone()),
            auth: state.auth.clone(),
            vouchers: state.vouchers.clone(),
            billing: Arc::new(state.billing.clone()),
        }
    }

    /// Called for every SSR render and every server function call.
    pub fn provide(&self) {
        provide_context(self.system.clone());
        provide_context(self.wizard.clone());
        provide_context(self.subdomains.clone());
        provide_context(self.cloud_credentials.clone());
        provide_context(self.deployments.clone());
        provide_context(self.catalog.clone());
        provide_context(self.preflight.clone());
        provide_context(self.auth.clone() as Arc<dyn SessionsPort>);
        provide_context(self.auth.clone() as Arc<dyn SingleSignOnPort>);
        provide_context(self.auth.clone() as Arc<dyn AccountsPort>);
        provide_context(self.auth.clone() as Arc<dyn OrganisationsPort>);
        provide_context(self.auth.clone() as Arc<dyn ApiTokensPort>);
        provide_context(self.auth.clone() as Arc<dyn AuditPort>);
        provide_context(self.vouchers.clone());
        provide_context(self.billing.clone());
    }
}

/// The app's routes, found once per process by rendering the app with resources held back.
///
/// `generate_route_list` holds resources back with a flag that is global to the process
/// (`leptos::server::SuppressResourceLoad`): a resource that any *other* thread creates while the list is being
/// generated never loads, and that thread's page never finishes rendering. Built once, before any router (and
/// so any render) exists, the list cannot overlap a render, however many routers a process builds (the
/// in-process tests build one each, in parallel). Upstream: leptos-rs/leptos#4773.
pub fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

pub fn router(state: AppState) -> Router {
    let ports = Ports::new(&state);
    let leptos_options = state.leptos_options.clone();
    let routes = routes();

    let render_ports = ports.clone();
    let form_ports = wizard::form::Ports {
        wizard: ports.wizard.clone(),
        catalog: ports.catalog.clone(),
        subdomains: ports.subdomains.clone(),
        cloud_credentials: ports.cloud_credentials.clone(),
        deployments: ports.deployments.clone(),
    };
    // The public voucher page lives outside /sovereign, so outside the console router's route list: its
    // own render handler, with the same contexts as every page.
    let redeem_page = leptos_axum::render_app_async_with_context(
        {
            let (ports, state) = (ports.clone(), state.clone());
            move || {
                provide_context(state.clone());
                ports.provide();
                headers::provide_page_policy();
            }
        },
        {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        },
    );
    let not_found = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        move || {
            ports.provide();
            headers::provide_page_policy();
        },
        app::shell,
    );
    let hardening = headers::Hardening {
        https: state.auth.settings.secure_cookies,
    };
    let limits = &state.settings.limits;
    let streams = limits::StreamCounts::new(limits.max_streams_per_account);
    let account_limits = limits::AccountLimits::new(limits);
    let request_timeout = limits.request_timeout;
    let site_root = std::path::PathBuf::from(&*leptos_options.site_root);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/", get(|| async { Redirect::temporary(BASE) }))
        .route("/sovereign/", get(|| async { Redirect::permanent(BASE) }))
        .nest("/sovereign/api/v1", api::router())
        .route(crate::auth::public::REDEEM_PAGE, get(move |req: Request<Body>| redeem_page(req)))
        .route(
            crate::auth::public::OIDC_START,
            get(crate::auth::oidc::start).route_layer(axum::middleware::from_fn_with_state(
                state.auth.clone(),
                limits::sso_start,
            )),
        )
        .route(crate::auth::public::OIDC_CALLBACK, get(crate::auth::oidc::callback))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                render_ports.provide();
                headers::provide_page_policy();
            },
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        // The wizard's steps posted as plain forms, without JavaScript (the page itself is the route above).
        .route(
            "/sovereign/wizard/{step}",
            axum::routing::post(
                move |crate::auth::Caller(me): crate::auth::Caller,
                      axum::Extension(meta): axum::Extension<app::auth::RequestMeta>,
                      axum::extract::Path(step): axum::extract::Path<String>,
                      axum::Form(fields): axum::Form<Vec<(String, String)>>| {
                    let ports = form_ports.clone();
                    async move { wizard::form::post_step(ports, me, meta, step, fields).await }
                },
            ),
        )
        // Every route's pattern goes out with its response, for the latency metric's route label.
        .route_layer(axum::middleware::from_fn(crate::metrics::route_of))
        // A static file if the path names one, the 404 page otherwise (see `assets`).
        .fallback(move |State(state): State<AppState>, req: Request<Body>| {
            let (not_found, site_root) = (not_found.clone(), site_root.clone());
            async move {
                let (parts, body) = req.into_parts();
                match assets::serve(&site_root, &parts).await {
                    Some(file) => file,
                    None => not_found(parts.uri.clone(), State(state), Request::from_parts(parts, body)).await,
                }
            }
        })
        .layer(axum::middleware::map_request(forget_leftover_owner))
        // Per-account limits need the caller, so they run inside `authenticate` (see http::limits).
        .layer(axum::middleware::from_fn_with_state(account_limits, limits::per_account))
        .layer(axum::middleware::from_fn_with_state(streams, limits::cap_streams))
        .layer(axum::middleware::from_fn(inputs::server_fn_content_type))
        // Who is calling, and may they: every route below passes through here (see auth::middleware).
        .layer(axum::middleware::from_fn_with_state(state.auth.clone(), crate::auth::middleware::authenticate))
        // Client address, user agent and request id, for the auth middleware and every handler after it.
        .layer(axum::middleware::from_fn_with_state(state.settings.auth.trust_forwarded_for, meta::attach))
        .layer(axum::middleware::from_fn_with_state(request_timeout, limits::request_timeout))
        .layer(axum::middleware::map_response(server_fn_status))
        // Security headers and the https cookie rule on every answer, errors and redirects included.
        .layer(axum::middleware::from_fn_with_state(hardening, headers::harden))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request<Body>| {
                            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                            // The path only: query strings can carry codes and tokens.
                            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(tower_http::LatencyUnit::Micros)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(CompressionLayer::new()),
        )
        // Outermost: the latency of everything above, by route pattern (see `metrics`).
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state)
}

/// Clears the reactive owner a previous render left as the worker thread's current one (seen on most
/// requests under a browser). leptos_axum creates the owner of a server function call or a static file
/// with `Owner::new()`, which makes it a child of that leftover and lets it read another request's contexts
/// — how a 404 page's status once reached the wasm files after it. Runs right before the handler.
async fn forget_leftover_owner(req: Request<Body>) -> Request<Body> {
    if let Some(owner) = leptos::prelude::Owner::current() {
        owner.unset();
    }
    req
}

/// server_fn answers every error with 500; give it the status of the `AppError` inside instead
/// (422 for invalid input, 403 for a missing permission, …). The browser client treats any 4xx/5xx alike.
async fn server_fn_status(res: axum::response::Response) -> axum::response::Response {
    if res.status() != http::StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    use leptos::server_fn::{ContentType, Decodes, error::FromServerFnError};
    type Encoding = <AppError as FromServerFnError>::Encoder;
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024).await.unwrap_or_default();
    if let Ok(error) = <Encoding as Decodes<AppError>>::decode(bytes.clone()) {
        parts.status = error.status();
        parts.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(<Encoding as ContentType>::CONTENT_TYPE),
        );
    }
    axum::response::Response::from_parts(parts, Body::from(bytes))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> http::Response<Body> {
    tracing::error!("a request handler panicked");
    let body = serde_json::json!({
        "error": "internal",
        "detail": "Something failed on our side. It has been logged; try again in a moment.",
    });
    http::Response::builder()
        .status(http::StatusCode::INTERNAL_SERVER_ERROR)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}
