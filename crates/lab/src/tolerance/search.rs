//! The search along one direction of the axis: bracket, then k-section down to the resolution.
//!
//! Positions are measured on the search scale (the value itself, or its base-10 logarithm), from
//! the reference (the near end, taken to pass) towards the far end. The first round probes the far
//! end and k − 1 points halving the distance towards the reference; every later round puts k
//! evenly spaced probes inside the current bracket [last pass, first fail], so the bracket shrinks
//! by k + 1 per round. A probe that passes beyond the first failure marks the response
//! non-monotone; the answer is always the bracket around the *first* failure.

use serde::{Deserialize, Serialize};

/// How probe values are spaced along the axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scale {
    /// Evenly in the value; the resolution is in the axis' units.
    Linear,
    /// Evenly in log10 of the value (values > 0); the resolution is relative (0.1: within 10 %).
    Log,
}

/// Decades below the far end where a log-scale search from a zero reference stops looking.
pub const LOG_FLOOR_DECADES: f64 = 4.0;

/// How one directional search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A failure was bracketed to the resolution.
    Found,
    /// Even the far end passes: the tolerance is at least the searched range.
    NeverFails,
    /// No probed value passes: the tolerance is below the resolution (or the log floor).
    FailsAtOnce,
}

/// The answer of one directional search, in axis values.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The largest excursion known to pass (the reference itself when none does).
    pub tolerance: f64,
    /// The last passing value and the first failing one (None when nothing failed).
    pub bracket: (f64, Option<f64>),
    /// False when some value beyond the first failure passed.
    pub monotone: bool,
    /// How the search ended.
    pub outcome: Outcome,
}

/// The state of a search along one direction.
#[derive(Clone, Debug)]
pub struct Search {
    reference: f64,
    scale: Scale,
    near: f64,
    far: f64,
    step: f64,
    k: usize,
    probes: Vec<(f64, bool)>,
}

impl Search {
    /// A search from `reference` towards `far` (axis values) on `scale`, stopping when the bracket
    /// is within `resolution`, with `k` ≥ 1 probes per round. The caller has checked that the ends
    /// differ and, on a log scale, that `far` > 0 and `reference` ≥ 0.
    pub fn new(reference: f64, far: f64, scale: Scale, resolution: f64, k: usize) -> Self {
        let (near, far_u, step) = match scale {
            Scale::Linear => (reference, far, resolution),
            Scale::Log => {
                let far_u = far.log10();
                let near = if reference > 0.0 {
                    reference.log10()
                } else {
                    far_u - LOG_FLOOR_DECADES
                };
                (near, far_u, (1.0 + resolution).log10())
            }
        };
        Self {
            reference,
            scale,
            near,
            far: far_u,
            step,
            k: k.max(1),
            probes: Vec::new(),
        }
    }

    fn value(&self, u: f64) -> f64 {
        match self.scale {
            Scale::Linear => u,
            Scale::Log => 10f64.powf(u),
        }
    }

    fn distance(&self, u: f64) -> f64 {
        (u - self.near).abs()
    }

    /// Points of a grid of the same resolution over the same range, the reference included.
    pub fn grid_points(&self) -> usize {
        let span = (self.far - self.near).abs();
        (span / self.step - 1e-9).ceil().max(1.0) as usize + 1
    }

    /// The bracket so far as positions (last pass, first fail), and whether some pass lies beyond it.
    fn bracket(&self) -> (f64, Option<f64>, bool) {
        let fail = self
            .probes
            .iter()
            .filter(|(_, pass)| !pass)
            .map(|&(u, _)| u)
            .min_by(|a, b| self.distance(*a).total_cmp(&self.distance(*b)));
        let limit = fail.map_or(f64::INFINITY, |f| self.distance(f));
        let pass = self
            .probes
            .iter()
            .filter(|&&(u, pass)| pass && self.distance(u) < limit)
            .map(|&(u, _)| u)
            .max_by(|a, b| self.distance(*a).total_cmp(&self.distance(*b)))
            .unwrap_or(self.near);
        let beyond = self
            .probes
            .iter()
            .any(|&(u, pass)| pass && self.distance(u) > limit);
        (pass, fail, beyond)
    }

    /// The values to probe next; empty once the search is finished.
    pub fn next(&self) -> Vec<f64> {
        if self.probes.is_empty() {
            let span = self.far - self.near;
            return (0..self.k)
                .map(|j| self.value(self.near + span * 0.5f64.powi(j as i32)))
                .collect();
        }
        let (pass, fail, _) = self.bracket();
        let Some(fail) = fail else {
            return Vec::new();
        };
        if (fail - pass).abs() <= self.step {
            return Vec::new();
        }
        let k = self.k as f64;
        (1..=self.k)
            .map(|i| self.value(pass + (fail - pass) * i as f64 / (k + 1.0)))
            .collect()
    }

    /// Note the decision at `value`, one of the values [`Search::next`] asked for.
    pub fn record(&mut self, value: f64, pass: bool) {
        let u = match self.scale {
            Scale::Linear => value,
            Scale::Log => value.log10(),
        };
        self.probes.push((u, pass));
    }

    /// The answer, once [`Search::next`] has nothing more to ask.
    pub fn result(&self) -> Option<Found> {
        if !self.next().is_empty() {
            return None;
        }
        let (pass, fail, beyond) = self.bracket();
        let passed_any = pass != self.near;
        let outcome = match fail {
            None => Outcome::NeverFails,
            Some(_) if !passed_any => Outcome::FailsAtOnce,
            Some(_) => Outcome::Found,
        };
        let pass_value = if passed_any {
            self.value(pass)
        } else {
            self.reference
        };
        Some(Found {
            tolerance: pass_value,
            bracket: (pass_value, fail.map(|f| self.value(f))),
            monotone: !beyond,
            outcome,
        })
    }

    /// Probes asked for so far.
    pub fn probes(&self) -> usize {
        self.probes.len()
    }
}

#[cfg(test)]
mod tests;
