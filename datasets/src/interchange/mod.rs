//! Moving examples to and from annotation tools (Label Studio, doccano) and the Label Studio
//! labelling config generated from the taxonomy.
//!
//! Both importers produce [`AnnotatedTask`]s: one text with every annotator's answer kept. From
//! there [`AnnotatedTask::to_examples`] writes one dataset record per annotator (source
//! `analyst`, family `analyst-<task id>`, id `analyst-<task id>-<annotator>`), and
//! [`AnnotatedTask::conflicts`] lists where annotators disagree, for adjudication.

pub mod config;
pub mod doccano;
pub mod labelstudio;
pub mod offsets;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::example::{Channel, Example, Source, Span, Split};

/// One annotator's answer for one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    /// Annotator id as the tool reports it (`completed_by`, doccano `user`), or `0` when absent.
    pub annotator: String,
    /// Claim labels chosen.
    pub labels: Vec<String>,
    /// Product chosen, if any.
    pub product: Option<String>,
    /// Evidence spans, in char (Unicode scalar value) offsets.
    pub spans: Vec<Span>,
    /// Free-text note, if any.
    pub note: Option<String>,
}

/// One text with all of its annotations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotatedTask {
    /// 0-based position of the task in the tool's export file.
    pub index: usize,
    /// Stable task id: `data.id` when present, else the tool's task id.
    pub task_id: String,
    /// The text.
    pub text: String,
    /// Channel from the task data, `post` when absent.
    pub channel: Channel,
    /// Every annotator's answer, in file order.
    pub annotations: Vec<Annotation>,
}

/// Annotators disagree on one field of one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    /// 0-based task position in the export.
    pub index: usize,
    /// Task id.
    pub task_id: String,
    /// The text, for the adjudicator.
    pub text: String,
    /// `labels`, `product` or `spans`.
    pub field: String,
    /// `(annotator, value)` pairs, value rendered as JSON.
    pub values: Vec<(String, serde_json::Value)>,
}

fn id_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl AnnotatedTask {
    /// The family all of this task's records share.
    pub fn family(&self) -> String {
        format!("analyst-{}", id_safe(&self.task_id))
    }

    /// One dataset record per annotator, source `analyst`, split `train` (run `data split`
    /// afterwards to assign splits by family).
    pub fn to_examples(&self) -> Vec<Example> {
        let family = self.family();
        self.annotations
            .iter()
            .map(|a| {
                let mut labels = a.labels.clone();
                labels.sort();
                labels.dedup();
                let mut spans = a.spans.clone();
                spans.sort_by(|x, y| {
                    (x.char_start, x.char_end, &x.label).cmp(&(y.char_start, y.char_end, &y.label))
                });
                Example {
                    id: format!("{family}-{}", id_safe(&a.annotator)),
                    text: self.text.clone(),
                    channel: self.channel,
                    labels,
                    product: a.product.clone(),
                    spans,
                    source: Source::Analyst,
                    family: family.clone(),
                    split: Split::Train,
                    kind: None,
                    neg_type: None,
                    evasion: Vec::new(),
                }
            })
            .collect()
    }

    /// Fields on which the annotators of this task disagree (empty with fewer than two).
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut out = Vec::new();
        if self.annotations.len() < 2 {
            return out;
        }
        let mut push = |field: &str, f: &dyn Fn(&Annotation) -> serde_json::Value| {
            let values: Vec<(String, serde_json::Value)> = self
                .annotations
                .iter()
                .map(|a| (a.annotator.clone(), f(a)))
                .collect();
            if values.iter().any(|(_, v)| *v != values[0].1) {
                out.push(Conflict {
                    index: self.index,
                    task_id: self.task_id.clone(),
                    text: self.text.clone(),
                    field: field.to_string(),
                    values,
                });
            }
        };
        push("labels", &|a| {
            serde_json::json!(a.labels.iter().collect::<BTreeSet<_>>())
        });
        push("product", &|a| serde_json::json!(a.product));
        push("spans", &|a| {
            serde_json::json!(
                a.spans
                    .iter()
                    .map(|s| (s.char_start, s.char_end, s.label.clone()))
                    .collect::<BTreeSet<_>>()
            )
        });
        out
    }
}

