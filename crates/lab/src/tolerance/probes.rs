//! Probe points: one grid point per (compare, across, axis value), with an index that stays the
//! same across commands, and the metric read back from the records.

use super::{Combo, Plan};
use crate::error::{LabError, Result};
use crate::results::RunRecord;
use crate::runner::{self, Point};
use crate::spec::Experiment;
use crate::sweep::{Axis, Sweep};
use serde_json::Value;
use std::collections::BTreeMap;

/// Probe points by their parameters, with indices that stay the same across commands: taken from
/// the records when the parameters ran before, else the next free index.
pub(super) struct Points<'a> {
    stored: &'a Experiment,
    plan: &'a Plan,
    known: Vec<(BTreeMap<String, Value>, usize)>,
    next: usize,
    pub(super) used: Vec<usize>,
}

impl<'a> Points<'a> {
    /// The probes of `plan` over the folder's `records` (of the experiment `stored`).
    pub(super) fn new(stored: &'a Experiment, plan: &'a Plan, records: &[RunRecord]) -> Self {
        let mut known: Vec<(BTreeMap<String, Value>, usize)> = Vec::new();
        for r in records {
            if !known.iter().any(|(_, i)| *i == r.point) {
                // Earlier versions stored an f32 axis widened (0.699999988079071): the same probe.
                let mut params = r.params.clone();
                if let Some(v) = params.get_mut(&plan.axis)
                    && let Some(x) = v.as_f64()
                {
                    *v = Value::from(plan.shown(x));
                }
                known.push((params, r.point));
            }
        }
        let next = records.iter().map(|r| r.point + 1).max().unwrap_or(0);
        Self {
            stored,
            plan,
            known,
            next,
            used: Vec::new(),
        }
    }

    /// The point index and parameters of `value` in `combo`; counted as used.
    pub(super) fn probe(&mut self, combo: &Combo, value: f64) -> (usize, BTreeMap<String, Value>) {
        let mut params = BTreeMap::new();
        params.insert(self.plan.axis.clone(), Value::from(self.plan.shown(value)));
        if let Some((path, _)) = &self.plan.compare {
            params.insert(path.clone(), combo.0.clone());
        }
        if let Some((path, _)) = &self.plan.across {
            params.insert(path.clone(), combo.1.clone());
        }
        let index = match self.known.iter().find(|(p, _)| *p == params) {
            Some((_, i)) => *i,
            None => {
                let i = self.next;
                self.next += 1;
                self.known.push((params.clone(), i));
                i
            }
        };
        if !self.used.contains(&index) {
            self.used.push(index);
        }
        (index, params)
    }

    /// The probe `index` with `params` as the runner runs it, validated.
    pub(super) fn point(&self, index: usize, params: &BTreeMap<String, Value>) -> Result<Point> {
        let single = Experiment {
            sweep: Sweep(
                params
                    .iter()
                    .map(|(path, v)| Axis {
                        path: path.clone(),
                        values: vec![v.clone()],
                    })
                    .collect(),
            ),
            tolerance: None,
            ..self.stored.clone()
        };
        let mut point = runner::points(&single)
            .map_err(|e| LabError::Invalid {
                path: self.stored.source.clone().unwrap_or_default(),
                position: None,
                field: e.field,
                message: e.message,
            })?
            .remove(0);
        point.index = index;
        Ok(point)
    }
}

/// The final metric of point `index` per plan seed, NaN for a diverged run.
pub(super) fn metric_values(
    records: &[RunRecord],
    index: usize,
    plan: &Plan,
    out: &std::path::Path,
) -> Result<Vec<f64>> {
    plan.seeds
        .iter()
        .map(|&seed| {
            let r = records
                .iter()
                .find(|r| r.point == index && r.seed == seed)
                .ok_or_else(|| LabError::Data {
                    path: crate::results::records_dir(out),
                    message: format!("no record of point {index} seed {seed} after running it"),
                })?;
            if r.divergence.is_some() {
                return Ok(f64::NAN);
            }
            r.last()
                .and_then(|m| crate::report::epoch_metric(m, &plan.metric))
                .ok_or_else(|| LabError::Data {
                    path: crate::results::records_dir(out),
                    message: format!(
                        "the runs have no metric {:?}; name a metrics.csv column",
                        plan.metric
                    ),
                })
        })
        .collect()
}
