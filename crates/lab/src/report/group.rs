//! Runs grouped by the values of some sweep axes, in sweep order, and what the caption says about
//! the grouping (n, the axes averaged over).

use super::{Context, final_metric, values_of};
use crate::error::Result;
use crate::labels::plain;
use crate::results::RunRecord;
use serde_json::Value;

/// Every combination of the values of `axes`, in sweep order (the first axis slowest);
/// one empty combination when there are no axes.
pub(crate) fn combos<'e>(ctx: &Context<'e>, axes: &[&str]) -> Result<Vec<Vec<&'e Value>>> {
    let mut out: Vec<Vec<&Value>> = vec![vec![]];
    for axis in axes {
        let values = values_of(ctx.exp, axis)?;
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(v);
                    c
                })
            })
            .collect();
    }
    Ok(out)
}

/// The runs whose parameters on `axes` are `combo`.
pub(crate) fn select<'r>(
    records: &'r [RunRecord],
    axes: &[&str],
    combo: &[&Value],
) -> Vec<&'r RunRecord> {
    records
        .iter()
        .filter(|r| {
            axes.iter()
                .zip(combo)
                .all(|(a, v)| r.params.get(*a).map(plain) == Some(plain(v)))
        })
        .collect()
}

/// The settings of a combination as text: `DP⊤, α = 0.5`.
pub(crate) fn describe(ctx: &Context<'_>, axes: &[&str], combo: &[&Value]) -> String {
    axes.iter()
        .zip(combo)
        .map(|(a, v)| ctx.labels.setting(a, v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The final values of `metric` over some runs, and how many of them diverged.
pub(crate) struct Finals {
    /// Final values of the runs that did not diverge (and measured the metric).
    pub values: Vec<f64>,
    /// Runs in the group.
    pub n: usize,
    /// Runs that diverged.
    pub diverged: usize,
}

impl Finals {
    pub(crate) fn of(runs: &[&RunRecord], metric: &str) -> Self {
        Self {
            values: runs
                .iter()
                .filter_map(|r| final_metric(r, metric))
                .collect(),
            n: runs.len(),
            diverged: runs.iter().filter(|r| r.divergence.is_some()).count(),
        }
    }

    /// `✗ 1/3` when some (not all) runs diverged; the note beside a point or in a cell.
    pub(crate) fn note(&self) -> Option<String> {
        (self.diverged > 0).then(|| format!("✗ {}/{}", self.diverged, self.n))
    }
}

/// What a mean in a figure is taken over: `n = 3 seeds`, or `n = 33 runs (3 seeds × 11 values of
/// nudging asymmetry α)` when `averaged` axes are folded in.
pub(crate) fn over(ctx: &Context<'_>, shown: &[&str]) -> String {
    let seeds = ctx.exp.seeds.len();
    let averaged: Vec<(String, usize)> = ctx
        .exp
        .sweep
        .0
        .iter()
        .filter(|a| !shown.contains(&a.path.as_str()) && a.values.len() > 1)
        .map(|a| (ctx.labels.axis(&a.path), a.values.len()))
        .collect();
    let seeds_text = if seeds == 1 {
        "1 seed".to_owned()
    } else {
        format!("{seeds} seeds")
    };
    if averaged.is_empty() {
        format!("n = {seeds_text}")
    } else {
        let n: usize = seeds * averaged.iter().map(|(_, k)| k).product::<usize>();
        let parts: Vec<String> = averaged
            .iter()
            .map(|(name, k)| format!("{k} values of {name}"))
            .collect();
        format!("n = {n} runs ({seeds_text} × {})", parts.join(" × "))
    }
}
