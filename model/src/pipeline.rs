//! The whole of `qingwang train`: train the network, choose per-label thresholds on dev, train
//! the linear baseline, measure the model and both baselines on dev and test (and test
//! positives rewritten by every evasion kind), and seal the bundle with its manifest.

use std::collections::BTreeMap;
use std::path::Path;

use qingwang_datasets::perturb::{Evasion, Perturber};
use qingwang_datasets::{Example, Lexicons, Taxonomy};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::baseline::{KeywordMatcher, LinearConfig, LinearModel};
use crate::bundle::{self, Manifest, Thresholds};
use crate::classifier::{Classifier, ClassifyOptions};
use crate::error::Result;
use crate::metrics::{QualityReport, SystemOutput, best_threshold, quality};
use crate::normalize::Normalizer;
use crate::train::{TrainConfig, TrainSummary, Weighted, train_network};

/// Training data by split.
#[derive(Debug, Clone, Default)]
pub struct Splits {
    /// Training examples with loss weights.
    pub train: Vec<Weighted>,
    /// Threshold tuning.
    pub dev: Vec<Example>,
    /// Held out: measured, never tuned on.
    pub test: Vec<Example>,
}

/// Where the data came from, for the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// Hash of the data files and lexicons.
    pub dataset_sha256: String,
    /// The files it covers.
    pub dataset_files: Vec<String>,
    /// The command line.
    pub command: String,
}

/// The three systems on one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// The network.
    pub model: QualityReport,
    /// Trigger words (the status quo).
    pub keyword: QualityReport,
    /// Linear bag of n-grams.
    pub linear: QualityReport,
}

/// Recall on positives before and after one evasion rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Retention {
    /// Binary recall on the original positives that the rewrite applied to.
    pub clean_recall: f64,
    /// Binary recall on their rewrites.
    pub evaded_recall: f64,
    /// evaded / clean (1 when clean recall is 0).
    pub retained: f64,
}

/// One evasion kind's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessRow {
    /// Positives the rewrite applied to.
    pub examples: usize,
    /// The network.
    pub model: Retention,
    /// Trigger words.
    pub keyword: Retention,
    /// Linear model.
    pub linear: Retention,
}

/// metrics.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleMetrics {
    /// Dev split (thresholds were chosen here).
    pub dev: SplitMetrics,
    /// Test split (held out).
    pub test: SplitMetrics,
    /// Test positives rewritten by each evasion kind.
    pub robustness: BTreeMap<String, RobustnessRow>,
    /// The training run.
    pub train: TrainSummary,
    /// Example counts per split used.
    pub counts: BTreeMap<String, usize>,
}

/// The three systems, ready to score texts.
pub struct Systems<'a> {
    /// The network.
    pub model: &'a Classifier,
    /// Trigger words.
    pub keyword: &'a KeywordMatcher,
    /// Linear model.
    pub linear: &'a LinearModel,
    /// The normaliser the linear model reads with.
    pub normalizer: &'a Normalizer,
}

impl Systems<'_> {
    /// Outputs of the three systems on examples.
    pub fn outputs(&self, examples: &[Example]) -> Result<[Vec<SystemOutput>; 3]> {
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let opts = ClassifyOptions::default();
        let mut model = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(256) {
            let (preds, _) = self.model.classify(chunk, &opts)?;
            for p in preds {
                model.push(match p {
                    Ok(p) => {
                        let flags = self
                            .model
                            .labels()
                            .iter()
                            .map(|l| p.labels.iter().any(|x| x.id == l.id))
                            .collect();
                        SystemOutput {
                            flags,
                            product: p.product.map(|x| x.id),
                        }
                    }
                    Err(_) => SystemOutput {
                        flags: vec![false; self.model.labels().len()],
                        product: None,
                    },
                });
            }
        }
        let keyword = texts
            .iter()
            .map(|t| SystemOutput {
                flags: self.keyword.flags(t),
                product: None,
            })
            .collect();
        let linear = texts
            .iter()
            .map(|t| {
                let p = self.linear.probs(t, self.normalizer);
                SystemOutput {
                    flags: p
                        .iter()
                        .zip(&self.linear.thresholds)
                        .map(|(p, t)| p >= t)
                        .collect(),
                    product: None,
                }
            })
            .collect();
        Ok([model, keyword, linear])
    }

    /// Quality of the three systems on examples.
    pub fn split_metrics(&self, examples: &[Example], tax: &Taxonomy) -> Result<SplitMetrics> {
        let [m, k, l] = self.outputs(examples)?;
        Ok(SplitMetrics {
            model: quality(examples, &m, tax, true),
            keyword: quality(examples, &k, tax, false),
            linear: quality(examples, &l, tax, false),
        })
    }

    /// Recall retained under each evasion kind, over the positives of `examples`.
    pub fn robustness(
        &self,
        examples: &[Example],
        lex: &Lexicons,
        seed: u64,
    ) -> Result<BTreeMap<String, RobustnessRow>> {
        let perturber = Perturber::new(lex);
        let positives: Vec<&Example> = examples.iter().filter(|e| e.is_positive()).collect();
        let mut out = BTreeMap::new();
        for kind in Evasion::ALL {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ kind as u64);
            let mut clean = Vec::new();
            let mut evaded = Vec::new();
            for ex in &positives {
                if let Some(p) = perturber.perturb_example(ex, kind, &mut rng) {
                    clean.push((*ex).clone());
                    evaded.push(p);
                }
            }
            if clean.is_empty() {
                continue;
            }
            let c = self.outputs(&clean)?;
            let e = self.outputs(&evaded)?;
            let recall = |o: &[SystemOutput]| {
                o.iter().filter(|x| x.flags.iter().any(|f| *f)).count() as f64 / o.len() as f64
            };
            let ret = |i: usize| {
                let (cr, er) = (recall(&c[i]), recall(&e[i]));
                Retention {
                    clean_recall: cr,
                    evaded_recall: er,
                    retained: if cr > 0.0 { er / cr } else { 1.0 },
                }
            };
            out.insert(
                kind.as_str().to_string(),
                RobustnessRow {
                    examples: clean.len(),
                    model: ret(0),
                    keyword: ret(1),
                    linear: ret(2),
                },
            );
        }
        Ok(out)
    }
}

