//! `qingwang data stats`: the tables of the data card, as text and as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::example::{Channel, Example, Kind, Source, Split};
use crate::taxonomy::Taxonomy;

/// Counts keyed by row, then by column (split names plus `total`).
pub type Table = BTreeMap<String, BTreeMap<String, usize>>;

/// Shares the requirements are stated in, over hand-written examples.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HandwrittenShares {
    /// Hand-written examples.
    pub examples: usize,
    /// Share of hand-written examples on the livestream channel.
    pub livestream: f64,
    /// Share of hand-written examples that are negatives.
    pub negatives: f64,
    /// Share of hand-written negatives that are hard.
    pub hard_of_negatives: f64,
    /// Share of hand-written positives that use an evasive spelling.
    pub evasive_of_positives: f64,
    /// Hand-written positives per label.
    pub positives_per_label: BTreeMap<String, usize>,
}

/// All tables.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    /// Examples per source × split.
    pub source: Table,
    /// Positive / hard negative / easy negative × split.
    pub kind: Table,
    /// Positives per label × split (an example counts once per label).
    pub label: Table,
    /// Channel × split.
    pub channel: Table,
    /// Product × split (`none` when null).
    pub product: Table,
    /// Negative type × split.
    pub neg_type: Table,
    /// Evasion kind × split (positives).
    pub evasion: Table,
    /// Shares over hand-written data.
    pub handwritten: HandwrittenShares,
}

fn bump(t: &mut Table, row: &str, split: Split) {
    let r = t.entry(row.to_string()).or_default();
    *r.entry(split.as_str().to_string()).or_default() += 1;
    *r.entry("total".to_string()).or_default() += 1;
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Compute the tables. Rows for every taxonomy label, product and channel are present even when
/// zero, so gaps show.
pub fn compute(examples: &[Example], tax: &Taxonomy) -> Stats {
    let mut s = Stats {
        source: Table::new(),
        kind: Table::new(),
        label: Table::new(),
        channel: Table::new(),
        product: Table::new(),
        neg_type: Table::new(),
        evasion: Table::new(),
        handwritten: HandwrittenShares {
            examples: 0,
            livestream: 0.0,
            negatives: 0.0,
            hard_of_negatives: 0.0,
            evasive_of_positives: 0.0,
            positives_per_label: BTreeMap::new(),
        },
    };
    for id in tax.label_ids() {
        s.label.entry(id.to_string()).or_default();
        s.handwritten.positives_per_label.insert(id.to_string(), 0);
    }
    for id in tax.product_ids().chain(["none"]) {
        s.product.entry(id.to_string()).or_default();
    }
    for c in Channel::ALL {
        s.channel.entry(c.as_str().to_string()).or_default();
    }
    let (mut hw, mut live, mut neg, mut hard, mut pos, mut evasive) = (0, 0, 0, 0, 0, 0);
    for ex in examples {
        bump(&mut s.source, ex.source.as_str(), ex.split);
        bump(&mut s.kind, ex.effective_kind().as_str(), ex.split);
        bump(&mut s.channel, ex.channel.as_str(), ex.split);
        bump(
            &mut s.product,
            ex.product.as_deref().unwrap_or("none"),
            ex.split,
        );
        for l in &ex.labels {
            bump(&mut s.label, l, ex.split);
        }
        if let Some(t) = &ex.neg_type {
            bump(&mut s.neg_type, t, ex.split);
        }
        if ex.is_positive() {
            for e in &ex.evasion {
                bump(&mut s.evasion, e, ex.split);
            }
        }
        if ex.source == Source::Handwritten {
            hw += 1;
            live += usize::from(ex.channel == Channel::Livestream);
            match ex.effective_kind() {
                Kind::Positive => {
                    pos += 1;
                    evasive += usize::from(!ex.evasion.is_empty());
                    for l in &ex.labels {
                        *s.handwritten
                            .positives_per_label
                            .entry(l.clone())
                            .or_default() += 1;
                    }
                }
                Kind::HardNegative => {
                    neg += 1;
                    hard += 1;
                }
                Kind::EasyNegative => neg += 1,
            }
        }
    }
    s.handwritten.examples = hw;
    s.handwritten.livestream = ratio(live, hw);
    s.handwritten.negatives = ratio(neg, hw);
    s.handwritten.hard_of_negatives = ratio(hard, neg);
    s.handwritten.evasive_of_positives = ratio(evasive, pos);
    s
}

fn render_table(out: &mut String, title: &str, t: &Table) {
    let cols = ["train", "dev", "test", "total"];
    let _ = writeln!(out, "\n### {title}\n");
    let _ = writeln!(out, "| {title} | {} |", cols.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(cols.len()));
    for (row, counts) in t {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| counts.get(*c).copied().unwrap_or(0).to_string())
            .collect();
        let _ = writeln!(out, "| {row} | {} |", cells.join(" | "));
    }
}

