//! A whole run on a slice of the committed test split with the committed default bundle:
//! files written, charts inlined, metrics.json readable, the compare gate trips on a planted
//! regression.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is a failed test

use std::path::PathBuf;

use qingwang_eval::compare::{Verdict, compare};
use qingwang_eval::system::SystemKind;
use qingwang_eval::{EvalConfig, run, schema};

fn small_test_file(dir: &std::path::Path, n: usize) -> PathBuf {
    let all = std::fs::read_to_string(qingwang_datasets::repo_path(qingwang_datasets::HANDWRITTEN))
        .unwrap();
    let lines: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("\"split\":\"test\""))
        .take(n)
        .collect();
    assert_eq!(lines.len(), n, "not enough test lines");
    let p = dir.join("small.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn run_writes_reports_with_charts_and_the_gate_catches_a_planted_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let data = small_test_file(tmp.path(), 80);
    let out = tmp.path().join("out");
    let cfg = EvalConfig {
        models: vec![qingwang_model::bundle::default_dir()],
        data: vec![data],
        split: None,
        out: out.clone(),
        seed: 5,
        bootstrap: 60,
        top_errors: 3,
        speed_texts: 0,
        command: "qingwang eval --test".into(),
        date: "2026-01-02T03:04:05Z".into(),
    };
    let report = run(&cfg).unwrap();
    assert_eq!(report.header.examples, 80);
    assert_eq!(report.systems.len(), 3);
    assert_eq!(report.systems[0].id, "keyword");
    assert_eq!(report.systems[1].kind, SystemKind::Linear);
    assert_eq!(report.systems[2].kind, SystemKind::Model);
    assert_eq!(report.header.dataset_sha256.len(), 64);
    let model = &report.systems[2];
    // The linear baseline is scored with the thresholds stored in the bundle (dev-tuned).
    let linear = &report.systems[1];
    let stored =
        qingwang_model::baseline::LinearModel::load(&qingwang_model::bundle::default_dir())
            .unwrap()
            .thresholds;
    for (i, l) in qingwang_datasets::Taxonomy::builtin()
        .labels
        .iter()
        .enumerate()
    {
        assert_eq!(linear.labels[&l.id].threshold, Some(stored[i]), "{}", l.id);
    }
    assert!(!linear.binary_pr_curve.is_empty());
    assert!(linear.products.is_none());
    assert_eq!(model.version.len(), 12);
    assert!(!model.binary_pr_curve.is_empty());
    assert!(model.calibration_binary.is_some());
    assert_eq!(
        model
            .products
            .as_ref()
            .unwrap()
            .counts
            .iter()
            .flatten()
            .sum::<usize>(),
        80
    );
    assert!(report.systems[0].products.is_none());
    assert!(!report.robustness.is_empty());
    assert!(report.robustness.iter().all(|r| r.systems.len() == 3));
    for s in &report.systems {
        let f1 = s.headline["binary_f1"];
        assert!((f1.value - s.quality.binary.f1).abs() < 1e-12);
        assert!(f1.ci_low <= f1.value && f1.value <= f1.ci_high);
    }

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.matches("<svg").count() >= 5, "charts missing");
    for id in [
        "chart-pr",
        "chart-reliability",
        "chart-robustness",
        "chart-labels-model",
        "chart-confusion-model",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(html.contains(&report.header.dataset_sha256));
    assert!(html.contains(&model.version));
    assert!(html.contains("qingwang eval --test") && html.contains("2026-01-02"));
    assert!(
        !html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http")
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Robustness") && md.contains(&model.version));

    let back = schema::read(&out.join("metrics.json")).unwrap();
    assert_eq!(back.schema, qingwang_eval::SCHEMA);
    assert_eq!(back.systems.len(), 3);
    assert_eq!(back.header, report.header);

    // Same run: nothing regressed.
    assert!(!compare(&back, &back).regressed());
    // Plant a regression: the model's F1 drops below the old interval.
    let mut worse = back.clone();
    let f1 = worse.systems[2].headline.get_mut("binary_f1").unwrap();
    f1.value = back.systems[2].headline["binary_f1"].ci_low - 0.05;
    let c = compare(&back, &worse);
    assert!(c.regressed());
    let bad: Vec<_> = c
        .changes
        .iter()
        .filter(|x| x.verdict == Verdict::Regressed)
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(
        (bad[0].system.as_str(), bad[0].metric.as_str()),
        ("model", "binary_f1")
    );
    assert!(c.render().contains("gate: FAIL"));
}

#[test]
fn schema_mismatch_and_bad_data_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("m.json");
    std::fs::write(&p, r#"{"schema":"qingwang-eval/0"}"#).unwrap();
    let e = schema::read(&p).unwrap_err().to_string();
    assert!(
        e.contains("qingwang-eval/0") && e.contains(qingwang_eval::SCHEMA),
        "{e}"
    );
    let d = tmp.path().join("d.jsonl");
    std::fs::write(&d, "{\"text\":\"治愈\",\"labels\":[\"cure_claim\"]}\n{\"text\":\"x\",\"labels\":[\"bogus\"]}\n").unwrap();
    let cfg = EvalConfig {
        models: vec![],
        data: vec![d],
        split: None,
        out: tmp.path().join("o"),
        seed: 1,
        bootstrap: 0,
        top_errors: 1,
        speed_texts: 0,
        command: String::new(),
        date: String::new(),
    };
    let e = run(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("d.jsonl:2: field `labels`: unknown label `bogus`"),
        "{e}"
    );
}
