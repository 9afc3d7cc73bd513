//! Lazily loaded code, grouped: [`in_chunk!`] puts a function's code into a named wasm split module, and
//! several functions may share one module.
//!
//! Leptos' `#[lazy]` and `#[lazy_route]` give every function a split module of its own. wasm-split then puts
//! code that several modules share into one extra file per *set* of modules sharing it; with 21 modules that
//! was 416 files, and wizard step 1 needed 174 of them. Over HTTP/1.1 each file costs the browser a few
//! milliseconds of queueing, so step 1 hydrated a second after its first paint although every byte had long
//! been served (BENCHMARKS.md → "Wizard step 1"). Grouping the pages a user visits together into one module
//! each keeps the sets few: fewer, larger files.
//!
//! On the server the function is an ordinary `async fn` that also asks the page for a `<link rel="preload">`
//! of its module's files (exactly what `#[lazy]` does), so the browser fetches them with the HTML.

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
            ::leptos::prefetch_lazy_fn_on_server(stringify!($module));
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
