//! qingwang's evaluation harness: score one or more model bundles and the keyword baseline on
//! the same labelled JSONL, and write metrics.json (versioned schema), report.md and a
//! self-contained report.html with SVG charts; compare two metrics.json files as a release gate.
//!
//! Depends on `qingwang-model` (classifier, keyword baseline, [`qingwang_model::metrics`]) and
//! `qingwang-datasets` (schema, taxonomy, evasion perturbations). Knows nothing of HTTP or the
//! command line; nothing depends on this crate but the binary.

pub mod bootstrap;
pub mod calibration;
pub mod charts;
pub mod compare;
pub mod curves;
pub mod data;
mod error;
pub mod html;
pub mod markdown;
pub mod mistakes;
pub mod robustness;
pub mod run;
pub mod schema;
pub mod slices;
pub mod speed;
pub mod system;

pub use error::{EvalError, Result};
pub use run::{EvalConfig, run};
pub use schema::{EvalReport, SCHEMA};
