//! Paged lists, the same shape everywhere in the API and the UI.

use serde::{Deserialize, Serialize};

/// One page of a longer list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items matching the query across all pages.
    pub total: i64,
    /// 1-based page number.
    pub page: i64,
    #[serde(rename = "perPage")]
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        if self.per_page <= 0 {
            1
        } else {
            ((self.total + self.per_page - 1) / self.per_page).max(1)
        }
    }
}

/// A page request with safe bounds: page ≥ 1, 1 ≤ per_page ≤ `MAX_PER_PAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub page: i64,
    #[serde(rename = "perPage")]
    pub per_page: i64,
}

pub const MAX_PER_PAGE: i64 = 200;
pub const DEFAULT_PER_PAGE: i64 = 50;

impl PageRequest {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE),
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_requests() {
        let r = PageRequest::new(Some(0), Some(10_000));
        assert_eq!((r.page, r.per_page, r.offset()), (1, MAX_PER_PAGE, 0));
        let r = PageRequest::new(Some(3), Some(20));
        assert_eq!(r.offset(), 40);
        let p = Page::<u8> {
            items: vec![],
            total: 41,
            page: 1,
            per_page: 20,
        };
        assert_eq!(p.pages(), 3);
    }
}
