//! `qingwang`: the one user-facing binary. Parses arguments, sets up logging and calls into the
//! library crates; no logic of its own beyond wiring.

mod data;
mod eval_cmd;
mod model_cmd;
mod sample_cmd;
mod scan_cmd;
mod serve_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// qingwang (清网): flags false or illegal medical-device claims in Chinese livestream
/// transcripts and social posts.
#[derive(Debug, Parser)]
#[command(name = "qingwang", version, about)]
struct Cli {
    /// Log format for diagnostics on stderr.
    #[arg(
        long,
        env = "QINGWANG_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Dataset tooling: validate, stats, dedupe, split, ingest, generate, and the labelling tools'
    /// export, import and agreement.
    Data(data::DataArgs),
    /// Train a model bundle: network, dev-tuned thresholds, baselines, metrics, manifest.
    Train(model_cmd::TrainArgs),
    /// Classify JSONL texts with a bundle; one output line per input line, in order.
    Classify(model_cmd::ClassifyArgs),
    /// Scan a transcript (JSONL, SRT or WebVTT): incidents on the timeline and a room summary.
    Scan(scan_cmd::ScanArgs),
    /// Serve the classifier over HTTP (see service/README.md).
    Serve(serve_cmd::ServeArgs),
    /// Evaluate bundles and the keyword baseline; write metrics.json, report.md, report.html.
    Eval(eval_cmd::EvalArgs),
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QINGWANG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// candle's CPU matmul splits every product over `RAYON_NUM_THREADS` threads (all cores by
/// default), read on each call. The inference commands already run one classifying thread per
/// core, so that split only oversubscribes the cores: `qingwang classify` measured 1,882 texts/s
/// with it and 4,652 without on 2 cores. Unless the user set it, inference runs with one kernel
/// thread per caller; `train` (one caller) keeps the default.
#[allow(unsafe_code)]
fn one_kernel_thread_per_caller() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: called first in `main`, before any thread exists (argument parsing spawns
        // none), so nothing reads or writes the environment concurrently.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Train(_)) {
        one_kernel_thread_per_caller();
    }
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Data(args) => data::run(args),
        Command::Train(args) => {
            model_cmd::train(args, std::env::args().collect::<Vec<_>>().join(" "))
        }
        Command::Classify(args) => model_cmd::classify(args),
        Command::Scan(args) => scan_cmd::scan(args),
        Command::Serve(args) => serve_cmd::serve(args),
        Command::Eval(args) => eval_cmd::eval(args, std::env::args().collect::<Vec<_>>().join(" ")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
