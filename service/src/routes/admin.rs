//! POST /admin/reload: load a bundle beside the serving one and swap it in atomically.
//! Body: empty (reload the current directory) or `{"model": "path"}`.

use std::path::PathBuf;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::IntoResponse;
use axum::routing::post;

use crate::error::ApiError;
use crate::routes::classify::body_bytes;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/reload", post(reload))
}

fn parse(body: &[u8]) -> Result<Option<PathBuf>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let Some(obj) = v.as_object() else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    if let Some(k) = obj.keys().find(|k| k.as_str() != "model") {
        return Err(ApiError::field(k.clone(), "unknown field; known: model"));
    }
    match obj.get("model") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(Some(PathBuf::from(s))),
        Some(_) => Err(ApiError::field("model", "must be a non-empty path string")),
    }
}

async fn reload(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let dir = parse(&body)?;
    let r = state.reload(dir.as_deref()).await?;
    Ok(axum::Json(r))
}
