//! Inter-annotator agreement: Cohen's kappa (two annotators), Krippendorff's alpha (nominal,
//! any number of annotators, missing data), char-level span F1 between annotators, and the
//! report `qingwang data agreement` prints.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

use serde::Serialize;

use crate::interchange::{AnnotatedTask, Conflict};

/// Cohen's kappa over paired ratings; `None` with no pairs or when chance agreement is 1.
pub fn cohen_kappa<T: Eq + Hash + Clone>(pairs: &[(T, T)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let mut a: HashMap<T, f64> = HashMap::new();
    let mut b: HashMap<T, f64> = HashMap::new();
    let mut agree = 0.0;
    for (x, y) in pairs {
        *a.entry(x.clone()).or_default() += 1.0;
        *b.entry(y.clone()).or_default() += 1.0;
        if x == y {
            agree += 1.0;
        }
    }
    let po = agree / n;
    let pe: f64 = a
        .iter()
        .map(|(k, ca)| ca * b.get(k).copied().unwrap_or(0.0))
        .sum::<f64>()
        / (n * n);
    if (1.0 - pe).abs() < 1e-12 {
        return None;
    }
    Some((po - pe) / (1.0 - pe))
}

/// Krippendorff's alpha for nominal data. `units[u]` holds each coder's value for unit `u`
/// (`None` = missing). Units with fewer than two values are not pairable and are ignored.
/// `None` when nothing is pairable or every value is the same (no expected disagreement).
pub fn krippendorff_alpha_nominal<T: Ord + Clone>(units: &[Vec<Option<T>>]) -> Option<f64> {
    // Coincidence matrix o[c][k].
    let mut o: BTreeMap<(T, T), f64> = BTreeMap::new();
    for unit in units {
        let vals: Vec<&T> = unit.iter().flatten().collect();
        let m = vals.len();
        if m < 2 {
            continue;
        }
        let w = 1.0 / (m as f64 - 1.0);
        for (i, x) in vals.iter().enumerate() {
            for (j, y) in vals.iter().enumerate() {
                if i != j {
                    *o.entry(((*x).clone(), (*y).clone())).or_default() += w;
                }
            }
        }
    }
    let mut nc: BTreeMap<T, f64> = BTreeMap::new();
    for ((c, _), v) in &o {
        *nc.entry(c.clone()).or_default() += v;
    }
    let n: f64 = nc.values().sum();
    if n <= 1.0 {
        return None;
    }
    let observed: f64 = o.iter().filter(|((c, k), _)| c != k).map(|(_, v)| v).sum();
    let mut expected = 0.0;
    for (c, a) in &nc {
        for (k, b) in &nc {
            if c != k {
                expected += a * b;
            }
        }
    }
    if expected == 0.0 {
        return None;
    }
    Some(1.0 - (n - 1.0) * observed / expected)
}

/// Char-level F1 between two annotators' spans (a char counts once per label it is evidence
/// for); `None` when neither marked anything.
pub fn span_f1(a: &[crate::Span], b: &[crate::Span]) -> Option<f64> {
    let set = |s: &[crate::Span]| -> BTreeSet<(String, usize)> {
        s.iter()
            .flat_map(|sp| (sp.char_start..sp.char_end).map(move |c| (sp.label.clone(), c)))
            .collect()
    };
    let (sa, sb) = (set(a), set(b));
    if sa.is_empty() && sb.is_empty() {
        return None;
    }
    let inter = sa.intersection(&sb).count() as f64;
    Some(2.0 * inter / (sa.len() + sb.len()) as f64)
}

/// Agreement on one label (present/absent per task and annotator).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelAgreement {
    /// Label id.
    pub label: String,
    /// Cohen's kappa between the two annotators with most tasks in common.
    pub kappa: Option<f64>,
    /// Krippendorff's alpha over all annotators.
    pub alpha: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgreementReport {
    /// Tasks read.
    pub tasks: usize,
    /// Tasks with at least two annotations.
    pub multiply_annotated: usize,
    /// Distinct annotators.
    pub annotators: Vec<String>,
    /// The pair used for kappa.
    pub kappa_pair: Option<(String, String)>,
    /// Per label.
    pub labels: Vec<LabelAgreement>,
    /// Krippendorff's alpha on the product.
    pub product_alpha: Option<f64>,
    /// Mean char-level span F1 over annotator pairs on the same task.
    pub span_f1: Option<f64>,
    /// Items to adjudicate.
    pub adjudicate: Vec<Conflict>,
}

/// Compute the report over tasks; `labels` is the taxonomy's label order.
pub fn report(tasks: &[AnnotatedTask], labels: &[String]) -> AgreementReport {
    let annotators: Vec<String> = tasks
        .iter()
        .flat_map(|t| t.annotations.iter().map(|a| a.annotator.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Pair with most common tasks, for kappa.
    let mut common: BTreeMap<(String, String), usize> = BTreeMap::new();
    for t in tasks {
        for (i, a) in t.annotations.iter().enumerate() {
            for b in &t.annotations[i + 1..] {
                let key = if a.annotator <= b.annotator {
                    (a.annotator.clone(), b.annotator.clone())
                } else {
                    (b.annotator.clone(), a.annotator.clone())
                };
                *common.entry(key).or_default() += 1;
            }
        }
    }
    let kappa_pair = common
        .iter()
        .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
        .map(|(k, _)| k.clone());
    let value_of = |t: &AnnotatedTask, who: &str, label: &str| -> Option<bool> {
        t.annotations
            .iter()
            .find(|a| a.annotator == who)
            .map(|a| a.labels.iter().any(|l| l == label))
    };
    let label_rows = labels
        .iter()
        .map(|label| {
            let kappa = kappa_pair.as_ref().and_then(|(x, y)| {
                let pairs: Vec<(bool, bool)> = tasks
                    .iter()
                    .filter_map(|t| Some((value_of(t, x, label)?, value_of(t, y, label)?)))
                    .collect();
                cohen_kappa(&pairs)
            });
            let units: Vec<Vec<Option<bool>>> = tasks
                .iter()
                .map(|t| {
                    annotators
                        .iter()
                        .map(|who| value_of(t, who, label))
                        .collect()
                })
                .collect();
            LabelAgreement {
                label: label.clone(),
                kappa,
                alpha: krippendorff_alpha_nominal(&units),
            }
        })
        .collect();
    let product_units: Vec<Vec<Option<String>>> = tasks
        .iter()
        .map(|t| {
            annotators
                .iter()
                .map(|who| {
                    t.annotations
                        .iter()
                        .find(|a| &a.annotator == who)
                        .map(|a| a.product.clone().unwrap_or_else(|| "(none)".to_string()))
                })
                .collect()
        })
        .collect();
    let f1s: Vec<f64> = tasks
        .iter()
        .flat_map(|t| {
            t.annotations.iter().enumerate().flat_map(move |(i, a)| {
                t.annotations[i + 1..]
                    .iter()
                    .filter_map(move |b| span_f1(&a.spans, &b.spans))
            })
        })
        .collect();
    AgreementReport {
        tasks: tasks.len(),
        multiply_annotated: tasks.iter().filter(|t| t.annotations.len() > 1).count(),
        annotators,
        kappa_pair,
        labels: label_rows,
        product_alpha: krippendorff_alpha_nominal(&product_units),
        span_f1: (!f1s.is_empty()).then(|| f1s.iter().sum::<f64>() / f1s.len() as f64),
        adjudicate: tasks.iter().flat_map(AnnotatedTask::conflicts).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_textbook_example() {
        // Wikipedia "Cohen's kappa": 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → κ = 0.4.
        let mut pairs = Vec::new();
        pairs.extend(std::iter::repeat_n((true, true), 20));
        pairs.extend(std::iter::repeat_n((true, false), 5));
        pairs.extend(std::iter::repeat_n((false, true), 10));
        pairs.extend(std::iter::repeat_n((false, false), 15));
        assert!((cohen_kappa(&pairs).unwrap() - 0.4).abs() < 1e-9);
        assert_eq!(cohen_kappa::<bool>(&[]), None);
        assert_eq!(cohen_kappa(&[(true, true), (true, true)]), None);
    }

    #[test]
    fn alpha_krippendorff_2011_nominal_example() {
        // Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C:
        // 4 observers, 12 units, missing data; nominal α = 0.743.
        let rows: [[u8; 12]; 4] = [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3],
            [0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0],
        ];
        let units: Vec<Vec<Option<u8>>> = (0..12)
            .map(|u| rows.iter().map(|r| (r[u] != 0).then_some(r[u])).collect())
            .collect();
        let a = krippendorff_alpha_nominal(&units).unwrap();
        assert!((a - 0.743).abs() < 5e-4, "{a}");
    }

    #[test]
    fn alpha_perfect_and_two_coder() {
        let units = vec![
            vec![Some(1), Some(1)],
            vec![Some(2), Some(2)],
            vec![Some(1), None],
        ];
        assert!((krippendorff_alpha_nominal(&units).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(
            krippendorff_alpha_nominal::<u8>(&[vec![Some(1), None]]),
            None
        );
    }

    #[test]
    fn span_f1_partial_overlap() {
        let t = "家人们治愈近视👋";
        let a = crate::example::span_from_chars(t, "cure_claim", 3, 7).unwrap();
        let b = crate::example::span_from_chars(t, "cure_claim", 3, 5).unwrap();
        assert!((span_f1(std::slice::from_ref(&a), &[b]).unwrap() - 2.0 * 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(span_f1(&[], &[]), None);
        assert_eq!(span_f1(&[a], &[]), Some(0.0));
    }
}
