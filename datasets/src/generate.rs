//! The seeded augmenter behind `qingwang data generate`.
//!
//! It grows the hand-written core into a large training set from the fragment pools in
//! `datasets/templates/fragments.json` and from the *train* split of the hand-written data:
//! slot-filled seller-voice texts, claims quoted inside news / warning / complaint / doctor
//! frames (hard negatives carrying the same claim words), compliant and plain texts, evidence
//! recombined into new contexts, livestream noise (fillers, stutters, no punctuation, ASR slips)
//! and evasion rewrites. Every generated example is `source = generated`, `split = train`, and
//! anything near a dev or test example is discarded, so held-out phrasings never leak in.

use std::collections::{BTreeMap, HashSet};

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dedupe::{NearDupConfig, NearDupIndex, dedupe_key};
use crate::error::{DatasetError, Result};
use crate::example::{Channel, Example, Kind, Source, Span, Split};
use crate::lexicon::Lexicons;
use crate::perturb::{Evasion, Perturber};
use crate::taxonomy::Taxonomy;

const FRAGMENTS: &str = include_str!("../templates/fragments.json");

/// A seller-voice claim fragment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimFragment {
    /// The words.
    pub text: String,
    /// Every label the words express.
    pub labels: Vec<String>,
    /// Product categories it fits; empty = any.
    #[serde(default)]
    pub products: Vec<String>,
    /// Evasion kinds already in the words.
    #[serde(default)]
    pub evasion: Vec<String>,
}

/// A frame that quotes a claim in a non-claiming voice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoiceFrame {
    /// Text with a `{claim}` slot (and optionally `{product}`).
    pub text: String,
    /// news | regulator_warning | debunk | doctor_advice | complaint
    pub neg_type: String,
}

/// The fragment pools.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fragments {
    /// Channel → openers.
    pub openers: BTreeMap<String, Vec<String>>,
    /// Product category → product mentions.
    pub products: BTreeMap<String, Vec<String>>,
    /// Seller-voice claim fragments.
    pub claims: Vec<ClaimFragment>,
    /// Seller-voice frames with a `{claim}` slot.
    pub seller_frames: Vec<String>,
    /// Non-claiming frames with a `{claim}` slot.
    pub voice_frames: Vec<VoiceFrame>,
    /// Compliant denials with a `{claim}` slot.
    pub negation_frames: Vec<String>,
    /// Channel → claim-free chatter.
    pub chatter: BTreeMap<String, Vec<String>>,
    /// Product category → compliant sentences.
    pub compliant: BTreeMap<String, Vec<String>>,
    /// Channel → closers.
    pub closers: BTreeMap<String, Vec<String>>,
}

impl Fragments {
    /// The pools compiled into this build.
    pub fn builtin() -> Result<Self> {
        Self::from_json(FRAGMENTS)
    }

    /// Parse and check pools.
    pub fn from_json(text: &str) -> Result<Self> {
        let f: Fragments = serde_json::from_str(text).map_err(|source| DatasetError::Json {
            path: "templates/fragments.json".into(),
            source,
        })?;
        for c in Channel::ALL.map(Channel::as_str) {
            for (name, pool) in [
                ("openers", &f.openers),
                ("chatter", &f.chatter),
                ("closers", &f.closers),
            ] {
                if pool.get(c).is_none_or(Vec::is_empty) {
                    return Err(DatasetError::Generator(format!(
                        "{name} has nothing for channel {c}"
                    )));
                }
            }
        }
        for frame in f
            .seller_frames
            .iter()
            .chain(f.negation_frames.iter())
            .chain(f.voice_frames.iter().map(|v| &v.text))
        {
            if !frame.contains("{claim}") {
                return Err(DatasetError::Generator(format!(
                    "frame without {{claim}}: {frame}"
                )));
            }
        }
        if f.claims.is_empty() || f.voice_frames.is_empty() {
            return Err(DatasetError::Generator(
                "claims and voice_frames must not be empty".into(),
            ));
        }
        Ok(f)
    }
}

