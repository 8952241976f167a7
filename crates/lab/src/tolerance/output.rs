//! What a tolerance search leaves behind: `tolerance.json`, `tolerance.csv` (one row per probe),
//! and the answer as a sentence and a small table for the terminal.

use super::search::Outcome;
use super::{Direction, ToleranceReport};
use crate::error::{LabError, Result};
use crate::report::value_label;
use crate::results::write_atomic;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A number for JSON: NaN and infinities become null.
fn number(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

/// `tolerance.json`: the axis, metric and allowed drop, the reference, one result per search
/// direction, and every probe.
pub fn json(report: &ToleranceReport) -> Value {
    let plan = &report.plan;
    let reference = report.probes.iter().filter(|p| p.reference);
    let references: Vec<Value> = reference
        .clone()
        .map(|p| {
            json!({
                "compare": p.compare, "across": p.across, "value": p.value,
                "mean": number(p.summary.mean), "std": number(p.summary.std), "n": p.summary.n,
            })
        })
        .collect();
    let first = reference.clone().next();
    let results: Vec<Value> = report
        .results
        .iter()
        .map(|r| {
            json!({
                "compare": r.compare,
                "across": r.across,
                "direction": r.direction.name(),
                "tolerance": r.found.tolerance,
                "bracket": [r.found.bracket.0, r.found.bracket.1],
                "monotone": r.found.monotone,
                "outcome": r.found.outcome,
                "allowed_drop": r.allowed,
                "probes": r.probes,
                "grid_points": r.grid_points,
            })
        })
        .collect();
    let probes: Vec<Value> = report
        .probes
        .iter()
        .map(|p| {
            json!({
                "compare": p.compare, "across": p.across, "value": p.value,
                "mean": number(p.summary.mean), "std": number(p.summary.std), "n": p.summary.n,
                "diverged": p.summary.diverged, "pass": p.pass, "bound": number(p.bound),
            })
        })
        .collect();
    json!({
        "axis": plan.axis,
        "metric": plan.metric,
        "max_drop": plan.max_drop,
        "relative": plan.relative,
        "confidence": plan.confidence,
        "seeds": plan.seeds,
        "scale": plan.scale,
        "resolution": plan.resolution,
        "compare": plan.compare.as_ref().map(|c| &c.0),
        "across": plan.across.as_ref().map(|a| &a.0),
        "reference": first.map_or(Value::Null, |p| json!({
            "value": p.value, "mean": number(p.summary.mean), "std": number(p.summary.std), "n": p.summary.n,
        })),
        "references": references,
        "results": results,
        "probes": probes,
        "runs": report.runs,
        "grid_runs": report.grid_runs,
        "probes_per_round": report.probes_per_round,
    })
}

/// `tolerance.csv`: one row per probe.
pub fn csv(report: &ToleranceReport) -> Result<Vec<u8>> {
    let encode = |e: csv::Error| LabError::Encode {
        path: "tolerance.csv".into(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "compare",
        "across",
        "value",
        "mean",
        "std",
        "n",
        "diverged",
        "bound",
        "pass",
        "reference",
    ])
    .map_err(encode)?;
    let cell = |v: &Value| {
        if v.is_null() {
            String::new()
        } else {
            value_label(v)
        }
    };
    for p in &report.probes {
        w.write_record([
            cell(&p.compare),
            cell(&p.across),
            p.value.to_string(),
            p.summary.mean.to_string(),
            p.summary.std.to_string(),
            p.summary.n.to_string(),
            p.summary.diverged.to_string(),
            p.bound.to_string(),
            p.pass.to_string(),
            p.reference.to_string(),
        ])
        .map_err(encode)?;
    }
    w.into_inner().map_err(|e| LabError::Encode {
        path: "tolerance.csv".into(),
        message: e.to_string(),
    })
}

/// Write `tolerance.json`, `tolerance.csv` and the figures (PNG at `dpi` dots per inch) into
/// `out`; returns the files written.
pub fn write(out: &Path, report: &ToleranceReport, dpi: u32) -> Result<Vec<PathBuf>> {
    let json_path = out.join("tolerance.json");
    let text = serde_json::to_vec_pretty(&json(report)).map_err(|e| LabError::Encode {
        path: json_path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&json_path, &text)?;
    let csv_path = out.join("tolerance.csv");
    write_atomic(&csv_path, &csv(report)?)?;
    let mut files = vec![json_path, csv_path];
    for stem in super::figures::draw(out, report, dpi)? {
        files.push(stem.with_extension("png"));
    }
    Ok(files)
}

/// A compare or across value as printed: a device-models file by its name, others as written.
pub fn short(v: &Value) -> String {
    let text = value_label(v);
    match text.strip_suffix(".ron") {
        Some(stem) => stem.rsplit(['/', '\\']).next().unwrap_or(stem).to_owned(),
        None => text,
    }
}

/// A value as printed: three decimals, or scientific notation for very small or large ones.
pub fn format_value(v: f64) -> String {
    if v == 0.0 {
        "0.00".into()
    } else if v.abs() < 1e-2 || v.abs() >= 1e4 {
        format!("{v:.2e}")
    } else {
        format!("{v:.2}")
    }
}

/// The answer in a sentence, e.g. "DP⊤ tolerates α ∈ [0.00, 1.00]; DP tolerates α ∈ [0.32,
/// 0.71] (within 2 points of α = 0.50, 3 seeds, 95 %)".
pub fn sentence(report: &ToleranceReport) -> String {
    let plan = &report.plan;
    let axis = axis_label(&plan.axis);
    let mut clauses = Vec::new();
    let mut notes = Vec::new();
    let mut seen: Vec<(&Value, &Value)> = Vec::new();
    for r in &report.results {
        if seen.contains(&(&r.compare, &r.across)) {
            continue;
        }
        seen.push((&r.compare, &r.across));
        let mine: Vec<_> = report
            .results
            .iter()
            .filter(|s| s.compare == r.compare && s.across == r.across)
            .collect();
        let end = |d: Direction| mine.iter().find(|s| s.direction == d);
        let lo = end(Direction::Down).map_or(plan.reference, |s| s.found.tolerance);
        let hi = end(Direction::Up).map_or(plan.reference, |s| s.found.tolerance);
        let mut who = Vec::new();
        if !r.compare.is_null() {
            who.push(match &plan.compare {
                Some((path, _)) => crate::labels::Labels::defaults().value(path, &r.compare),
                None => short(&r.compare),
            });
        }
        let subject = if who.is_empty() {
            "the design".to_owned()
        } else {
            who.join(" ")
        };
        let mut clause = format!(
            "{subject} tolerates {axis} ∈ [{}, {}]",
            format_value(lo),
            format_value(hi)
        );
        if !r.across.is_null() {
            clause.push_str(&format!(
                " at {} = {}",
                axis_label(&plan.across.as_ref().expect("set").0),
                short(&r.across)
            ));
        }
        for s in &mine {
            if !s.found.monotone {
                let at = if r.across.is_null() {
                    String::new()
                } else {
                    format!(" at {}", short(&r.across))
                };
                notes.push(format!(
                    "{subject}{at}, {}: non-monotone, a value beyond the first failure passed",
                    s.direction.name()
                ));
            }
            if s.found.outcome == Outcome::FailsAtOnce {
                clause.push_str(&format!(
                    " (fails at once {}, first failure at {})",
                    s.direction.name(),
                    s.found.bracket.1.map_or("-".into(), format_value)
                ));
            }
        }
        let open: Vec<&str> = mine
            .iter()
            .filter(|s| s.found.outcome == Outcome::NeverFails)
            .map(|s| s.direction.name())
            .collect();
        match open.as_slice() {
            [] => {}
            [d] => clause.push_str(&format!(" (no failure {d} to the end of the range)")),
            _ => clause.push_str(" (no failure in the range)"),
        }
        clauses.push(clause);
    }
    let drop = if plan.relative {
        format!("{} % of", 100.0 * plan.max_drop)
    } else if plan.higher_is_better && plan.metric.ends_with("acc") {
        format!("{} points of", 100.0 * plan.max_drop)
    } else {
        format!("{} of", plan.max_drop)
    };
    let mut text = format!(
        "{} (within {drop} the reference {} at {axis} = {}, {} seeds, {} %)",
        clauses.join("; "),
        plan.metric,
        format_value(plan.reference),
        plan.seeds.len(),
        100.0 * plan.confidence
    );
    for n in notes {
        text.push_str(&format!("\n  note: {n}"));
    }
    text
}

/// A small table: one row per search direction.
pub fn table(report: &ToleranceReport) -> String {
    let mut t = format!(
        "{:<14} {:<14} {:<5} {:>10} {:>22} {:>8} {:>7}  {}\n",
        "compare",
        "across",
        "dir",
        "tolerance",
        "bracket [pass, fail]",
        "monotone",
        "probes",
        "outcome"
    );
    let cell = |v: &Value| {
        if v.is_null() {
            "-".to_owned()
        } else {
            short(v)
        }
    };
    for r in &report.results {
        let bracket = format!(
            "[{}, {}]",
            format_value(r.found.bracket.0),
            r.found.bracket.1.map_or("none".into(), format_value)
        );
        let outcome = serde_json::to_value(r.found.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        t.push_str(&format!(
            "{:<14} {:<14} {:<5} {:>10} {:>22} {:>8} {:>7}  {}\n",
            cell(&r.compare),
            cell(&r.across),
            r.direction.name(),
            format_value(r.found.tolerance),
            bracket,
            r.found.monotone,
            r.probes,
            outcome
        ));
    }
    t.push_str(&format!(
        "{} runs ({} seeds per probe); a grid of the same resolution: {} runs\n",
        report.runs,
        report.plan.seeds.len(),
        report.grid_runs
    ));
    t
}

/// The axis title of a field path, by the default names of figures.
fn axis_label(path: &str) -> String {
    crate::labels::Labels::defaults().axis(path)
}
