//! Precision-recall curves, average precision and threshold sweeps.

use qingwang_model::metrics::Prf;
use serde::{Deserialize, Serialize};

/// One point of a precision-recall curve: everything scoring at least `threshold` is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    /// Score cut-off.
    pub threshold: f64,
    /// Precision at the cut-off.
    pub precision: f64,
    /// Recall at the cut-off.
    pub recall: f64,
}

/// The PR curve, one point per distinct score, highest threshold first. Tied scores enter
/// together (a cut-off cannot separate them). Empty when there is no gold positive.
pub fn pr_curve(scores: &[f32], gold: &[bool]) -> Vec<PrPoint> {
    let positives = gold.iter().filter(|g| **g).count();
    if positives == 0 {
        return vec![];
    }
    let mut order: Vec<usize> = (0..scores.len().min(gold.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if gold[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        out.push(PrPoint {
            threshold: f64::from(s),
            precision: tp as f64 / (tp + fp) as f64,
            recall: tp as f64 / positives as f64,
        });
    }
    out
}

/// Average precision: Σ (Rₖ − Rₖ₋₁)·Pₖ over the curve. `None` for an empty curve.
pub fn average_precision(curve: &[PrPoint]) -> Option<f64> {
    if curve.is_empty() {
        return None;
    }
    let mut prev = 0.0;
    let mut ap = 0.0;
    for p in curve {
        ap += (p.recall - prev) * p.precision;
        prev = p.recall;
    }
    Some(ap)
}

/// P/R/F1 at one threshold of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Cut-off (score ≥ threshold is flagged).
    pub threshold: f64,
    /// Figures at it.
    pub prf: Prf,
}

/// The sweep grid: 0.05, 0.10, …, 0.95.
pub fn sweep_grid() -> Vec<f32> {
    (1..=19).map(|k| k as f32 * 0.05).collect()
}

/// P/R/F1 at each threshold of `grid`.
pub fn threshold_sweep(scores: &[f32], gold: &[bool], grid: &[f32]) -> Vec<SweepPoint> {
    grid.iter()
        .map(|&t| SweepPoint {
            threshold: f64::from(t),
            prf: Prf::from_pairs(scores.iter().zip(gold).map(|(&s, &g)| (g, s >= t))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn pr_curve_groups_ties_and_ap_by_hand() {
        let c = pr_curve(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]);
        assert_eq!(c.len(), 3);
        assert!(close(c[0].precision, 1.0) && close(c[0].recall, 0.5));
        // The tie at 0.5 enters as one step: 2 of 3 flagged are right, all positives found.
        assert!(close(c[1].precision, 2.0 / 3.0) && close(c[1].recall, 1.0));
        assert!(close(c[2].precision, 0.5) && close(c[2].recall, 1.0));
        assert!(close(average_precision(&c).unwrap(), 0.5 + 0.5 * 2.0 / 3.0));
    }

    #[test]
    fn empty_class_has_no_curve_and_all_ties_is_one_point() {
        assert!(pr_curve(&[0.3, 0.2], &[false, false]).is_empty());
        assert_eq!(average_precision(&[]), None);
        let c = pr_curve(&[0.4, 0.4, 0.4], &[true, false, false]);
        assert_eq!(c.len(), 1);
        assert!(close(c[0].precision, 1.0 / 3.0) && close(c[0].recall, 1.0));
    }

    #[test]
    fn sweep_counts_scores_equal_to_the_threshold_as_flagged() {
        let s = threshold_sweep(&[0.5, 0.2, 0.7], &[true, false, false], &[0.5, 0.8]);
        assert_eq!((s[0].prf.tp, s[0].prf.fp, s[0].prf.fn_), (1, 1, 0));
        assert_eq!((s[1].prf.tp, s[1].prf.fp, s[1].prf.fn_), (0, 0, 1));
        assert_eq!(sweep_grid().len(), 19);
    }
}
