//! GET /v1/model: manifest, labels with legal basis, thresholds, measured metrics, limits.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/model", get(model))
}

async fn model(State(state): State<AppState>) -> impl IntoResponse {
    let loaded = state.model.load();
    let info = loaded.backend.info();
    axum::Json(json!({
        "version": info.version,
        "manifest": info.manifest,
        "labels": info.labels,
        "block_threshold": info.block_threshold,
        "gate": info.gate,
        "metrics": info.metrics,
        "limits": {
            "max_batch_items": state.config.max_batch_items,
            "max_text_chars": state.config.max_text_chars,
            "max_body_bytes": state.config.max_body_bytes,
            "request_timeout_ms": state.config.request_timeout.as_millis() as u64,
        },
    }))
}
