//! doccano JSONL: one object per line, `text`, `label` (claim labels, plus `product:<id>` for
//! the product), `entities` (`{"label", "start_offset", "end_offset"}`). doccano counts offsets in
//! Unicode code points, the dataset's convention, so no conversion is needed. Import also accepts
//! the sequence-labelling form `label: [[start, end, "label"], ...]` and an annotator in `user`
//! or `annotator`.

use serde_json::{Value, json};

use super::{AnnotatedTask, Annotation};
use crate::error::{DatasetError, Result};
use crate::example::{Channel, Example, span_from_chars};

/// Prefix that marks the product among doccano's labels.
pub const PRODUCT_PREFIX: &str = "product:";

/// One doccano JSONL line per example.
pub fn export(examples: &[Example]) -> String {
    let mut out = String::new();
    for ex in examples {
        let mut label: Vec<String> = ex.labels.clone();
        if let Some(p) = &ex.product {
            label.push(format!("{PRODUCT_PREFIX}{p}"));
        }
        let entities: Vec<Value> = ex
            .spans
            .iter()
            .map(|s| json!({"label": s.label, "start_offset": s.char_start, "end_offset": s.char_end}))
            .collect();
        let line = json!({"id": ex.id, "text": ex.text, "label": label, "entities": entities,
            "channel": ex.channel.as_str(), "source": ex.source.as_str(), "family": ex.family});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn err(index: usize, field: impl Into<String>, message: impl Into<String>) -> DatasetError {
    DatasetError::Task {
        index,
        field: field.into(),
        message: message.into(),
    }
}

fn usize_at(index: usize, field: &str, v: Option<&Value>) -> Result<usize> {
    v.and_then(Value::as_u64)
        .and_then(|u| usize::try_from(u).ok())
        .ok_or_else(|| err(index, field, "missing or not a non-negative integer"))
}

/// Parse doccano JSONL. Lines with the same `id` (one per annotator) become one task.
pub fn import(jsonl: &str) -> Result<Vec<AnnotatedTask>> {
    let mut tasks: Vec<AnnotatedTask> = Vec::new();
    for (index, line) in jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value =
            serde_json::from_str(line).map_err(|e| err(index, "-", format!("not JSON: {e}")))?;
        let text = v
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| err(index, "text", "missing or not a string"))?
            .to_string();
        let task_id = match v.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => index.to_string(),
        };
        let channel = match v.get("channel") {
            Some(c) => serde_json::from_value::<Channel>(c.clone())
                .map_err(|e| err(index, "channel", e.to_string()))?,
            None => Channel::Post,
        };
        let annotator = match v.get("user").or_else(|| v.get("annotator")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "0".to_string(),
        };
        let mut ann = Annotation {
            annotator,
            labels: Vec::new(),
            product: None,
            spans: Vec::new(),
            note: None,
        };
        let mut add_span = |field: String, start: usize, end: usize, label: &str| -> Result<()> {
            let s = span_from_chars(&text, label, start, end).ok_or_else(|| {
                err(
                    index,
                    field,
                    format!("span {start}..{end} is empty or outside the text"),
                )
            })?;
            ann.spans.push(s);
            Ok(())
        };
        if let Some(labels) = v.get("label") {
            let labels = labels
                .as_array()
                .ok_or_else(|| err(index, "label", "not an array"))?;
            for (j, l) in labels.iter().enumerate() {
                let f = format!("label[{j}]");
                match l {
                    Value::String(_) => {} // claim labels and product: read below
                    Value::Array(a) if a.len() == 3 => {
                        let start = usize_at(index, &f, a.first())?;
                        let end = usize_at(index, &f, a.get(1))?;
                        let label = a
                            .get(2)
                            .and_then(Value::as_str)
                            .ok_or_else(|| err(index, &f, "label not a string"))?;
                        add_span(f, start, end, label)?;
                    }
                    _ => return Err(err(index, f, "expected a string or [start, end, label]")),
                }
            }
        }
        if let Some(ents) = v.get("entities") {
            let ents = ents
                .as_array()
                .ok_or_else(|| err(index, "entities", "not an array"))?;
            for (j, e) in ents.iter().enumerate() {
                let f = format!("entities[{j}]");
                let start = usize_at(index, &format!("{f}.start_offset"), e.get("start_offset"))?;
                let end = usize_at(index, &format!("{f}.end_offset"), e.get("end_offset"))?;
                let label = e
                    .get("label")
                    .and_then(Value::as_str)
                    .ok_or_else(|| err(index, format!("{f}.label"), "missing or not a string"))?;
                add_span(f, start, end, label)?;
            }
        }
        for l in v
            .get("label")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(s) = l.as_str() {
                match s.strip_prefix(PRODUCT_PREFIX) {
                    Some(p) => ann.product = Some(p.to_string()),
                    None => ann.labels.push(s.to_string()),
                }
            }
        }
        match tasks.iter_mut().find(|t| t.task_id == task_id) {
            Some(t) => t.annotations.push(ann),
            None => tasks.push(AnnotatedTask {
                index,
                task_id,
                text,
                channel,
                annotations: vec![ann],
            }),
        }
    }
    Ok(tasks)
}
