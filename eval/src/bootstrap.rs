//! Headline figures with bootstrap confidence intervals (seeded, so a run is reproducible).
//! The figures are defined exactly as [`qingwang_model::metrics::quality`] defines them.

use std::collections::BTreeMap;

use qingwang_model::metrics::Prf;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The headline metrics, in report order, and whether higher is better.
pub const HEADLINE: [(&str, bool); 7] = [
    ("binary_f1", true),
    ("binary_precision", true),
    ("binary_recall", true),
    ("binary_accuracy", true),
    ("macro_f1", true),
    ("micro_f1", true),
    ("hard_negative_fpr", false),
];

/// A point estimate and its 95% percentile-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// On the full data.
    pub value: f64,
    /// 2.5th percentile of the resamples.
    pub ci_low: f64,
    /// 97.5th percentile of the resamples.
    pub ci_high: f64,
}

/// One example's gold and predicted flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Gold flags per label.
    pub gold: Vec<bool>,
    /// Predicted flags per label.
    pub pred: Vec<bool>,
    /// Whether it is a hard negative.
    pub hard_negative: bool,
}

/// The headline metrics over `idx` (indices into `rows`, repeats allowed).
pub fn headline(rows: &[Row], idx: &[usize]) -> BTreeMap<&'static str, f64> {
    let n_labels = rows.first().map_or(0, |r| r.gold.len());
    let mut label_counts = vec![(0usize, 0usize, 0usize); n_labels];
    let (mut tp, mut fp, mut fn_, mut correct, mut hard, mut hard_fp) = (0, 0, 0, 0, 0, 0);
    for &i in idx {
        let r = &rows[i];
        let (g, p) = (r.gold.iter().any(|x| *x), r.pred.iter().any(|x| *x));
        match (g, p) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
        correct += usize::from(g == p);
        if r.hard_negative {
            hard += 1;
            hard_fp += usize::from(p);
        }
        for (l, c) in label_counts.iter_mut().enumerate() {
            match (r.gold[l], r.pred[l]) {
                (true, true) => c.0 += 1,
                (false, true) => c.1 += 1,
                (true, false) => c.2 += 1,
                _ => {}
            }
        }
    }
    let bin = Prf::from_counts(tp, fp, fn_);
    let f1s: Vec<f64> = label_counts
        .iter()
        .map(|&(a, b, c)| Prf::from_counts(a, b, c))
        .filter(|p| p.support > 0)
        .map(|p| p.f1)
        .collect();
    let (sa, sb, sc) = label_counts
        .iter()
        .fold((0, 0, 0), |s, c| (s.0 + c.0, s.1 + c.1, s.2 + c.2));
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    BTreeMap::from([
        ("binary_f1", bin.f1),
        ("binary_precision", bin.precision),
        ("binary_recall", bin.recall),
        ("binary_accuracy", ratio(correct, idx.len())),
        (
            "macro_f1",
            if f1s.is_empty() {
                0.0
            } else {
                f1s.iter().sum::<f64>() / f1s.len() as f64
            },
        ),
        ("micro_f1", Prf::from_counts(sa, sb, sc).f1),
        ("hard_negative_fpr", ratio(hard_fp, hard)),
    ])
}

