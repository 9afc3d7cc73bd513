//! The component catalog (`platform/` by default): read and checked at start (`load`), served to server
//! functions through `CatalogPort` (`port`) and to automation as `GET /sovereign/api/v1/catalog` (`http`).
//! The dependency engine itself is `app::catalog`, shared with the browser.

pub mod http;
pub mod load;
pub mod port;

pub use load::{CatalogProblems, CatalogStore, document, load, read};
pub use port::CatalogService;
