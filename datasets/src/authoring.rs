//! The authoring format: how people write examples by hand before they become dataset lines.
//! Evidence is written as the quoted words (`["cure_claim", "直接摘镜"]`) instead of offsets;
//! [`ingest`] finds each quote's first occurrence and turns it into a char-offset [`Span`].
//! `qingwang data ingest` runs it over writing batches; ids are `hw-<family>-<n>`.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use crate::error::{DatasetError, Result};
use crate::example::{Channel, Example, Kind, Source, Span, Split, find_chars};

/// One hand-written line.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthoredLine {
    /// Writing batch.
    pub family: String,
    /// Channel.
    pub channel: Channel,
    /// The text.
    pub text: String,
    /// Claim labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Product id or null.
    #[serde(default)]
    pub product: Option<String>,
    /// (label, quoted words) pairs.
    #[serde(default)]
    pub evidence: Vec<(String, String)>,
    /// positive | hard_negative | easy_negative.
    pub kind: Kind,
    /// Negative type.
    #[serde(default)]
    pub neg_type: Option<String>,
    /// Evasion kinds.
    #[serde(default)]
    pub evasion: Vec<String>,
}

/// Turn authoring lines into examples. Every error names the file, line and field; nothing is
/// skipped silently.
pub fn ingest(reader: impl BufRead, path: &Path, source: Source) -> Result<Vec<Example>> {
    let mut out: Vec<Example> = Vec::new();
    let mut per_family: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| DatasetError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let err = |field: &str, message: String| DatasetError::Line {
            path: path.to_path_buf(),
            line: n,
            field: field.into(),
            message,
        };
        let a: AuthoredLine = serde_json::from_str(&line).map_err(|e| err("-", e.to_string()))?;
        let mut spans = Vec::new();
        for (label, quote) in &a.evidence {
            let (s, e) = find_chars(&a.text, quote, 0)
                .ok_or_else(|| err("evidence", format!("{quote:?} does not occur in text")))?;
            spans.push(Span {
                label: label.clone(),
                char_start: s,
                char_end: e,
                text: quote.clone(),
            });
        }
        let k = per_family.entry(a.family.clone()).or_insert(0);
        *k += 1;
        out.push(Example {
            id: format!("hw-{}-{:03}", a.family, k),
            text: a.text,
            channel: a.channel,
            labels: a.labels,
            product: a.product,
            spans,
            source,
            family: a.family,
            split: Split::Train,
            kind: Some(a.kind),
            neg_type: if a.kind == Kind::Positive {
                None
            } else {
                a.neg_type
            },
            evasion: a.evasion,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_become_char_spans_and_errors_name_the_line() {
        let data = concat!(
            r#"{"family":"t-f1","channel":"livestream","text":"👀宝宝们 戴三个月直接摘镜","labels":["cure_claim"],"product":"myopia_vision","evidence":[["cure_claim","直接摘镜"]],"kind":"positive","neg_type":null,"evasion":[]}"#,
            "\n\n",
            r#"{"family":"t-f1","channel":"post","text":"经查，宣称摘镜属虚假宣传","labels":[],"product":null,"evidence":[],"kind":"hard_negative","neg_type":"regulator_warning"}"#,
            "\n"
        );
        let ex = ingest(data.as_bytes(), Path::new("a.jsonl"), Source::Handwritten).unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].id, "hw-t-f1-001");
        assert_eq!(ex[1].id, "hw-t-f1-002");
        assert_eq!(
            (ex[0].spans[0].char_start, ex[0].spans[0].char_end),
            (9, 13)
        );
        assert_eq!(ex[1].neg_type.as_deref(), Some("regulator_warning"));
        let bad = r#"{"family":"t","channel":"post","text":"治愈","labels":["cure_claim"],"evidence":[["cure_claim","根治"]],"kind":"positive"}"#;
        let e = ingest(
            format!("\n{bad}\n").as_bytes(),
            Path::new("b.jsonl"),
            Source::Handwritten,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("b.jsonl:2: field `evidence`"), "{e}");
    }
}
