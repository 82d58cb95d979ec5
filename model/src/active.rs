//! Choosing what analysts should label next (`qingwang data sample`): pure functions over
//! per-text scores, so every strategy is testable without a bundle.
//!
//! - [`Strategy::Uncertainty`]: the texts whose model probabilities sit closest to their
//!   thresholds (smallest margin `min over labels |p - threshold|`), least sure first.
//! - [`Strategy::Disagreement`]: the texts on which the network, the linear baseline and the
//!   keyword matcher disagree; most labels in dispute first, then the largest gap between the
//!   network's and the linear model's probabilities.
//! - [`Strategy::Diversity`]: unseen phrasings. Texts are sets of character 2–3-grams of their
//!   dedupe key; distance is `1 - Jaccard`. Greedy farthest-point (k-centre) selection, where a
//!   text's distance starts as its distance to the nearest dataset text, so texts far from
//!   what is already labelled come first. Ties (and the first pick without a dataset) follow a
//!   seeded shuffle.
//! - [`Strategy::Mixed`]: 40 % uncertainty, 30 % disagreement, the rest diversity (rounded
//!   down, remainder to diversity), each part skipping what an earlier part took.
//!
//! [`fresh`] drops pool texts that duplicate the dataset or an earlier pool text, with the
//! datasets crate's notion of a duplicate (the [`dedupe_key`] of `data dedupe`, and its
//! near-duplicate index).

use std::collections::{HashMap, HashSet};

use qingwang_datasets::dedupe::{NearDupConfig, NearDupIndex, dedupe_key};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::decision::gated_flags;

/// How to choose texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Closest to the thresholds.
    Uncertainty,
    /// Where the systems disagree.
    Disagreement,
    /// Far from the dataset and from each other.
    Diversity,
    /// A fixed split of the three.
    Mixed,
}

impl Strategy {
    /// The id used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Uncertainty => "uncertainty",
            Strategy::Disagreement => "disagreement",
            Strategy::Diversity => "diversity",
            Strategy::Mixed => "mixed",
        }
    }
}

/// The label set the scores refer to, and each system's thresholds (same order).
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    /// Label ids.
    pub labels: Vec<String>,
    /// The network's thresholds.
    pub model_thresholds: Vec<f32>,
    /// The network's violation gate, when its bundle has one ([`crate::decision::gated_flags`]).
    pub model_gate: Option<f32>,
    /// The linear baseline's thresholds.
    pub linear_thresholds: Vec<f32>,
}

/// What the three systems said about one text (per label, [`Scorecard`] order).
#[derive(Debug, Clone, PartialEq)]
pub struct TextScores {
    /// The network's probabilities.
    pub model: Vec<f32>,
    /// The linear baseline's probabilities.
    pub linear: Vec<f32>,
    /// The keyword matcher's flags.
    pub keyword: Vec<bool>,
}

/// One chosen text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pick {
    /// Index into the candidate texts.
    pub index: usize,
    /// The strategy that chose it (never `mixed`).
    pub strategy: Strategy,
    /// Why: the margins, disagreements or distance behind the choice.
    pub reason: Value,
}

/// Share of `n` each part of [`Strategy::Mixed`] gets: (uncertainty, disagreement, diversity).
pub fn mixed_split(n: usize) -> (usize, usize, usize) {
    let u = n * 4 / 10;
    let d = n * 3 / 10;
    (u, d, n - u - d)
}

fn round3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

/// The smallest distance of a probability from the bound that decides it — each label's
/// threshold, and with a gate the top probability's distance from the gate — as (distance,
/// label, bound, whether the bound is the gate); `None` when there are no labels.
fn margin(card: &Scorecard, s: &TextScores) -> Option<(f32, usize, f32, bool)> {
    let labels = s
        .model
        .iter()
        .zip(&card.model_thresholds)
        .enumerate()
        .map(|(i, (p, t))| ((p - t).abs(), i, *t, false));
    let gate = card.model_gate.and_then(|g| {
        s.model
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(i, p)| ((p - g).abs(), i, g, true))
    });
    labels
        .chain(gate)
        .filter(|(m, ..)| !m.is_nan())
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.3.cmp(&b.3)))
}

