//! The browser side of the flow page: the deployment's event stream (the browser resumes by
//! `Last-Event-ID` after a drop) updates the jobs; a status change reads them again.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::Job;
use crate::deployments::types::DeploymentEvent;

pub fn follow(url: &str, id: String, jobs: RwSignal<Vec<Job>>) {
    let Ok(source) = web_sys::EventSource::new(url) else {
        return;
    };
    let refresh = move || {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = super::api::list_jobs(id).await {
                jobs.set(fresh);
            }
        });
    };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
        let Some(text) = m.data().as_string() else { return };
        let Ok(event) = serde_json::from_str::<DeploymentEvent>(&text) else {
            return;
        };
        let mut again = false;
        jobs.update(|j| again = super::page::apply_event(j, &event));
        if again {
            refresh();
        }
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let done_source = source.clone();
    let on_done = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| done_source.close());
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