/// Group imported dataset records (one per annotator, as [`AnnotatedTask::to_examples`] writes
/// them) back into tasks by family; the annotator is the id's suffix after the family.
pub fn tasks_from_examples(examples: &[Example]) -> Vec<AnnotatedTask> {
    let mut tasks: Vec<AnnotatedTask> = Vec::new();
    for ex in examples {
        let annotator = ex
            .id
            .strip_prefix(&format!("{}-", ex.family))
            .unwrap_or(&ex.id)
            .to_string();
        let ann = Annotation {
            annotator,
            labels: ex.labels.clone(),
            product: ex.product.clone(),
            spans: ex.spans.clone(),
            note: None,
        };
        match tasks.iter_mut().find(|t| t.task_id == ex.family) {
            Some(t) => t.annotations.push(ann),
            None => tasks.push(AnnotatedTask {
                index: tasks.len(),
                task_id: ex.family.clone(),
                text: ex.text.clone(),
                channel: ex.channel,
                annotations: vec![ann],
            }),
        }
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::span_from_chars;

    fn ex(id: &str, text: &str, label: &str, start: usize, end: usize) -> Example {
        Example {
            id: id.into(),
            text: text.into(),
            channel: Channel::Livestream,
            labels: vec![label.into()],
            product: Some("myopia_vision".into()),
            spans: vec![span_from_chars(text, label, start, end).unwrap()],
            source: Source::Handwritten,
            family: "f".into(),
            split: Split::Dev,
            kind: None,
            neg_type: None,
            evasion: Vec::new(),
        }
    }

    /// Export as predictions, import them as one annotator's answer: nothing lost.
    #[test]
    fn round_trips_emoji_traditional_and_end_spans() {
        let exs = vec![
            ex("a", "👋👋家人們治癒近視", "cure_claim", 5, 9),
            ex("b", "治癒近視🎉", "cure_claim", 0, 5),
        ];
        let preds: Vec<labelstudio::Prediction> = exs
            .iter()
            .map(|e| labelstudio::Prediction {
                model_version: "t".into(),
                score: 0.9,
                labels: e.labels.clone(),
                product: e.product.clone(),
                spans: e.spans.clone(),
            })
            .collect();
        let mut tasks = labelstudio::export(&exs, Some(&preds));
        for t in tasks.as_array_mut().unwrap() {
            let mut p = t["predictions"][0].clone();
            p["completed_by"] = serde_json::json!(7);
            t["annotations"] = serde_json::json!([p]);
        }
        let back = labelstudio::import(&tasks.to_string()).unwrap();
        for (t, e) in back.iter().zip(&exs) {
            let r = &t.to_examples()[0];
            assert_eq!(
                (&r.text, &r.labels, &r.product, &r.spans),
                (&e.text, &e.labels, &e.product, &e.spans)
            );
            assert_eq!(r.source, Source::Analyst);
            assert_eq!(r.id, format!("analyst-{}-7", e.id));
        }
        let d = doccano::import(&doccano::export(&exs)).unwrap();
        for (t, e) in d.iter().zip(&exs) {
            let r = &t.to_examples()[0];
            assert_eq!(
                (&r.labels, &r.product, &r.spans),
                (&e.labels, &e.product, &e.spans)
            );
        }
    }

    #[test]
    fn disagreement_is_a_conflict() {
        let doc = r#"[{"data":{"text":"治愈近视","id":"t1"},"annotations":[
          {"completed_by":1,"result":[{"from_name":"labels","to_name":"text","type":"choices","value":{"choices":["cure_claim"]}}]},
          {"completed_by":2,"result":[]}]}]"#;
        let t = labelstudio::import(doc).unwrap();
        let c = t[0].conflicts();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "labels");
        assert_eq!(t[0].to_examples().len(), 2);
        let again = tasks_from_examples(&t[0].to_examples());
        assert_eq!(again[0].annotations.len(), 2);
    }
}