impl Stats {
    /// Markdown tables, as pasted into the data card.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let h = &self.handwritten;
        let _ = writeln!(out, "### Hand-written core\n");
        let _ = writeln!(out, "- examples: {}", h.examples);
        let _ = writeln!(out, "- livestream share: {:.1}%", 100.0 * h.livestream);
        let _ = writeln!(
            out,
            "- negatives: {:.1}% (hard: {:.1}% of negatives)",
            100.0 * h.negatives,
            100.0 * h.hard_of_negatives
        );
        let _ = writeln!(
            out,
            "- positives with evasive spelling: {:.1}%",
            100.0 * h.evasive_of_positives
        );
        let min = h.positives_per_label.values().min().copied().unwrap_or(0);
        let _ = writeln!(out, "- fewest hand-written positives for one label: {min}");
        render_table(&mut out, "source", &self.source);
        render_table(&mut out, "kind", &self.kind);
        render_table(&mut out, "label", &self.label);
        render_table(&mut out, "channel", &self.channel);
        render_table(&mut out, "product", &self.product);
        render_table(&mut out, "neg_type", &self.neg_type);
        render_table(&mut out, "evasion", &self.evasion);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::Span;

    fn ex(
        split: Split,
        channel: Channel,
        labels: &[&str],
        kind: Kind,
        evasion: &[&str],
    ) -> Example {
        Example {
            id: String::new(),
            text: "x".into(),
            channel,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            product: None,
            spans: labels
                .iter()
                .map(|l| Span {
                    label: l.to_string(),
                    char_start: 0,
                    char_end: 1,
                    text: "x".into(),
                })
                .collect(),
            source: Source::Handwritten,
            family: "f".into(),
            split,
            kind: Some(kind),
            neg_type: None,
            evasion: evasion.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn counts_and_shares_match_a_hand_count() {
        let data = vec![
            ex(
                Split::Train,
                Channel::Livestream,
                &["cure_claim", "efficacy_guarantee"],
                Kind::Positive,
                &["pinyin"],
            ),
            ex(
                Split::Test,
                Channel::Post,
                &["cure_claim"],
                Kind::Positive,
                &[],
            ),
            ex(
                Split::Train,
                Channel::Livestream,
                &[],
                Kind::HardNegative,
                &[],
            ),
            ex(Split::Dev, Channel::Comment, &[], Kind::EasyNegative, &[]),
        ];
        let s = compute(&data, &Taxonomy::builtin());
        assert_eq!(s.label["cure_claim"]["train"], 1);
        assert_eq!(s.label["cure_claim"]["test"], 1);
        assert_eq!(s.label["cure_claim"]["total"], 2);
        assert!(s.label["panacea_claim"].is_empty());
        assert_eq!(s.kind["hard_negative"]["train"], 1);
        assert_eq!(s.channel["livestream"]["total"], 2);
        assert_eq!(s.product["none"]["total"], 4);
        assert_eq!(s.handwritten.examples, 4);
        assert!((s.handwritten.livestream - 0.5).abs() < 1e-9);
        assert!((s.handwritten.negatives - 0.5).abs() < 1e-9);
        assert!((s.handwritten.hard_of_negatives - 0.5).abs() < 1e-9);
        assert!((s.handwritten.evasive_of_positives - 0.5).abs() < 1e-9);
        assert_eq!(s.handwritten.positives_per_label["cure_claim"], 2);
        let md = s.to_markdown();
        assert!(md.contains("| cure_claim | 1 | 0 | 1 | 2 |"), "{md}");
        assert!(md.contains("| panacea_claim | 0 | 0 | 0 | 0 |"), "{md}");
    }

    #[test]
    fn empty_input_gives_zero_shares_not_nan() {
        let s = compute(&[], &Taxonomy::builtin());
        assert_eq!(s.handwritten.livestream, 0.0);
        assert!(serde_json::to_string(&s).is_ok());
    }
}
