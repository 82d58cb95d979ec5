//! [`RoomState`]: the incremental scanner a live room runs on, and [`scan`] for a whole
//! transcript (the same code path, then closed).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Serialize;

use crate::error::ModelError;

use super::incident::{Incident, Pending, Tally, merge_evidence};
use super::window::{Stream, WindowConfig, WindowScorer};
use super::{Segment, Summary};

/// Limits and settings of one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomConfig {
    /// Window length and stride.
    pub window: WindowConfig,
    /// Out-of-order segments held back at most this many; beyond it the gap is given up.
    pub reorder_max_seqs: usize,
    /// A gap is given up once its oldest held segment waited this long (ms of `now_ms`).
    pub reorder_max_ms: u64,
    /// Longest segment text accepted, chars; longer texts are cut to it.
    pub max_segment_chars: usize,
    /// Incidents kept for [`RoomState::incidents`] (older ones only stay in the counts).
    pub max_incidents_kept: usize,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            window: WindowConfig::default(),
            reorder_max_seqs: 16,
            reorder_max_ms: 2_000,
            max_segment_chars: 2_000,
            max_incidents_kept: 1_000,
        }
    }
}

/// What one push did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PushOutcome {
    /// New segments taken (in order now, or held for reordering).
    pub accepted: usize,
    /// Segments already seen (same seq).
    pub duplicate: usize,
    /// Segments whose seq was given up as a gap before they arrived; ignored.
    pub late: usize,
    /// Incidents the new text completed.
    pub incidents: Vec<Incident>,
}

/// The incremental state of one room: a reorder buffer, the tail of the text stream still
/// needed by the next windows, open incidents, and totals.
#[derive(Debug, Clone)]
pub struct RoomState {
    cfg: RoomConfig,
    stream: Stream,
    /// Stream offset of the next window to score.
    next_window: usize,
    /// End of the last scored window.
    covered_to: usize,
    next_seq: Option<u64>,
    held: BTreeMap<u64, (Segment, u64)>,
    /// Seqs given up as gaps (bounded), so a late arrival is told apart from a duplicate.
    skipped: BTreeSet<u64>,
    pending: Vec<Pending>,
    incidents: VecDeque<Incident>,
    tally: Tally,
    next_incident: u64,
    duplicates: u64,
    late: u64,
    closed: bool,
}

const MAX_SKIPPED_REMEMBERED: usize = 4_096;

impl RoomState {
    /// An empty room. `cfg.window` must be valid (see [`WindowConfig::validate`]).
    pub fn new(cfg: RoomConfig) -> Self {
        Self {
            cfg,
            stream: Stream::default(),
            next_window: 0,
            covered_to: 0,
            next_seq: None,
            held: BTreeMap::new(),
            skipped: BTreeSet::new(),
            pending: Vec::new(),
            incidents: VecDeque::new(),
            tally: Tally::default(),
            next_incident: 1,
            duplicates: 0,
            late: 0,
            closed: false,
        }
    }

    /// Closed rooms take no more segments.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Chars held in memory: the stream tail plus held segments.
    pub fn buffered_chars(&self) -> usize {
        self.stream.buffered()
            + self
                .held
                .values()
                .map(|(s, _)| s.text.chars().count())
                .sum::<usize>()
    }

    /// Segments held back waiting for a gap to fill.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Duplicates and late segments ignored so far.
    pub fn ignored(&self) -> (u64, u64) {
        (self.duplicates, self.late)
    }

