//! GET /openapi.json: the hand-written spec in `service/openapi.json`.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

/// The OpenAPI document.
pub const SPEC: &str = include_str!("../../openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(spec))
}

async fn spec() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], SPEC)
}
