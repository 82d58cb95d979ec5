//! qingwang's model: normalisation that sees through evasive spelling (with offsets back to the
//! original), the vocabulary (jieba words and characters in an HF tokenizers file, plus pinyin),
//! the candle claim network and its training, the keyword and linear baselines, quality
//! metrics, and the model bundle on disk.
//!
//! Depends on `qingwang-datasets` only. Knows nothing of HTTP, tokio, axum or the command line:
//! the service and the binary call [`Classifier`] and [`pipeline::build_bundle`].

pub mod active;
pub mod baseline;
pub mod bundle;
pub mod classifier;
pub mod decision;
pub mod encode;
mod error;
pub mod metrics;
pub mod network;
pub mod normalize;
pub mod optim;
pub mod pipeline;
pub mod train;
pub mod transcript;
pub mod vocab;

pub use classifier::{
    Classifier, ClassifyOptions, EvidenceSpan, LabelScore, Prediction, ProductScore, StageTimings,
    Verdict,
};
pub use error::{InputError, ModelError, Result};
