//! Catalyst's server: configuration, storage, the engine behind the app's ports, and the HTTP surface.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod engine;
pub mod error;
pub mod gitops;
pub mod hetzner;
pub mod http;
pub mod state;
pub mod telemetry;
pub mod tofu;

use std::net::SocketAddr;
use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::config::{ConfigError, Settings};
use crate::db::Db;
use crate::state::{AppState, Instance};

/// The browser bundle's file name, as cargo-leptos compiled it in (`sovereign.js`, `.wasm`, `.css`).
pub const OUTPUT_NAME: &str = match option_env!("LEPTOS_OUTPUT_NAME") {
    Some(name) => name,
    None => "sovereign",
};

pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(settings.site_root.to_string_lossy().to_string())
        .site_pkg_dir("sovereign/pkg")
        .site_addr(settings.bind)
        .build()
}

/// Opens the database and applies migrations. Errors name `--database-url`.
pub async fn open_database(settings: &Settings) -> Result<Db, ConfigError> {
    let db = Db::connect(&settings.database)
        .await
        .map_err(|e| ConfigError::new("--database-url", e.to_string()))?;
    db.migrate()
        .await
        .map_err(|e| ConfigError::new("--database-url", e.to_string()))?;
    Ok(db)
}

pub fn app_state(settings: Settings, db: Db) -> AppState {
    let instance = Arc::new(Instance::new());
    let auth = Arc::new(auth::AuthService::new(
        db.clone(),
        settings.auth.clone(),
        instance.id.clone(),
    ));
    let oidc = settings.auth.oidc.clone().and_then(|o| {
        auth::oidc::Oidc::new(o, &settings.auth.console_url())
            .map_err(|e| tracing::error!(error = %e, "single sign-on is configured but cannot start"))
            .ok()
            .map(Arc::new)
    });
    AppState {
        leptos_options: leptos_options(&settings),
        db,
        settings: Arc::new(settings),
        instance,
        auth,
        oidc,
    }
}

/// First-run and housekeeping of accounts: prints the setup link if there is no account yet, and sweeps
/// expired sessions every ten minutes.
pub async fn start_auth(state: &AppState) -> Result<(), ConfigError> {
    match state.auth.prepare().await {
        Ok(Some(token)) => tracing::warn!(
            "No account exists yet. To create the first superadmin, open {}/setup?token={token} \
             (this link works once, and only until an account exists; `catalyst admin create` works too)",
            state.auth.settings.console_url()
        ),
        Ok(None) => {}
        Err(e) => {
            return Err(ConfigError::new(
                "--database-url",
                format!("cannot read accounts: {e}"),
            ));
        }
    }
    let auth = state.auth.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            match auth.sweep().await {
                Ok(n) if n > 0 => tracing::debug!(sessions = n, "removed expired sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot remove expired sessions"),
            }
        }
    });
    Ok(())
}

/// Binds the listener; a busy port is reported against `--bind`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ConfigError> {
    TcpListener::bind(addr).await.map_err(|e| {
        let problem = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                format!("{addr} is already in use by another process; stop it or choose another address")
            }
            std::io::ErrorKind::PermissionDenied => {
                format!("not allowed to listen on {addr}; use a port above 1023")
            }
            _ => format!("cannot listen on {addr}: {e}"),
        };
        ConfigError::new("--bind", problem)
    })
}

/// Runs the console until SIGINT/SIGTERM, then drains in-flight requests.
pub async fn serve(settings: Settings) -> Result<(), ConfigError> {
    let listener = bind(settings.bind).await?;
    let db = open_database(&settings).await?;
    tracing::info!(database = %settings.database.display(), schema = db.latest_known_migration(), "database ready");
    tracing::info!(dir = %settings.catalog.dir.display(), "catalog: {}", settings.catalog.summary());
    let addr = listener.local_addr().unwrap_or(settings.bind);
    let state = app_state(settings, db.clone());
    start_auth(&state).await?;
    let router = http::router(state);
    tracing::info!("Catalyst is listening on http://{addr}/sovereign");
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    db.close().await;
    served.map_err(|e| ConfigError::new("--bind", format!("the server stopped: {e}")))?;
    tracing::info!("Catalyst stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
