//! The component catalog: blueprint schema (`types`), consistency checks (`check`), the dependency engine
//! (`engine`), server functions (`api`) and the marketplace UI (`components`, `pages`).

pub mod api;
pub mod check;
pub mod components;
pub mod engine;
pub mod pages;
pub mod types;

pub use api::*;
pub use check::{Problem, Sources};
pub use components::ComponentGrid;
pub use engine::{Catalog, Change, Explanation, Reason, Selection, join_names};
pub use types::*;
