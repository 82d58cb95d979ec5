//! Calibration: reliability bins and expected calibration error.

use serde::{Deserialize, Serialize};

/// One equal-width bin of predicted probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Lower edge (inclusive).
    pub lo: f64,
    /// Upper edge (exclusive; the last bin includes 1).
    pub hi: f64,
    /// Predictions in the bin.
    pub count: usize,
    /// Mean predicted probability (0 when empty).
    pub confidence: f64,
    /// Share of gold positives (0 when empty).
    pub observed: f64,
}

/// A reliability diagram and its ECE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Equal-width bins over [0, 1].
    pub bins: Vec<Bin>,
    /// Σ (nᵦ/N)·|observedᵦ − confidenceᵦ|; 0 when there are no predictions.
    pub ece: f64,
    /// Predictions counted.
    pub count: usize,
}

/// Bin probabilities (clamped to [0, 1]; NaN counts as 0) against gold outcomes.
pub fn calibration(probs: &[f32], gold: &[bool], n_bins: usize) -> Calibration {
    let n_bins = n_bins.max(1);
    let mut sum_p = vec![0.0f64; n_bins];
    let mut pos = vec![0usize; n_bins];
    let mut cnt = vec![0usize; n_bins];
    for (&p, &g) in probs.iter().zip(gold) {
        let p = if p.is_nan() {
            0.0
        } else {
            f64::from(p).clamp(0.0, 1.0)
        };
        let b = ((p * n_bins as f64) as usize).min(n_bins - 1);
        sum_p[b] += p;
        cnt[b] += 1;
        pos[b] += usize::from(g);
    }
    let total: usize = cnt.iter().sum();
    let mut ece = 0.0;
    let bins = (0..n_bins)
        .map(|b| {
            let (confidence, observed) = if cnt[b] == 0 {
                (0.0, 0.0)
            } else {
                (sum_p[b] / cnt[b] as f64, pos[b] as f64 / cnt[b] as f64)
            };
            if total > 0 {
                ece += cnt[b] as f64 / total as f64 * (observed - confidence).abs();
            }
            Bin {
                lo: b as f64 / n_bins as f64,
                hi: (b + 1) as f64 / n_bins as f64,
                count: cnt[b],
                confidence,
                observed,
            }
        })
        .collect();
    Calibration {
        bins,
        ece,
        count: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ece_by_hand() {
        // Bin [0.0,0.5): 0.2, 0.4 → conf 0.3, observed 0.5. Bin [0.5,1]: 0.8, 1.0 → conf 0.9, obs 1.
        let c = calibration(&[0.2, 0.4, 0.8, 1.0], &[true, false, true, true], 2);
        assert_eq!(c.bins[0].count, 2);
        assert_eq!(c.bins[1].count, 2);
        assert!((c.bins[0].confidence - 0.3).abs() < 1e-6);
        assert!((c.bins[1].observed - 1.0).abs() < 1e-12);
        assert!((c.ece - (0.5 * 0.2 + 0.5 * 0.1)).abs() < 1e-6);
    }

    #[test]
    fn empty_input_and_empty_bins_are_zero() {
        let c = calibration(&[], &[], 10);
        assert_eq!((c.count, c.ece), (0, 0.0));
        assert_eq!(c.bins.len(), 10);
        let p = calibration(&[f32::NAN, 0.05], &[false, false], 10);
        assert_eq!(p.bins[0].count, 2);
        assert_eq!(p.bins[5].count, 0);
        assert!((p.ece - 0.025).abs() < 1e-6);
    }
}
