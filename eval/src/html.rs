//! report.html: one self-contained page (inline CSS and SVG, no scripts, no external
//! resources) with the header, the headline table, the charts and the detail tables.

use std::fmt::Write;

use crate::charts;
use crate::error::Result;
use crate::markdown::{header_lines, slice_keys};
use crate::run::model_systems;
use crate::schema::EvalReport;

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}\
table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #ccc;padding:3px 8px;\
font-size:13px;text-align:left}th{background:#f0f3f7}.hdr td:first-child{font-weight:bold}\
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #ddd}\
.err td{max-width:520px}code{font-size:12px}h2{border-bottom:2px solid #e4e8ee;padding-bottom:4px}";

fn table(o: &mut String, head: &[String], rows: &[Vec<String>]) {
    o.push_str("<table><tr>");
    for h in head {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr>");
    for r in rows {
        o.push_str("<tr>");
        for c in r {
            let _ = write!(o, "<td>{}</td>", esc(c));
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>\n");
}

fn chart(o: &mut String, id: &str, svg: &str) {
    let _ = write!(o, "<div class=\"chart\" id=\"{id}\">{svg}</div>");
}

/// Render report.html.
pub fn render(r: &EvalReport) -> Result<String> {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        o,
        "<title>qingwang evaluation {}</title><style>{CSS}</style></head><body>",
        esc(&r.header.date)
    );
    o.push_str("<h1>qingwang evaluation</h1><table class=\"hdr\">");
    for (k, v) in header_lines(r) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            esc(&k),
            esc(&v)
        );
    }
    o.push_str("</table>");

    o.push_str("<h2>Headline (95% bootstrap CI)</h2>");
    let mut head = vec!["metric".to_string()];
    head.extend(r.systems.iter().map(|s| s.id.clone()));
    let mut rows: Vec<Vec<String>> = crate::bootstrap::HEADLINE
        .iter()
        .map(|(m, _)| {
            let mut row = vec![m.to_string()];
            row.extend(r.systems.iter().map(|s| {
                s.headline.get(*m).map_or("-".into(), |e| {
                    format!("{:.3} [{:.3}, {:.3}]", e.value, e.ci_low, e.ci_high)
                })
            }));
            row
        })
        .collect();
    let mut extra = |name: &str, f: &dyn Fn(&crate::schema::SystemReport) -> String| {
        let mut row = vec![name.to_string()];
        row.extend(r.systems.iter().map(f));
        rows.push(row);
    };
    extra("product accuracy", &|s| {
        s.quality
            .product_accuracy
            .map_or("-".into(), |a| format!("{a:.3}"))
    });
    extra("evidence spans P / R (overlap)", &|s| {
        format!("{:.3} / {:.3}", s.spans.precision, s.spans.recall)
    });
    extra("ECE (violation score)", &|s| {
        s.calibration_binary
            .as_ref()
            .map_or("-".into(), |c| format!("{:.3}", c.ece))
    });
    extra("average precision (violation)", &|s| {
        s.binary_average_precision
            .map_or("-".into(), |a| format!("{a:.3}"))
    });
    extra("refused texts", &|s| s.input_errors.to_string());
    table(&mut o, &head, &rows);

    o.push_str("<h2>Charts</h2><div class=\"charts\">");
    chart(&mut o, "chart-pr", &charts::pr_curves(r)?);
    chart(&mut o, "chart-reliability", &charts::reliability(r)?);
    chart(&mut o, "chart-robustness", &charts::robustness_bars(r)?);
    for s in model_systems(r) {
        chart(
            &mut o,
            &format!("chart-labels-{}", s.id),
            &charts::label_pr_curves(s)?,
        );
        if let Some(svg) = charts::confusion_heatmap(s)? {
            chart(&mut o, &format!("chart-confusion-{}", s.id), &svg);
        }
    }
    o.push_str("</div>");

    o.push_str("<h2>Per label</h2>");
    let mut head = vec!["label".to_string(), "support".to_string()];
    for s in &r.systems {
        head.push(format!("{} P/R/F1", s.id));
        if s.labels.values().any(|l| l.threshold.is_some()) {
            head.push(format!("{} threshold / best / AP", s.id));
        }
    }
    let rows: Vec<Vec<String>> = r
        .systems
        .first()
        .map(|f| {
            f.labels
                .iter()
                .map(|(id, l)| {
                    let mut row = vec![id.clone(), l.prf.support.to_string()];
                    for s in &r.systems {
                        let Some(x) = s.labels.get(id) else { continue };
                        row.push(format!(
                            "{:.3} / {:.3} / {:.3}",
                            x.prf.precision, x.prf.recall, x.prf.f1
                        ));
                        if s.labels.values().any(|l| l.threshold.is_some()) {
                            let f = |v: Option<f32>| v.map_or("-".into(), |t| format!("{t:.2}"));
                            row.push(format!(
                                "{} / {} / {}",
                                f(x.threshold),
                                f(x.best_threshold),
                                x.average_precision
                                    .map_or("-".into(), |a| format!("{a:.3}"))
                            ));
                        }
                    }
                    row
                })
                .collect()
        })
        .unwrap_or_default();
    table(&mut o, &head, &rows);

    o.push_str("<h2>Robustness (recall clean → evaded, retained)</h2>");
    let mut head = vec!["evasion".to_string(), "positives".to_string()];
    head.extend(r.systems.iter().map(|s| s.id.clone()));
    let rows: Vec<Vec<String>> = r
        .robustness
        .iter()
        .map(|row| {
            let mut v = vec![
                row.kind.clone(),
                row.systems
                    .values()
                    .next()
                    .map_or(0, |x| x.examples)
                    .to_string(),
            ];
            v.extend(r.systems.iter().map(|s| {
                row.systems.get(&s.id).map_or("-".into(), |x| {
                    format!(
                        "{:.3} → {:.3} ({:.0}%)",
                        x.clean_recall,
                        x.evaded_recall,
                        x.retained * 100.0
                    )
                })
            }));
            v
        })
        .collect();
    table(&mut o, &head, &rows);

    o.push_str("<h2>Breakdowns (binary P / R / F1)</h2>");
    for dim in crate::slices::DIMENSIONS {
        let _ = write!(o, "<h3>by {dim}</h3>");
        let mut head = vec![dim.to_string(), "n".to_string()];
        head.extend(r.systems.iter().map(|s| s.id.clone()));
        let rows: Vec<Vec<String>> = slice_keys(r, dim, 25)
            .into_iter()
            .map(|(k, n)| {
                let mut v = vec![k.clone(), n.to_string()];
                v.extend(r.systems.iter().map(|s| {
                    s.breakdowns
                        .get(dim)
                        .and_then(|d| d.get(&k))
                        .map_or("-".into(), |x| {
                            format!(
                                "{:.3} / {:.3} / {:.3}",
                                x.binary.precision, x.binary.recall, x.binary.f1
                            )
                        })
                }));
                v
            })
            .collect();
        table(&mut o, &head, &rows);
    }

    o.push_str("<h2>Speed</h2>");
    let head: Vec<String> = [
        "system",
        "texts",
        "texts/s (1 per call)",
        "texts/s (batch)",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = r
        .systems
        .iter()
        .filter_map(|s| {
            let sp = s.speed?;
            Some(vec![
                s.id.clone(),
                sp.texts.to_string(),
                format!("{:.0}", sp.single_texts_per_s),
                format!("{:.0} (batch {})", sp.batch_texts_per_s, sp.batch),
                format!("{:.3}", sp.p50_ms),
                format!("{:.3}", sp.p90_ms),
                format!("{:.3}", sp.p99_ms),
                format!("{:.3}", sp.max_ms),
            ])
        })
        .collect();
    table(&mut o, &head, &rows);

    for s in &r.systems {
        let _ = write!(o, "<h2>Worst errors: {}</h2>", esc(&s.id));
        for (title, list) in [
            (
                "False positives (highest score first)",
                &s.errors.false_positives,
            ),
            (
                "False negatives (lowest score first)",
                &s.errors.false_negatives,
            ),
        ] {
            let _ = write!(o, "<h3>{title}</h3>");
            let head: Vec<String> = [
                "id",
                "score",
                "gold",
                "predicted",
                "predicted spans",
                "gold spans",
                "text",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|m| {
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
                    vec![
                        m.id.clone(),
                        format!("{:.3}", m.score),
                        m.gold_labels.join(", "),
                        m.predicted_labels.join(", "),
                        spans.join("; "),
                        m.gold_spans.join("; "),
                        m.text.chars().take(300).collect(),
                    ]
                })
                .collect();
            o.push_str("<div class=\"err\">");
            table(&mut o, &head, &rows);
            o.push_str("</div>");
        }
    }
    o.push_str("</body></html>\n");
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_keeps_chinese() {
        assert_eq!(
            esc("<b>治愈&\"'</b>"),
            "&lt;b&gt;治愈&amp;&quot;&#39;&lt;/b&gt;"
        );
    }
}
