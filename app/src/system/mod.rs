//! The console's own health: which database it runs on, its schema, how quickly it answers.

pub mod api;
pub mod types;

pub use api::*;
pub use types::*;
