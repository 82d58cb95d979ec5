//! Parsing and validating a classify request body, with errors that name the field
//! (`items[3].text`, `options.thresholds.cure_claim`).

use std::collections::BTreeMap;

use qingwang_model::ClassifyOptions;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// One text to classify.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyItem {
    /// Client id (string or number), echoed back; `null` when not given.
    pub id: Value,
    /// The text.
    pub text: String,
    /// Channel, when given.
    pub channel: Option<String>,
}

/// A validated classify request.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyRequest {
    /// The texts, in order.
    pub items: Vec<ClassifyItem>,
    /// `true` for `{"items": [...]}`, `false` for `{"text": ...}`.
    pub batch: bool,
    /// Options.
    pub options: ClassifyOptions,
    /// Requested deadline, ms.
    pub timeout_ms: Option<u64>,
}

/// Limits checked while parsing.
#[derive(Debug, Clone)]
pub struct ParseLimits<'a> {
    /// Most items per batch.
    pub max_items: usize,
    /// Known channel names.
    pub channels: &'a [String],
}

const TOP_KEYS: [&str; 5] = ["text", "id", "channel", "items", "options"];
const OPTION_KEYS: [&str; 4] = ["labels", "thresholds", "explain", "timeout_ms"];

fn parse_item(
    obj: &Map<String, Value>,
    prefix: &str,
    limits: &ParseLimits<'_>,
) -> Result<ClassifyItem, ApiError> {
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    if !(id.is_null() || id.is_string() || id.is_number()) {
        return Err(ApiError::field(
            format!("{prefix}id"),
            "must be a string or a number",
        ));
    }
    let channel = match obj.get("channel") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) if limits.channels.iter().any(|k| k == c) => Some(c.clone()),
        Some(_) => {
            return Err(ApiError::field(
                format!("{prefix}channel"),
                format!("must be one of {}", limits.channels.join(", ")),
            ));
        }
    };
    let text = match obj.get("text") {
        Some(Value::String(t)) => t.clone(),
        None => return Err(ApiError::field(format!("{prefix}text"), "missing")),
        Some(_) => return Err(ApiError::field(format!("{prefix}text"), "must be a string")),
    };
    Ok(ClassifyItem { id, text, channel })
}

fn parse_options(v: Option<&Value>) -> Result<(ClassifyOptions, Option<u64>), ApiError> {
    let mut opts = ClassifyOptions::default();
    let obj = match v {
        None | Some(Value::Null) => return Ok((opts, None)),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(ApiError::field("options", "must be an object")),
    };
    if let Some(k) = obj.keys().find(|k| !OPTION_KEYS.contains(&k.as_str())) {
        return Err(ApiError::field(
            format!("options.{k}"),
            format!("unknown option; known: {}", OPTION_KEYS.join(", ")),
        ));
    }
    match obj.get("labels") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            let mut ls = Vec::with_capacity(a.len());
            for (i, l) in a.iter().enumerate() {
                match l {
                    Value::String(s) => ls.push(s.clone()),
                    _ => {
                        return Err(ApiError::field(
                            format!("options.labels[{i}]"),
                            "must be a label id string",
                        ));
                    }
                }
            }
            opts.labels = Some(ls);
        }
        Some(_) => {
            return Err(ApiError::field(
                "options.labels",
                "must be an array of label ids",
            ));
        }
    }
    match obj.get("thresholds") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            let mut t = BTreeMap::new();
            for (k, v) in m {
                match v.as_f64() {
                    Some(x) if (0.0..=1.0).contains(&x) => {
                        t.insert(k.clone(), x as f32);
                    }
                    _ => {
                        return Err(ApiError::field(
                            format!("options.thresholds.{k}"),
                            "must be a number in [0, 1]",
                        ));
                    }
                }
            }
            opts.thresholds = t;
        }
        Some(_) => {
            return Err(ApiError::field(
                "options.thresholds",
                "must be an object of label id to number",
            ));
        }
    }
    match obj.get("explain") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => opts.explain = *b,
        Some(_) => return Err(ApiError::field("options.explain", "must be true or false")),
    }
    let timeout = match obj.get("timeout_ms") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(ms) if ms > 0 => Some(ms),
            _ => {
                return Err(ApiError::field(
                    "options.timeout_ms",
                    "must be a positive integer",
                ));
            }
        },
    };
    Ok((opts, timeout))
}

