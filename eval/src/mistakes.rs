//! Error analysis: the worst false positives (highest-scoring negatives that were flagged)
//! and false negatives (lowest-scoring positives that were missed), with spans and scores.

use serde::{Deserialize, Serialize};

use crate::data::Item;
use crate::system::{Output, PredSpan};

/// One misclassified example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mistake {
    /// Example id.
    pub id: String,
    /// The text.
    pub text: String,
    /// Violation score.
    pub score: f32,
    /// Gold labels.
    pub gold_labels: Vec<String>,
    /// Flagged labels.
    pub predicted_labels: Vec<String>,
    /// Gold evidence spans, as `label: text`.
    pub gold_spans: Vec<String>,
    /// Predicted evidence spans.
    pub predicted_spans: Vec<PredSpan>,
    /// The three highest label probabilities, when the system has them.
    pub top_scores: Vec<(String, f32)>,
}

/// Worst false positives and false negatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mistakes {
    /// Flagged negatives, highest score first.
    pub false_positives: Vec<Mistake>,
    /// Missed positives, lowest score first.
    pub false_negatives: Vec<Mistake>,
}

fn mistake(it: &Item, o: &Output, labels: &[String]) -> Mistake {
    let mut top: Vec<(String, f32)> = o
        .probs
        .iter()
        .flat_map(|p| labels.iter().cloned().zip(p.iter().copied()))
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(3);
    Mistake {
        id: it.example.id.clone(),
        text: it.example.text.clone(),
        score: o.score,
        gold_labels: it.example.labels.clone(),
        predicted_labels: labels
            .iter()
            .zip(&o.flags)
            .filter(|(_, f)| **f)
            .map(|(l, _)| l.clone())
            .collect(),
        gold_spans: it
            .example
            .spans
            .iter()
            .map(|s| format!("{}: {}", s.label, s.text))
            .collect(),
        predicted_spans: o.spans.clone(),
        top_scores: top,
    }
}

/// The `n` worst of each kind; ties keep file order.
pub fn worst(items: &[Item], outputs: &[Output], labels: &[String], n: usize) -> Mistakes {
    let mut fps: Vec<usize> = (0..items.len().min(outputs.len()))
        .filter(|&i| !items[i].example.is_positive() && outputs[i].violation())
        .collect();
    fps.sort_by(|&a, &b| outputs[b].score.total_cmp(&outputs[a].score));
    let mut fns: Vec<usize> = (0..items.len().min(outputs.len()))
        .filter(|&i| items[i].example.is_positive() && !outputs[i].violation())
        .collect();
    fns.sort_by(|&a, &b| outputs[a].score.total_cmp(&outputs[b].score));
    let take = |v: Vec<usize>| {
        v.into_iter()
            .take(n)
            .map(|i| mistake(&items[i], &outputs[i], labels))
            .collect()
    };
    Mistakes {
        false_positives: take(fps),
        false_negatives: take(fns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_line;
    use qingwang_datasets::Taxonomy;

    #[test]
    fn worst_orders_by_score_and_keeps_only_errors() {
        let tax = Taxonomy::builtin();
        let labels: Vec<String> = tax.label_ids().map(String::from).collect();
        let lines = [
            r#"{"id":"n1","text":"别信治愈","labels":[]}"#,
            r#"{"id":"n2","text":"经查虚假","labels":[]}"#,
            r#"{"id":"p1","text":"治愈近视","labels":["cure_claim"]}"#,
            r#"{"id":"p2","text":"根治耳鸣","labels":["cure_claim"]}"#,
            r#"{"id":"n3","text":"包邮","labels":[]}"#,
        ];
        let items: Vec<Item> = lines
            .iter()
            .map(|l| parse_line(l, 1, &tax).unwrap())
            .collect();
        let o = |flag: bool, score: f32| {
            let mut probs = vec![0.0; labels.len()];
            probs[0] = score;
            Output {
                flags: (0..labels.len()).map(|i| i == 0 && flag).collect(),
                probs: Some(probs),
                score,
                product: None,
                spans: vec![],
                input_error: None,
            }
        };
        let outs = [
            o(true, 0.6),
            o(true, 0.9),
            o(false, 0.3),
            o(false, 0.1),
            o(false, 0.2),
        ];
        let m = worst(&items, &outs, &labels, 1);
        assert_eq!(m.false_positives.len(), 1);
        assert_eq!(m.false_positives[0].id, "n2");
        assert_eq!(
            m.false_positives[0].predicted_labels,
            vec![labels[0].clone()]
        );
        assert_eq!(m.false_negatives[0].id, "p2");
        assert_eq!(m.false_negatives[0].top_scores[0], (labels[0].clone(), 0.1));
        let all = worst(&items, &outs, &labels, 10);
        assert_eq!(
            (all.false_positives.len(), all.false_negatives.len()),
            (2, 2)
        );
    }
}
