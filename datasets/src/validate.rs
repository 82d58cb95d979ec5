//! `qingwang data validate`: schema, labels, spans, ids, splits and cross-split near-duplicates.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::dedupe::{NearDupConfig, NearDupIndex};
use crate::error::Result;
use crate::example::{Example, Kind, Source, Split, read_jsonl};
use crate::taxonomy::Taxonomy;

/// One problem found, located by file, line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// The field at fault (`-` for the whole line).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: field `{}`: {}",
            self.path.display(),
            self.line,
            self.field,
            self.message
        )
    }
}

/// Check one example against the taxonomy; returns (field, message) pairs.
pub fn check_example(ex: &Example, tax: &Taxonomy) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if ex.id.trim().is_empty() {
        out.push(("id", "empty".to_string()));
    }
    if ex.text.trim().is_empty() {
        out.push(("text", "empty".to_string()));
    }
    if ex.family.trim().is_empty() {
        out.push(("family", "empty".to_string()));
    }
    let mut seen = HashSet::new();
    for l in &ex.labels {
        if tax.label_index(l).is_none() {
            out.push(("labels", format!("unknown label `{l}`")));
        }
        if !seen.insert(l) {
            out.push(("labels", format!("label `{l}` listed twice")));
        }
    }
    if let Some(p) = &ex.product {
        if tax.product_index(p).is_none() {
            out.push(("product", format!("unknown product `{p}`")));
        }
    }
    let n_chars = ex.char_len();
    for (i, s) in ex.spans.iter().enumerate() {
        if !ex.labels.contains(&s.label) {
            out.push((
                "spans",
                format!("span {i} has label `{}` that is not in labels", s.label),
            ));
        }
        if s.char_start >= s.char_end || s.char_end > n_chars {
            out.push((
                "spans",
                format!(
                    "span {i} [{}, {}) out of bounds for a text of {n_chars} chars",
                    s.char_start, s.char_end
                ),
            ));
            continue;
        }
        let actual: String = ex
            .text
            .chars()
            .skip(s.char_start)
            .take(s.char_end - s.char_start)
            .collect();
        if actual != s.text {
            out.push((
                "spans",
                format!(
                    "span {i} text {:?} does not match the text at [{}, {}): {actual:?}",
                    s.text, s.char_start, s.char_end
                ),
            ));
        }
    }
    for l in &ex.labels {
        if !ex.spans.iter().any(|s| &s.label == l) {
            out.push((
                "spans",
                format!("positive label `{l}` has no evidence span"),
            ));
        }
    }
    match ex.kind {
        Some(Kind::Positive) if ex.labels.is_empty() => {
            out.push(("kind", "positive without labels".into()))
        }
        Some(Kind::HardNegative | Kind::EasyNegative) if !ex.labels.is_empty() => {
            out.push(("kind", "negative with labels".into()))
        }
        _ => {}
    }
    if let Some(t) = &ex.neg_type {
        if !tax.is_negative_type(t) {
            out.push(("neg_type", format!("unknown negative type `{t}`")));
        } else if ex.is_positive() {
            out.push(("neg_type", "set on a positive example".into()));
        }
    }
    for e in &ex.evasion {
        if !tax.evasion_kinds.contains(e) {
            out.push(("evasion", format!("unknown evasion kind `{e}`")));
        }
    }
    if ex.source == Source::Generated && ex.split != Split::Train {
        out.push(("split", "generated examples may only be in train".into()));
    }
    out
}

