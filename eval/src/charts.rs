//! The report's charts, drawn as SVG strings with plotters' SVG backend (no fonts loaded, no
//! network): PR curves, reliability diagram, product confusion heat map, robustness bars.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{EvalError, Result};
use crate::schema::{EvalReport, SystemReport};
use crate::system::SystemKind;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];
const FONT: &str = "sans-serif";

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

fn err<E: std::error::Error + Send + Sync + 'static>(
    chart: &'static str,
) -> impl Fn(E) -> EvalError {
    move |e| EvalError::Chart {
        chart,
        source: Box::new(e),
    }
}

/// Binary PR curves of every model, with the keyword baseline as a single point.
pub fn pr_curves(r: &EvalReport) -> Result<String> {
    let e = err("pr_curves");
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (640, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Violation: precision vs recall", (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1.0, 0f64..1.02)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("recall")
            .y_desc("precision")
            .draw()
            .map_err(&e)?;
        for (i, s) in r.systems.iter().enumerate() {
            let c = color(i);
            let name = format!("{} {}", s.id, short(&s.version));
            if s.kind == SystemKind::Keyword || s.binary_pr_curve.is_empty() {
                let b = s.quality.binary;
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (b.recall, b.precision),
                        6,
                        c.filled(),
                    )))
                    .map_err(&e)?
                    .label(format!("{name} (one operating point)"))
                    .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
            } else {
                let mut pts: Vec<(f64, f64)> = s
                    .binary_pr_curve
                    .iter()
                    .map(|p| (p.recall, p.precision))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                chart
                    .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                    .map_err(&e)?
                    .label(format!(
                        "{name} (AP {:.3})",
                        s.binary_average_precision.unwrap_or(0.0)
                    ))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
                let b = s.quality.binary;
                chart
                    .draw_series(std::iter::once(Cross::new(
                        (b.recall, b.precision),
                        6,
                        c.stroke_width(2),
                    )))
                    .map_err(&e)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(&e)?;
        root.present().map_err(&e)?;
    }
    Ok(buf)
}

/// Per-label PR curves of one model.
pub fn label_pr_curves(s: &SystemReport) -> Result<String> {
    let e = err("label_pr_curves");
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (640, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("Per label PR curves: {}", s.id), (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1.0, 0f64..1.02)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("recall")
            .y_desc("precision")
            .draw()
            .map_err(&e)?;
        let palette = [
            RGBColor(31, 119, 180),
            RGBColor(255, 127, 14),
            RGBColor(44, 160, 44),
            RGBColor(214, 39, 40),
            RGBColor(148, 103, 189),
            RGBColor(140, 86, 75),
            RGBColor(227, 119, 194),
            RGBColor(127, 127, 127),
            RGBColor(188, 189, 34),
            RGBColor(23, 190, 207),
            RGBColor(0, 0, 0),
            RGBColor(255, 200, 0),
        ];
        for (i, (id, l)) in s
            .labels
            .iter()
            .filter(|(_, l)| !l.pr_curve.is_empty())
            .enumerate()
        {
            let c = palette[i % palette.len()];
            let mut pts: Vec<(f64, f64)> =
                l.pr_curve.iter().map(|p| (p.recall, p.precision)).collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                .map_err(&e)?
                .label(format!("{id} ({:.2})", l.average_precision.unwrap_or(0.0)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font((FONT, 11))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(&e)?;
        root.present().map_err(&e)?;
    }
    Ok(buf)
}

/// Reliability diagram of every model's violation score.
pub fn reliability(r: &EvalReport) -> Result<String> {
    let e = err("reliability");
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (640, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Reliability: observed rate vs predicted probability",
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1.0, 0f64..1.0)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("mean predicted probability (violation score)")
            .y_desc("share of gold violations")
            .draw()
            .map_err(&e)?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                BLACK.mix(0.4).stroke_width(1),
            ))
            .map_err(&e)?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
        for (i, s) in r.systems.iter().enumerate() {
            let Some(cal) = &s.calibration_binary else {
                continue;
            };
            let c = color(i);
            let pts: Vec<(f64, f64)> = cal
                .bins
                .iter()
                .filter(|b| b.count > 0)
                .map(|b| (b.confidence, b.observed))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(&e)?
                .label(format!("{} (ECE {:.3})", s.id, cal.ece))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled())))
                .map_err(&e)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(&e)?;
        root.present().map_err(&e)?;
    }
    Ok(buf)
}

