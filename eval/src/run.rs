//! One evaluation run: load data, score every system, compute every figure, write
//! metrics.json, report.md and report.html.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use qingwang_datasets::{Kind, Lexicons, Split, Taxonomy};
use qingwang_model::metrics::{best_threshold, quality};

use crate::bootstrap::{Row, estimates};
use crate::calibration::calibration;
use crate::curves::{average_precision, pr_curve, sweep_grid, threshold_sweep};
use crate::data::{Dataset, load};
use crate::error::{EvalError, Result};
use crate::mistakes::worst;
use crate::robustness::robustness;
use crate::schema::{EvalReport, Header, LabelReport, RobustnessRow, SCHEMA, SystemReport};
use crate::slices::{breakdowns, confusion, span_overlap};
use crate::speed::measure;
use crate::system::{KeywordScorer, LinearScorer, ModelScorer, Output, Scorer, SystemKind};

/// Everything a run needs, validated by [`EvalConfig::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalConfig {
    /// Bundle directories (may be empty: then only the keyword baseline is scored).
    pub models: Vec<PathBuf>,
    /// JSONL data files.
    pub data: Vec<PathBuf>,
    /// Keep only this split (lines without a split are kept).
    pub split: Option<Split>,
    /// Output directory (created).
    pub out: PathBuf,
    /// Seed of the bootstrap and the evasion rewrites.
    pub seed: u64,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Worst errors kept per kind and system.
    pub top_errors: usize,
    /// Texts timed per system (0: no speed measurement).
    pub speed_texts: usize,
    /// Command line, for the header.
    pub command: String,
    /// Date for the header (RFC 3339).
    pub date: String,
}

impl EvalConfig {
    /// Check the settings, naming the bad one.
    pub fn check(&self) -> Result<()> {
        if self.data.is_empty() {
            return Err(EvalError::Config {
                field: "--data",
                message: "at least one data file is needed".into(),
            });
        }
        if self.bootstrap > 100_000 {
            return Err(EvalError::Config {
                field: "--bootstrap",
                message: format!("{} resamples is more than 100000", self.bootstrap),
            });
        }
        Ok(())
    }
}