    /// The latest incidents (at most `max_incidents_kept`), oldest first.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.iter()
    }

    /// Totals, incidents per label and risk per minute.
    pub fn summary(&self) -> Summary {
        self.tally.summary()
    }

    /// Add segments received at `now_ms`; score the windows they complete; return the
    /// incidents that became final. On a scorer error nothing is scored and the next call
    /// retries.
    pub fn push(
        &mut self,
        segments: Vec<Segment>,
        now_ms: u64,
        scorer: &dyn WindowScorer,
    ) -> Result<PushOutcome, ModelError> {
        let mut out = PushOutcome::default();
        if self.closed {
            out.late = segments.len();
            self.late += segments.len() as u64;
            return Ok(out);
        }
        for mut seg in segments {
            let next = *self.next_seq.get_or_insert(seg.seq);
            if seg.seq < next {
                if self.skipped.contains(&seg.seq) {
                    out.late += 1;
                } else {
                    out.duplicate += 1;
                }
            } else if self.held.contains_key(&seg.seq) {
                out.duplicate += 1;
            } else {
                if seg.text.chars().count() > self.cfg.max_segment_chars {
                    seg.text = seg.text.chars().take(self.cfg.max_segment_chars).collect();
                }
                self.held.insert(seg.seq, (seg, now_ms));
                out.accepted += 1;
            }
        }
        self.duplicates += out.duplicate as u64;
        self.late += out.late as u64;
        self.release(now_ms, false);
        out.incidents = self.advance(scorer, false)?;
        Ok(out)
    }

    /// Give up gaps that waited too long and score what that completes (call it now and then
    /// when no segments arrive).
    pub fn tick(
        &mut self,
        now_ms: u64,
        scorer: &dyn WindowScorer,
    ) -> Result<Vec<Incident>, ModelError> {
        if self.closed {
            return Ok(Vec::new());
        }
        self.release(now_ms, false);
        self.advance(scorer, false)
    }

    /// Flush everything (held segments, the last partial window, open incidents) and close.
    pub fn close(&mut self, scorer: &dyn WindowScorer) -> Result<Vec<Incident>, ModelError> {
        if self.closed {
            return Ok(Vec::new());
        }
        self.release(0, true);
        let out = self.advance(scorer, true)?;
        self.closed = true;
        Ok(out)
    }

    /// Move in-order held segments into the stream; give up gaps when the buffer is full,
    /// too old, or `all`.
    fn release(&mut self, now_ms: u64, all: bool) {
        loop {
            let Some(next) = self.next_seq else { return };
            if let Some((seg, _)) = self.held.remove(&next) {
                self.append(seg);
                self.next_seq = Some(next + 1);
                continue;
            }
            let Some((&first, (_, arrived))) = self.held.iter().next() else {
                return;
            };
            let too_old = now_ms.saturating_sub(*arrived) >= self.cfg.reorder_max_ms;
            if all || too_old || self.held.len() > self.cfg.reorder_max_seqs {
                for s in next..first {
                    self.skipped.insert(s);
                    if self.skipped.len() > MAX_SKIPPED_REMEMBERED {
                        self.skipped.pop_first();
                    }
                }
                self.next_seq = Some(first);
            } else {
                return;
            }
        }
    }

    fn append(&mut self, seg: Segment) {
        self.tally.segments += 1;
        self.tally.chars += seg.text.chars().count() as u64;
        let first = self.tally.first_ms.get_or_insert(seg.start_ms);
        *first = (*first).min(seg.start_ms);
        self.tally.last_ms = self.tally.last_ms.max(seg.end_ms);
        self.stream.push(&seg);
    }

    /// Score every full window (and with `flush`, the last partial one); emit incidents no
    /// later window can touch (all of them with `flush`).
    fn advance(
        &mut self,
        scorer: &dyn WindowScorer,
        flush: bool,
    ) -> Result<Vec<Incident>, ModelError> {
        let WindowConfig { len, stride } = self.cfg.window;
        let total = self.stream.len();
        let mut wins = Vec::new();
        let mut ws = self.next_window;
        while ws + len <= total {
            wins.push((ws, ws + len));
            ws += stride;
        }
        let covered = wins.last().map_or(self.covered_to, |w| w.1);
        if flush && total > covered {
            wins.push((ws.max(self.stream.base()), total));
        }
        let texts: Vec<String> = wins.iter().map(|&(a, b)| self.stream.text(a, b)).collect();
        let idx: Vec<usize> = (0..wins.len())
            .filter(|&i| !texts[i].trim().is_empty())
            .collect();
        let refs: Vec<&str> = idx.iter().map(|&i| texts[i].as_str()).collect();
        let preds = if refs.is_empty() {
            Vec::new()
        } else {
            scorer.score_windows(&refs)?
        };
        for (&i, p) in idx.iter().zip(preds) {
            if !p.violation {
                continue;
            }
            let (wa, wb) = wins[i];
            let mut hit = Pending {
                stream_start: usize::MAX,
                stream_end: 0,
                labels: p.labels.iter().map(|l| (l.id.clone(), l.score)).collect(),
                verdict: p.verdict,
                score: p.score,
                evidence: Vec::new(),
            };
            let mut spans: Vec<(String, usize, usize)> = p
                .spans
                .iter()
                .filter(|s| s.char_end > s.char_start)
                .map(|s| {
                    (
                        s.label.clone(),
                        wa + s.char_start,
                        (wa + s.char_end).min(wb),
                    )
                })
                .collect();
            if spans.is_empty() {
                // A flag without evidence: the whole window is the evidence.
                for l in &p.labels {
                    spans.push((l.id.clone(), wa, wb));
                }
            }
            for (label, a, b) in spans {
                hit.stream_start = hit.stream_start.min(a);
                hit.stream_end = hit.stream_end.max(b);
                for piece in self.stream.evidence(&label, a, b) {
                    merge_evidence(&mut hit.evidence, piece);
                }
            }
            if hit.stream_start < hit.stream_end {
                self.add_hit(hit);
            }
        }
        self.next_window = ws;
        self.covered_to = if flush { total } else { covered };
        // Future windows start at `next_window` or later; a pending incident ending before it
        // cannot grow any more.
        let cut = if flush { usize::MAX } else { self.next_window };
        let (done, open): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.stream_end < cut);
        self.pending = open;
        let mut done = done;
        done.sort_by_key(|p| p.stream_start);
        let mut out = Vec::with_capacity(done.len());
        for p in done {
            let inc = p.finish(self.next_incident);
            self.next_incident += 1;
            self.tally.add_incident(&inc);
            self.incidents.push_back(inc.clone());
            while self.incidents.len() > self.cfg.max_incidents_kept {
                self.incidents.pop_front();
            }
            out.push(inc);
        }
        let keep_from = self.next_window.min(self.stream.len());
        self.stream.trim(keep_from);
        Ok(out)
    }

    /// Merge a hit with every open incident it overlaps or touches.
    fn add_hit(&mut self, mut hit: Pending) {
        let mut i = 0;
        while i < self.pending.len() {
            let p = &self.pending[i];
            if hit.stream_start <= p.stream_end && p.stream_start <= hit.stream_end {
                let p = self.pending.swap_remove(i);
                hit.absorb(p);
            } else {
                i += 1;
            }
        }
        self.pending.push(hit);
    }
}

