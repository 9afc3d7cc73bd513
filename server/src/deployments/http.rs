//! `/sovereign/api/v1/deployments…`: the REST face of the provisioning engine, including the live event
//! stream (SSE) and the kubeconfig PUT-back.
//!
//! SSE: `GET …/{id}/stream` replays events after `Last-Event-ID` (or `?after=`), then sends new ones live;
//! `id:` is the event's `seq`, so a reconnect resumes exactly where it stopped. A comment line every 15 s
//! keeps proxies from closing an idle stream. When the deployment settles the stream sends `event: done`
//! with the deployment and ends; it also ends within seconds of its caller losing access to the deployment.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::auth::{Action, Principal, RequestMeta, policy};
use app::deployments::{
    Actor, CreateDeployment, Created, Deployment, DeploymentEvent, EventKind, EventPage, ListQuery,
    RetryRequest, WipeRequest,
};
use app::error::AppError;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use http::request::Parts;
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::Engine;
use super::hub::LiveEvent;
use crate::auth::Caller;
use crate::db::{deployment_events, deployments as store};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// SSE heartbeat interval.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Events read from the database per replay round.
const REPLAY_BATCH: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deployments", get(list).post(create))
        .route("/deployments/{id}", get(show).delete(delete))
        .route("/deployments/{id}/events", get(events))
        .route("/deployments/{id}/stream", get(stream))
        .route("/deployments/{id}/retry", post(retry))
        .route("/deployments/{id}/cancel", post(cancel))
        .route("/deployments/{id}/wipe", post(wipe))
        .route("/domain-holds", get(held_domains))
        .route("/domain-holds/{id}/release", post(release_domain))
        .route(
            "/deployments/{id}/kubeconfig",
            get(download_kubeconfig)
                .put(put_kubeconfig)
                // Bodies over the limit are answered by the handler (422), so read a little past it.
                .layer(axum::extract::DefaultBodyLimit::max(
                    super::kubeconfig::MAX_BYTES + 64 * 1024,
                )),
        )
}

/// The caller of a deployments request: the signed-in principal (`auth::Caller`, resolved by the auth
/// middleware — anonymous callers never get here) and the request's origin for the audit log.
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Meta(
            parts.extensions.get::<RequestMeta>().cloned().unwrap_or_default(),
        ))
    }
}

/// The policy's first word: may the caller do `action` in any organisation at all? (The engine then checks
/// the role in the deployment's own organisation with `policy::require`.)
fn actor(me: Principal, meta: RequestMeta, action: Action) -> Result<Actor, AppError> {
    policy::require(&me, action, None)?;
    Ok(Actor::new(me, meta))
}

async fn create(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<CreateDeployment>,
) -> ApiResult<(StatusCode, [(header::HeaderName, String); 1], Json<Created>)> {
    // The permission is the create path's to check, in the organisation the deployment goes to.
    let created = engine.create(&Actor::new(me, meta), body).await?;
    let location = format!("{}/deployments/{}", app::routes::API_V1, created.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(created)))
}

