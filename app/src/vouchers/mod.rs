//! Franchise vouchers: codes that give an organisation credit once. Administrators issue, list, switch and
//! revoke them (`/sovereign/vouchers`); anyone may preview a code on the public landing page
//! `/redeem?code=…` and sign up with it.

pub mod api;
pub mod pages;
pub mod routes;
pub mod types;
pub mod validate;

pub use types::*;
