//! Normalisation that sees through evasive spelling and keeps a map back to the original text.
//!
//! One pipeline, used by training, inference and the keyword baseline alike:
//! 1. per character: NFKC (full-width → half-width and other compatibility forms), lower case,
//!    traditional → simplified (lexicon), zero-width and invisible characters dropped;
//! 2. separator runs (spaces, ASCII symbols, emoji, dots) of up to three characters *between two
//!    Chinese characters* dropped — `治 愈`, `治✨愈`, `摘*镜` become `治愈`, `摘镜`;
//! 3. runs of one repeated character cut to two (`好好好好` → `好好`);
//! 4. lexicon variants (homophones, pinyin, initials, split characters, claim-bound euphemisms,
//!    dialect names, ASR slips) replaced by their canonical words, longest match first; ASCII
//!    variants only match at ASCII word boundaries.
//!
//! Every output char carries the range of original chars it came from, so evidence found in the
//! normalised text always points at what the user sent ([`Normalized::original_range`]).

use std::collections::HashMap;

use qingwang_datasets::Lexicons;
use unicode_normalization::UnicodeNormalization;

/// A normalised text with its alignment to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// Normalised characters.
    pub chars: Vec<char>,
    /// For each normalised char, the half-open range of original char positions it stands for.
    pub align: Vec<(usize, usize)>,
    /// Number of chars in the original text.
    pub original_len: usize,
}

impl Normalized {
    /// The normalised text as a string.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Map a half-open range of normalised positions to a range of original char positions.
    /// Empty or out-of-range input gives `None`.
    pub fn original_range(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end || end > self.align.len() {
            return None;
        }
        let s = self.align[start..end].iter().map(|r| r.0).min()?;
        let e = self.align[start..end].iter().map(|r| r.1).max()?;
        Some((s, e))
    }
}

/// Is this a Chinese ideograph (the blocks claims are written in)?
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFE00..=0xFE0F | 0xE0100..=0xE01EF | 0x00AD | 0x034F | 0x180E)
}

/// Characters hosts insert between Chinese characters to dodge filters.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '*' | '·'
                | '~'
                | '/'
                | '_'
                | '-'
                | '.'
                | '|'
                | '^'
                | '`'
                | '\''
                | '"'
                | '+'
                | '='
                | '#'
                | '@'
                | '&'
                | '%'
                | '$'
                | '<'
                | '>'
                | '\\'
                | '丶'
                | '、'
                | '・'
                | '•'
                | '°'
                | '…'
        )
        || matches!(c as u32, 0x2190..=0x21FF | 0x2300..=0x23FF | 0x2460..=0x24FF | 0x25A0..=0x27BF | 0x2900..=0x2BFF | 0x3030 | 0x303D | 0x1F000..=0x1FAFF | 0x200D)
}

/// Variants by their first normalised char: (variant chars, canonical chars), longest first.
type VariantTable = HashMap<char, Vec<(Vec<char>, Vec<char>)>>;

/// The normaliser: lexicon tables built once and shared.
#[derive(Debug, Clone)]
pub struct Normalizer {
    traditional: HashMap<char, char>,
    /// First normalised char of a variant → (variant chars, canonical chars), longest first.
    variants: VariantTable,
}

impl Normalizer {
    /// Build from lexicons. Variants are themselves passed through steps 1–3 so they match
    /// text in normalised form.
    pub fn new(lex: &Lexicons) -> Self {
        let traditional: HashMap<char, char> = lex.traditional.iter().copied().collect();
        let mut n = Self {
            traditional,
            variants: HashMap::new(),
        };
        let mut variants: VariantTable = HashMap::new();
        for v in &lex.variants {
            let from = n.basic(&v.variant).chars;
            let to = n.basic(&v.canonical).chars;
            if from.is_empty() || to.is_empty() || from == to {
                continue;
            }
            let Some(&first) = from.first() else { continue };
            let list = variants.entry(first).or_default();
            if !list.iter().any(|(f, _)| *f == from) {
                list.push((from, to));
            }
        }
        for list in variants.values_mut() {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        }
        n.variants = variants;
        n
    }

