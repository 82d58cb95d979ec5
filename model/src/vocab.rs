//! The vocabulary: one id space for characters and jieba words, stored as an HF `tokenizers`
//! WordLevel `tokenizer.json`, and the toneless-pinyin table of the second input channel.
//!
//! Every CJK Unified Ideograph (U+4E00–U+9FFF) is in the vocabulary, so real text never
//! collapses into `[UNK]`: a character the training data never showed keeps a zero embedding
//! (embeddings start at zero and only seen rows move) and still carries its pinyin.
//! Multi-character jieba words seen often enough in training get ids of their own.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use pinyin::ToPinyin;

use crate::error::{ModelError, Result};

/// Padding id (also "no pinyin").
pub const PAD: u32 = 0;
/// Unknown token.
pub const UNK: u32 = 1;
/// "This position is not inside a multi-character vocabulary word."
pub const NOWORD: u32 = 2;
const SPECIALS: [&str; 3] = ["[PAD]", "[UNK]", "[NOWORD]"];

/// The first and last code point of the CJK block every vocabulary covers.
pub const CJK_RANGE: (u32, u32) = (0x4E00, 0x9FFF);

/// Token vocabulary (characters and words) plus the pinyin table.
#[derive(Debug, Clone)]
pub struct Vocab {
    tokens: HashMap<String, u32>,
    chars: HashMap<char, u32>,
    size: usize,
    /// Pinyin syllables; id = index + 1 (0 = none).
    pinyin: Vec<String>,
    char_pinyin: HashMap<char, u32>,
}

