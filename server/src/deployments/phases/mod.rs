//! The steps of a run, one file per phase; `run` picks the one the deployment's status owes, and what they
//! share is `super::step`. In a deployment's order: `gitops` and `infrastructure` (provisioning: the Flux tree,
//! then OpenTofu), `dns` (the name reserved when provisioning starts, its records after OpenTofu's outputs),
//! `cluster` (waiting for the kubeconfig), `install` (Flux installing the components); `wipe` tears it all
//! down, the DNS names included.

pub mod cluster;
pub mod dns;
pub mod gitops;
pub mod infrastructure;
pub mod install;
pub(crate) mod unavailable;
pub mod wipe;
