//! Lenient loading of labelled JSONL: every line needs `text` and `labels`; the other fields of
//! the project's [`Example`] format (`id`, `channel`, `product`, `spans`, `source`, `family`,
//! `split`, `kind`) are used when present and reported as `unknown` when not.

use std::path::{Path, PathBuf};

use qingwang_datasets::{Channel, Example, Kind, Source, Span, Split, Taxonomy};
use qingwang_model::bundle::hash_inputs;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{EvalError, Result};

/// One evaluation example.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The example; fields missing from the file are filled with neutral defaults.
    pub example: Example,
    /// Channel, when the file gave one.
    pub channel: Option<Channel>,
    /// Source, when the file gave one.
    pub source: Option<Source>,
    /// Family, when the file gave one.
    pub family: Option<String>,
    /// Split, when the file gave one.
    pub split: Option<Split>,
}

impl Item {
    /// Gold flags per label, in taxonomy order.
    pub fn gold_flags(&self, tax: &Taxonomy) -> Vec<bool> {
        let mut f = vec![false; tax.labels.len()];
        for l in &self.example.labels {
            if let Some(i) = tax.label_index(l) {
                f[i] = true;
            }
        }
        f
    }
}

/// The data of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Examples, in file order (after the split filter).
    pub items: Vec<Item>,
    /// The files read.
    pub files: Vec<String>,
    /// sha256 over the files' names and bytes.
    pub sha256: String,
    /// Lines dropped by the split filter.
    pub filtered_out: usize,
}

fn get<T: DeserializeOwned>(obj: &Map<String, Value>, key: &str) -> Result<Option<T>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| format!("invalid value {v}: {e}")),
    }
}

/// Parse one line; `Err((field, message))` names the field at fault.
pub fn parse_line(line: &str, line_no: usize, tax: &Taxonomy) -> Result<Item, (String, String)> {
    let v: Value =
        serde_json::from_str(line).map_err(|e| ("-".to_string(), format!("not JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(("-".into(), "not a JSON object".into()));
    };
    fn f(k: &'static str) -> impl Fn(String) -> (String, String) {
        move |m| (k.to_string(), m)
    }
    let text: String = get(&obj, "text")
        .map_err(f("text"))?
        .ok_or_else(|| ("text".to_string(), "missing".to_string()))?;
    let labels: Vec<String> = get(&obj, "labels")
        .map_err(f("labels"))?
        .ok_or_else(|| ("labels".to_string(), "missing".to_string()))?;
    if let Some(bad) = labels.iter().find(|l| tax.label_index(l).is_none()) {
        return Err(("labels".into(), format!("unknown label `{bad}`")));
    }
    let product: Option<String> = get(&obj, "product").map_err(f("product"))?;
    if let Some(p) = &product {
        if tax.product_index(p).is_none() {
            return Err(("product".into(), format!("unknown product `{p}`")));
        }
    }
    let spans: Vec<Span> = get(&obj, "spans").map_err(f("spans"))?.unwrap_or_default();
    let n = text.chars().count();
    if let Some(s) = spans
        .iter()
        .find(|s| s.char_start >= s.char_end || s.char_end > n)
    {
        return Err((
            "spans".into(),
            format!(
                "span {}..{} is empty or outside the text ({n} chars)",
                s.char_start, s.char_end
            ),
        ));
    }
    let id = match obj.get("id") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => format!("line-{line_no}"),
        Some(other) => other.to_string(),
    };
    let channel: Option<Channel> = get(&obj, "channel").map_err(f("channel"))?;
    let source: Option<Source> = get(&obj, "source").map_err(f("source"))?;
    let family: Option<String> = get(&obj, "family").map_err(f("family"))?;
    let split: Option<Split> = get(&obj, "split").map_err(f("split"))?;
    let kind: Option<Kind> = get(&obj, "kind").map_err(f("kind"))?;
    let example = Example {
        id,
        text,
        channel: channel.unwrap_or(Channel::Post),
        labels,
        product,
        spans,
        source: source.unwrap_or(Source::Analyst),
        family: family.clone().unwrap_or_default(),
        split: split.unwrap_or(Split::Test),
        kind,
        neg_type: None,
        evasion: vec![],
    };
    Ok(Item {
        example,
        channel,
        source,
        family,
        split,
    })
}

/// Read items from JSONL text; blank lines are skipped, the first bad line fails the whole read.
pub fn parse_jsonl(
    text: &str,
    path: &Path,
    split: Option<Split>,
    tax: &Taxonomy,
) -> Result<(Vec<Item>, usize)> {
    let mut items = Vec::new();
    let mut filtered = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = parse_line(line, i + 1, tax).map_err(|(field, message)| EvalError::Data {
            path: PathBuf::from(path),
            line: i + 1,
            field,
            message,
        })?;
        if split.is_some_and(|s| item.split.is_some_and(|x| x != s)) {
            filtered += 1;
            continue;
        }
        items.push(item);
    }
    Ok((items, filtered))
}

