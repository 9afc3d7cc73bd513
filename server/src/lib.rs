//! Catalyst's server: configuration, storage, the engine behind the app's ports, and the HTTP surface.

pub mod at_rest;
pub mod auth;
pub mod billing;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod deployments;
pub mod dns;
pub mod error;
pub mod flow;
pub mod gitops;
pub mod hetzner;
pub mod http;
pub mod kube;
pub mod mail;
pub mod metrics;
pub mod pdns;
pub mod preflight;
pub mod state;
pub mod system;
pub mod telemetry;
pub mod tofu;
pub mod vouchers;
pub mod wizard;

use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::config::{ConfigError, Settings};
use crate::crypto::{KeySource, SecretBox};
use crate::db::Db;
use crate::deployments::{Engine, EngineConfig};
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

/// Loads (or on first run creates) the secret key and checks it against the database: a console started
/// with another key than the one its secrets were written with stops here, naming the option.
pub async fn open_secrets(settings: &Settings, db: &Db) -> Result<SecretBox, ConfigError> {
    let (secrets, source) =
        SecretBox::load_or_create(settings.engine.secret_key_file.as_deref(), &settings.data_dir)
            .map_err(|p| ConfigError::new("--secret-key-file", p))?;
    secrets
        .verify_against(db)
        .await
        .map_err(|e| ConfigError::new("--secret-key-file", e.to_string()))?;
    match source {
        KeySource::Generated(path) => tracing::warn!(
            key_file = %path.display(),
            key_id = secrets.key_id(),
            "generated a new secret key for encrypting deployment secrets; BACK IT UP — without it the stored secrets cannot be decrypted"
        ),
        KeySource::File(path) => {
            tracing::info!(key_file = %path.display(), key_id = secrets.key_id(), "secret key loaded")
        }
    }
    Ok(secrets)
}

/// The engine's settings from the validated configuration.
pub fn engine_config(settings: &Settings) -> EngineConfig {
    let e = &settings.engine;
    EngineConfig {
        tofu_bin: e.tofu_bin.clone(),
        module_dir: e.tofu_module_dir.clone(),
        step_timeout: e.tofu_timeout,
        apply_timeout: e.tofu_apply_timeout,
        cluster_timeout: e.cluster_timeout,
        install_timeout: e.install_timeout,
        lease_ttl: e.lease_ttl,
        public_url: e.public_url.clone(),
        gitops: settings.gitops.clone(),
        hetzner_api_url: settings.hetzner_api_url.clone(),
        validation: app::deployments::validate::ValidationContext {
            pool_domains: settings.pool_domains.clone(),
        },
        limits: e.limits,
        preflight: settings.preflight.clone(),
        ..EngineConfig::for_data_dir(&settings.data_dir, settings.catalog.engine.clone())
    }
}

/// The HTTP layer's state. The secret key is loaded as by [`open_secrets`] (which `serve` runs first, so
/// the key file exists and matches the database by the time this runs).
pub fn app_state(settings: Settings, db: Db) -> AppState {
    let (secrets, _) =
        SecretBox::load_or_create(settings.engine.secret_key_file.as_deref(), &settings.data_dir)
            .expect("the secret key was checked by open_secrets before the state is built");
    app_state_with(settings, db, secrets)
}

pub fn app_state_with(settings: Settings, db: Db, secrets: SecretBox) -> AppState {
    let mut config = engine_config(&settings);
    // The runs write DNS through the same pool manager the wizard checks names with.
    config.dns = dns::pool_manager(
        settings.pdns.as_ref(),
        &settings.pool_domains,
        &settings.nameservers,
        &db,
    )
    .map(Arc::new);
    app_state_with_engine(settings, db, secrets, config)
}

