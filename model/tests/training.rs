//! Training on a tiny slice: every trainable tensor gets a gradient, the loss falls, the bundle
//! it writes loads and verifies, and the same seed gives the same bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is a failed test

mod common;

use qingwang_datasets::{Lexicons, Taxonomy};
use qingwang_model::Classifier;
use qingwang_model::classifier::ClassifyOptions;
use qingwang_model::pipeline::{Provenance, Splits, build_bundle};
use qingwang_model::train::{TrainConfig, Weighted, gradient_norms};

fn small_cfg() -> TrainConfig {
    TrainConfig {
        emb_dim: 16,
        hidden: 32,
        epochs: 30,
        batch_size: 16,
        lr: 5e-3,
        max_steps: 120,
        min_word_freq: 2,
        ..TrainConfig::default()
    }
}

fn splits() -> Splits {
    Splits {
        train: common::tiny_train(6, 40)
            .into_iter()
            .map(|example| Weighted {
                example,
                weight: 1.0,
            })
            .collect(),
        dev: common::tiny_dev(40),
        test: common::tiny_dev(20),
    }
}

#[test]
fn every_trainable_tensor_receives_a_nonzero_gradient() {
    let s = splits();
    let norms = gradient_norms(
        &s.train[..24],
        &Lexicons::builtin().unwrap(),
        &Taxonomy::builtin(),
        &small_cfg(),
    )
    .unwrap();
    assert!(norms.len() >= 12, "{norms:?}");
    for (name, n) in &norms {
        assert!(*n > 0.0 && n.is_finite(), "{name} got gradient norm {n}");
    }
}

