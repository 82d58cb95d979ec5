//! Live rooms: POST /v1/rooms/{room_id}/segments (append; answers with the incidents the new
//! text completed), GET /v1/rooms/{room_id}, GET /v1/rooms/{room_id}/events (Server-Sent
//! Events), DELETE /v1/rooms/{room_id}, GET /v1/rooms.

use std::convert::Infallible;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use futures_util::Stream;
use qingwang_model::transcript::Segment;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::classify::body_bytes;
use crate::error::ApiError;
use crate::live::{self, RoomEvent, check_room_id};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/rooms", get(list))
        .route("/v1/rooms/{room_id}", get(show).delete(close))
        .route("/v1/rooms/{room_id}/segments", post(segments))
        .route("/v1/rooms/{room_id}/events", get(events))
}

/// Parse `field` of `body` as a segment array. `max_chars`: longest text allowed, if any.
pub(crate) fn parse_segments(
    body: &Value,
    field: &str,
    max_items: usize,
    max_chars: Option<usize>,
) -> Result<Vec<Segment>, ApiError> {
    let arr = body
        .get(field)
        .ok_or_else(|| ApiError::field(field, "missing"))?
        .as_array()
        .ok_or_else(|| ApiError::field(field, "must be an array of segments"))?;
    if arr.len() > max_items {
        return Err(ApiError::field(
            field,
            format!("{} segments, more than the limit of {max_items}", arr.len()),
        ));
    }
    let mut out = Vec::with_capacity(arr.len());
    for (i, v) in arr.iter().enumerate() {
        let seg: Segment = serde_json::from_value(v.clone()).map_err(|e| {
            ApiError::field(
                format!("{field}[{i}]"),
                format!("{e} (want {{seq, start_ms, end_ms, text, speaker?}})"),
            )
        })?;
        if seg.end_ms < seg.start_ms {
            return Err(ApiError::field(
                format!("{field}[{i}].end_ms"),
                format!("{} is before start_ms {}", seg.end_ms, seg.start_ms),
            ));
        }
        if let Some(max) = max_chars {
            let n = seg.text.chars().count();
            if n > max {
                return Err(ApiError::field(
                    format!("{field}[{i}].text"),
                    format!("{n} characters, more than the limit of {max}"),
                ));
            }
        }
        out.push(seg);
    }
    Ok(out)
}

pub(crate) fn parse_json(body: &Bytes) -> Result<Value, ApiError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if !v.is_object() {
        return Err(ApiError::MalformedJson(
            "the body must be a JSON object".into(),
        ));
    }
    Ok(v)
}

async fn segments(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let received = Instant::now();
    check_room_id(&room_id)?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let v = parse_json(&body)?;
    let cfg = state.rooms.config();
    let segs = parse_segments(
        &v,
        "segments",
        cfg.max_segments_per_request,
        Some(cfg.room.max_segment_chars),
    )?;
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let out = live::push(&state, &room_id, segs, received).await?;
    Ok(axum::Json(out))
}

async fn show(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    check_room_id(&room_id)?;
    Ok(axum::Json(live::view(&state, &room_id).await?))
}

async fn close(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    check_room_id(&room_id)?;
    Ok(axum::Json(live::close(&state, &room_id).await?))
}

async fn list(State(state): State<AppState>) -> impl IntoResponse {
    let rooms = state.rooms.list();
    axum::Json(json!({
        "count": rooms.len(),
        "max_rooms": state.rooms.config().max_rooms,
        "rooms": rooms,
    }))
}

fn sse_event(ev: &RoomEvent) -> Event {
    let (name, id) = match ev {
        RoomEvent::Incident { incident, .. } => ("incident", Some(incident.id.clone())),
        RoomEvent::Closed { .. } => ("closed", None),
    };
    let e = Event::default()
        .event(name)
        .data(serde_json::to_string(ev).unwrap_or_default());
    match id {
        Some(id) => e.id(id),
        None => e,
    }
}

async fn events(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    check_room_id(&room_id)?;
    let room = state
        .rooms
        .get(&room_id)
        .ok_or_else(|| ApiError::RoomNotFound(room_id.clone()))?;
    let rx = room.subscribe();
    // The stream holds only the receiver: it ends after `closed`, or when the room is gone.
    drop(room);
    let stream = futures_util::stream::unfold((rx, false), |(mut rx, done)| async move {
        if done {
            return None;
        }
        match rx.recv().await {
            Ok(ev) => {
                let last = matches!(ev, RoomEvent::Closed { .. });
                Some((Ok(sse_event(&ev)), (rx, last)))
            }
            Err(RecvError::Lagged(n)) => {
                let e = Event::default()
                    .event("lagged")
                    .data(json!({ "type": "lagged", "skipped": n }).to_string());
                Some((Ok(e), (rx, false)))
            }
            Err(RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
