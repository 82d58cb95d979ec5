//! The Label Studio ML backend routes against requests in the shapes Label Studio sends
//! (tests/fixtures/labelstudio/), over the fake backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use common::{assert_error, config, get, post, send, state_with};
use qingwang_service::{Secret, ServiceConfig, router};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/labelstudio")
        .join(name);
    std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .unwrap()
}

fn ls_config() -> ServiceConfig {
    ServiceConfig {
        max_body_bytes: 1 << 20,
        ..config()
    }
}

fn ls_app() -> (Router, std::sync::Arc<std::sync::Mutex<Vec<usize>>>) {
    let (state, log) = state_with(ls_config(), Duration::ZERO);
    (router(state), log)
}

#[tokio::test]
async fn health_reports_up_model_class_and_version() {
    let (app, _) = ls_app();
    let (status, v, _) = send(&app, get("/labelstudio/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v,
        json!({"status": "UP", "model_class": "qingwang", "model_version": "v1"})
    );
}

#[tokio::test]
async fn setup_accepts_the_qingwang_config_and_refuses_a_foreign_one() {
    let (app, _) = ls_app();
    let (status, v, _) = send(&app, post("/labelstudio/setup", fixture("setup.json"))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"model_version": "v1"}));
    let (status, v, _) = send(
        &app,
        post("/labelstudio/setup", fixture("setup_foreign_config.json")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("schema"));
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("text, labels, evidence") && msg.contains("config.xml"),
        "{msg}"
    );
    let (status, v, _) = send(&app, post("/labelstudio/setup", r#"{"schema": 3}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("schema"));
}

#[tokio::test]
async fn predict_answers_every_task_in_order_with_utf16_spans() {
    let (app, _) = ls_app();
    let (status, v, _) = send(&app, post("/labelstudio/predict", fixture("predict.json"))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["model_version"], "v1");
    let rs = v["results"].as_array().unwrap();
    assert_eq!(rs.len(), 3);
    // 😀這款儀器能根治頸椎病！: 根治 is char 6, UTF-16 unit 7 (the emoji counts two).
    let r0 = &rs[0];
    assert_eq!(r0["model_version"], "v1");
    assert!((r0["score"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    let items = r0["result"].as_array().unwrap();
    let labels = items.iter().find(|i| i["from_name"] == "labels").unwrap();
    assert_eq!(labels["type"], "choices");
    assert_eq!(labels["to_name"], "text");
    assert_eq!(labels["value"]["choices"], json!(["cure_claim"]));
    let span = items.iter().find(|i| i["from_name"] == "evidence").unwrap();
    assert_eq!(span["type"], "labels");
    assert_eq!(
        span["value"],
        json!({"start": 7, "end": 9, "text": "根治", "labels": ["cure_claim"]})
    );
    // No claim: no result items, the model's low score.
    assert_eq!(rs[1]["result"], json!([]));
    assert!(rs[1]["score"].as_f64().unwrap() < 0.5);
    // 👋👋家人们保证治愈老寒腿: 治愈 is char 7, UTF-16 unit 9.
    let span = rs[2]["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["from_name"] == "evidence")
        .unwrap();
    assert_eq!(
        (&span["value"]["start"], &span["value"]["end"]),
        (&json!(9), &json!(11))
    );
}

#[tokio::test]
async fn predict_task_without_text_is_422_naming_it() {
    let (app, log) = ls_app();
    let (status, v, _) = send(
        &app,
        post("/labelstudio/predict", fixture("predict_missing_text.json")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("tasks[1].data.text"));
    assert!(log.lock().unwrap().is_empty(), "nothing reaches the model");
    for (body, field) in [
        (json!({}), "tasks"),
        (json!({"tasks": {}}), "tasks"),
        (json!({"tasks": [{"id": 1}]}), "tasks[0].data.text"),
        (
            json!({"tasks": [{"data": {"text": 5}}]}),
            "tasks[0].data.text",
        ),
        (json!({"tasks": [], "label_config": 1}), "label_config"),
    ] {
        let (status, v, _) = send(&app, post("/labelstudio/predict", body.to_string())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_error(&v, "invalid_field", Some(field));
    }
    let (status, v, _) = send(&app, post("/labelstudio/predict", "{")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&v, "malformed_json", None);
}

#[tokio::test]
async fn predict_reads_the_configs_text_key_and_batches_through_the_pool() {
    let (app, log) = ls_app();
    let config = "<View><Text name=\"text\" value=\"$transcript\"/></View>";
    let tasks: Vec<Value> = (0..6)
        .map(|i| json!({"id": i, "data": {"transcript": format!("第{i}号 保证治愈")}}))
        .chain([
            json!({"id": 6, "data": {"transcript": "   "}}),
            json!({"id": 7, "data": {"transcript": "长".repeat(51)}}),
        ])
        .collect();
    let body = json!({"tasks": tasks, "label_config": config});
    let (status, v, _) = send(&app, post("/labelstudio/predict", body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let rs = v["results"].as_array().unwrap();
    assert_eq!(rs.len(), 8);
    for r in &rs[..6] {
        assert_eq!(
            r["result"][0]["value"]["choices"],
            json!(["cure_claim"]),
            "{r}"
        );
    }
    // Blank and over-long texts get an empty prediction and never reach the model.
    for r in &rs[6..] {
        assert_eq!(r["result"], json!([]));
        assert_eq!(r["score"], 0.0);
        assert_eq!(r["model_version"], "v1");
    }
    // max_batch_items is 4: six texts go to the workers as two jobs.
    assert_eq!(log.lock().unwrap().iter().sum::<usize>(), 6);
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn webhook_acknowledges_and_counts_events() {
    let (app, _) = ls_app();
    let (status, v, _) = send(
        &app,
        post(
            "/labelstudio/webhook",
            fixture("webhook_annotation_created.json"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"status": "ok"}));
    send(
        &app,
        post(
            "/labelstudio/webhook",
            json!({"action": "weird action!"}).to_string(),
        ),
    )
    .await;
    let (status, v, _) = send(&app, post("/labelstudio/webhook", "{}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("action"));
    let (_, text, _) = send(&app, get("/metrics")).await;
    let text = text.as_str().unwrap();
    for needle in [
        "qingwang_labelstudio_webhook_events_total{value=\"ANNOTATION_CREATED\"} 1",
        "qingwang_labelstudio_webhook_events_total{value=\"OTHER\"} 1",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn token_is_required_as_bearer_or_basic_password_but_not_for_health() {
    let cfg = ServiceConfig {
        auth_token: Some(Secret::new("s3cret")),
        ..ls_config()
    };
    let (state, _) = state_with(cfg, Duration::ZERO);
    let app = router(state);
    let body = json!({"tasks": [{"id": 1, "data": {"text": "根治"}}]}).to_string();
    // base64("analyst:s3cret") and base64("analyst:nope")
    for (auth, want) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some("Basic YW5hbHlzdDpub3Bl"), StatusCode::UNAUTHORIZED),
        (Some("Bearer nope"), StatusCode::UNAUTHORIZED),
        (Some("Basic YW5hbHlzdDpzM2NyZXQ="), StatusCode::OK),
        (Some("Bearer s3cret"), StatusCode::OK),
    ] {
        for path in [
            "/labelstudio/predict",
            "/labelstudio/setup",
            "/labelstudio/webhook",
        ] {
            let b = if path.ends_with("webhook") {
                json!({"action": "PROJECT_UPDATED"}).to_string()
            } else {
                body.clone()
            };
            let mut req = post(path, b);
            if let Some(a) = auth {
                req.headers_mut()
                    .insert("authorization", a.parse().unwrap());
            }
            let (status, v, _) = send(&app, req).await;
            assert_eq!(status, want, "{path} {auth:?}: {v}");
        }
    }
    // Basic auth is only for the Label Studio routes.
    let mut req = post("/v1/classify", json!({"text": "a"}).to_string());
    req.headers_mut().insert(
        "authorization",
        "Basic YW5hbHlzdDpzM2NyZXQ=".parse().unwrap(),
    );
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(&app, get("/labelstudio/health")).await.0,
        StatusCode::OK
    );
}

/// Requests a real Label Studio (1.23.2) sent to a recorder, replayed with their basic-auth
/// header against a server whose token is the recorded password.
#[tokio::test]
async fn recorded_label_studio_requests_are_answered() {
    let cfg = ServiceConfig {
        auth_token: Some(Secret::new("s3cret")),
        ..ls_config()
    };
    let (state, _) = state_with(cfg, Duration::ZERO);
    let app = router(state);
    let replay = |name: &str| {
        let rec: Value = serde_json::from_str(&fixture(name)).unwrap();
        let path = rec["path"].as_str().unwrap().to_string();
        let mut req = post(&path, rec["body"].to_string());
        req.headers_mut().insert(
            "authorization",
            rec["authorization"].as_str().unwrap().parse().unwrap(),
        );
        (req, rec)
    };
    let (req, _) = replay("recorded_setup.json");
    let (status, v, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["model_version"], "v1");
    let (req, rec) = replay("recorded_predict.json");
    let (status, v, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let rs = v["results"].as_array().unwrap();
    assert_eq!(rs.len(), rec["body"]["tasks"].as_array().unwrap().len());
    let span = rs[0]["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["from_name"] == "evidence")
        .unwrap();
    assert_eq!(
        (&span["value"]["start"], &span["value"]["end"]),
        (&json!(7), &json!(9))
    );
    assert_eq!(rs[1]["result"], json!([]));
}