/// Nearest-rank percentile of sorted values (`q` in [0, 1]).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// Headline estimates with `resamples` bootstrap resamples drawn with `seed`. With zero
/// resamples the interval collapses onto the value.
pub fn estimates(rows: &[Row], resamples: usize, seed: u64) -> BTreeMap<String, Estimate> {
    let all: Vec<usize> = (0..rows.len()).collect();
    let point = headline(rows, &all);
    let mut draws: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = vec![0usize; rows.len()];
    if !rows.is_empty() {
        for _ in 0..resamples {
            idx.iter_mut()
                .for_each(|i| *i = rng.random_range(0..rows.len()));
            for (k, v) in headline(rows, &idx) {
                draws.entry(k).or_default().push(v);
            }
        }
    }
    point
        .into_iter()
        .map(|(k, value)| {
            let mut d = draws.remove(k).unwrap_or_default();
            d.sort_by(f64::total_cmp);
            let (ci_low, ci_high) = if d.is_empty() {
                (value, value)
            } else {
                (percentile(&d, 0.025), percentile(&d, 0.975))
            };
            (
                k.to_string(),
                Estimate {
                    value,
                    ci_low,
                    ci_high,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qingwang_datasets::{Channel, Example, Kind, Source, Split, Taxonomy};
    use qingwang_model::metrics::{SystemOutput, quality};

    fn row(gold: &[bool], pred: &[bool], hard: bool) -> Row {
        Row {
            gold: gold.to_vec(),
            pred: pred.to_vec(),
            hard_negative: hard,
        }
    }

    #[test]
    fn headline_by_hand_with_an_empty_class() {
        // Label 1 has no gold positive: it is left out of macro-F1.
        let rows = vec![
            row(&[true, false], &[true, false], false),
            row(&[true, false], &[false, false], false),
            row(&[false, false], &[false, true], true),
            row(&[false, false], &[false, false], true),
        ];
        let h = headline(&rows, &[0, 1, 2, 3]);
        assert!((h["binary_precision"] - 0.5).abs() < 1e-12);
        assert!((h["binary_recall"] - 0.5).abs() < 1e-12);
        assert!((h["binary_accuracy"] - 0.5).abs() < 1e-12);
        assert!((h["macro_f1"] - 2.0 / 3.0).abs() < 1e-12);
        assert!((h["micro_f1"] - 0.5).abs() < 1e-12);
        assert!((h["hard_negative_fpr"] - 0.5).abs() < 1e-12);
        let empty = headline(&rows, &[]);
        assert_eq!(empty["binary_f1"], 0.0);
        assert_eq!(empty["hard_negative_fpr"], 0.0);
    }

    #[test]
    fn headline_agrees_with_the_model_crates_quality() {
        let tax = Taxonomy::builtin();
        let n = tax.labels.len();
        let mk = |labels: &[usize], kind| Example {
            id: "x".into(),
            text: "t".into(),
            channel: Channel::Post,
            labels: labels.iter().map(|&i| tax.labels[i].id.clone()).collect(),
            product: None,
            spans: vec![],
            source: Source::Handwritten,
            family: "f".into(),
            split: Split::Test,
            kind: Some(kind),
            neg_type: None,
            evasion: vec![],
        };
        let flags = |on: &[usize]| (0..n).map(|i| on.contains(&i)).collect::<Vec<_>>();
        let exs = [
            mk(&[0, 3], Kind::Positive),
            mk(&[3], Kind::Positive),
            mk(&[], Kind::HardNegative),
            mk(&[], Kind::EasyNegative),
        ];
        let preds = [flags(&[0]), flags(&[]), flags(&[5]), flags(&[])];
        let outs: Vec<SystemOutput> = preds
            .iter()
            .map(|f| SystemOutput {
                flags: f.clone(),
                product: None,
            })
            .collect();
        let q = quality(&exs, &outs, &tax, false);
        let rows: Vec<Row> = exs
            .iter()
            .zip(&preds)
            .map(|(e, p)| {
                row(
                    &flags(
                        &e.labels
                            .iter()
                            .filter_map(|l| tax.label_index(l))
                            .collect::<Vec<_>>(),
                    ),
                    p,
                    e.kind == Some(Kind::HardNegative),
                )
            })
            .collect();
        let h = headline(&rows, &[0, 1, 2, 3]);
        assert!((h["binary_f1"] - q.binary.f1).abs() < 1e-12);
        assert!((h["macro_f1"] - q.macro_f1).abs() < 1e-12);
        assert!((h["micro_f1"] - q.micro_f1).abs() < 1e-12);
        assert!((h["hard_negative_fpr"] - q.hard_negative_fpr).abs() < 1e-12);
    }

    #[test]
    fn intervals_are_seeded_and_contain_the_value() {
        let rows: Vec<Row> = (0..40)
            .map(|i| row(&[i % 2 == 0], &[i % 3 == 0], false))
            .collect();
        let a = estimates(&rows, 200, 7);
        let b = estimates(&rows, 200, 7);
        let c = estimates(&rows, 200, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let f = a["binary_f1"];
        assert!(f.ci_low <= f.value && f.value <= f.ci_high, "{f:?}");
        assert!(f.ci_low < f.ci_high);
        let z = estimates(&rows, 0, 7)["binary_f1"];
        assert_eq!((z.ci_low, z.ci_high), (z.value, z.value));
        assert!(estimates(&[], 10, 1)["binary_f1"].value == 0.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.975), 4.0);
    }
}
