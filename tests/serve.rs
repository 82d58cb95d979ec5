//! `qingwang serve` as a user runs it: start on port 0, answer, exit 0 on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn qingwang() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qingwang"))
}

fn http(addr: &str, req: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_starts_answers_and_exits_zero_on_sigterm() {
    let mut child = qingwang()
        .args([
            "--log-format",
            "json",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--workers",
            "1",
        ])
        .env("QINGWANG_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut addr = None;
    let mut logged_config = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let fields = &v["fields"];
        logged_config |= fields["message"] == "effective configuration";
        if fields["message"] == "ready" {
            addr = fields["addr"].as_str().map(str::to_string);
            break;
        }
    }
    let addr = addr.expect("no ready line with addr=");
    assert!(logged_config);
    let body = r#"{"text": "这款理疗仪能根治颈椎病"}"#;
    let resp = http(
        &addr,
        &format!(
            "POST /v1/classify HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"results\""));

    // A live room with the real model: push a claim, listen, then stop the server with the
    // event stream still open; the stream gets the flushed incident and `closed`, and ends.
    let segs = r#"{"segments": [{"seq": 1, "start_ms": 0, "end_ms": 3000, "text": "家人们这款眼镜戴上三个月近视就能彻底治愈"}, {"seq": 2, "start_ms": 3000, "end_ms": 5000, "text": "三二一上链接"}]}"#;
    let resp = http(
        &addr,
        &format!(
            "POST /v1/rooms/room-7/segments HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{segs}",
            segs.len()
        ),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"accepted\":2"), "{resp}");
    let mut events = TcpStream::connect(&addr).unwrap();
    events
        .write_all(b"GET /v1/rooms/room-7/events HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    events.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let scan = r#"{"content": "1\n00:00:01,000 --> 00:00:04,000\n这款理疗仪能根治颈椎病\n"}"#;
    let resp = http(
        &addr,
        &format!(
            "POST /v1/transcripts/scan HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{scan}",
            scan.len()
        ),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"evidence\""), "{resp}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Drain the rest of the log so the child never blocks on a full pipe.
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().unwrap();
    assert_eq!(code.code(), Some(0), "{rest:?}");
    let mut stream = String::new();
    events.read_to_string(&mut stream).unwrap();
    assert!(stream.contains("event: incident"), "{stream}");
    assert!(stream.contains("event: closed"), "{stream}");
    assert!(stream.contains("\"reason\":\"shutdown\""), "{stream}");
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");
}

#[test]
fn serve_rejects_bad_settings_naming_them() {
    let out = qingwang()
        .args(["serve", "--workers", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workers"));
    let out = qingwang()
        .args(["serve", "--auth-token-file", "/nonexistent/token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth token file"));
}
