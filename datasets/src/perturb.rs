//! Evasion perturbations: rewrite a claim the way hosts dodge keyword filters, keeping labels
//! and moving spans. Used by the generator (training data) and by eval (robustness: each test
//! positive rewritten by each kind).

use std::collections::HashMap;

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::example::{Example, Span};
use crate::lexicon::Lexicons;

/// The evasion kinds a perturbation can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evasion {
    /// 治愈 → 治yu / 制愈 (lexicon homophones and ASR slips).
    Homophone,
    /// 治愈 → zhiyu (lexicon pinyin).
    Pinyin,
    /// 有效率 → yxl (lexicon initials).
    Initials,
    /// 治愈 → 治 愈.
    Spacing,
    /// 治愈 → 治*愈.
    Symbols,
    /// 治愈 → 治✨愈.
    EmojiInsert,
    /// 恢复视力 → 恢復視力.
    Traditional,
    /// FDA → ＦＤＡ, 100 → １００.
    Fullwidth,
    /// 治 → 氵台 (lexicon split characters).
    SplitChar,
    /// 治疗近视 → 调理近视 (lexicon euphemisms).
    Euphemism,
}

impl Evasion {
    /// Every kind, in report order.
    pub const ALL: [Evasion; 10] = [
        Evasion::Homophone,
        Evasion::Pinyin,
        Evasion::Initials,
        Evasion::Spacing,
        Evasion::Symbols,
        Evasion::EmojiInsert,
        Evasion::Traditional,
        Evasion::Fullwidth,
        Evasion::SplitChar,
        Evasion::Euphemism,
    ];

    /// The id used in data files (the taxonomy's evasion kinds).
    pub fn as_str(self) -> &'static str {
        match self {
            Evasion::Homophone => "homophone",
            Evasion::Pinyin => "pinyin",
            Evasion::Initials => "initials",
            Evasion::Spacing => "spacing",
            Evasion::Symbols => "symbols",
            Evasion::EmojiInsert => "emoji_insert",
            Evasion::Traditional => "traditional",
            Evasion::Fullwidth => "fullwidth",
            Evasion::SplitChar => "split_char",
            Evasion::Euphemism => "euphemism",
        }
    }

    /// Parse an id.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

const SYMBOLS: [&str; 8] = ["*", "·", "~", "/", "_", "-", ".", "|"];
const EMOJI: [&str; 10] = ["✨", "🔥", "👀", "💯", "❤️", "🌟", "👍", "🙏", "💪", "⭐"];

/// Inverse lexicon tables, built once.
#[derive(Debug, Clone, Default)]
pub struct Perturber {
    /// canonical word → variants, per lexicon kind.
    by_kind: HashMap<&'static str, Vec<(String, Vec<String>)>>,
    to_traditional: HashMap<char, char>,
}

impl Perturber {
    /// Build from the lexicons.
    pub fn new(lex: &Lexicons) -> Self {
        let mut by_kind: HashMap<&'static str, Vec<(String, Vec<String>)>> = HashMap::new();
        for (kind, sources) in [
            ("homophone", &["homophone", "asr_slip"][..]),
            ("pinyin", &["pinyin"][..]),
            ("initials", &["initials"][..]),
            ("split_char", &["split_char"][..]),
            ("euphemism", &["euphemism"][..]),
        ] {
            let mut map: Vec<(String, Vec<String>)> = Vec::new();
            for v in lex
                .variants
                .iter()
                .filter(|v| sources.contains(&v.kind.as_str()))
            {
                match map.iter_mut().find(|(c, _)| *c == v.canonical) {
                    Some((_, vs)) => vs.push(v.variant.clone()),
                    None => map.push((v.canonical.clone(), vec![v.variant.clone()])),
                }
            }
            // Longest canonical first, so 降低度数 wins over 度数.
            map.sort_by(|a, b| {
                b.0.chars()
                    .count()
                    .cmp(&a.0.chars().count())
                    .then(a.0.cmp(&b.0))
            });
            by_kind.insert(kind, map);
        }
        let mut to_traditional = HashMap::new();
        for &(t, s) in &lex.traditional {
            to_traditional.entry(s).or_insert(t);
        }
        Self {
            by_kind,
            to_traditional,
        }
    }

