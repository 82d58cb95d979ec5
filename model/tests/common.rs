//! Shared helpers for the model's integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is a failed test
#![allow(dead_code)]

use qingwang_datasets::{Example, Split, example, repo_path};

/// The committed hand-written examples.
pub fn handwritten() -> Vec<Example> {
    example::read_examples(&repo_path(qingwang_datasets::HANDWRITTEN))
        .expect("committed data reads")
}

/// A small, label-balanced slice of the hand-written train split (every label present).
pub fn tiny_train(n_per_label: usize, n_neg: usize) -> Vec<Example> {
    let all: Vec<Example> = handwritten()
        .into_iter()
        .filter(|e| e.split == Split::Train)
        .collect();
    let tax = qingwang_datasets::Taxonomy::builtin();
    let mut out: Vec<Example> = Vec::new();
    for l in tax.label_ids() {
        let picked: Vec<Example> = all
            .iter()
            .filter(|e| e.labels.iter().any(|x| x == l) && !out.iter().any(|o| o.id == e.id))
            .take(n_per_label)
            .cloned()
            .collect();
        out.extend(picked);
    }
    out.extend(all.iter().filter(|e| !e.is_positive()).take(n_neg).cloned());
    out
}

/// A few dev examples.
pub fn tiny_dev(n: usize) -> Vec<Example> {
    handwritten()
        .into_iter()
        .filter(|e| e.split == Split::Dev)
        .take(n)
        .collect()
}