/// Generator settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateConfig {
    /// RNG seed.
    pub seed: u64,
    /// How many examples to produce.
    pub count: usize,
    /// Near-duplicate rule against dev and test.
    pub near: NearDupConfig,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self {
            seed: 20261122,
            count: 30_000,
            near: NearDupConfig::default(),
        }
    }
}

/// One piece of a composed text; `claim` marks the char range inside `text` that is evidence.
struct Piece {
    text: String,
    labels: Vec<String>,
    claim: Option<(usize, usize)>,
}

impl Piece {
    fn plain(text: &str) -> Self {
        Self {
            text: text.to_string(),
            labels: Vec::new(),
            claim: None,
        }
    }
}

const FILLERS: [&str; 10] = [
    "嗯",
    "那个",
    "就是说",
    "对吧",
    "啊",
    "然后呢",
    "你看",
    "是不是",
    "哎",
    "这个这个",
];
const POST_SEPS: [&str; 5] = ["，", "！", "。", " ", "～"];
const LIVE_SEPS: [&str; 4] = [" ", "", " ", "，"];

/// The generator: pools, lexicons and the hand-written material it may recombine.
pub struct Generator<'a> {
    frags: &'a Fragments,
    perturber: Perturber,
    tax: &'a Taxonomy,
    train_positives: Vec<&'a Example>,
    train_easy: Vec<&'a Example>,
    categories: Vec<String>,
    asr_slips: Vec<(String, String)>,
}

impl<'a> Generator<'a> {
    /// Set up from pools, lexicons, the taxonomy and the hand-written examples (only their
    /// train split is used as material).
    pub fn new(
        frags: &'a Fragments,
        lex: &Lexicons,
        tax: &'a Taxonomy,
        handwritten: &'a [Example],
    ) -> Self {
        let train: Vec<&Example> = handwritten
            .iter()
            .filter(|e| e.split == Split::Train && e.source != Source::Generated)
            .collect();
        Self {
            frags,
            perturber: Perturber::new(lex),
            tax,
            train_positives: train
                .iter()
                .copied()
                .filter(|e| e.is_positive() && !e.spans.is_empty())
                .collect(),
            train_easy: train
                .iter()
                .copied()
                .filter(|e| {
                    e.effective_kind() == Kind::EasyNegative && e.channel == Channel::Livestream
                })
                .collect(),
            categories: tax
                .product_ids()
                .filter(|p| frags.products.contains_key(*p))
                .map(String::from)
                .collect(),
            asr_slips: lex
                .variants_of("asr_slip")
                .map(|v| (v.canonical.clone(), v.variant.clone()))
                .collect(),
        }
    }

