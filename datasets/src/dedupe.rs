//! Duplicate and near-duplicate detection: a normalised key for exact matches, and character
//! 3-gram shingles with an inverted index for Jaccard / containment similarity.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// Shingle length in chars.
pub const SHINGLE: usize = 3;

/// When two texts count as near-duplicates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearDupConfig {
    /// Jaccard similarity of 3-gram sets at or above which texts are near-duplicates.
    pub jaccard: f32,
    /// Share of the smaller text's 3-grams found in the other, at or above which they are
    /// near-duplicates (only when the smaller text has at least `min_shingles`).
    pub containment: f32,
    /// Minimum shingles for the containment rule.
    pub min_shingles: usize,
}

impl Default for NearDupConfig {
    fn default() -> Self {
        Self {
            jaccard: 0.5,
            containment: 0.8,
            min_shingles: 10,
        }
    }
}

/// The key for exact-duplicate detection: NFKC, lower case, letters and digits only (so spacing,
/// punctuation and emoji do not hide a duplicate).
pub fn dedupe_key(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Sorted, deduplicated 3-gram hashes of the dedupe key.
pub fn shingles(text: &str) -> Vec<u64> {
    let chars: Vec<char> = dedupe_key(text).chars().collect();
    let mut out: Vec<u64> = if chars.len() < SHINGLE {
        if chars.is_empty() {
            Vec::new()
        } else {
            vec![fnv(&chars)]
        }
    } else {
        chars.windows(SHINGLE).map(fnv).collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

fn fnv(chars: &[char]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &c in chars {
        for b in (c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// A match found by [`NearDupIndex::query`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearMatch {
    /// Index of the matching item in the order it was added.
    pub index: usize,
    /// Jaccard similarity.
    pub jaccard: f32,
    /// Share of the smaller text's shingles found in the larger.
    pub containment: f32,
}

/// An inverted index over shingle sets.
#[derive(Debug, Default)]
pub struct NearDupIndex {
    sizes: Vec<usize>,
    postings: HashMap<u64, Vec<u32>>,
    keys: HashMap<String, usize>,
}

impl NearDupIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a text; returns its index.
    pub fn add(&mut self, text: &str) -> usize {
        let id = self.sizes.len();
        let sh = shingles(text);
        self.sizes.push(sh.len());
        for s in sh {
            self.postings.entry(s).or_default().push(id as u32);
        }
        self.keys.entry(dedupe_key(text)).or_insert(id);
        id
    }

    /// Number of texts added.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// The most similar indexed text that is a near-duplicate of `text` under `cfg`
    /// (exact key matches included), if any.
    pub fn query(&self, text: &str, cfg: NearDupConfig) -> Option<NearMatch> {
        if let Some(&index) = self.keys.get(&dedupe_key(text)) {
            return Some(NearMatch {
                index,
                jaccard: 1.0,
                containment: 1.0,
            });
        }
        let sh = shingles(text);
        if sh.is_empty() {
            return None;
        }
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for s in &sh {
            if let Some(p) = self.postings.get(s) {
                for &id in p {
                    *counts.entry(id).or_default() += 1;
                }
            }
        }
        let mut best: Option<NearMatch> = None;
        for (id, inter) in counts {
            let other = self.sizes[id as usize];
            let inter = inter as f32;
            let jaccard = inter / (sh.len() as f32 + other as f32 - inter).max(1.0);
            let smaller = sh.len().min(other);
            let containment = inter / smaller.max(1) as f32;
            let near = jaccard >= cfg.jaccard
                || (smaller >= cfg.min_shingles && containment >= cfg.containment);
            if near
                && best.is_none_or(|b| {
                    jaccard > b.jaccard || (jaccard == b.jaccard && (id as usize) < b.index)
                })
            {
                best = Some(NearMatch {
                    index: id as usize,
                    jaccard,
                    containment,
                });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ignores_spacing_punctuation_emoji_and_width() {
        assert_eq!(dedupe_key("治 愈✨近视！ＦＤＡ"), dedupe_key("治愈近视fda"));
        assert_ne!(dedupe_key("治愈近视"), dedupe_key("治疗近视"));
        assert_eq!(dedupe_key(""), "");
    }

    #[test]
    fn near_duplicates_found_and_unrelated_texts_not() {
        let mut idx = NearDupIndex::new();
        idx.add("家人们这个护眼仪戴三个月直接摘镜无效退款");
        idx.add("顺丰包邮四十八小时发货");
        let cfg = NearDupConfig::default();
        let m = idx
            .query("家人们这个护眼仪戴三个月直接摘镜无效退款啊", cfg)
            .unwrap();
        assert_eq!(m.index, 0);
        assert!(m.jaccard > 0.8);
        let exact = idx.query("顺丰包邮，四十八小时发货！", cfg).unwrap();
        assert_eq!((exact.index, exact.jaccard), (1, 1.0));
        assert!(idx.query("眼科医生提醒近视目前无法治愈", cfg).is_none());
        assert!(idx.query("", cfg).is_none());
    }

    #[test]
    fn containment_catches_a_text_embedded_in_a_longer_one() {
        let mut idx = NearDupIndex::new();
        idx.add("宝宝们我跟你们说这款助听器戴上就能恢复听力老人家再也不耳背了真的真的");
        let q = "宝宝们我跟你们说这款助听器戴上就能恢复听力老人家再也不耳背了真的真的 三二一上车 顺丰包邮 今天最后一百单 库存不多了 拍一发二 赶紧的";
        let m = idx.query(q, NearDupConfig::default()).unwrap();
        assert!(m.jaccard < 0.6 && m.containment > 0.95, "{m:?}");
    }
}
