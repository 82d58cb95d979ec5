//! The dataset schema: one [`Example`] per JSONL line, and reading/writing such files.
//!
//! Offsets in [`Span`] count Unicode scalar values (`char`s), so a span means the same thing in
//! every language that reads the file; converting to UTF-16 or bytes happens in `model`.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};

/// Where a text was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Livestream speech as an ASR engine transcribes it.
    Livestream,
    /// A social-media post or caption.
    Post,
    /// A comment under a post or in a live room.
    Comment,
    /// A product title or product detail text.
    Title,
}

impl Channel {
    /// All channels, in report order.
    pub const ALL: [Channel; 4] = [
        Channel::Livestream,
        Channel::Post,
        Channel::Comment,
        Channel::Title,
    ];

    /// The id used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Livestream => "livestream",
            Channel::Post => "post",
            Channel::Comment => "comment",
            Channel::Title => "title",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who wrote the example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Written by hand by the team.
    Handwritten,
    /// Produced by the seeded generator (train split only).
    Generated,
    /// Labelled by monitoring-centre analysts.
    Analyst,
}

impl Source {
    /// All sources, in report order.
    pub const ALL: [Source; 3] = [Source::Handwritten, Source::Generated, Source::Analyst];

    /// The id used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Handwritten => "handwritten",
            Source::Generated => "generated",
            Source::Analyst => "analyst",
        }
    }
}

/// Which split an example belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training data.
    Train,
    /// Threshold tuning and model selection.
    Dev,
    /// Held out; reported, never tuned on.
    Test,
}

impl Split {
    /// All splits, in report order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Dev, Split::Test];

    /// The id used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of example this is, as the writer intended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Carries at least one claim label.
    Positive,
    /// No claim, but contains trigger words (debunking, warnings, news, compliant ads…).
    HardNegative,
    /// No claim and no trigger words (prices, chatter, questions).
    EasyNegative,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 3] = [Kind::Positive, Kind::HardNegative, Kind::EasyNegative];

    /// The id used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Positive => "positive",
            Kind::HardNegative => "hard_negative",
            Kind::EasyNegative => "easy_negative",
        }
    }
}

/// Evidence for one label: a half-open range of `char` positions in [`Example::text`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// The label this span is evidence for.
    pub label: String,
    /// First char (Unicode scalar value) of the evidence.
    pub char_start: usize,
    /// One past the last char.
    pub char_end: usize,
    /// The evidence text; must equal `text[char_start..char_end]`.
    pub text: String,
}

/// One labelled example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Unique id.
    pub id: String,
    /// The text as published (or transcribed).
    pub text: String,
    /// Where it was published.
    pub channel: Channel,
    /// Claim labels; empty means no violation.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Product category id, or null when none is identifiable.
    #[serde(default)]
    pub product: Option<String>,
    /// Evidence spans; every label has at least one.
    #[serde(default)]
    pub spans: Vec<Span>,
    /// Who wrote it.
    pub source: Source,
    /// The template or writing batch it came from; splits are assigned per family.
    pub family: String,
    /// Train, dev or test.
    pub split: Split,
    /// Positive, hard negative or easy negative (optional for analyst data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// For negatives: debunk, regulator_warning, news, … (see the taxonomy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neg_type: Option<String>,
    /// Evasion kinds used in the claim words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evasion: Vec<String>,
}

impl Example {
    /// Whether the example carries any claim label.
    pub fn is_positive(&self) -> bool {
        !self.labels.is_empty()
    }

    /// The kind, falling back to positive/easy-negative from the labels when not annotated.
    pub fn effective_kind(&self) -> Kind {
        match self.kind {
            Some(k) => k,
            None if self.is_positive() => Kind::Positive,
            None => Kind::EasyNegative,
        }
    }

    /// Number of chars in the text.
    pub fn char_len(&self) -> usize {
        self.text.chars().count()
    }
}

/// Build a span from char offsets into `text`; `None` when out of bounds or empty.
pub fn span_from_chars(
    text: &str,
    label: &str,
    char_start: usize,
    char_end: usize,
) -> Option<Span> {
    if char_start >= char_end {
        return None;
    }
    let s: String = text
        .chars()
        .skip(char_start)
        .take(char_end - char_start)
        .collect();
    (s.chars().count() == char_end - char_start).then(|| Span {
        label: label.to_string(),
        char_start,
        char_end,
        text: s,
    })
}

