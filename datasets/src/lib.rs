//! qingwang's data layer: the claim taxonomy (the one list of labels every crate loads), the
//! dataset schema and JSONL I/O, lexicons, validation, statistics, near-duplicate detection,
//! family-based splitting, evasion perturbations and the seeded data generator.
//!
//! This crate is at the bottom of the workspace: it depends on no other qingwang crate, knows
//! nothing of neural networks, HTTP or the command line, and does no I/O except reading and
//! writing the files it is asked to.

pub mod agreement;
pub mod authoring;
pub mod dedupe;
mod error;
pub mod example;
pub mod generate;
pub mod interchange;
pub mod lexicon;
pub mod perturb;
pub mod pool;
pub mod split;
pub mod stats;
pub mod taxonomy;
pub mod validate;

pub use error::{DatasetError, Result};
pub use example::{Channel, Example, Kind, Source, Span, Split};
pub use lexicon::Lexicons;
pub use taxonomy::Taxonomy;

use std::path::PathBuf;

/// The committed data files, relative to the repository root.
pub const HANDWRITTEN: &str = "datasets/data/handwritten.jsonl";
/// The committed generated training data.
pub const GENERATED: &str = "datasets/data/generated.jsonl";

/// Absolute path of a file in the repository (this crate lives in `<repo>/datasets`).
pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}
