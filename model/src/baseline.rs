//! The two baselines reported beside the network:
//! - [`KeywordMatcher`]: what a monitoring centre runs today — the trigger-word list from
//!   datasets/lexicon/triggers.json matched in normalised text (the same normaliser, so the
//!   comparison is about the model, not about spelling tricks);
//! - [`LinearModel`]: one-vs-rest logistic regression over hashed character 1–3-grams of the
//!   normalised text, trained with seeded SGD.

use std::collections::BTreeMap;

use qingwang_datasets::{Example, Lexicons, Taxonomy};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use std::path::Path;

use crate::error::{ModelError, Result};
use crate::normalize::Normalizer;

/// The keyword baseline.
#[derive(Debug, Clone)]
pub struct KeywordMatcher {
    normalizer: Normalizer,
    /// Per label (taxonomy order): normalised trigger words.
    triggers: Vec<Vec<String>>,
}

/// One keyword hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordHit {
    /// Label index (taxonomy order).
    pub label: usize,
    /// The trigger word (normalised).
    pub trigger: String,
    /// Char range in the original text.
    pub char_start: usize,
    /// Exclusive.
    pub char_end: usize,
}

impl KeywordMatcher {
    /// Build from the lexicons' trigger list.
    pub fn new(lex: &Lexicons, tax: &Taxonomy) -> Self {
        let normalizer = Normalizer::new(lex);
        let triggers = tax
            .labels
            .iter()
            .map(|l| {
                let mut ws: Vec<String> = lex
                    .triggers
                    .get(&l.id)
                    .into_iter()
                    .flatten()
                    .map(|w| normalizer.normalize(w).text())
                    .filter(|w| !w.is_empty())
                    .collect();
                ws.sort();
                ws.dedup();
                ws
            })
            .collect();
        Self {
            normalizer,
            triggers,
        }
    }

    /// Every trigger occurrence (first per trigger), with original offsets.
    pub fn hits(&self, text: &str) -> Vec<KeywordHit> {
        let norm = self.normalizer.normalize(text);
        let ntext = norm.text();
        let mut out = Vec::new();
        for (label, words) in self.triggers.iter().enumerate() {
            for w in words {
                if let Some(b) = ntext.find(w.as_str()) {
                    let s = ntext[..b].chars().count();
                    let e = s + w.chars().count();
                    if let Some((cs, ce)) = norm.original_range(s, e) {
                        out.push(KeywordHit {
                            label,
                            trigger: w.clone(),
                            char_start: cs,
                            char_end: ce,
                        });
                    }
                }
            }
        }
        out
    }

    /// Which labels fire (taxonomy order).
    pub fn flags(&self, text: &str) -> Vec<bool> {
        let mut f = vec![false; self.triggers.len()];
        for h in self.hits(text) {
            f[h.label] = true;
        }
        f
    }
}

/// Hashed n-gram buckets of the linear model.
pub const LINEAR_BUCKETS: usize = 1 << 16;