/// Find the `nth` (0-based) occurrence of `needle` in `text`, as char offsets.
pub fn find_chars(text: &str, needle: &str, nth: usize) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let (byte, _) = text.match_indices(needle).nth(nth)?;
    let start = text[..byte].chars().count();
    Some((start, start + needle.chars().count()))
}

/// One line of a JSONL file that could not be read as an [`Example`].
#[derive(Debug)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// The error, naming the field.
    pub error: DatasetError,
}

/// What [`read_jsonl`] found: the good examples (with their line numbers) and the bad lines.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Parsed examples and their 1-based line numbers.
    pub examples: Vec<(usize, Example)>,
    /// Lines that failed, in file order.
    pub bad: Vec<BadLine>,
}

/// Read a JSONL file of examples; bad lines (bad UTF-8, not JSON, missing fields) are collected,
/// never dropped silently. Blank lines are skipped.
pub fn read_jsonl(path: &Path) -> Result<ReadOutcome> {
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    read_jsonl_from(BufReader::new(file), path)
}

/// [`read_jsonl`] over any reader; `path` is used in error messages.
pub fn read_jsonl_from(mut reader: impl BufRead, path: &Path) -> Result<ReadOutcome> {
    let mut out = ReadOutcome::default();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| DatasetError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = match std::str::from_utf8(&buf) {
            Ok(s) => s.trim_end_matches(['\n', '\r']),
            Err(e) => {
                out.bad.push(BadLine {
                    line: line_no,
                    error: line_error(
                        path,
                        line_no,
                        "-",
                        format!("not valid UTF-8 (byte {})", e.valid_up_to()),
                    ),
                });
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Example>(line) {
            Ok(ex) => out.examples.push((line_no, ex)),
            Err(e) => {
                let (field, message) = describe_json_error(line, &e);
                out.bad.push(BadLine {
                    line: line_no,
                    error: line_error(path, line_no, &field, message),
                });
            }
        }
    }
    Ok(out)
}

fn line_error(path: &Path, line: usize, field: &str, message: String) -> DatasetError {
    DatasetError::Line {
        path: PathBuf::from(path),
        line,
        field: field.to_string(),
        message,
    }
}

/// Turn a serde error into (field, message). serde names missing fields in its message; for
/// type errors we find the field by re-parsing as a generic value.
fn describe_json_error(line: &str, e: &serde_json::Error) -> (String, String) {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("-").to_string();
        return (field, "missing".to_string());
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(line) else {
        return ("-".to_string(), format!("not a JSON object: {msg}"));
    };
    // Find the first field whose value alone fails to deserialise in its expected position.
    for key in [
        "id", "text", "channel", "labels", "product", "spans", "source", "family", "split", "kind",
        "neg_type", "evasion",
    ] {
        if let Some(v) = map.get(key) {
            let ok = match key {
                "id" | "text" | "family" => v.is_string(),
                "channel" => serde_json::from_value::<Channel>(v.clone()).is_ok(),
                "labels" | "evasion" => serde_json::from_value::<Vec<String>>(v.clone()).is_ok(),
                "product" | "neg_type" => {
                    serde_json::from_value::<Option<String>>(v.clone()).is_ok()
                }
                "spans" => serde_json::from_value::<Vec<Span>>(v.clone()).is_ok(),
                "source" => serde_json::from_value::<Source>(v.clone()).is_ok(),
                "split" => serde_json::from_value::<Split>(v.clone()).is_ok(),
                "kind" => serde_json::from_value::<Option<Kind>>(v.clone()).is_ok(),
                _ => true,
            };
            if !ok {
                return (key.to_string(), format!("invalid value {v}: {msg}"));
            }
        }
    }
    ("-".to_string(), msg)
}

/// Read a JSONL file and fail on the first bad line (for tools that need clean input).
pub fn read_examples(path: &Path) -> Result<Vec<Example>> {
    let out = read_jsonl(path)?;
    if let Some(bad) = out.bad.into_iter().next() {
        return Err(bad.error);
    }
    Ok(out.examples.into_iter().map(|(_, e)| e).collect())
}

/// Write examples as JSONL, one per line, fields in schema order.
pub fn write_jsonl<'a>(path: &Path, examples: impl IntoIterator<Item = &'a Example>) -> Result<()> {
    let mut buf = Vec::new();
    for ex in examples {
        serde_json::to_writer(&mut buf, ex).map_err(|source| DatasetError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        buf.push(b'\n');
    }
    let mut f = std::fs::File::create(path).map_err(|e| DatasetError::io(path, e))?;
    f.write_all(&buf).map_err(|e| DatasetError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> String {
        serde_json::json!({"id": "x1", "text": text, "channel": "post", "labels": [], "product": null,
            "spans": [], "source": "handwritten", "family": "f", "split": "train"})
        .to_string()
    }

    #[test]
    fn reads_good_and_reports_bad_lines_with_field() {
        let mut data = String::new();
        data.push_str(&line("家人们👋治愈近视"));
        data.push('\n');
        data.push_str("{not json\n");
        data.push('\n');
        data.push_str(&line("x").replace("\"post\"", "\"radio\""));
        data.push('\n');
        let mut no_text: serde_json::Value = serde_json::from_str(&line("y")).unwrap();
        no_text.as_object_mut().unwrap().remove("text");
        data.push_str(&no_text.to_string());
        data.push('\n');
        let out = read_jsonl_from(data.as_bytes(), Path::new("d.jsonl")).unwrap();
        assert_eq!(out.examples.len(), 1);
        assert_eq!(out.examples[0].0, 1);
        assert_eq!(out.bad.len(), 3);
        assert_eq!(out.bad[0].line, 2);
        let msgs: Vec<String> = out.bad.iter().map(|b| b.error.to_string()).collect();
        assert!(msgs[0].starts_with("d.jsonl:2: field `-`"), "{}", msgs[0]);
        assert!(
            msgs[1].starts_with("d.jsonl:4: field `channel`"),
            "{}",
            msgs[1]
        );
        assert!(
            msgs[2].starts_with("d.jsonl:5: field `text`: missing"),
            "{}",
            msgs[2]
        );
    }

    #[test]
    fn bad_utf8_is_reported_not_dropped() {
        let mut data = line("好").into_bytes();
        data.push(b'\n');
        data.extend_from_slice(b"{\"id\": \"\xff\xfe\"}\n");
        let out = read_jsonl_from(&data[..], Path::new("u.jsonl")).unwrap();
        assert_eq!(out.examples.len(), 1);
        assert_eq!(out.bad.len(), 1);
        assert!(out.bad[0].error.to_string().contains("UTF-8"));
    }

    #[test]
    fn find_chars_counts_scalar_values() {
        // emoji is one char (two UTF-16 units, four bytes); traditional characters are one char.
        let t = "👀視力恢復🔥恢復";
        assert_eq!(find_chars(t, "恢復", 0), Some((3, 5)));
        assert_eq!(find_chars(t, "恢復", 1), Some((6, 8)));
        assert_eq!(find_chars(t, "恢復", 2), None);
        assert_eq!(find_chars(t, "", 0), None);
        assert_eq!(find_chars(t, "👀", 0), Some((0, 1)));
    }

    #[test]
    fn span_from_chars_checks_bounds_at_string_ends() {
        let t = "摘镜✨";
        assert_eq!(
            span_from_chars(t, "cure_claim", 0, 2).map(|s| s.text),
            Some("摘镜".to_string())
        );
        assert_eq!(
            span_from_chars(t, "cure_claim", 2, 3).map(|s| s.text),
            Some("✨".to_string())
        );
        assert!(span_from_chars(t, "cure_claim", 2, 4).is_none());
        assert!(span_from_chars(t, "cure_claim", 1, 1).is_none());
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        let ex: Example = serde_json::from_str(&line("宝宝们 上链接 ＦＤＡ認證")).unwrap();
        write_jsonl(&p, [&ex]).unwrap();
        assert_eq!(read_examples(&p).unwrap(), vec![ex]);
    }
}
