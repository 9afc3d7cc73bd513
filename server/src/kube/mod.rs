//! Talking to a Sovereign's Kubernetes API (kube-rs): the strict kubeconfig rules (`kubeconfig`) and the Flux
//! HelmRelease watcher (`helmwatch`).

pub mod helmwatch;
pub mod kubeconfig;