/// [`app_state_with`] with engine settings of the caller's (tests give OpenTofu stand-in switches). The
/// engine writes DNS only if `config.dns` says so; the wizard's checks use it, or `--pdns-url`.
pub fn app_state_with_engine(
    settings: Settings,
    db: Db,
    secrets: SecretBox,
    config: EngineConfig,
) -> AppState {
    let instance = Arc::new(Instance::new());
    let pools = config.dns.clone().or_else(|| {
        dns::pool_manager(
            settings.pdns.as_ref(),
            &settings.pool_domains,
            &settings.nameservers,
            &db,
        )
        .map(Arc::new)
    });
    let checks = create_checks(&settings, &db, pools.clone());
    let engine = Engine::new(db.clone(), secrets, config, instance.id.clone(), checks);
    let mut auth = auth::AuthService::new(db.clone(), settings.auth.clone(), instance.id.clone());
    let limits = &settings.limits;
    auth.hasher = auth::password::Hasher::new(auth::password::MAX_CONCURRENT, limits.password_check_queue);
    auth.ip_limits = auth::ratelimit::IpLimits::with_sso(
        auth::ratelimit::IpLimits::LOGIN_QUOTA,
        auth::ratelimit::IpLimits::SIGNUP_QUOTA,
        http::limits::per_minute(limits.sso_starts_per_minute),
    );
    let auth = Arc::new(auth);
    let mailer = Arc::new(
        mail::Mailer::new(
            db.clone(),
            settings.mail.clone(),
            instance.id.clone(),
            mail::WorkerConfig {
                lease_ttl: settings.engine.lease_ttl,
                ..mail::WorkerConfig::default()
            },
        )
        .expect("the SMTP settings were checked by MailArgs::validate"),
    );
    let vouchers = Arc::new(vouchers::Vouchers::new(db.clone(), auth.clone(), mailer.clone()));
    // Sign-up takes voucher links as invitations; the accounts service reaches vouchers through this port.
    auth.set_signup_vouchers(vouchers.clone());
    let oidc = settings.auth.oidc.clone().and_then(|o| {
        auth::oidc::Oidc::new(o, &settings.auth.console_url())
            .map_err(|e| tracing::error!(error = %e, "single sign-on is configured but cannot start"))
            .ok()
            .map(Arc::new)
    });
    AppState {
        pools,
        leptos_options: leptos_options(&settings),
        billing: billing::Billing::new(db.clone()),
        mailer,
        vouchers,
        db,
        settings: Arc::new(settings),
        instance,
        engine,
        auth,
        oidc,
    }
}

/// The live checks of a new deployment — the pool subdomain (rules, pool manager, deployments holding the
/// name) and the Hetzner token — which the engine's create and the wizard's steps share.
pub fn create_checks(
    settings: &Settings,
    db: &Db,
    pools: Option<Arc<dns::PoolManager>>,
) -> deployments::CreateChecks {
    deployments::CreateChecks {
        subdomains: Arc::new(wizard::PoolSubdomains {
            settings: Arc::new(wizard_settings(settings)),
            pools,
            taken: Some(Arc::new(wizard::LiveDeployments { db: db.clone() })),
        }),
        tokens: Arc::new(wizard::HetznerTokens::new(&settings.hetzner_api_url)),
    }
}

/// The wizard's facts from the configuration (`--pool-domains`, `--nameservers`).
pub fn wizard_settings(settings: &Settings) -> wizard::WizardSettings {
    wizard::WizardSettings {
        pool_domains: settings.pool_domains.clone(),
        nameservers: settings.nameservers.clone(),
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

/// The voucher capability's background work: the e-mail sender (one replica at a time holds its lease)
/// and the redeem preview's per-address buckets swept every ten minutes. Stops with `stop`.
pub fn start_vouchers(state: &AppState, stop: tokio_util::sync::CancellationToken) {
    if state.mailer.start(stop.clone()).is_none() {
        tracing::info!("no SMTP server is configured (--smtp-host): voucher e-mails are not sent");
    }
    let vouchers = state.vouchers.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tokio::select! {
                _ = tick.tick() => vouchers.sweep(),
                () = stop.cancelled() => return,
            }
        }
    });
}

