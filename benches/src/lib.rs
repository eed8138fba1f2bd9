//! Baselines that the benchmarks compare seatcore against.