#[test]
fn tiny_training_learns_writes_a_verified_bundle_and_is_deterministic() {
    let s = splits();
    let lex = Lexicons::builtin().unwrap();
    let tax = Taxonomy::builtin();
    let prov = Provenance {
        dataset_sha256: "test".into(),
        dataset_files: vec![],
        command: "test".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let (ma, metrics) =
        build_bundle(&s, &lex, &tax, &small_cfg(), &prov, &a, |_, _, _| {}).unwrap();
    assert!(
        metrics.train.last_loss < metrics.train.first_loss * 0.7,
        "loss {} -> {}",
        metrics.train.first_loss,
        metrics.train.last_loss
    );
    let (mb, _) = build_bundle(&s, &lex, &tax, &small_cfg(), &prov, &b, |_, _, _| {}).unwrap();
    assert_eq!(
        ma.files, mb.files,
        "same data and seed must give the same bundle"
    );
    assert_eq!(ma.version, mb.version);
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "thresholds.json",
        "metrics.json",
        "linear.json",
        "linear.safetensors",
        "lexicon/variants.tsv",
    ] {
        assert!(ma.files.contains_key(f), "bundle lacks {f}");
    }
    let clf = Classifier::load(&a).unwrap();
    assert_eq!(clf.version(), ma.version);
    // It fits its own training data: most training positives are flagged.
    let pos: Vec<&str> = s
        .train
        .iter()
        .filter(|w| w.example.is_positive())
        .map(|w| w.example.text.as_str())
        .collect();
    let (preds, _) = clf.classify(&pos, &Default::default()).unwrap();
    let hit = preds
        .iter()
        .filter(|p| p.as_ref().is_ok_and(|p| p.violation))
        .count();
    assert!(
        hit * 10 >= pos.len() * 7,
        "{hit} of {} training positives flagged",
        pos.len()
    );
    // A different seed gives different weights.
    let c = dir.path().join("c");
    let (mc, _) = build_bundle(
        &s,
        &lex,
        &tax,
        &TrainConfig {
            seed: 1,
            ..small_cfg()
        },
        &prov,
        &c,
        |_, _, _| {},
    )
    .unwrap();
    assert_ne!(ma.files["model.safetensors"], mc.files["model.safetensors"]);

    // The blend: label probabilities are w · network + (1 − w) · linear, whatever w was chosen.
    let blend = metrics
        .blend
        .as_ref()
        .expect("the blend search is recorded");
    assert!(blend.candidates.iter().any(|c| c.weight == blend.chosen
        && c.beta == blend.chosen_beta
        && c.gated == blend.chosen_gated));
    let th: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("thresholds.json")).unwrap()).unwrap();
    assert_eq!(th["blend"].as_f64().unwrap() as f32, blend.chosen);
    assert_eq!(th.get("gate").is_some(), blend.chosen_gated, "{th}");
    let with_blend = |w: f32| {
        let d = dir.path().join(format!("blend-{w}"));
        std::fs::create_dir_all(d.join("lexicon")).unwrap();
        for f in ma.files.keys() {
            std::fs::copy(a.join(f), d.join(f)).unwrap();
        }
        let mut t = th.clone();
        t["blend"] = serde_json::json!(w);
        std::fs::write(d.join("thresholds.json"), t.to_string()).unwrap();
        Classifier::load_unverified(&d).unwrap()
    };
    let texts: Vec<&str> = pos.iter().take(8).copied().collect();
    let net = with_blend(1.0).score(&texts).unwrap().0;
    let mixed = with_blend(0.6).score(&texts).unwrap().0;
    let linear = qingwang_model::baseline::LinearModel::load(&a).unwrap();
    let normalizer = clf.encoder().normalizer();
    for ((t, n), m) in texts.iter().zip(&net).zip(&mixed) {
        let l = linear.probs(t, normalizer);
        for (k, lk) in l.iter().enumerate() {
            let want = 0.6 * n.label_probs[k] + 0.4 * lk;
            assert!((m.label_probs[k] - want).abs() < 1e-5, "{t}: label {k}");
        }
    }
    // The gate: closed, nothing is flagged unless the caller set that label's threshold;
    // open with unreachable thresholds, each text carries exactly its top label.
    let with_thresholds = |name: &str, t: &serde_json::Value| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(d.join("lexicon")).unwrap();
        for f in ma.files.keys() {
            std::fs::copy(a.join(f), d.join(f)).unwrap();
        }
        std::fs::write(d.join("thresholds.json"), t.to_string()).unwrap();
        Classifier::load_unverified(&d).unwrap()
    };
    let mut closed = th.clone();
    closed["gate"] = serde_json::json!(1.0);
    let closed = with_thresholds("gate-closed", &closed);
    assert_eq!(closed.gate(), Some(1.0));
    let (preds, _) = closed.classify(&texts, &Default::default()).unwrap();
    assert!(preds.iter().all(|p| !p.as_ref().unwrap().violation));
    let first = clf.labels()[0].id.clone();
    let opts = ClassifyOptions {
        thresholds: [(first.clone(), 0.0)].into_iter().collect(),
        ..Default::default()
    };
    let (preds, _) = closed.classify(&texts, &opts).unwrap();
    for p in &preds {
        let ids: Vec<&str> = p
            .as_ref()
            .unwrap()
            .labels
            .iter()
            .map(|l| l.id.as_str())
            .collect();
        assert_eq!(ids, [first.as_str()]);
    }
    let mut open = th.clone();
    open["gate"] = serde_json::json!(0.0);
    for (_, v) in open["labels"].as_object_mut().unwrap() {
        *v = serde_json::json!(1.0);
    }
    let open = with_thresholds("gate-open", &open);
    let (preds, _) = open.classify(&texts, &Default::default()).unwrap();
    let (scored, _) = open.score(&texts).unwrap();
    for (p, s) in preds.iter().zip(&scored) {
        let p = p.as_ref().unwrap();
        assert!(p.violation);
        assert_eq!(p.labels.len(), 1);
        assert_eq!(
            p.labels[0].score,
            s.label_probs.iter().copied().fold(0.0, f32::max)
        );
    }
    let mut bad = th.clone();
    bad["gate"] = serde_json::json!(-0.1);
    std::fs::write(a.join("thresholds.json"), bad.to_string()).unwrap();
    let err = Classifier::load_unverified(&a).unwrap_err().to_string();
    assert!(err.contains("gate"), "{err}");
    let mut bad = th.clone();
    bad["blend"] = serde_json::json!(1.5);
    std::fs::write(a.join("thresholds.json"), bad.to_string()).unwrap();
    let err = Classifier::load_unverified(&a).unwrap_err().to_string();
    assert!(err.contains("blend"), "{err}");
}
