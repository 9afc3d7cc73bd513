//! The server's integration tests, in one test binary: one link instead of one per file (each was ~250–400 MB
//! of debug binary, and the cold CI build spent most of its disk and link time on them). Run one area with
//! `cargo test -p server --test it <module>::`, e.g. `cargo test -p server --test it store::`.

#[macro_use]
mod common;

mod at_rest;
mod auth_http;
mod bootstrap_kit;
mod catalog;
mod configuration;
mod contract_samples;
mod deployments_http;
mod deployments_store;
mod dns_pool;
mod dns_run;
mod domain_holds;
mod engine;
mod forge_engine;
mod forge_repos;
mod gitops_publish;
mod headers;
mod hetzner_sweep;
mod hostile;
mod http;
mod infra_contract;
mod infra_schema;
mod jobs_store;
mod kubeconfig;
mod limits;
mod metrics;
mod migrations;
mod pdns;
mod preflight;
mod restart;
mod revocation;
mod roles;
mod sso;
mod store;
mod store_auth;
mod tofu_standin;
mod vouchers;
mod wizard;
