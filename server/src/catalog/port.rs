//! `CatalogPort`: the catalog loaded and validated at start (see `super::load`).

use std::sync::Arc;

use app::catalog::Catalog;
use app::ports::CatalogPort;

use super::load::CatalogStore;

pub struct CatalogService {
    pub store: Arc<CatalogStore>,
}

impl CatalogPort for CatalogService {
    fn catalog(&self) -> Arc<Catalog> {
        self.store.engine.clone()
    }
}
