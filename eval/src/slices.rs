//! Evidence-span precision/recall by overlap, the product confusion matrix, and binary figures
//! broken down by channel, product, source and family.

use std::collections::BTreeMap;

use qingwang_model::metrics::Prf;
use serde::{Deserialize, Serialize};

use crate::data::Item;
use crate::system::{Output, PredSpan};

/// Span figures: a predicted span is right when it overlaps a gold span of the same label; a
/// gold span is found when a predicted span of its label overlaps it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpanReport {
    /// Predicted spans.
    pub predicted: usize,
    /// Gold spans.
    pub gold: usize,
    /// Predicted spans overlapping a gold span of their label.
    pub matched_predicted: usize,
    /// Gold spans overlapped by a predicted span of their label.
    pub matched_gold: usize,
    /// matched_predicted / predicted (0 when none).
    pub precision: f64,
    /// matched_gold / gold (0 when none).
    pub recall: f64,
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Span figures over all examples.
pub fn span_overlap(items: &[Item], outputs: &[Output]) -> SpanReport {
    let (mut predicted, mut gold, mut mp, mut mg) = (0, 0, 0, 0);
    for (it, o) in items.iter().zip(outputs) {
        let g = &it.example.spans;
        predicted += o.spans.len();
        gold += g.len();
        mp += o
            .spans
            .iter()
            .filter(|p: &&PredSpan| {
                g.iter().any(|s| {
                    s.label == p.label
                        && overlaps((s.char_start, s.char_end), (p.char_start, p.char_end))
                })
            })
            .count();
        mg += g
            .iter()
            .filter(|s| {
                o.spans.iter().any(|p| {
                    s.label == p.label
                        && overlaps((s.char_start, s.char_end), (p.char_start, p.char_end))
                })
            })
            .count();
    }
    let r = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    SpanReport {
        predicted,
        gold,
        matched_predicted: mp,
        matched_gold: mg,
        precision: r(mp, predicted),
        recall: r(mg, gold),
    }
}

/// Product confusion: `counts[gold][predicted]` over `classes` (the taxonomy's products, then
/// `none`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    /// Row and column names.
    pub classes: Vec<String>,
    /// Counts, gold by row, predicted by column.
    pub counts: Vec<Vec<usize>>,
    /// Diagonal / total (0 when empty).
    pub accuracy: f64,
}

/// Name of the "no product" class.
pub const NONE: &str = "none";

/// The confusion matrix of products over all examples.
pub fn confusion(items: &[Item], outputs: &[Output], products: &[String]) -> Confusion {
    let mut classes = products.to_vec();
    classes.push(NONE.into());
    let idx = |p: &Option<String>| {
        p.as_ref()
            .and_then(|p| classes.iter().position(|c| c == p))
            .unwrap_or(classes.len() - 1)
    };
    let mut counts = vec![vec![0usize; classes.len()]; classes.len()];
    for (it, o) in items.iter().zip(outputs) {
        counts[idx(&it.example.product)][idx(&o.product)] += 1;
    }
    let total: usize = counts.iter().flatten().sum();
    let diag: usize = (0..classes.len()).map(|i| counts[i][i]).sum();
    Confusion {
        accuracy: if total == 0 {
            0.0
        } else {
            diag as f64 / total as f64
        },
        classes,
        counts,
    }
}

/// The binary figures of one slice.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slice {
    /// Examples in the slice.
    pub examples: usize,
    /// Gold positives in it.
    pub positives: usize,
    /// Binary violation P/R/F1.
    pub binary: Prf,
    /// Binary accuracy.
    pub accuracy: f64,
}

/// Key of an item under one breakdown dimension (`unknown` when the file did not say).
pub fn slice_key(it: &Item, dim: &str) -> String {
    let unknown = || "unknown".to_string();
    match dim {
        "channel" => it.channel.map_or_else(unknown, |c| c.as_str().to_string()),
        "product" => it
            .example
            .product
            .clone()
            .unwrap_or_else(|| NONE.to_string()),
        "source" => it.source.map_or_else(unknown, |s| s.as_str().to_string()),
        _ => it.family.clone().unwrap_or_else(unknown),
    }
}

/// The breakdown dimensions.
pub const DIMENSIONS: [&str; 4] = ["channel", "product", "source", "family"];

