//! Per-point aggregates over replicate seeds: the table a notebook wants (points.csv), the
//! `aggregates` of summary.json and the final table on the terminal.
//!
//! A point's statistics are taken over the seeds that did not diverge and whose final value is
//! finite; the number of diverged seeds is reported beside them, so an average never hides a
//! failure. The spread is the sample standard deviation (n − 1 in the denominator), absent for
//! fewer than two values.

use crate::job::EpochMetrics;
use crate::results::RunRecord;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The base metrics every run has, in metrics.csv's order.
pub const BASE_METRICS: [&str; 4] = ["train_loss", "train_acc", "test_loss", "test_acc"];

/// Mean and spread of one metric over the seeds of a point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// Number of values (seeds that did not diverge and measured the metric).
    pub n: usize,
    /// Mean; NaN when `n` is 0.
    pub mean: f64,
    /// Sample standard deviation; None for fewer than two values.
    pub std: Option<f64>,
}

impl Stat {
    /// The statistics of `values`.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Stat { n, mean, std }
    }
}

/// One sweep point summarised over its replicate seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSummary {
    /// Index of the grid point.
    pub point: usize,
    /// The swept parameters of the point, by field path.
    pub params: BTreeMap<String, Value>,
    /// Seeds with a finished run.
    pub seeds: usize,
    /// Seeds whose run diverged.
    pub diverged: usize,
    /// Every final metric (base and further ones) by metrics.csv column name.
    pub metrics: BTreeMap<String, Stat>,
}

/// The short form of a point's parameters for log lines and tables: each axis by the last part of
/// its path, a file by its stem (`alpha=0.5 hardware=ideal`).
pub fn short_params(params: &BTreeMap<String, Value>) -> String {
    params
        .iter()
        .map(|(path, value)| {
            let name = path.rsplit('.').next().unwrap_or(path);
            let value = match value {
                Value::String(s) if s.ends_with(".ron") => std::path::Path::new(s)
                    .file_stem()
                    .map_or(s.clone(), |stem| stem.to_string_lossy().into_owned()),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A metric of an epoch by its metrics.csv column name.
pub fn epoch_metric(m: &EpochMetrics, name: &str) -> Option<f64> {
    match name {
        "train_loss" => Some(m.train_loss),
        "train_acc" => Some(m.train_acc),
        "test_loss" => Some(m.test_loss),
        "test_acc" => Some(m.test_acc),
        other => m.extra.get(other).copied(),
    }
}

/// Every metric name the records measured: the base ones, then the further ones in name order.
pub fn metric_names(records: &[RunRecord]) -> Vec<String> {
    let extras: BTreeSet<&str> = records
        .iter()
        .flat_map(|r| r.epochs.iter())
        .flat_map(|m| m.extra.keys().map(String::as_str))
        .collect();
    BASE_METRICS
        .iter()
        .copied()
        .chain(extras)
        .map(str::to_owned)
        .collect()
}

/// The records grouped by point (in point order), each group summarised over its seeds.
pub fn by_point(records: &[RunRecord]) -> Vec<PointSummary> {
    let names = metric_names(records);
    let mut groups: BTreeMap<usize, Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        groups.entry(r.point).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(point, runs)| {
            let healthy: Vec<&EpochMetrics> = runs
                .iter()
                .filter(|r| r.divergence.is_none())
                .filter_map(|r| r.last())
                .collect();
            let metrics = names
                .iter()
                .map(|name| {
                    let values: Vec<f64> = healthy
                        .iter()
                        .filter_map(|m| epoch_metric(m, name))
                        .filter(|v| v.is_finite())
                        .collect();
                    (name.clone(), Stat::of(&values))
                })
                .collect();
            PointSummary {
                point,
                params: runs[0].params.clone(),
                seeds: runs.len(),
                diverged: runs.iter().filter(|r| r.divergence.is_some()).count(),
                metrics,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Divergence;

    fn run(point: usize, seed: u64, test_acc: f64, diverged: bool) -> RunRecord {
        RunRecord {
            schema: crate::results::SCHEMA,
            point,
            seed,
            params: BTreeMap::from([("algorithm.alpha".into(), Value::from(0.5))]),
            epochs: vec![EpochMetrics {
                epoch: 1,
                train_loss: 0.5,
                train_acc: 0.8,
                test_loss: 0.6,
                test_acc,
                extra: BTreeMap::from([("pulses".into(), 10.0 * (seed as f64 + 1.0))]),
            }],
            divergence: diverged.then(|| Divergence {
                epoch: 1,
                batch: 0,
                kind: crate::job::DivergenceKind::NonFinite,
                reason: "non-finite".into(),
            }),
            retention: Vec::new(),
        }
    }

    #[test]
    fn point_statistics_are_over_the_seeds_that_did_not_diverge() {
        let records = [
            run(0, 0, 0.90, false),
            run(0, 1, 0.94, false),
            run(0, 2, f64::NAN, true),
            run(1, 0, 0.50, false),
        ];
        let points = by_point(&records);
        assert_eq!(points.len(), 2);
        let p = &points[0];
        assert_eq!((p.point, p.seeds, p.diverged), (0, 3, 1));
        let acc = p.metrics["test_acc"];
        assert_eq!(acc.n, 2);
        assert!((acc.mean - 0.92).abs() < 1e-12);
        // Sample std of {0.90, 0.94}: |0.94 − 0.90| / √2.
        assert!((acc.std.unwrap() - 0.04 / 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(p.metrics["pulses"].mean, 15.0);
        // One seed: a mean but no spread.
        assert_eq!(points[1].metrics["test_acc"].std, None);
        assert_eq!(
            metric_names(&records),
            ["train_loss", "train_acc", "test_loss", "test_acc", "pulses"]
        );
    }

    #[test]
    fn short_params_name_axes_by_their_last_part_and_files_by_their_stem() {
        let params = BTreeMap::from([
            ("algorithm.alpha".to_owned(), Value::from(0.25)),
            ("algorithm.kind".to_owned(), Value::from("DpTop")),
            (
                "hardware".to_owned(),
                Value::from("../device-models/reram-es.ron"),
            ),
        ]);
        assert_eq!(
            short_params(&params),
            "alpha=0.25 kind=DpTop hardware=reram-es"
        );
    }

    #[test]
    fn a_point_whose_seeds_all_diverged_has_no_mean() {
        let p = &by_point(&[run(0, 0, 0.1, true)])[0];
        assert_eq!((p.diverged, p.metrics["test_acc"].n), (1, 0));
        assert!(p.metrics["test_acc"].mean.is_nan());
    }
}
