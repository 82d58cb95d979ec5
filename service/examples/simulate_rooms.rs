//! Live-room simulation: `--rooms N` rooms, each pushing one transcript segment at a time to a
//! running `qingwang serve` at real speaking speed (`--chars-per-sec`, default 4.5), for
//! `--duration` seconds. Segment texts are cut from `--corpus` (JSONL lines with a "text"),
//! each room starting at its own place. Prints one JSON line: posts, errors, latency p50/p99/max
//! of all pushes and of the pushes that returned incidents (the moment the server emits an
//! incident to SSE and the webhook is the moment it answers that push, so this is the alert
//! latency from segment sent to incident emitted, HTTP included), and the segment rate achieved
//! against the rate asked for. Run by scripts/simulate_rooms.sh.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::sync::Mutex;

struct Args {
    addr: String,
    rooms: usize,
    duration: f64,
    chars_per_sec: f64,
    segment_chars: usize,
    corpus: String,
    prefix: String,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:8080".into(),
        rooms: 100,
        duration: 30.0,
        chars_per_sec: 4.5,
        segment_chars: 10,
        corpus: String::new(),
        prefix: "sim".into(),
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for pair in v.chunks(2) {
        let (k, val) = (pair[0].as_str(), pair.get(1).cloned().unwrap_or_default());
        match k {
            "--addr" => a.addr = val,
            "--rooms" => a.rooms = val.parse().expect("--rooms N"),
            "--duration" => a.duration = val.parse().expect("--duration SECONDS"),
            "--chars-per-sec" => a.chars_per_sec = val.parse().expect("--chars-per-sec X"),
            "--segment-chars" => a.segment_chars = val.parse().expect("--segment-chars N"),
            "--corpus" => a.corpus = val,
            "--prefix" => a.prefix = val,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    incident_ms: Vec<f64>,
    incidents: usize,
    errors: usize,
    statuses: std::collections::BTreeMap<u16, usize>,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

#[tokio::main]
async fn main() {
    let a = args();
    let text: String = std::fs::read_to_string(&a.corpus)
        .expect("--corpus FILE")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect::<Vec<_>>()
        .join("");
    let chars: Arc<Vec<char>> = Arc::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    assert!(chars.len() > a.segment_chars * 10, "corpus too small");
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(a.rooms)
        .build_http();
    let interval = Duration::from_secs_f64(a.segment_chars as f64 / a.chars_per_sec);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(a.duration);
    let mut tasks = Vec::new();
    for r in 0..a.rooms {
        let client = client.clone();
        let chars = Arc::clone(&chars);
        let tally = Arc::clone(&tally);
        let url = format!("http://{}/v1/rooms/{}-{r}/segments", a.addr, a.prefix);
        let seg_chars = a.segment_chars;
        tasks.push(tokio::spawn(async move {
            // Rooms start spread over one interval, each at its own place in the corpus.
            let phase = interval.mul_f64(r as f64 / a.rooms.max(1) as f64);
            let mut next = start + phase;
            let mut pos = (r * 7919 * seg_chars) % chars.len();
            let mut seq = 0u64;
            while next < end {
                tokio::time::sleep_until(next.into()).await;
                let seg: String = (0..seg_chars)
                    .map(|i| chars[(pos + i) % chars.len()])
                    .collect();
                pos = (pos + seg_chars) % chars.len();
                let t0 = seq * interval.as_millis() as u64;
                let body = json!({ "segments": [{
                    "seq": seq, "start_ms": t0, "end_ms": t0 + interval.as_millis() as u64, "text": seg
                }]})
                .to_string();
                seq += 1;
                let req = hyper::Request::post(url.as_str())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .unwrap();
                let sent = Instant::now();
                let res = client.request(req).await;
                let mut t = Tally::default();
                match res {
                    Err(_) => t.errors += 1,
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let bytes = resp.into_body().collect().await.map(|b| b.to_bytes());
                        let ms = sent.elapsed().as_secs_f64() * 1e3;
                        *t.statuses.entry(status).or_default() += 1;
                        if let (200, Ok(b)) = (status, bytes) {
                            let v: serde_json::Value =
                                serde_json::from_slice(&b).unwrap_or_default();
                            let n = v["incidents"].as_array().map_or(0, Vec::len);
                            t.latencies_ms.push(ms);
                            if n > 0 {
                                t.incidents += n;
                                t.incident_ms.push(ms);
                            }
                        } else {
                            t.errors += 1;
                        }
                    }
                }
                let mut g = tally.lock().await;
                g.latencies_ms.extend(t.latencies_ms);
                g.incident_ms.extend(t.incident_ms);
                g.incidents += t.incidents;
                g.errors += t.errors;
                for (k, n) in t.statuses {
                    *g.statuses.entry(k).or_default() += n;
                }
                drop(g);
                next += interval;
                // A push slower than the interval is not made up for: the room falls behind.
                let now = Instant::now();
                if next < now {
                    next = now;
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut g = tally.lock().await;
    let posts = g.latencies_ms.len() + g.errors;
    let asked = a.rooms as f64 / interval.as_secs_f64();
    let out = json!({
        "rooms": a.rooms,
        "seconds": (elapsed * 10.0).round() / 10.0,
        "posts": posts,
        "errors": g.errors,
        "statuses": g.statuses,
        "segments_per_s": (posts as f64 / elapsed * 10.0).round() / 10.0,
        "segments_per_s_asked": (asked * 10.0).round() / 10.0,
        "chars_per_s": (posts as f64 * a.segment_chars as f64 / elapsed).round(),
        "p50_ms": (pct(&mut g.latencies_ms, 0.5) * 100.0).round() / 100.0,
        "p99_ms": (pct(&mut g.latencies_ms, 0.99) * 100.0).round() / 100.0,
        "max_ms": (pct(&mut g.latencies_ms, 1.0) * 100.0).round() / 100.0,
        "incidents": g.incidents,
        "alert_p50_ms": (pct(&mut g.incident_ms, 0.5) * 100.0).round() / 100.0,
        "alert_p99_ms": (pct(&mut g.incident_ms, 0.99) * 100.0).round() / 100.0,
    });
    println!("{out}");
}
