//! Throughput of the classifier against the keyword baseline, in the same process, on the same
//! texts (the test split's texts, consecutive ones joined by a space until each is at least
//! MIN_CHARS long and then cut to MIN_CHARS, repeated), using every core. Run with
//! `cargo run --release -p qingwang-model --example bench_classify [N] [ROUNDS] [MIN_CHARS]`
//! (MIN_CHARS default 100, the length the model issue's speed goal names; 0 = the texts as
//! they are); prints the median of each system's rounds, their ratio, and the peak RSS.

use std::time::Instant;

use qingwang_datasets::{Lexicons, Split, Taxonomy, example, repo_path};
use qingwang_model::baseline::KeywordMatcher;
use qingwang_model::{Classifier, ClassifyOptions, bundle};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn parallel<F: Fn(&[&str]) + Sync>(texts: &[&str], threads: usize, f: F) -> f64 {
    let t = Instant::now();
    let per = texts.len().div_ceil(threads);
    std::thread::scope(|s| {
        for chunk in texts.chunks(per) {
            let f = &f;
            s.spawn(move || {
                for c in chunk.chunks(256) {
                    f(c);
                }
            });
        }
    });
    texts.len() as f64 / t.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let data = example::read_examples(&repo_path(qingwang_datasets::HANDWRITTEN))?;
    let min_chars: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut pool: Vec<String> = Vec::new();
    let mut cur = String::new();
    for e in data.into_iter().filter(|e| e.split == Split::Test) {
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&e.text);
        if cur.chars().count() >= min_chars {
            let text: String = if min_chars > 0 {
                cur.chars().take(min_chars).collect()
            } else {
                cur.clone()
            };
            pool.push(text);
            cur.clear();
        }
    }
    let texts: Vec<&str> = pool.iter().cycle().take(n).map(String::as_str).collect();
    let mean_len =
        texts.iter().map(|t| t.chars().count()).sum::<usize>() as f64 / texts.len() as f64;
    let clf = Classifier::load(&bundle::default_dir())?;
    let kw = KeywordMatcher::new(&Lexicons::builtin()?, &Taxonomy::builtin());
    let opts = ClassifyOptions::default();
    let mut model = Vec::new();
    let mut keyword = Vec::new();
    for _ in 0..rounds {
        keyword.push(parallel(&texts, threads, |c| {
            for t in c {
                std::hint::black_box(kw.flags(t));
            }
        }));
        model.push(parallel(&texts, threads, |c| {
            std::hint::black_box(clf.classify(c, &opts).ok());
        }));
    }
    let (m, k) = (median(model), median(keyword));
    println!("texts: {n} (mean {mean_len:.0} chars), threads: {threads}, rounds: {rounds}");
    println!("keyword baseline: {k:.0} texts/s (median)");
    println!(
        "model:            {m:.0} texts/s (median), {:.3}× the keyword baseline",
        m / k
    );
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
    Ok(())
}
