//! Reload, a real socket on port 0, graceful shutdown with in-flight requests, and the real
//! model backend behind the router.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::{app, assert_error, config, get, post, send, state_with};
use qingwang_service::{AppState, ModelLoader, ServiceConfig, router, serve};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn reload_swaps_the_bundle_and_a_failed_reload_keeps_the_old_one() {
    let (app, state) = app();
    let (status, v, _) = send(
        &app,
        post("/admin/reload", json!({"model": "/bundles/v2"}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        (v["version"].as_str(), v["previous"].as_str()),
        (Some("v2"), Some("v1"))
    );
    let (_, v, _) = send(
        &app,
        post("/v1/classify", json!({"text": "治愈"}).to_string()),
    )
    .await;
    assert_eq!(v["model"], "v2");
    assert_eq!(v["results"][0]["model"], "v2");
    let (status, v, _) = send(
        &app,
        post(
            "/admin/reload",
            json!({"model": "/bundles/bad-one"}).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "reload_failed", Some("model"));
    let (_, v, _) = send(&app, get("/v1/model")).await;
    assert_eq!(v["version"], "v2");
    // An empty body reloads the directory serving now.
    let (status, v, _) = send(&app, post("/admin/reload", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["version"], "v2");
    assert_eq!(state.model_dir(), std::path::PathBuf::from("/bundles/v2"));
    let (status, v, _) = send(&app, post("/admin/reload", json!({"model": 3}).to_string())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("model"));
    let (status, _, _) = send(&app, post("/admin/reload", "{")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let metrics = state.metrics.encode();
    assert!(
        metrics.contains("qingwang_reloads_total{value=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("qingwang_reloads_total{value=\"failed\"} 1"));
}

async fn raw_request(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn real_socket_on_port_zero() {
    let (state, _) = state_with(config(), Duration::ZERO);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stop_rx.await;
    }));
    let resp = raw_request(
        addr,
        "POST",
        "/v1/classify",
        &json!({"text": "根治鼻炎"}).to_string(),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"violation\":true"), "{resp}");
    assert!(resp.to_ascii_lowercase().contains("x-request-id: "));
    let resp = raw_request(addr, "POST", "/v1/classify", "{oops").await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests() {
    let (state, log) = state_with(
        ServiceConfig {
            workers: 2,
            ..config()
        },
        Duration::from_millis(300),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let s2 = state.clone();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stop_rx.await;
    }));
    let inflight: Vec<_> = (0..3)
        .map(|i| {
            tokio::spawn(async move {
                raw_request(
                    addr,
                    "POST",
                    "/v1/classify",
                    &json!({"id": i, "text": "治愈"}).to_string(),
                )
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop_tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!s2.is_ready(), "ready must turn off once shutdown starts");
    for t in inflight {
        let resp = t.await.unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        assert!(resp.contains("\"violation\":true"));
    }
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server did not stop")
        .unwrap()
        .unwrap();
    assert_eq!(log.lock().unwrap().iter().sum::<usize>(), 3);
    // The listener is closed: new connections are refused.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn real_model_backend_behind_the_router() {
    let cfg = ServiceConfig {
        model_dir: qingwang_model::bundle::default_dir(),
        ..config()
    };
    let loader = Arc::new(ModelLoader {
        max_text_chars: cfg.max_text_chars,
    });
    let state = AppState::load(cfg, loader).unwrap();
    let app = router(state);
    let body = json!({"items": [
        {"id": "a", "text": "这款理疗仪能根治颈椎病，三天见效，无效退款！"},
        {"id": "b", "text": "今天天气不错，我们聊聊家常"},
        {"id": "c", "text": ""},
    ], "options": {"explain": true}});
    let (status, v, _) = send(&app, post("/v1/classify", body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, m, _) = send(&app, get("/v1/model")).await;
    assert_eq!(v["model"], m["version"]);
    assert!(m["metrics"].is_object());
    assert!(m["manifest"]["files"].is_object());
    let rs = v["results"].as_array().unwrap();
    assert_eq!(rs[0]["id"], "a");
    assert_eq!(rs[0]["scores"].as_object().unwrap().len(), 12);
    for r in &rs[..2] {
        let score = r["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        for s in r["spans"].as_array().unwrap() {
            assert!(s["char_start"].as_u64() < s["char_end"].as_u64());
        }
    }
    assert_error(&rs[2], "invalid_field", Some("items[2].text"));
}
