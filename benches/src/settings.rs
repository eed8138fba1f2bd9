//! [`short_runs`]: the criterion settings every bench file uses.

use std::time::Duration;

use criterion::Criterion;

/// Short runs (20 samples, 1 s warm-up, 2 s measurement, no plots): each
/// bench file takes a few minutes on two cores.
#[must_use]
pub fn short_runs() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .without_plots()
}
