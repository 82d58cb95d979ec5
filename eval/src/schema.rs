//! metrics.json: the versioned schema every run writes and `--compare` reads. Bump [`SCHEMA`]
//! on any change that renames or removes a field; adding a field keeps it.

use std::collections::BTreeMap;
use std::path::Path;

use qingwang_model::metrics::{Prf, QualityReport};
use serde::{Deserialize, Serialize};

use crate::bootstrap::Estimate;
use crate::calibration::Calibration;
use crate::curves::{PrPoint, SweepPoint};
use crate::error::{EvalError, Result};
use crate::mistakes::Mistakes;
use crate::robustness::Retention;
use crate::slices::{Confusion, Slice, SpanReport};
use crate::speed::Speed;
use crate::system::SystemKind;

/// The schema id written into every metrics.json.
pub const SCHEMA: &str = "qingwang-eval/1";

/// The whole of metrics.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// What was run, on what, when.
    pub header: Header,
    /// Every system, keyword baseline first.
    pub systems: Vec<SystemReport>,
    /// Evasion kinds (report order) with one retention per system (same order as `systems`).
    pub robustness: Vec<RobustnessRow>,
}

/// Run provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// UTC date and time of the run (RFC 3339).
    pub date: String,
    /// The command line.
    pub command: String,
    /// Data files as given.
    pub data_files: Vec<String>,
    /// sha256 over the data files' names and contents.
    pub dataset_sha256: String,
    /// Split filter applied (`null`: none).
    pub split: Option<String>,
    /// Examples scored.
    pub examples: usize,
    /// Gold positives among them.
    pub positives: usize,
    /// Taxonomy version.
    pub taxonomy_version: String,
    /// Bootstrap resamples for the intervals.
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap and the evasion rewrites.
    pub seed: u64,
}

/// One evasion kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessRow {
    /// Evasion kind id.
    pub kind: String,
    /// Per system id.
    pub systems: BTreeMap<String, Retention>,
}

/// One label's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelReport {
    /// P/R/F1 at the system's own decision.
    pub prf: Prf,
    /// Decision threshold in use (models only).
    pub threshold: Option<f32>,
    /// The F1-best threshold on this data (models only; none without gold positives).
    pub best_threshold: Option<f32>,
    /// Average precision (models only; none without gold positives).
    pub average_precision: Option<f64>,
    /// PR curve (models only).
    pub pr_curve: Vec<PrPoint>,
    /// P/R/F1 at 0.05, 0.10, …, 0.95 (models only).
    pub sweep: Vec<SweepPoint>,
}

/// One system's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemReport {
    /// `keyword`, `model`, `model2`, …: what `--compare` matches on.
    pub id: String,
    /// model | keyword.
    pub kind: SystemKind,
    /// Bundle version (manifest hash) or the baseline's description.
    pub version: String,
    /// Bundle directory (models).
    pub dir: Option<String>,
    /// Hash of the data the bundle was trained on (models).
    pub trained_on_sha256: Option<String>,
    /// The model crate's quality report (binary, per label, micro/macro, hard negatives).
    pub quality: QualityReport,
    /// Headline figures with 95% bootstrap intervals (see [`crate::bootstrap::HEADLINE`]).
    pub headline: BTreeMap<String, Estimate>,
    /// Per label id.
    pub labels: BTreeMap<String, LabelReport>,
    /// PR curve of the violation score (the highest label probability; models only).
    pub binary_pr_curve: Vec<PrPoint>,
    /// Average precision of the violation score.
    pub binary_average_precision: Option<f64>,
    /// Calibration of the violation score against "any label" (models only).
    pub calibration_binary: Option<Calibration>,
    /// Calibration of every label probability against its gold label, pooled (models only).
    pub calibration_labels: Option<Calibration>,
    /// Evidence spans by overlap.
    pub spans: SpanReport,
    /// Product confusion (systems that predict products).
    pub products: Option<Confusion>,
    /// Dimension (channel, product, source, family) → key → figures.
    pub breakdowns: BTreeMap<String, BTreeMap<String, Slice>>,
    /// Worst errors.
    pub errors: Mistakes,
    /// Speed (absent when not measured).
    pub speed: Option<Speed>,
    /// Texts the system refused (too long, empty), scored as "no violation".
    pub input_errors: usize,
}

/// Read a metrics.json, checking its schema.
pub fn read(path: &Path) -> Result<EvalReport> {
    let bytes = std::fs::read(path).map_err(|e| EvalError::io(path, e))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|source| EvalError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let found = v.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if found != SCHEMA {
        return Err(EvalError::Schema {
            path: path.to_path_buf(),
            found: found.to_string(),
            expected: SCHEMA,
        });
    }
    serde_json::from_value(v).map_err(|source| EvalError::Json {
        path: path.to_path_buf(),
        source,
    })
}
