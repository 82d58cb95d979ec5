//! Text → model inputs: normalisation (with its alignment map), jieba segmentation over the
//! normalised text, and three ids per normalised character (the character, the vocabulary word
//! it sits in, its toneless pinyin). Long texts are cut into overlapping windows here, so nothing
//! is ever silently truncated.

use jieba_rs::Jieba;
use qingwang_datasets::Lexicons;

use crate::error::Result;
use crate::normalize::{Normalized, Normalizer};
use crate::vocab::Vocab;

/// One text, encoded.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The normalised text and its map back to the original.
    pub norm: Normalized,
    /// Character ids, one per normalised char.
    pub char_ids: Vec<u32>,
    /// Word ids, one per normalised char (the word it belongs to, or NOWORD).
    pub word_ids: Vec<u32>,
    /// Pinyin ids, one per normalised char.
    pub pinyin_ids: Vec<u32>,
    /// The jieba words of the normalised text as char ranges, in order, covering it.
    pub words: Vec<(usize, usize)>,
}

impl Encoded {
    /// Number of positions.
    pub fn len(&self) -> usize {
        self.char_ids.len()
    }

    /// Whether there are no positions (the text normalised to nothing).
    pub fn is_empty(&self) -> bool {
        self.char_ids.is_empty()
    }
}

/// Start positions of windows of `window` positions with `stride` over `len` positions: the
/// last window ends at `len`, so every position is covered. At least one window.
pub fn windows(len: usize, window: usize, stride: usize) -> Vec<(usize, usize)> {
    let window = window.max(1);
    let stride = stride.clamp(1, window);
    if len <= window {
        return vec![(0, len)];
    }
    let mut out = Vec::new();
    let mut s = 0;
    loop {
        if s + window >= len {
            out.push((len - window, len));
            break;
        }
        out.push((s, s + window));
        s += stride;
    }
    out
}

/// Normaliser, segmenter and vocabulary, built once and shared.
pub struct Encoder {
    normalizer: Normalizer,
    jieba: Jieba,
    vocab: Vocab,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("vocab_len", &self.vocab.len())
            .finish_non_exhaustive()
    }
}

/// A jieba segmenter with the team's user dictionary loaded.
pub fn jieba_with(userdict: &str) -> Result<Jieba> {
    let mut jieba = Jieba::new();
    jieba.load_dict(&mut std::io::BufReader::new(userdict.as_bytes()))?;
    Ok(jieba)
}

impl Encoder {
    /// Build from lexicons (normalisation tables and jieba user dictionary) and a vocabulary.
    pub fn new(lex: &Lexicons, vocab: Vocab) -> Result<Self> {
        Ok(Self {
            normalizer: Normalizer::new(lex),
            jieba: jieba_with(&lex.userdict)?,
            vocab,
        })
    }

    /// The normaliser.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The jieba words of a normalised text with their char ranges.
    pub fn words<'a>(&self, text: &'a str) -> Vec<(&'a str, usize, usize)> {
        self.jieba
            .cut(text, true)
            .into_iter()
            .map(|t| (t.word, t.start, t.end))
            .collect()
    }

    /// Encode one text.
    pub fn encode(&self, text: &str) -> Encoded {
        let norm = self.normalizer.normalize(text);
        let ntext = norm.text();
        let char_ids = norm.chars.iter().map(|&c| self.vocab.char_id(c)).collect();
        let pinyin_ids = norm
            .chars
            .iter()
            .map(|&c| self.vocab.pinyin_id(c))
            .collect();
        let mut word_ids = vec![crate::vocab::NOWORD; norm.chars.len()];
        let mut words = Vec::new();
        for (w, s, e) in self.words(&ntext) {
            let id = self.vocab.word_id(w);
            if id != crate::vocab::NOWORD {
                word_ids[s..e].iter_mut().for_each(|x| *x = id);
            }
            words.push((s, e));
        }
        Encoded {
            norm,
            char_ids,
            word_ids,
            pinyin_ids,
            words,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn windows_cover_every_position() {
        assert_eq!(windows(0, 128, 96), vec![(0, 0)]);
        assert_eq!(windows(100, 128, 96), vec![(0, 100)]);
        assert_eq!(windows(128, 128, 96), vec![(0, 128)]);
        assert_eq!(windows(129, 128, 96), vec![(0, 128), (1, 129)]);
        assert_eq!(windows(300, 128, 96), vec![(0, 128), (96, 224), (172, 300)]);
        for len in 0..700 {
            let w = windows(len, 64, 48);
            let mut covered = vec![false; len];
            for (s, e) in &w {
                assert!(e - s <= 64 && *e <= len);
                covered[*s..*e].iter_mut().for_each(|c| *c = true);
            }
            assert!(covered.iter().all(|c| *c), "len {len}");
        }
    }

    #[test]
    fn encodes_words_chars_and_pinyin_per_normalised_char() {
        let lex = Lexicons::from_texts("zhiyu\t治愈\tpinyin\n", "癒\t愈\n", "{}", "摘镜 2000 v\n")
            .unwrap();
        let words: BTreeMap<String, usize> = [("摘镜".to_string(), 3)].into_iter().collect();
        let vocab = Vocab::build(&BTreeMap::new(), &words, 1, 10);
        let enc = Encoder::new(&lex, vocab).unwrap();
        let e = enc.encode("戴它 摘镜 ZHIYU");
        assert_eq!(e.norm.text(), "戴它摘镜 治愈");
        assert_eq!(e.len(), 7);
        let zhai = enc.vocab().word_id("摘镜");
        assert_eq!(&e.word_ids[2..4], &[zhai, zhai]);
        assert_eq!(e.word_ids[0], crate::vocab::NOWORD);
        assert_eq!(e.pinyin_ids[5], enc.vocab().pinyin_id('治'));
        assert_eq!(e.pinyin_ids[4], crate::vocab::PAD, "space has no pinyin");
        assert!(enc.encode("").is_empty());
    }
}