/// Validate files together: every line, duplicate ids across files, families in two splits,
/// and near-duplicates across splits. Returns the issues found (empty = valid) and the number of
/// examples read.
pub fn validate_files(
    paths: &[&Path],
    tax: &Taxonomy,
    near: NearDupConfig,
) -> Result<(Vec<Issue>, usize)> {
    let mut issues = Vec::new();
    let mut all: Vec<(PathBuf, usize, Example)> = Vec::new();
    for path in paths {
        let read = read_jsonl(path)?;
        for bad in read.bad {
            let (field, message) = match &bad.error {
                crate::DatasetError::Line { field, message, .. } => {
                    (field.clone(), message.clone())
                }
                other => ("-".to_string(), other.to_string()),
            };
            issues.push(Issue {
                path: path.to_path_buf(),
                line: bad.line,
                field,
                message,
            });
        }
        for (line, ex) in read.examples {
            for (field, message) in check_example(&ex, tax) {
                issues.push(Issue {
                    path: path.to_path_buf(),
                    line,
                    field: field.into(),
                    message,
                });
            }
            all.push((path.to_path_buf(), line, ex));
        }
    }
    let mut ids: HashMap<&str, (&Path, usize)> = HashMap::new();
    let mut fam_split: HashMap<&str, (Split, &Path, usize)> = HashMap::new();
    for (path, line, ex) in &all {
        if let Some((p0, l0)) = ids.insert(&ex.id, (path, *line)) {
            issues.push(Issue {
                path: path.clone(),
                line: *line,
                field: "id".into(),
                message: format!("duplicate id `{}` (first at {}:{l0})", ex.id, p0.display()),
            });
        }
        if ex.source != Source::Generated {
            match fam_split.get(ex.family.as_str()) {
                Some((s, p0, l0)) if *s != ex.split => issues.push(Issue {
                    path: path.clone(),
                    line: *line,
                    field: "split".into(),
                    message: format!(
                        "family `{}` is in {} here but in {s} at {}:{l0}",
                        ex.family,
                        ex.split,
                        p0.display()
                    ),
                }),
                Some(_) => {}
                None => {
                    fam_split.insert(&ex.family, (ex.split, path, *line));
                }
            }
        }
    }
    // Cross-split near-duplicates: index test, query dev and train; index dev, query train.
    for (held, others) in [
        (Split::Test, [Split::Dev, Split::Train].as_slice()),
        (Split::Dev, [Split::Train].as_slice()),
    ] {
        let mut idx = NearDupIndex::new();
        let mut who = Vec::new();
        for (path, line, ex) in all.iter().filter(|(_, _, e)| e.split == held) {
            idx.add(&ex.text);
            who.push((path, line, &ex.id));
        }
        for (path, line, ex) in all.iter().filter(|(_, _, e)| others.contains(&e.split)) {
            if let Some(m) = idx.query(&ex.text, near) {
                let (p0, l0, id0) = who[m.index];
                issues.push(Issue {
                    path: path.clone(),
                    line: *line,
                    field: "text".into(),
                    message: format!(
                        "near-duplicate across splits ({} `{}` ~ {held} `{id0}` at {}:{l0}, jaccard {:.2}, containment {:.2})",
                        ex.split, ex.id, p0.display(), m.jaccard, m.containment
                    ),
                });
            }
        }
    }
    Ok((issues, all.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::{Channel, Span};

    fn good() -> Example {
        Example {
            id: "a1".into(),
            text: "宝宝们👀这个眼贴贴三个月直接摘镜".into(),
            channel: Channel::Livestream,
            labels: vec!["cure_claim".into()],
            product: Some("myopia_vision".into()),
            spans: vec![Span {
                label: "cure_claim".into(),
                char_start: 14,
                char_end: 16,
                text: "摘镜".into(),
            }],
            source: Source::Handwritten,
            family: "w1-b01".into(),
            split: Split::Train,
            kind: Some(Kind::Positive),
            neg_type: None,
            evasion: vec![],
        }
    }

    #[test]
    fn a_good_example_has_no_issues() {
        assert_eq!(check_example(&good(), &Taxonomy::builtin()), vec![]);
    }

    #[test]
    fn each_defect_is_reported_on_its_field() {
        let tax = Taxonomy::builtin();
        type Case<'a> = (Box<dyn Fn(&mut Example)>, &'a str, &'a str);
        let cases: Vec<Case> = vec![
            (
                Box::new(|e| e.labels.push("cures_all".into())),
                "labels",
                "unknown label",
            ),
            (
                Box::new(|e| e.product = Some("rocket".into())),
                "product",
                "unknown product",
            ),
            (
                Box::new(|e| e.spans[0].char_end = 17),
                "spans",
                "out of bounds",
            ),
            (
                Box::new(|e| e.spans[0].text = "摘眼".into()),
                "spans",
                "does not match",
            ),
            (Box::new(|e| e.spans.clear()), "spans", "no evidence span"),
            (
                Box::new(|e| e.labels.clear()),
                "kind",
                "positive without labels",
            ),
            (
                Box::new(|e| e.neg_type = Some("debunk".into())),
                "neg_type",
                "positive",
            ),
            (
                Box::new(|e| e.evasion.push("telepathy".into())),
                "evasion",
                "unknown evasion",
            ),
            (
                Box::new(|e| {
                    e.source = Source::Generated;
                    e.split = Split::Test;
                }),
                "split",
                "generated",
            ),
            (Box::new(|e| e.text = "  ".into()), "text", "empty"),
        ];
        for (mutate, field, needle) in cases {
            let mut e = good();
            mutate(&mut e);
            let issues = check_example(&e, &tax);
            assert!(
                issues
                    .iter()
                    .any(|(f, m)| *f == field && m.contains(needle)),
                "{field}/{needle}: {issues:?}"
            );
        }
    }

    #[test]
    fn span_at_string_end_with_emoji_is_valid() {
        let mut e = good();
        e.text = "摘✨镜".into();
        e.spans = vec![Span {
            label: "cure_claim".into(),
            char_start: 0,
            char_end: 3,
            text: "摘✨镜".into(),
        }];
        e.evasion = vec!["emoji_insert".into()];
        assert_eq!(check_example(&e, &Taxonomy::builtin()), vec![]);
    }

    #[test]
    fn files_report_duplicate_ids_family_leaks_near_duplicates_and_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let mut t = good();
        t.split = Split::Test;
        let mut leak = good();
        leak.id = "a2".into();
        leak.text = "宝宝们👀这个眼贴贴三个月直接摘镜！".into();
        let mut other = good();
        other.id = "a1".into();
        other.family = "w1-b01".into();
        other.split = Split::Dev;
        other.text = "完全不同的一句话说的是顺丰包邮".into();
        other.labels.clear();
        other.spans.clear();
        other.kind = Some(Kind::EasyNegative);
        crate::example::write_jsonl(&a, [&t, &leak, &other]).unwrap();
        let mut text = std::fs::read_to_string(&a).unwrap();
        text.push_str("not json\n");
        std::fs::write(&a, text).unwrap();
        let (issues, n) = validate_files(
            &[a.as_path()],
            &Taxonomy::builtin(),
            NearDupConfig::default(),
        )
        .unwrap();
        assert_eq!(n, 3);
        let has = |line: usize, field: &str, needle: &str| {
            issues
                .iter()
                .any(|i| i.line == line && i.field == field && i.message.contains(needle))
        };
        assert!(has(3, "id", "duplicate id `a1`"), "{issues:?}");
        assert!(has(2, "split", "family `w1-b01`"), "{issues:?}");
        assert!(has(2, "text", "near-duplicate"), "{issues:?}");
        assert!(has(4, "-", "not a JSON object"), "{issues:?}");
        assert!(
            issues
                .iter()
                .all(|i| i.to_string().starts_with(&a.display().to_string()))
        );
    }
}