/// UTC date-time of a Unix time, RFC 3339 (days-to-civil after H. Hinnant).
pub fn rfc3339(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The current UTC time, RFC 3339.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn system_report(
    s: &dyn Scorer,
    model: Option<&ModelScorer>,
    data: &Dataset,
    outputs: &[Output],
    tax: &Taxonomy,
    cfg: &EvalConfig,
) -> Result<SystemReport> {
    let examples: Vec<_> = data.items.iter().map(|i| i.example.clone()).collect();
    let sys: Vec<_> = outputs.iter().map(Output::system_output).collect();
    let q = quality(&examples, &sys, tax, s.predicts_products());
    let golds: Vec<Vec<bool>> = data.items.iter().map(|i| i.gold_flags(tax)).collect();
    let rows: Vec<Row> = golds
        .iter()
        .zip(outputs)
        .zip(&data.items)
        .map(|((g, o), it)| Row {
            gold: g.clone(),
            pred: o.flags.clone(),
            hard_negative: it.example.effective_kind() == Kind::HardNegative,
        })
        .collect();
    let headline = estimates(&rows, cfg.bootstrap, cfg.seed);
    let has_probs = outputs.iter().all(|o| o.probs.is_some()) && !outputs.is_empty();
    let mut labels = BTreeMap::new();
    for (li, l) in tax.labels.iter().enumerate() {
        let gold: Vec<bool> = golds.iter().map(|g| g[li]).collect();
        let prf = q.per_label.get(&l.id).copied().unwrap_or_default();
        let rep = if has_probs {
            let scores: Vec<f32> = outputs
                .iter()
                .map(|o| o.probs.as_ref().map_or(0.0, |p| p[li]))
                .collect();
            let curve = pr_curve(&scores, &gold);
            LabelReport {
                prf,
                threshold: s.thresholds().and_then(|t| t.get(li).copied()),
                best_threshold: best_threshold(&scores, &gold),
                average_precision: average_precision(&curve),
                pr_curve: curve,
                sweep: threshold_sweep(&scores, &gold, &sweep_grid()),
            }
        } else {
            LabelReport {
                prf,
                threshold: None,
                best_threshold: None,
                average_precision: None,
                pr_curve: vec![],
                sweep: vec![],
            }
        };
        labels.insert(l.id.clone(), rep);
    }
    let bin_gold: Vec<bool> = data.items.iter().map(|i| i.example.is_positive()).collect();
    let bin_scores: Vec<f32> = outputs.iter().map(|o| o.score).collect();
    let binary_pr_curve = if has_probs {
        pr_curve(&bin_scores, &bin_gold)
    } else {
        vec![]
    };
    let (calibration_binary, calibration_labels) = if has_probs {
        let mut pooled_p = Vec::new();
        let mut pooled_g = Vec::new();
        for (o, g) in outputs.iter().zip(&golds) {
            if let Some(p) = &o.probs {
                pooled_p.extend_from_slice(p);
                pooled_g.extend_from_slice(g);
            }
        }
        (
            Some(calibration(&bin_scores, &bin_gold, 10)),
            Some(calibration(&pooled_p, &pooled_g, 10)),
        )
    } else {
        (None, None)
    };
    let label_ids: Vec<String> = tax.label_ids().map(String::from).collect();
    let products: Vec<String> = tax.product_ids().map(String::from).collect();
    let texts: Vec<&str> = data.items.iter().map(|i| i.example.text.as_str()).collect();
    let speed = if cfg.speed_texts > 0 {
        Some(measure(s, &texts, cfg.speed_texts, 32)?)
    } else {
        None
    };
    Ok(SystemReport {
        id: s.id().to_string(),
        kind: s.kind(),
        version: s.version(),
        dir: model.map(|m| m.classifier().dir().display().to_string()),
        trained_on_sha256: model
            .and_then(|m| m.classifier().manifest())
            .map(|m| m.dataset_sha256.clone()),
        binary_average_precision: average_precision(&binary_pr_curve),
        binary_pr_curve,
        calibration_binary,
        calibration_labels,
        spans: span_overlap(&data.items, outputs),
        products: s
            .predicts_products()
            .then(|| confusion(&data.items, outputs, &products)),
        breakdowns: breakdowns(&data.items, outputs),
        errors: worst(&data.items, outputs, &label_ids, cfg.top_errors),
        speed,
        input_errors: outputs.iter().filter(|o| o.input_error.is_some()).count(),
        quality: q,
        headline,
        labels,
    })
}

/// Score everything and build the report (writes nothing).
pub fn evaluate(cfg: &EvalConfig) -> Result<EvalReport> {
    cfg.check()?;
    let tax = Taxonomy::builtin();
    let lex = Lexicons::builtin()?;
    let data = load(&cfg.data, cfg.split, &tax)?;
    let keyword = KeywordScorer::new(&lex, &tax);
    let mut models = Vec::new();
    for (i, dir) in cfg.models.iter().enumerate() {
        let id = if i == 0 {
            "model".to_string()
        } else {
            format!("model{}", i + 1)
        };
        models.push(ModelScorer::load(id, dir)?);
    }
    // The first bundle's linear baseline, when it has one (older bundles may not).
    let linear = match models.first() {
        Some(m) if m.classifier().dir().join("linear.json").is_file() => Some(LinearScorer::load(
            m.classifier().dir(),
            m.classifier().version(),
        )?),
        _ => None,
    };
    let mut systems: Vec<(&dyn Scorer, Option<&ModelScorer>)> = vec![(&keyword, None)];
    if let Some(l) = &linear {
        systems.push((l, None));
    }
    systems.extend(models.iter().map(|m| (m as &dyn Scorer, Some(m))));
    let texts: Vec<&str> = data.items.iter().map(|i| i.example.text.as_str()).collect();
    let mut reports = Vec::new();
    for (s, m) in &systems {
        tracing::info!(system = s.id(), examples = texts.len(), "scoring");
        let outputs = s.run(&texts)?;
        reports.push(system_report(*s, *m, &data, &outputs, &tax, cfg)?);
    }
    tracing::info!("robustness");
    let scorers: Vec<&dyn Scorer> = systems.iter().map(|(s, _)| *s).collect();
    let rob = robustness(&data.items, &lex, &scorers, cfg.seed)?;
    let robustness = rob
        .into_iter()
        .map(|(kind, rs)| RobustnessRow {
            kind,
            systems: scorers.iter().map(|s| s.id().to_string()).zip(rs).collect(),
        })
        .collect();
    Ok(EvalReport {
        schema: SCHEMA.to_string(),
        header: Header {
            date: cfg.date.clone(),
            command: cfg.command.clone(),
            data_files: data.files.clone(),
            dataset_sha256: data.sha256.clone(),
            split: cfg.split.map(|s| s.as_str().to_string()),
            examples: data.items.len(),
            positives: data
                .items
                .iter()
                .filter(|i| i.example.is_positive())
                .count(),
            taxonomy_version: tax.version.clone(),
            bootstrap_resamples: cfg.bootstrap,
            seed: cfg.seed,
        },
        systems: reports,
        robustness,
    })
}

/// Write metrics.json, report.md and report.html into `out`.
pub fn write_outputs(report: &EvalReport, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| EvalError::io(out, e))?;
    let json = serde_json::to_string_pretty(report).map_err(|source| EvalError::Json {
        path: out.join("metrics.json"),
        source,
    })?;
    let write = |name: &str, body: String| {
        let p = out.join(name);
        std::fs::write(&p, body).map_err(|e| EvalError::io(p, e))
    };
    write("metrics.json", json + "\n")?;
    write("report.md", crate::markdown::render(report))?;
    write("report.html", crate::html::render(report)?)?;
    Ok(())
}

/// [`evaluate`] then [`write_outputs`] into `cfg.out`.
pub fn run(cfg: &EvalConfig) -> Result<EvalReport> {
    let report = evaluate(cfg)?;
    write_outputs(&report, &cfg.out)?;
    Ok(report)
}

/// Systems of a report that have probabilities (models).
pub fn model_systems(r: &EvalReport) -> impl Iterator<Item = &SystemReport> {
    r.systems.iter().filter(|s| s.kind == SystemKind::Model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_by_hand() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn config_names_the_bad_setting() {
        let cfg = EvalConfig {
            models: vec![],
            data: vec![],
            split: None,
            out: PathBuf::from("x"),
            seed: 1,
            bootstrap: 10,
            top_errors: 1,
            speed_texts: 0,
            command: String::new(),
            date: String::new(),
        };
        assert!(cfg.check().unwrap_err().to_string().starts_with("--data"));
    }
}
