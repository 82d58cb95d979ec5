//! Robustness: each gold positive rewritten by each evasion kind of
//! [`qingwang_datasets::perturb`]; recall on the originals vs on the rewrites, per system.

use qingwang_datasets::perturb::{Evasion, Perturber};
use qingwang_datasets::{Example, Lexicons};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Item;
use crate::error::Result;
use crate::system::Scorer;

/// Recall before and after one rewrite kind, for one system.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Retention {
    /// Positives the rewrite applied to.
    pub examples: usize,
    /// Binary recall on the originals.
    pub clean_recall: f64,
    /// Binary recall on the rewrites.
    pub evaded_recall: f64,
    /// evaded / clean (1 when clean recall is 0).
    pub retained: f64,
}

/// The rewrites of one kind: (original, rewrite) pairs of the positives it applies to.
/// Deterministic in `seed`; labels and product are those of the original.
pub fn rewrites(
    items: &[Item],
    perturber: &Perturber,
    kind: Evasion,
    seed: u64,
) -> Vec<(Example, Example)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (kind as u64 + 1).wrapping_mul(0x9e37_79b9));
    items
        .iter()
        .filter(|it| it.example.is_positive())
        .filter_map(|it| {
            perturber
                .perturb_example(&it.example, kind, &mut rng)
                .map(|p| (it.example.clone(), p))
        })
        .collect()
}

fn recall(flags: &[bool]) -> f64 {
    if flags.is_empty() {
        0.0
    } else {
        flags.iter().filter(|f| **f).count() as f64 / flags.len() as f64
    }
}

/// Per evasion kind (report order), per system (in `systems` order): retention. Kinds that apply
/// to no positive are left out.
pub fn robustness(
    items: &[Item],
    lex: &Lexicons,
    systems: &[&dyn Scorer],
    seed: u64,
) -> Result<Vec<(String, Vec<Retention>)>> {
    let perturber = Perturber::new(lex);
    let mut out = Vec::new();
    for kind in Evasion::ALL {
        let pairs = rewrites(items, &perturber, kind, seed);
        if pairs.is_empty() {
            continue;
        }
        let clean: Vec<&str> = pairs.iter().map(|(c, _)| c.text.as_str()).collect();
        let evaded: Vec<&str> = pairs.iter().map(|(_, e)| e.text.as_str()).collect();
        let mut row = Vec::new();
        for s in systems {
            let c: Vec<bool> = s.run(&clean)?.iter().map(|o| o.violation()).collect();
            let e: Vec<bool> = s.run(&evaded)?.iter().map(|o| o.violation()).collect();
            let (cr, er) = (recall(&c), recall(&e));
            row.push(Retention {
                examples: pairs.len(),
                clean_recall: cr,
                evaded_recall: er,
                retained: if cr > 0.0 { er / cr } else { 1.0 },
            });
        }
        out.push((kind.as_str().to_string(), row));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_line;
    use crate::system::KeywordScorer;
    use qingwang_datasets::Taxonomy;

    fn items() -> Vec<Item> {
        let tax = Taxonomy::builtin();
        [
            r#"{"text":"家人们这款贴三个月治愈近视，有效率百分百","labels":["cure_claim","efficacy_rate_claim"],"product":"patch_plaster","spans":[{"label":"cure_claim","char_start":9,"char_end":13,"text":"治愈近视"},{"label":"efficacy_rate_claim","char_start":14,"char_end":20,"text":"有效率百分百"}]}"#,
            r#"{"text":"今天顺丰包邮","labels":[]}"#,
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| parse_line(l, i + 1, &tax).unwrap())
        .collect()
    }

    #[test]
    fn rewrites_are_deterministic_label_preserving_and_skip_negatives() {
        let lex = Lexicons::builtin().unwrap();
        let tax = Taxonomy::builtin();
        let p = Perturber::new(&lex);
        let it = items();
        let mut applied = 0;
        for kind in Evasion::ALL {
            let a = rewrites(&it, &p, kind, 11);
            assert_eq!(a, rewrites(&it, &p, kind, 11), "{kind:?}");
            assert!(a.len() <= 1, "negatives are never rewritten");
            for (orig, new) in &a {
                applied += 1;
                assert_ne!(orig.text, new.text, "{kind:?}");
                assert_eq!(orig.labels, new.labels);
                assert_eq!(orig.product, new.product);
                // Spans still quote the rewritten text (the test line has no family: ignore it).
                let errs: Vec<_> = qingwang_datasets::validate::check_example(new, &tax)
                    .into_iter()
                    .filter(|(f, _)| *f != "family")
                    .collect();
                assert!(errs.is_empty(), "{kind:?}: {errs:?}");
                for s in &new.spans {
                    let quoted: String = new
                        .text
                        .chars()
                        .skip(s.char_start)
                        .take(s.char_end - s.char_start)
                        .collect();
                    assert_eq!(quoted, s.text, "{kind:?}");
                }
            }
        }
        assert!(applied >= 5, "only {applied} kinds applied");
    }

    #[test]
    fn keyword_retention_is_measured_per_kind() {
        let lex = Lexicons::builtin().unwrap();
        let tax = Taxonomy::builtin();
        let k = KeywordScorer::new(&lex, &tax);
        let rows = robustness(&items(), &lex, &[&k], 3).unwrap();
        assert!(!rows.is_empty());
        for (kind, r) in &rows {
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].examples, 1, "{kind}");
            assert_eq!(r[0].clean_recall, 1.0, "{kind}");
            assert!((r[0].retained - r[0].evaded_recall).abs() < 1e-12);
        }
    }
}