    /// Rewrite one piece of claim text; `None` when this kind does not apply to it.
    pub fn rewrite(&self, kind: Evasion, text: &str, rng: &mut impl Rng) -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        let cjk = |c: &char| ('\u{4e00}'..='\u{9fff}').contains(c);
        let interleave = |sep: &dyn Fn(&mut dyn FnMut() -> usize) -> String,
                          rng: &mut dyn FnMut() -> usize| {
            // Insert a separator between adjacent CJK characters, about every second gap.
            let mut out = String::new();
            let mut inserted = false;
            for (i, c) in chars.iter().enumerate() {
                out.push(*c);
                if let Some(next) = chars.get(i + 1) {
                    if cjk(c) && cjk(next) && (rng() % 2 == 0 || !inserted) {
                        out.push_str(&sep(rng));
                        inserted = true;
                    }
                }
            }
            inserted.then_some(out)
        };
        let mut draw = || rng.random_range(0..usize::MAX);
        match kind {
            Evasion::Spacing => interleave(&|_| " ".to_string(), &mut draw),
            Evasion::Symbols => {
                interleave(&|r| SYMBOLS[r() % SYMBOLS.len()].to_string(), &mut draw)
            }
            Evasion::EmojiInsert => {
                interleave(&|r| EMOJI[r() % EMOJI.len()].to_string(), &mut draw)
            }
            Evasion::Traditional => {
                let out: String = chars
                    .iter()
                    .map(|c| self.to_traditional.get(c).copied().unwrap_or(*c))
                    .collect();
                (out != text).then_some(out)
            }
            Evasion::Fullwidth => {
                let out: String = chars
                    .iter()
                    .map(|&c| {
                        if c.is_ascii_alphanumeric() {
                            char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                        } else {
                            c
                        }
                    })
                    .collect();
                (out != text).then_some(out)
            }
            lexical => {
                let table = self.by_kind.get(lexical.as_str())?;
                let hits: Vec<&(String, Vec<String>)> = table
                    .iter()
                    .filter(|(c, _)| text.contains(c.as_str()))
                    .collect();
                let (canonical, variants) = hits.first()?;
                let variant = variants.choose(rng)?;
                Some(text.replacen(canonical.as_str(), variant, 1))
            }
        }
    }

    /// Rewrite every evidence span of a positive example with `kind`, moving all spans.
    /// Returns `None` when the kind applies to none of its spans.
    pub fn perturb_example(
        &self,
        ex: &Example,
        kind: Evasion,
        rng: &mut impl Rng,
    ) -> Option<Example> {
        // Distinct, non-overlapping evidence ranges, in order.
        let mut ranges: Vec<(usize, usize)> = ex
            .spans
            .iter()
            .map(|s| (s.char_start, s.char_end))
            .collect();
        ranges.sort_unstable();
        ranges.dedup();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (s, e) in ranges {
            match merged.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let chars: Vec<char> = ex.text.chars().collect();
        let mut out = String::new();
        let mut changed = false;
        // old char offset → new char offset at range boundaries.
        let mut moves: Vec<((usize, usize), (usize, usize))> = Vec::new();
        let mut cursor = 0;
        let mut new_len = 0;
        for (s, e) in merged {
            let before: String = chars[cursor..s].iter().collect();
            new_len += s - cursor;
            out.push_str(&before);
            let piece: String = chars[s..e].iter().collect();
            let replaced = self.rewrite(kind, &piece, rng);
            changed |= replaced.is_some();
            let piece = replaced.unwrap_or(piece);
            let n = piece.chars().count();
            moves.push(((s, e), (new_len, new_len + n)));
            new_len += n;
            out.push_str(&piece);
            cursor = e;
        }
        if !changed {
            return None;
        }
        out.extend(&chars[cursor..]);
        let new_chars: Vec<char> = out.chars().collect();
        let spans = ex
            .spans
            .iter()
            .filter_map(|sp| {
                let &(_, (ns, ne)) = moves
                    .iter()
                    .find(|((s, e), _)| *s <= sp.char_start && sp.char_end <= *e)?;
                // A span inside a merged range is widened to the whole rewritten range.
                Some(Span {
                    label: sp.label.clone(),
                    char_start: ns,
                    char_end: ne,
                    text: new_chars[ns..ne].iter().collect(),
                })
            })
            .collect();
        let mut evasion = ex.evasion.clone();
        if !evasion.iter().any(|e| e == kind.as_str()) {
            evasion.push(kind.as_str().to_string());
        }
        Some(Example {
            text: out,
            spans,
            evasion,
            ..ex.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::{Channel, Source, Split};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn lex() -> Lexicons {
        Lexicons::from_texts(
            "治yu\t治愈\thomophone\nzhiyu\t治愈\tpinyin\nyxl\t有效率\tinitials\n氵台\t治\tsplit_char\n调理近视\t治疗近视\teuphemism\n",
            "癒\t愈\n視\t视\n復\t复\n",
            "{}",
            "",
        )
        .unwrap()
    }

    fn positive() -> Example {
        let text = "家人们👀这款贴三个月治愈近视 FDA认证 有效率百分百";
        let span = |label: &str, needle: &str| {
            let (s, e) = crate::example::find_chars(text, needle, 0).unwrap();
            Span {
                label: label.into(),
                char_start: s,
                char_end: e,
                text: needle.into(),
            }
        };
        Example {
            id: "p".into(),
            text: text.into(),
            channel: Channel::Livestream,
            labels: vec![
                "cure_claim".into(),
                "fabricated_credentials".into(),
                "efficacy_rate_claim".into(),
            ],
            product: Some("patch_plaster".into()),
            spans: vec![
                span("cure_claim", "治愈近视"),
                span("fabricated_credentials", "FDA认证"),
                span("efficacy_rate_claim", "有效率百分百"),
            ],
            source: Source::Handwritten,
            family: "t".into(),
            split: Split::Test,
            kind: None,
            neg_type: None,
            evasion: vec![],
        }
    }

    #[test]
    fn every_kind_rewrites_and_keeps_spans_consistent() {
        let p = Perturber::new(&lex());
        let ex = positive();
        for kind in Evasion::ALL {
            if kind == Evasion::Euphemism {
                continue; // no 治疗近视 in this text
            }
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let out = p
                .perturb_example(&ex, kind, &mut rng)
                .unwrap_or_else(|| panic!("{kind:?} did not apply"));
            assert_ne!(out.text, ex.text, "{kind:?}");
            assert_eq!(out.labels, ex.labels);
            assert_eq!(out.spans.len(), ex.spans.len());
            assert!(out.evasion.contains(&kind.as_str().to_string()));
            let errs = crate::validate::check_example(&out, &crate::Taxonomy::builtin());
            assert!(errs.is_empty(), "{kind:?}: {errs:?} in {}", out.text);
            // Text outside the evidence is untouched.
            assert!(
                out.text.starts_with("家人们👀这款贴三个月"),
                "{kind:?}: {}",
                out.text
            );
        }
    }

    #[test]
    fn rewrites_are_what_the_kind_says() {
        let p = Perturber::new(&lex());
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(
            p.rewrite(Evasion::Pinyin, "治愈近视", &mut rng).as_deref(),
            Some("zhiyu近视")
        );
        assert_eq!(
            p.rewrite(Evasion::Traditional, "治愈视力", &mut rng)
                .as_deref(),
            Some("治癒視力")
        );
        assert_eq!(
            p.rewrite(Evasion::Fullwidth, "FDA认证100", &mut rng)
                .as_deref(),
            Some("ＦＤＡ认证１００")
        );
        assert_eq!(
            p.rewrite(Evasion::Initials, "有效率九成", &mut rng)
                .as_deref(),
            Some("yxl九成")
        );
        assert_eq!(
            p.rewrite(Evasion::Euphemism, "专门治疗近视", &mut rng)
                .as_deref(),
            Some("专门调理近视")
        );
        let spaced = p.rewrite(Evasion::Spacing, "治愈", &mut rng).unwrap();
        assert_eq!(spaced, "治 愈");
        assert_eq!(p.rewrite(Evasion::Spacing, "a", &mut rng), None);
        assert_eq!(p.rewrite(Evasion::Fullwidth, "治愈", &mut rng), None);
        assert_eq!(p.rewrite(Evasion::Pinyin, "顺丰包邮", &mut rng), None);
    }

    #[test]
    fn same_seed_same_rewrite() {
        let p = Perturber::new(&lex());
        let a = p.perturb_example(
            &positive(),
            Evasion::EmojiInsert,
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        let b = p.perturb_example(
            &positive(),
            Evasion::EmojiInsert,
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        assert_eq!(a, b);
    }
}
