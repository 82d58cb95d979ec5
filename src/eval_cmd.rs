//! `qingwang eval`: a thin wrapper over `qingwang_eval`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use qingwang_datasets::Split;
use qingwang_eval::{EvalConfig, compare, run, schema};
use qingwang_model::bundle;

/// Arguments of `qingwang eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model bundle directories to score (repeatable). Default: the committed default bundle.
    /// The keyword baseline is always scored as well.
    #[arg(long = "model", env = "QINGWANG_MODEL")]
    models: Vec<PathBuf>,
    /// Only the keyword baseline, no model.
    #[arg(long, conflicts_with = "models")]
    keyword_only: bool,
    /// Labelled JSONL files (repeatable); each line needs `text` and `labels`. Default: the
    /// committed hand-written data with `--split test`.
    #[arg(long = "data")]
    data: Vec<PathBuf>,
    /// Keep only lines of this split (train, dev, test); lines without a split are kept.
    #[arg(long)]
    split: Option<SplitArg>,
    /// Output directory for metrics.json, report.md and report.html.
    #[arg(long, default_value = "eval-out")]
    out: PathBuf,
    /// Seed of the bootstrap and the evasion rewrites.
    #[arg(long, default_value_t = 17)]
    seed: u64,
    /// Bootstrap resamples for the confidence intervals.
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Worst false positives and negatives listed per system.
    #[arg(long, default_value_t = 10)]
    top_errors: usize,
    /// Texts timed per system for the speed figures (0 = skip).
    #[arg(long, default_value_t = 300)]
    speed_texts: usize,
    /// Compare two metrics.json files (OLD NEW) instead of running; exits 1 when a headline
    /// metric regressed beyond the old run's 95% interval.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
    compare: Option<Vec<PathBuf>>,
}

/// A split name on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SplitArg {
    /// Training data.
    Train,
    /// Dev data.
    Dev,
    /// Held-out test data.
    Test,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Self {
        match s {
            SplitArg::Train => Split::Train,
            SplitArg::Dev => Split::Dev,
            SplitArg::Test => Split::Test,
        }
    }
}

/// `qingwang eval`.
pub fn eval(args: EvalArgs, command: String) -> Result<ExitCode> {
    if let Some(files) = &args.compare {
        let [old, new] = files.as_slice() else {
            anyhow::bail!("--compare needs two files: OLD NEW");
        };
        let o = schema::read(old).with_context(|| format!("reading {}", old.display()))?;
        let n = schema::read(new).with_context(|| format!("reading {}", new.display()))?;
        let c = compare::compare(&o, &n);
        print!("{}", c.render());
        return Ok(if c.regressed() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let mut split = args.split.map(Split::from);
    let data = if args.data.is_empty() {
        split = split.or(Some(Split::Test));
        vec![bundle::repo_root().join(qingwang_datasets::HANDWRITTEN)]
    } else {
        args.data
    };
    let models = if args.keyword_only {
        vec![]
    } else if args.models.is_empty() {
        vec![bundle::default_dir()]
    } else {
        args.models
    };
    let cfg = EvalConfig {
        models,
        data,
        split,
        out: args.out,
        seed: args.seed,
        bootstrap: args.bootstrap,
        top_errors: args.top_errors,
        speed_texts: args.speed_texts,
        command,
        date: qingwang_eval::run::now_rfc3339(),
    };
    tracing::info!(models = ?cfg.models, data = ?cfg.data, split = ?cfg.split, out = %cfg.out.display(), "eval");
    let report = run(&cfg)?;
    for s in &report.systems {
        let h = |m: &str| s.headline.get(m).map_or(0.0, |e| e.value);
        println!(
            "{:<8} {:<14} violation F1 {:.3} P {:.3} R {:.3}; macro-F1 {:.3}; hard-negative FPR {:.3}",
            s.id,
            qingwang_eval::charts::short(&s.version),
            h("binary_f1"),
            h("binary_precision"),
            h("binary_recall"),
            h("macro_f1"),
            h("hard_negative_fpr"),
        );
    }
    println!("report written to {}", cfg.out.display());
    Ok(ExitCode::SUCCESS)
}
