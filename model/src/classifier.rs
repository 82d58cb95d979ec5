//! Inference: a loaded bundle turns texts into [`Prediction`]s — label probabilities, a verdict,
//! a product and evidence spans mapped back to the text the user sent (char, UTF-16 and byte
//! offsets). Texts longer than the window are covered by overlapping windows; a label's score is
//! its best window's, and evidence comes from every window.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{D, DType, Device};
use candle_nn::VarBuilder;
use qingwang_datasets::{Lexicons, Taxonomy};
use serde::{Deserialize, Serialize};

use crate::baseline::LinearModel;
use crate::bundle::{self, BundleConfig, Manifest, Thresholds};
use crate::decision::gated_flags;
use crate::encode::{Encoded, Encoder, windows};
use crate::error::{InputError, ModelError, Result};
use crate::network::{Batch, ClaimNet};
use crate::normalize::OffsetTable;
use crate::vocab::Vocab;

/// Default limit on one text's length, in chars. Longer texts are rejected, never cut.
pub const DEFAULT_MAX_TEXT_CHARS: usize = 20_000;
/// Windows per forward pass.
const CHUNK: usize = 32;

/// pass | review | block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No label reached its threshold.
    Pass,
    /// A label reached its threshold but none reached the block threshold.
    Review,
    /// A flagged label reached the block threshold.
    Block,
}

/// One flagged label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    /// Label id.
    pub id: String,
    /// Probability.
    pub score: f32,
    /// The rules the claim breaks.
    pub legal_basis: Vec<String>,
}

/// The product category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductScore {
    /// Product id.
    pub id: String,
    /// Probability.
    pub score: f32,
}

/// Evidence for one label, in the units clients use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceSpan {
    /// The label it supports.
    pub label: String,
    /// The exact words of the original text.
    pub text: String,
    /// Unicode scalar values.
    pub char_start: usize,
    /// Exclusive.
    pub char_end: usize,
    /// UTF-16 code units.
    pub utf16_start: usize,
    /// Exclusive.
    pub utf16_end: usize,
    /// UTF-8 bytes.
    pub byte_start: usize,
    /// Exclusive.
    pub byte_end: usize,
}

/// The result for one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Any label flagged.
    pub violation: bool,
    /// pass | review | block.
    pub verdict: Verdict,
    /// The highest label probability (among the labels asked for).
    pub score: f32,
    /// Flagged labels, best first.
    pub labels: Vec<LabelScore>,
    /// Product category, when one scores above "none".
    pub product: Option<ProductScore>,
    /// Evidence for every flagged label.
    pub spans: Vec<EvidenceSpan>,
    /// Every label's probability (only with `explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<BTreeMap<String, f32>>,
    /// Bundle version.
    pub model: String,
}

/// Per-request options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassifyOptions {
    /// Only report these labels (ids); `None` = all.
    pub labels: Option<Vec<String>>,
    /// Threshold overrides by label id.
    pub thresholds: BTreeMap<String, f32>,
    /// Include every label's probability.
    pub explain: bool,
}

/// Raw model output for one text.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The encoded text (normalised text and alignment).
    pub encoded: Encoded,
    /// Probability per label (taxonomy order): the network's (max over windows), blended with
    /// the linear model's when the bundle has a blend below 1.
    pub label_probs: Vec<f32>,
    /// Probability per product output (0 = none, then taxonomy order).
    pub product_probs: Vec<f32>,
    /// Per label, per normalised position: the best window's token probability.
    pub token_probs: Vec<Vec<f32>>,
}

/// Wall time spent per stage of a batch, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimings {
    /// Normalisation, segmentation and id lookup.
    pub tokenize_us: u64,
    /// Network forward passes.
    pub inference_us: u64,
    /// Thresholds, spans and offsets.
    pub postprocess_us: u64,
}

/// Label metadata the classifier reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelInfo {
    /// Label id.
    pub id: String,
    /// Chinese name.
    pub zh: String,
    /// The rules the claim breaks.
    pub legal_basis: Vec<String>,
    /// Threshold in use.
    pub threshold: f32,
}

