//! Where the training energy goes: one stacked bar per value of an axis (the algorithms), split
//! into the cost model's five classes, one panel per value of another axis (the hardware presets),
//! and the checks such a figure's axes pass when the experiment loads.

use super::energy::{CLASSES, ENERGY, per_sample};
use super::group::{Finals, combos, describe, over, select};
use super::{Context, categorical, check_metric, not_an_axis, safe, values_of};
use crate::error::Result;
use crate::field::FieldError;
use crate::spec::Experiment;
use plot::{BarPanel, StackedBars, stacked_bars};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The bars of a figure that names no axis: the algorithm presets.
pub(crate) const DEFAULT_X: &str = "algorithm";

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

/// An EnergyBreakdown figure needs the Cost metric, sweep axes for its bars and panels, and no
/// categorical axis left to average over: the energy of two hardware presets or two algorithms
/// averaged into one bar describes neither.
pub(crate) fn validate(
    exp: &Experiment,
    x: Option<&str>,
    panels: Option<&str>,
) -> std::result::Result<(), FieldError> {
    if !exp.metrics.contains(&crate::metrics::MetricSpec::Cost) {
        return Err(FieldError::new(
            "plots",
            "asks for an EnergyBreakdown figure, which needs the Cost metric (metrics: [Cost])",
        ));
    }
    let is_axis = |name: &str| exp.sweep.0.iter().any(|a| a.path == name);
    let x = match x {
        Some(x) if is_axis(x) => x,
        Some(x) => return Err(not_an_axis(exp, "plots.x", x)),
        None if is_axis(DEFAULT_X) => DEFAULT_X,
        None => {
            return Err(FieldError::new(
                "plots",
                format!(
                    "asks for an EnergyBreakdown figure without x, which needs a sweep axis {DEFAULT_X:?} (or x: \"<sweep axis>\")"
                ),
            ));
        }
    };
    if let Some(p) = panels {
        if !is_axis(p) {
            return Err(not_an_axis(exp, "plots.panels", p));
        }
        if p == x {
            return Err(FieldError::new(
                "plots.panels",
                format!("must differ from the axis of the bars (both are {p:?})"),
            )
            .with_value(p));
        }
    }
    let averaged = exp.sweep.0.iter().find(|a| {
        a.path != x
            && Some(a.path.as_str()) != panels
            && a.values.len() > 1
            && categorical(exp, &a.path)
    });
    match averaged {
        Some(a) => Err(FieldError::new(
            "plots",
            format!(
                "asks for an EnergyBreakdown figure that would average over the categorical axis {:?}; give it as x or panels",
                a.path
            ),
        )),
        None => Ok(()),
    }
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