    /// Steps 1–3 only (no lexicon replacement).
    fn basic(&self, text: &str) -> Normalized {
        let original_len = text.chars().count();
        // Step 1: per-char mapping.
        let mut chars = Vec::with_capacity(original_len);
        let mut align = Vec::with_capacity(original_len);
        let mut buf = [0u8; 4];
        for (i, c) in text.chars().enumerate() {
            if is_invisible(c) {
                continue;
            }
            let c = self.traditional.get(&c).copied().unwrap_or(c);
            if c.is_ascii() {
                chars.push(c.to_ascii_lowercase());
                align.push((i, i + 1));
                continue;
            }
            for n in c.encode_utf8(&mut buf).nfkc() {
                for l in n.to_lowercase() {
                    if is_invisible(l) {
                        continue;
                    }
                    chars.push(self.traditional.get(&l).copied().unwrap_or(l));
                    align.push((i, i + 1));
                }
            }
        }
        // Step 2: separator runs of ≤ 3 chars between two Chinese characters.
        let mut keep = vec![true; chars.len()];
        let mut i = 0;
        while i < chars.len() {
            if is_cjk(chars[i]) {
                let mut j = i + 1;
                while j < chars.len() && j - i - 1 < 4 && is_separator(chars[j]) {
                    j += 1;
                }
                let run = j - i - 1;
                if run > 0 && run <= 3 && j < chars.len() && is_cjk(chars[j]) {
                    for k in keep.iter_mut().take(j).skip(i + 1) {
                        *k = false;
                    }
                }
                i = if run > 0 { j } else { i + 1 };
            } else {
                i += 1;
            }
        }
        // Step 3: cut runs of one repeated char to two.
        let mut out_c = Vec::with_capacity(chars.len());
        let mut out_a: Vec<(usize, usize)> = Vec::with_capacity(chars.len());
        for (idx, (&c, &a)) in chars.iter().zip(&align).enumerate() {
            if !keep[idx] {
                continue;
            }
            let n = out_c.len();
            if n >= 2
                && out_c[n - 1] == c
                && out_c[n - 2] == c
                && !c.is_ascii_digit()
                && !c.is_whitespace()
            {
                // Fold the dropped char into the last kept one's range.
                if let Some(last) = out_a.last_mut() {
                    last.1 = last.1.max(a.1);
                }
                continue;
            }
            out_c.push(c);
            out_a.push(a);
        }
        Normalized {
            chars: out_c,
            align: out_a,
            original_len,
        }
    }

    /// The whole pipeline.
    pub fn normalize(&self, text: &str) -> Normalized {
        let base = self.basic(text);
        if self.variants.is_empty() {
            return base;
        }
        let mut chars = Vec::with_capacity(base.chars.len());
        let mut align = Vec::with_capacity(base.chars.len());
        let mut i = 0;
        let n = base.chars.len();
        while i < n {
            let c = base.chars[i];
            let hit = self.variants.get(&c).and_then(|list| {
                list.iter().find(|(from, _)| {
                    let end = i + from.len();
                    end <= n
                        && base.chars[i..end] == from[..]
                        && (!from[0].is_ascii_alphanumeric()
                            || i == 0
                            || !base.chars[i - 1].is_ascii_alphanumeric())
                        && (!from[from.len() - 1].is_ascii_alphanumeric()
                            || end == n
                            || !base.chars[end].is_ascii_alphanumeric())
                })
            });
            match hit {
                Some((from, to)) => {
                    let s = base.align[i].0;
                    let e = base.align[i + from.len() - 1].1;
                    for &t in to {
                        chars.push(t);
                        align.push((s, e));
                    }
                    i += from.len();
                }
                None => {
                    chars.push(c);
                    align.push(base.align[i]);
                    i += 1;
                }
            }
        }
        Normalized {
            chars,
            align,
            original_len: base.original_len,
        }
    }
}

/// Offsets of one span in the units clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SpanOffsets {
    /// Unicode scalar values.
    pub char_start: usize,
    /// Unicode scalar values, exclusive.
    pub char_end: usize,
    /// UTF-16 code units (JavaScript, Label Studio).
    pub utf16_start: usize,
    /// UTF-16 code units, exclusive.
    pub utf16_end: usize,
    /// UTF-8 bytes.
    pub byte_start: usize,
    /// UTF-8 bytes, exclusive.
    pub byte_end: usize,
}

/// Prefix tables converting char offsets of one text into UTF-16 and byte offsets: the one
/// place such conversion happens.
#[derive(Debug, Clone)]
pub struct OffsetTable {
    utf16: Vec<usize>,
    bytes: Vec<usize>,
}

impl OffsetTable {
    /// Build for a text.
    pub fn new(text: &str) -> Self {
        let mut utf16 = Vec::with_capacity(text.len() + 1);
        let mut bytes = Vec::with_capacity(text.len() + 1);
        let (mut u, mut b) = (0, 0);
        for c in text.chars() {
            utf16.push(u);
            bytes.push(b);
            u += c.len_utf16();
            b += c.len_utf8();
        }
        utf16.push(u);
        bytes.push(b);
        Self { utf16, bytes }
    }

