//! `qingwang scan`: a whole transcript (JSONL, SRT or WebVTT) in, incidents and a room summary
//! out, as JSON or a table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use qingwang_model::Classifier;
use qingwang_model::bundle;
use qingwang_model::transcript::{self, Format, RoomConfig, WindowConfig};

/// Arguments of `qingwang scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Transcript file: .jsonl (one segment per line), .srt or .vtt.
    file: PathBuf,
    /// Model bundle directory.
    #[arg(long, default_value_os_t = bundle::default_dir())]
    model: PathBuf,
    /// Output: json or table.
    #[arg(long, default_value = "json")]
    format: OutFormat,
    /// Input format, when the extension and content do not tell.
    #[arg(long)]
    input: Option<String>,
    /// Window length, chars of the concatenated transcript.
    #[arg(long, default_value_t = WindowConfig::default().len)]
    window: usize,
    /// Chars between window starts.
    #[arg(long, default_value_t = WindowConfig::default().stride)]
    stride: usize,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OutFormat {
    Json,
    Table,
}

fn mmss(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// `qingwang scan`.
pub fn scan(args: ScanArgs) -> Result<ExitCode> {
    let window = WindowConfig {
        len: args.window,
        stride: args.stride,
    };
    window.validate().map_err(|e| anyhow!(e))?;
    let content = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let format = match &args.input {
        Some(n) => {
            Format::from_name(n).ok_or_else(|| anyhow!("--input {n}: use jsonl, srt or vtt"))?
        }
        None => Format::detect(Some(&args.file), &content).ok_or_else(|| {
            anyhow!(
                "{}: cannot tell the format; use --input jsonl|srt|vtt",
                args.file.display()
            )
        })?,
    };
    let segments =
        transcript::parse(&content, format).with_context(|| format!("{}", args.file.display()))?;
    let classifier = Classifier::load(&args.model)
        .with_context(|| format!("loading bundle {}", args.model.display()))?;
    let cfg = RoomConfig {
        window,
        ..RoomConfig::default()
    };
    let (incidents, summary) = transcript::scan(segments, cfg, &classifier)?;
    match args.format {
        OutFormat::Json => {
            let v = serde_json::json!({ "incidents": incidents, "summary": summary });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        OutFormat::Table => {
            println!(
                "{:<8} {:<13} {:<7} {:<6} {:<28} evidence",
                "id", "time", "verdict", "score", "labels"
            );
            for i in &incidents {
                let labels: Vec<&str> = i.labels.iter().map(|l| l.id.as_str()).collect();
                let quotes: Vec<String> = i
                    .evidence
                    .iter()
                    .map(|e| format!("#{} 「{}」", e.seq, e.text))
                    .collect();
                println!(
                    "{:<8} {}–{:<7} {:<7} {:<6.2} {:<28} {}",
                    i.id,
                    mmss(i.start_ms),
                    mmss(i.end_ms),
                    format!("{:?}", i.verdict).to_lowercase(),
                    i.score,
                    labels.join(","),
                    quotes.join(" ")
                );
            }
            println!();
            println!(
                "{} incidents in {} segments, {} chars, {}",
                summary.incidents,
                summary.segments,
                summary.chars,
                mmss(summary.duration_ms)
            );
            for (l, n) in &summary.incidents_per_label {
                println!("  {l}: {n}");
            }
            if let Some(w) = &summary.worst_minute {
                println!(
                    "worst minute: {} (risk {:.2}, {} incidents)",
                    mmss(w.minute * 60_000),
                    w.risk,
                    w.incidents
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
