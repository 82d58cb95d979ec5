//! `qingwang data sample`: score a pool with the bundle's network, linear baseline and keyword
//! matcher, drop what the dataset already has, and let `qingwang_model::active` choose.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qingwang_datasets::pool::{self, PoolText};
use qingwang_datasets::{Lexicons, Taxonomy, example};
use qingwang_model::Classifier;
use qingwang_model::active::{self, Duplicate, NgramIndex, Scorecard, Strategy, TextScores};
use qingwang_model::baseline::{KeywordMatcher, LinearModel};
use qingwang_model::classifier::check_text;
use qingwang_model::normalize::Normalizer;
use serde_json::json;

/// What `data sample` was asked for, checked.
pub struct SampleConfig {
    /// The pool file.
    pub from: PathBuf,
    /// How many texts to choose.
    pub n: usize,
    /// How.
    pub strategy: Strategy,
    /// Labelled data to deduplicate against and to measure novelty from.
    pub datasets: Vec<PathBuf>,
    /// Seed for diversity's tie order.
    pub seed: u64,
    /// Bundle directory.
    pub model: PathBuf,
    /// Output file (stdout when absent).
    pub output: Option<PathBuf>,
    /// Also drop near-duplicates of the dataset and of earlier pool texts.
    pub near: bool,
}

/// The three systems of a bundle.
struct Systems {
    classifier: Classifier,
    linear: LinearModel,
    keyword: KeywordMatcher,
    normalizer: Normalizer,
    card: Scorecard,
}

fn load(dir: &Path) -> Result<Systems> {
    let classifier =
        Classifier::load(dir).with_context(|| format!("loading the bundle {}", dir.display()))?;
    let linear = LinearModel::load(dir)
        .with_context(|| format!("loading the linear baseline of {}", dir.display()))?;
    let lex = Lexicons::load_dir(&dir.join("lexicon"))
        .with_context(|| format!("loading the lexicons of {}", dir.display()))?;
    let tax = Taxonomy::builtin();
    let labels: Vec<String> = classifier.labels().iter().map(|l| l.id.clone()).collect();
    let tax_labels: Vec<String> = tax.label_ids().map(String::from).collect();
    if labels != tax_labels || linear.thresholds.len() != labels.len() {
        bail!(
            "the bundle {} was built for another label set than this build's taxonomy",
            dir.display()
        );
    }
    let card = Scorecard {
        model_thresholds: classifier.labels().iter().map(|l| l.threshold).collect(),
        model_gate: classifier.gate(),
        linear_thresholds: linear.thresholds.clone(),
        labels,
    };
    Ok(Systems {
        keyword: KeywordMatcher::new(&lex, &tax),
        normalizer: Normalizer::new(&lex),
        classifier,
        linear,
        card,
    })
}

impl Systems {
    fn score(&self, texts: &[&str]) -> Result<Vec<TextScores>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(128) {
            let (scored, _) = self.classifier.score(chunk)?;
            if scored.len() != chunk.len() {
                bail!("the model scored {} of {} texts", scored.len(), chunk.len());
            }
            for (s, t) in scored.into_iter().zip(chunk) {
                out.push(TextScores {
                    model: s.label_probs,
                    linear: self.linear.probs(t, &self.normalizer),
                    keyword: self.keyword.flags(t),
                });
            }
        }
        Ok(out)
    }
}

/// Run the command; returns how many texts were written.
pub fn run(cfg: &SampleConfig) -> Result<usize> {
    if cfg.n == 0 {
        bail!("--n must be at least 1");
    }
    let pool = pool::read_pool(&cfg.from)
        .with_context(|| format!("reading the pool {}", cfg.from.display()))?;
    let mut labelled = Vec::new();
    for f in &cfg.datasets {
        labelled
            .extend(example::read_examples(f).with_context(|| format!("reading {}", f.display()))?);
    }
    let systems = load(&cfg.model)?;
    let max = systems.classifier.max_text_chars();
    let dataset_texts: Vec<&str> = labelled.iter().map(|e| e.text.as_str()).collect();
    let pool_texts: Vec<&str> = pool.iter().map(|p| p.text.as_str()).collect();
    let dups = active::fresh(&pool_texts, &dataset_texts, cfg.near);
    let mut candidates: Vec<&PoolText> = Vec::new();
    let mut dropped = (0usize, 0usize, 0usize);
    for (p, d) in pool.iter().zip(&dups) {
        match d {
            Some(Duplicate::OfDataset | Duplicate::NearDataset) => dropped.0 += 1,
            Some(Duplicate::OfPool(j)) => {
                dropped.1 += 1;
                let of = pool.get(*j).map_or("", |x| x.id.as_str());
                tracing::debug!(id = %p.id, of, "duplicate within the pool");
            }
            None if check_text(&p.text, max).is_err() => dropped.2 += 1,
            None => candidates.push(p),
        }
    }
    eprintln!(
        "{} pool texts: {} already in the dataset, {} repeated in the pool, {} too long; {} candidates",
        pool.len(),
        dropped.0,
        dropped.1,
        dropped.2,
        candidates.len()
    );
    let texts: Vec<&str> = candidates.iter().map(|p| p.text.as_str()).collect();
    let scores = systems.score(&texts)?;
    let index = NgramIndex::new(dataset_texts.iter().copied());
    let picks = active::sample(
        cfg.strategy,
        &systems.card,
        &texts,
        &scores,
        &index,
        cfg.n,
        cfg.seed,
    );
    let mut body = String::new();
    for pick in &picks {
        let Some(p) = candidates.get(pick.index) else {
            continue;
        };
        let s = &scores[pick.index];
        let mut line = json!({
            "id": p.id,
            "text": p.text,
            "strategy": pick.strategy,
            "reason": pick.reason,
            "model_score": (f64::from(s.model.iter().copied().fold(0.0, f32::max)) * 1000.0)
                .round()
                / 1000.0,
            "model": systems.classifier.version(),
        });
        if let Some(c) = p.channel {
            line["channel"] = json!(c);
        }
        body.push_str(&serde_json::to_string(&line)?);
        body.push('\n');
    }
    match &cfg.output {
        Some(path) => {
            std::fs::write(path, &body).with_context(|| format!("writing {}", path.display()))?;
        }
        None => std::io::stdout().write_all(body.as_bytes())?,
    }
    Ok(picks.len())
}
