//! The voucher pages: the administrators' list and issue form, one voucher's history, and the public
//! landing page.

mod admin;
mod detail;
mod redeem;

pub use admin::VouchersPage;
pub use detail::VoucherPage;
pub use redeem::RedeemPage;
