//! Unlabelled texts: the pool `data sample` chooses from and `data export` turns into labelling
//! tasks. A pool line is a JSON object with a `text` (required, not blank), an `id` (string or
//! number; `pool-<line>` when absent) and optionally a `channel`; other fields are ignored. A
//! full dataset line is a pool line too, and keeps its record; a line with dataset fields
//! (`labels`, `spans`, `family`, `split`) that is not a valid dataset line is an error.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{DatasetError, Result};
use crate::example::{Channel, Example, Source, Split};

/// One pool text.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolText {
    /// 1-based line number in the pool file.
    pub line: usize,
    /// The id (numbers rendered as strings).
    pub id: String,
    /// The text.
    pub text: String,
    /// The channel, when the line has one.
    pub channel: Option<Channel>,
    /// The full record, when the line is a dataset line.
    pub example: Option<Example>,
}

impl PoolText {
    /// As a dataset record: the line's own record when it had one, else an unlabelled example
    /// with source `analyst` (analysts will label it), family `pool-<id>`, split `train` and
    /// channel `post` unless the line said otherwise.
    pub fn to_example(&self) -> Example {
        if let Some(e) = &self.example {
            return e.clone();
        }
        Example {
            id: self.id.clone(),
            text: self.text.clone(),
            channel: self.channel.unwrap_or(Channel::Post),
            labels: Vec::new(),
            product: None,
            spans: Vec::new(),
            source: Source::Analyst,
            family: format!("pool-{}", self.id),
            split: Split::Train,
            kind: None,
            neg_type: None,
            evasion: Vec::new(),
        }
    }
}

fn bad(path: &Path, line: usize, field: &str, message: impl Into<String>) -> DatasetError {
    DatasetError::Line {
        path: PathBuf::from(path),
        line,
        field: field.to_string(),
        message: message.into(),
    }
}

/// Fields only a dataset line has; a pool line with any of them is read as a dataset line.
const DATASET_FIELDS: [&str; 4] = ["labels", "spans", "family", "split"];

/// Parse one pool line (`line` is 1-based, for errors).
pub fn parse_line(path: &Path, line: usize, s: &str) -> Result<PoolText> {
    let v: Value =
        serde_json::from_str(s).map_err(|e| bad(path, line, "-", format!("not JSON: {e}")))?;
    let Value::Object(map) = &v else {
        return Err(bad(path, line, "-", "not a JSON object"));
    };
    let text = match map.get("text") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        Some(Value::String(_)) => return Err(bad(path, line, "text", "empty")),
        Some(other) => return Err(bad(path, line, "text", format!("not a string: {other}"))),
        None => return Err(bad(path, line, "text", "missing")),
    };
    let id = match map.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => format!("pool-{line}"),
        Some(other) => {
            return Err(bad(
                path,
                line,
                "id",
                format!("must be a non-empty string or a number, not {other}"),
            ));
        }
    };
    let channel = match map.get("channel") {
        None | Some(Value::Null) => None,
        Some(c) => Some(
            serde_json::from_value::<Channel>(c.clone())
                .map_err(|e| bad(path, line, "channel", format!("invalid value {c}: {e}")))?,
        ),
    };
    // A line that carries labelling fields means to be a dataset line: it must be a valid one,
    // never quietly exported as an unlabelled text.
    let example = if DATASET_FIELDS.iter().any(|k| map.contains_key(*k)) {
        Some(serde_json::from_value::<Example>(v.clone()).map_err(|e| {
            bad(
                path,
                line,
                "-",
                format!(
                    "has dataset fields ({}) but is not a valid dataset line: {e}",
                    DATASET_FIELDS.join(", ")
                ),
            )
        })?)
    } else {
        None
    };
    Ok(PoolText {
        line,
        id,
        text,
        channel,
        example,
    })
}

/// Read a pool from any reader; fails on the first bad line or a repeated id, naming the line
/// and the field. Blank lines are skipped.
pub fn read_pool_from(reader: impl BufRead, path: &Path) -> Result<Vec<PoolText>> {
    let mut out = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (i, l) in reader.split(b'\n').enumerate() {
        let line = i + 1;
        let bytes = l.map_err(|e| DatasetError::Io {
            path: PathBuf::from(path),
            source: e,
        })?;
        let s = std::str::from_utf8(&bytes)
            .map_err(|e| bad(path, line, "-", format!("not valid UTF-8: {e}")))?
            .trim_end_matches('\r');
        if s.trim().is_empty() {
            continue;
        }
        let t = parse_line(path, line, s)?;
        if let Some(first) = ids.insert(t.id.clone(), line) {
            return Err(bad(
                path,
                line,
                "id",
                format!("duplicate id `{}` (first on line {first})", t.id),
            ));
        }
        out.push(t);
    }
    Ok(out)
}

/// Read a pool file.
pub fn read_pool(path: &Path) -> Result<Vec<PoolText>> {
    let f = std::fs::File::open(path).map_err(|e| DatasetError::Io {
        path: PathBuf::from(path),
        source: e,
    })?;
    read_pool_from(BufReader::new(f), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<Vec<PoolText>> {
        read_pool_from(s.as_bytes(), Path::new("pool.jsonl"))
    }

    #[test]
    fn raw_and_dataset_lines_are_read() {
        let pool = read(concat!(
            r#"{"id": "a", "text": "👋家人們治癒近視"}"#,
            "\n\n",
            r#"{"id": 7, "text": "包邮", "channel": "livestream", "extra": 1}"#,
            "\n",
            r#"{"text": "无副作用"}"#,
            "\n",
            r#"{"id":"d","text":"治愈","channel":"post","labels":["cure_claim"],"product":null,"spans":[],"source":"handwritten","family":"f","split":"dev"}"#,
            "\n",
        ))
        .unwrap();
        assert_eq!(pool.len(), 4);
        assert_eq!(pool[0].id, "a");
        assert_eq!(pool[0].text, "👋家人們治癒近視");
        assert_eq!(pool[1].id, "7");
        assert_eq!(pool[1].line, 3);
        assert_eq!(pool[1].channel, Some(Channel::Livestream));
        assert_eq!(pool[2].id, "pool-4");
        let e = pool[1].to_example();
        assert_eq!(
            (e.channel, e.source, e.family.as_str()),
            (Channel::Livestream, Source::Analyst, "pool-7")
        );
        assert!(e.labels.is_empty());
        let d = pool[3].to_example();
        assert_eq!((d.source, d.split), (Source::Handwritten, Split::Dev));
    }

    #[test]
    fn bad_lines_name_line_and_field() {
        let cases = [
            ("{not json", "pool.jsonl:1: field `-`"),
            (r#"{"id": "a"}"#, "pool.jsonl:1: field `text`: missing"),
            (r#"{"id": "a", "text": "  "}"#, "field `text`: empty"),
            (r#"{"id": "a", "text": 3}"#, "field `text`: not a string"),
            (r#"{"id": [1], "text": "x"}"#, "field `id`"),
            (r#"{"text": "x", "channel": "radio"}"#, "field `channel`"),
            ("[1, 2]", "not a JSON object"),
            (
                r#"{"id": "a", "text": "x", "labels": ["no_such_label"]}"#,
                "not a valid dataset line",
            ),
            (
                "{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"a\",\"text\":\"y\"}",
                "pool.jsonl:2: field `id`: duplicate id `a` (first on line 1)",
            ),
        ];
        for (input, want) in cases {
            let e = read(input).unwrap_err().to_string();
            assert!(e.contains(want), "{input}: {e}");
        }
        let e = read_pool_from(&b"\xff\xfe\n"[..], Path::new("p")).unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
    }
}
