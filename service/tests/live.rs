//! Transcripts and live rooms over HTTP, on the fake backend (flags 治愈 / 根治 as cure_claim):
//! whole-transcript scans, segment pushes (split claims, idempotent resends, reordering),
//! room state, SSE events, limits, TTL eviction, shutdown, webhooks with retries and signatures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use qingwang_model::transcript::WindowConfig;
use qingwang_service::config::Secret;
use qingwang_service::live::webhook::{WebhookConfig, signature};
use qingwang_service::live::{self, LiveConfig};
use qingwang_service::{AppState, ServiceConfig, router};
use serde_json::{Value, json};
use tower::ServiceExt;

fn live_config() -> LiveConfig {
    let d = LiveConfig::default();
    LiveConfig {
        room: qingwang_model::transcript::RoomConfig {
            window: WindowConfig { len: 12, stride: 6 },
            max_segment_chars: 40,
            ..d.room
        },
        max_rooms: 3,
        max_segments_per_request: 8,
        ..d
    }
}

fn live_app(live: LiveConfig) -> (Router, AppState) {
    let cfg = ServiceConfig {
        live,
        max_body_bytes: 64 * 1024,
        ..config()
    };
    let (s, _) = state_with(cfg, Duration::ZERO);
    (router(s.clone()), s)
}

fn seg(seq: u64, text: &str) -> Value {
    let start = seq * 2_000;
    json!({ "seq": seq, "start_ms": start, "end_ms": start + 1_900, "text": text })
}

async fn push(app: &Router, room: &str, segs: Vec<Value>) -> (StatusCode, Value) {
    let body = json!({ "segments": segs }).to_string();
    let (s, v, _) = send(app, post(&format!("/v1/rooms/{room}/segments"), body)).await;
    (s, v)
}

/// A claim split over two segments, then enough filler for it to become final.
fn split_claim() -> Vec<Value> {
    vec![
        seg(1, "家人们这个贴片贴上就能治"),
        seg(2, "愈老寒腿三二一上车"),
        seg(3, "今天福利价九块九包邮"),
        seg(4, "库存不多了宝宝们快拍"),
    ]
}

#[tokio::test]
async fn scan_finds_a_claim_split_across_segments_once() {
    let (app, _) = live_app(live_config());
    let body = json!({ "segments": split_claim(), "window": 12, "stride": 6 }).to_string();
    let (status, v, _) = send(&app, post("/v1/transcripts/scan", body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let incs = v["incidents"].as_array().unwrap();
    assert_eq!(incs.len(), 1, "{v}");
    assert_eq!(incs[0]["labels"][0]["id"], "cure_claim");
    let ev = incs[0]["evidence"].as_array().unwrap();
    let seqs: Vec<u64> = ev.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2], "{v}");
    assert_eq!(ev[0]["text"], "治");
    assert_eq!(ev[1]["text"], "愈");
    assert_eq!(v["summary"]["segments"], 4);
    assert_eq!(v["summary"]["incidents_per_label"]["cure_claim"], 1);
    assert_eq!(v["model"], "v1");

    // The same transcript as SRT text gives the same incident.
    let srt = "1\n00:00:02,000 --> 00:00:03,900\n家人们这个贴片贴上就能治\n\n\
               2\n00:00:04,000 --> 00:00:05,900\n愈老寒腿三二一上车\n\n\
               3\n00:00:06,000 --> 00:00:07,900\n今天福利价九块九包邮\n";
    let body = json!({ "content": srt, "window": 12, "stride": 6 }).to_string();
    let (status, v2, _) = send(&app, post("/v1/transcripts/scan", body)).await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(
        v2["incidents"][0]["evidence"],
        v["incidents"][0]["evidence"]
    );
}