/// Toneless pinyin of a character, if it has one.
pub fn pinyin_of(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

/// All toneless syllables of the CJK block, sorted.
pub fn all_pinyin() -> Vec<String> {
    let mut set: Vec<String> = (CJK_RANGE.0..=CJK_RANGE.1)
        .filter_map(char::from_u32)
        .filter_map(pinyin_of)
        .map(str::to_string)
        .collect();
    set.sort();
    set.dedup();
    set
}

impl Vocab {
    /// Build from counts of characters and words seen in training text. Characters seen at
    /// least once and words seen at least `min_word_freq` times get ids; the CJK block always.
    pub fn build(
        char_counts: &BTreeMap<char, usize>,
        word_counts: &BTreeMap<String, usize>,
        min_word_freq: usize,
        max_words: usize,
    ) -> Self {
        let mut list: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
        let mut seen = std::collections::HashSet::new();
        for c in (CJK_RANGE.0..=CJK_RANGE.1)
            .filter_map(char::from_u32)
            .chain(char_counts.keys().copied())
        {
            if seen.insert(c) {
                list.push(c.to_string());
            }
        }
        let mut words: Vec<(&String, &usize)> = word_counts
            .iter()
            .filter(|(w, n)| **n >= min_word_freq && w.chars().count() >= 2)
            .collect();
        // Most frequent first, ties by text, so the vocabulary is deterministic.
        words.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        list.extend(words.into_iter().take(max_words).map(|(w, _)| w.clone()));
        let tokens: HashMap<String, u32> = list
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Self::from_tokens(tokens, all_pinyin())
    }

    fn from_tokens(tokens: HashMap<String, u32>, pinyin: Vec<String>) -> Self {
        let size = tokens.values().copied().max().map_or(0, |m| m as usize + 1);
        let chars = tokens
            .iter()
            .filter_map(|(t, &id)| {
                let mut it = t.chars();
                let c = it.next()?;
                (it.next().is_none()).then_some((c, id))
            })
            .collect();
        let py_index: HashMap<&str, u32> = pinyin
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), i as u32 + 1))
            .collect();
        let char_pinyin = (CJK_RANGE.0..=CJK_RANGE.1)
            .filter_map(char::from_u32)
            .filter_map(|c| Some((c, *py_index.get(pinyin_of(c)?)?)))
            .collect();
        Self {
            tokens,
            chars,
            size,
            pinyin,
            char_pinyin,
        }
    }

    /// Number of token ids.
    pub fn len(&self) -> usize {
        self.size
    }

    /// Whether the vocabulary is empty (never true for a built one).
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Number of pinyin ids, including 0 = none.
    pub fn pinyin_len(&self) -> usize {
        self.pinyin.len() + 1
    }

    /// The pinyin syllables (for config.json).
    pub fn pinyin(&self) -> &[String] {
        &self.pinyin
    }

    /// Id of a character.
    pub fn char_id(&self, c: char) -> u32 {
        self.chars.get(&c).copied().unwrap_or(UNK)
    }

    /// Whether an id is a single character (not a special token, not a word). Characters take
    /// the ids right after the special tokens.
    pub fn is_char_id(&self, id: u32) -> bool {
        (id as usize) >= SPECIALS.len() && (id as usize) < SPECIALS.len() + self.chars.len()
    }

    /// Id of a multi-character word, or [`NOWORD`].
    pub fn word_id(&self, w: &str) -> u32 {
        if w.chars().nth(1).is_none() {
            return NOWORD;
        }
        self.tokens.get(w).copied().unwrap_or(NOWORD)
    }

    /// Pinyin id of a character (0 = none).
    pub fn pinyin_id(&self, c: char) -> u32 {
        self.char_pinyin.get(&c).copied().unwrap_or(PAD)
    }

    /// The vocabulary as an HF tokenizers WordLevel `tokenizer.json`.
    pub fn to_tokenizer_json(&self) -> String {
        let vocab: BTreeMap<&str, u32> =
            self.tokens.iter().map(|(t, &i)| (t.as_str(), i)).collect();
        // Ordered by id so the file is stable and readable.
        let mut by_id: Vec<(&str, u32)> = vocab.into_iter().collect();
        by_id.sort_by_key(|&(_, i)| i);
        let mut model_vocab = serde_json::Map::new();
        for (t, i) in by_id {
            model_vocab.insert(t.to_string(), serde_json::Value::from(i));
        }
        let added: Vec<serde_json::Value> = SPECIALS
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({"id": i, "content": s, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true})
            })
            .collect();
        let doc = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
            "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
            "model": {"type": "WordLevel", "vocab": model_vocab, "unk_token": "[UNK]"}
        });
        doc.to_string()
    }

    /// Load from a `tokenizer.json` (read with the HF tokenizers crate) and the pinyin table.
    pub fn load(path: &Path, pinyin: Vec<String>) -> Result<Self> {
        let tok = tokenizers::Tokenizer::from_file(path).map_err(|e| ModelError::Tokenizer {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let tokens = tok.get_vocab(true);
        for (i, s) in SPECIALS.iter().enumerate() {
            if tokens.get(*s) != Some(&(i as u32)) {
                return Err(ModelError::Tokenizer {
                    path: path.to_path_buf(),
                    message: format!("special token {s} is not id {i}"),
                });
            }
        }
        Ok(Self::from_tokens(tokens, pinyin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Vocab {
        let chars: BTreeMap<char, usize> = [('治', 3), ('👀', 1), ('a', 2)].into_iter().collect();
        let words: BTreeMap<String, usize> = [
            ("摘镜".to_string(), 5),
            ("治愈".to_string(), 9),
            ("罕见词".to_string(), 1),
        ]
        .into_iter()
        .collect();
        Vocab::build(&chars, &words, 2, 100)
    }

    #[test]
    fn covers_the_whole_cjk_block_and_seen_symbols() {
        let v = small();
        for c in ['的', '龘', '鿿', '治', '癒'] {
            assert!(v.char_id(c) > NOWORD, "{c}");
        }
        assert!(v.char_id('👀') > NOWORD);
        assert_eq!(v.char_id('🦄'), UNK);
        assert!(v.len() > 20_992);
    }

    #[test]
    fn words_need_the_minimum_frequency() {
        let v = small();
        assert!(v.word_id("治愈") > NOWORD);
        assert!(v.word_id("摘镜") > NOWORD);
        assert_eq!(v.word_id("罕见词"), NOWORD);
        assert_eq!(v.word_id("治"), NOWORD, "single chars are not words");
    }

    #[test]
    fn pinyin_channel_sees_homophones_alike() {
        let v = small();
        assert_eq!(v.pinyin_id('愈'), v.pinyin_id('玉'));
        assert_ne!(v.pinyin_id('治'), v.pinyin_id('愈'));
        assert_eq!(v.pinyin_id('a'), PAD);
        assert!(v.pinyin_len() > 300);
    }

    #[test]
    fn tokenizer_json_round_trips_through_hf_tokenizers() {
        let v = small();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tokenizer.json");
        std::fs::write(&p, v.to_tokenizer_json()).unwrap();
        let back = Vocab::load(&p, v.pinyin().to_vec()).unwrap();
        assert_eq!(back.len(), v.len());
        for c in ['治', '👀', 'a', '龘'] {
            assert_eq!(back.char_id(c), v.char_id(c));
        }
        assert_eq!(back.word_id("摘镜"), v.word_id("摘镜"));
        let tok = tokenizers::Tokenizer::from_file(&p).unwrap();
        let enc = tok.encode("摘镜 治", false).unwrap();
        assert_eq!(enc.get_ids(), &[v.word_id("摘镜"), v.char_id('治')]);
    }
}
