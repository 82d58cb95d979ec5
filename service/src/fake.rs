//! A fake backend for tests of the HTTP layer: deterministic, instant unless told to wait, and
//! able to fail on demand. It flags a text as `cure_claim` when it contains 治愈 or 根治, with
//! the span of that word, so tests can check real offsets without loading a model.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use qingwang_model::classifier::{LabelInfo, check_text};
use qingwang_model::{
    ClassifyOptions, EvidenceSpan, LabelScore, Prediction, StageTimings, Verdict,
};

use crate::backend::{Backend, BatchItem, ItemResult, Loader, ModelInfo};
use crate::error::BackendError;

/// Texts containing this make the fake backend panic (to test that workers survive).
pub const PANIC_TEXT: &str = "__panic__";
/// Texts containing this make the fake backend return an error.
pub const FAIL_TEXT: &str = "__fail__";
/// The trigger words the fake flags.
pub const TRIGGERS: [&str; 2] = ["治愈", "根治"];
/// The label ids the fake knows (a subset of the taxonomy).
pub const LABELS: [&str; 2] = ["cure_claim", "safety_assurance"];

/// A deterministic test backend.
pub struct FakeBackend {
    info: ModelInfo,
    delay: Duration,
    max_text_chars: usize,
    batches: Arc<Mutex<Vec<usize>>>,
    calls: Arc<AtomicUsize>,
}

impl FakeBackend {
    /// A fake reporting `version`, sleeping `delay` per batch.
    pub fn new(version: &str, delay: Duration) -> Self {
        let labels = LABELS
            .iter()
            .map(|id| LabelInfo {
                id: (*id).to_string(),
                zh: format!("{id}-zh"),
                legal_basis: vec!["广告法第十七条".to_string()],
                threshold: 0.5,
            })
            .collect();
        Self {
            info: ModelInfo {
                version: version.to_string(),
                manifest: serde_json::json!({ "version": version, "files": {} }),
                labels,
                block_threshold: 0.8,
                gate: None,
                metrics: Some(serde_json::json!({ "test": { "f1": 0.5 } })),
            },
            delay,
            max_text_chars: 1000,
            batches: Arc::default(),
            calls: Arc::default(),
        }
    }

    /// Texts per batch the backend has seen (shared handle, for assertions).
    pub fn batch_log(&self) -> Arc<Mutex<Vec<usize>>> {
        Arc::clone(&self.batches)
    }

    /// How many batches ran (shared handle).
    pub fn call_count(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.calls)
    }

    fn predict(&self, text: &str, opts: &ClassifyOptions) -> Prediction {
        let threshold = opts.thresholds.get("cure_claim").copied().unwrap_or(0.5);
        let wanted = opts
            .labels
            .as_ref()
            .is_none_or(|ls| ls.iter().any(|l| l == "cure_claim"));
        let hit = TRIGGERS
            .iter()
            .filter_map(|w| text.find(w).map(|b| (b, *w)))
            .min();
        let score = if hit.is_some() { 0.9 } else { 0.1 };
        let flagged = wanted && score >= threshold;
        let mut spans = Vec::new();
        if let (true, Some((b, w))) = (flagged, hit) {
            let before = &text[..b];
            spans.push(EvidenceSpan {
                label: "cure_claim".into(),
                text: w.into(),
                char_start: before.chars().count(),
                char_end: before.chars().count() + w.chars().count(),
                utf16_start: before.encode_utf16().count(),
                utf16_end: before.encode_utf16().count() + w.encode_utf16().count(),
                byte_start: b,
                byte_end: b + w.len(),
            });
        }
        Prediction {
            violation: flagged,
            verdict: if !flagged {
                Verdict::Pass
            } else if score >= self.info.block_threshold {
                Verdict::Block
            } else {
                Verdict::Review
            },
            score: if wanted { score } else { 0.0 },
            labels: if flagged {
                vec![LabelScore {
                    id: "cure_claim".into(),
                    score,
                    legal_basis: vec!["广告法第十七条".into()],
                }]
            } else {
                Vec::new()
            },
            product: None,
            spans,
            scores: opts
                .explain
                .then(|| [("cure_claim".to_string(), score)].into_iter().collect()),
            model: self.info.version.clone(),
        }
    }
}

impl Backend for FakeBackend {
    fn classify_batch(
        &self,
        items: &[BatchItem<'_>],
    ) -> Result<(Vec<Vec<ItemResult>>, StageTimings), BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let n: usize = items.iter().map(|i| i.texts.len()).sum();
        self.batches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(n);
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let all = || items.iter().flat_map(|i| i.texts.iter());
        if all().any(|t| t.contains(PANIC_TEXT)) {
            #[allow(clippy::panic)]
            {
                panic!("fake backend told to panic");
            }
        }
        if all().any(|t| t.contains(FAIL_TEXT)) {
            return Err(BackendError::Injected("fake backend told to fail"));
        }
        let out = items
            .iter()
            .map(|it| {
                it.texts
                    .iter()
                    .map(|t| {
                        check_text(t, self.max_text_chars).map(|()| self.predict(t, it.options))
                    })
                    .collect()
            })
            .collect();
        let timings = StageTimings {
            tokenize_us: 1,
            inference_us: 2,
            postprocess_us: 3,
        };
        Ok((out, timings))
    }

    fn check_options(&self, opts: &ClassifyOptions) -> Result<(), String> {
        let known = |id: &str| LABELS.contains(&id);
        if let Some(bad) = opts.labels.iter().flatten().find(|l| !known(l)) {
            return Err(format!("unknown label `{bad}`"));
        }
        for (id, t) in &opts.thresholds {
            if !known(id) {
                return Err(format!("unknown label `{id}`"));
            }
            if !(0.0..=1.0).contains(t) {
                return Err(format!("threshold for `{id}` must be in [0, 1]"));
            }
        }
        Ok(())
    }

    fn info(&self) -> &ModelInfo {
        &self.info
    }
}

/// Loads fakes: the version is the directory's last component; a directory whose name starts
/// with `bad` fails to load. Delay applies to every fake it makes.
#[derive(Debug, Clone, Copy, Default)]
pub struct FakeLoader {
    /// Per-batch delay of the fakes it makes.
    pub delay: Duration,
}

impl Loader for FakeLoader {
    fn load(&self, dir: &Path) -> Result<Box<dyn Backend>, BackendError> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "fake".into());
        if name.starts_with("bad") {
            return Err(BackendError::Injected("bundle is bad"));
        }
        Ok(Box::new(FakeBackend::new(&name, self.delay)))
    }
}
