//! Placeholder: the TCP front-end lands with its own issue.
