//! Label Studio tasks: export with pre-annotations, import of annotations.
//!
//! Control names match [`super::config`]: `labels` (multi choice), `product` (single choice),
//! `evidence` (span labels on `text`), `note` (text area). Span offsets in Label Studio count
//! UTF-16 code units; they are converted to chars here and nowhere else.

use serde_json::{Value, json};

use super::offsets::{char_to_utf16, utf16_to_char};
use super::{AnnotatedTask, Annotation};
use crate::error::{DatasetError, Result};
use crate::example::{Channel, Example, Span};

/// A model's pre-annotation for one text, in dataset (char) offsets.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Model version string shown in Label Studio.
    pub model_version: String,
    /// Overall confidence (e.g. the top label probability).
    pub score: f32,
    /// Predicted claim labels.
    pub labels: Vec<String>,
    /// Predicted product.
    pub product: Option<String>,
    /// Predicted evidence spans, char offsets.
    pub spans: Vec<Span>,
}

/// Label Studio `result` items for labels, product and spans of `text`.
pub fn result_items(
    text: &str,
    labels: &[String],
    product: Option<&str>,
    spans: &[Span],
) -> Vec<Value> {
    let mut out = Vec::new();
    if !labels.is_empty() {
        out.push(
            json!({"id": "labels", "from_name": "labels", "to_name": "text",
            "type": "choices", "value": {"choices": labels}}),
        );
    }
    if let Some(p) = product {
        out.push(
            json!({"id": "product", "from_name": "product", "to_name": "text",
            "type": "choices", "value": {"choices": [p]}}),
        );
    }
    for (i, s) in spans.iter().enumerate() {
        let (Some(start), Some(end)) = (
            char_to_utf16(text, s.char_start),
            char_to_utf16(text, s.char_end),
        ) else {
            continue;
        };
        out.push(
            json!({"id": format!("span{i}"), "from_name": "evidence", "to_name": "text",
            "type": "labels", "value": {"start": start, "end": end, "text": s.text,
            "labels": [s.label]}}),
        );
    }
    out
}

/// Label Studio tasks (a JSON array) for `examples`, with `predictions[i]` as pre-annotation of
/// `examples[i]` when given.
pub fn export(examples: &[Example], predictions: Option<&[Prediction]>) -> Value {
    let tasks: Vec<Value> = examples
        .iter()
        .enumerate()
        .map(|(i, ex)| {
            let mut task = json!({"data": {"text": ex.text, "id": ex.id,
                "channel": ex.channel.as_str(), "source": ex.source.as_str(),
                "family": ex.family}});
            if let Some(p) = predictions.and_then(|p| p.get(i)) {
                task["predictions"] = json!([{"model_version": p.model_version,
                    "score": p.score,
                    "result": result_items(&ex.text, &p.labels, p.product.as_deref(), &p.spans)}]);
            }
            task
        })
        .collect();
    Value::Array(tasks)
}

fn err(index: usize, field: impl Into<String>, message: impl Into<String>) -> DatasetError {
    DatasetError::Task {
        index,
        field: field.into(),
        message: message.into(),
    }
}

fn annotator_of(v: &Value) -> String {
    match v.get("completed_by") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("email")
            .or_else(|| o.get("id"))
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .unwrap_or_else(|| "0".to_string()),
        _ => "0".to_string(),
    }
}

