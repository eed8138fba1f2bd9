//! In-crate tests of the real engine: loom models, by topic.
//!
//! `loom_support` holds the loom word, the runner and every call into the
//! raw engine; the models call only those adapters.
mod loom_exclusivity;
mod loom_interactions;
mod loom_orderings;
mod loom_summary;
mod loom_support;
