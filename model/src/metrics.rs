//! Quality figures: binary violation P/R/F1, per-label P/R/F1, micro and macro averages, the
//! false-positive rate on hard negatives, product accuracy, and threshold selection. The full
//! evaluation report (curves, calibration, intervals) lives in the eval crate and builds on these.

use std::collections::BTreeMap;

use qingwang_datasets::{Example, Kind, Taxonomy};
use serde::{Deserialize, Serialize};

/// Precision, recall, F1 and support of one decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    /// tp / (tp + fp); 0 when nothing was predicted.
    pub precision: f64,
    /// tp / (tp + fn); 0 when there is nothing to find.
    pub recall: f64,
    /// Harmonic mean; 0 when both are 0.
    pub f1: f64,
    /// Gold positives.
    pub support: usize,
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    pub fn_: usize,
}

impl Prf {
    /// From counts.
    pub fn from_counts(tp: usize, fp: usize, fn_: usize) -> Self {
        let p = if tp + fp == 0 {
            0.0
        } else {
            tp as f64 / (tp + fp) as f64
        };
        let r = if tp + fn_ == 0 {
            0.0
        } else {
            tp as f64 / (tp + fn_) as f64
        };
        let f1 = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        Self {
            precision: p,
            recall: r,
            f1,
            support: tp + fn_,
            tp,
            fp,
            fn_,
        }
    }

    /// From (gold, predicted) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (bool, bool)>) -> Self {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for (g, p) in pairs {
            match (g, p) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                _ => {}
            }
        }
        Self::from_counts(tp, fp, fn_)
    }
}

/// What a system said about one example.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemOutput {
    /// Flagged labels (taxonomy order).
    pub flags: Vec<bool>,
    /// Predicted product id.
    pub product: Option<String>,
}

/// The headline figures of one system on one data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Examples scored.
    pub examples: usize,
    /// Violation (any label) vs none.
    pub binary: Prf,
    /// Accuracy of the binary decision.
    pub binary_accuracy: f64,
    /// Per label.
    pub per_label: BTreeMap<String, Prf>,
    /// Mean F1 over labels with support > 0.
    pub macro_f1: f64,
    /// F1 over all label decisions pooled.
    pub micro_f1: f64,
    /// Hard negatives in the data.
    pub hard_negatives: usize,
    /// Share of hard negatives flagged as a violation.
    pub hard_negative_fpr: f64,
    /// Share of examples with a gold product whose product was predicted right (`None` when
    /// the system predicts no products).
    pub product_accuracy: Option<f64>,
}

fn gold_flags(ex: &Example, tax: &Taxonomy) -> Vec<bool> {
    let mut f = vec![false; tax.labels.len()];
    for l in &ex.labels {
        if let Some(i) = tax.label_index(l) {
            f[i] = true;
        }
    }
    f
}

/// Score a system's outputs against gold examples (same order).
pub fn quality(
    examples: &[Example],
    outputs: &[SystemOutput],
    tax: &Taxonomy,
    with_products: bool,
) -> QualityReport {
    let golds: Vec<Vec<bool>> = examples.iter().map(|e| gold_flags(e, tax)).collect();
    let binary = Prf::from_pairs(
        golds
            .iter()
            .zip(outputs)
            .map(|(g, o)| (g.iter().any(|x| *x), o.flags.iter().any(|x| *x))),
    );
    let correct = golds
        .iter()
        .zip(outputs)
        .filter(|(g, o)| g.iter().any(|x| *x) == o.flags.iter().any(|x| *x))
        .count();
    let mut per_label = BTreeMap::new();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut f1s = Vec::new();
    for (i, l) in tax.labels.iter().enumerate() {
        let prf = Prf::from_pairs(golds.iter().zip(outputs).map(|(g, o)| (g[i], o.flags[i])));
        tp += prf.tp;
        fp += prf.fp;
        fn_ += prf.fn_;
        if prf.support > 0 {
            f1s.push(prf.f1);
        }
        per_label.insert(l.id.clone(), prf);
    }
    let hard: Vec<usize> = examples
        .iter()
        .enumerate()
        .filter(|(_, e)| e.effective_kind() == Kind::HardNegative)
        .map(|(i, _)| i)
        .collect();
    let hard_fp = hard
        .iter()
        .filter(|&&i| outputs[i].flags.iter().any(|x| *x))
        .count();
    let with_gold: Vec<usize> = examples
        .iter()
        .enumerate()
        .filter(|(_, e)| e.product.is_some())
        .map(|(i, _)| i)
        .collect();
    let product_accuracy = (with_products && !with_gold.is_empty()).then(|| {
        with_gold
            .iter()
            .filter(|&&i| outputs[i].product == examples[i].product)
            .count() as f64
            / with_gold.len() as f64
    });
    QualityReport {
        examples: examples.len(),
        binary,
        binary_accuracy: if examples.is_empty() {
            0.0
        } else {
            correct as f64 / examples.len() as f64
        },
        per_label,
        macro_f1: if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        },
        micro_f1: Prf::from_counts(tp, fp, fn_).f1,
        hard_negatives: hard.len(),
        hard_negative_fpr: if hard.is_empty() {
            0.0
        } else {
            hard_fp as f64 / hard.len() as f64
        },
        product_accuracy,
    }
}

/// The threshold in `[0.05, 0.95]` (steps of 0.01) that maximises F1 of `score ≥ t` against
/// gold; ties go to the threshold nearest 0.5. `None` when there is no gold positive.
pub fn best_threshold(scores: &[f32], gold: &[bool]) -> Option<f32> {
    best_threshold_fbeta(scores, gold, 1.0)
}

