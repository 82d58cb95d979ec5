//! The classifier contract the service runs on: [`Backend`] classifies merged batches and
//! describes its model; [`Loader`] builds one from a bundle directory (start-up and reload).
//! [`ModelBackend`] is the real one over `qingwang_model::Classifier`; tests use
//! [`crate::fake::FakeBackend`].

use std::path::Path;
use std::time::Instant;

use qingwang_model::classifier::{LabelInfo, check_text};
use qingwang_model::{Classifier, ClassifyOptions, InputError, Prediction, StageTimings};
use serde::Serialize;

use crate::error::BackendError;

/// One text's result: a prediction, or why that text cannot be classified.
pub type ItemResult = Result<Prediction, InputError>;

/// One request's share of a merged batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// Its texts.
    pub texts: &'a [String],
    /// Its options.
    pub options: &'a ClassifyOptions,
}

/// What GET /v1/model reports.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// Bundle version.
    pub version: String,
    /// Bundle manifest (files and hashes, data fingerprint, training command).
    pub manifest: serde_json::Value,
    /// Labels, legal basis and thresholds in use.
    pub labels: Vec<LabelInfo>,
    /// The block threshold.
    pub block_threshold: f32,
    /// The violation gate: a text is flagged only when its top label score reaches it (`None`:
    /// when any label reaches its threshold).
    pub gate: Option<f32>,
    /// Measured quality (metrics.json), when the bundle has it.
    pub metrics: Option<serde_json::Value>,
}

/// A loaded model that classifies. Runs on the service's worker threads, never on tokio's.
pub trait Backend: Send + Sync + 'static {
    /// Classify several requests' texts in one pass; one result vector per item, in order.
    fn classify_batch(
        &self,
        items: &[BatchItem<'_>],
    ) -> Result<(Vec<Vec<ItemResult>>, StageTimings), BackendError>;
    /// Validate options (unknown labels, thresholds out of range).
    fn check_options(&self, opts: &ClassifyOptions) -> Result<(), String>;
    /// Model description.
    fn info(&self) -> &ModelInfo;
}

/// Builds a backend from a bundle directory.
pub trait Loader: Send + Sync + 'static {
    /// Load (and verify) the bundle in `dir`.
    fn load(&self, dir: &Path) -> Result<Box<dyn Backend>, BackendError>;
}

/// The real backend.
pub struct ModelBackend {
    classifier: Classifier,
    info: ModelInfo,
}

impl ModelBackend {
    /// Wrap a loaded classifier.
    pub fn new(classifier: Classifier) -> Self {
        let manifest = classifier
            .manifest()
            .and_then(|m| serde_json::to_value(m).ok())
            .unwrap_or(serde_json::Value::Null);
        let metrics = std::fs::read(classifier.dir().join("metrics.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let info = ModelInfo {
            version: classifier.version().to_string(),
            manifest,
            labels: classifier.labels().to_vec(),
            block_threshold: classifier.block_threshold(),
            gate: classifier.gate(),
            metrics,
        };
        Self { classifier, info }
    }
}

impl Backend for ModelBackend {
    fn classify_batch(
        &self,
        items: &[BatchItem<'_>],
    ) -> Result<(Vec<Vec<ItemResult>>, StageTimings), BackendError> {
        let max = self.classifier.max_text_chars();
        let checks: Vec<Vec<Result<(), InputError>>> = items
            .iter()
            .map(|it| it.texts.iter().map(|t| check_text(t, max)).collect())
            .collect();
        let valid: Vec<&str> = items
            .iter()
            .zip(&checks)
            .flat_map(|(it, cs)| {
                it.texts
                    .iter()
                    .zip(cs)
                    .filter(|(_, c)| c.is_ok())
                    .map(|(t, _)| t.as_str())
            })
            .collect();
        let (scored, mut timings) = self.classifier.score(&valid)?;
        let t = Instant::now();
        let mut scored = scored.into_iter();
        let mut out = Vec::with_capacity(items.len());
        for (it, cs) in items.iter().zip(checks) {
            let mut res = Vec::with_capacity(it.texts.len());
            for (text, c) in it.texts.iter().zip(cs) {
                // Invalid texts were not scored, so only valid ones take the next score.
                match c {
                    Err(e) => res.push(Err(e)),
                    Ok(()) => {
                        let s = scored.next().ok_or(BackendError::Misaligned)?;
                        res.push(Ok(self.classifier.decide(text, &s, it.options)));
                    }
                }
            }
            out.push(res);
        }
        timings.postprocess_us = t.elapsed().as_micros() as u64;
        Ok((out, timings))
    }

    fn check_options(&self, opts: &ClassifyOptions) -> Result<(), String> {
        self.classifier.check_options(opts)
    }

    fn info(&self) -> &ModelInfo {
        &self.info
    }
}

/// Loads real bundles with a text-length limit.
#[derive(Debug, Clone, Copy)]
pub struct ModelLoader {
    /// Longest text accepted, chars.
    pub max_text_chars: usize,
}

impl Loader for ModelLoader {
    fn load(&self, dir: &Path) -> Result<Box<dyn Backend>, BackendError> {
        let c = Classifier::load(dir)?.with_max_text_chars(self.max_text_chars);
        Ok(Box::new(ModelBackend::new(c)))
    }
}
