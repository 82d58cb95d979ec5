//! Errors of the model crate.

use std::path::PathBuf;

/// Everything that can go wrong while building, training, saving, loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A tensor operation failed inside candle.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// Loading the taxonomy, lexicons or data failed.
    #[error(transparent)]
    Dataset(#[from] qingwang_datasets::DatasetError),
    /// A bundle file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A bundle JSON file did not parse or does not match its schema.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file involved.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The HF tokenizer file could not be read.
    #[error("{path}: tokenizer: {message}")]
    Tokenizer {
        /// The file involved.
        path: PathBuf,
        /// The tokenizers crate's message (its error type is a boxed trait object).
        message: String,
    },
    /// The jieba user dictionary did not parse.
    #[error("jieba user dictionary: {0}")]
    Jieba(#[from] jieba_rs::Error),
    /// A bundle is internally inconsistent: a file's hash differs from the manifest, the labels
    /// differ from the taxonomy, a tensor has the wrong shape.
    #[error("bundle {path}: {message}")]
    Bundle {
        /// The bundle directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Training cannot start: no data, no positives, bad settings.
    #[error("training: {0}")]
    Train(String),
    /// One input cannot be classified.
    #[error("{0}")]
    Input(#[from] InputError),
    /// A [`crate::transcript::WindowScorer`] other than the classifier failed (a service queue
    /// full, a deadline passed); the message says why.
    #[error("window scorer: {0}")]
    Scorer(String),
}

/// Why one input text cannot be classified; the caller reports it per item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The text is empty or whitespace only.
    #[error("field `text`: must not be empty")]
    EmptyText,
    /// The text is longer than the configured limit (chars).
    #[error("field `text`: {len} characters, more than the limit of {max}")]
    TooLong {
        /// Characters in the text.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        Self::Json {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn bundle(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Bundle {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