/// The threshold in 0.05..=0.95 maximising F_β (β < 1 weighs precision more than recall; β = 1
/// is F1); ties go to the threshold nearest 0.5. `None` when there is no positive.
pub fn best_threshold_fbeta(scores: &[f32], gold: &[bool], beta: f64) -> Option<f32> {
    if !gold.iter().any(|g| *g) {
        return None;
    }
    let b2 = beta * beta;
    let mut best: Option<(f64, f32)> = None;
    for k in 5..=95 {
        let t = k as f32 / 100.0;
        let p = Prf::from_pairs(scores.iter().zip(gold).map(|(&s, &g)| (g, s >= t)));
        let denom = b2 * p.precision + p.recall;
        let f = if denom > 0.0 {
            (1.0 + b2) * p.precision * p.recall / denom
        } else {
            0.0
        };
        let better = match best {
            None => true,
            Some((bf, bt)) => {
                f > bf + 1e-12 || ((f - bf).abs() <= 1e-12 && (t - 0.5).abs() < (bt - 0.5).abs())
            }
        };
        if better {
            best = Some((f, t));
        }
    }
    best.map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qingwang_datasets::{Channel, Source, Split};

    #[test]
    fn prf_by_hand_including_empty_classes() {
        let p = Prf::from_counts(3, 1, 2);
        assert!((p.precision - 0.75).abs() < 1e-12);
        assert!((p.recall - 0.6).abs() < 1e-12);
        assert!((p.f1 - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
        assert_eq!(p.support, 5);
        let empty = Prf::from_counts(0, 0, 0);
        assert_eq!((empty.precision, empty.recall, empty.f1), (0.0, 0.0, 0.0));
        let only_fp = Prf::from_counts(0, 4, 0);
        assert_eq!(
            (only_fp.precision, only_fp.f1, only_fp.support),
            (0.0, 0.0, 0)
        );
    }

    #[test]
    fn fbeta_below_one_trades_recall_for_precision() {
        // t ≤ 0.4 catches all three positives at precision 3/4; t in (0.4, 0.8] two of them at
        // precision 1. F1 prefers the first (0.857 > 0.8), F_0.5 the second (0.909 > 0.789).
        let scores = [0.9, 0.85, 0.4, 0.4];
        let gold = [true, true, true, false];
        assert_eq!(best_threshold_fbeta(&scores, &gold, 1.0), Some(0.4));
        assert_eq!(best_threshold_fbeta(&scores, &gold, 0.5), Some(0.5));
        assert_eq!(best_threshold(&scores, &gold), Some(0.4));
    }

    #[test]
    fn best_threshold_maximises_f1_and_breaks_ties_towards_half() {
        // Perfectly separable at any t in (0.3, 0.8]: the tie goes to 0.5.
        assert_eq!(
            best_threshold(&[0.9, 0.85, 0.3, 0.1], &[true, true, false, false]),
            Some(0.5)
        );
        // Only t ≤ 0.2 catches the second positive without losing precision.
        assert_eq!(
            best_threshold(&[0.9, 0.2, 0.1], &[true, true, false]),
            Some(0.2)
        );
        assert_eq!(best_threshold(&[0.9], &[false]), None);
    }

    #[test]
    fn quality_counts_hard_negative_false_positives_and_macro_over_supported_labels() {
        let tax = Taxonomy::builtin();
        let mk = |labels: &[&str], kind: Kind, product: Option<&str>| Example {
            id: "x".into(),
            text: "t".into(),
            channel: Channel::Post,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            product: product.map(String::from),
            spans: vec![],
            source: Source::Handwritten,
            family: "f".into(),
            split: Split::Test,
            kind: Some(kind),
            neg_type: None,
            evasion: vec![],
        };
        let nl = tax.labels.len();
        let cure = tax.label_index("cure_claim").unwrap();
        let flags = |on: &[usize]| {
            let mut f = vec![false; nl];
            on.iter().for_each(|&i| f[i] = true);
            f
        };
        let exs = vec![
            mk(&["cure_claim"], Kind::Positive, Some("hearing")),
            mk(&[], Kind::HardNegative, Some("hearing")),
            mk(&[], Kind::HardNegative, None),
            mk(&[], Kind::EasyNegative, None),
        ];
        let outs = vec![
            SystemOutput {
                flags: flags(&[cure]),
                product: Some("hearing".into()),
            },
            SystemOutput {
                flags: flags(&[cure]),
                product: Some("myopia_vision".into()),
            },
            SystemOutput {
                flags: flags(&[]),
                product: None,
            },
            SystemOutput {
                flags: flags(&[]),
                product: None,
            },
        ];
        let q = quality(&exs, &outs, &tax, true);
        assert_eq!(q.hard_negatives, 2);
        assert!((q.hard_negative_fpr - 0.5).abs() < 1e-12);
        assert!((q.binary.precision - 0.5).abs() < 1e-12);
        assert!((q.binary.recall - 1.0).abs() < 1e-12);
        assert!((q.binary_accuracy - 0.75).abs() < 1e-12);
        // Only cure_claim has support, so macro-F1 is its F1 alone.
        assert!((q.macro_f1 - q.per_label["cure_claim"].f1).abs() < 1e-12);
        assert_eq!(q.product_accuracy, Some(0.5));
    }
}