/// Per dimension, per key: the slice's figures.
pub fn breakdowns(items: &[Item], outputs: &[Output]) -> BTreeMap<String, BTreeMap<String, Slice>> {
    let mut out = BTreeMap::new();
    for dim in DIMENSIONS {
        let mut groups: BTreeMap<String, Vec<(bool, bool)>> = BTreeMap::new();
        for (it, o) in items.iter().zip(outputs) {
            groups
                .entry(slice_key(it, dim))
                .or_default()
                .push((it.example.is_positive(), o.violation()));
        }
        let slices = groups
            .into_iter()
            .map(|(k, pairs)| {
                let correct = pairs.iter().filter(|(g, p)| g == p).count();
                let s = Slice {
                    examples: pairs.len(),
                    positives: pairs.iter().filter(|(g, _)| *g).count(),
                    binary: Prf::from_pairs(pairs.iter().copied()),
                    accuracy: correct as f64 / pairs.len() as f64,
                };
                (k, s)
            })
            .collect();
        out.insert(dim.to_string(), slices);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_line;
    use qingwang_datasets::Taxonomy;

    fn out(flag: bool, product: Option<&str>, spans: &[(&str, usize, usize)]) -> Output {
        let mut flags = vec![false; Taxonomy::builtin().labels.len()];
        flags[0] = flag;
        Output {
            flags,
            probs: None,
            score: 0.0,
            product: product.map(String::from),
            spans: spans
                .iter()
                .map(|&(l, s, e)| PredSpan {
                    label: l.into(),
                    char_start: s,
                    char_end: e,
                })
                .collect(),
            input_error: None,
        }
    }

    fn items() -> Vec<Item> {
        let tax = Taxonomy::builtin();
        [
            r#"{"text":"三天治愈近视✨","labels":["cure_claim"],"product":"myopia_vision","channel":"livestream","spans":[{"label":"cure_claim","char_start":2,"char_end":6,"text":"治愈近视"}]}"#,
            r#"{"text":"别信治愈近视","labels":[],"product":"myopia_vision","channel":"post"}"#,
            r#"{"text":"顺丰包邮","labels":[]}"#,
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| parse_line(l, i + 1, &tax).unwrap())
        .collect()
    }

    #[test]
    fn span_overlap_needs_same_label_and_shared_chars() {
        let it = items();
        let outs = [
            out(true, None, &[("cure_claim", 5, 7), ("cure_claim", 0, 2)]),
            out(true, None, &[("cure_claim", 2, 6)]),
            out(false, None, &[]),
        ];
        let s = span_overlap(&it, &outs);
        // (5,7) overlaps (2,6); (0,2) only touches it; the span on the negative is wrong.
        assert_eq!(
            (s.predicted, s.gold, s.matched_predicted, s.matched_gold),
            (3, 1, 1, 1)
        );
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.recall - 1.0).abs() < 1e-12);
        let wrong_label = [out(true, None, &[("safety_assurance", 2, 6)])];
        assert_eq!(span_overlap(&it[..1], &wrong_label).matched_gold, 0);
        assert_eq!(span_overlap(&[], &[]).precision, 0.0);
    }

    #[test]
    fn confusion_rows_are_gold_and_none_is_a_class() {
        let it = items();
        let products: Vec<String> = Taxonomy::builtin()
            .product_ids()
            .map(String::from)
            .collect();
        let outs = [
            out(true, Some("myopia_vision"), &[]),
            out(false, Some("hearing"), &[]),
            out(false, None, &[]),
        ];
        let c = confusion(&it, &outs, &products);
        let i = |p: &str| c.classes.iter().position(|x| x == p).unwrap();
        assert_eq!(c.counts[i("myopia_vision")][i("myopia_vision")], 1);
        assert_eq!(c.counts[i("myopia_vision")][i("hearing")], 1);
        assert_eq!(c.counts[i(NONE)][i(NONE)], 1);
        assert!((c.accuracy - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn breakdown_marks_missing_fields_unknown() {
        let it = items();
        let outs = [
            out(true, None, &[]),
            out(true, None, &[]),
            out(false, None, &[]),
        ];
        let b = breakdowns(&it, &outs);
        assert_eq!(b["channel"]["unknown"].examples, 1);
        assert_eq!(b["channel"]["post"].binary.fp, 1);
        assert_eq!(b["product"]["myopia_vision"].examples, 2);
        assert!((b["product"]["myopia_vision"].accuracy - 0.5).abs() < 1e-12);
        assert_eq!(b["source"]["unknown"].examples, 3);
    }
}
