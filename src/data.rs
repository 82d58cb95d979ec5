//! `qingwang data …`: thin wrappers over `qingwang_datasets`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use qingwang_datasets::dedupe::{NearDupConfig, NearDupIndex, dedupe_key};
use qingwang_datasets::generate::{Fragments, GenerateConfig, Generator};
use qingwang_datasets::interchange::{self, AnnotatedTask, labelstudio as ls};
use qingwang_datasets::split::{SplitConfig, split};
use qingwang_datasets::{
    Example, Lexicons, Source, Span, Taxonomy, example, repo_path, stats, validate,
};

#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Check files: schema, unknown labels, spans, duplicate ids, family leaks and
    /// near-duplicates across splits. Exits 1 when anything is wrong.
    Validate {
        /// JSONL files (default: the committed hand-written and generated data).
        files: Vec<PathBuf>,
    },
    /// Print the data card's tables.
    Stats {
        /// JSONL files (default: the committed data).
        files: Vec<PathBuf>,
        /// Print JSON instead of Markdown.
        #[arg(long)]
        json: bool,
    },
    /// Remove exact duplicates (normalised text) and near-duplicates within a file; first copy wins.
    Dedupe {
        /// Input JSONL.
        input: PathBuf,
        /// Output JSONL.
        #[arg(long)]
        output: PathBuf,
        /// Also drop near-duplicates (3-gram Jaccard / containment), not only exact ones.
        #[arg(long)]
        near: bool,
    },
    /// Assign train/dev/test by family (seeded) and remove near-duplicates across splits.
    Split {
        /// Input JSONL (non-generated examples).
        input: PathBuf,
        /// Output JSONL.
        #[arg(long)]
        output: PathBuf,
        /// Seed for the family order.
        #[arg(long, default_value_t = SplitConfig::default().seed)]
        seed: u64,
        /// Share of each group's families sent to dev.
        #[arg(long, default_value_t = SplitConfig::default().dev_fraction)]
        dev_fraction: f32,
        /// Share of each group's families sent to test.
        #[arg(long, default_value_t = SplitConfig::default().test_fraction)]
        test_fraction: f32,
    },
    /// Turn hand-written authoring files (evidence given as quoted words) into dataset lines with
    /// char-offset spans; ids are `hw-<family>-<n>`. Run `split` on the result.
    Ingest {
        /// Authoring JSONL files.
        inputs: Vec<PathBuf>,
        /// Output JSONL.
        #[arg(long)]
        output: PathBuf,
        /// Source to record (handwritten or analyst).
        #[arg(long, default_value = "handwritten")]
        source: String,
    },
    /// Generate augmented training examples from the fragment pools and the train split.
    Generate {
        /// Hand-written data with splits assigned (train is material; dev/test are kept out).
        #[arg(long, default_value_os_t = repo_path(qingwang_datasets::HANDWRITTEN))]
        handwritten: PathBuf,
        /// Output JSONL.
        #[arg(long, default_value_os_t = repo_path(qingwang_datasets::GENERATED))]
        output: PathBuf,
        /// RNG seed.
        #[arg(long, default_value_t = GenerateConfig::default().seed)]
        seed: u64,
        /// Number of examples.
        #[arg(long, default_value_t = GenerateConfig::default().count)]
        count: usize,
    },
    /// Choose the pool texts most worth labelling: where the model is least sure
    /// (uncertainty), where the network, the linear baseline and the keyword matcher disagree
    /// (disagreement), phrasings far from the dataset (diversity: character 2-3-gram k-centre),
    /// or 40/30/30 of the three (mixed). Texts the dataset already has are dropped first. Writes
    /// JSONL {id, text, strategy, reason, ...} that `data export` takes.
    Sample {
        /// Pool JSONL: one {"id", "text"} per line (dataset lines work too).
        #[arg(long)]
        from: PathBuf,
        /// How many texts to choose.
        #[arg(long)]
        n: usize,
        /// uncertainty, disagreement, diversity or mixed.
        #[arg(long, default_value = "mixed")]
        strategy: SampleStrategy,
        /// Labelled data to deduplicate against (repeatable; default: the committed data).
        #[arg(long = "dataset")]
        datasets: Vec<PathBuf>,
        /// Seed (diversity's first pick and tie order).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Bundle (default: the committed default bundle).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Output JSONL (default: stdout).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Drop only exact duplicates (normalised text), not near-duplicates too.
        #[arg(long)]
        exact_only: bool,
    },
    /// Write dataset JSONL as labelling tasks: a Label Studio JSON array (with the model's
    /// pre-annotations unless --no-predictions; offsets in UTF-16 code units) or doccano JSONL.
    Export {
        /// labelstudio or doccano.
        #[arg(long)]
        format: ToolFormat,
        /// Dataset JSONL, or raw pool lines {"id", "text"} (e.g. `data sample` output).
        #[arg(long)]
        input: PathBuf,
        /// Output file.
        #[arg(long)]
        output: PathBuf,
        /// Bundle for the pre-annotations (default: the committed default bundle).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Export without pre-annotations.
        #[arg(long)]
        no_predictions: bool,
    },
    /// Read annotations exported from Label Studio or doccano back into dataset JSONL: one
    /// record per annotator (source analyst, family analyst-<task id>); disagreements listed.
    Import {
        #[command(flatten)]
        from: ToolExport,
        /// Dataset JSONL to write.
        #[arg(long)]
        output: PathBuf,
        /// Write the conflicts to adjudicate here as JSONL (default: only counted on stderr).
        #[arg(long)]
        conflicts: Option<PathBuf>,
    },
    /// Inter-annotator agreement of a Label Studio or doccano export: per-label Cohen's kappa
    /// and Krippendorff's alpha, product alpha, span F1 and the items to adjudicate (JSON).
    Agreement {
        #[command(flatten)]
        from: ToolExport,
    },
}

