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

#[test]
fn labelling_tools_export_import_and_agreement_round_trip_with_utf16_offsets() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    // Two annotators on one task with an emoji before the evidence: Label Studio counts the
    // emoji as two UTF-16 units, so 治 (char 9) is at unit 10.
    let text = "👋家人们这个贴一贴治愈老寒腿";
    let ls_export = serde_json::json!([{
        "id": 7,
        "data": {"text": text, "channel": "livestream"},
        "annotations": [
            {"completed_by": 1, "result": [
                {"from_name": "labels", "to_name": "text", "type": "choices",
                 "value": {"choices": ["cure_claim"]}},
                {"from_name": "evidence", "to_name": "text", "type": "labels",
                 "value": {"start": 10, "end": 15, "text": "治愈老寒腿", "labels": ["cure_claim"]}}
            ]},
            {"completed_by": 2, "result": []},
            {"completed_by": 3, "was_cancelled": true, "result": []}
        ]
    }]);
    std::fs::write(p("ls.json"), ls_export.to_string()).unwrap();
    let (code, stdout, stderr) = run_with_stdin(
        &[
            "data",
            "import",
            "--format",
            "labelstudio",
            "--input",
            &p("ls.json"),
            "--output",
            &p("imported.jsonl"),
            "--conflicts",
            &p("conflicts.jsonl"),
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("1 tasks as 2 records") && stdout.contains("2 conflicts"),
        "{stdout}"
    );
    let recs: Vec<serde_json::Value> = std::fs::read_to_string(p("imported.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2);
    assert!(
        recs.iter()
            .all(|r| r["source"] == "analyst" && r["text"] == text)
    );
    let claimed = recs
        .iter()
        .find(|r| r["labels"] == serde_json::json!(["cure_claim"]))
        .unwrap();
    assert_eq!(claimed["spans"][0]["char_start"], 9);
    assert_eq!(claimed["spans"][0]["char_end"], 14);
    assert_eq!(claimed["spans"][0]["text"], "治愈老寒腿");
    let conflicts = std::fs::read_to_string(p("conflicts.jsonl")).unwrap();
    assert!(
        conflicts.contains("\"field\":\"labels\"") && conflicts.contains("\"field\":\"spans\""),
        "{conflicts}"
    );

    // Agreement over the same export names the annotators and the item to adjudicate.
    let (code, stdout, stderr) = run_with_stdin(
        &[
            "data",
            "agreement",
            "--format",
            "labelstudio",
            "--input",
            &p("ls.json"),
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let rep: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rep["tasks"], 1);
    assert_eq!(rep["multiply_annotated"], 1);
    assert_eq!(rep["annotators"].as_array().unwrap().len(), 2);
    assert!(!rep["adjudicate"].as_array().unwrap().is_empty());

    // Export the imported records again: Label Studio gets UTF-16 offsets back, doccano code points.
    let (code, _, stderr) = run_with_stdin(
        &[
            "data",
            "export",
            "--format",
            "labelstudio",
            "--no-predictions",
            "--input",
            &p("imported.jsonl"),
            "--output",
            &p("tasks.json"),
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let tasks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("tasks.json")).unwrap()).unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 2);
    assert!(
        tasks[0]
            .get("predictions")
            .is_none_or(|v| v.as_array().is_some_and(|a| a.is_empty()))
    );
    let (code, _, stderr) = run_with_stdin(
        &[
            "data",
            "export",
            "--format",
            "doccano",
            "--input",
            &p("imported.jsonl"),
            "--output",
            &p("doccano.jsonl"),
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let doc = std::fs::read_to_string(p("doccano.jsonl")).unwrap();
    assert!(
        doc.contains("\"start_offset\":9") && doc.contains("\"end_offset\":14"),
        "{doc}"
    );

    // With the default bundle's pre-annotations: every task carries the model version.
    let (code, _, stderr) = run_with_stdin(
        &[
            "data",
            "export",
            "--format",
            "labelstudio",
            "--input",
            &p("imported.jsonl"),
            "--output",
            &p("pre.json"),
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let pre: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("pre.json")).unwrap()).unwrap();
    for t in pre.as_array().unwrap() {
        assert_eq!(
            t["predictions"][0]["model_version"].as_str().unwrap().len(),
            12,
            "{t}"
        );
    }

    // A broken export names the task and the field.
    std::fs::write(p("bad.json"), r#"[{"data": {}}]"#).unwrap();
    let (code, _, stderr) = run_with_stdin(
        &[
            "data",
            "import",
            "--format",
            "labelstudio",
            "--input",
            &p("bad.json"),
            "--output",
            &p("x"),
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("task 0") && stderr.contains("data.text"),
        "{stderr}"
    );
}

#[test]
fn data_sample_chooses_fresh_texts_and_feeds_export() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    let labelled = [
        "这款理疗仪能根治颈椎病，三个疗程见效",
        "今天直播间包邮，明天就发货",
    ];
    let dataset: String = labelled
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({"id": format!("d{i}"), "text": t, "channel": "post",
                "labels": [], "product": null, "spans": [], "source": "handwritten",
                "family": format!("f{i}"), "split": "train"})
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(p("data.jsonl"), dataset).unwrap();
    let pool_texts = [
        "这款理疗仪，能根治颈椎病！三个疗程见效", // the dataset's text, repunctuated
        "家人们这个眼镜戴三个月直接摘镜",
        "家人们 这个眼镜戴三个月直接摘镜😀", // repeats the line above
        "血压计测量准确，老人也会用",
        "喝了这个茶降血糖，不用再吃药",
        "👋宝宝们 无副作用 无效退款",
        "這款按摩椅治癒失眠，醫生都推薦",
        "护膝保暖透气，冬天必备",
        "助听器音质清晰，佩戴舒适",
    ];
    let pool: String = pool_texts
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({"id": format!("p{i}"), "text": t}).to_string() + "\n")
        .collect();
    std::fs::write(p("pool.jsonl"), &pool).unwrap();
    for strategy in ["uncertainty", "disagreement", "diversity", "mixed"] {
        let (code, _, stderr) = run_with_stdin(
            &[
                "data",
                "sample",
                "--from",
                &p("pool.jsonl"),
                "--n",
                "4",
                "--strategy",
                strategy,
                "--dataset",
                &p("data.jsonl"),
                "--seed",
                "3",
                "--output",
                &p("sample.jsonl"),
            ],
            "",
        );
        assert_eq!(code, 0, "{strategy}: {stderr}");
        assert!(
            stderr.contains("1 already in the dataset, 1 repeated in the pool"),
            "{stderr}"
        );
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(p("sample.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4, "{strategy}");
        let ids: std::collections::BTreeSet<&str> =
            lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 4, "no text twice: {ids:?}");
        assert!(
            !ids.contains("p0") && !ids.contains("p2"),
            "{strategy}: {ids:?}"
        );
        for l in &lines {
            assert!(l["reason"].is_object(), "{l}");
            let s = l["strategy"].as_str().unwrap();
            assert!(strategy == "mixed" || s == strategy, "{l}");
        }
        // The same seed gives the same choice.
        let (_, again, _) = run_with_stdin(
            &[
                "data",
                "sample",
                "--from",
                &p("pool.jsonl"),
                "--n",
                "4",
                "--strategy",
                strategy,
                "--dataset",
                &p("data.jsonl"),
                "--seed",
                "3",
            ],
            "",
        );
        assert_eq!(again, std::fs::read_to_string(p("sample.jsonl")).unwrap());
    }

    // The sample goes straight to Label Studio, pre-annotated.
    let (code, _, stderr) = run_with_stdin(
        &[
            "data",
            "export",
            "--format",
            "labelstudio",
            "--input",
            &p("sample.jsonl"),
            "--output",
            &p("tasks.json"),
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let tasks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("tasks.json")).unwrap()).unwrap();
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 4);
    assert!(
        tasks
            .iter()
            .all(|t| t["predictions"][0]["model_version"].is_string())
    );

    // A bad pool line is named by file, line and field.
    std::fs::write(p("bad.jsonl"), format!("{pool}{{\"id\": \"x\"}}\n")).unwrap();
    let (code, _, stderr) = run_with_stdin(
        &[
            "data",
            "sample",
            "--from",
            &p("bad.jsonl"),
            "--n",
            "2",
            "--dataset",
            &p("data.jsonl"),
        ],
        "",
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("bad.jsonl:10: field `text`: missing"),
        "{stderr}"
    );
}

#[test]
fn train_rejects_a_config_that_is_not_a_training_config_before_touching_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "x").unwrap();
    let bad = dir.path().join("cfg.json");
    std::fs::write(&bad, r#"{"epochs": "five"}"#).unwrap();
    for (cfg, why) in [
        (bad.clone(), "not a training config"),
        (dir.path().join("missing.json"), "missing.json"),
    ] {
        let o = qingwang()
            .args(["train", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("--config") && err.contains(why), "{err}");
        assert!(out.join("keep.txt").exists(), "the output was replaced");
    }
}

#[test]
fn train_help_states_the_built_in_defaults() {
    // The help text names the defaults by hand; this keeps it in step with TrainConfig.
    let o = qingwang().args(["train", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    let cfg = qingwang_model::train::TrainConfig::default();
    for want in [
        format!("Seed [default: {}]", cfg.seed),
        format!("Epochs [default: {}]", cfg.epochs),
        format!("(0 = no limit) [default: {}]", cfg.max_steps),
    ] {
        assert!(help.contains(&want), "`{want}` not in:\n{help}");
    }
}