/// Parse a body: 400 when it is not JSON, 413 when the batch is too large, 422 naming the
/// field otherwise.
pub fn parse(body: &[u8], limits: &ParseLimits<'_>) -> Result<ClassifyRequest, ApiError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let Value::Object(obj) = v else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    if let Some(k) = obj.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.clone(),
            format!("unknown field; known: {}", TOP_KEYS.join(", ")),
        ));
    }
    let (options, timeout_ms) = parse_options(obj.get("options"))?;
    match (obj.get("items"), obj.contains_key("text")) {
        (Some(_), true) => Err(ApiError::field(
            "items",
            "give either `text` or `items`, not both",
        )),
        (None, false) => Err(ApiError::field(
            "text",
            "missing (send `text`, or `items` for a batch)",
        )),
        (None, true) => {
            let item = parse_item(&obj, "", limits)?;
            Ok(ClassifyRequest {
                items: vec![item],
                batch: false,
                options,
                timeout_ms,
            })
        }
        (Some(items), false) => {
            if obj.contains_key("id") || obj.contains_key("channel") {
                return Err(ApiError::field(
                    if obj.contains_key("id") {
                        "id"
                    } else {
                        "channel"
                    },
                    "belongs inside each item of a batch",
                ));
            }
            let Value::Array(arr) = items else {
                return Err(ApiError::field("items", "must be an array"));
            };
            if arr.is_empty() {
                return Err(ApiError::field("items", "must not be empty"));
            }
            if arr.len() > limits.max_items {
                return Err(ApiError::BatchTooLarge {
                    len: arr.len(),
                    max: limits.max_items,
                });
            }
            let mut out = Vec::with_capacity(arr.len());
            for (i, it) in arr.iter().enumerate() {
                let Value::Object(o) = it else {
                    return Err(ApiError::field(format!("items[{i}]"), "must be an object"));
                };
                out.push(parse_item(o, &format!("items[{i}]."), limits)?);
            }
            Ok(ClassifyRequest {
                items: out,
                batch: true,
                options,
                timeout_ms,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> (usize, Vec<String>) {
        (3, vec!["livestream".into(), "post".into()])
    }

    fn field_of(body: &str) -> Option<String> {
        let (max_items, channels) = limits();
        let l = ParseLimits {
            max_items,
            channels: &channels,
        };
        match parse(body.as_bytes(), &l) {
            Err(ApiError::InvalidField { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases = [
            (r#"[1]"#, "body"),
            (r#"{}"#, "text"),
            (r#"{"text": 3}"#, "text"),
            (r#"{"text": "x", "id": [1]}"#, "id"),
            (r#"{"text": "x", "channel": "tv"}"#, "channel"),
            (r#"{"text": "x", "items": []}"#, "items"),
            (r#"{"items": {}}"#, "items"),
            (r#"{"items": []}"#, "items"),
            (r#"{"items": [{"text": "a"}, 5]}"#, "items[1]"),
            (r#"{"items": [{"text": "a"}, {"id": 1}]}"#, "items[1].text"),
            (
                r#"{"items": [{"text": "a", "channel": 1}]}"#,
                "items[0].channel",
            ),
            (r#"{"items": [{"text": "a"}], "id": 1}"#, "id"),
            (r#"{"text": "x", "colour": 1}"#, "colour"),
            (r#"{"text": "x", "options": 1}"#, "options"),
            (
                r#"{"text": "x", "options": {"label": []}}"#,
                "options.label",
            ),
            (
                r#"{"text": "x", "options": {"labels": "a"}}"#,
                "options.labels",
            ),
            (
                r#"{"text": "x", "options": {"labels": [1]}}"#,
                "options.labels[0]",
            ),
            (
                r#"{"text": "x", "options": {"thresholds": {"cure_claim": 2}}}"#,
                "options.thresholds.cure_claim",
            ),
            (
                r#"{"text": "x", "options": {"explain": "yes"}}"#,
                "options.explain",
            ),
            (
                r#"{"text": "x", "options": {"timeout_ms": 0}}"#,
                "options.timeout_ms",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(body).as_deref(), Some(field), "{body}");
        }
    }

    #[test]
    fn valid_requests_parse_in_order_with_options() -> Result<(), ApiError> {
        let (max_items, channels) = limits();
        let l = ParseLimits {
            max_items,
            channels: &channels,
        };
        let r = parse(
            r#"{"items": [{"id": "a", "text": "根治😀"}, {"id": 2, "text": "普通", "channel": "post"}],
                "options": {"labels": ["cure_claim"], "thresholds": {"cure_claim": 0.3}, "explain": true, "timeout_ms": 50}}"#
                .as_bytes(),
            &l,
        )?;
        assert!(r.batch);
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[0].text, "根治😀");
        assert_eq!(r.items[1].id, serde_json::json!(2));
        assert_eq!(r.items[1].channel.as_deref(), Some("post"));
        assert_eq!(r.options.labels, Some(vec!["cure_claim".to_string()]));
        assert_eq!(r.options.thresholds.get("cure_claim"), Some(&0.3));
        assert!(r.options.explain);
        assert_eq!(r.timeout_ms, Some(50));
        let single = parse(r#"{"text": "全网最低价"}"#.as_bytes(), &l)?;
        assert!(!single.batch);
        assert_eq!(single.items[0].id, Value::Null);
        Ok(())
    }

    #[test]
    fn malformed_json_is_400_and_big_batch_413() {
        let (max_items, channels) = limits();
        let l = ParseLimits {
            max_items,
            channels: &channels,
        };
        let bad = parse(b"{\"text\": ", &l).err();
        assert!(matches!(bad, Some(ApiError::MalformedJson(_))));
        let big = parse(
            br#"{"items": [{"text":"a"},{"text":"b"},{"text":"c"},{"text":"d"}]}"#,
            &l,
        )
        .err();
        assert!(matches!(
            big,
            Some(ApiError::BatchTooLarge { len: 4, max: 3 })
        ));
    }
}
