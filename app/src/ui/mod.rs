//! Shared UI: the page frame, status pages, and small building blocks.

pub mod error_view;
pub mod forms;
pub mod layout;
pub mod not_found;
pub mod table;

pub use error_view::{ErrorList, ErrorView};
pub use forms::NoInputForm;
pub use layout::Layout;
pub use not_found::NotFound;
pub use table::TableRegion;
