//! Lazily loaded code, grouped: [`in_chunk!`] puts a function's code into a named wasm split module, and
//! several functions may share one module.
//!
//! Leptos' `#[lazy]` and `#[lazy_route]` give every function a split module of its own. wasm-split then puts
//! code that several modules share into one extra file per *set* of modules sharing it; with 21 modules that
//! was 438 wasm files, and wizard step 1 needed 174 of them. Over HTTP/1.1 each file costs the browser a few
//! milliseconds of queueing, so step 1 hydrated a second after its first paint although every byte had long
//! been served (BENCHMARKS.md → "Wizard step 1"). Grouping the pages a user visits together into one module
//! each keeps the sets few: fewer, larger files.
//!
//! On the server the function is an ordinary `async fn` that also has the browser fetch its module's files
//! while the page's own code starts ([`preload_module`]). (Leptos' own `prefetch_lazy_fn_on_server` looks the
//! manifest up outside the page's reactive owner; its links came and went between requests, and the wizard's
//! page had none.)

#[cfg(feature = "ssr")]
use std::collections::{HashMap, HashSet};
#[cfg(feature = "ssr")]
use std::sync::{Arc, Mutex, OnceLock};

/// The split modules this page has already preloaded (provided per render by [`App`](crate::App)).
#[cfg(feature = "ssr")]
#[derive(Clone, Default)]
pub struct Preloaded(Arc<Mutex<HashSet<&'static str>>>);

/// wasm-split's manifest: module name → the files (without `.wasm`) it needs, read once per site root.
/// `None` for a build without `--split` (nothing to preload).
#[cfg(feature = "ssr")]
type Manifest = HashMap<String, Vec<String>>;

#[cfg(feature = "ssr")]
fn manifest(options: &leptos::config::LeptosOptions) -> Option<Arc<Manifest>> {
    static MANIFESTS: OnceLock<Mutex<HashMap<std::path::PathBuf, Option<Arc<Manifest>>>>> = OnceLock::new();
    let path = std::path::Path::new(&*options.site_root)
        .join(&*options.site_pkg_dir)
        .join("__wasm_split_manifest.json");
    let mut cache = match MANIFESTS.get_or_init(Default::default).lock() {
        Ok(cache) => cache,
        Err(poisoned) => poisoned.into_inner(),
    };
    cache
        .entry(path)
        .or_insert_with_key(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            serde_json::from_str(&text).ok().map(Arc::new)
        })
        .clone()
}

/// Has the browser fetch the files of split module `module` for the page being rendered (once per page), and
/// adds a `modulepreload` of the split loader.
///
/// The files are not `<link rel="preload">`s in the HTML: two dozen wasm responses arriving while the browser
/// lays out the server-rendered page put its first paint back by 100–250 ms at 4× CPU throttling (BENCHMARKS.md
/// → "Wizard step 1"). A module script in the `<head>` adds those links instead. Module scripts run once the
/// document is parsed, as the hydration script does, so the files are still on their way before the page's code
/// asks for them, but after the page is painted.
#[cfg(feature = "ssr")]
pub fn preload_module(module: &'static str) {
    use leptos::prelude::*;
    use leptos_meta::{Link, Script};

    let (Some(options), Some(preloaded)) = (use_context::<LeptosOptions>(), use_context::<Preloaded>())
    else {
        return;
    };
    let Some(manifest) = manifest(&options) else {
        return;
    };
    let Some(files) = manifest.get(module) else {
        return;
    };
    let first_module = {
        let mut seen = match preloaded.0.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !seen.insert(module) {
            return;
        }
        seen.len() == 1
    };
    let pkg = format!("/{}", options.site_pkg_dir);
    // `to_html()` on a leptos_meta component registers it with the page's <head>.
    let script = preload_script(&pkg, files);
    let _ = view! { <Script type_="module">{script}</Script> }.to_html();
    if first_module {
        let _ = view! {
            <Link
                rel="modulepreload"
                href=format!("{pkg}/__wasm_split.______________________.js")
                crossorigin="anonymous"
            />
        }
        .to_html();
    }
}