/// Parse one annotation's `result` list.
pub fn parse_result(index: usize, field: &str, text: &str, result: &Value) -> Result<Annotation> {
    let items = result
        .as_array()
        .ok_or_else(|| err(index, field, "not an array"))?;
    let mut ann = Annotation {
        annotator: "0".to_string(),
        labels: Vec::new(),
        product: None,
        spans: Vec::new(),
        note: None,
    };
    for (j, item) in items.iter().enumerate() {
        let f = format!("{field}[{j}]");
        let from = item.get("from_name").and_then(Value::as_str).unwrap_or("");
        let value = item
            .get("value")
            .ok_or_else(|| err(index, format!("{f}.value"), "missing"))?;
        let strings = |key: &str| -> Result<Vec<String>> {
            value
                .get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| err(index, format!("{f}.value.{key}"), "missing or not an array"))?
                .iter()
                .map(|c| {
                    c.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| err(index, format!("{f}.value.{key}"), "not a string"))
                })
                .collect()
        };
        match from {
            "labels" => ann.labels.extend(strings("choices")?),
            "product" => ann.product = strings("choices")?.into_iter().next(),
            "note" => ann.note = Some(strings("text")?.join("\n")),
            "evidence" => {
                let off = |key: &str| -> Result<usize> {
                    let u = value
                        .get(key)
                        .and_then(Value::as_u64)
                        .ok_or_else(|| err(index, format!("{f}.value.{key}"), "missing"))?;
                    usize::try_from(u)
                        .ok()
                        .and_then(|u| utf16_to_char(text, u))
                        .ok_or_else(|| {
                            err(index, format!("{f}.value.{key}"),
                                format!("UTF-16 offset {u} is outside the text or inside a surrogate pair"))
                        })
                };
                let (start, end) = (off("start")?, off("end")?);
                for label in strings("labels")? {
                    let span = crate::example::span_from_chars(text, &label, start, end)
                        .ok_or_else(|| err(index, format!("{f}.value"), "empty span"))?;
                    ann.spans.push(span);
                }
            }
            other => {
                return Err(err(
                    index,
                    format!("{f}.from_name"),
                    format!("unknown control `{other}`"),
                ));
            }
        }
    }
    Ok(ann)
}

/// Parse a Label Studio JSON export (array of tasks with `annotations`). Cancelled annotations
/// are skipped; tasks without annotations are kept with none.
pub fn import(json_text: &str) -> Result<Vec<AnnotatedTask>> {
    let v: Value =
        serde_json::from_str(json_text).map_err(|e| err(0, "-", format!("not JSON: {e}")))?;
    let tasks = v
        .as_array()
        .ok_or_else(|| err(0, "-", "expected a JSON array of tasks"))?;
    let mut out = Vec::new();
    for (index, task) in tasks.iter().enumerate() {
        let data = task
            .get("data")
            .ok_or_else(|| err(index, "data", "missing"))?;
        let text = data
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| err(index, "data.text", "missing or not a string"))?
            .to_string();
        let task_id = match (data.get("id"), task.get("id")) {
            (Some(Value::String(s)), _) => s.clone(),
            (Some(Value::Number(n)), _) | (None, Some(Value::Number(n))) => n.to_string(),
            (None, Some(Value::String(s))) => s.clone(),
            _ => index.to_string(),
        };
        let channel = match data.get("channel") {
            Some(c) => serde_json::from_value::<Channel>(c.clone())
                .map_err(|e| err(index, "data.channel", e.to_string()))?,
            None => Channel::Post,
        };
        let mut annotations = Vec::new();
        if let Some(anns) = task.get("annotations") {
            let anns = anns
                .as_array()
                .ok_or_else(|| err(index, "annotations", "not an array"))?;
            for (k, a) in anns.iter().enumerate() {
                if a.get("was_cancelled").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let field = format!("annotations[{k}].result");
                let result = a
                    .get("result")
                    .ok_or_else(|| err(index, &field, "missing"))?;
                let mut ann = parse_result(index, &field, &text, result)?;
                ann.annotator = annotator_of(a);
                annotations.push(ann);
            }
        }
        out.push(AnnotatedTask {
            index,
            task_id,
            text,
            channel,
            annotations,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_span_offsets_are_utf16() {
        let text = "👋家人们治愈近视";
        let span = crate::example::span_from_chars(text, "cure_claim", 4, 8).unwrap();
        let items = result_items(text, &["cure_claim".into()], None, &[span]);
        assert_eq!(items[1]["value"]["start"], 5);
        assert_eq!(items[1]["value"]["end"], 9);
    }

    #[test]
    fn bad_offset_names_task_and_field() {
        let doc = r#"[{"data":{"text":"👋治愈"},"annotations":[{"completed_by":1,"result":[
            {"from_name":"evidence","to_name":"text","type":"labels",
             "value":{"start":1,"end":3,"labels":["cure_claim"]}}]}]}]"#;
        let e = import(doc).unwrap_err().to_string();
        assert!(
            e.contains("task 0") && e.contains("annotations[0].result[0].value.start"),
            "{e}"
        );
    }
}