/// Load data files. `split` keeps only lines of that split (lines without a split are kept).
pub fn load(paths: &[PathBuf], split: Option<Split>, tax: &Taxonomy) -> Result<Dataset> {
    let mut items = Vec::new();
    let mut contents = Vec::new();
    let mut filtered_out = 0;
    for p in paths {
        let bytes = std::fs::read(p).map_err(|e| EvalError::io(p, e))?;
        let text = String::from_utf8(bytes).map_err(|e| EvalError::Data {
            path: p.clone(),
            line: 0,
            field: "-".into(),
            message: format!("not valid UTF-8: {e}"),
        })?;
        let (mut got, f) = parse_jsonl(&text, p, split, tax)?;
        items.append(&mut got);
        filtered_out += f;
        contents.push((p.display().to_string(), text));
    }
    if items.is_empty() {
        return Err(EvalError::Config {
            field: "--data",
            message: "no examples to evaluate (check the files and --split)".into(),
        });
    }
    let sha256 = hash_inputs(contents.iter().map(|(n, t)| (file_name(n), t.as_bytes())));
    Ok(Dataset {
        items,
        files: contents.into_iter().map(|(n, _)| n).collect(),
        sha256,
        filtered_out,
    })
}

/// The hash covers file names, not the folders they were read from.
fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_lines_need_only_text_and_labels() {
        let tax = Taxonomy::builtin();
        let it = parse_line(
            r#"{"text":"戴上助听器👂恢复听力","labels":["cure_claim"]}"#,
            7,
            &tax,
        )
        .unwrap();
        assert_eq!(it.example.id, "line-7");
        assert_eq!(it.channel, None);
        assert_eq!(it.family, None);
        assert_eq!(it.example.labels, vec!["cure_claim".to_string()]);
    }

    #[test]
    fn bad_lines_name_the_field() {
        let tax = Taxonomy::builtin();
        let cases = [
            (r#"{"labels":[]}"#, "text"),
            (r#"{"text":"好"}"#, "labels"),
            (r#"{"text":"好","labels":"cure_claim"}"#, "labels"),
            (r#"{"text":"好","labels":["no_such"]}"#, "labels"),
            (r#"{"text":"好","labels":[],"channel":"radio"}"#, "channel"),
            (r#"{"text":"好","labels":[],"product":"car"}"#, "product"),
            (
                r#"{"text":"治愈","labels":["cure_claim"],"spans":[{"label":"cure_claim","char_start":1,"char_end":5,"text":"x"}]}"#,
                "spans",
            ),
            ("[1,2]", "-"),
            ("{oops", "-"),
        ];
        for (line, field) in cases {
            let (f, _) = parse_line(line, 1, &tax).unwrap_err();
            assert_eq!(f, field, "{line}");
        }
    }

    #[test]
    fn split_filter_keeps_lines_without_a_split_and_errors_carry_line_numbers() {
        let tax = Taxonomy::builtin();
        let text = "{\"text\":\"a\",\"labels\":[],\"split\":\"train\"}\n\n{\"text\":\"b\",\"labels\":[]}\n{\"text\":\"c\",\"labels\":[],\"split\":\"test\"}\n";
        let (items, filtered) =
            parse_jsonl(text, Path::new("d.jsonl"), Some(Split::Test), &tax).unwrap();
        assert_eq!(filtered, 1);
        let texts: Vec<&str> = items.iter().map(|i| i.example.text.as_str()).collect();
        assert_eq!(texts, ["b", "c"]);
        let e = parse_jsonl(
            "{\"text\":\"a\",\"labels\":[]}\n{}\n",
            Path::new("d.jsonl"),
            None,
            &tax,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("d.jsonl:2: field `text`"), "{e}");
    }
}
