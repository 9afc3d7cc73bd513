//! The few things the wizard asks of the browser directly: focus, clipboard, clicking a download link.
//! On the server these do nothing (they only run from event handlers).

#[cfg(feature = "hydrate")]
fn element(id: &str) -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

/// Moves the keyboard focus to the input of `field` and brings it into view.
pub fn focus_field(field: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = element(&super::ids::field_id(field)) {
        let _ = el.focus();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = field;
}

/// Focus after the next render (the field may be on a page that is about to appear).
pub fn focus_field_later(field: &str) {
    let field = field.to_string();
    leptos::prelude::set_timeout(move || focus_field(&field), std::time::Duration::from_millis(60));
}

pub fn copy_text(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

pub fn click(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = element(id) {
        el.click();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// `data:` URL of a text file, for a download link that never leaves the browser.
pub fn data_url(mime: &str, text: &str) -> String {
    let mut out = format!("data:{mime};charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~ ".contains(&b) {
            if b == b' ' {
                out.push_str("%20");
            } else {
                out.push(b as char);
            }
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A full page load of `url` (after "Start over": every in-memory value of the run goes away).
pub fn load(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}
