//! An organisation's credit: the balance, the append-only ledger, orders, what a launch costs against the
//! credit, and the billing page. Money is integer cents ([`money`]).

pub mod api;
pub mod money;
pub mod pages;
pub mod routes;
pub mod types;

pub use money::*;
pub use types::*;
