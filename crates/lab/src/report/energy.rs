//! Accuracy against training energy: one marker per sweep point (mean over seeds), the Pareto front
//! of the points no other point beats in both (less energy, at least the accuracy) drawn as a line.

use super::group::{Finals, combos, describe, select};
use super::{Context, check_metric, safe};
use crate::error::Result;
use plot::{Curve, Panel, figure};
use std::path::{Path, PathBuf};

/// The x of the figure: the mean training energy per sample over the run's epochs.
pub(crate) const ENERGY: &str = "energy_per_sample_j";
/// An epoch's training energy, the sum of the classes.
const EPOCH_ENERGY: &str = "energy_j";
/// The cost model's energy classes (docs/COSTS.md), in its order: reads, conversions, programming
/// pulses, neuron circuits, digital periphery.
pub(crate) const CLASSES: [&str; 5] = [
    "energy_read_j",
    "energy_convert_j",
    "energy_write_j",
    "energy_neuron_j",
    "energy_digital_j",
];

/// Mean over the trained epochs of a run (epoch 0 trains nothing) of `column` per training sample:
/// [`ENERGY`] itself, or one of the [`CLASSES`], an epoch's class energy scaled by the epoch's
/// energy per sample over its energy (its samples), so that the classes add up to [`ENERGY`].
pub(crate) fn per_sample(r: &crate::results::RunRecord, column: &str) -> Option<f64> {
    let values: Vec<f64> = r
        .epochs
        .iter()
        .skip(1)
        .filter_map(|m| {
            let per = *m.extra.get(ENERGY)?;
            if column == ENERGY {
                return Some(per);
            }
            let (part, all) = (*m.extra.get(column)?, *m.extra.get(EPOCH_ENERGY)?);
            // An epoch that cost nothing costs nothing in every class.
            Some(if all > 0.0 { part * (per / all) } else { 0.0 })
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The indices of `points` (energy, metric) on the Pareto front, by increasing energy: each has
/// a higher metric than every point of lower energy.
pub(crate) fn pareto(points: &[(f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    order.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[b].1.total_cmp(&points[a].1))
    });
    let mut best = f64::NEG_INFINITY;
    order
        .into_iter()
        .filter(|&i| {
            let keep = points[i].1 > best;
            best = best.max(points[i].1);
            keep
        })
        .collect()
}

/// energy-<metric>.png/.svg: the final `metric` against the training energy per sample.
pub(crate) fn energy_accuracy(ctx: &Context<'_>, out: &Path, metric: &str) -> Result<PathBuf> {
    check_metric(ctx.records, ENERGY)?;
    check_metric(ctx.records, metric)?;
    let label = ctx.labels.metric(metric);
    let axes: Vec<&str> = ctx.exp.sweep.0.iter().map(|a| a.path.as_str()).collect();
    let mut curves = Vec::new();
    let mut points = Vec::new();
    for combo in combos(ctx, &axes)? {
        let runs = select(ctx.records, &axes, &combo);
        let finals = Finals::of(&runs, metric);
        let energies: Vec<f64> = runs
            .iter()
            .filter(|r| r.divergence.is_none())
            .filter_map(|r| per_sample(r, ENERGY))
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (e, y) = if energies.is_empty() || finals.values.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            (mean(&energies), label.scale(mean(&finals.values)))
        };
        points.push((e, y));
        let name = describe(ctx, &axes, &combo);
        curves.push(Curve::new(
            if name.is_empty() { "run".into() } else { name },
            vec![e],
            vec![y],
        ));
    }
    let front = pareto(&points);
    if front.len() > 1 {
        let (x, y) = front.iter().map(|&i| points[i]).unzip();
        curves.push(Curve::new("Pareto front", x, y).with_colour(plot::Colour(0, 0, 0)));
    }
    let panel = Panel {
        title: format!("{} against training energy", label.name),
        x_label: "training energy per sample (J)".into(),
        y_label: label.axis(),
        curves,
        log_x: true,
        y_range: ctx.percent_range(label.percent),
        ..Panel::default()
    };
    let stem = out.join(format!("energy-{}", safe(metric)));
    let caption = format!(
        "final {}, mean over {} seed(s); energy: mean per training sample over the epochs",
        label.name,
        ctx.exp.seeds.len()
    );
    figure(&stem, &panel.title.clone(), &caption, &[panel], &ctx.opts)?;
    Ok(stem)
}

#[cfg(test)]
mod tests {
    use super::pareto;

    #[test]
    fn the_pareto_front_keeps_the_points_nothing_beats() {
        // (energy, accuracy): the second is beaten by the first (more energy, less accuracy),
        // the fourth ties the first's accuracy at more energy.
        let pts = [(1.0, 0.8), (2.0, 0.7), (3.0, 0.9), (4.0, 0.8), (0.5, 0.6)];
        assert_eq!(pareto(&pts), vec![4, 0, 2]);
    }
}
