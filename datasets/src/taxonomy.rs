//! The claim taxonomy: labels, product categories, channels and default thresholds.
//!
//! `datasets/taxonomy.json` is the single source of truth. It is compiled into the binary
//! ([`Taxonomy::builtin`]) so every crate sees the same list without a path to find.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};

const BUILTIN: &str = include_str!("../taxonomy.json");

/// One claim label.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelDef {
    /// Stable machine id, e.g. `cure_claim`.
    pub id: String,
    /// Chinese name shown to analysts.
    pub zh: String,
    /// What a text must assert, in the promoter's own voice, to carry this label.
    pub definition: String,
    /// The legal provisions this claim breaks.
    pub legal_basis: Vec<String>,
    /// Default decision threshold on the label's probability.
    pub threshold: f32,
}

/// One product category.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProductDef {
    /// Stable machine id, e.g. `hearing`.
    pub id: String,
    /// Chinese name.
    pub zh: String,
    /// What belongs here.
    pub definition: String,
}

/// Types of negative examples, split into hard (contain trigger words) and easy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NegativeTypes {
    /// Negatives that contain claim words in a non-claiming voice.
    pub hard: Vec<String>,
    /// Plain negatives: chatter, prices, questions.
    pub easy: Vec<String>,
}

/// How label scores become a verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VerdictDef {
    /// A flagged label scoring at least this makes the verdict `block`.
    pub block: f32,
    /// Human-readable rule.
    pub description: String,
}

/// The whole taxonomy file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Taxonomy {
    /// Version string; bump on every change of labels or thresholds.
    pub version: String,
    /// What the taxonomy is.
    pub description: String,
    /// Claim labels, in model output order.
    pub labels: Vec<LabelDef>,
    /// Product categories, in model output order.
    pub products: Vec<ProductDef>,
    /// Channel ids.
    pub channels: Vec<String>,
    /// Evasion kinds that examples may be tagged with.
    pub evasion_kinds: Vec<String>,
    /// Negative types.
    pub negative_types: NegativeTypes,
    /// Verdict rule.
    pub verdict: VerdictDef,
    #[serde(skip)]
    label_index: HashMap<String, usize>,
    #[serde(skip)]
    product_index: HashMap<String, usize>,
}

impl Taxonomy {
    /// The taxonomy compiled into this build (`datasets/taxonomy.json`).
    pub fn builtin() -> Self {
        // The builtin file is checked by a unit test, so parsing it cannot fail at run time.
        match Self::from_json(BUILTIN, Path::new("datasets/taxonomy.json")) {
            Ok(t) => t,
            Err(e) => unreachable!("builtin taxonomy is tested to parse: {e}"),
        }
    }

    /// The raw text of the builtin taxonomy (for copying into model bundles).
    pub fn builtin_json() -> &'static str {
        BUILTIN
    }

    /// Load a taxonomy file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// Parse and check a taxonomy document.
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let mut t: Taxonomy = serde_json::from_str(text).map_err(|source| DatasetError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        t.index()?;
        Ok(t)
    }

    fn index(&mut self) -> Result<()> {
        self.label_index.clear();
        self.product_index.clear();
        for (i, l) in self.labels.iter().enumerate() {
            if !(0.0..=1.0).contains(&l.threshold) {
                return Err(DatasetError::Taxonomy(format!(
                    "label {} threshold {} outside [0,1]",
                    l.id, l.threshold
                )));
            }
            if self.label_index.insert(l.id.clone(), i).is_some() {
                return Err(DatasetError::Taxonomy(format!(
                    "duplicate label id {}",
                    l.id
                )));
            }
        }
        for (i, p) in self.products.iter().enumerate() {
            if self.product_index.insert(p.id.clone(), i).is_some() {
                return Err(DatasetError::Taxonomy(format!(
                    "duplicate product id {}",
                    p.id
                )));
            }
        }
        if self.labels.is_empty() || self.products.is_empty() {
            return Err(DatasetError::Taxonomy(
                "labels and products must not be empty".into(),
            ));
        }
        Ok(())
    }

    /// Position of a label id in [`Taxonomy::labels`].
    pub fn label_index(&self, id: &str) -> Option<usize> {
        self.label_index.get(id).copied()
    }

    /// Position of a product id in [`Taxonomy::products`].
    pub fn product_index(&self, id: &str) -> Option<usize> {
        self.product_index.get(id).copied()
    }

    /// Label ids in order.
    pub fn label_ids(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(|l| l.id.as_str())
    }

    /// Product ids in order.
    pub fn product_ids(&self) -> impl Iterator<Item = &str> {
        self.products.iter().map(|p| p.id.as_str())
    }

    /// Whether a negative type counts as hard.
    pub fn is_hard_negative_type(&self, t: &str) -> bool {
        self.negative_types.hard.iter().any(|h| h == t)
    }

    /// Whether `t` is a known negative type.
    pub fn is_negative_type(&self, t: &str) -> bool {
        self.is_hard_negative_type(t) || self.negative_types.easy.iter().any(|h| h == t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_indexes_every_label() {
        let t = Taxonomy::builtin();
        assert_eq!(t.labels.len(), 12);
        assert_eq!(t.products.len(), 11);
        for (i, l) in t.labels.iter().enumerate() {
            assert_eq!(t.label_index(&l.id), Some(i));
            assert!(!l.legal_basis.is_empty(), "{} has no legal basis", l.id);
        }
        assert_eq!(t.label_index("nope"), None);
        assert!(t.is_hard_negative_type("debunk"));
        assert!(!t.is_hard_negative_type("chatter"));
        assert!(t.is_negative_type("chatter"));
    }

    #[test]
    fn duplicate_label_is_rejected() {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN).unwrap_or_default();
        let first = v["labels"][0].clone();
        if let Some(a) = v["labels"].as_array_mut() {
            a.push(first);
        }
        let err = Taxonomy::from_json(&v.to_string(), Path::new("t.json")).err();
        assert!(matches!(err, Some(DatasetError::Taxonomy(m)) if m.contains("duplicate label")));
    }

    #[test]
    fn threshold_out_of_range_is_rejected() {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN).unwrap_or_default();
        v["labels"][3]["threshold"] = serde_json::json!(1.5);
        assert!(Taxonomy::from_json(&v.to_string(), Path::new("t.json")).is_err());
    }
}
