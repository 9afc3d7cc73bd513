//! The browser side of the live stream: an `EventSource` on the deployment's SSE endpoint. The browser
//! reconnects by itself and sends `Last-Event-ID`; lines are also de-duplicated by `seq` here, so a
//! reconnect can never show a line twice.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::progress::{Link, apply_event};
use crate::deployments::types::{Deployment, DeploymentEvent, EventKind};
use crate::time::Millis;

/// Lines kept in the page; older ones scroll out (the API pages through everything).
const MAX_LINES: usize = 5_000;

pub fn follow(
    url: &str,
    deployment: RwSignal<Deployment>,
    events: RwSignal<Vec<DeploymentEvent>>,
    link: RwSignal<Link>,
    now: RwSignal<Millis>,
) {
    let Ok(source) = web_sys::EventSource::new(url) else {
        link.set(Link::Reconnecting);
        return;
    };
    let tick = |now: RwSignal<Millis>| now.set(js_sys::Date::now() as Millis);
    tick(now);
    set_interval(move || tick(now), std::time::Duration::from_secs(1));

    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
        let Some(text) = m.data().as_string() else { return };
        let Ok(event) = serde_json::from_str::<DeploymentEvent>(&text) else {
            return;
        };
        // Lines arrive in seq order; anything at or below the newest line shown is a repeat.
        if events.with_untracked(|e| e.last().is_some_and(|last| event.seq <= last.seq)) {
            return;
        }
        let refresh = event.kind == EventKind::Status;
        deployment.update(|d| apply_event(d, &event));
        events.update(|e| {
            e.push(event);
            if e.len() > MAX_LINES {
                let extra = e.len() - MAX_LINES;
                e.drain(..extra);
            }
        });
        if refresh {
            // A status change brings results (outputs, errors) the event does not carry.
            let id = deployment.with_untracked(|d| d.id.clone());
            leptos::task::spawn_local(async move {
                if let Ok(d) = crate::deployments::api::get_deployment(id).await {
                    deployment.update(|cur| {
                        if d.last_seq >= cur.last_seq {
                            *cur = d;
                        }
                    });
                }
            });
        }
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();

    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| link.set(Link::Live));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();

    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if link.get_untracked() != Link::Finished {
            link.set(Link::Reconnecting);
        }
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();

    let done_source = source.clone();
    let on_done = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
        done_source.close();
        link.set(Link::Finished);
        if let Some(text) = m.data().as_string()
            && let Ok(d) = serde_json::from_str::<Deployment>(&text)
        {
            deployment.set(d);
        }
    });
    let _ = source.add_event_listener_with_callback("done", on_done.as_ref().unchecked_ref());
    on_done.forget();

    let stored = StoredValue::new_local(Some(source));
    on_cleanup(move || {
        stored.update_value(|s| {
            if let Some(s) = s.take() {
                s.close();
            }
        });
    });
}