#[tokio::test]
async fn scan_rejects_bad_input_naming_the_field() {
    let (app, _) = live_app(live_config());
    let cases = [
        (json!({}), "segments"),
        (json!({ "segments": "x" }), "segments"),
        (
            json!({ "segments": [seg(1, "a"), { "seq": 2, "start_ms": 5, "end_ms": 1, "text": "b" }] }),
            "segments[1].end_ms",
        ),
        (
            json!({ "segments": [{ "seq": 1, "text": "a" }] }),
            "segments[0]",
        ),
        (
            json!({ "content": "1\nnot a timing line\n", "format": "srt" }),
            "content",
        ),
        (json!({ "content": "x", "format": "docx" }), "format"),
        (json!({ "content": 3 }), "content"),
        (json!({ "segments": [], "content": "" }), "content"),
        (
            json!({ "segments": [], "window": 4, "stride": 9 }),
            "stride",
        ),
        (json!({ "segments": [], "window": -1 }), "window"),
    ];
    for (body, field) in cases {
        let (status, v, _) = send(&app, post("/v1/transcripts/scan", body.to_string())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_error(&v, "invalid_field", Some(field));
    }
    let (status, v, _) = send(&app, post("/v1/transcripts/scan", "[1]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&v, "malformed_json", None);
}

#[tokio::test]
async fn pushes_emit_each_incident_once_and_resends_are_duplicates() {
    let (app, _) = live_app(live_config());
    let mut emitted = Vec::new();
    for s in split_claim() {
        let (status, v) = push(&app, "room-1", vec![s]).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["accepted"], 1);
        emitted.extend(v["incidents"].as_array().unwrap().clone());
    }
    assert_eq!(emitted.len(), 1, "{emitted:?}");
    assert_eq!(emitted[0]["id"], "inc-1");
    assert_eq!(emitted[0]["evidence"][0]["seq"], 1);
    assert_eq!(emitted[0]["evidence"][1]["seq"], 2);

    // Re-sending is answered as duplicates and emits nothing new.
    let (status, v) = push(&app, "room-1", split_claim()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["accepted"], 0);
    assert_eq!(v["duplicate"], 4);
    assert_eq!(v["incidents"], json!([]));

    let (status, room, _) = send(&app, get("/v1/rooms/room-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(room["duplicates"], 4);
    assert_eq!(room["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(room["summary"]["segments"], 4);
    assert_eq!(room["summary"]["worst_minute"]["minute"], 0);

    let (_, list, _) = send(&app, get("/v1/rooms")).await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["rooms"][0]["room_id"], "room-1");

    let req = Request::delete("/v1/rooms/room-1")
        .body(Body::empty())
        .unwrap();
    let (status, closed, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["reason"], "closed");
    assert_eq!(closed["summary"]["incidents"], 1);
    let (status, v, _) = send(&app, get("/v1/rooms/room-1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&v, "room_not_found", None);
}

#[tokio::test]
async fn out_of_order_segments_are_held_then_released_in_order() {
    let (app, _) = live_app(live_config());
    let claim = split_claim();
    let (_, v) = push(&app, "r", vec![claim[0].clone()]).await;
    assert_eq!(v["held"], 0);
    // 3 before 2: held until 2 comes.
    let (_, v) = push(&app, "r", vec![claim[2].clone()]).await;
    assert_eq!(v["accepted"], 1);
    assert_eq!(v["held"], 1);
    let (_, v) = push(&app, "r", vec![claim[1].clone(), claim[3].clone()]).await;
    assert_eq!(v["held"], 0);
    assert_eq!(v["incidents"].as_array().unwrap().len(), 1, "{v}");
    let ev = &v["incidents"][0]["evidence"];
    assert_eq!(ev[0]["seq"], 1);
    assert_eq!(ev[1]["seq"], 2);
}

#[tokio::test]
async fn rooms_are_bounded_and_bad_pushes_name_the_field() {
    let (app, _) = live_app(live_config());
    for r in ["a", "b", "c"] {
        let (status, _) = push(&app, r, vec![seg(1, "你好")]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, v) = push(&app, "d", vec![seg(1, "你好")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_error(&v, "room_limit", None);

    let long = "长".repeat(41);
    let (status, v) = push(&app, "a", vec![seg(2, &long)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("segments[0].text"));
    let many: Vec<Value> = (10..19).map(|i| seg(i, "好")).collect();
    let (status, v) = push(&app, "a", many).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("segments"));
    let (status, v) = push(&app, "bad%20id", vec![seg(1, "a")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("room_id"));
    let (status, v, _) = send(&app, post("/v1/rooms/a/segments", "{\"segments\": 1}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&v, "invalid_field", Some("segments"));
    // Nothing above changed room a.
    let (_, room, _) = send(&app, get("/v1/rooms/a")).await;
    assert_eq!(room["summary"]["segments"], 1);
}

async fn next_event(body: &mut Body) -> Option<String> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("an event within 5 s")?
            .ok()?;
        if let Ok(data) = frame.into_data() {
            let s = String::from_utf8_lossy(&data).into_owned();
            if !s.starts_with(':') {
                return Some(s);
            }
        }
    }
}

fn data_of(event: &str) -> Value {
    let line = event
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    serde_json::from_str(line).unwrap()
}

#[tokio::test]
async fn events_stream_incidents_then_closed() {
    let (app, _) = live_app(live_config());
    let (status, v, _) = send(&app, get("/v1/rooms/live/events")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    push(&app, "live", vec![seg(0, "开播啦")]).await;
    let resp = app
        .clone()
        .oneshot(get("/v1/rooms/live/events"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    push(&app, "live", split_claim()).await;
    let ev = next_event(&mut body).await.unwrap();
    assert!(ev.starts_with("event: incident"), "{ev}");
    assert!(ev.contains("id: inc-1"), "{ev}");
    let d = data_of(&ev);
    assert_eq!(d["type"], "incident");
    assert_eq!(d["room_id"], "live");
    assert_eq!(d["incident"]["labels"][0]["id"], "cure_claim");

    let (_, room, _) = send(&app, get("/v1/rooms/live")).await;
    assert_eq!(room["listeners"], 1);
    let req = Request::delete("/v1/rooms/live")
        .body(Body::empty())
        .unwrap();
    send(&app, req).await;
    let ev = next_event(&mut body).await.unwrap();
    assert!(ev.starts_with("event: closed"), "{ev}");
    assert_eq!(data_of(&ev)["reason"], "closed");
    assert!(next_event(&mut body).await.is_none(), "the stream ends");
}

#[tokio::test]
async fn idle_rooms_are_flushed_evicted_and_say_so() {
    let cfg = LiveConfig {
        idle_ttl: Duration::from_millis(50),
        ..live_config()
    };
    let (app, state) = live_app(cfg);
    // The claim is in the last, partial window: only the flush at eviction completes it.
    push(&app, "quiet", vec![seg(1, "用了就能根治")]).await;
    let resp = app
        .clone()
        .oneshot(get("/v1/rooms/quiet/events"))
        .await
        .unwrap();
    let mut body = resp.into_body();
    push(&app, "busy", vec![seg(1, "你好")]).await;
    tokio::time::sleep(Duration::from_millis(80)).await;
    push(&app, "busy", vec![seg(2, "你好")]).await;
    live::sweep(&state).await;
    let (_, list, _) = send(&app, get("/v1/rooms")).await;
    assert_eq!(list["count"], 1, "{list}");
    assert_eq!(list["rooms"][0]["room_id"], "busy");
    let ev = next_event(&mut body).await.unwrap();
    assert!(ev.starts_with("event: incident"), "{ev}");
    let ev = next_event(&mut body).await.unwrap();
    assert_eq!(data_of(&ev)["reason"], "evicted");
    let (_, metrics, _) = send(&app, get("/metrics")).await;
    let m = metrics.as_str().unwrap();
    for needle in [
        "qingwang_rooms_closed_total{value=\"evicted\"} 1",
        "qingwang_rooms_active 1",
        "qingwang_room_segments_total 3",
        "qingwang_room_incidents_total{value=\"cure_claim\"} 1",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
}

#[tokio::test]
async fn shutdown_flushes_rooms_and_ends_streams() {
    let (app, state) = live_app(live_config());
    push(&app, "r", vec![seg(1, "你好")]).await;
    let resp = app
        .clone()
        .oneshot(get("/v1/rooms/r/events"))
        .await
        .unwrap();
    let mut body = resp.into_body();
    live::shutdown(&state).await;
    let ev = next_event(&mut body).await.unwrap();
    assert_eq!(data_of(&ev)["reason"], "shutdown");
    assert!(next_event(&mut body).await.is_none());
    assert!(state.rooms.is_empty());
}

#[tokio::test]
async fn alert_latency_is_measured_for_pushed_incidents() {
    let (app, _) = live_app(live_config());
    push(&app, "r", split_claim()).await;
    let (_, metrics, _) = send(&app, get("/metrics")).await;
    let m = metrics.as_str().unwrap();
    assert!(m.contains("qingwang_alert_latency_seconds_count 1"), "{m}");
}

type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook receiver that fails the first `fail_first` requests with 500.
async fn receiver(fail_first: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = Arc::clone(&seen);
    let app = Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let s = Arc::clone(&s);
            async move {
                let mut v = s.lock().unwrap();
                v.push((headers, body));
                if v.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

fn webhook_config(url: String, attempts: u32) -> LiveConfig {
    let mut w = WebhookConfig::new(url, Secret::new("s3cret"));
    w.max_attempts = attempts;
    w.initial_backoff = Duration::from_millis(20);
    LiveConfig {
        webhook: Some(w),
        ..live_config()
    }
}

async fn wait_for(seen: &Seen, n: usize) {
    for _ in 0..250 {
        if seen.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn metric_line(app: &Router, needle: &str) -> bool {
    for _ in 0..100 {
        let (_, metrics, _) = send(app, get("/metrics")).await;
        if metrics.as_str().unwrap().contains(needle) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_retries_until_delivered_with_a_valid_signature() {
    let (url, seen) = receiver(2).await;
    let (app, _) = live_app(webhook_config(url, 5));
    push(&app, "hooked", split_claim()).await;
    wait_for(&seen, 3).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "two failures, then delivered");
    let ids: Vec<&str> = seen
        .iter()
        .map(|(h, _)| h["x-qingwang-delivery"].to_str().unwrap())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "one delivery id: {ids:?}");
    for (h, body) in &seen {
        assert_eq!(h["x-qingwang-event"], "incident");
        let sig = h["x-qingwang-signature"].to_str().unwrap();
        let t: u64 = sig
            .strip_prefix("t=")
            .and_then(|r| r.split(',').next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(sig, signature("s3cret", t, body.as_bytes()));
        assert_ne!(sig, signature("wrong", t, body.as_bytes()));
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["type"], "incident");
        assert_eq!(v["room_id"], "hooked");
        assert_eq!(v["incident"]["id"], "inc-1");
    }
    assert!(
        metric_line(
            &app,
            "qingwang_webhook_deliveries_total{value=\"delivered\"} 1"
        )
        .await
    );
    assert!(
        metric_line(
            &app,
            "qingwang_webhook_deliveries_total{value=\"retried\"} 2"
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_failures_are_counted_after_the_last_attempt() {
    let (url, seen) = receiver(usize::MAX).await;
    let (app, _) = live_app(webhook_config(url, 2));
    push(&app, "hooked", split_claim()).await;
    wait_for(&seen, 2).await;
    assert!(
        metric_line(
            &app,
            "qingwang_webhook_deliveries_total{value=\"failed\"} 1"
        )
        .await
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}
