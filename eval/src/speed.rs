//! Speed of a system on the run's data: one text per call (latency percentiles) and batches
//! (throughput). Measured in the run, never asserted in tests.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::bootstrap::percentile;
use crate::error::Result;
use crate::system::Scorer;

/// Measured speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Speed {
    /// Texts timed one per call.
    pub texts: usize,
    /// Texts per second scoring one text per call.
    pub single_texts_per_s: f64,
    /// Texts per second in batches of `batch`.
    pub batch_texts_per_s: f64,
    /// Batch size of the throughput run.
    pub batch: usize,
    /// Median latency of one call, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest call, ms.
    pub max_ms: f64,
}

/// Time `system` on `texts` (at most `limit` of them).
pub fn measure(system: &dyn Scorer, texts: &[&str], limit: usize, batch: usize) -> Result<Speed> {
    let texts = &texts[..texts.len().min(limit)];
    let batch = batch.max(1);
    let mut lat = Vec::with_capacity(texts.len());
    let t0 = Instant::now();
    for t in texts {
        let t1 = Instant::now();
        system.run(std::slice::from_ref(t))?;
        lat.push(t1.elapsed().as_secs_f64() * 1e3);
    }
    let single = t0.elapsed().as_secs_f64();
    let t2 = Instant::now();
    for chunk in texts.chunks(batch) {
        system.run(chunk)?;
    }
    let batched = t2.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let rate = |secs: f64| {
        if secs > 0.0 {
            texts.len() as f64 / secs
        } else {
            0.0
        }
    };
    Ok(Speed {
        texts: texts.len(),
        single_texts_per_s: rate(single),
        batch_texts_per_s: rate(batched),
        batch,
        p50_ms: percentile(&lat, 0.5),
        p90_ms: percentile(&lat, 0.9),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().copied().unwrap_or(0.0),
    })
}
