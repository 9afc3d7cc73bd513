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

/// Hands what the person typed, chose or pressed in the step's form before the page hydrated to the handlers
/// that are attached now: every control whose state differs from what the server rendered (its default
/// value, checked state or selected option) gets the event its handler listens to (`input` for text,
/// `change` for selects, checkboxes and radios), so the handler reads the control and edits the state as if
/// the person had just done it. Runs once the whole page has hydrated (handlers of late-hydrating parts are
/// attached then); the controls kept their values meanwhile ([`super::fields::live`]).
pub fn adopt_early_input() {
    #[cfg(feature = "hydrate")]
    {
        let sc = leptos::prelude::Owner::current_shared_context();
        adopt_once_hydrated(std::rc::Rc::new(move || {
            sc.as_ref().is_some_and(|sc| sc.during_hydration())
        }));
    }
}

#[cfg(feature = "hydrate")]
fn adopt_once_hydrated(hydrating: std::rc::Rc<dyn Fn() -> bool>) {
    {
        use js_sys::Reflect;
        use wasm_bindgen::{JsCast, JsValue};
        if hydrating() {
            leptos::prelude::set_timeout(
                move || adopt_once_hydrated(hydrating),
                std::time::Duration::from_millis(20),
            );
            return;
        }
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(controls) =
            doc.query_selector_all(".wizard-form input, .wizard-form select, .wizard-form textarea")
        else {
            return;
        };
        let get =
            |el: &JsValue, key: &str| Reflect::get(el, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        for i in 0..controls.length() {
            let Some(el) = controls.item(i) else { continue };
            let el: JsValue = el.into();
            let tag = get(&el, "tagName").as_string().unwrap_or_default();
            let kind = get(&el, "type").as_string().unwrap_or_default();
            let event = if tag == "SELECT" {
                let options = get(&el, "options");
                let n = get(&options, "length").as_f64().unwrap_or(0.0) as u32;
                let changed = (0..n).any(|j| {
                    let o = Reflect::get_u32(&options, j).unwrap_or(JsValue::UNDEFINED);
                    get(&o, "selected").as_bool() != get(&o, "defaultSelected").as_bool()
                });
                changed.then_some("change")
            } else if kind == "checkbox" || kind == "radio" {
                (get(&el, "checked").as_bool() != get(&el, "defaultChecked").as_bool()).then_some("change")
            } else {
                (get(&el, "value").as_string() != get(&el, "defaultValue").as_string()).then_some("input")
            };
            if let Some(name) = event {
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                if let (Ok(ev), Some(target)) = (
                    web_sys::Event::new_with_event_init_dict(name, &init),
                    el.dyn_ref::<web_sys::EventTarget>(),
                ) {
                    let _ = target.dispatch_event(&ev);
                }
            }
        }
    }
}