/// Binds the listener; a busy port is reported against `--bind`.
pub async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, ConfigError> {
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
    let metrics_listener = match settings.metrics_bind {
        Some(addr) => Some(
            bind(addr)
                .await
                .map_err(|e| ConfigError::new("--metrics-bind", e.problem))?,
        ),
        None => None,
    };
    let db = open_database(&settings).await?;
    tracing::info!(database = %settings.database.display(), schema = db.latest_known_migration(), "database ready");
    let secrets = open_secrets(&settings, &db).await?;
    tracing::info!(dir = %settings.catalog.dir.display(), "catalog: {}", settings.catalog.summary());
    match (&settings.gitops.forge, &settings.gitops.remote) {
        (Some(forge), _) => tracing::info!(
            forge = %forge.url,
            org = %forge.org,
            branch = %settings.gitops.branch,
            "GitOps: one repository and read-only deploy key per Sovereign on the forge"
        ),
        (None, Some(remote)) => {
            tracing::info!(repo = %remote.url, branch = %remote.branch, "GitOps repository (shared by every Sovereign)")
        }
        (None, None) => tracing::warn!(
            "no GitOps repository is configured: deployments stop at their GitOps step until Catalyst runs with --gitops-repo-url (and --gitops-token)"
        ),
    }
    let addr = listener.local_addr().unwrap_or(settings.bind);
    warn_about_shared_site(&settings);
    let limits = settings.limits.clone();
    let state = app_state_with(settings, db.clone(), secrets);
    start_auth(&state).await?;
    match &state.pools {
        Some(pools) => {
            tracing::info!(pdns = %state.settings.pdns.as_ref().map(|p| p.url.as_str()).unwrap_or_default(), "DNS: PowerDNS");
            dns::start_sweeper(pools.clone(), std::time::Duration::from_secs(30));
        }
        None => tracing::warn!(
            "no PowerDNS is configured: pool subdomains cannot be checked or given out until Catalyst runs with --pdns-url (and CATALYST_PDNS_API_KEY)"
        ),
    }
    let engine = state.engine.clone();
    engine.start();
    let background = tokio_util::sync::CancellationToken::new();
    start_vouchers(&state, background.clone());
    if let Some(listener) = metrics_listener {
        let addr = listener.local_addr().ok();
        let metrics = http::metrics::router(state.clone());
        tracing::info!(addr = ?addr, "Prometheus metrics at /metrics");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let router = http::router(state);
    tracing::info!("Catalyst is listening on http://{addr}/sovereign");
    serve_on(listener, router, &limits, {
        let engine = engine.clone();
        async move {
            shutdown_signal().await;
            // Ends live streams (so connections drain) and stops local runs without failing them.
            engine.shutdown().await;
            // Stops the e-mail sender (it gives its lease up for another replica).
            background.cancel();
        }
    })
    .await;
    db.close().await;
    tracing::info!("Catalyst stopped");
    Ok(())
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the open connections finish.
///
/// At most `--max-connections` connections are open at once: the loop stops accepting until one closes
/// (further clients wait in the kernel's accept queue). A connection must deliver each request's headers
/// within `--header-read-timeout`, counted from when the server waits for them, so a client that trickles
/// headers or keeps an idle connection is closed. (axum's own `serve` sets neither.)
pub async fn serve_on(
    listener: TcpListener,
    router: axum::Router,
    limits: &http::limits::Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1.1 only, as axum::serve was built here (the console sits behind a proxy for TLS and HTTP/2).
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: ::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Warns when the console shares its registrable domain (its "site") with a pool domain: Sovereigns get
/// names under the pool domains, and a Sovereign on the console's own site is same-site with it — it can set
/// cookies for the whole site (which the console then receives) and its requests count as same-site, so
/// `SameSite` no longer separates them.
pub fn warn_about_shared_site(settings: &Settings) {
    let Some(host) = url::Url::parse(&settings.auth.public_origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
    else {
        return;
    };
    for pool in shared_site_pools(&host, &settings.pool_domains) {
        tracing::warn!(
            public_url = %settings.auth.public_origin,
            pool_domain = %pool,
            "--public-url is on the same site as the pool domain {pool}: Sovereigns named under it can set \
             cookies the console receives and count as same-site. Serve the console from a domain of its own."
        );
    }
}

/// The pool domains whose registrable domain is the registrable domain of `host` (public suffix list).
pub fn shared_site_pools<'a>(host: &str, pools: &'a [String]) -> Vec<&'a str> {
    let site = |name: &str| {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        // An address has no site: nothing can be named under it.
        if name.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        psl::domain_str(&name).map(str::to_string)
    };
    let Some(console) = site(host) else {
        return Vec::new();
    };
    pools
        .iter()
        .filter(|p| site(p).as_deref() == Some(console.as_str()))
        .map(String::as_str)
        .collect()
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