/// Up to `n` texts, least sure first (smallest margin to a threshold or the gate; ties by index),
/// skipping `taken`.
pub fn uncertainty(
    card: &Scorecard,
    scores: &[TextScores],
    n: usize,
    taken: &HashSet<usize>,
) -> Vec<Pick> {
    let mut ranked: Vec<(f32, usize, usize, f32, bool)> = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| !taken.contains(i))
        .filter_map(|(i, s)| margin(card, s).map(|(m, l, t, g)| (m, i, l, t, g)))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    ranked
        .into_iter()
        .take(n)
        .map(|(m, i, l, t, g)| Pick {
            index: i,
            strategy: Strategy::Uncertainty,
            reason: json!({
                "margin": round3(m),
                "label": card.labels.get(l),
                "p": scores[i].model.get(l).copied().map(round3),
                "threshold": round3(t),
                "bound": if g { "gate" } else { "label_threshold" },
            }),
        })
        .collect()
}

/// How much the systems disagree on one text: (labels in dispute, largest network–linear
/// probability gap, the disputed label ids).
fn dispute(card: &Scorecard, s: &TextScores) -> (usize, f32, Vec<String>) {
    let model_flags = gated_flags(&s.model, &card.model_thresholds, card.model_gate);
    let mut disputed = Vec::new();
    let mut gap = 0f32;
    for (i, id) in card.labels.iter().enumerate() {
        let (Some(&pm), Some(&pl), Some(&kw)) = (s.model.get(i), s.linear.get(i), s.keyword.get(i))
        else {
            continue;
        };
        let (Some(&tm), Some(&tl)) = (card.model_thresholds.get(i), card.linear_thresholds.get(i))
        else {
            continue;
        };
        let (fm, fl) = (model_flags.get(i).copied().unwrap_or(pm >= tm), pl >= tl);
        if !(fm == fl && fl == kw) {
            disputed.push(id.clone());
        }
        let g = (pm - pl).abs();
        if g > gap {
            gap = g;
        }
    }
    (disputed.len(), gap, disputed)
}

fn violation(mut flags: impl Iterator<Item = bool>) -> bool {
    flags.any(|f| f)
}