/// Feature buckets of a normalised text: char 1-, 2- and 3-grams, FNV-1a hashed.
pub fn ngram_features(norm: &[char]) -> Vec<u32> {
    let mut out = Vec::with_capacity(norm.len() * 3);
    for n in 1..=3 {
        for w in norm.windows(n) {
            let mut h: u64 = 0xcbf29ce484222325 ^ n as u64;
            for c in w {
                h ^= *c as u64;
                h = h.wrapping_mul(0x100000001b3);
            }
            out.push((h % LINEAR_BUCKETS as u64) as u32);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The linear baseline's weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinearModel {
    /// Per label: `LINEAR_BUCKETS` weights followed by a bias.
    pub weights: Vec<Vec<f32>>,
    /// Per label decision thresholds.
    pub thresholds: Vec<f32>,
}

/// Linear training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearConfig {
    /// Seed for the example order.
    pub seed: u64,
    /// SGD passes.
    pub epochs: usize,
    /// Learning rate.
    pub lr: f32,
    /// L2 strength.
    pub l2: f32,
}

impl Default for LinearConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            epochs: 5,
            lr: 0.2,
            l2: 1e-6,
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl LinearModel {
    /// Train on weighted examples (labels in taxonomy order); an example's weight scales its
    /// gradient, as in the network's loss.
    pub fn train(
        examples: &[(&Example, f32)],
        normalizer: &Normalizer,
        tax: &Taxonomy,
        cfg: LinearConfig,
    ) -> Self {
        let nl = tax.labels.len();
        let feats: Vec<(Vec<u32>, Vec<bool>)> = examples
            .iter()
            .map(|(e, _)| {
                let f = ngram_features(&normalizer.normalize(&e.text).chars);
                let mut y = vec![false; nl];
                for l in &e.labels {
                    if let Some(i) = tax.label_index(l) {
                        y[i] = true;
                    }
                }
                (f, y)
            })
            .collect();
        let mut weights = vec![vec![0f32; LINEAR_BUCKETS + 1]; nl];
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut order: Vec<usize> = (0..feats.len()).collect();
        for epoch in 0..cfg.epochs {
            order.shuffle(&mut rng);
            let lr = cfg.lr / (1.0 + epoch as f32);
            for &i in &order {
                let (f, y) = &feats[i];
                let weight = examples[i].1;
                let scale = 1.0 / (f.len().max(1) as f32).sqrt();
                for (l, w) in weights.iter_mut().enumerate() {
                    let z: f32 =
                        f.iter().map(|&b| w[b as usize]).sum::<f32>() * scale + w[LINEAR_BUCKETS];
                    let g = weight * (sigmoid(z) - if y[l] { 1.0 } else { 0.0 });
                    for &b in f {
                        let wb = &mut w[b as usize];
                        *wb -= lr * (g * scale + cfg.l2 * *wb);
                    }
                    w[LINEAR_BUCKETS] -= lr * g;
                }
            }
        }
        Self {
            weights,
            thresholds: tax.labels.iter().map(|l| l.threshold).collect(),
        }
    }

    /// Label probabilities (taxonomy order).
    pub fn probs(&self, text: &str, normalizer: &Normalizer) -> Vec<f32> {
        self.probs_normalized(&normalizer.normalize(text).chars)
    }

    /// Label probabilities of an already normalised text.
    pub fn probs_normalized(&self, norm: &[char]) -> Vec<f32> {
        let f = ngram_features(norm);
        let scale = 1.0 / (f.len().max(1) as f32).sqrt();
        self.weights
            .iter()
            .map(|w| {
                sigmoid(f.iter().map(|&b| w[b as usize]).sum::<f32>() * scale + w[LINEAR_BUCKETS])
            })
            .collect()
    }

    /// Write into a bundle: weights as `linear.safetensors` (`[labels, buckets + 1]`, f32) and
    /// thresholds as `linear.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let nl = self.weights.len();
        let flat: Vec<f32> = self.weights.iter().flatten().copied().collect();
        let t = candle_core::Tensor::from_vec(
            flat,
            (nl, LINEAR_BUCKETS + 1),
            &candle_core::Device::Cpu,
        )?;
        let path = dir.join("linear.safetensors");
        candle_core::safetensors::save(
            &std::collections::HashMap::from([("weights".to_string(), t)]),
            &path,
        )?;
        crate::bundle::write_json(
            dir,
            "linear.json",
            &LinearMeta {
                buckets: LINEAR_BUCKETS,
                features: "char 1-3-grams of normalised text, FNV-1a".into(),
                thresholds: self.thresholds.clone(),
            },
        )
    }

    /// Read from a bundle.
    pub fn load(dir: &Path) -> Result<Self> {
        let meta: LinearMeta = crate::bundle::read_json(dir, "linear.json")?;
        if meta.buckets != LINEAR_BUCKETS {
            return Err(ModelError::bundle(
                dir,
                format!(
                    "linear model has {} buckets, this build uses {LINEAR_BUCKETS}",
                    meta.buckets
                ),
            ));
        }
        let tensors = candle_core::safetensors::load(
            dir.join("linear.safetensors"),
            &candle_core::Device::Cpu,
        )?;
        let t = tensors
            .get("weights")
            .ok_or_else(|| ModelError::bundle(dir, "linear.safetensors has no `weights`"))?;
        let weights = t.to_vec2::<f32>()?;
        if weights.len() != meta.thresholds.len()
            || weights.iter().any(|w| w.len() != LINEAR_BUCKETS + 1)
        {
            return Err(ModelError::bundle(
                dir,
                "linear.safetensors shape does not match linear.json",
            ));
        }
        Ok(Self {
            weights,
            thresholds: meta.thresholds,
        })
    }
}

/// linear.json: how to read linear.safetensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearMeta {
    /// Hash buckets.
    pub buckets: usize,
    /// What the features are.
    pub features: String,
    /// Per-label thresholds (dev-tuned).
    pub thresholds: Vec<f32>,
}

