//! The hydrate entry point: attaches the wasm app to the server-rendered HTML.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous hydration: a lazily loaded route (its own wasm chunk) is fetched before the page
    // under it hydrates.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        // A wizard step's code is a chunk of its own; the step can only hydrate once it is here.
        if let Ok(path) = web_sys::window()
            .map(|w| w.location().pathname())
            .unwrap_or(Ok(String::new()))
        {
            app::wizard::preload_step_of(&path).await;
        }
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // A marker tests and benchmarks wait for: inputs are live from here on.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
