//! The one error type of the eval crate.

use std::path::PathBuf;

/// What can go wrong in an evaluation run or a comparison.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A data line is not usable; names the field.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Data {
        /// The data file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending field (`-` for the whole line).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A JSON file (metrics.json) could not be parsed or written.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// metrics.json has a schema this build does not read.
    #[error("{path}: schema `{found}` is not `{expected}`")]
    Schema {
        /// The file.
        path: PathBuf,
        /// The schema it declares.
        found: String,
        /// The schema this build reads.
        expected: &'static str,
    },
    /// The model or the baseline failed.
    #[error(transparent)]
    Model(#[from] qingwang_model::ModelError),
    /// The lexicons failed to load.
    #[error(transparent)]
    Dataset(#[from] qingwang_datasets::DatasetError),
    /// A chart could not be drawn.
    #[error("chart `{chart}`: {source}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// The plotting error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An invalid setting; names it.
    #[error("{field}: {message}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl EvalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`EvalError`].
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