fn name_at(names: &[String], v: f64) -> String {
    let k = v.round();
    if (v - k).abs() > 1e-6 || k < 0.0 {
        return String::new();
    }
    names.get(k as usize).cloned().unwrap_or_default()
}

/// Product confusion heat map (rows gold, columns predicted; colour = share of the row).
pub fn confusion_heatmap(s: &SystemReport) -> Result<Option<String>> {
    let Some(c) = &s.products else {
        return Ok(None);
    };
    let e = err("confusion_heatmap");
    let n = c.classes.len();
    let rows: Vec<String> = c.classes.iter().rev().cloned().collect();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (720, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let nf = n as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Product confusion: {} (rows gold)", s.id),
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(150)
            .y_label_area_size(170)
            .build_cartesian_2d(-0.5f64..nf - 0.5, -0.5f64..nf - 0.5)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n)
            .y_labels(n)
            .x_label_formatter(&|v| name_at(&c.classes, *v))
            .y_label_formatter(&|v| name_at(&rows, *v))
            .x_label_style((FONT, 12).into_font().transform(FontTransform::Rotate90))
            .y_label_style((FONT, 12))
            .x_desc("predicted")
            .y_desc("gold")
            .draw()
            .map_err(&e)?;
        let mut cells = Vec::new();
        let mut texts = Vec::new();
        for (gi, row) in c.counts.iter().enumerate() {
            let total: usize = row.iter().sum();
            let y = (n - 1 - gi) as f64;
            for (pi, &k) in row.iter().enumerate() {
                let share = if total == 0 {
                    0.0
                } else {
                    k as f64 / total as f64
                };
                let x = pi as f64;
                let fill = RGBColor(
                    (255.0 - 225.0 * share) as u8,
                    (255.0 - 160.0 * share) as u8,
                    (255.0 - 60.0 * share) as u8,
                );
                cells.push(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    fill.filled(),
                ));
                if k > 0 {
                    let ink = if share > 0.6 { WHITE } else { BLACK };
                    texts.push(Text::new(
                        k.to_string(),
                        (x, y),
                        (FONT, 12)
                            .into_font()
                            .color(&ink)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ));
                }
            }
        }
        chart.draw_series(cells).map_err(&e)?;
        chart.draw_series(texts).map_err(&e)?;
        root.present().map_err(&e)?;
    }
    Ok(Some(buf))
}

/// Recall on evaded positives per evasion kind, one bar per system (the clean recall as a tick).
pub fn robustness_bars(r: &EvalReport) -> Result<String> {
    let e = err("robustness_bars");
    let kinds: Vec<String> = r.robustness.iter().map(|x| x.kind.clone()).collect();
    let k = kinds.len().max(1) as f64;
    let ns = r.systems.len().max(1) as f64;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (860, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Recall on positives rewritten by each evasion kind",
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.5f64..k - 0.5, 0f64..1.05)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(kinds.len().max(1))
            .x_label_formatter(&|v| name_at(&kinds, *v))
            .x_label_style((FONT, 12))
            .y_desc("recall after rewrite")
            .draw()
            .map_err(&e)?;
        let w = 0.8 / ns;
        for (si, s) in r.systems.iter().enumerate() {
            let c = color(si);
            let bars: Vec<Rectangle<(f64, f64)>> = r
                .robustness
                .iter()
                .enumerate()
                .filter_map(|(ki, row)| {
                    let ret = row.systems.get(&s.id)?;
                    let x0 = ki as f64 - 0.4 + si as f64 * w;
                    Some(Rectangle::new(
                        [(x0, 0.0), (x0 + w * 0.9, ret.evaded_recall)],
                        c.filled(),
                    ))
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(&e)?
                .label(s.id.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
            let ticks: Vec<PathElement<(f64, f64)>> = r
                .robustness
                .iter()
                .enumerate()
                .filter_map(|(ki, row)| {
                    let ret = row.systems.get(&s.id)?;
                    let x0 = ki as f64 - 0.4 + si as f64 * w;
                    Some(PathElement::new(
                        vec![(x0, ret.clean_recall), (x0 + w * 0.9, ret.clean_recall)],
                        BLACK.stroke_width(2),
                    ))
                })
                .collect();
            chart.draw_series(ticks).map_err(&e)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(&e)?;
        root.present().map_err(&e)?;
    }
    Ok(buf)
}

/// A version for legends: bundle hashes whole, descriptions cut.
pub fn short(v: &str) -> String {
    if v.len() <= 12 {
        v.to_string()
    } else {
        String::new()
    }
}