/// A labelling tool's export file and its format.
#[derive(Debug, Args)]
struct ToolExport {
    /// labelstudio or doccano.
    #[arg(long)]
    format: ToolFormat,
    /// The tool's export.
    #[arg(long)]
    input: PathBuf,
}

/// A sampling strategy.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SampleStrategy {
    /// Closest to the thresholds.
    Uncertainty,
    /// Where the systems disagree.
    Disagreement,
    /// Far from the dataset and from each other.
    Diversity,
    /// 40% uncertainty, 30% disagreement, 30% diversity.
    Mixed,
}

impl From<SampleStrategy> for qingwang_model::active::Strategy {
    fn from(s: SampleStrategy) -> Self {
        match s {
            SampleStrategy::Uncertainty => Self::Uncertainty,
            SampleStrategy::Disagreement => Self::Disagreement,
            SampleStrategy::Diversity => Self::Diversity,
            SampleStrategy::Mixed => Self::Mixed,
        }
    }
}

/// A labelling tool's file format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ToolFormat {
    /// Label Studio JSON (tasks array; UTF-16 offsets).
    Labelstudio,
    /// doccano JSONL (code-point offsets).
    Doccano,
}

fn import_tasks(from: &ToolExport) -> Result<Vec<AnnotatedTask>> {
    let (format, input) = (from.format, from.input.as_path());
    let text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let tasks = match format {
        ToolFormat::Labelstudio => interchange::labelstudio::import(&text),
        ToolFormat::Doccano => interchange::doccano::import(&text),
    };
    tasks.with_context(|| format!("reading {}", input.display()))
}

fn predictions(model: Option<PathBuf>, examples: &[Example]) -> Result<Vec<ls::Prediction>> {
    let dir = model.unwrap_or_else(qingwang_model::bundle::default_dir);
    let classifier = qingwang_model::Classifier::load(&dir)
        .with_context(|| format!("loading the bundle {}", dir.display()))?;
    let mut out = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(128) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        let (preds, _) =
            classifier.classify(&texts, &qingwang_model::ClassifyOptions::default())?;
        for (p, e) in preds.into_iter().zip(chunk) {
            // A text the model refuses (too long, empty) is exported without labels and score 0.
            out.push(match p {
                Ok(p) => ls::Prediction {
                    model_version: p.model.clone(),
                    score: p.score,
                    labels: p.labels.iter().map(|l| l.id.clone()).collect(),
                    product: p.product.map(|x| x.id),
                    spans: p
                        .spans
                        .into_iter()
                        .map(|s| Span {
                            label: s.label,
                            char_start: s.char_start,
                            char_end: s.char_end,
                            text: s.text,
                        })
                        .collect(),
                },
                Err(err) => {
                    tracing::warn!(id = %e.id, error = %err, "not pre-annotated");
                    ls::Prediction {
                        model_version: classifier.version().to_string(),
                        score: 0.0,
                        labels: vec![],
                        product: None,
                        spans: vec![],
                    }
                }
            });
        }
    }
    Ok(out)
}

fn default_files(files: Vec<PathBuf>) -> Vec<PathBuf> {
    if files.is_empty() {
        vec![
            repo_path(qingwang_datasets::HANDWRITTEN),
            repo_path(qingwang_datasets::GENERATED),
        ]
    } else {
        files
    }
}

fn read_all(files: &[PathBuf]) -> Result<Vec<Example>> {
    let mut all = Vec::new();
    for f in files {
        all.extend(example::read_examples(f).with_context(|| format!("reading {}", f.display()))?);
    }
    Ok(all)
}

