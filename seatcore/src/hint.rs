//! Where a thread starts searching: a per-thread hint, as in Linux's sbitmap.
//!
//! If every searcher started at seat 0, all of them would fight over the
//! first word with free seats. Each thread instead starts where its last
//! search ended (where free seats are likely left), and a new thread starts
//! at a place derived from its thread id. The hint is a plain `Cell` in a
//! thread-local: it is never shared, so it costs no atomic operation, and it
//! is only a starting point, so a stale or foreign value is harmless (it is
//! taken modulo the map's size).

use std::cell::Cell;
use std::hash::{Hash, Hasher};

thread_local! {
    /// The seat this thread's next search starts from, scaled to 64-bit
    /// range so it fits maps of every size.
    static NEXT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The seat at which this thread's next search should start, for a map of
/// `capacity` seats.
pub(crate) fn start_seat(capacity: u64) -> u64 {
    NEXT.with(|next| next.get().unwrap_or_else(thread_seed)) % capacity
}

/// Records where this thread's last search ended.
pub(crate) fn remember(seat: u64) {
    NEXT.with(|next| next.set(Some(seat)));
}

/// A start derived from the current thread's id: spread, stable per thread.
fn thread_seed() -> u64 {
    // DefaultHasher::new() uses fixed keys: no randomness, no global state.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_thread() {
        remember(1234);
        assert_eq!(start_seat(1_000_000), 1234);
        assert_eq!(start_seat(1000), 234);
        let other = std::thread::spawn(|| {
            remember(7);
            start_seat(100)
        })
        .join()
        .unwrap();
        assert_eq!(other, 7);
        assert_eq!(start_seat(1_000_000), 1234);
    }

    #[test]
    fn start_is_always_on_the_map() {
        let seat = std::thread::spawn(|| start_seat(3)).join().unwrap();
        assert!(seat < 3);
    }
}
