//! Errors of the datasets crate.

use std::path::PathBuf;

/// Everything that can go wrong while loading or writing taxonomy, lexicons and data files.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document (taxonomy, fragments, triggers) did not parse or did not match its schema.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file involved.
        path: PathBuf,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// One line of a JSONL data file is unusable; names the file, the 1-based line and the field.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Line {
        /// The file involved.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending field (`-` when the line as a whole is bad).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A lexicon line is malformed.
    #[error("lexicon {name}:{line}: {message}")]
    Lexicon {
        /// Which lexicon.
        name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The taxonomy is internally inconsistent (duplicate ids, bad thresholds).
    #[error("taxonomy: {0}")]
    Taxonomy(String),
    /// A task in an annotation tool's export is unusable; names the 0-based task and the field.
    #[error("task {index}: field `{field}`: {message}")]
    Task {
        /// 0-based position of the task in the file.
        index: usize,
        /// The offending field, as a JSON path (`annotations[1].result[0].value.start`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Generator input is unusable (a fragment pool is empty, a frame lacks its slot).
    #[error("generator: {0}")]
    Generator(String),
}

impl DatasetError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;
