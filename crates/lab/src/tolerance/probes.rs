//! Probe points: one grid point per (compare, across, axis value), with an index that stays the
//! same across commands, and the metric read back from the records.

use super::{Combo, Plan, ToleranceOptions};
use crate::error::{LabError, Result};
use crate::results::RunRecord;
use crate::runner::{self, Point};
use crate::spec::Experiment;
use crate::sweep::{Axis, Sweep};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Probe points by their parameters, with indices that stay the same across commands: taken from
/// the records when the parameters ran before, else the next free index.
pub(super) struct Points<'a> {
    stored: &'a Experiment,
    axis: String,
    compare: Option<String>,
    across: Option<String>,
    known: Vec<(BTreeMap<String, Value>, usize)>,
    next: usize,
    pub(super) used: Vec<usize>,
    source: PathBuf,
}

impl<'a> Points<'a> {
    pub(super) fn new(
        stored: &'a Experiment,
        exp: &Experiment,
        plan: &Plan,
        opts: &ToleranceOptions,
    ) -> Result<Self> {
        let records = if opts.fresh {
            Vec::new()
        } else {
            crate::results::load_records(&opts.out)?
        };
        let mut known: Vec<(BTreeMap<String, Value>, usize)> = Vec::new();
        for r in &records {
            if !known.iter().any(|(_, i)| *i == r.point) {
                known.push((r.params.clone(), r.point));
            }
        }
        let next = records.iter().map(|r| r.point + 1).max().unwrap_or(0);
        Ok(Self {
            stored,
            axis: plan.axis.clone(),
            compare: plan.compare.as_ref().map(|c| c.0.clone()),
            across: plan.across.as_ref().map(|a| a.0.clone()),
            known,
            next,
            used: Vec::new(),
            source: exp.source.clone().unwrap_or_default(),
        })
    }

    /// The point of `value` in `combo`, validated; counted as used.
    pub(super) fn point(&mut self, combo: &Combo, value: f64) -> Result<Point> {
        let mut params = BTreeMap::new();
        params.insert(self.axis.clone(), Value::from(value));
        if let Some(path) = &self.compare {
            params.insert(path.clone(), combo.0.clone());
        }
        if let Some(path) = &self.across {
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
            ..self.stored.clone()
        };
        let mut point = runner::points(&single)
            .map_err(|(field, message)| LabError::Invalid {
                path: self.source.clone(),
                position: None,
                field,
                message,
            })?
            .remove(0);
        point.index = index;
        if !self.used.contains(&index) {
            self.used.push(index);
        }
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
