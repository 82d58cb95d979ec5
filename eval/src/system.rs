//! The systems under evaluation — model bundles and the keyword baseline — behind one
//! interface that returns, per text, flags, probabilities, product and evidence spans.

use std::path::Path;

use qingwang_datasets::{Lexicons, Taxonomy};
use qingwang_model::baseline::{KeywordMatcher, LinearModel};
use qingwang_model::metrics::SystemOutput;
use qingwang_model::normalize::Normalizer;
use qingwang_model::{Classifier, ClassifyOptions};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A predicted evidence span, in chars of the original text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredSpan {
    /// Label id.
    pub label: String,
    /// First char.
    pub char_start: usize,
    /// Exclusive.
    pub char_end: usize,
}

/// What one system said about one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Flagged labels, taxonomy order.
    pub flags: Vec<bool>,
    /// Probability per label (taxonomy order); `None` for systems without scores.
    pub probs: Option<Vec<f32>>,
    /// Violation score: the highest label probability (keyword: 1 when any trigger fires).
    pub score: f32,
    /// Predicted product id.
    pub product: Option<String>,
    /// Evidence spans.
    pub spans: Vec<PredSpan>,
    /// Why the text was not scored (the system then flags nothing).
    pub input_error: Option<String>,
}

impl Output {
    /// Any label flagged.
    pub fn violation(&self) -> bool {
        self.flags.iter().any(|f| *f)
    }

    /// The form [`qingwang_model::metrics::quality`] reads.
    pub fn system_output(&self) -> SystemOutput {
        SystemOutput {
            flags: self.flags.clone(),
            product: self.product.clone(),
        }
    }
}

/// model | keyword | linear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    /// A trained bundle.
    Model,
    /// The trigger-word baseline (the status quo).
    Keyword,
    /// The bag-of-n-grams baseline stored in a bundle (`linear.json` + `linear.safetensors`).
    Linear,
}

/// A system that can score texts.
pub trait Scorer {
    /// Stable id within a run (`keyword`, `model`, `model2`, …); compare matches on it.
    fn id(&self) -> &str;
    /// model or keyword.
    fn kind(&self) -> SystemKind;
    /// Bundle version, or the baseline's description.
    fn version(&self) -> String;
    /// Whether it predicts products.
    fn predicts_products(&self) -> bool;
    /// The per-label decision thresholds (taxonomy order), for systems that have them.
    fn thresholds(&self) -> Option<Vec<f32>> {
        None
    }
    /// One output per text, in order.
    fn run(&self, texts: &[&str]) -> Result<Vec<Output>>;
}

/// A model bundle.
pub struct ModelScorer {
    id: String,
    classifier: Classifier,
}

impl ModelScorer {
    /// Load and verify a bundle.
    pub fn load(id: impl Into<String>, dir: &Path) -> Result<Self> {
        Ok(Self {
            id: id.into(),
            classifier: Classifier::load(dir)?,
        })
    }

    /// The classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }
}

impl Scorer for ModelScorer {
    fn id(&self) -> &str {
        &self.id
    }
    fn kind(&self) -> SystemKind {
        SystemKind::Model
    }
    fn version(&self) -> String {
        self.classifier.version().to_string()
    }
    fn predicts_products(&self) -> bool {
        true
    }
    fn thresholds(&self) -> Option<Vec<f32>> {
        Some(
            self.classifier
                .labels()
                .iter()
                .map(|l| l.threshold)
                .collect(),
        )
    }
    fn run(&self, texts: &[&str]) -> Result<Vec<Output>> {
        let opts = ClassifyOptions {
            explain: true,
            ..ClassifyOptions::default()
        };
        let labels = self.classifier.labels();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(128) {
            let (preds, _) = self.classifier.classify(chunk, &opts)?;
            for p in preds {
                out.push(match p {
                    Ok(p) => {
                        let probs: Vec<f32> = labels
                            .iter()
                            .map(|l| {
                                p.scores
                                    .as_ref()
                                    .and_then(|s| s.get(&l.id).copied())
                                    .unwrap_or(0.0)
                            })
                            .collect();
                        Output {
                            flags: labels
                                .iter()
                                .map(|l| p.labels.iter().any(|x| x.id == l.id))
                                .collect(),
                            score: p.score,
                            probs: Some(probs),
                            product: p.product.map(|x| x.id),
                            spans: p
                                .spans
                                .into_iter()
                                .map(|s| PredSpan {
                                    label: s.label,
                                    char_start: s.char_start,
                                    char_end: s.char_end,
                                })
                                .collect(),
                            input_error: None,
                        }
                    }
                    Err(e) => Output {
                        flags: vec![false; labels.len()],
                        probs: Some(vec![0.0; labels.len()]),
                        score: 0.0,
                        product: None,
                        spans: vec![],
                        input_error: Some(e.to_string()),
                    },
                });
            }
        }
        Ok(out)
    }
}