pub fn run(args: DataArgs) -> Result<ExitCode> {
    let tax = Taxonomy::builtin();
    match args.command {
        DataCommand::Validate { files } => {
            let files = default_files(files);
            let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
            let (issues, n) = validate::validate_files(&paths, &tax, NearDupConfig::default())?;
            for i in &issues {
                println!("{i}");
            }
            println!(
                "{n} examples in {} files, {} problems",
                files.len(),
                issues.len()
            );
            Ok(if issues.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        DataCommand::Stats { files, json } => {
            let all = read_all(&default_files(files))?;
            let s = stats::compute(&all, &tax);
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print!("{}", s.to_markdown());
            }
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Dedupe {
            input,
            output,
            near,
        } => {
            let all = example::read_examples(&input)?;
            let n = all.len();
            let mut idx = NearDupIndex::new();
            let mut keys = std::collections::HashSet::new();
            let mut kept = Vec::new();
            for ex in all {
                let dup = !keys.insert(dedupe_key(&ex.text))
                    || (near && idx.query(&ex.text, NearDupConfig::default()).is_some());
                if dup {
                    eprintln!("dropped {} (duplicate)", ex.id);
                    continue;
                }
                idx.add(&ex.text);
                kept.push(ex);
            }
            example::write_jsonl(&output, &kept)?;
            println!("kept {} of {n}", kept.len());
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Split {
            input,
            output,
            seed,
            dev_fraction,
            test_fraction,
        } => {
            if !(0.0..1.0).contains(&(dev_fraction + test_fraction)) {
                bail!("--dev-fraction + --test-fraction must be in [0, 1)");
            }
            let all = example::read_examples(&input)?;
            let cfg = SplitConfig {
                seed,
                dev_fraction,
                test_fraction,
            };
            let (kept, report) = split(all, cfg, NearDupConfig::default());
            for (id, s, other) in &report.removed {
                eprintln!("removed {id} from {s}: near-duplicate of {other}");
            }
            example::write_jsonl(&output, &kept)?;
            println!("{}", serde_json::to_string(&report.counts)?);
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Ingest {
            inputs,
            output,
            source,
        } => {
            let source = match source.as_str() {
                "handwritten" => Source::Handwritten,
                "analyst" => Source::Analyst,
                other => bail!("--source must be handwritten or analyst, not {other}"),
            };
            let mut all = Vec::new();
            for p in &inputs {
                let f =
                    std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
                all.extend(qingwang_datasets::authoring::ingest(
                    std::io::BufReader::new(f),
                    p,
                    source,
                )?);
            }
            example::write_jsonl(&output, &all)?;
            println!(
                "wrote {} examples from {} files to {}",
                all.len(),
                inputs.len(),
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Generate {
            handwritten,
            output,
            seed,
            count,
        } => {
            let hw = example::read_examples(&handwritten)?;
            if hw.iter().any(|e| e.source == Source::Generated) {
                bail!(
                    "{} contains generated examples; pass the hand-written file",
                    handwritten.display()
                );
            }
            let frags = Fragments::builtin()?;
            let lex = Lexicons::builtin()?;
            let generator = Generator::new(&frags, &lex, &tax, &hw);
            let out = generator.generate(
                GenerateConfig {
                    seed,
                    count,
                    ..GenerateConfig::default()
                },
                &hw,
            )?;
            example::write_jsonl(&output, &out)?;
            println!("wrote {} examples to {}", out.len(), output.display());
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Sample {
            from,
            n,
            strategy,
            datasets,
            seed,
            model,
            output,
            exact_only,
        } => {
            let cfg = crate::sample_cmd::SampleConfig {
                from,
                n,
                strategy: strategy.into(),
                datasets: default_files(datasets),
                seed,
                model: model.unwrap_or_else(qingwang_model::bundle::default_dir),
                output,
                near: !exact_only,
            };
            let written = crate::sample_cmd::run(&cfg)?;
            eprintln!("chose {written} texts");
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Export {
            format,
            input,
            output,
            model,
            no_predictions,
        } => {
            let examples: Vec<Example> = qingwang_datasets::pool::read_pool(&input)
                .with_context(|| format!("reading {}", input.display()))?
                .iter()
                .map(qingwang_datasets::pool::PoolText::to_example)
                .collect();
            let body = match format {
                ToolFormat::Labelstudio => {
                    let preds = if no_predictions {
                        None
                    } else {
                        Some(predictions(model, &examples)?)
                    };
                    serde_json::to_string_pretty(&ls::export(&examples, preds.as_deref()))? + "\n"
                }
                ToolFormat::Doccano => interchange::doccano::export(&examples),
            };
            std::fs::write(&output, body)
                .with_context(|| format!("writing {}", output.display()))?;
            println!("wrote {} tasks to {}", examples.len(), output.display());
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Import {
            from,
            output,
            conflicts,
        } => {
            let tasks = import_tasks(&from)?;
            let examples: Vec<Example> = tasks.iter().flat_map(|t| t.to_examples()).collect();
            example::write_jsonl(&output, &examples)?;
            let found: Vec<_> = tasks.iter().flat_map(|t| t.conflicts()).collect();
            if let Some(path) = conflicts {
                let mut body = String::new();
                for c in &found {
                    body.push_str(&serde_json::to_string(c)?);
                    body.push('\n');
                }
                std::fs::write(&path, body)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            println!(
                "imported {} tasks as {} records into {}; {} conflicts to adjudicate",
                tasks.len(),
                examples.len(),
                output.display(),
                found.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Agreement { from } => {
            let tasks = import_tasks(&from)?;
            let labels: Vec<String> = tax.label_ids().map(String::from).collect();
            let report = qingwang_datasets::agreement::report(&tasks, &labels);
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
