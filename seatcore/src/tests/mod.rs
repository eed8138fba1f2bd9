//! In-crate tests of the real engine: loom models.
mod loom_models;
mod loom_summary;
