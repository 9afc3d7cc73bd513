//! Talking to a Sovereign's Kubernetes API (kube-rs): the Flux HelmRelease watcher.

pub mod helmwatch;
