//! The binary's commands, run as a user runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is a failed test

use std::io::Write;
use std::process::{Command, Stdio};

fn qingwang() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qingwang"))
}

fn run_with_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = qingwang()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn classify_answers_every_line_in_order_with_error_lines_for_bad_input() {
    let long = "好".repeat(60);
    let input = [
        r#"{"id": "a", "text": "家人们这个眼镜戴三个月直接摘镜 三二一上链接", "channel": "livestream"}"#.to_string(),
        "{not json".to_string(),
        r#"{"id": "c"}"#.to_string(),
        String::new(),
        format!(r#"{{"id": "d", "text": "{long}"}}"#),
        r#"{"id": 5, "text": "今天包邮 明天发货"}"#.to_string(),
        r#"{"id": "e", "text": "  "}"#.to_string(),
        r#"{"id": "f", "text": "治愈", "channel": "radio"}"#.to_string(),
        r#"{"id": "g", "text": "👀宝宝们 无副作用 无效退款"}"#.to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_with_stdin(&["classify", "--max-chars", "50"], &input);
    assert_eq!(
        code, 1,
        "errors must show in the exit status; stderr: {err}"
    );
    assert!(err.contains("5 of 8 lines had errors"), "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8, "one output line per non-blank input line");
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["violation"], true);
    assert!(
        lines[0]["spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["text"].as_str().unwrap().contains("摘镜"))
    );
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["error"]["code"], "malformed_json");
    assert_eq!(lines[2]["id"], "c");
    assert_eq!(lines[2]["error"]["field"], "text");
    assert_eq!(lines[3]["id"], "d");
    assert_eq!(lines[3]["line"], 5);
    assert_eq!(lines[3]["error"]["code"], "text_too_long");
    assert_eq!(lines[4]["id"], 5);
    assert_eq!(lines[4]["violation"], false);
    assert_eq!(lines[5]["error"]["field"], "text");
    assert_eq!(lines[6]["error"]["field"], "channel");
    assert_eq!(lines[7]["id"], "g");
    for l in &lines {
        if l.get("error").is_none() {
            assert!(l["model"].as_str().is_some_and(|m| m.len() == 12));
            assert!(["pass", "review", "block"].contains(&l["verdict"].as_str().unwrap()));
        }
    }
}

#[test]
fn classify_all_good_lines_exits_zero() {
    let (code, out, _) =
        run_with_stdin(&["classify"], "{\"id\":\"x\",\"text\":\"拍两件发三件\"}\n");
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn data_validate_passes_on_committed_data_and_names_file_line_field_on_bad_data() {
    let out = qingwang().args(["data", "validate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 problems"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.jsonl");
    let good = r#"{"id":"x1","text":"治愈近视","channel":"post","labels":["cure_claim"],"product":null,"spans":[{"label":"cure_claim","char_start":0,"char_end":2,"text":"治愈"}],"source":"handwritten","family":"f","split":"train"}"#;
    let bad_span = good
        .replace("\"char_end\":2", "\"char_end\":9")
        .replace("\"x1\"", "\"x2\"");
    let bad_label = good
        .replace("[\"cure_claim\"]", "[\"miracle\"]")
        .replace("\"x1\"", "\"x3\"");
    std::fs::write(&p, format!("{good}\n{bad_span}\nnot json\n{bad_label}\n")).unwrap();
    let out = qingwang()
        .args(["data", "validate"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("bad.jsonl:2"), "{s}");
    assert!(s.contains("bad.jsonl:3"), "{s}");
    assert!(s.contains("bad.jsonl:4"), "{s}");
    assert!(s.contains("miracle"), "{s}");
}

#[test]
fn eval_writes_reports_and_compare_exits_nonzero_on_a_planted_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d.jsonl");
    let all = std::fs::read_to_string(qingwang_datasets::repo_path(qingwang_datasets::HANDWRITTEN))
        .unwrap();
    let lines: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("\"split\":\"test\""))
        .take(60)
        .collect();
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let out = tmp.path().join("old");
    let (code, stdout, stderr) = run_with_stdin(
        &[
            "eval",
            "--keyword-only",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--bootstrap",
            "50",
            "--speed-texts",
            "0",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("keyword") && stdout.contains("violation F1"),
        "{stdout}"
    );
    for f in ["metrics.json", "report.md", "report.html"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let old = out.join("metrics.json");
    let old_s = old.to_str().unwrap();

    // The same file against itself: the gate passes.
    let (code, stdout, _) = run_with_stdin(&["eval", "--compare", old_s, old_s], "");
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("gate: pass"), "{stdout}");

    // Plant a regression below the old interval: the gate fails with exit status 1.
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old).unwrap()).unwrap();
    let h = &mut m["systems"][0]["headline"]["binary_f1"];
    let low = h["ci_low"].as_f64().unwrap();
    h["value"] = serde_json::json!(low - 0.1);
    let new = tmp.path().join("new.json");
    std::fs::write(&new, serde_json::to_string(&m).unwrap()).unwrap();
    let (code, stdout, _) =
        run_with_stdin(&["eval", "--compare", old_s, new.to_str().unwrap()], "");
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("gate: FAIL") && stdout.contains("binary_f1"),
        "{stdout}"
    );

    // An unreadable file is an error (exit 2), not a pass.
    let (code, _, stderr) = run_with_stdin(&["eval", "--compare", old_s, "/nonexistent.json"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent.json"), "{stderr}");
}
