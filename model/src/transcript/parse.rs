//! Parsers for JSONL segments, SRT and WebVTT, and format detection.

use std::path::Path;

use super::Segment;

/// A transcript file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON [`Segment`] per line.
    Jsonl,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
}

impl Format {
    /// Guess the format from a file name's extension, then from the content.
    pub fn detect(path: Option<&Path>, content: &str) -> Option<Self> {
        let ext = path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("srt") => return Some(Self::Srt),
            Some("vtt") => return Some(Self::Vtt),
            Some("jsonl") | Some("ndjson") | Some("json") => return Some(Self::Jsonl),
            _ => {}
        }
        let body = strip_bom(content).trim_start();
        if body.starts_with("WEBVTT") {
            Some(Self::Vtt)
        } else if body.starts_with('{') {
            Some(Self::Jsonl)
        } else if body.contains("-->") {
            Some(Self::Srt)
        } else {
            None
        }
    }

    /// Parse a name: `jsonl`, `srt` or `vtt`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            "srt" => Some(Self::Srt),
            "vtt" | "webvtt" => Some(Self::Vtt),
            _ => None,
        }
    }
}

/// Why a transcript did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

fn strip_bom(s: &str) -> &str {
    s.strip_prefix('\u{feff}').unwrap_or(s)
}

/// Parse in the given format.
pub fn parse(content: &str, format: Format) -> Result<Vec<Segment>, ParseError> {
    match format {
        Format::Jsonl => parse_jsonl(content),
        Format::Srt => parse_srt(content),
        Format::Vtt => parse_vtt(content),
    }
}

fn check_segment(line: usize, s: &Segment) -> Result<(), ParseError> {
    if s.end_ms < s.start_ms {
        return Err(err(
            line,
            format!("end {} ms is before start {} ms", s.end_ms, s.start_ms),
        ));
    }
    Ok(())
}

/// One JSON segment per line; blank lines skipped.
pub fn parse_jsonl(content: &str) -> Result<Vec<Segment>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in strip_bom(content).lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let s: Segment =
            serde_json::from_str(line).map_err(|e| err(i + 1, format!("invalid segment: {e}")))?;
        check_segment(i + 1, &s)?;
        out.push(s);
    }
    Ok(out)
}

