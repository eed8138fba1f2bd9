//! The spare descriptor the poller holds for the moment `accept` fails for
//! want of descriptors (see `accept.rs`): closing it frees one, so the
//! client can still be accepted and told `ERR busy`.

use std::fs::File;

/// One open descriptor (`/dev/null`), or none while it is lent out.
#[derive(Debug)]
pub(crate) struct Spare(pub(super) Option<File>);

impl Spare {
    /// Opens the spare; `None` inside if even that fails (then a client
    /// over the descriptor limit waits in the backlog instead).
    pub(crate) fn open() -> Self {
        Spare(File::open("/dev/null").ok())
    }
}
