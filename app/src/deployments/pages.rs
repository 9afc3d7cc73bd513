//! Deployment pages (filled in below).