    /// Number of chars.
    pub fn char_len(&self) -> usize {
        self.bytes.len() - 1
    }

    /// Convert a char range; `None` when out of bounds or empty.
    pub fn span(&self, char_start: usize, char_end: usize) -> Option<SpanOffsets> {
        if char_start >= char_end || char_end > self.char_len() {
            return None;
        }
        Some(SpanOffsets {
            char_start,
            char_end,
            utf16_start: self.utf16[char_start],
            utf16_end: self.utf16[char_end],
            byte_start: self.bytes[char_start],
            byte_end: self.bytes[char_end],
        })
    }

    /// The char position of a UTF-16 offset, when it falls on a char boundary.
    pub fn char_of_utf16(&self, utf16: usize) -> Option<usize> {
        self.utf16.binary_search(&utf16).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalizer() -> Normalizer {
        let lex = Lexicons::from_texts(
            "治yu\t治愈\thomophone\nzhiyu\t治愈\tpinyin\nzy\t治愈\tinitials\n氵台\t治\tsplit_char\n摘静\t摘镜\tasr_slip\n调理近视\t治疗近视\teuphemism\n老寒腿\t膝关节炎\tdialect\n无付作用\t无副作用\thomophone\n",
            "癒\t愈\n視\t视\n復\t复\n療\t疗\n",
            "{}",
            "",
        )
        .unwrap();
        Normalizer::new(&lex)
    }

    #[test]
    fn each_evasion_kind_normalises_to_the_canonical_words() {
        let n = normalizer();
        let cases = [
            ("治yu近视", "治愈近视"),           // homophone with a pinyin syllable
            ("ZHIYU近视", "治愈近视"),          // pinyin, upper case
            ("ｚｈｉｙｕ近视", "治愈近视"),     // full-width pinyin
            ("能zy吗", "能治愈吗"),             // initials
            ("治 愈 近 视", "治愈近视"),        // spaced out
            ("治✨愈", "治愈"),                 // emoji between characters
            ("治*·愈", "治愈"),                 // symbols between characters
            ("治\u{200B}愈", "治愈"),           // zero-width space
            ("恢復視力", "恢复视力"),           // traditional characters
            ("氵台愈", "治愈"),                 // split character
            ("三个月摘静", "三个月摘镜"),       // ASR slip
            ("专门调理近视", "专门治疗近视"),   // claim-bound euphemism
            ("老寒腿贴一贴", "膝关节炎贴一贴"), // dialect disease name
            ("好好好好好用", "好好用"),         // repeated characters
            ("无付作用", "无副作用"),
            ("ＦＤＡ认证", "fda认证"), // full-width letters
        ];
        for (input, want) in cases {
            assert_eq!(n.normalize(input).text(), want, "input {input:?}");
        }
    }

    #[test]
    fn ascii_variants_need_word_boundaries_and_sentences_keep_their_spaces() {
        let n = normalizer();
        assert_eq!(n.normalize("lazy dog").text(), "lazy dog");
        assert_eq!(n.normalize("zhiyuan").text(), "zhiyuan");
        assert_eq!(n.normalize("hello 世界").text(), "hello 世界");
        // A long run of separators is not an evasion.
        assert_eq!(n.normalize("上链接    三二一").text(), "上链接    三二一");
        assert_eq!(n.normalize("").text(), "");
    }

    #[test]
    fn alignment_points_back_at_the_original_text() {
        let n = normalizer();
        let original = "👀宝宝们 治✨癒 近视";
        let norm = n.normalize(original);
        let text = norm.text();
        let start = text
            .find("治愈")
            .map(|b| text[..b].chars().count())
            .unwrap();
        let (s, e) = norm.original_range(start, start + 4).unwrap();
        let quoted: String = original.chars().skip(s).take(e - s).collect();
        assert_eq!(quoted, "治✨癒 近视");
        assert_eq!(norm.original_len, original.chars().count());
        assert!(norm.original_range(3, 3).is_none());
        assert!(norm.original_range(0, norm.chars.len() + 1).is_none());
    }

    #[test]
    fn offset_table_converts_units() {
        let t = OffsetTable::new("a👀治愈");
        let s = t.span(1, 4).unwrap();
        assert_eq!((s.utf16_start, s.utf16_end), (1, 5));
        assert_eq!((s.byte_start, s.byte_end), (1, 11));
        assert_eq!(t.char_of_utf16(3), Some(2));
        assert_eq!(t.char_of_utf16(2), None); // inside the surrogate pair
        assert!(t.span(2, 5).is_none());
        assert!(t.span(2, 2).is_none());
    }
}
