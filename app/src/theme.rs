//! Dark (default) and light theme. The choice lives in a cookie so the server renders `<html data-theme>`
//! correctly on the first byte: no flash, and the hydrated toggle starts from the same value as the HTML.

use crate::wire::Postcard;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const THEME_COOKIE: &str = "catalyst_theme";
const ONE_YEAR_SECS: u32 = 365 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    Dark,
    Light,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Dark => "dark",
            Theme::Light => "light",
        }
    }

    pub fn parse(s: &str) -> Option<Theme> {
        match s {
            "dark" => Some(Theme::Dark),
            "light" => Some(Theme::Light),
            _ => None,
        }
    }

    pub fn toggled(self) -> Theme {
        match self {
            Theme::Dark => Theme::Light,
            Theme::Light => Theme::Dark,
        }
    }

    /// The `Set-Cookie` / `document.cookie` value that remembers this theme.
    pub fn cookie(self) -> String {
        format!(
            "{THEME_COOKIE}={}; Path={}; Max-Age={ONE_YEAR_SECS}; SameSite=Lax",
            self.as_str(),
            crate::routes::BASE
        )
    }

    /// [`Self::cookie`] as the browser writes it itself: under https with the `__Secure-` prefix and `Secure`,
    /// as the server's cookie layer turns the server's own `Set-Cookie` into.
    pub fn cookie_for(self, https: bool) -> String {
        if https {
            format!("__Secure-{}; Secure", self.cookie())
        } else {
            self.cookie()
        }
    }

    /// Reads the theme from a `Cookie` header value.
    pub fn from_cookie_header(header: &str) -> Theme {
        header
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == THEME_COOKIE)
            .and_then(|(_, v)| Theme::parse(v.trim()))
            .unwrap_or_default()
    }
}

/// The theme the page is rendered with: from the request cookie on the server, from `<html data-theme>`
/// in the browser (which the server wrote from that same cookie).
pub fn current_theme() -> Theme {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .map(Theme::from_cookie_header)
            })
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("data-theme"))
            .and_then(|t| Theme::parse(&t))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Theme::default()
    }
}

/// Remembers the theme for browsers without JavaScript (the toggle is a plain form that posts here).
// Postcard answer: the shell decodes it in the main wasm module (`crate::wire`).
#[server(output = Postcard)]
pub async fn set_theme(theme: String) -> Result<(), AppError> {
    let theme =
        Theme::parse(&theme).ok_or_else(|| AppError::invalid("theme", "Choose “dark” or “light”."))?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    if let Ok(value) = http::HeaderValue::from_str(&theme.cookie()) {
        response.append_header(http::header::SET_COOKIE, value);
    }
    Ok(())
}

/// The header's theme switch. With JavaScript it flips `data-theme` at once and stores the cookie
/// locally; without JavaScript it posts to [`set_theme`] and the server redirects back.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(current_theme());
    let next = move || theme.get().toggled();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = theme.get_untracked().toggled();
        theme.set(new);
        apply_in_browser(new);
    };
    view! {
        <form method="post" action=SetTheme::url() on:submit=on_submit class="contents">
            <input
                type="hidden"
                name="theme"
                prop:value=move || next().as_str()
                value=theme.get_untracked().toggled().as_str()
            />
            <button
                type="submit"
                class="btn-icon"
                data-testid="theme-toggle"
                title=move || format!("Switch to {} theme", next().as_str())
            >
                <span class="sr-only">{move || format!("Switch to {} theme", next().as_str())}</span>
                // Both icons are rendered; CSS shows the one for the current theme, so markup never differs.
                <svg class="icon-moon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <path fill="currentColor" d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
                </svg>
                <svg class="icon-sun" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <circle cx="12" cy="12" r="4.5" fill="currentColor" />
                    <g stroke="currentColor" stroke-width="2" stroke-linecap="round">
                        <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
                    </g>
                </svg>
            </button>
        </form>
    }
}

#[allow(unused_variables)]
fn apply_in_browser(theme: Theme) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Some(root) = document.document_element() {
            let _ = root.set_attribute("data-theme", theme.as_str());
        }
        // Under https the server accepts only `__Secure-` cookies (server::http::headers), as it writes them.
        let https = web_sys::window()
            .and_then(|w| w.location().protocol().ok())
            .is_some_and(|p| p == "https:");
        if let Ok(html) = document.dyn_into::<web_sys::HtmlDocument>() {
            let _ = html.set_cookie(&theme.cookie_for(https));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_round_trip() {
        assert_eq!(
            Theme::from_cookie_header("a=1; catalyst_theme=light; b=2"),
            Theme::Light
        );
        assert_eq!(Theme::from_cookie_header("catalyst_theme=dark"), Theme::Dark);
        assert_eq!(Theme::from_cookie_header("catalyst_theme=purple"), Theme::Dark);
        assert_eq!(Theme::from_cookie_header(""), Theme::Dark);
        assert!(
            Theme::Light
                .cookie()
                .starts_with("catalyst_theme=light; Path=/sovereign;")
        );
        let secure = Theme::Light.cookie_for(true);
        assert!(
            secure.starts_with("__Secure-catalyst_theme=light; Path=/sovereign;"),
            "{secure}"
        );
        assert!(secure.ends_with("; Secure"), "{secure}");
        assert_eq!(Theme::Dark.cookie_for(false), Theme::Dark.cookie());
    }
}