async fn list(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<app::deployments::DeploymentList>> {
    let actor = actor(me, meta, Action::DeploymentRead)?;
    Ok(Json(engine.list(&actor, query).await?))
}

async fn show(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Deployment>> {
    let actor = actor(me, meta, Action::DeploymentRead)?;
    Ok(Json(engine.get(&actor, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn events(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventPage>> {
    let actor = actor(me, meta, Action::DeploymentEventsRead)?;
    Ok(Json(
        engine.events(&actor, &id, q.after.unwrap_or(0), q.limit).await?,
    ))
}

async fn retry(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<Deployment>> {
    let actor = actor(me, meta, Action::DeploymentRetry)?;
    // The body is optional: empty means "the phase that failed".
    let body: RetryRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RetryRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::invalid(
                "body",
                format!("The retry body must be {{\"phase\": \"…\"}} or {{\"component\": \"…\"}}: {e}."),
            )
        })?
    };
    Ok(Json(engine.retry(&actor, &id, body).await?))
}

async fn cancel(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Deployment>> {
    let actor = actor(me, meta, Action::DeploymentCancel)?;
    Ok(Json(engine.cancel(&actor, &id).await?))
}

async fn delete(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let actor = actor(me, meta, Action::DeploymentDelete)?;
    engine.delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /domain-holds`: what deleted, not wiped records still hold (superadmins).
async fn held_domains(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
) -> ApiResult<Json<Vec<super::port::HeldDomain>>> {
    let actor = actor(me, meta, Action::DomainRelease)?;
    Ok(Json(engine.held_domains(&actor).await?))
}

/// `POST /domain-holds/{deployment id}/release`: the deleted record goes for good, its domain is free.
async fn release_domain(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let actor = actor(me, meta, Action::DomainRelease)?;
    engine.release_domain(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn wipe(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<WipeRequest>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let actor = actor(me, meta, Action::DeploymentWipe)?;
    Ok((StatusCode::ACCEPTED, Json(engine.wipe(&actor, &id, body).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionQuery {
    #[serde(default)]
    region: Option<String>,
}

async fn put_kubeconfig(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RegionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match engine
        .receive_kubeconfig(&id, q.region.as_deref(), auth, &body)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            let mut body = serde_json::json!({"error": e.code, "detail": e.detail});
            if let Some(field) = &e.field {
                body["field"] = serde_json::Value::String(field.clone());
            }
            let mut response = (e.status, Json(body)).into_response();
            if let Some(secs) = e.retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, http::HeaderValue::from(secs));
            }
            response
        }
    }
}

async fn download_kubeconfig(
    State(engine): State<Engine>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> ApiResult<Response> {
    let actor = actor(me, meta, Action::DeploymentKubeconfigDownload)?;
    let (file, yaml) = engine
        .download_kubeconfig(&actor, &id, q.region.as_deref())
        .await?;
    let disposition = format!("attachment; filename=\"{}\"", file.replace(['"', '\\'], ""));
    Ok((
        [
            (header::CONTENT_TYPE, "application/yaml".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        yaml,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    #[serde(default)]
    after: Option<i64>,
}

async fn stream(
    State(engine): State<Engine>,
    State(auth): State<crate::auth::Auth>,
    Caller(me): Caller,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let watcher = me.clone();
    let actor = actor(me, meta, Action::DeploymentEventsRead)?;
    let row = engine.row_for(&actor, &id, Action::DeploymentEventsRead).await?;
    // The stream ends within seconds of its caller losing access (sign-out, a password change ending this
    // session, disabling, losing the role in the deployment's organisation): auth::callers::revoked.
    let revoked = auth.revoked(watcher, row.org_id.clone(), Action::DeploymentEventsRead);
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let after = last_event_id.into_iter().chain(q.after).max().unwrap_or(0).max(0);
    let events = live_events(engine, actor, id, after).take_until(revoked);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
        .into_response();
    // Proxies (nginx) must not buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", http::HeaderValue::from_static("no"));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, http::HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// What the stream sends next.
enum Item {
    Event(SseEvent),
    Done(SseEvent),
}

struct StreamState {
    engine: Engine,
    actor: Actor,
    id: String,
    /// Highest seq sent.
    sent: i64,
    rx: tokio::sync::broadcast::Receiver<Arc<LiveEvent>>,
    /// Read from the database, not yet sent.
    backlog: std::collections::VecDeque<DeploymentEvent>,
    /// Set when the deployment is known to be settled at `settled_at` (its last seq then).
    settled_at: Option<i64>,
    /// The database may hold events this stream has not sent and the hub will not deliver: at the start
    /// (replay), after a lag and after a gap. Live events otherwise come from the hub alone — one read of the
    /// database per event for all subscribers, not one per subscriber.
    catch_up: bool,
    finished: bool,
}

fn sse_event(e: &DeploymentEvent) -> SseEvent {
    SseEvent::default()
        .id(e.seq.to_string())
        .data(serde_json::to_string(e).unwrap_or_default())
}

fn settled_status(e: &DeploymentEvent) -> bool {
    e.kind == EventKind::Status
        && e.state
            .as_deref()
            .and_then(app::deployments::DeploymentStatus::parse)
            .is_some_and(|s| s.settled())
}

/// Replay from the database, then live events from the hub; refills from the database on lag or gaps.
fn live_events(
    engine: Engine,
    actor: Actor,
    id: String,
    after: i64,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let shutdown = engine.shutdown_token();
    let init = async move {
        // Subscribe before reading the state, so nothing committed in between is missed.
        let last = store::get(engine.db(), &id).await.ok().flatten();
        let last_seq = last.as_ref().map(|r| r.last_seq).unwrap_or(0);
        let (_hub, rx) = engine.hubs().subscribe(&id, last_seq);
        let settled_at = last.as_ref().filter(|r| r.status().settled()).map(|r| r.last_seq);
        StreamState {
            engine,
            actor,
            id,
            sent: after,
            rx,
            backlog: Default::default(),
            settled_at,
            catch_up: true,
            finished: false,
        }
    };
    let stream = futures_util::stream::once(init).flat_map(|state| {
        futures_util::stream::unfold(state, |mut st| async move {
            if st.finished {
                return None;
            }
            let item = next_item(&mut st).await?;
            Some((item, st))
        })
    });
    stream
        .take_until(async move { shutdown.cancelled().await })
        .map(|item| {
            Ok(match item {
                Item::Event(e) | Item::Done(e) => e,
            })
        })
}

/// Reads the next page after `sent` from the database into the backlog. True if it found any; a short page
/// means the stream has caught up (the hub delivers what comes next).
async fn refill(st: &mut StreamState) -> bool {
    match deployment_events::list_after(st.engine.db(), &st.id, st.sent, REPLAY_BATCH).await {
        Ok(events) => {
            let any = !events.is_empty();
            if (events.len() as i64) < REPLAY_BATCH {
                st.catch_up = false;
            }
            st.backlog.extend(events);
            any
        }
        Err(e) => {
            tracing::warn!(deployment = %st.id, error = %e, "live stream: cannot read events");
            false
        }
    }
}

async fn done_event(st: &mut StreamState) -> Option<Item> {
    st.finished = true;
    let deployment = st.engine.get(&st.actor, &st.id).await.ok()?;
    Some(Item::Done(
        SseEvent::default()
            .event("done")
            .data(serde_json::to_string(&deployment).unwrap_or_default()),
    ))
}

async fn next_item(st: &mut StreamState) -> Option<Item> {
    loop {
        if let Some(e) = st.backlog.pop_front() {
            if e.seq <= st.sent {
                continue;
            }
            st.sent = e.seq;
            if settled_status(&e) {
                st.settled_at = Some(e.seq);
            }
            return Some(Item::Event(sse_event(&e)));
        }
        // Backlog empty: catch up from the database first (replay, or after a lag or a gap).
        if st.catch_up && refill(st).await {
            continue;
        }
        if let Some(at) = st.settled_at
            && st.sent >= at
        {
            // Something may have happened after the settle (a retry): only end if the row agrees.
            match store::get(st.engine.db(), &st.id).await {
                Ok(Some(row)) if row.status().settled() && row.last_seq <= st.sent => {
                    return done_event(st).await;
                }
                Ok(Some(_)) => {
                    st.settled_at = None;
                    st.catch_up = true;
                    continue;
                }
                _ => return done_event(st).await,
            }
        }
        match st.rx.recv().await {
            Ok(live) => {
                let seq = live.event.seq;
                if seq <= st.sent {
                    continue;
                }
                if seq == st.sent + 1 {
                    st.sent = seq;
                    if live.status.is_some_and(|s| s.settled()) {
                        st.settled_at = Some(seq);
                    }
                    return Some(Item::Event(
                        SseEvent::default().id(seq.to_string()).data(live.json.clone()),
                    ));
                }
                // A gap (we subscribed late or missed some): read the range from the database.
                st.catch_up = true;
                continue;
            }
            Err(RecvError::Lagged(_)) => {
                st.catch_up = true;
                continue;
            }
            Err(RecvError::Closed) => return done_event(st).await,
        }
    }
}