/// Per-label trigger counts, for reports.
pub fn trigger_counts(lex: &Lexicons) -> BTreeMap<String, usize> {
    lex.triggers
        .iter()
        .map(|(k, v)| (k.clone(), v.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qingwang_datasets::{Channel, Source, Split};

    fn lex() -> Lexicons {
        Lexicons::from_texts(
            "zhiyu\t治愈\tpinyin\n",
            "癒\t愈\n",
            r#"{"cure_claim": ["治愈", "摘镜"], "safety_assurance": ["无副作用"]}"#,
            "",
        )
        .unwrap()
    }

    #[test]
    fn keywords_match_through_evasion_and_point_at_the_original() {
        let tax = Taxonomy::builtin();
        let k = KeywordMatcher::new(&lex(), &tax);
        let text = "宝宝们 这个能治✨癒 而且无副作用";
        let hits = k.hits(text);
        let cure = tax.label_index("cure_claim").unwrap();
        let safe = tax.label_index("safety_assurance").unwrap();
        let h = hits.iter().find(|h| h.label == cure).unwrap();
        let quote: String = text
            .chars()
            .skip(h.char_start)
            .take(h.char_end - h.char_start)
            .collect();
        assert_eq!(quote, "治✨癒");
        let f = k.flags(text);
        assert!(f[cure] && f[safe]);
        assert_eq!(f.iter().filter(|x| **x).count(), 2);
        // The keyword matcher cannot tell a warning from a claim: that is the status quo.
        assert!(k.flags("警惕！宣称能治愈近视的都是骗局")[cure]);
        assert!(!k.flags("三二一上链接")[cure]);
    }

    fn mk(t: &str, labels: &[&str]) -> Example {
        Example {
            id: t.into(),
            text: t.into(),
            channel: Channel::Post,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            product: None,
            spans: vec![],
            source: Source::Handwritten,
            family: "f".into(),
            split: Split::Train,
            kind: None,
            neg_type: None,
            evasion: vec![],
        }
    }

    #[test]
    fn linear_model_weighs_examples_by_their_weight() {
        let tax = Taxonomy::builtin();
        let l = lex();
        let n = Normalizer::new(&l);
        // The same texts, once as claims and once as non-claims: the heavier copy wins.
        let claims: Vec<Example> = (0..30)
            .map(|i| mk(&format!("戴{i}天保证治愈近视"), &["cure_claim"]))
            .collect();
        let plain: Vec<Example> = (0..30)
            .map(|i| mk(&format!("戴{i}天保证治愈近视"), &[]))
            .collect();
        let cure = tax.label_index("cure_claim").unwrap();
        let train = |wc: f32, wp: f32| {
            let refs: Vec<(&Example, f32)> = claims
                .iter()
                .map(|e| (e, wc))
                .chain(plain.iter().map(|e| (e, wp)))
                .collect();
            LinearModel::train(&refs, &n, &tax, LinearConfig::default())
                .probs("戴7天保证治愈近视", &n)[cure]
        };
        let (claims_heavy, plain_heavy) = (train(1.0, 0.2), train(0.2, 1.0));
        assert!(claims_heavy > 0.6, "{claims_heavy}");
        assert!(plain_heavy < 0.4, "{plain_heavy}");
    }

    #[test]
    fn linear_model_learns_and_round_trips() {
        let tax = Taxonomy::builtin();
        let l = lex();
        let n = Normalizer::new(&l);
        let mut exs = Vec::new();
        for i in 0..30 {
            exs.push(mk(&format!("戴{i}天保证治愈近视"), &["cure_claim"]));
            exs.push(mk(&format!("今天{i}号发货 包邮"), &[]));
        }
        let refs: Vec<(&Example, f32)> = exs.iter().map(|e| (e, 1.0)).collect();
        let m = LinearModel::train(&refs, &n, &tax, LinearConfig::default());
        let cure = tax.label_index("cure_claim").unwrap();
        assert!(m.probs("保证治愈近视", &n)[cure] > 0.7);
        assert!(m.probs("明天发货 包邮", &n)[cure] < 0.3);
        let dir = tempfile::tempdir().unwrap();
        m.save(dir.path()).unwrap();
        let back = LinearModel::load(dir.path()).unwrap();
        let (a, b) = (
            m.probs("治愈近视", &n)[cure],
            back.probs("治愈近视", &n)[cure],
        );
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}