/// The module script that preloads `files` (names without `.wasm`, as in wasm-split's manifest) from `pkg`.
/// The names are wasm-split's own (`chunk_12`, `split_wizard`): letters, digits and `_`, nothing that needs
/// escaping in a script; anything else is left out rather than written into one.
#[cfg(feature = "ssr")]
fn preload_script(pkg: &str, files: &[String]) -> String {
    let safe = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_/-.".contains(&b))
    };
    let list = files
        .iter()
        .filter(|f| safe(f))
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(",");
    let pkg = if safe(pkg) { pkg } else { "" };
    format!(
        "for(const f of[{list}]){{const l=document.createElement(\"link\");l.rel=\"preload\";l.as=\"fetch\";\
         l.type=\"application/wasm\";l.crossOrigin=\"anonymous\";l.href=\"{pkg}/\"+f+\".wasm\";document.head.append(l)}}"
    )
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::preload_script;

    #[test]
    fn the_preload_script_lists_the_files_and_nothing_else() {
        let files = vec![
            "chunk_3".to_string(),
            "split_wizard".to_string(),
            "x\"</script>".to_string(),
        ];
        let script = preload_script("/sovereign/pkg", &files);
        assert!(
            script.starts_with(r#"for(const f of["chunk_3","split_wizard"]){"#),
            "{script}"
        );
        assert!(
            script.contains(r#"l.href="/sovereign/pkg/"+f+".wasm""#),
            "{script}"
        );
        assert!(!script.contains("</script>"));
    }
}

/// Fetches the split module of the page at `path` (a full path, `/sovereign/users`) and waits until it is
/// here; does nothing for the overview, the 404 page or a path outside the console. A wizard step's own
/// module is [`crate::wizard::preload_step_of`]'s.
///
/// The frontend starts this as soon as the main module is instantiated, alongside the shell's hydration, so
/// the files the page's `<link rel="preload">`s announced are asked for at once rather than when hydration
/// reaches the route: a preload not used within a few seconds of the load event is a browser warning, and a
/// debug build hydrates the shell more slowly than that.
pub async fn load_module_of(path: &str) {
    use leptos_router::LazyRoute;

    match module_of(path) {
        Some("signin") => crate::auth::pages::routes::LoginRoute::preload().await,
        Some("console") => crate::deployments::routes::DeploymentsRoute::preload().await,
        Some("wizard") => crate::wizard::routes::WizardRoute::preload().await,
        _ => {}
    }
}

/// The split module (`in_chunk!`'s name) of the page at `path`, if it is a lazy route.
pub fn module_of(path: &str) -> Option<&'static str> {
    if crate::routes::is_public_root(path) {
        // The voucher landing page goes on to sign-up: it shares the sign-in pages' module.
        return Some("signin");
    }
    let rest = path.strip_prefix(crate::routes::BASE)?;
    let mut segments = rest.trim_start_matches('/').split('/');
    match (
        segments.next().unwrap_or_default(),
        segments.next().unwrap_or_default(),
    ) {
        ("login" | "signup" | "setup", _) => Some("signin"),
        ("deployments" | "provision" | "marketplace" | "users" | "audit" | "vouchers" | "billing", _)
        | ("settings", "account" | "tokens") => Some("console"),
        ("wizard", _) => Some("wizard"),
        _ => None,
    }
}

/// `in_chunk!(module, preload_fn, fn name(args) -> Output { body })` defines `async fn name(args) -> Output`
/// whose body is compiled into the wasm split module `module` (built with `cargo leptos build --split`), and
/// `async fn preload_fn()` that fetches that module without calling anything in it.
#[macro_export]
macro_rules! in_chunk {
    ($module:ident, $preload:ident, $(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        #[cfg(feature = "hydrate")]
        $(#[$meta])*
        #[::leptos::wasm_split::wasm_split(
            $module,
            wasm_split_path = ::leptos::wasm_split,
            preload(#[doc(hidden)] #[allow(dead_code)] $preload)
        )]
        $vis fn $name($($arg: $ty),*) -> $ret $body

        #[cfg(not(feature = "hydrate"))]
        $(#[$meta])*
        $vis async fn $name($($arg: $ty),*) -> $ret {
            #[cfg(feature = "ssr")]
            $crate::split::preload_module(stringify!($module));
            $body
        }

        #[cfg(not(feature = "hydrate"))]
        #[doc(hidden)]
        #[allow(dead_code)]
        $vis async fn $preload() {}
    };
}

/// A lazily loaded route whose view is built by `view_fn` (an [`in_chunk!`] function taking the route) and
/// whose code is fetched by `preload_fn`.
#[macro_export]
macro_rules! lazy_route_in {
    ($route:ty, $view_fn:ident, $preload:ident) => {
        impl ::leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(this: Self) -> ::leptos::prelude::AnyView {
                $view_fn(this).await
            }

            async fn preload() {
                $preload().await
            }
        }
    };
}

#[cfg(test)]
mod module_of_tests {
    use super::module_of;

    #[test]
    fn each_lazy_page_names_its_module_and_the_shell_pages_none() {
        for (path, module) in [
            ("/sovereign/login", Some("signin")),
            ("/sovereign/setup", Some("signin")),
            ("/sovereign/marketplace/product/cilium", Some("console")),
            ("/sovereign/provision/abc", Some("console")),
            ("/sovereign/provision/abc/flow", Some("console")),
            ("/sovereign/provision/abc/jobs", Some("console")),
            ("/sovereign/provision/abc/jobs/timeline", Some("console")),
            ("/sovereign/provision/abc/jobs/install-cilium", Some("console")),
            ("/sovereign/users", Some("console")),
            ("/sovereign/settings/tokens", Some("console")),
            ("/sovereign/wizard/topology", Some("wizard")),
            ("/sovereign/vouchers", Some("console")),
            ("/sovereign/vouchers/SPRING-2027", Some("console")),
            ("/sovereign/billing", Some("console")),
            ("/redeem", Some("signin")),
            ("/redeem/", Some("signin")),
            ("/redeemx", None),
            ("/sovereign", None),
            ("/sovereign/", None),
            ("/sovereign/settings/unknown", None),
            ("/sovereign/no-such-page", None),
            ("/users", None),
        ] {
            assert_eq!(module_of(path), module, "{path}");
        }
    }
}
