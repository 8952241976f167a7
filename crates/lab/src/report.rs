//! Figures drawn from results records.

use crate::error::Result;
use crate::plot::{Curve, Panel, figure};
use crate::results::RunRecord;
use std::collections::BTreeMap;
use std::path::Path;

/// Mean and spread over seeds of one metric per epoch, for a group of runs.
fn mean_band(runs: &[&RunRecord], metric: fn(&crate::job::EpochMetrics) -> f64) -> Curve {
    let epochs = runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
    let (mut x, mut y, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for e in 0..epochs {
        let values: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.epochs.get(e))
            .map(metric)
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            continue;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        x.push(e as f64);
        y.push(mean);
        lo.push(values.iter().copied().fold(f64::INFINITY, f64::min));
        hi.push(values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    let band = (runs.len() > 1).then_some((lo, hi));
    Curve {
        label: String::new(),
        x,
        y,
        band,
        error_bars: false,
    }
}

fn label_of(record: &RunRecord, axis: Option<&str>) -> String {
    match axis.and_then(|a| record.params.get(a).map(|v| (a, v))) {
        Some((a, v)) => format!("{a} = {}", v.to_string().trim_matches('"')),
        None => String::new(),
    }
}

/// convergence.png/.svg: test (solid) and train accuracy and loss against epoch, one curve per value
/// of `axis` (or per point), the band spanning the replicate seeds.
pub fn convergence(
    out: &Path,
    title: &str,
    records: &[RunRecord],
    axis: Option<&str>,
) -> Result<()> {
    let mut groups: BTreeMap<(String, usize), Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        let key = match axis {
            Some(_) => (label_of(r, axis), 0),
            None => (String::new(), r.point),
        };
        groups.entry(key).or_default().push(r);
    }
    let single = groups.len() == 1;
    let mut acc = Vec::new();
    let mut loss = Vec::new();
    for ((label, point), runs) in &groups {
        let name = if !label.is_empty() {
            label.clone()
        } else if single {
            String::new()
        } else {
            format!("point {point}")
        };
        let with = |prefix: &str| {
            if name.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix} {name}")
            }
        };
        for (split, acc_metric, loss_metric) in [
            (
                "test",
                (|m: &crate::job::EpochMetrics| m.test_acc) as fn(&_) -> f64,
                (|m: &crate::job::EpochMetrics| m.test_loss) as fn(&_) -> f64,
            ),
            (
                "train",
                |m: &crate::job::EpochMetrics| m.train_acc,
                |m: &crate::job::EpochMetrics| m.train_loss,
            ),
        ] {
            if split == "train" && !single {
                continue;
            }
            let mut a = mean_band(runs, acc_metric);
            a.label = with(split);
            acc.push(a);
            let mut l = mean_band(runs, loss_metric);
            l.label = with(split);
            loss.push(l);
        }
    }
    let panels = [
        Panel {
            title: "Accuracy".into(),
            x_label: "epoch".into(),
            y_label: "accuracy".into(),
            curves: acc,
            log_x: false,
            log_y: false,
            y_range: Some((0.0, 1.0)),
        },
        Panel {
            title: "Loss".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            curves: loss,
            log_x: false,
            log_y: true,
            y_range: None,
        },
    ];
    figure(&out.join("convergence"), title, &panels)?;
    Ok(())
}
