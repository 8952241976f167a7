//! Where the training energy goes: one stacked bar per value of an axis (the algorithms), split
//! into the cost model's five classes, one panel per value of another axis (the hardware presets).

use super::energy::{CLASSES, ENERGY, per_sample};
use super::group::{Finals, combos, describe, over, select};
use super::{Context, check_metric, safe, values_of};
use crate::error::Result;
use plot::{BarPanel, StackedBars, stacked_bars};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// SI prefixes of the joule, largest first.
const PREFIXES: [(f64, &str); 6] = [
    (1.0, "J"),
    (1e-3, "mJ"),
    (1e-6, "µJ"),
    (1e-9, "nJ"),
    (1e-12, "pJ"),
    (1e-15, "fJ"),
];

/// The unit a figure whose largest value is `largest` joules reads best in: the largest prefix
/// that keeps it at least 1 (`2.4e-9` → nJ), with the factor that converts joules into it.
pub(crate) fn joule_unit(largest: f64) -> (f64, &'static str) {
    if !(largest.is_finite() && largest > 0.0) {
        return PREFIXES[0];
    }
    PREFIXES
        .iter()
        .find(|(p, _)| largest >= *p)
        .copied()
        .unwrap_or(PREFIXES[PREFIXES.len() - 1])
}

/// energy-breakdown-<x>.png/.svg: the energy per training sample by class, one bar per value of
/// `x`, one panel per value of `panels`.
pub(crate) fn energy_breakdown(
    ctx: &Context<'_>,
    out: &Path,
    x: &str,
    panels: Option<&str>,
) -> Result<PathBuf> {
    check_metric(ctx.records, ENERGY)?;
    for class in CLASSES {
        check_metric(ctx.records, class)?;
    }
    let xs = values_of(ctx.exp, x)?;
    let panel_axes: Vec<&str> = panels.into_iter().collect();
    let axes: Vec<&str> = [x].iter().chain(&panel_axes).copied().collect();
    let mut figure_panels = Vec::new();
    for pc in combos(ctx, &panel_axes)? {
        let (mut values, mut notes) = (Vec::new(), Vec::new());
        for xv in xs {
            let combo: Vec<&Value> = [xv].into_iter().chain(pc.iter().copied()).collect();
            let runs = select(ctx.records, &axes, &combo);
            let kept: Vec<_> = runs.iter().filter(|r| r.divergence.is_none()).collect();
            // A class's mean over the kept runs; the classes of one run add up to its energy per
            // sample, so the bar's height is the mean EnergyAccuracy places the point at.
            let bar = CLASSES
                .iter()
                .map(|class| {
                    let v: Vec<f64> = kept.iter().filter_map(|r| per_sample(r, class)).collect();
                    if v.is_empty() {
                        f64::NAN
                    } else {
                        v.iter().sum::<f64>() / v.len() as f64
                    }
                })
                .collect::<Vec<f64>>();
            values.push(bar);
            notes.push(Finals::of(&runs, ENERGY).note().unwrap_or_default());
        }
        figure_panels.push(BarPanel {
            title: describe(ctx, &panel_axes, &pc),
            categories: xs.iter().map(|v| ctx.labels.value(x, v)).collect(),
            values,
            notes,
        });
    }
    let largest = figure_panels
        .iter()
        .flat_map(|p| p.values.iter())
        .map(|bar| bar.iter().filter(|v| v.is_finite()).sum::<f64>())
        .fold(0.0, f64::max);
    let (factor, unit) = joule_unit(largest);
    for p in &mut figure_panels {
        p.values.iter_mut().flatten().for_each(|v| *v /= factor);
    }
    let bars = StackedBars {
        title: format!("{}: where the training energy goes", ctx.exp.name),
        caption: format!(
            "bars: energy per training sample, mean over the epochs and over {}, diverged runs left out; ✗ k/n: k of n runs diverged",
            over(ctx, &axes)
        ),
        x_label: ctx.labels.axis(x),
        y_label: format!("energy per sample ({unit})"),
        classes: CLASSES.iter().map(|c| ctx.labels.metric(c).name).collect(),
        panels: figure_panels,
        totals: true,
    };
    let stem = out.join(format!("energy-breakdown-{}", safe(x)));
    stacked_bars(&stem, &bars, &ctx.opts)?;
    Ok(stem)
}

#[cfg(test)]
mod tests {
    use super::joule_unit;

    #[test]
    fn the_unit_keeps_the_largest_bar_at_least_one() {
        assert_eq!(joule_unit(6.08e-9), (1e-9, "nJ"));
        assert_eq!(joule_unit(1e-6), (1e-6, "µJ"));
        assert_eq!(joule_unit(999e-6), (1e-6, "µJ"));
        assert_eq!(joule_unit(3.0), (1.0, "J"));
        assert_eq!(joule_unit(2e-18), (1e-15, "fJ"));
        assert_eq!(joule_unit(0.0), (1.0, "J"));
        assert_eq!(joule_unit(f64::NAN), (1.0, "J"));
    }
}