/// Scan a whole transcript: push every segment, close, return incidents and the summary.
/// Segments are never cut (`cfg.max_segment_chars` is ignored).
pub fn scan(
    segments: Vec<Segment>,
    cfg: RoomConfig,
    scorer: &dyn WindowScorer,
) -> Result<(Vec<Incident>, Summary), ModelError> {
    let mut segments = segments;
    segments.sort_by_key(|s| s.seq);
    let mut room = RoomState::new(RoomConfig {
        // A whole transcript is all in memory anyway: no segment is cut.
        max_segment_chars: usize::MAX,
        reorder_max_seqs: usize::MAX,
        reorder_max_ms: u64::MAX,
        max_incidents_kept: usize::MAX,
        ..cfg
    });
    let mut incidents = room.push(segments, 0, scorer)?.incidents;
    incidents.extend(room.close(scorer)?);
    Ok((incidents, room.summary()))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::classifier::EvidenceSpan;
    use crate::transcript::window::pass_prediction;
    use crate::{LabelScore, Prediction, Verdict};

    /// Flags every occurrence of 摘镜 (label a) and 治愈 (label b), with a span on the word.
    #[derive(Default)]
    struct Keywords {
        calls: Cell<usize>,
        windows: Cell<usize>,
    }

    impl WindowScorer for Keywords {
        fn score_windows(&self, texts: &[&str]) -> Result<Vec<Prediction>, ModelError> {
            self.calls.set(self.calls.get() + 1);
            self.windows.set(self.windows.get() + texts.len());
            Ok(texts
                .iter()
                .map(|t| {
                    let chars: Vec<char> = t.chars().collect();
                    let mut p = pass_prediction("fake");
                    for (kw, label, score) in [("摘镜", "a", 0.9f32), ("治愈", "b", 0.7)] {
                        let k: Vec<char> = kw.chars().collect();
                        for i in 0..chars.len().saturating_sub(1) {
                            if chars[i..].starts_with(&k) {
                                p.spans.push(EvidenceSpan {
                                    label: label.into(),
                                    text: kw.into(),
                                    char_start: i,
                                    char_end: i + 2,
                                    utf16_start: 0,
                                    utf16_end: 0,
                                    byte_start: 0,
                                    byte_end: 0,
                                });
                                if !p.labels.iter().any(|l| l.id == label) {
                                    p.labels.push(LabelScore {
                                        id: label.into(),
                                        score,
                                        legal_basis: vec![],
                                    });
                                }
                                p.violation = true;
                                p.score = p.score.max(score);
                                p.verdict = if p.score > 0.8 {
                                    Verdict::Block
                                } else {
                                    Verdict::Review
                                };
                            }
                        }
                    }
                    p
                })
                .collect())
        }
    }

    fn seg(seq: u64, text: &str) -> Segment {
        Segment {
            seq,
            start_ms: seq * 1000,
            end_ms: seq * 1000 + 1000,
            text: text.into(),
            speaker: None,
        }
    }

    fn cfg() -> RoomConfig {
        RoomConfig {
            window: WindowConfig { len: 10, stride: 5 },
            reorder_max_seqs: 3,
            reorder_max_ms: 1000,
            ..RoomConfig::default()
        }
    }

    #[test]
    fn a_claim_split_across_segments_is_one_incident() {
        let segs = vec![
            seg(1, "家人们今天包邮"),
            seg(2, "这个眼镜戴三个月直接摘"),
            seg(3, "镜🎉，真的"),
            seg(4, "下单有优惠券，主播不骗人的哈哈哈哈"),
        ];
        let (incs, summary) = scan(segs, cfg(), &Keywords::default()).unwrap();
        assert_eq!(incs.len(), 1, "{incs:?}");
        let inc = &incs[0];
        assert_eq!(inc.id, "inc-1");
        assert_eq!(inc.labels[0].id, "a");
        assert_eq!(inc.verdict, Verdict::Block);
        assert_eq!(inc.evidence.len(), 2);
        let (e0, e1) = (&inc.evidence[0], &inc.evidence[1]);
        assert_eq!(
            (e0.seq, e0.char_start, e0.char_end, e0.text.as_str()),
            (2, 10, 11, "摘")
        );
        assert_eq!(
            (e1.seq, e1.char_start, e1.char_end, e1.text.as_str()),
            (3, 0, 1, "镜")
        );
        // seg 2: 11 chars over 2000..3000 ms; char 10 is at 2909 ms.
        assert_eq!(inc.start_ms, 2909);
        assert_eq!(inc.end_ms, 3000 + 1000 / 5);
        assert_eq!(summary.incidents, 1);
        assert_eq!(summary.incidents_per_label.get("a"), Some(&1));
        assert_eq!(summary.segments, 4);
        assert_eq!(summary.worst_minute.as_ref().map(|m| m.minute), Some(0));
    }

    #[test]
    fn overlapping_windows_and_adjacent_labels_merge() {
        // 治愈 right after 摘镜: one incident with two labels; a far one is separate.
        let text = "戴三个月直接摘镜治愈近视了然后我们来看看今天的价格一二三四五六七八九十治愈";
        let (incs, summary) = scan(vec![seg(1, text)], cfg(), &Keywords::default()).unwrap();
        assert_eq!(incs.len(), 2, "{incs:?}");
        assert_eq!(incs[0].labels.len(), 2);
        assert_eq!(incs[0].labels[0].id, "a");
        assert_eq!(incs[0].evidence.len(), 2);
        assert_eq!(incs[1].labels.len(), 1);
        assert_eq!(incs[1].labels[0].id, "b");
        assert_eq!(incs[1].id, "inc-2");
        assert_eq!(summary.incidents_per_label.get("b"), Some(&2));
    }

    #[test]
    fn live_pushes_match_offline_scan_and_emit_once_final() {
        let parts = [
            "家人们今天包邮",
            "这个眼镜戴三个月直接摘",
            "镜，真的",
            "下单有优惠券，主播不骗人的",
            "哈哈哈哈哈哈哈哈哈哈哈哈",
        ];
        let segs: Vec<Segment> = parts
            .iter()
            .enumerate()
            .map(|(i, t)| seg(i as u64 + 1, t))
            .collect();
        let k = Keywords::default();
        let (offline, _) = scan(segs.clone(), cfg(), &k).unwrap();
        let mut room = RoomState::new(cfg());
        let mut live = Vec::new();
        for (i, s) in segs.into_iter().enumerate() {
            let out = room.push(vec![s], i as u64 * 100, &k).unwrap();
            assert_eq!(out.accepted, 1);
            if i < 2 {
                assert!(out.incidents.is_empty(), "too early at {i}");
            }
            live.extend(out.incidents);
        }
        assert_eq!(live.len(), 1, "final before close");
        live.extend(room.close(&k).unwrap());
        assert_eq!(live, offline);
        // Only the tail the next window needs stays buffered.
        assert!(room.buffered_chars() <= 10);
    }

    #[test]
    fn reordering_duplicates_and_late_segments() {
        let k = Keywords::default();
        let mut room = RoomState::new(cfg());
        let o = room.push(vec![seg(1, "这个眼镜戴三")], 0, &k).unwrap();
        assert_eq!(o.accepted, 1);
        // 3 before 2: held.
        let o = room
            .push(vec![seg(3, "镜，真的下单有优惠券")], 10, &k)
            .unwrap();
        assert_eq!((o.accepted, room.held()), (1, 1));
        // 2 arrives, 1 re-sent, 3 re-sent: both duplicates.
        let o = room
            .push(
                vec![seg(2, "个月直接摘"), seg(1, "这个眼镜戴三"), seg(3, "x")],
                20,
                &k,
            )
            .unwrap();
        assert_eq!((o.accepted, o.duplicate, o.late), (1, 2, 0));
        assert_eq!(room.held(), 0);
        let mut incs = o.incidents;
        // 5 arrives, 4 is missing; after the reorder timeout the gap is given up.
        let o = room
            .push(vec![seg(5, "主播不骗人的哈哈哈哈哈")], 30, &k)
            .unwrap();
        assert_eq!(room.held(), 1);
        incs.extend(o.incidents);
        incs.extend(room.tick(2_000, &k).unwrap());
        assert_eq!(room.held(), 0);
        let o = room.push(vec![seg(4, "迟到的")], 2_100, &k).unwrap();
        assert_eq!((o.accepted, o.late), (0, 1));
        assert_eq!(room.ignored(), (2, 1));
        incs.extend(room.close(&k).unwrap());
        assert_eq!(incs.len(), 1);
        assert_eq!(incs[0].evidence[0].seq, 2);
        assert_eq!(incs[0].evidence[1].seq, 3);
        assert!(room.is_closed());
        let o = room.push(vec![seg(6, "摘镜")], 3_000, &k).unwrap();
        assert_eq!((o.accepted, o.late), (0, 1));
    }

    #[test]
    fn too_many_held_gives_up_the_gap() {
        let k = Keywords::default();
        let mut room = RoomState::new(cfg());
        room.push(vec![seg(1, "a")], 0, &k).unwrap();
        for s in 3..=6 {
            room.push(vec![seg(s, "b")], 0, &k).unwrap();
        }
        assert_eq!(room.held(), 0, "4 held > 3 allowed");
        assert_eq!(room.summary().segments, 5);
    }

    #[test]
    fn memory_stays_flat_over_a_long_room() {
        let k = Keywords::default();
        let mut room = RoomState::new(RoomConfig {
            max_incidents_kept: 5,
            ..cfg()
        });
        let mut n = 0;
        for s in 1..=2_000u64 {
            let t = if s % 7 == 0 {
                "直接摘镜了"
            } else {
                "今天包邮哦"
            };
            n += room
                .push(vec![seg(s, t)], s * 1000, &k)
                .unwrap()
                .incidents
                .len();
            assert!(room.buffered_chars() <= 20);
        }
        n += room.close(&k).unwrap().len();
        assert_eq!(n, 2_000 / 7);
        assert_eq!(room.incidents().count(), 5);
        let s = room.summary();
        assert_eq!(s.incidents, n as u64);
        assert_eq!(s.risk.len() as u64, 2_001_000 / 60_000 + 1);
        // Windows are batched per push, and every char is scored at most len/stride + 1 times.
        assert!(k.windows.get() <= 2 * 10_000 / 5 + 2);
    }

    #[test]
    fn scorer_errors_leave_the_room_retryable() {
        struct Failing(Cell<bool>);
        impl WindowScorer for Failing {
            fn score_windows(&self, t: &[&str]) -> Result<Vec<Prediction>, ModelError> {
                if self.0.replace(false) {
                    return Err(ModelError::Train("boom".into()));
                }
                Keywords::default().score_windows(t)
            }
        }
        let f = Failing(Cell::new(true));
        let mut room = RoomState::new(cfg());
        assert!(
            room.push(vec![seg(1, "这个眼镜戴三个月直接摘镜了吧哈哈")], 0, &f)
                .is_err()
        );
        let incs = room.close(&f).unwrap();
        assert_eq!(incs.len(), 1);
    }

    #[test]
    fn empty_and_whitespace_transcripts() {
        let k = Keywords::default();
        let (i, s) = scan(vec![], cfg(), &k).unwrap();
        assert!(i.is_empty() && s.risk.is_empty() && s.worst_minute.is_none());
        let (i, s) = scan(vec![seg(1, "   "), seg(2, "")], cfg(), &k).unwrap();
        assert!(i.is_empty());
        assert_eq!(s.segments, 2);
        assert_eq!(k.calls.get(), 0);
    }
}
