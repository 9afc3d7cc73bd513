//! The hydrate entry point: attaches the wasm app to the server-rendered HTML.

use wasm_bindgen::prelude::wasm_bindgen;

/// Room for wasm-split to move constant data (strings, tables) into the split modules that use it.
///
/// wasm-split lays each module's data out anew, and data that LLVM merged or overlapped once comes out a
/// few dozen bytes longer. When the new layout is longer than the input segment by even one byte, wasm-split
/// keeps *all* constant data in the main module ("Overlong segment 0 … putting it in main module"): every
/// page's strings were then in the shell's wasm. This block is in the input segment but referenced by no
/// code, so no module keeps it, and its bytes are the slack the layout needs (it used 39 bytes at the time).
#[used]
static DATA_SLACK: [u8; 4096] = [0x5a; 4096];

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
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        // The page's split module: fetched now, while the shell hydrates, not when hydration reaches the route.
        wasm_bindgen_futures::spawn_local({
            let path = path.clone();
            async move { app::split::load_module_of(&path).await }
        });
        // A wizard step's code is a chunk of its own; the step can only hydrate once it is here.
        app::wizard::preload_step_of(&path).await;
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // A marker tests and benchmarks wait for: inputs are live from here on.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
