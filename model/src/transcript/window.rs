//! The text stream behind a transcript: segment texts concatenated, with a map from stream char
//! offsets back to (segment seq, char in segment, time), and the window settings.

use std::collections::VecDeque;

use crate::error::ModelError;
use crate::{Classifier, ClassifyOptions, Prediction, Verdict};

use super::Segment;
use super::incident::Evidence;

/// Window length and stride, in chars of the concatenated stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowConfig {
    /// Chars per window.
    pub len: usize,
    /// Chars between window starts (1 ≤ stride ≤ len).
    pub stride: usize,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            len: 48,
            stride: 24,
        }
    }
}

impl WindowConfig {
    /// Check 1 ≤ stride ≤ len.
    pub fn validate(&self) -> Result<(), String> {
        if self.len == 0 || self.stride == 0 || self.stride > self.len {
            return Err(format!(
                "window {} / stride {}: need 1 ≤ stride ≤ window",
                self.len, self.stride
            ));
        }
        Ok(())
    }
}

/// Classifies window texts; one prediction per text, in order.
pub trait WindowScorer {
    /// Score a batch of windows.
    fn score_windows(&self, texts: &[&str]) -> Result<Vec<Prediction>, ModelError>;
}

/// A prediction that flags nothing.
pub fn pass_prediction(model: &str) -> Prediction {
    Prediction {
        violation: false,
        verdict: Verdict::Pass,
        score: 0.0,
        labels: Vec::new(),
        product: None,
        spans: Vec::new(),
        scores: None,
        model: model.to_string(),
    }
}

impl WindowScorer for Classifier {
    fn score_windows(&self, texts: &[&str]) -> Result<Vec<Prediction>, ModelError> {
        let (res, _) = self.classify(texts, &ClassifyOptions::default())?;
        Ok(res
            .into_iter()
            .map(|r| r.unwrap_or_else(|_| pass_prediction(self.version())))
            .collect())
    }
}

#[derive(Debug, Clone)]
struct SegSpan {
    seq: u64,
    stream_start: usize,
    len: usize,
    start_ms: u64,
    end_ms: u64,
}

impl SegSpan {
    fn time_at(&self, char_in_seg: usize) -> u64 {
        if self.len == 0 {
            return self.start_ms;
        }
        let d = self.end_ms.saturating_sub(self.start_ms);
        self.start_ms + (d as u128 * char_in_seg.min(self.len) as u128 / self.len as u128) as u64
    }
}

/// The concatenated text of the segments pushed so far; only the tail after
/// [`Stream::base`] is kept.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    base: usize,
    chars: VecDeque<char>,
    segs: VecDeque<SegSpan>,
}

impl Stream {
    /// Append a segment's text.
    pub fn push(&mut self, seg: &Segment) {
        let start = self.len();
        let n = seg.text.chars().count();
        if n == 0 {
            return;
        }
        self.chars.extend(seg.text.chars());
        self.segs.push_back(SegSpan {
            seq: seg.seq,
            stream_start: start,
            len: n,
            start_ms: seg.start_ms,
            end_ms: seg.end_ms.max(seg.start_ms),
        });
    }

    /// Total chars pushed (including those already dropped).
    pub fn len(&self) -> usize {
        self.base + self.chars.len()
    }

    /// No text pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// First char still kept.
    pub fn base(&self) -> usize {
        self.base
    }

    /// Chars kept in memory.
    pub fn buffered(&self) -> usize {
        self.chars.len()
    }

    /// Text of stream chars `[a, b)` (clamped to what is kept).
    pub fn text(&self, a: usize, b: usize) -> String {
        let a = a.max(self.base) - self.base;
        let b = b.min(self.len()).max(self.base) - self.base;
        self.chars.range(a.min(b)..b).collect()
    }

    /// Drop everything before stream offset `keep_from`.
    pub fn trim(&mut self, keep_from: usize) {
        let keep_from = keep_from.min(self.len());
        if keep_from <= self.base {
            return;
        }
        self.chars.drain(..keep_from - self.base);
        self.base = keep_from;
        while self
            .segs
            .front()
            .is_some_and(|s| s.stream_start + s.len <= keep_from)
        {
            self.segs.pop_front();
        }
    }

    fn seg_index(&self, off: usize) -> Option<usize> {
        let i = self.segs.partition_point(|s| s.stream_start <= off);
        i.checked_sub(1)
            .filter(|&i| off < self.segs[i].stream_start + self.segs[i].len)
    }

    /// (seq, char in segment, time in ms) of stream char `off`.
    pub fn locate(&self, off: usize) -> Option<(u64, usize, u64)> {
        let s = &self.segs[self.seg_index(off)?];
        let c = off - s.stream_start;
        Some((s.seq, c, s.time_at(c)))
    }

    /// The stream range `[a, b)` as evidence, one piece per segment it touches, each with its
    /// stream range.
    pub fn evidence(&self, label: &str, a: usize, b: usize) -> Vec<(usize, usize, Evidence)> {
        let mut out = Vec::new();
        let Some(mut i) = self.seg_index(a.max(self.base)) else {
            return out;
        };
        while let Some(s) = self.segs.get(i) {
            if s.stream_start >= b {
                break;
            }
            let cs = a.max(s.stream_start) - s.stream_start;
            let ce = b.min(s.stream_start + s.len) - s.stream_start;
            if ce > cs {
                let at = s.stream_start;
                out.push((
                    at + cs,
                    at + ce,
                    Evidence {
                        label: label.to_string(),
                        text: self.text(s.stream_start + cs, s.stream_start + ce),
                        seq: s.seq,
                        char_start: cs,
                        char_end: ce,
                        start_ms: s.time_at(cs),
                        end_ms: s.time_at(ce),
                    },
                ));
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(seq: u64, start_ms: u64, end_ms: u64, text: &str) -> Segment {
        Segment {
            seq,
            start_ms,
            end_ms,
            text: text.into(),
            speaker: None,
        }
    }

    #[test]
    fn offsets_map_back_to_segments_and_time() {
        let mut s = Stream::default();
        s.push(&seg(1, 0, 4000, "家人们😀好"));
        s.push(&seg(2, 4000, 4000, ""));
        s.push(&seg(3, 5000, 7000, "治愈近视"));
        assert_eq!(s.len(), 9);
        assert_eq!(s.locate(0), Some((1, 0, 0)));
        assert_eq!(s.locate(3), Some((1, 3, 2400)));
        assert_eq!(s.locate(5), Some((3, 0, 5000)));
        assert_eq!(s.locate(8), Some((3, 3, 6500)));
        assert_eq!(s.locate(9), None);
        let ev = s.evidence("x", 4, 7);
        assert_eq!(ev.len(), 2);
        assert_eq!((ev[0].0, ev[0].1, ev[1].0, ev[1].1), (4, 5, 5, 7));
        let ev: Vec<Evidence> = ev.into_iter().map(|e| e.2).collect();
        assert_eq!((ev[0].seq, ev[0].char_start, ev[0].char_end), (1, 4, 5));
        assert_eq!(ev[0].text, "好");
        assert_eq!((ev[1].seq, ev[1].char_start, ev[1].char_end), (3, 0, 2));
        assert_eq!(ev[1].text, "治愈");
        assert_eq!((ev[1].start_ms, ev[1].end_ms), (5000, 6000));
        s.trim(5);
        assert_eq!((s.base(), s.buffered(), s.len()), (5, 4, 9));
        assert_eq!(s.text(0, 100), "治愈近视");
        assert_eq!(s.locate(2), None);
        assert_eq!(s.locate(6), Some((3, 1, 5500)));
    }
}
