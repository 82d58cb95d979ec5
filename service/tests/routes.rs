//! Router::oneshot tests over the fake backend: every route and every error status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{app, assert_error, config, get, post, send, state_with};
use qingwang_service::{Secret, router};
use serde_json::{Value, json};

#[tokio::test]
async fn single_text_is_classified_with_offsets_id_and_request_id() {
    let (app, _) = app();
    let body = json!({"id": "r1", "text": "😀這款儀器能根治頸椎病！", "channel": "livestream"});
    let (status, v, headers) = send(&app, post("/v1/classify", body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["model"], "v1");
    let r = &v["results"][0];
    assert_eq!(r["id"], "r1");
    assert_eq!(r["violation"], true);
    assert_eq!(r["verdict"], "block");
    assert_eq!(r["labels"][0]["id"], "cure_claim");
    let span = &r["spans"][0];
    assert_eq!(span["text"], "根治");
    assert_eq!(span["char_start"], 6);
    assert_eq!(span["utf16_start"], 7);
    assert_eq!(span["byte_start"], 19);
    assert!(v["timings"]["total_us"].as_u64().is_some());
    assert_eq!(v["timings"]["batch_texts"], 1);
    let rid = headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_eq!(rid.len(), 32);
}

#[tokio::test]
async fn client_request_id_is_echoed() {
    let (app, _) = app();
    let mut req = get("/health");
    req.headers_mut()
        .insert("x-request-id", "abc-123".parse().unwrap());
    let (_, _, h) = send(&app, req).await;
    assert_eq!(h.get("x-request-id").unwrap(), "abc-123");
}

#[tokio::test]
async fn batch_keeps_order_and_reports_bad_texts_per_item() {
    let (app, _) = app();
    let body = json!({"items": [
        {"id": 1, "text": "普通的按摩椅"},
        {"id": 2, "text": "   "},
        {"id": 3, "text": "保证治愈"},
        {"id": 4, "text": "长".repeat(51)},
    ], "options": {"explain": true}});
    let (status, v, _) = send(&app, post("/v1/classify", body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let rs = v["results"].as_array().unwrap();
    assert_eq!(rs.len(), 4);
    let ids: Vec<&Value> = rs.iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&json!(1), &json!(2), &json!(3), &json!(4)]);
    assert_eq!(rs[0]["violation"], false);
    assert!(rs[0]["scores"]["cure_claim"].as_f64().is_some());
    assert_error(&rs[1], "invalid_field", Some("items[1].text"));
    assert_eq!(rs[2]["violation"], true);
    assert_error(&rs[3], "text_too_long", Some("items[3].text"));
    assert_eq!(v["timings"]["batch_texts"], 2);
}

#[tokio::test]
async fn options_filter_labels_and_override_thresholds() {
    let (app, _) = app();
    let only_other = json!({"text": "保证治愈", "options": {"labels": ["safety_assurance"]}});
    let (_, v, _) = send(&app, post("/v1/classify", only_other.to_string())).await;
    assert_eq!(v["results"][0]["violation"], false);
    let strict = json!({"text": "保证治愈", "options": {"thresholds": {"cure_claim": 0.95}}});
    let (_, v, _) = send(&app, post("/v1/classify", strict.to_string())).await;
    assert_eq!(v["results"][0]["violation"], false);
    let lax = json!({"text": "普通", "options": {"thresholds": {"cure_claim": 0.05}}});
    let (_, v, _) = send(&app, post("/v1/classify", lax.to_string())).await;
    assert_eq!(v["results"][0]["violation"], true);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (app, _) = app();
    for body in ["", "{", "not json", "{\"text\": \"a\",}"] {
        let (status, v, _) = send(&app, post("/v1/classify", body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&v, "malformed_json", None);
    }
}

#[tokio::test]
async fn body_and_batch_too_large_are_413() {
    let (app, _) = app();
    let big = json!({"text": "治".repeat(5000)}).to_string();
    let (status, v, _) = send(&app, post("/v1/classify", big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&v, "body_too_large", None);
    let items: Vec<Value> = (0..5).map(|i| json!({"id": i, "text": "a"})).collect();
    let (status, v, _) = send(
        &app,
        post("/v1/classify", json!({"items": items}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&v, "batch_too_large", Some("items"));
}

#[tokio::test]
async fn invalid_fields_are_422_and_named() {
    let (app, _) = app();
    let cases = [
        (json!({"text": ""}), "text"),
        (json!({"text": "长".repeat(51)}), "text"),
        (json!({"text": 5}), "text"),
        (
            json!({"items": [{"text": "a"}, {"text": null}]}),
            "items[1].text",
        ),
        (
            json!({"text": "a", "options": {"labels": ["no_such_label"]}}),
            "options.labels",
        ),
        (
            json!({"text": "a", "options": {"thresholds": {"no_such_label": 0.5}}}),
            "options.thresholds.no_such_label",
        ),
        (json!({"text": "a", "channel": "radio"}), "channel"),
        (json!(["a"]), "body"),
    ];
    for (body, field) in cases {
        let (status, v, _) = send(&app, post("/v1/classify", body.to_string())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_error(&v, "invalid_field", Some(field));
    }
}

#[tokio::test]
async fn queue_full_is_429_with_retry_after() {
    let cfg = qingwang_service::ServiceConfig {
        queue_capacity: 1,
        ..config()
    };
    let (state, _) = state_with(cfg, Duration::from_millis(300));
    let app = router(state);
    let body = json!({"text": "普通"}).to_string();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (app, body) = (app.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            send(&app, post("/v1/classify", body)).await
        }));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut statuses = Vec::new();
    for t in tasks {
        let (s, v, h) = t.await.unwrap();
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_error(&v, "queue_full", None);
            assert_eq!(h.get("retry-after").unwrap(), "1");
        }
        statuses.push(s);
    }
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS)
    );
}

#[tokio::test]
async fn deadline_is_503_timeout_and_the_job_is_skipped() {
    let (state, log) = state_with(config(), Duration::from_millis(200));
    let app = router(state.clone());
    let slow = json!({"text": "普通"}).to_string();
    let first = {
        let app = app.clone();
        tokio::spawn(async move { send(&app, post("/v1/classify", slow)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let hurried = json!({"text": "普通", "options": {"timeout_ms": 30}}).to_string();
    let (status, v, h) = send(&app, post("/v1/classify", hurried)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&v, "timeout", None);
    assert!(h.get("retry-after").is_some());
    assert_eq!(first.await.unwrap().0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Only the first job ever reached the backend.
    assert_eq!(log.lock().unwrap().len(), 1);
    assert!(
        state
            .metrics
            .encode()
            .contains("jobs_cancelled_total{value=\"disconnected\"} 1")
            || state
                .metrics
                .encode()
                .contains("jobs_cancelled_total{value=\"deadline\"} 1")
    );
}

#[tokio::test]
async fn client_disconnect_cancels_queued_work() {
    let (state, log) = state_with(config(), Duration::from_millis(200));
    let app = router(state.clone());
    let first = {
        let app = app.clone();
        tokio::spawn(async move {
            send(
                &app,
                post("/v1/classify", json!({"text": "一"}).to_string()),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let gone = {
        let app = app.clone();
        tokio::spawn(async move {
            send(
                &app,
                post("/v1/classify", json!({"text": "二"}).to_string()),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    gone.abort();
    assert_eq!(first.await.unwrap().0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(log.lock().unwrap().as_slice(), &[1]);
    assert!(
        state
            .metrics
            .encode()
            .contains("jobs_cancelled_total{value=\"disconnected\"} 1")
    );
}

#[tokio::test]
async fn requests_arriving_together_are_batched() {
    let (state, log) = state_with(config(), Duration::from_millis(100));
    let app = router(state);
    let mut tasks = Vec::new();
    for i in 0..5 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            send(
                &app,
                post("/v1/classify", json!({"id": i, "text": "治愈"}).to_string()),
            )
            .await
        }));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let (s, v, _) = t.await.unwrap();
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["results"][0]["id"], i);
    }
    let log = log.lock().unwrap().clone();
    assert_eq!(log.iter().sum::<usize>(), 5);
    assert!(log.iter().any(|n| *n > 1), "no batch merged: {log:?}");
}

#[tokio::test]
async fn auth_rejects_missing_and_bad_tokens_but_not_health() {
    let cfg = qingwang_service::ServiceConfig {
        auth_token: Some(Secret::new("s3cret")),
        ..config()
    };
    let (state, _) = state_with(cfg, Duration::ZERO);
    let app = router(state);
    let body = json!({"text": "a"}).to_string();
    for auth in [
        None,
        Some("Bearer nope"),
        Some("s3cret"),
        Some("Bearer s3cre"),
    ] {
        let mut req = post("/v1/classify", body.clone());
        if let Some(a) = auth {
            req.headers_mut()
                .insert("authorization", a.parse().unwrap());
        }
        let (status, v, h) = send(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_error(&v, "unauthorized", None);
        assert_eq!(h.get("www-authenticate").unwrap(), "Bearer");
    }
    let (status, _, _) = send(&app, get("/v1/model")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, post("/admin/reload", "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut ok = post("/v1/classify", body);
    ok.headers_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    assert_eq!(send(&app, ok).await.0, StatusCode::OK);
    assert_eq!(send(&app, get("/health")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_405() {
    let (app, _) = app();
    let (status, v, _) = send(&app, get("/v2/nothing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found", None);
    let (status, v, _) = send(&app, get("/v1/classify")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&v, "method_not_allowed", None);
}

#[tokio::test]
async fn backend_failure_and_panic_are_500_without_detail_and_workers_survive() {
    let (app, state) = app();
    for text in [
        qingwang_service::fake::FAIL_TEXT,
        qingwang_service::fake::PANIC_TEXT,
    ] {
        let (status, v, _) = send(
            &app,
            post("/v1/classify", json!({"text": text}).to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(v["error"]["code"], "internal");
        assert_eq!(v["error"]["message"], "internal error");
    }
    assert!(state.is_ready());
    let (status, _, _) = send(&app, post("/v1/classify", json!({"text": "a"}).to_string())).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn health_ready_and_not_ready() {
    let (app, state) = app();
    let (status, v, _) = send(&app, get("/health")).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, v, _) = send(&app, get("/ready")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["model"], "v1");
    state.begin_shutdown();
    let (status, v, _) = send(&app, get("/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&v, "not_ready", None);
    let (status, v, _) = send(&app, post("/v1/classify", json!({"text": "a"}).to_string())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&v, "not_ready", None);
}

#[tokio::test]
async fn model_route_reports_labels_metrics_and_limits() {
    let (app, _) = app();
    let (status, v, _) = send(&app, get("/v1/model")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["version"], "v1");
    assert_eq!(v["labels"][0]["id"], "cure_claim");
    assert!(
        v["labels"][0]["legal_basis"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert_eq!(v["labels"][0]["threshold"], 0.5);
    assert!(
        (v["block_threshold"].as_f64().unwrap() - 0.8).abs() < 1e-6,
        "{v}"
    );
    assert!(v["gate"].is_null(), "{v}");
    assert!(v["metrics"].is_object());
    assert_eq!(v["limits"]["max_batch_items"], 4);
}

#[tokio::test]
async fn metrics_count_requests_failures_verdicts_and_labels() {
    let (app, _) = app();
    send(
        &app,
        post("/v1/classify", json!({"text": "根治"}).to_string()),
    )
    .await;
    send(&app, post("/v1/classify", "{")).await;
    let (status, text, h) = send(&app, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        h.get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("openmetrics")
    );
    let text = text.as_str().unwrap().to_string();
    for needle in [
        "qingwang_http_requests_total{route=\"/v1/classify\",status=\"200\"} 1",
        "qingwang_http_requests_total{route=\"/v1/classify\",status=\"400\"} 1",
        "qingwang_http_request_failures_total{route=\"/v1/classify\",kind=\"malformed_json\"} 1",
        "qingwang_verdicts_total{value=\"block\"} 1",
        "qingwang_labels_flagged_total{value=\"cure_claim\"} 1",
        "qingwang_batch_texts_count 1",
        "qingwang_queue_wait_seconds_count 1",
        "qingwang_inference_seconds_count 1",
        "qingwang_tokenize_seconds_count 1",
        "qingwang_queue_depth 0",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn openapi_matches_the_routes() {
    let (app, _) = app();
    let (status, spec, _) = send(&app, get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = qingwang_service::routes::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_string(), (*p).to_string()))
        .collect();
    served.sort();
    assert_eq!(documented, served);
    for (method, path) in &documented {
        let req = axum::http::Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(path.as_str())
            .body(axum::body::Body::from("{}"))
            .unwrap();
        let (status, _, _) = send(&app, req).await;
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} documented but not served ({status})"
        );
    }
}