    fn pick<'s, T>(rng: &mut ChaCha8Rng, pool: &'s [T]) -> Option<&'s T> {
        pool.choose(rng)
    }

    fn channel(rng: &mut ChaCha8Rng) -> Channel {
        match rng.random_range(0..100) {
            0..50 => Channel::Livestream,
            50..72 => Channel::Post,
            72..86 => Channel::Comment,
            _ => Channel::Title,
        }
    }

    fn pool(&self, map: &'a BTreeMap<String, Vec<String>>, key: &str) -> &'a [String] {
        map.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    fn chatter(&self, rng: &mut ChaCha8Rng, ch: Channel) -> Piece {
        let mut text = Self::pick(rng, self.pool(&self.frags.chatter, ch.as_str()))
            .cloned()
            .unwrap_or_default();
        // ASR slips in livestream chatter: the engine mishears ordinary words too.
        if ch == Channel::Livestream && rng.random_bool(0.15) {
            if let Some((canon, slip)) = self
                .asr_slips
                .iter()
                .find(|(c, _)| text.contains(c.as_str()))
            {
                text = text.replacen(canon.as_str(), slip, 1);
            }
        }
        Piece::plain(&text)
    }

    fn claims_for(&self, category: &str) -> Vec<&'a ClaimFragment> {
        self.frags
            .claims
            .iter()
            .filter(|c| c.products.is_empty() || c.products.iter().any(|p| p == category))
            .collect()
    }

    /// Possibly rewrite claim words with an evasion; returns the words and the evasion used.
    fn evade(&self, rng: &mut ChaCha8Rng, text: &str, p: f64) -> (String, Option<Evasion>) {
        if rng.random_bool(p) {
            let kind = *Evasion::ALL.choose(rng).unwrap_or(&Evasion::Spacing);
            if let Some(t) = self.perturber.rewrite(kind, text, rng) {
                return (t, Some(kind));
            }
        }
        (text.to_string(), None)
    }

    fn claim_piece(
        &self,
        rng: &mut ChaCha8Rng,
        words: &str,
        labels: &[String],
        evasion: &mut Vec<String>,
    ) -> Piece {
        let (words, ev) = self.evade(rng, words, 0.2);
        if let Some(e) = ev {
            evasion.push(e.as_str().to_string());
        }
        let frame = if rng.random_bool(0.35) {
            Self::pick(rng, &self.frags.seller_frames).cloned()
        } else {
            None
        };
        match frame.and_then(|f| {
            f.split_once("{claim}")
                .map(|(a, b)| (a.to_string(), b.to_string()))
        }) {
            Some((before, after)) => {
                let s = before.chars().count();
                let e = s + words.chars().count();
                Piece {
                    text: format!("{before}{words}{after}"),
                    labels: labels.to_vec(),
                    claim: Some((s, e)),
                }
            }
            None => {
                let n = words.chars().count();
                Piece {
                    text: words,
                    labels: labels.to_vec(),
                    claim: Some((0, n)),
                }
            }
        }
    }

    /// Join pieces with channel-typical separators and noise; returns text and spans.
    fn join(&self, rng: &mut ChaCha8Rng, ch: Channel, pieces: Vec<Piece>) -> (String, Vec<Span>) {
        let mut text = String::new();
        let mut len = 0usize;
        let mut spans = Vec::new();
        for (i, p) in pieces.into_iter().enumerate() {
            if p.text.is_empty() {
                continue;
            }
            if i > 0 && !text.is_empty() {
                let sep = match ch {
                    Channel::Livestream => {
                        if rng.random_bool(0.25) {
                            format!(" {} ", Self::pick(rng, &FILLERS).copied().unwrap_or("嗯"))
                        } else {
                            Self::pick(rng, &LIVE_SEPS)
                                .copied()
                                .unwrap_or(" ")
                                .to_string()
                        }
                    }
                    Channel::Post | Channel::Comment => Self::pick(rng, &POST_SEPS)
                        .copied()
                        .unwrap_or("，")
                        .to_string(),
                    Channel::Title => " ".to_string(),
                };
                len += sep.chars().count();
                text.push_str(&sep);
            }
            // Livestream stutter on a non-claim piece: the host repeats the first words.
            let body = if ch == Channel::Livestream && p.claim.is_none() && rng.random_bool(0.1) {
                let head: String = p.text.chars().take(2).collect();
                format!(
                    "{head} {head}{}",
                    p.text.chars().skip(2).collect::<String>()
                )
            } else {
                p.text
            };
            if let Some((s, e)) = p.claim {
                let chars: Vec<char> = body.chars().collect();
                let quote: String = chars[s..e].iter().collect();
                for l in &p.labels {
                    spans.push(Span {
                        label: l.clone(),
                        char_start: len + s,
                        char_end: len + e,
                        text: quote.clone(),
                    });
                }
            }
            len += body.chars().count();
            text.push_str(&body);
        }
        if ch == Channel::Livestream && rng.random_bool(0.6) {
            // ASR output without punctuation: commas and full stops outside the evidence become
            // spaces (one char for one char, so spans stay put).
            let inside = |i: usize| spans.iter().any(|s| s.char_start <= i && i < s.char_end);
            text = text
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if matches!(c, '，' | '。' | '！' | ',' | '.') && !inside(i) {
                        ' '
                    } else {
                        c
                    }
                })
                .collect();
        }
        (text, spans)
    }

    fn product_piece(&self, rng: &mut ChaCha8Rng, category: &str) -> Piece {
        Piece::plain(
            Self::pick(rng, self.pool(&self.frags.products, category))
                .map(String::as_str)
                .unwrap_or(""),
        )
    }

    fn opener(&self, rng: &mut ChaCha8Rng, ch: Channel) -> Piece {
        Piece::plain(
            Self::pick(rng, self.pool(&self.frags.openers, ch.as_str()))
                .map(String::as_str)
                .unwrap_or(""),
        )
    }

    fn closer(&self, rng: &mut ChaCha8Rng, ch: Channel) -> Piece {
        Piece::plain(
            Self::pick(rng, self.pool(&self.frags.closers, ch.as_str()))
                .map(String::as_str)
                .unwrap_or(""),
        )
    }

    /// One example from a randomly chosen recipe; `None` when the recipe found no material.
    fn one(&self, rng: &mut ChaCha8Rng) -> Option<(Example, &'static str)> {
        let ch = Self::channel(rng);
        let category = Self::pick(rng, &self.categories)?.clone();
        let mut evasion = Vec::new();
        let roll = rng.random_range(0..100);
        let (recipe, pieces, kind, neg_type, product): (
            &'static str,
            Vec<Piece>,
            Kind,
            Option<String>,
            Option<String>,
        ) = match roll {
            // Seller voice from fragments.
            0..36 => {
                let claims = self.claims_for(&category);
                let mut pieces = vec![self.opener(rng, ch), self.product_piece(rng, &category)];
                for _ in 0..rng.random_range(0..3) {
                    pieces.push(self.chatter(rng, ch));
                }
                let n_claims = if rng.random_bool(0.3) { 2 } else { 1 };
                for _ in 0..n_claims {
                    let c = Self::pick(rng, &claims)?;
                    evasion.extend(c.evasion.iter().cloned());
                    let piece = self.claim_piece(rng, &c.text, &c.labels, &mut evasion);
                    let at = rng.random_range(1..=pieces.len());
                    pieces.insert(at, piece);
                }
                if rng.random_bool(0.5) {
                    pieces.push(self.chatter(rng, ch));
                }
                pieces.push(self.closer(rng, ch));
                (
                    "pos_template",
                    pieces,
                    Kind::Positive,
                    None,
                    Some(category.clone()),
                )
            }
            // Hand-written train evidence recombined into a new context.
            36..46 => {
                let src = Self::pick(rng, &self.train_positives)?;
                let mut pieces = vec![
                    self.opener(rng, src.channel),
                    self.chatter(rng, src.channel),
                ];
                let mut ranges: Vec<(usize, usize)> = src
                    .spans
                    .iter()
                    .map(|s| (s.char_start, s.char_end))
                    .collect();
                ranges.sort_unstable();
                ranges.dedup();
                for (s, e) in ranges.into_iter().take(2) {
                    let words: String = src.text.chars().skip(s).take(e - s).collect();
                    let labels: Vec<String> = src
                        .spans
                        .iter()
                        .filter(|sp| (sp.char_start, sp.char_end) == (s, e))
                        .map(|sp| sp.label.clone())
                        .collect();
                    let piece = self.claim_piece(rng, &words, &labels, &mut evasion);
                    pieces.push(piece);
                    pieces.push(self.chatter(rng, src.channel));
                }
                evasion.extend(src.evasion.iter().cloned());
                let out = self.join(rng, src.channel, pieces);
                return Some((
                    self.finish(
                        out,
                        src.channel,
                        Kind::Positive,
                        None,
                        src.product.clone(),
                        evasion,
                    ),
                    "pos_recombine",
                ));
            }
            // A hand-written train positive followed by a plain livestream segment.
            46..50 => {
                let a = Self::pick(rng, &self.train_positives)?;
                let b = Self::pick(rng, &self.train_easy)?;
                let (first, second) = if rng.random_bool(0.5) { (a, b) } else { (b, a) };
                let text = format!("{} {}", first.text, second.text);
                let offset = if first.id == a.id {
                    0
                } else {
                    b.text.chars().count() + 1
                };
                let spans = a
                    .spans
                    .iter()
                    .map(|s| Span {
                        char_start: s.char_start + offset,
                        char_end: s.char_end + offset,
                        ..s.clone()
                    })
                    .collect();
                let ex = self.finish(
                    (text, spans),
                    a.channel,
                    Kind::Positive,
                    None,
                    a.product.clone(),
                    a.evasion.clone(),
                );
                return Some((ex, "pos_concat"));
            }
            // A claim quoted by news, a regulator, a doctor, a complainer or a debunker.
            50..72 => {
                let frame = Self::pick(rng, &self.frags.voice_frames)?;
                let words = if rng.random_bool(0.3) {
                    let src = Self::pick(rng, &self.train_positives)?;
                    let sp = Self::pick(rng, &src.spans)?;
                    sp.text.clone()
                } else {
                    Self::pick(rng, &self.claims_for(&category))?.text.clone()
                };
                let (words, ev) = self.evade(rng, &words, 0.15);
                evasion.extend(ev.map(|e| e.as_str().to_string()));
                let product_name = self.product_piece(rng, &category).text;
                let body = frame
                    .text
                    .replace("{claim}", &words)
                    .replace("{product}", &product_name);
                let mut pieces = vec![Piece::plain(&body)];
                if ch == Channel::Comment && rng.random_bool(0.3) {
                    pieces.push(self.chatter(rng, ch));
                }
                let ch = if ch == Channel::Title {
                    Channel::Post
                } else {
                    ch
                };
                let out = self.join(rng, ch, pieces);
                return Some((
                    self.finish(
                        out,
                        ch,
                        Kind::HardNegative,
                        Some(frame.neg_type.clone()),
                        Some(category),
                        evasion,
                    ),
                    "neg_voice",
                ));
            }
            // The seller denies making the claim.
            72..77 => {
                let frame = Self::pick(rng, &self.frags.negation_frames)?;
                let claims = self.claims_for(&category);
                let c = Self::pick(rng, &claims)?;
                let body = frame.replace("{claim}", &c.text);
                let pieces = vec![
                    self.opener(rng, ch),
                    self.product_piece(rng, &category),
                    Piece::plain(&body),
                    self.chatter(rng, ch),
                ];
                (
                    "neg_negation",
                    pieces,
                    Kind::HardNegative,
                    Some("negation".to_string()),
                    Some(category.clone()),
                )
            }
            // Compliant copy with registration numbers and the mandatory warning line.
            77..87 => {
                let compliant = self.pool(&self.frags.compliant, &category);
                let mut pieces = vec![self.opener(rng, ch), self.product_piece(rng, &category)];
                for _ in 0..rng.random_range(1..3) {
                    pieces.push(Piece::plain(Self::pick(rng, compliant)?));
                }
                pieces.push(self.chatter(rng, ch));
                (
                    "neg_compliant",
                    pieces,
                    Kind::HardNegative,
                    Some("compliant_ad".to_string()),
                    Some(category.clone()),
                )
            }
            // Plain talk: prices, logistics, chatter.
            _ => {
                let mut pieces = vec![self.opener(rng, ch), self.product_piece(rng, &category)];
                for _ in 0..rng.random_range(1..4) {
                    pieces.push(self.chatter(rng, ch));
                }
                pieces.push(self.closer(rng, ch));
                (
                    "neg_easy",
                    pieces,
                    Kind::EasyNegative,
                    Some("price_logistics".to_string()),
                    Some(category.clone()),
                )
            }
        };
        let out = self.join(rng, ch, pieces);
        Some((
            self.finish(out, ch, kind, neg_type, product, evasion),
            recipe,
        ))
    }

    fn finish(
        &self,
        (text, spans): (String, Vec<Span>),
        channel: Channel,
        kind: Kind,
        neg_type: Option<String>,
        product: Option<String>,
        mut evasion: Vec<String>,
    ) -> Example {
        let mut labels: Vec<String> = Vec::new();
        for s in &spans {
            if !labels.contains(&s.label) {
                labels.push(s.label.clone());
            }
        }
        // Keep label order as in the taxonomy, so equal examples serialise equally.
        labels.sort_by_key(|l| self.tax.label_index(l).unwrap_or(usize::MAX));
        evasion.sort();
        evasion.dedup();
        evasion.retain(|e| self.tax.evasion_kinds.contains(e));
        let kind = if labels.is_empty() && kind == Kind::Positive {
            Kind::EasyNegative
        } else {
            kind
        };
        // Trim surrounding whitespace and move the spans with it.
        let lead = text.chars().take_while(|c| c.is_whitespace()).count();
        let spans: Vec<Span> = spans
            .into_iter()
            .map(|s| Span {
                char_start: s.char_start - lead.min(s.char_start),
                char_end: s.char_end - lead.min(s.char_start),
                ..s
            })
            .collect();
        Example {
            id: String::new(),
            text: text.trim().to_string(),
            channel,
            labels,
            product,
            spans,
            source: Source::Generated,
            family: String::new(),
            split: Split::Train,
            kind: Some(kind),
            neg_type: if kind == Kind::Positive {
                None
            } else {
                neg_type
            },
            evasion,
        }
    }

    /// Produce `cfg.count` examples, none of them near a dev or test example in `held_out`.
    pub fn generate(&self, cfg: GenerateConfig, held_out: &[Example]) -> Result<Vec<Example>> {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut idx = NearDupIndex::new();
        for ex in held_out.iter().filter(|e| e.split != Split::Train) {
            idx.add(&ex.text);
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(cfg.count);
        let mut attempts = 0usize;
        while out.len() < cfg.count {
            attempts += 1;
            if attempts > cfg.count * 20 + 1000 {
                return Err(DatasetError::Generator(format!(
                    "only {} distinct examples after {attempts} attempts; the pools are too small",
                    out.len()
                )));
            }
            let Some((mut ex, recipe)) = self.one(&mut rng) else {
                continue;
            };
            if ex.text.is_empty() || !spans_ok(&ex) {
                continue;
            }
            if !seen.insert(dedupe_key(&ex.text)) || idx.query(&ex.text, cfg.near).is_some() {
                continue;
            }
            ex.id = format!("gen-{:06}", out.len() + 1);
            ex.family = format!("gen-{recipe}");
            out.push(ex);
        }
        Ok(out)
    }
}

fn spans_ok(ex: &Example) -> bool {
    let chars: Vec<char> = ex.text.chars().collect();
    ex.spans.iter().all(|s| {
        s.char_end <= chars.len()
            && s.char_start < s.char_end
            && chars[s.char_start..s.char_end].iter().collect::<String>() == s.text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_fragments_parse() {
        let f = Fragments::builtin().unwrap();
        assert!(!f.claims.is_empty());
        let tax = Taxonomy::builtin();
        for c in &f.claims {
            for l in &c.labels {
                assert!(
                    tax.label_index(l).is_some(),
                    "unknown label {l} in fragment {}",
                    c.text
                );
            }
        }
    }

    #[test]
    fn frame_without_slot_is_rejected() {
        let mut v: serde_json::Value = serde_json::from_str(FRAGMENTS).unwrap();
        v["seller_frames"] = serde_json::json!(["没有槽位"]);
        let err = Fragments::from_json(&v.to_string()).unwrap_err();
        assert!(err.to_string().contains("frame without"), "{err}");
    }
}