/// Up to `n` texts, most disputed first (labels on which network, linear baseline and keyword
/// matcher do not all agree; then the largest network–linear probability gap; ties by index),
/// skipping `taken`.
pub fn disagreement(
    card: &Scorecard,
    scores: &[TextScores],
    n: usize,
    taken: &HashSet<usize>,
) -> Vec<Pick> {
    let mut ranked: Vec<(usize, f32, usize, Vec<String>)> = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| !taken.contains(i))
        .map(|(i, s)| {
            let (k, gap, ids) = dispute(card, s);
            (k, gap, i, ids)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    ranked
        .into_iter()
        .take(n)
        .map(|(k, gap, i, ids)| {
            let s = &scores[i];
            Pick {
                index: i,
                strategy: Strategy::Disagreement,
                reason: json!({
                    "disputed_labels": ids,
                    "disputed": k,
                    "gap": round3(gap),
                    "model_violation": violation(
                        gated_flags(&s.model, &card.model_thresholds, card.model_gate).into_iter()),
                    "linear_violation": violation(
                        s.linear.iter().zip(&card.linear_thresholds).map(|(p, t)| p >= t)),
                    "keyword_violation": violation(s.keyword.iter().copied()),
                }),
            }
        })
        .collect()
}

/// Sorted, deduplicated hashes of the character 2- and 3-grams of a text's dedupe key (a
/// single-char key gives its one char).
pub fn ngrams(text: &str) -> Vec<u64> {
    let chars: Vec<char> = dedupe_key(text).chars().collect();
    let mut out = Vec::new();
    if chars.len() == 1 {
        out.push(hash(&chars));
    }
    for n in [2, 3] {
        out.extend(chars.windows(n).map(hash));
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn hash(chars: &[char]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &c in chars {
        for b in (c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h ^ chars.len() as u64
}

/// Jaccard similarity of two sorted sets (0 when both are empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f32 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f32 / union as f32
    }
}

/// An inverted index over the n-gram sets of the labelled texts, answering "how close is the
/// nearest one".
#[derive(Debug, Default)]
pub struct NgramIndex {
    sizes: Vec<u32>,
    postings: HashMap<u64, Vec<u32>>,
}

impl NgramIndex {
    /// Index these texts.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut idx = Self::default();
        for t in texts {
            let id = idx.sizes.len() as u32;
            let g = ngrams(t);
            idx.sizes.push(g.len() as u32);
            for h in g {
                idx.postings.entry(h).or_default().push(id);
            }
        }
        idx
    }

    /// Number of texts indexed.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// The highest Jaccard similarity between `grams` (from [`ngrams`]) and an indexed text.
    pub fn nearest(&self, grams: &[u64]) -> f32 {
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for h in grams {
            for &id in self.postings.get(h).into_iter().flatten() {
                *shared.entry(id).or_default() += 1;
            }
        }
        shared
            .into_iter()
            .map(|(id, both)| {
                let size = self.sizes.get(id as usize).copied().unwrap_or(0);
                let union = grams.len() as u32 + size - both;
                if union == 0 {
                    0.0
                } else {
                    both as f32 / union as f32
                }
            })
            .fold(0.0, f32::max)
    }
}

/// Up to `n` texts by greedy farthest-point selection (see the module docs), skipping `taken`
/// (which count as already chosen centres). `seed` orders ties.
pub fn diversity(
    texts: &[&str],
    labelled: &NgramIndex,
    n: usize,
    taken: &HashSet<usize>,
    seed: u64,
) -> Vec<Pick> {
    let grams: Vec<Vec<u64>> = texts.iter().map(|t| ngrams(t)).collect();
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut rank = vec![0usize; texts.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    // Distance to the nearest labelled text or chosen centre.
    let mut dist: Vec<f32> = grams
        .iter()
        .map(|g| {
            if labelled.is_empty() {
                1.0
            } else {
                1.0 - labelled.nearest(g)
            }
        })
        .collect();
    let from_dataset = dist.clone();
    let mut chosen: Vec<bool> = vec![false; texts.len()];
    for &t in taken {
        if t < texts.len() {
            chosen[t] = true;
            let g = &grams[t];
            for (d, h) in dist.iter_mut().zip(&grams) {
                *d = d.min(1.0 - jaccard(g, h));
            }
        }
    }
    let mut out = Vec::new();
    while out.len() < n {
        let best = (0..texts.len())
            .filter(|&i| !chosen[i])
            .max_by(|&a, &b| dist[a].total_cmp(&dist[b]).then(rank[b].cmp(&rank[a])));
        let Some(c) = best else { break };
        chosen[c] = true;
        out.push(Pick {
            index: c,
            strategy: Strategy::Diversity,
            reason: json!({
                "distance": round3(dist[c]),
                "distance_to_dataset": round3(from_dataset[c]),
            }),
        });
        let g = &grams[c];
        for (d, h) in dist.iter_mut().zip(&grams) {
            *d = d.min(1.0 - jaccard(g, h));
        }
    }
    out
}

/// Choose up to `n` of `texts` with `strategy`; no text twice.
pub fn sample(
    strategy: Strategy,
    card: &Scorecard,
    texts: &[&str],
    scores: &[TextScores],
    labelled: &NgramIndex,
    n: usize,
    seed: u64,
) -> Vec<Pick> {
    let none = HashSet::new();
    match strategy {
        Strategy::Uncertainty => uncertainty(card, scores, n, &none),
        Strategy::Disagreement => disagreement(card, scores, n, &none),
        Strategy::Diversity => diversity(texts, labelled, n, &none, seed),
        Strategy::Mixed => {
            let n = n.min(texts.len());
            let (u, d, _) = mixed_split(n);
            let mut out = uncertainty(card, scores, u, &none);
            let mut taken: HashSet<usize> = out.iter().map(|p| p.index).collect();
            out.extend(disagreement(card, scores, d, &taken));
            taken.extend(out.iter().map(|p| p.index));
            let rest = n.saturating_sub(out.len());
            out.extend(diversity(texts, labelled, rest, &taken, seed));
            out
        }
    }
}

/// Why a pool text was left out by [`fresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duplicate {
    /// Same dedupe key as a dataset text.
    OfDataset,
    /// A near-duplicate of a dataset text (3-gram Jaccard / containment, `data dedupe --near`).
    NearDataset,
    /// Same key as, or a near-duplicate of, an earlier pool text (its index).
    OfPool(usize),
}

/// For each pool text, `None` when it is worth sampling, or why it duplicates the dataset or an
/// earlier pool text. `near` also drops near-duplicates (the default [`NearDupConfig`]).
pub fn fresh(pool: &[&str], dataset: &[&str], near: bool) -> Vec<Option<Duplicate>> {
    let keys: HashSet<String> = dataset.iter().map(|t| dedupe_key(t)).collect();
    let mut labelled = NearDupIndex::new();
    if near {
        for t in dataset {
            labelled.add(t);
        }
    }
    let cfg = NearDupConfig::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut kept = NearDupIndex::new();
    let mut kept_at: Vec<usize> = Vec::new();
    pool.iter()
        .enumerate()
        .map(|(i, t)| {
            let key = dedupe_key(t);
            if keys.contains(&key) {
                return Some(Duplicate::OfDataset);
            }
            if let Some(&j) = seen.get(&key) {
                return Some(Duplicate::OfPool(j));
            }
            if near {
                if labelled.query(t, cfg).is_some() {
                    return Some(Duplicate::NearDataset);
                }
                if let Some(m) = kept.query(t, cfg) {
                    return Some(Duplicate::OfPool(
                        kept_at.get(m.index).copied().unwrap_or(0),
                    ));
                }
                kept.add(t);
                kept_at.push(i);
            }
            seen.insert(key, i);
            None
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Scorecard {
        Scorecard {
            labels: vec!["cure_claim".into(), "safety_assurance".into()],
            model_thresholds: vec![0.5, 0.6],
            model_gate: None,
            linear_thresholds: vec![0.5, 0.5],
        }
    }

    fn s(model: [f32; 2], linear: [f32; 2], keyword: [bool; 2]) -> TextScores {
        TextScores {
            model: model.to_vec(),
            linear: linear.to_vec(),
            keyword: keyword.to_vec(),
        }
    }

    fn idx(p: &[Pick]) -> Vec<usize> {
        p.iter().map(|p| p.index).collect()
    }

    #[test]
    fn uncertainty_picks_the_texts_nearest_a_threshold() {
        let scores = vec![
            s([0.99, 0.01], [0.9, 0.0], [true, false]),  // sure
            s([0.52, 0.0], [0.5, 0.0], [true, false]),   // 0.02 from cure_claim's 0.5
            s([0.01, 0.02], [0.0, 0.0], [false, false]), // sure
            s([0.2, 0.59], [0.0, 0.6], [false, true]),   // 0.01 from safety's 0.6
            s([0.7, 0.3], [0.7, 0.3], [true, false]),    // 0.2 / 0.3
        ];
        let p = uncertainty(&card(), &scores, 3, &HashSet::new());
        assert_eq!(idx(&p), [3, 1, 4]);
        assert_eq!(p[0].reason["label"], "safety_assurance");
        assert_eq!(p[0].reason["margin"], 0.01);
        assert_eq!(p[0].strategy, Strategy::Uncertainty);
        let skip: HashSet<usize> = [3].into();
        assert_eq!(idx(&uncertainty(&card(), &scores, 1, &skip)), [1]);
    }

    #[test]
    fn disagreement_picks_where_the_systems_disagree() {
        let scores = vec![
            s([0.9, 0.1], [0.9, 0.1], [true, false]),  // all agree: cure
            s([0.9, 0.9], [0.1, 0.1], [false, false]), // two labels disputed
            s([0.1, 0.1], [0.1, 0.1], [false, false]), // all agree: clean
            s([0.1, 0.1], [0.2, 0.1], [true, false]),  // keyword alone, small gap
            s([0.1, 0.1], [0.8, 0.1], [false, false]), // linear alone, big gap
        ];
        let p = disagreement(&card(), &scores, 3, &HashSet::new());
        assert_eq!(idx(&p), [1, 4, 3]);
        assert_eq!(p[0].reason["disputed"], 2);
        assert_eq!(p[0].reason["model_violation"], true);
        assert_eq!(p[0].reason["linear_violation"], false);
        assert_eq!(p[2].reason["disputed_labels"], json!(["cure_claim"]));
        assert_eq!(p[2].reason["keyword_violation"], true);
    }

    #[test]
    fn with_a_gate_sampling_follows_the_gated_decision() {
        let gated = Scorecard {
            model_gate: Some(0.8),
            ..card()
        };
        // Over cure_claim's threshold but under the gate: the network says no violation, so
        // the linear model and the keyword matcher that flag it dispute it.
        let scores = vec![
            s([0.7, 0.1], [0.7, 0.1], [true, false]),
            s([0.95, 0.1], [0.9, 0.1], [true, false]),
        ];
        let p = disagreement(&gated, &scores, 2, &HashSet::new());
        assert_eq!(idx(&p), [0, 1]);
        assert_eq!(p[0].reason["disputed"], 1);
        assert_eq!(p[0].reason["model_violation"], false);
        assert_eq!(p[1].reason["disputed"], 0);
        assert_eq!(p[1].reason["model_violation"], true);
        let ungated = disagreement(&card(), &scores, 2, &HashSet::new());
        assert_eq!(ungated[0].reason["disputed"], 0);
        // Nearest its bound: text 1's top score sits 0.01 from the gate, nearer than any
        // label threshold.
        let scores = vec![
            s([0.65, 0.1], [0.0, 0.0], [false, false]),
            s([0.81, 0.3], [0.0, 0.0], [false, false]),
        ];
        let p = uncertainty(&gated, &scores, 1, &HashSet::new());
        assert_eq!(idx(&p), [1]);
        assert_eq!(p[0].reason["bound"], "gate");
        assert_eq!(p[0].reason["label"], "cure_claim");
        let p = uncertainty(&card(), &scores, 1, &HashSet::new());
        assert_eq!(p[0].reason["bound"], "label_threshold");
    }

    const CLUSTERS: [&str; 9] = [
        "这款按摩椅能治愈颈椎病",
        "这款按摩椅能治愈颈椎病哦",
        "这款按摩椅能治愈颈椎病！！",
        "戴上眼镜三个月近视度数降低",
        "戴上眼镜三个月近视度数全降低",
        "戴上眼镜三个月，近视度数降低了",
        "血糖仪今日包邮明天发货",
        "血糖仪今日包邮 明天就发货",
        "血糖仪今日包邮明天发货啦",
    ];

    fn cluster(i: usize) -> usize {
        i / 3
    }

    #[test]
    fn diversity_takes_one_text_per_cluster() {
        for seed in 0..5 {
            let p = diversity(&CLUSTERS, &NgramIndex::default(), 3, &HashSet::new(), seed);
            let mut cs: Vec<usize> = p.iter().map(|p| cluster(p.index)).collect();
            cs.sort();
            assert_eq!(cs, [0, 1, 2], "seed {seed}: {:?}", idx(&p));
        }
    }

    #[test]
    fn diversity_prefers_texts_far_from_the_dataset() {
        let labelled = NgramIndex::new(["这款按摩椅能治愈颈椎病呢", "血糖仪今日包邮明天发货呀"]);
        let p = diversity(&CLUSTERS, &labelled, 1, &HashSet::new(), 7);
        assert_eq!(cluster(p[0].index), 1, "{p:?}");
        assert!(p[0].reason["distance_to_dataset"].as_f64().unwrap_or(0.0) > 0.9);
    }

    #[test]
    fn seeded_sampling_is_deterministic_and_seed_changes_ties() {
        let texts: Vec<&str> = CLUSTERS.to_vec();
        let scores: Vec<TextScores> = (0..texts.len())
            .map(|i| s([i as f32 / 10.0, 0.0], [0.0, 0.0], [false, false]))
            .collect();
        let none = NgramIndex::default();
        for st in [
            Strategy::Uncertainty,
            Strategy::Disagreement,
            Strategy::Diversity,
            Strategy::Mixed,
        ] {
            let a = sample(st, &card(), &texts, &scores, &none, 5, 42);
            let b = sample(st, &card(), &texts, &scores, &none, 5, 42);
            assert_eq!(a, b, "{st:?}");
            assert_eq!(a.len(), 5);
        }
        let firsts: HashSet<usize> = (0..20)
            .map(|seed| diversity(&texts, &none, 1, &HashSet::new(), seed)[0].index)
            .collect();
        assert!(firsts.len() > 1, "the seed must choose the first centre");
    }

    #[test]
    fn mixed_splits_n_without_duplicates() {
        assert_eq!(mixed_split(10), (4, 3, 3));
        assert_eq!(mixed_split(1), (0, 0, 1));
        assert_eq!(mixed_split(0), (0, 0, 0));
        let texts: Vec<&str> = CLUSTERS.to_vec();
        let scores: Vec<TextScores> = (0..texts.len())
            .map(|i| {
                s(
                    [0.5, 0.0],
                    [if i % 2 == 0 { 0.9 } else { 0.0 }, 0.0],
                    [false; 2],
                )
            })
            .collect();
        let p = sample(
            Strategy::Mixed,
            &card(),
            &texts,
            &scores,
            &NgramIndex::default(),
            20,
            1,
        );
        assert_eq!(p.len(), texts.len(), "never more than the pool");
        let unique: HashSet<usize> = idx(&p).into_iter().collect();
        assert_eq!(unique.len(), p.len());
        let p = sample(
            Strategy::Mixed,
            &card(),
            &texts,
            &scores,
            &NgramIndex::default(),
            5,
            1,
        );
        let kinds: Vec<Strategy> = p.iter().map(|p| p.strategy).collect();
        assert_eq!(
            kinds,
            [
                Strategy::Uncertainty,
                Strategy::Uncertainty,
                Strategy::Disagreement,
                Strategy::Diversity,
                Strategy::Diversity
            ]
        );
    }

    #[test]
    fn fresh_drops_dataset_and_pool_duplicates() {
        let dataset = ["这款按摩椅能治愈颈椎病", "血糖仪今日包邮明天发货"];
        let pool = [
            "这款按摩椅，能治愈颈椎病！", // same key as dataset[0]
            "戴上眼镜三个月近视度数降低",
            "戴上眼镜 三个月 近视度数降低😀", // same key as pool[1]
            "血糖仪今日包邮明天发货啦",       // near dataset[1]
            "",
            "",
        ];
        let exact = fresh(&pool, &dataset, false);
        assert_eq!(exact[0], Some(Duplicate::OfDataset));
        assert_eq!(exact[1], None);
        assert_eq!(exact[2], Some(Duplicate::OfPool(1)));
        assert_eq!(exact[3], None);
        assert_eq!(exact[5], Some(Duplicate::OfPool(4)));
        let near = fresh(&pool, &dataset, true);
        assert_eq!(near[3], Some(Duplicate::NearDataset));
        assert_eq!(near[1], None);
    }

    #[test]
    fn ngrams_see_through_spacing_and_handle_short_and_emoji_text() {
        assert_eq!(ngrams("治 愈"), ngrams("治愈"));
        assert_eq!(ngrams("治").len(), 1);
        assert!(ngrams("😀😀").is_empty());
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert!((jaccard(&ngrams("治愈近视"), &ngrams("治愈近视")) - 1.0).abs() < 1e-6);
        let idx = NgramIndex::new(["治愈近视"]);
        assert!((idx.nearest(&ngrams("治愈近视")) - 1.0).abs() < 1e-6);
        assert_eq!(idx.nearest(&ngrams("包邮")), 0.0);
    }
}
