//! POST /v1/transcripts/scan: a whole transcript in (segments, or JSONL/SRT/WebVTT text), the
//! incidents on its timeline and the room summary out — what `qingwang scan` prints, with the
//! windows scored on the model workers.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::IntoResponse;
use axum::routing::post;
use qingwang_model::transcript::{self, Format, RoomConfig, WindowConfig};
use serde_json::{Value, json};

use super::classify::body_bytes;
use super::rooms::{parse_json, parse_segments};
use crate::error::ApiError;
use crate::live::scorer::PoolScorer;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/transcripts/scan", post(scan))
}

fn opt_usize(v: &Value, field: &str, default: usize) -> Result<usize, ApiError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => x
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| ApiError::field(field, "must be a non-negative integer")),
    }
}

async fn scan(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let start = Instant::now();
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let v = parse_json(&body)?;
    let d = WindowConfig::default();
    let window = WindowConfig {
        len: opt_usize(&v, "window", d.len)?,
        stride: opt_usize(&v, "stride", d.stride)?,
    };
    window
        .validate()
        .map_err(|m| ApiError::field("stride", m))?;
    let segments = match (v.get("segments"), v.get("content")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "content",
                "send either segments or content, not both",
            ));
        }
        (Some(_), None) => parse_segments(&v, "segments", usize::MAX, None)?,
        (None, Some(c)) => {
            let content = c
                .as_str()
                .ok_or_else(|| ApiError::field("content", "must be a string"))?;
            let format = match v.get("format") {
                None | Some(Value::Null) => Format::detect(None, content).ok_or_else(|| {
                    ApiError::field("format", "cannot tell the format; give jsonl, srt or vtt")
                })?,
                Some(f) => f
                    .as_str()
                    .and_then(Format::from_name)
                    .ok_or_else(|| ApiError::field("format", "must be one of jsonl, srt, vtt"))?,
            };
            transcript::parse(content, format)
                .map_err(|e| ApiError::field("content", e.to_string()))?
        }
        (None, None) => {
            return Err(ApiError::field(
                "segments",
                "missing: send segments (an array) or content (a transcript as text)",
            ));
        }
    };
    let timeout = match v.get("timeout_ms") {
        None | Some(Value::Null) => state.config.request_timeout,
        Some(t) => t
            .as_u64()
            .map(Duration::from_millis)
            .ok_or_else(|| ApiError::field("timeout_ms", "must be a non-negative integer"))?
            .min(state.config.request_timeout),
    };
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let deadline = start + timeout;
    let s = state.clone();
    let handle = tokio::runtime::Handle::current();
    let cfg = RoomConfig {
        window,
        ..RoomConfig::default()
    };
    let (incidents, summary) = tokio::task::spawn_blocking(move || {
        let scorer = PoolScorer::new(&s, deadline, handle);
        transcript::scan(segments, cfg, &scorer).map_err(|e| scorer.api_error(e))
    })
    .await
    .map_err(|_| ApiError::Internal(crate::error::BackendError::Panicked))??;
    let model = state.model.load().backend.info().version.clone();
    Ok(axum::Json(json!({
        "model": model,
        "incidents": incidents,
        "summary": summary,
        "took_us": start.elapsed().as_micros() as u64,
    })))
}
