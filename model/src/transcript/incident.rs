//! Incidents on the timeline (hits merged), and the room summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Verdict;

/// One quote supporting a label, inside one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The label it supports.
    pub label: String,
    /// The exact words, as the segment has them.
    pub text: String,
    /// The segment.
    pub seq: u64,
    /// Char offset in the segment's text.
    pub char_start: usize,
    /// Exclusive.
    pub char_end: usize,
    /// Interpolated time of `char_start`.
    pub start_ms: u64,
    /// Interpolated time of `char_end`.
    pub end_ms: u64,
}

/// A label of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentLabel {
    /// Label id.
    pub id: String,
    /// Best window's probability.
    pub score: f32,
}

/// One claim (or run of claims) on the timeline, seen once however many windows saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `inc-N`, numbered per room from 1.
    pub id: String,
    /// Start of the first evidence.
    pub start_ms: u64,
    /// End of the last evidence.
    pub end_ms: u64,
    /// Labels, best first.
    pub labels: Vec<IncidentLabel>,
    /// The worst window verdict.
    pub verdict: Verdict,
    /// The best label score.
    pub score: f32,
    /// Quotes, in stream order.
    pub evidence: Vec<Evidence>,
}

/// An incident still open: later windows may extend it. Offsets are stream chars.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub stream_start: usize,
    pub stream_end: usize,
    pub labels: BTreeMap<String, f32>,
    pub verdict: Verdict,
    pub score: f32,
    /// With stream offsets of each piece, for merging.
    pub evidence: Vec<(usize, usize, Evidence)>,
}

fn verdict_rank(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Review => 1,
        Verdict::Block => 2,
    }
}

impl Pending {
    /// Absorb another hit that overlaps or touches this one.
    pub fn absorb(&mut self, o: Pending) {
        self.stream_start = self.stream_start.min(o.stream_start);
        self.stream_end = self.stream_end.max(o.stream_end);
        for (l, s) in o.labels {
            let e = self.labels.entry(l).or_insert(s);
            *e = e.max(s);
        }
        if verdict_rank(o.verdict) > verdict_rank(self.verdict) {
            self.verdict = o.verdict;
        }
        self.score = self.score.max(o.score);
        for piece in o.evidence {
            merge_evidence(&mut self.evidence, piece);
        }
    }

    /// Close it.
    pub fn finish(self, id: u64) -> Incident {
        let mut labels: Vec<IncidentLabel> = self
            .labels
            .into_iter()
            .map(|(id, score)| IncidentLabel { id, score })
            .collect();
        labels.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut ev = self.evidence;
        ev.sort_by(|a, b| (a.0, &a.2.label).cmp(&(b.0, &b.2.label)));
        let evidence: Vec<Evidence> = ev.into_iter().map(|e| e.2).collect();
        Incident {
            id: format!("inc-{id}"),
            start_ms: evidence.iter().map(|e| e.start_ms).min().unwrap_or(0),
            end_ms: evidence.iter().map(|e| e.end_ms).max().unwrap_or(0),
            labels,
            verdict: self.verdict,
            score: self.score,
            evidence,
        }
    }
}

/// Add a piece; pieces of the same label and segment that overlap or touch become one.
pub(crate) fn merge_evidence(
    list: &mut Vec<(usize, usize, Evidence)>,
    p: (usize, usize, Evidence),
) {
    let hit = list
        .iter_mut()
        .find(|(a, b, e)| e.label == p.2.label && e.seq == p.2.seq && p.0 <= *b && *a <= p.1);
    let Some(q) = hit else {
        list.push(p);
        return;
    };
    // Union of two char ranges of the same segment text.
    let (lo, hi) = if q.0 <= p.0 {
        (q.clone(), p)
    } else {
        (p, q.clone())
    };
    let mut text = lo.2.text.clone();
    if hi.1 > lo.1 {
        text.extend(hi.2.text.chars().skip(lo.1 - hi.0));
    }
    let e = Evidence {
        label: lo.2.label.clone(),
        text,
        seq: lo.2.seq,
        char_start: lo.2.char_start,
        char_end: lo.2.char_end.max(hi.2.char_end),
        start_ms: lo.2.start_ms,
        end_ms: lo.2.end_ms.max(hi.2.end_ms),
    };
    *q = (lo.0, lo.1.max(hi.1), e);
}

/// Risk in one minute of the stream: the best incident score touching it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinuteRisk {
    /// Minute index from the stream start (0 = 00:00–00:59).
    pub minute: u64,
    /// Best incident score in that minute (0 when none).
    pub risk: f32,
    /// Incidents touching that minute.
    pub incidents: usize,
}

/// A room's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Segments accepted.
    pub segments: u64,
    /// Chars of text accepted.
    pub chars: u64,
    /// From the first segment's start to the last segment's end.
    pub duration_ms: u64,
    /// Incidents emitted.
    pub incidents: u64,
    /// Incidents per label id.
    pub incidents_per_label: BTreeMap<String, u64>,
    /// Risk per minute, for every minute from the first to the last segment.
    pub risk: Vec<MinuteRisk>,
    /// The minute with the highest risk (earliest on ties), when any incident exists.
    pub worst_minute: Option<MinuteRisk>,
}

/// Running totals behind a [`Summary`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub segments: u64,
    pub chars: u64,
    pub first_ms: Option<u64>,
    pub last_ms: u64,
    pub incidents: u64,
    pub per_label: BTreeMap<String, u64>,
    pub minutes: BTreeMap<u64, (f32, usize)>,
}

impl Tally {
    pub fn add_incident(&mut self, inc: &Incident) {
        self.incidents += 1;
        for l in &inc.labels {
            *self.per_label.entry(l.id.clone()).or_default() += 1;
        }
        for m in inc.start_ms / 60_000..=inc.end_ms / 60_000 {
            let e = self.minutes.entry(m).or_insert((0.0, 0));
            e.0 = e.0.max(inc.score);
            e.1 += 1;
        }
    }

    pub fn summary(&self) -> Summary {
        let first = self.first_ms.unwrap_or(0);
        let mut risk = Vec::new();
        if self.segments > 0 {
            let last_min =
                (self.last_ms / 60_000).max(self.minutes.keys().last().copied().unwrap_or(0));
            for m in first / 60_000..=last_min {
                let (r, n) = self.minutes.get(&m).copied().unwrap_or((0.0, 0));
                risk.push(MinuteRisk {
                    minute: m,
                    risk: r,
                    incidents: n,
                });
            }
        }
        let worst_minute = risk
            .iter()
            .filter(|m| m.incidents > 0)
            .fold(None::<&MinuteRisk>, |best, m| match best {
                Some(b) if b.risk >= m.risk => Some(b),
                _ => Some(m),
            })
            .cloned();
        Summary {
            segments: self.segments,
            chars: self.chars,
            duration_ms: self.last_ms.saturating_sub(first),
            incidents: self.incidents,
            incidents_per_label: self.per_label.clone(),
            risk,
            worst_minute,
        }
    }
}
