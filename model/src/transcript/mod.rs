//! Livestream transcripts: timestamped segments (JSONL, SRT, WebVTT), windows that cross segment
//! boundaries, hits merged into incidents on the timeline, a room summary, and the incremental
//! [`RoomState`] a live room runs on.
//!
//! Pure library code: no threads, clocks or I/O. Callers pass times in (`now_ms`) and give a
//! [`WindowScorer`] that classifies window texts (the [`crate::Classifier`], or a fake in tests).

mod incident;
mod parse;
mod room;
mod window;

pub use incident::{Evidence, Incident, IncidentLabel, MinuteRisk, Summary};
pub use parse::{Format, ParseError, parse, parse_jsonl, parse_srt, parse_vtt};
pub use room::{PushOutcome, RoomConfig, RoomState, scan};
pub use window::{Stream, WindowConfig, WindowScorer, pass_prediction};

use serde::{Deserialize, Serialize};

/// One timestamped piece of a transcript, as an ASR engine emits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Sequence number; unique within a room, increasing with time.
    pub seq: u64,
    /// Start time, milliseconds from the start of the stream.
    pub start_ms: u64,
    /// End time, milliseconds (≥ `start_ms`).
    pub end_ms: u64,
    /// What was said.
    pub text: String,
    /// Who said it, when the engine knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
}
