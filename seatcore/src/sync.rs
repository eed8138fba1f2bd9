//! The one door through which every atomic enters the crate.
//!
//! The engine is written once, generic over [`AtomicWord`]. The public
//! [`SeatMap`](crate::SeatMap) fixes the word to `std::sync::atomic::AtomicU64`,
//! so release builds compile to plain atomic instructions (every method below is
//! `#[inline(always)]` and forwards one call). The crate's own tests implement
//! the trait for `loom::sync::atomic::AtomicU64` and run the *same* engine code
//! under loom's model checker, with no special `RUSTFLAGS` and no `cfg(loom)`:
//! plain `cargo test` does the model checking.
//!
//! Only the operations the engine needs are here; each call site says which
//! ordering it uses and why that is enough.

/// The std word, for the one atomic outside the engine (the map id counter)
/// and for `SeatMap`.
pub(crate) use std::sync::atomic::AtomicU64 as StdAtomicU64;
pub(crate) use std::sync::atomic::Ordering;

/// A 64-bit word that can be read and modified atomically.
///
/// Implemented for `std::sync::atomic::AtomicU64` here, and for loom's
/// `AtomicU64` in the crate's tests.
pub(crate) trait AtomicWord: Send + Sync {
    /// A new word holding `value`.
    fn new(value: u64) -> Self;
    /// `AtomicU64::load`.
    fn load(&self, order: Ordering) -> u64;
    /// `AtomicU64::fetch_or`: sets bits, returns the word before.
    fn fetch_or(&self, bits: u64, order: Ordering) -> u64;
    /// `AtomicU64::fetch_and`: keeps bits, returns the word before.
    fn fetch_and(&self, bits: u64, order: Ordering) -> u64;
    /// `AtomicU64::compare_exchange`.
    fn compare_exchange(
        &self,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64>;
    /// Overwrites the word through exclusive access: no atomic operation.
    fn set_exclusive(&mut self, value: u64);
    /// Reads the word through exclusive access: no atomic operation.
    fn get_exclusive(&mut self) -> u64;
}

impl AtomicWord for std::sync::atomic::AtomicU64 {
    #[inline(always)]
    fn new(value: u64) -> Self {
        std::sync::atomic::AtomicU64::new(value)
    }
    #[inline(always)]
    fn load(&self, order: Ordering) -> u64 {
        std::sync::atomic::AtomicU64::load(self, order)
    }
    #[inline(always)]
    fn fetch_or(&self, bits: u64, order: Ordering) -> u64 {
        std::sync::atomic::AtomicU64::fetch_or(self, bits, order)
    }
    #[inline(always)]
    fn fetch_and(&self, bits: u64, order: Ordering) -> u64 {
        std::sync::atomic::AtomicU64::fetch_and(self, bits, order)
    }
    #[inline(always)]
    fn compare_exchange(
        &self,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64> {
        std::sync::atomic::AtomicU64::compare_exchange(self, current, new, success, failure)
    }
    #[inline(always)]
    fn set_exclusive(&mut self, value: u64) {
        *std::sync::atomic::AtomicU64::get_mut(self) = value;
    }
    #[inline(always)]
    fn get_exclusive(&mut self) -> u64 {
        *std::sync::atomic::AtomicU64::get_mut(self)
    }
}