/// Check one input text: not empty, not over the limit.
pub fn check_text(text: &str, max_chars: usize) -> Result<(), InputError> {
    if text.trim().is_empty() {
        return Err(InputError::EmptyText);
    }
    let len = text.chars().count();
    if len > max_chars {
        return Err(InputError::TooLong {
            len,
            max: max_chars,
        });
    }
    Ok(())
}

/// A loaded bundle, ready to classify. Cheap to share across threads (`&self` everywhere).
pub struct Classifier {
    dir: PathBuf,
    config: BundleConfig,
    manifest: Option<Manifest>,
    net: ClaimNet,
    encoder: Encoder,
    thresholds: Vec<f32>,
    /// The violation gate (see [`gated_flags`]); `None`: any label at its threshold flags.
    gate: Option<f32>,
    block: f32,
    /// The linear model blended into the label probabilities, with the network's weight.
    linear: Option<(LinearModel, f32)>,
    labels: Vec<LabelInfo>,
    max_text_chars: usize,
    device: Device,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("dir", &self.dir)
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl Classifier {
    /// Load a bundle, verifying its manifest.
    pub fn load(dir: &Path) -> Result<Self> {
        let manifest = bundle::verify(dir)?;
        let mut c = Self::load_unverified(dir)?;
        c.manifest = Some(manifest);
        Ok(c)
    }

    /// Load a bundle that has no manifest yet (during training).
    pub fn load_unverified(dir: &Path) -> Result<Self> {
        let config: BundleConfig = bundle::read_json(dir, "config.json")?;
        if config.format != bundle::FORMAT {
            return Err(ModelError::bundle(
                dir,
                format!("format {} is not {}", config.format, bundle::FORMAT),
            ));
        }
        let tax = Taxonomy::builtin();
        let tax_labels: Vec<String> = tax.label_ids().map(String::from).collect();
        let tax_products: Vec<String> = tax.product_ids().map(String::from).collect();
        if config.labels != tax_labels || config.products != tax_products {
            return Err(ModelError::bundle(
                dir,
                "labels or products differ from the taxonomy compiled into this build; retrain",
            ));
        }
        let lex = Lexicons::load_dir(&dir.join("lexicon"))?;
        let vocab = Vocab::load(&dir.join("tokenizer.json"), config.pinyin.clone())?;
        if vocab.len() != config.net.vocab_size || vocab.pinyin_len() != config.net.pinyin_size {
            return Err(ModelError::bundle(
                dir,
                "tokenizer.json does not match config.json's vocabulary sizes",
            ));
        }
        let encoder = Encoder::new(&lex, vocab)?;
        let device = Device::Cpu;
        let path = dir.join("model.safetensors");
        let tensors = candle_core::safetensors::load(&path, &device)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let net = ClaimNet::new(&config.net, vb)?;
        let thresholds_file: Option<Thresholds> = if dir.join("thresholds.json").exists() {
            Some(bundle::read_json(dir, "thresholds.json")?)
        } else {
            None
        };
        let block = thresholds_file
            .as_ref()
            .map_or(tax.verdict.block, |t| t.block);
        let blend = thresholds_file.as_ref().map_or(1.0, |t| t.blend);
        let gate = thresholds_file.as_ref().and_then(|t| t.gate);
        if let Some(g) = gate {
            if !(0.0..=1.0).contains(&g) {
                return Err(ModelError::bundle(
                    dir,
                    format!("thresholds.json: gate {g} is not in [0, 1]"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&blend) {
            return Err(ModelError::bundle(
                dir,
                format!("thresholds.json: blend {blend} is not in [0, 1]"),
            ));
        }
        let linear = if blend < 1.0 {
            let lin = LinearModel::load(dir)?;
            if lin.weights.len() != tax.labels.len() {
                return Err(ModelError::bundle(
                    dir,
                    "linear model's labels differ from the taxonomy",
                ));
            }
            Some((lin, blend))
        } else {
            None
        };
        let thresholds: Vec<f32> = tax
            .labels
            .iter()
            .map(|l| {
                thresholds_file
                    .as_ref()
                    .and_then(|t| t.labels.get(&l.id).copied())
                    .unwrap_or(l.threshold)
            })
            .collect();
        let labels = tax
            .labels
            .iter()
            .zip(&thresholds)
            .map(|(l, &t)| LabelInfo {
                id: l.id.clone(),
                zh: l.zh.clone(),
                legal_basis: l.legal_basis.clone(),
                threshold: t,
            })
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            manifest: None,
            net,
            encoder,
            thresholds,
            gate,
            block,
            linear,
            labels,
            max_text_chars: DEFAULT_MAX_TEXT_CHARS,
            device,
        })
    }

    /// Set the longest text accepted (chars).
    pub fn with_max_text_chars(mut self, max: usize) -> Self {
        self.max_text_chars = max.max(1);
        self
    }

    /// The longest text accepted.
    pub fn max_text_chars(&self) -> usize {
        self.max_text_chars
    }

    /// The bundle version (manifest hash), or `unversioned` during training.
    pub fn version(&self) -> &str {
        self.manifest
            .as_ref()
            .map_or("unversioned", |m| m.version.as_str())
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bundle's config.
    pub fn config(&self) -> &BundleConfig {
        &self.config
    }

    /// The manifest (absent only during training).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Labels with legal basis and the thresholds in use.
    pub fn labels(&self) -> &[LabelInfo] {
        &self.labels
    }

    /// The block threshold.
    pub fn block_threshold(&self) -> f32 {
        self.block
    }

    /// The violation gate, when the bundle has one (see [`gated_flags`]).
    pub fn gate(&self) -> Option<f32> {
        self.gate
    }

    /// The encoder (normalisation, segmentation, vocabulary).
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Raw scores for texts (no input checks: callers check with [`check_text`]).
    pub fn score(&self, texts: &[&str]) -> Result<(Vec<Scored>, StageTimings)> {
        let mut timings = StageTimings::default();
        let t0 = Instant::now();
        let encoded: Vec<Encoded> = texts.iter().map(|t| self.encoder.encode(t)).collect();
        timings.tokenize_us = t0.elapsed().as_micros() as u64;
        let t1 = Instant::now();
        let nl = self.config.labels.len();
        let np = self.config.products.len() + 1;
        let mut out: Vec<Scored> = encoded
            .into_iter()
            .map(|e| {
                let n = e.len();
                Scored {
                    encoded: e,
                    label_probs: vec![0.0; nl],
                    product_probs: vec![0.0; np],
                    token_probs: vec![vec![0.0; n]; nl],
                }
            })
            .collect();
        // All windows of all texts, shortest first so batches pad little.
        let mut wins: Vec<(usize, usize, usize)> = Vec::new();
        for (i, s) in out.iter().enumerate() {
            for (a, b) in windows(s.encoded.len(), self.config.window, self.config.stride) {
                wins.push((i, a, b));
            }
        }
        wins.sort_by_key(|&(i, a, b)| (b - a, i, a));
        let mut n_windows = vec![0usize; out.len()];
        for chunk in wins.chunks(CHUNK) {
            let rows: Vec<(&[u32], &[u32], &[u32])> = chunk
                .iter()
                .map(|&(i, a, b)| {
                    let e = &out[i].encoded;
                    (&e.char_ids[a..b], &e.word_ids[a..b], &e.pinyin_ids[a..b])
                })
                .collect();
            let batch = Batch::from_rows(&rows, &self.device)?;
            let o = self.net.forward(&batch)?;
            let doc = candle_nn::ops::sigmoid(&o.doc_logits)?.to_vec2::<f32>()?;
            let tok = candle_nn::ops::sigmoid(&o.token_logits)?.to_vec3::<f32>()?;
            let prod = candle_nn::ops::softmax(&o.product_logits, D::Minus1)?.to_vec2::<f32>()?;
            for (k, &(i, a, b)) in chunk.iter().enumerate() {
                let s = &mut out[i];
                n_windows[i] += 1;
                for l in 0..nl {
                    s.label_probs[l] = s.label_probs[l].max(doc[k][l]);
                    for p in a..b {
                        s.token_probs[l][p] = s.token_probs[l][p].max(tok[k][l][p - a]);
                    }
                }
                for (acc, v) in s.product_probs.iter_mut().zip(&prod[k]) {
                    *acc += v;
                }
            }
        }
        for (s, &n) in out.iter_mut().zip(&n_windows) {
            if n == 0 {
                continue;
            }
            s.product_probs.iter_mut().for_each(|p| *p /= n as f32);
            if let Some((lin, w)) = &self.linear {
                // The linear model reads the whole normalised text (no windows needed).
                let lp = lin.probs_normalized(&s.encoded.norm.chars);
                for (p, q) in s.label_probs.iter_mut().zip(lp) {
                    *p = w * *p + (1.0 - w) * q;
                }
            }
        }
        timings.inference_us = t1.elapsed().as_micros() as u64;
        Ok((out, timings))
    }

    /// Validate options against the label set.
    pub fn check_options(&self, opts: &ClassifyOptions) -> Result<(), String> {
        let known = |id: &str| self.config.labels.iter().any(|l| l == id);
        if let Some(ls) = &opts.labels {
            if let Some(bad) = ls.iter().find(|l| !known(l)) {
                return Err(format!("unknown label `{bad}`"));
            }
        }
        for (id, t) in &opts.thresholds {
            if !known(id) {
                return Err(format!("unknown label `{id}`"));
            }
            if !(0.0..=1.0).contains(t) || t.is_nan() {
                return Err(format!("threshold for `{id}` must be in [0, 1]"));
            }
        }
        Ok(())
    }

    /// Classify texts; one result per text, in order. Invalid texts get their own error and do
    /// not stop the others. Unknown labels in `opts` are ignored here (check them first with
    /// [`Self::check_options`]).
    pub fn classify(
        &self,
        texts: &[&str],
        opts: &ClassifyOptions,
    ) -> Result<(Vec<Result<Prediction, InputError>>, StageTimings)> {
        let checks: Vec<Result<(), InputError>> = texts
            .iter()
            .map(|t| check_text(t, self.max_text_chars))
            .collect();
        let valid: Vec<&str> = texts
            .iter()
            .zip(&checks)
            .filter(|(_, c)| c.is_ok())
            .map(|(t, _)| *t)
            .collect();
        let (scored, mut timings) = self.score(&valid)?;
        let t = Instant::now();
        let mut scored = scored.into_iter();
        let mut out = Vec::with_capacity(texts.len());
        for (text, check) in texts.iter().zip(checks) {
            match check {
                Err(e) => out.push(Err(e)),
                Ok(()) => {
                    let s = scored.next().ok_or_else(|| {
                        ModelError::Train("internal: scored fewer texts than given".into())
                    })?;
                    out.push(Ok(self.decide(text, &s, opts)));
                }
            }
        }
        timings.postprocess_us = t.elapsed().as_micros() as u64;
        Ok((out, timings))
    }

    /// Turn raw scores into a prediction.
    pub fn decide(&self, text: &str, s: &Scored, opts: &ClassifyOptions) -> Prediction {
        let wanted = |id: &str| {
            opts.labels
                .as_ref()
                .is_none_or(|ls| ls.iter().any(|l| l == id))
        };
        // Labels the caller set a threshold for are decided by it alone; the rest by the
        // bundle's thresholds and gate.
        let mut score = 0f32;
        let mut flagged = Vec::new();
        let mut tuned = Vec::new();
        for (i, info) in self.labels.iter().enumerate() {
            if !wanted(&info.id) {
                continue;
            }
            let p = s.label_probs[i];
            score = score.max(p);
            match opts.thresholds.get(&info.id) {
                Some(&t) => {
                    if p >= t {
                        flagged.push(i);
                    }
                }
                None => tuned.push(i),
            }
        }
        let probs: Vec<f32> = tuned.iter().map(|&i| s.label_probs[i]).collect();
        let th: Vec<f32> = tuned.iter().map(|&i| self.thresholds[i]).collect();
        for (&i, on) in tuned.iter().zip(gated_flags(&probs, &th, self.gate)) {
            if on {
                flagged.push(i);
            }
        }
        flagged.sort_unstable();
        let mut labels: Vec<LabelScore> = flagged
            .iter()
            .map(|&i| LabelScore {
                id: self.labels[i].id.clone(),
                score: s.label_probs[i],
                legal_basis: self.labels[i].legal_basis.clone(),
            })
            .collect();
        labels.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        let verdict = if labels.is_empty() {
            Verdict::Pass
        } else if labels.iter().any(|l| l.score >= self.block) {
            Verdict::Block
        } else {
            Verdict::Review
        };
        let table = OffsetTable::new(text);
        let original: Vec<char> = text.chars().collect();
        let mut spans = Vec::new();
        for &i in &flagged {
            let probs = &s.token_probs[i];
            for (a, b) in snap_runs(
                evidence_runs(probs, self.config.span_threshold),
                &s.encoded.words,
                probs,
            ) {
                let Some((cs, ce)) = s.encoded.norm.original_range(a, b) else {
                    continue;
                };
                // Trim whitespace at the ends of the quote.
                let (mut cs, mut ce) = (cs, ce.min(original.len()));
                while cs < ce && original[cs].is_whitespace() {
                    cs += 1;
                }
                while ce > cs && original[ce - 1].is_whitespace() {
                    ce -= 1;
                }
                let Some(o) = table.span(cs, ce) else {
                    continue;
                };
                let quote: String = original[cs..ce].iter().collect();
                let label = self.labels[i].id.clone();
                if !spans.iter().any(|x: &EvidenceSpan| {
                    x.label == label && x.char_start == cs && x.char_end == ce
                }) {
                    spans.push(EvidenceSpan {
                        label,
                        text: quote,
                        char_start: o.char_start,
                        char_end: o.char_end,
                        utf16_start: o.utf16_start,
                        utf16_end: o.utf16_end,
                        byte_start: o.byte_start,
                        byte_end: o.byte_end,
                    });
                }
            }
        }
        spans.sort_by(|a, b| {
            a.char_start
                .cmp(&b.char_start)
                .then_with(|| a.label.cmp(&b.label))
        });
        let product = s
            .product_probs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .filter(|(i, _)| *i > 0)
            .map(|(i, &p)| ProductScore {
                id: self.config.products[i - 1].clone(),
                score: p,
            });
        let scores = opts.explain.then(|| {
            self.labels
                .iter()
                .zip(&s.label_probs)
                .map(|(l, &p)| (l.id.clone(), p))
                .collect()
        });
        Prediction {
            violation: !labels.is_empty(),
            verdict,
            score,
            labels,
            product,
            spans,
            scores,
            model: self.version().to_string(),
        }
    }
}

/// Runs of positions that are evidence: every position at or above `threshold`, runs closer
/// than three positions merged; when no position reaches it, the best position grown while
/// its neighbours keep at least half its probability. Empty input gives no run.
pub fn evidence_runs(probs: &[f32], threshold: f32) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, &p) in probs.iter().enumerate() {
        if p >= threshold {
            match runs.last_mut() {
                Some(last) if i <= last.1 + 2 => last.1 = i + 1,
                _ => runs.push((i, i + 1)),
            }
        }
    }
    if runs.is_empty() {
        if let Some((best, &pmax)) = probs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) {
            let (mut a, mut b) = (best, best + 1);
            while a > 0 && probs[a - 1] >= pmax * 0.5 {
                a -= 1;
            }
            while b < probs.len() && probs[b] >= pmax * 0.5 {
                b += 1;
            }
            runs.push((a, b));
        }
    }
    runs
}

/// Widen evidence runs to the jieba words they touch, so a quote never starts or ends inside a
/// word; a run that is still one char long also takes its more likely neighbouring word (a lone
/// "个" or "荐" tells an analyst nothing). Overlapping or touching runs are merged. `words` are
/// char ranges in order; positions outside every word are left as they are.
pub fn snap_runs(
    runs: Vec<(usize, usize)>,
    words: &[(usize, usize)],
    probs: &[f32],
) -> Vec<(usize, usize)> {
    let word_of = |pos: usize| words.iter().position(|&(s, e)| s <= pos && pos < e);
    let mean = |(s, e): (usize, usize)| {
        let v = &probs[s.min(probs.len())..e.min(probs.len())];
        if v.is_empty() {
            f32::NEG_INFINITY
        } else {
            v.iter().sum::<f32>() / v.len() as f32
        }
    };
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (a, b) in runs {
        if a >= b {
            continue;
        }
        let wa = word_of(a);
        let wb = word_of(b - 1);
        let mut a2 = wa.map_or(a, |i| words[i].0.min(a));
        let mut b2 = wb.map_or(b, |i| words[i].1.max(b));
        if b2 - a2 < 2 {
            let left = wa.and_then(|i| i.checked_sub(1)).map(|i| words[i]);
            let right = wb.and_then(|i| words.get(i + 1)).copied();
            match (left, right) {
                (Some(l), Some(r)) if mean(l) >= mean(r) => a2 = l.0,
                (_, Some(r)) => b2 = r.1,
                (Some(l), None) => a2 = l.0,
                (None, None) => {}
            }
        }
        out.push((a2, b2));
    }
    out.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in out {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_snap_to_words_and_never_stay_one_char() {
        // 这款 | 眼镜 | 能 | 根治 | 近视
        let words = [(0, 2), (2, 4), (4, 5), (5, 7), (7, 9)];
        let probs = [0.1, 0.1, 0.2, 0.2, 0.3, 0.9, 0.4, 0.6, 0.5];
        // Half a word widens to the word.
        assert_eq!(snap_runs(vec![(5, 6)], &words, &probs), vec![(5, 7)]);
        // Across a word boundary: both words.
        assert_eq!(snap_runs(vec![(6, 8)], &words, &probs), vec![(5, 9)]);
        // A one-char word takes the likelier neighbour (根治 over 眼镜).
        assert_eq!(snap_runs(vec![(4, 5)], &words, &probs), vec![(4, 7)]);
        // Runs that now overlap merge.
        assert_eq!(
            snap_runs(vec![(5, 6), (6, 7)], &words, &probs),
            vec![(5, 7)]
        );
        // No words (an empty segmentation): unchanged, even one char.
        assert_eq!(snap_runs(vec![(3, 4)], &[], &probs), vec![(3, 4)]);
        // A text that is one one-char word stays one char.
        assert_eq!(snap_runs(vec![(0, 1)], &[(0, 1)], &[0.9]), vec![(0, 1)]);
        assert!(snap_runs(vec![(2, 2)], &words, &probs).is_empty());
    }

    #[test]
    fn evidence_runs_merge_close_positions_and_fall_back_to_the_peak() {
        assert_eq!(
            evidence_runs(&[0.1, 0.9, 0.8, 0.2, 0.7, 0.1, 0.1, 0.1, 0.6], 0.5),
            vec![(1, 5), (8, 9)]
        );
        assert_eq!(evidence_runs(&[0.1, 0.3, 0.4, 0.1], 0.5), vec![(1, 3)]);
        assert!(evidence_runs(&[], 0.5).is_empty());
        assert_eq!(evidence_runs(&[0.9], 0.5), vec![(0, 1)]);
    }

    #[test]
    fn check_text_rejects_empty_and_too_long() {
        assert_eq!(check_text("  \n", 10), Err(InputError::EmptyText));
        assert_eq!(
            check_text("治愈治愈治愈", 5),
            Err(InputError::TooLong { len: 6, max: 5 })
        );
        assert!(check_text("👀治愈", 3).is_ok());
    }
}
