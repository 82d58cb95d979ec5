//! Shared helpers for the HTTP tests: a state over the fake backend and request helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use qingwang_service::fake::{FakeBackend, FakeLoader};
use qingwang_service::{AppState, ServiceConfig, router};
use serde_json::Value;
use tower::ServiceExt;

pub fn config() -> ServiceConfig {
    ServiceConfig {
        workers: 1,
        queue_capacity: 16,
        max_batch_items: 4,
        max_body_bytes: 4096,
        max_text_chars: 50,
        request_timeout: Duration::from_secs(5),
        model_dir: "/bundles/v1".into(),
        ..ServiceConfig::default()
    }
}

/// A state over a fake backend; also returns the fake's per-batch text counts.
pub fn state_with(config: ServiceConfig, delay: Duration) -> (AppState, Arc<Mutex<Vec<usize>>>) {
    let fake = FakeBackend::new("v1", delay);
    let log = fake.batch_log();
    let state = AppState::new(config, Box::new(fake), Arc::new(FakeLoader { delay })).unwrap();
    (state, log)
}

pub fn app() -> (Router, AppState) {
    let (s, _) = state_with(config(), Duration::ZERO);
    (router(s.clone()), s)
}

pub fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, v, headers)
}

/// Assert an error body with this code (and field, when given).
pub fn assert_error(v: &Value, code: &str, field: Option<&str>) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    match field {
        Some(f) => assert_eq!(v["error"]["field"], f, "{v}"),
        None => assert!(v["error"]["field"].is_null(), "{v}"),
    }
}
