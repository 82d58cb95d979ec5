//! `--compare old new`: headline metrics of matching systems (by id), classified as improved,
//! regressed or within noise against the old run's 95% interval. A regression beyond the
//! interval fails the gate.

use std::fmt::Write;

use serde::Serialize;

use crate::bootstrap::{Estimate, HEADLINE};
use crate::schema::EvalReport;

/// How a metric moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Better than the old interval's far end.
    Improved,
    /// Worse than the old interval's near end: fails the gate.
    Regressed,
    /// Inside the old interval.
    Unchanged,
}

/// One metric of one system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// System id.
    pub system: String,
    /// Metric name.
    pub metric: String,
    /// Old estimate.
    pub old: Estimate,
    /// New estimate.
    pub new: Estimate,
    /// Whether higher is better.
    pub higher_is_better: bool,
    /// The call.
    pub verdict: Verdict,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Every headline metric of every system present in both runs.
    pub changes: Vec<Change>,
    /// Systems only in the old run.
    pub only_old: Vec<String>,
    /// Systems only in the new run.
    pub only_new: Vec<String>,
    /// Whether the two runs scored the same data.
    pub same_data: bool,
}

impl Comparison {
    /// Whether any headline metric regressed beyond its interval.
    pub fn regressed(&self) -> bool {
        self.changes.iter().any(|c| c.verdict == Verdict::Regressed)
    }

    /// Human-readable summary.
    pub fn render(&self) -> String {
        let mut o = String::new();
        if !self.same_data {
            let _ = writeln!(
                o,
                "warning: the two runs scored different data (dataset sha256 differs)"
            );
        }
        for (title, v) in [
            ("regressed", Verdict::Regressed),
            ("improved", Verdict::Improved),
            ("unchanged (within the old 95% CI)", Verdict::Unchanged),
        ] {
            let list: Vec<&Change> = self.changes.iter().filter(|c| c.verdict == v).collect();
            let _ = writeln!(o, "{title}: {}", list.len());
            for c in list {
                let _ = writeln!(
                    o,
                    "  {:<8} {:<18} {:.4} -> {:.4} ({:+.4}; old CI [{:.4}, {:.4}]{})",
                    c.system,
                    c.metric,
                    c.old.value,
                    c.new.value,
                    c.new.value - c.old.value,
                    c.old.ci_low,
                    c.old.ci_high,
                    if c.higher_is_better {
                        ""
                    } else {
                        "; lower is better"
                    }
                );
            }
        }
        for s in &self.only_old {
            let _ = writeln!(o, "system {s} is only in the old run");
        }
        for s in &self.only_new {
            let _ = writeln!(o, "system {s} is only in the new run");
        }
        let _ = writeln!(
            o,
            "gate: {}",
            if self.regressed() { "FAIL" } else { "pass" }
        );
        o
    }
}

/// Classify one move against the old interval.
pub fn verdict(old: Estimate, new: f64, higher_is_better: bool) -> Verdict {
    const EPS: f64 = 1e-9;
    let (worse, better) = if higher_is_better {
        (new < old.ci_low - EPS, new > old.ci_high + EPS)
    } else {
        (new > old.ci_high + EPS, new < old.ci_low - EPS)
    };
    if worse && (new - old.value).abs() > EPS {
        Verdict::Regressed
    } else if better {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

/// Compare two runs.
pub fn compare(old: &EvalReport, new: &EvalReport) -> Comparison {
    let mut changes = Vec::new();
    let mut only_old = Vec::new();
    for o in &old.systems {
        let Some(n) = new.systems.iter().find(|n| n.id == o.id) else {
            only_old.push(o.id.clone());
            continue;
        };
        for (metric, higher) in HEADLINE {
            let (Some(&oe), Some(&ne)) = (o.headline.get(metric), n.headline.get(metric)) else {
                continue;
            };
            changes.push(Change {
                system: o.id.clone(),
                metric: metric.to_string(),
                old: oe,
                new: ne,
                higher_is_better: higher,
                verdict: verdict(oe, ne.value, higher),
            });
        }
    }
    let only_new = new
        .systems
        .iter()
        .filter(|n| !old.systems.iter().any(|o| o.id == n.id))
        .map(|n| n.id.clone())
        .collect();
    Comparison {
        changes,
        only_old,
        only_new,
        same_data: old.header.dataset_sha256 == new.header.dataset_sha256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(value: f64, lo: f64, hi: f64) -> Estimate {
        Estimate {
            value,
            ci_low: lo,
            ci_high: hi,
        }
    }

    #[test]
    fn verdicts_against_the_old_interval() {
        let old = est(0.80, 0.75, 0.85);
        assert_eq!(verdict(old, 0.76, true), Verdict::Unchanged);
        assert_eq!(verdict(old, 0.74, true), Verdict::Regressed);
        assert_eq!(verdict(old, 0.90, true), Verdict::Improved);
        // Lower is better (false-positive rate): going up past the interval regresses.
        assert_eq!(verdict(old, 0.86, false), Verdict::Regressed);
        assert_eq!(verdict(old, 0.70, false), Verdict::Improved);
        // A degenerate interval: any drop regresses, equality does not.
        let exact = est(1.0, 1.0, 1.0);
        assert_eq!(verdict(exact, 1.0, true), Verdict::Unchanged);
        assert_eq!(verdict(exact, 0.99, true), Verdict::Regressed);
    }
}
