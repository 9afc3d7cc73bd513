//! The component catalog: blueprint schema (`types`), consistency checks (`check`), the dependency engine
//! (`engine`), server functions (`api`) and the marketplace UI (`components`, `pages`).

pub mod check;
pub mod engine;
pub mod types;

pub use check::{Problem, Sources};
pub use engine::{Catalog, Change, Explanation, Reason, Selection, join_names};
pub use types::*;