/// Per-label thresholds maximising dev F1 (taxonomy defaults for labels without dev support).
pub fn tune_thresholds(probs: &[Vec<f32>], dev: &[Example], tax: &Taxonomy) -> Vec<f32> {
    tax.labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let scores: Vec<f32> = probs.iter().map(|p| p[i]).collect();
            let gold: Vec<bool> = dev.iter().map(|e| e.labels.contains(&l.id)).collect();
            best_threshold(&scores, &gold).unwrap_or(l.threshold)
        })
        .collect()
}

/// Train, tune, measure and seal a bundle in `out`.
pub fn build_bundle(
    splits: &Splits,
    lex: &Lexicons,
    tax: &Taxonomy,
    cfg: &TrainConfig,
    provenance: &Provenance,
    out: &Path,
    progress: impl FnMut(usize, usize, f32),
) -> Result<(Manifest, BundleMetrics)> {
    if out.exists() {
        // A stale file from an older bundle would break the manifest check.
        std::fs::remove_dir_all(out).map_err(|e| crate::error::ModelError::io(out, e))?;
    }
    let summary = train_network(&splits.train, lex, tax, cfg, out, progress)?;
    let untuned = Classifier::load_unverified(out)?;
    let dev_texts: Vec<&str> = splits.dev.iter().map(|e| e.text.as_str()).collect();
    let (dev_scored, _) = untuned.score(&dev_texts)?;
    let probs: Vec<Vec<f32>> = dev_scored.into_iter().map(|s| s.label_probs).collect();
    let thresholds = tune_thresholds(&probs, &splits.dev, tax);
    let th = Thresholds {
        labels: tax
            .labels
            .iter()
            .zip(&thresholds)
            .map(|(l, &t)| (l.id.clone(), t))
            .collect(),
        block: tax.verdict.block,
        chosen_on: format!(
            "dev split ({} examples): per label, the threshold maximising F1",
            splits.dev.len()
        ),
    };
    bundle::write_json(out, "thresholds.json", &th)?;
    let model = Classifier::load_unverified(out)?;

    let normalizer = Normalizer::new(lex);
    let train_refs: Vec<&Example> = splits.train.iter().map(|w| &w.example).collect();
    let mut linear = LinearModel::train(&train_refs, &normalizer, tax, LinearConfig::default());
    let dev_linear: Vec<Vec<f32>> = splits
        .dev
        .iter()
        .map(|e| linear.probs(&e.text, &normalizer))
        .collect();
    linear.thresholds = tune_thresholds(&dev_linear, &splits.dev, tax);
    linear.save(out)?;
    let keyword = KeywordMatcher::new(lex, tax);

    let systems = Systems {
        model: &model,
        keyword: &keyword,
        linear: &linear,
        normalizer: &normalizer,
    };
    let dev = systems.split_metrics(&splits.dev, tax)?;
    let test = systems.split_metrics(&splits.test, tax)?;
    let robustness = systems.robustness(&splits.test, lex, cfg.seed)?;
    let counts = [
        ("train", splits.train.len()),
        ("dev", splits.dev.len()),
        ("test", splits.test.len()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let metrics = BundleMetrics {
        dev,
        test,
        robustness,
        train: summary,
        counts,
    };
    bundle::write_json(out, "metrics.json", &metrics)?;
    let manifest = bundle::write_manifest(
        out,
        provenance.dataset_sha256.clone(),
        provenance.dataset_files.clone(),
        provenance.command.clone(),
    )?;
    Ok((manifest, metrics))
}
