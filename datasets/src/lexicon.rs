//! Lexicons the team keeps in `datasets/lexicon/`: evasive variants and their canonical words,
//! traditional→simplified characters, the monitoring centre's trigger words, and the jieba user
//! dictionary. All are compiled in ([`Lexicons::builtin`]) so a bundle never depends on a path.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};

const VARIANTS: &str = include_str!("../lexicon/variants.tsv");
const TRADITIONAL: &str = include_str!("../lexicon/traditional.tsv");
const TRIGGERS: &str = include_str!("../lexicon/triggers.json");
const USERDICT: &str = include_str!("../lexicon/userdict.txt");

/// One evasive spelling and the canonical text it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The evasive spelling as written (e.g. `zhiyu`, `治yu`, `摘静`).
    pub variant: String,
    /// Plain simplified Chinese it means (e.g. `治愈`).
    pub canonical: String,
    /// homophone | pinyin | initials | split_char | euphemism | dialect | asr_slip
    pub kind: String,
}

/// The lexicons, as text (for copying into bundles) and parsed.
#[derive(Debug, Clone)]
pub struct Lexicons {
    /// Evasive variants.
    pub variants: Vec<Variant>,
    /// Traditional → simplified, single characters.
    pub traditional: Vec<(char, char)>,
    /// Trigger words per label id (the keyword baseline).
    pub triggers: BTreeMap<String, Vec<String>>,
    /// jieba user dictionary text (`word freq tag` lines).
    pub userdict: String,
    /// Raw file texts, keyed by file name, for writing into a model bundle.
    pub raw: BTreeMap<&'static str, String>,
}

impl Lexicons {
    /// The lexicons compiled into this build.
    pub fn builtin() -> Result<Self> {
        Self::from_texts(VARIANTS, TRADITIONAL, TRIGGERS, USERDICT)
    }

    /// Load the four files from a directory (a model bundle's `lexicon/`).
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| DatasetError::io(p, e))
        };
        Self::from_texts(
            &read("variants.tsv")?,
            &read("traditional.tsv")?,
            &read("triggers.json")?,
            &read("userdict.txt")?,
        )
    }

    /// Parse lexicon texts.
    pub fn from_texts(
        variants: &str,
        traditional: &str,
        triggers: &str,
        userdict: &str,
    ) -> Result<Self> {
        let mut raw = BTreeMap::new();
        raw.insert("variants.tsv", variants.to_string());
        raw.insert("traditional.tsv", traditional.to_string());
        raw.insert("triggers.json", triggers.to_string());
        raw.insert("userdict.txt", userdict.to_string());
        Ok(Self {
            variants: parse_variants(variants)?,
            traditional: parse_traditional(traditional)?,
            triggers: serde_json::from_str(triggers).map_err(|source| DatasetError::Json {
                path: "lexicon/triggers.json".into(),
                source,
            })?,
            userdict: userdict.to_string(),
            raw,
        })
    }

    /// Variants of a given kind.
    pub fn variants_of(&self, kind: &str) -> impl Iterator<Item = &Variant> {
        self.variants.iter().filter(move |v| v.kind == kind)
    }
}

fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

fn parse_variants(text: &str) -> Result<Vec<Variant>> {
    let mut out = Vec::new();
    for (n, line) in data_lines(text) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 || cols[..3].iter().any(|c| c.trim().is_empty()) {
            return Err(DatasetError::Lexicon {
                name: "variants.tsv".into(),
                line: n,
                message: "expected `variant<TAB>canonical<TAB>kind`".into(),
            });
        }
        out.push(Variant {
            variant: cols[0].trim().to_string(),
            canonical: cols[1].trim().to_string(),
            kind: cols[2].trim().to_string(),
        });
    }
    Ok(out)
}

fn parse_traditional(text: &str) -> Result<Vec<(char, char)>> {
    let mut out = Vec::new();
    for (n, line) in data_lines(text) {
        let mut cols = line.split('\t').map(str::trim);
        let one = |c: Option<&str>| {
            let s = c?;
            let mut it = s.chars();
            let ch = it.next()?;
            it.next().is_none().then_some(ch)
        };
        match (one(cols.next()), one(cols.next())) {
            (Some(t), Some(s)) => out.push((t, s)),
            _ => {
                return Err(DatasetError::Lexicon {
                    name: "traditional.tsv".into(),
                    line: n,
                    message: "expected `traditional<TAB>simplified`, one character each".into(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lexicons_parse_and_cover_every_label() {
        let lex = Lexicons::builtin().unwrap();
        assert!(lex.variants.len() >= 100, "{}", lex.variants.len());
        assert!(lex.traditional.iter().any(|&(t, s)| t == '癒' && s == '愈'));
        let tax = crate::Taxonomy::builtin();
        for id in tax.label_ids() {
            assert!(
                lex.triggers.get(id).is_some_and(|t| !t.is_empty()),
                "no triggers for {id}"
            );
        }
        assert!(lex.userdict.lines().count() > 50);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let e =
            Lexicons::from_texts("# c\nzhiyu\t治愈\tpinyin\nbad line\n", "", "{}", "").unwrap_err();
        assert!(e.to_string().contains("variants.tsv:3"), "{e}");
        let e = Lexicons::from_texts("", "癒\t愈\n癒愈\t愈\n", "{}", "").unwrap_err();
        assert!(e.to_string().contains("traditional.tsv:2"), "{e}");
    }
}
