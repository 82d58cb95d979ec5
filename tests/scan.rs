//! `qingwang scan` through the real binary and the default bundle; robust facts only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn qingwang() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qingwang"))
}

#[test]
fn scan_flags_an_obvious_claim_and_not_logistics() {
    let dir = tempfile::tempdir().unwrap();
    let srt = dir.path().join("room.srt");
    std::fs::write(
        &srt,
        "1\n00:00:01,000 --> 00:00:04,000\n今天下单全国包邮，48小时内发货\n\n\
         2\n00:00:04,000 --> 00:00:08,000\n这个眼镜戴三个月直接摘镜\n\n\
         3\n00:00:08,000 --> 00:00:12,000\n拍两件再减二十块，顺丰发货\n",
    )
    .unwrap();
    let out = qingwang().arg("scan").arg(&srt).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let incs = v["incidents"].as_array().unwrap();
    assert!(!incs.is_empty(), "{v}");
    assert!(
        incs.iter()
            .flat_map(|i| i["evidence"].as_array().unwrap())
            .any(|e| e["seq"] == 2),
        "{v}"
    );
    assert_eq!(v["summary"]["segments"], 3);

    let logistics = dir.path().join("ship.jsonl");
    std::fs::write(
        &logistics,
        "{\"seq\":1,\"start_ms\":0,\"end_ms\":3000,\"text\":\"今天下单全国包邮，48小时内发货\"}\n",
    )
    .unwrap();
    let out = qingwang()
        .args(["scan", "--format", "table"])
        .arg(&logistics)
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("0 incidents in 1 segments"), "{table}");
}

#[test]
fn scan_reports_parse_errors_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.srt");
    std::fs::write(&bad, "1\n00:00:01,000 -> 00:00:02,000\n文本\n").unwrap();
    let out = qingwang().arg("scan").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
}
