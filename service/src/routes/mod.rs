//! The HTTP surface. [`router`] is the one place routes are assembled: each route group is a
//! module with `pub fn routes() -> Router<AppState>`; groups behind auth are merged into the
//! protected router, public ones into the open one. To add a group (say `/v1/rooms/...`), add a
//! module here, merge its `routes()` below, list its paths in [`ROUTES`] and `openapi.json`.

mod admin;
mod classify;
mod health;
mod labelstudio;
mod model;
mod openapi;
mod rooms;
mod transcripts;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::{ApiError, ErrorKind};
use crate::metrics::{Route, RouteKind, RouteStatus};
use crate::state::AppState;

/// Every (method, path) the router serves; kept equal to `openapi.json` by a test.
pub const ROUTES: [(&str, &str); 17] = [
    ("post", "/v1/classify"),
    ("post", "/v1/transcripts/scan"),
    ("get", "/v1/rooms"),
    ("get", "/v1/rooms/{room_id}"),
    ("delete", "/v1/rooms/{room_id}"),
    ("post", "/v1/rooms/{room_id}/segments"),
    ("get", "/v1/rooms/{room_id}/events"),
    ("get", "/v1/model"),
    ("post", "/admin/reload"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/labelstudio/health"),
    ("post", "/labelstudio/setup"),
    ("post", "/labelstudio/predict"),
    ("post", "/labelstudio/webhook"),
];

/// The request id header, accepted from clients or generated, and echoed.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(classify::routes())
        .merge(transcripts::routes())
        .merge(rooms::routes())
        .merge(model::routes())
        .merge(admin::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    let open = Router::new()
        .merge(health::routes())
        .merge(openapi::routes())
        .merge(labelstudio::open());
    Router::new()
        .merge(protected)
        .merge(labelstudio::protected(state.clone()))
        .merge(open)
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(crate::error::BackendError::Panicked).into_response()
        }))
        .with_state(state)
}

fn tokens_match(given: &[u8], expected: &[u8]) -> bool {
    // Length leaks, content does not: compare every byte.
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The bearer token of an `Authorization` header value.
pub(crate) fn bearer(authorization: &str) -> Option<String> {
    authorization
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
}

/// Whether a request may pass: no service token is set, or `token_of` reads the right one from
/// its `Authorization` header (compared in constant time).
pub(crate) fn authorized(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    token_of: fn(&str) -> Option<String>,
) -> bool {
    let Some(token) = &state.config.auth_token else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(token_of)
        .is_some_and(|g| tokens_match(g.as_bytes(), token.expose().as_bytes()))
}

async fn auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !authorized(&state, req.headers(), bearer) {
        return ApiError::Unauthorized.into_response();
    }
    next.run(req).await
}

fn valid_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len() <= 128 && b.iter().all(|c| c.is_ascii_graphic())
}

fn new_request_id() -> HeaderValue {
    let n: u128 = rand::random();
    HeaderValue::from_str(&format!("{n:032x}")).unwrap_or(HeaderValue::from_static("unknown"))
}

/// Request id, metrics and one log line per request (never the body).
async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| valid_request_id(v))
        .cloned()
        .unwrap_or_else(new_request_id);
    req.headers_mut().insert(REQUEST_ID.clone(), id.clone());
    let method = req.method().clone();
    let mut resp = next.run(req).await;
    let status = resp.status().as_u16();
    let m = &state.metrics;
    m.requests
        .get_or_create(&RouteStatus {
            route: route.clone(),
            status,
        })
        .inc();
    if let Some(ErrorKind(kind)) = resp.extensions().get::<ErrorKind>() {
        m.failures
            .get_or_create(&RouteKind {
                route: route.clone(),
                kind: (*kind).to_string(),
            })
            .inc();
    }
    let secs = start.elapsed().as_secs_f64();
    m.request_seconds
        .get_or_create(&Route {
            route: route.clone(),
        })
        .observe(secs);
    tracing::info!(
        request_id = id.to_str().unwrap_or(""),
        %method,
        route,
        status,
        ms = format!("{:.2}", secs * 1e3),
        "request"
    );
    resp.headers_mut().insert(REQUEST_ID.clone(), id);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(tokens_match(b"abc", b"abc"));
        assert!(!tokens_match(b"abd", b"abc"));
        assert!(!tokens_match(b"ab", b"abc"));
        assert!(!tokens_match(b"", b"abc"));
    }

    #[test]
    fn request_ids_are_checked() {
        assert!(valid_request_id(&HeaderValue::from_static("abc-123")));
        assert!(!valid_request_id(&HeaderValue::from_static("")));
        assert!(!valid_request_id(&HeaderValue::from_static("a b")));
        let long = "x".repeat(129);
        assert!(HeaderValue::from_str(&long).is_ok_and(|v| !valid_request_id(&v)));
        assert_eq!(new_request_id().len(), 32);
    }
}