/// The linear baseline kept in a bundle, read with the bundle's own lexicons.
pub struct LinearScorer {
    model: LinearModel,
    normalizer: Normalizer,
    version: String,
}

impl LinearScorer {
    /// Load `linear.json` + `linear.safetensors` and the lexicons of the bundle at `dir`
    /// (the bundle named `version`).
    pub fn load(dir: &Path, version: &str) -> Result<Self> {
        let lex = Lexicons::load_dir(&dir.join("lexicon"))?;
        Ok(Self {
            model: LinearModel::load(dir)?,
            normalizer: Normalizer::new(&lex),
            version: format!("linear baseline of {version}"),
        })
    }
}

impl Scorer for LinearScorer {
    fn id(&self) -> &str {
        "linear"
    }
    fn kind(&self) -> SystemKind {
        SystemKind::Linear
    }
    fn version(&self) -> String {
        self.version.clone()
    }
    fn predicts_products(&self) -> bool {
        false
    }
    fn thresholds(&self) -> Option<Vec<f32>> {
        Some(self.model.thresholds.clone())
    }
    fn run(&self, texts: &[&str]) -> Result<Vec<Output>> {
        Ok(texts
            .iter()
            .map(|t| {
                let probs = self.model.probs(t, &self.normalizer);
                let flags = probs
                    .iter()
                    .zip(&self.model.thresholds)
                    .map(|(p, th)| p >= th)
                    .collect();
                Output {
                    flags,
                    score: probs.iter().copied().fold(0.0, f32::max),
                    probs: Some(probs),
                    product: None,
                    spans: vec![],
                    input_error: None,
                }
            })
            .collect())
    }
}

/// The keyword baseline.
pub struct KeywordScorer {
    matcher: KeywordMatcher,
    labels: Vec<String>,
}

impl KeywordScorer {
    /// Build from the lexicons' trigger list.
    pub fn new(lex: &Lexicons, tax: &Taxonomy) -> Self {
        Self {
            matcher: KeywordMatcher::new(lex, tax),
            labels: tax.label_ids().map(String::from).collect(),
        }
    }
}

impl Scorer for KeywordScorer {
    fn id(&self) -> &str {
        "keyword"
    }
    fn kind(&self) -> SystemKind {
        SystemKind::Keyword
    }
    fn version(&self) -> String {
        "trigger words (datasets/lexicon/triggers.json)".into()
    }
    fn predicts_products(&self) -> bool {
        false
    }
    fn run(&self, texts: &[&str]) -> Result<Vec<Output>> {
        Ok(texts
            .iter()
            .map(|t| {
                let hits = self.matcher.hits(t);
                let mut flags = vec![false; self.labels.len()];
                let mut spans: Vec<PredSpan> = Vec::new();
                for h in hits {
                    flags[h.label] = true;
                    let s = PredSpan {
                        label: self.labels[h.label].clone(),
                        char_start: h.char_start,
                        char_end: h.char_end,
                    };
                    if !spans.contains(&s) {
                        spans.push(s);
                    }
                }
                let any = flags.iter().any(|f| *f);
                Output {
                    flags,
                    probs: None,
                    score: if any { 1.0 } else { 0.0 },
                    product: None,
                    spans,
                    input_error: None,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_flags_triggers_with_spans_in_original_chars() {
        let tax = Taxonomy::builtin();
        let lex = Lexicons::builtin().unwrap();
        let k = KeywordScorer::new(&lex, &tax);
        let out = k.run(&["👀这款贴三天治愈近视", "今天顺丰包邮"]).unwrap();
        assert!(out[0].violation());
        assert!(!out[1].violation());
        assert_eq!(out[1].score, 0.0);
        let cure = out[0]
            .spans
            .iter()
            .find(|s| s.label == "cure_claim")
            .unwrap();
        let text: String = "👀这款贴三天治愈近视"
            .chars()
            .skip(cure.char_start)
            .take(cure.char_end - cure.char_start)
            .collect();
        assert!(text.contains("治愈"), "{text}");
    }
}
