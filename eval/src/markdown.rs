//! report.md: the same content as report.html, as tables (no charts).

use std::fmt::Write;

use crate::schema::EvalReport;

/// One line of the header, shared with the HTML report.
pub fn header_lines(r: &EvalReport) -> Vec<(String, String)> {
    let h = &r.header;
    let mut v = vec![
        ("date".to_string(), h.date.clone()),
        ("command".to_string(), h.command.clone()),
        ("data".to_string(), h.data_files.join(", ")),
        ("dataset sha256".to_string(), h.dataset_sha256.clone()),
        (
            "examples".to_string(),
            format!(
                "{} ({} positive), split {}",
                h.examples,
                h.positives,
                h.split.as_deref().unwrap_or("all")
            ),
        ),
        ("taxonomy".to_string(), h.taxonomy_version.clone()),
        (
            "intervals".to_string(),
            format!(
                "95% bootstrap, {} resamples, seed {}",
                h.bootstrap_resamples, h.seed
            ),
        ),
    ];
    for s in &r.systems {
        v.push((format!("system {}", s.id), s.version.clone()));
    }
    v
}

/// Render report.md.
pub fn render(r: &EvalReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# qingwang evaluation\n");
    for (k, v) in header_lines(r) {
        let _ = writeln!(o, "- **{k}**: `{v}`");
    }
    let _ = writeln!(o, "\n## Headline (95% CI)\n");
    let _ = writeln!(o, "| metric | {} |", ids(r).join(" | "));
    let _ = writeln!(o, "|---|{}", "---|".repeat(r.systems.len()));
    for (m, _) in crate::bootstrap::HEADLINE {
        let cells: Vec<String> = r
            .systems
            .iter()
            .map(|s| {
                s.headline.get(m).map_or("-".into(), |e| {
                    format!("{:.3} [{:.3}, {:.3}]", e.value, e.ci_low, e.ci_high)
                })
            })
            .collect();
        let _ = writeln!(o, "| {m} | {} |", cells.join(" | "));
    }
    let cells: Vec<String> = r
        .systems
        .iter()
        .map(|s| {
            s.quality
                .product_accuracy
                .map_or("-".into(), |a| format!("{a:.3}"))
        })
        .collect();
    let _ = writeln!(o, "| product_accuracy | {} |", cells.join(" | "));
    let cells: Vec<String> = r
        .systems
        .iter()
        .map(|s| format!("P {:.3} R {:.3}", s.spans.precision, s.spans.recall))
        .collect();
    let _ = writeln!(o, "| evidence spans (overlap) | {} |", cells.join(" | "));
    let cells: Vec<String> = r
        .systems
        .iter()
        .map(|s| {
            s.calibration_binary
                .as_ref()
                .map_or("-".into(), |c| format!("{:.3}", c.ece))
        })
        .collect();
    let _ = writeln!(o, "| ECE (violation score) | {} |", cells.join(" | "));

    let _ = writeln!(o, "\n## Per label F1 (support)\n");
    let _ = writeln!(o, "| label | support | {} |", ids(r).join(" | "));
    let _ = writeln!(o, "|---|---|{}", "---|".repeat(r.systems.len()));
    if let Some(first) = r.systems.first() {
        for (id, l) in &first.labels {
            let cells: Vec<String> = r
                .systems
                .iter()
                .map(|s| {
                    s.labels.get(id).map_or("-".into(), |x| {
                        let mut c = format!("{:.3}", x.prf.f1);
                        if let (Some(t), Some(b)) = (x.threshold, x.best_threshold) {
                            let _ = write!(c, " (t {t:.2}, best {b:.2})");
                        }
                        c
                    })
                })
                .collect();
            let _ = writeln!(o, "| {id} | {} | {} |", l.prf.support, cells.join(" | "));
        }
    }

    let _ = writeln!(o, "\n## Robustness: recall clean → evaded\n");
    let _ = writeln!(o, "| evasion | n | {} |", ids(r).join(" | "));
    let _ = writeln!(o, "|---|---|{}", "---|".repeat(r.systems.len()));
    for row in &r.robustness {
        let n = row.systems.values().next().map_or(0, |x| x.examples);
        let cells: Vec<String> = r
            .systems
            .iter()
            .map(|s| {
                row.systems.get(&s.id).map_or("-".into(), |x| {
                    format!(
                        "{:.3} → {:.3} ({:.0}%)",
                        x.clean_recall,
                        x.evaded_recall,
                        x.retained * 100.0
                    )
                })
            })
            .collect();
        let _ = writeln!(o, "| {} | {n} | {} |", row.kind, cells.join(" | "));
    }

    let _ = writeln!(o, "\n## Breakdowns (binary F1 / n)\n");
    for dim in crate::slices::DIMENSIONS {
        let _ = writeln!(o, "### {dim}\n");
        let _ = writeln!(o, "| {dim} | n | {} |", ids(r).join(" | "));
        let _ = writeln!(o, "|---|---|{}", "---|".repeat(r.systems.len()));
        for (key, n) in slice_keys(r, dim, 25) {
            let cells: Vec<String> = r
                .systems
                .iter()
                .map(|s| {
                    s.breakdowns
                        .get(dim)
                        .and_then(|d| d.get(&key))
                        .map_or("-".into(), |x| format!("{:.3}", x.binary.f1))
                })
                .collect();
            let _ = writeln!(o, "| {key} | {n} | {} |", cells.join(" | "));
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Speed\n");
    let _ = writeln!(
        o,
        "| system | texts | texts/s (1 per call) | texts/s (batch) | p50 ms | p90 ms | p99 ms |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|");
    for s in &r.systems {
        if let Some(sp) = &s.speed {
            let _ = writeln!(
                o,
                "| {} | {} | {:.0} | {:.0} | {:.3} | {:.3} | {:.3} |",
                s.id,
                sp.texts,
                sp.single_texts_per_s,
                sp.batch_texts_per_s,
                sp.p50_ms,
                sp.p90_ms,
                sp.p99_ms
            );
        }
    }

    for s in &r.systems {
        let _ = writeln!(o, "\n## Worst errors: {}\n", s.id);
        for (title, list) in [
            ("False positives", &s.errors.false_positives),
            ("False negatives", &s.errors.false_negatives),
        ] {
            let _ = writeln!(o, "**{title}**\n");
            for m in list {
                let spans: Vec<String> = m
                    .predicted_spans
                    .iter()
                    .map(|p| {
                        let t: String = m
                            .text
                            .chars()
                            .skip(p.char_start)
                            .take(p.char_end.saturating_sub(p.char_start))
                            .collect();
                        format!("{}: {t}", p.label)
                    })
                    .collect();
                let _ = writeln!(
                    o,
                    "- `{}` score {:.3} gold [{}] predicted [{}] spans [{}] gold spans [{}]: {}",
                    m.id,
                    m.score,
                    m.gold_labels.join(", "),
                    m.predicted_labels.join(", "),
                    spans.join("; "),
                    m.gold_spans.join("; "),
                    m.text.replace('\n', " ")
                );
            }
            let _ = writeln!(o);
        }
    }
    o
}

fn ids(r: &EvalReport) -> Vec<String> {
    r.systems.iter().map(|s| s.id.clone()).collect()
}

/// The keys of one breakdown, largest first, at most `max`.
pub fn slice_keys(r: &EvalReport, dim: &str, max: usize) -> Vec<(String, usize)> {
    let mut keys: Vec<(String, usize)> = r
        .systems
        .first()
        .and_then(|s| s.breakdowns.get(dim))
        .map(|d| d.iter().map(|(k, v)| (k.clone(), v.examples)).collect())
        .unwrap_or_default();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    keys.truncate(max);
    keys
}