/// `HH:MM:SS,mmm`, `HH:MM:SS.mmm`, `MM:SS.mmm` (the fraction may have 1–3 digits).
fn parse_time(s: &str) -> Option<u64> {
    let s = s.trim();
    let (hms, frac) = match s.rfind([',', '.']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, "0"),
    };
    if frac.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: u64 = format!("{frac:0<3}").parse().ok()?;
    let parts: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 6)
    {
        return None;
    }
    let nums: Vec<u64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let (h, m, sec) = match nums.as_slice() {
        [m, s] => (0, *m, *s),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if m >= 60 && parts.len() == 3 || sec >= 60 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// `start --> end [settings]`.
fn parse_timing(line_no: usize, line: &str) -> Result<(u64, u64), ParseError> {
    let (a, rest) = line
        .split_once("-->")
        .ok_or_else(|| err(line_no, "expected a timing line `start --> end`"))?;
    let b = rest.split_whitespace().next().unwrap_or("");
    let start =
        parse_time(a).ok_or_else(|| err(line_no, format!("bad start time `{}`", a.trim())))?;
    let end = parse_time(b).ok_or_else(|| err(line_no, format!("bad end time `{b}`")))?;
    if end < start {
        return Err(err(line_no, "end time is before start time"));
    }
    Ok((start, end))
}

/// Lines with their 1-based numbers, BOM and CR removed.
fn numbered_lines(content: &str) -> Vec<(usize, &str)> {
    strip_bom(content)
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect()
}

/// Blocks separated by blank lines.
fn blocks<'a>(lines: &[(usize, &'a str)]) -> Vec<Vec<(usize, &'a str)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for &(n, l) in lines {
        if l.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push((n, l));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Remove `<...>` tags; return the text and a `<v Name>` voice, if any.
fn strip_tags(s: &str) -> (String, Option<String>) {
    let mut out = String::with_capacity(s.len());
    let mut voice = None;
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        match rest[i..].find('>') {
            Some(j) => {
                let tag = &rest[i + 1..i + j];
                if let Some(v) = tag.strip_prefix("v ").or_else(|| tag.strip_prefix("v.")) {
                    let name = v.split_once(' ').map_or(v, |(_, n)| n).trim();
                    let name = if tag.starts_with("v ") {
                        v.trim()
                    } else {
                        name
                    };
                    if !name.is_empty() {
                        voice = Some(name.to_string());
                    }
                }
                rest = &rest[i + j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let out = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ");
    (out, voice)
}

fn join_text(lines: &[(usize, &str)]) -> String {
    lines
        .iter()
        .map(|(_, l)| l.trim())
        .collect::<Vec<_>>()
        .join("")
}

/// SubRip: `index`, `start --> end`, text lines, blank line. A missing index is tolerated (the
/// cue's position is used).
pub fn parse_srt(content: &str) -> Result<Vec<Segment>, ParseError> {
    let lines = numbered_lines(content);
    let mut out = Vec::new();
    for (k, block) in blocks(&lines).iter().enumerate() {
        let (idx, rest) = match block.first() {
            Some(&(n, l)) if !l.contains("-->") => {
                let seq = l
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| err(n, format!("expected a cue number, found `{}`", l.trim())))?;
                (seq, &block[1..])
            }
            _ => (k as u64 + 1, &block[..]),
        };
        let Some(&(tn, timing)) = rest.first() else {
            let n = block.last().map_or(0, |b| b.0);
            return Err(err(n, "cue has no timing line"));
        };
        let (start_ms, end_ms) = parse_timing(tn, timing)?;
        let (text, speaker) = strip_tags(&join_text(&rest[1..]));
        out.push(Segment {
            seq: idx,
            start_ms,
            end_ms,
            text,
            speaker,
        });
    }
    Ok(out)
}

/// WebVTT: a `WEBVTT` header, then cues (optional identifier, timing with optional settings,
/// text); NOTE, STYLE and REGION blocks are skipped. Cues are numbered from 1 in order.
pub fn parse_vtt(content: &str) -> Result<Vec<Segment>, ParseError> {
    let lines = numbered_lines(content);
    let first = lines.first().map_or("", |l| l.1);
    if !(first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t")) {
        return Err(err(1, "a WebVTT file must start with `WEBVTT`"));
    }
    let all = blocks(&lines);
    let mut out = Vec::new();
    for block in all.iter().skip(1) {
        let head = block.first().map_or("", |b| b.1);
        if head.starts_with("NOTE") || head == "STYLE" || head == "REGION" {
            continue;
        }
        let (tn, timing, text_lines) = if head.contains("-->") {
            (block[0].0, head, &block[1..])
        } else {
            match block.get(1) {
                Some(&(n, l)) if l.contains("-->") => (n, l, &block[2..]),
                _ => return Err(err(block[0].0, "cue has no timing line")),
            }
        };
        let (start_ms, end_ms) = parse_timing(tn, timing)?;
        let (text, speaker) = strip_tags(&join_text(text_lines));
        out.push(Segment {
            seq: out.len() as u64 + 1,
            start_ms,
            end_ms,
            text,
            speaker,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        for (s, want) in [
            ("00:00:01,500", Some(1500)),
            ("01:02:03.004", Some(3_723_004)),
            ("02:03.5", Some(123_500)),
            ("00:61:00,000", None),
            ("1:2:3:4.000", None),
            ("ab:cd.000", None),
            ("00:00:01,5000", None),
        ] {
            assert_eq!(parse_time(s), want, "{s}");
        }
    }

    #[test]
    fn srt_bom_crlf_multiline() {
        let srt = "\u{feff}1\r\n00:00:01,000 --> 00:00:03,000\r\n这个眼镜戴三个月\r\n直接摘镜\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,500 X1:10\r\n<i>今天</i>包邮🎉\r\n";
        let segs = parse_srt(srt).unwrap();
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].text, "这个眼镜戴三个月直接摘镜");
        assert_eq!((segs[0].start_ms, segs[0].end_ms), (1000, 3000));
        assert_eq!(segs[1].text, "今天包邮🎉");
        assert_eq!(segs[1].seq, 2);
    }

    #[test]
    fn srt_errors_name_the_line() {
        let e = parse_srt("1\n00:00:01,000 -> 00:00:02,000\n文本\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_srt("x\n00:00:01,000 --> 00:00:02,000\n文本\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse_srt("1\n00:00:03,000 --> 00:00:02,000\n文本\n").unwrap_err();
        assert!(e.message.contains("before"));
    }

    #[test]
    fn vtt_blocks_settings_voices() {
        let vtt = "WEBVTT - 直播\n\nNOTE 这是注释\n跨行注释\n\nSTYLE\n::cue { color: red }\n\nintro\n00:01.000 --> 00:04.000 align:start position:10%\n<v 主播>家人们，\n这款助听器\n\n00:00:04.000 --> 00:00:06.000\n治愈耳聋！\n";
        let segs = parse_vtt(vtt).unwrap();
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].text, "家人们，这款助听器");
        assert_eq!(segs[0].speaker.as_deref(), Some("主播"));
        assert_eq!((segs[0].start_ms, segs[1].end_ms), (1000, 6000));
        assert_eq!(segs[1].seq, 2);
        assert_eq!(
            parse_vtt("1\n00:01.000 --> 00:02.000\nx").unwrap_err().line,
            1
        );
    }

    #[test]
    fn jsonl_and_detect() {
        let j = "{\"seq\":1,\"start_ms\":0,\"end_ms\":10,\"text\":\"你好\"}\n\n{\"seq\":2,\"start_ms\":10,\"end_ms\":20,\"text\":\"再见\",\"speaker\":\"a\"}\n";
        assert_eq!(parse_jsonl(j).unwrap().len(), 2);
        assert_eq!(parse_jsonl("{\"seq\":1}\n").unwrap_err().line, 1);
        let bad = "{\"seq\":1,\"start_ms\":5,\"end_ms\":1,\"text\":\"x\"}";
        assert!(parse_jsonl(bad).is_err());
        assert_eq!(Format::detect(None, j), Some(Format::Jsonl));
        assert_eq!(Format::detect(None, "\u{feff}WEBVTT\n"), Some(Format::Vtt));
        assert_eq!(
            Format::detect(None, "1\n00:00:01,000 --> 00:00:02,000\n"),
            Some(Format::Srt)
        );
        assert_eq!(
            Format::detect(Some(Path::new("a.SRT")), "WEBVTT"),
            Some(Format::Srt)
        );
        assert_eq!(Format::detect(None, "plain text"), None);
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = parse_srt(&s);
            let _ = parse_vtt(&s);
            let _ = parse_jsonl(&s);
        }

        #[test]
        fn parsers_never_panic_on_cue_like_input(
            s in "(WEBVTT\n)?([0-9]{0,2}\n)?[0-9:,.]{0,12} --> [0-9:,.]{0,12}( [a-z:%0-9]{0,8})?\n[^\n]{0,10}\n\n?"
        ) {
            let _ = parse_srt(&s);
            let _ = parse_vtt(&s);
        }
    }
}
