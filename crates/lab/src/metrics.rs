//! Further per-epoch metrics an experiment can ask for, beyond loss and accuracy.
//!
//! Each metric becomes one or more metrics.csv columns, named below. Diagnostics read the arrays
//! like training does, so on noisy hardware they draw read noise from the same stream: asking for a
//! metric can change a noisy run's trajectory (not an ideal one's).

use crate::dataset::Split;
use crate::field::FieldError;
use crate::job::Net;
use dualprop::adversarial::{Attack, InputRange, adversarial_accuracy};
use dualprop::{Algorithm, gradcheck, lipschitz};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A metric measured after every epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum MetricSpec {
    /// Cosine and relative error of the algorithm's gradient estimate against backprop on the
    /// weights as read, per layer, on a fixed probe batch: `cosine_l{k}`, `rel_err_l{k}`, and the
    /// mean-state leak `leak_l{k}`.
    GradientCosine {
        /// Probe batch size (default 100), drawn once per run from the training split.
        #[serde(default = "default_probe")]
        probe: usize,
    },
    /// Lipschitz estimates on the weights as a perfect read sees them: `lipschitz_layer_product`
    /// (Πₖ‖Aₖ‖₂, Aₖ block k's weight matrix or its convolution operator on one image),
    /// `lipschitz_weight_product` (‖A_L⋯A₁‖₂, the paper's proxy; with max-pooling, which is not
    /// linear, the product of the norms of the stretches between poolings) and `lipschitz_jacobian`
    /// (largest input-Jacobian spectral norm over the first `samples` test inputs, through each
    /// input's pooling routing).
    Lipschitz {
        /// Test inputs searched for the largest Jacobian norm (default 1000).
        #[serde(default = "default_samples")]
        samples: usize,
    },
    /// Test accuracy under FGSM (L∞) at each ε: `fgsm_acc_{ε}`.
    Fgsm {
        /// Radii of the L∞ ball, in input units.
        epsilons: Vec<f32>,
    },
    /// Test accuracy under PGD (L∞) at each ε with `steps` steps of ε/4: `pgd_acc_{ε}`.
    Pgd {
        /// Radii of the L∞ ball, in input units.
        epsilons: Vec<f32>,
        /// Steps (default 10).
        #[serde(default = "default_steps")]
        steps: usize,
    },
    /// Settling cost and quality over the epoch's batches: `settle_passes` (mean passes or Euler
    /// steps), `settle_residual` (mean final residual), `settle_unconverged` (fraction of batches
    /// that did not converge) and, in circuit mode, `settle_time`.
    Settling,
    /// Device pulses applied during the epoch (an energy proxy): `pulses`.
    Pulses,
    /// What the epoch's training cost under the hardware's cost model (`hardware.cost`, required):
    /// `energy_j`, `latency_s`, the energy by class (`energy_read_j`, `energy_convert_j`,
    /// `energy_write_j`, `energy_neuron_j`, `energy_digital_j`), the counts (`reads`, `cell_ops`,
    /// `dac_conversions`, `adc_conversions`, `pulses`, `compartment_updates`), per training sample
    /// `energy_per_sample_j` and `latency_per_sample_s`, and on the epoch-0 row `area_mm2`.
    /// Evaluation and the other metrics are not counted; see docs/COSTS.md.
    Cost,
}

fn default_probe() -> usize {
    100
}
fn default_samples() -> usize {
    1000
}
fn default_steps() -> usize {
    10
}

impl MetricSpec {
    /// The first range error, its field relative to the metric (`probe`, `epsilons`, ...).
    pub fn validate(&self) -> Result<(), FieldError> {
        let bad = |f: &str, m: String| Err(FieldError::new(f, m));
        match self {
            MetricSpec::GradientCosine { probe } if *probe == 0 => bad(
                "probe",
                "of GradientCosine must be at least 1 (got 0)".into(),
            ),
            MetricSpec::Lipschitz { samples } if *samples == 0 => {
                bad("samples", "of Lipschitz must be at least 1 (got 0)".into())
            }
            MetricSpec::Fgsm { epsilons } | MetricSpec::Pgd { epsilons, .. }
                if epsilons.is_empty()
                    || epsilons.iter().any(|e| !(e.is_finite() && *e >= 0.0)) =>
            {
                bad(
                    "epsilons",
                    format!("must list finite radii ≥ 0 (got {epsilons:?})"),
                )
            }
            MetricSpec::Pgd { steps: 0, .. } => {
                bad("steps", "of Pgd must be at least 1 (got 0)".into())
            }
            _ => Ok(()),
        }
    }

    /// The metrics.csv columns this metric writes for a network with `layers` weight layers
    /// (`settle_time` only in circuit mode, see [`MetricSpec::Settling`]).
    pub fn columns(&self, layers: usize) -> Vec<String> {
        match self {
            MetricSpec::GradientCosine { .. } => (1..=layers)
                .flat_map(|k| {
                    [
                        format!("cosine_l{k}"),
                        format!("rel_err_l{k}"),
                        format!("leak_l{k}"),
                    ]
                })
                .collect(),
            MetricSpec::Lipschitz { .. } => vec![
                "lipschitz_layer_product".into(),
                "lipschitz_weight_product".into(),
                "lipschitz_jacobian".into(),
            ],
            MetricSpec::Fgsm { epsilons } => {
                epsilons.iter().map(|&e| eps_name("fgsm_acc", e)).collect()
            }
            MetricSpec::Pgd { epsilons, .. } => {
                epsilons.iter().map(|&e| eps_name("pgd_acc", e)).collect()
            }
            MetricSpec::Settling => vec![
                "settle_passes".into(),
                "settle_residual".into(),
                "settle_unconverged".into(),
                "settle_time".into(),
            ],
            MetricSpec::Pulses => vec!["pulses".into()],
            MetricSpec::Cost => crate::cost::COLUMNS
                .iter()
                .chain([&crate::cost::AREA_COLUMN])
                .map(|c| (*c).to_owned())
                .collect(),
        }
    }
}

/// Running sums of what training itself reports during an epoch.
#[derive(Clone, Debug, Default)]
pub struct EpochTally {
    /// Batches settled.
    pub batches: usize,
    /// Sum of passes (or Euler steps).
    pub passes: f64,
    /// Sum of final residuals.
    pub residual: f64,
    /// Batches that did not converge.
    pub unconverged: usize,
    /// Sum of circuit settling times.
    pub time: f64,
    /// Pulses applied.
    pub pulses: u64,
    /// Everything the epoch's training did, counted by the arrays and the network.
    pub counts: crate::cost::Counts,
    /// Training samples of the epoch.
    pub samples: usize,
}

/// Fixed inputs the diagnostics use for a whole run.
pub struct Probe {
    /// Probe batch from the training split.
    pub x: DMatrix<f32>,
    /// Its targets.
    pub y: DMatrix<f32>,
    /// The valid range of inputs (attacks clip into it).
    pub range: InputRange,
    /// The hardware's cost model, if it has one.
    pub cost: Option<crossbar::spec::Cost>,
}

/// The valid input range of a dataset: [0, 1] when every input lies in it (images), else none.
pub fn input_range(split: &Split) -> InputRange {
    split
        .x
        .iter()
        .all(|v| (0.0..=1.0).contains(v))
        .then_some((0.0, 1.0))
}

fn eps_name(prefix: &str, eps: f32) -> String {
    format!("{prefix}_{eps}")
}

/// Measure every requested metric into `out`.
pub fn measure(
    specs: &[MetricSpec],
    net: &mut Net,
    algorithm: &Algorithm,
    probe: &Probe,
    test: &Split,
    tally: &EpochTally,
    out: &mut BTreeMap<String, f64>,
) {
    for spec in specs {
        match spec {
            MetricSpec::GradientCosine { .. } => {
                if let Ok(report) = gradcheck(net, &probe.x, &probe.y, algorithm) {
                    for (k, layer) in report.layers.iter().enumerate() {
                        out.insert(format!("cosine_l{}", k + 1), layer.cosine);
                        out.insert(format!("rel_err_l{}", k + 1), layer.rel_err);
                        out.insert(format!("leak_l{}", k + 1), layer.leak);
                    }
                }
            }
            MetricSpec::Lipschitz { samples } => {
                let n = (*samples).min(test.len());
                let x = test.x.columns(0, n).into_owned();
                let l = lipschitz::lipschitz(net, &x);
                out.insert("lipschitz_layer_product".into(), l.layer_product);
                out.insert("lipschitz_weight_product".into(), l.weight_product);
                out.insert("lipschitz_jacobian".into(), l.jacobian);
            }
            MetricSpec::Fgsm { epsilons } => {
                for &epsilon in epsilons {
                    let acc = attack_accuracy(net, test, &Attack::Fgsm { epsilon }, probe.range);
                    out.insert(eps_name("fgsm_acc", epsilon), acc);
                }
            }
            MetricSpec::Pgd { epsilons, steps } => {
                for &epsilon in epsilons {
                    let attack = Attack::Pgd {
                        epsilon,
                        step: epsilon / 4.0,
                        steps: *steps,
                        random_start: None,
                    };
                    out.insert(
                        eps_name("pgd_acc", epsilon),
                        attack_accuracy(net, test, &attack, probe.range),
                    );
                }
            }
            MetricSpec::Settling => {
                let n = tally.batches.max(1) as f64;
                out.insert("settle_passes".into(), tally.passes / n);
                out.insert("settle_residual".into(), tally.residual / n);
                out.insert("settle_unconverged".into(), tally.unconverged as f64 / n);
                // Asked of the algorithm, not of the tally: epoch 0 settles nothing, and its row
                // still belongs to a circuit-mode run.
                if algorithm.circuit.is_some() {
                    out.insert("settle_time".into(), tally.time / n);
                }
            }
            MetricSpec::Pulses => {
                out.insert("pulses".into(), tally.pulses as f64);
            }
            MetricSpec::Cost => {
                if let Some(cost) = &probe.cost {
                    crate::cost::columns(&tally.counts, cost, tally.samples, out);
                }
            }
        }
    }
}

/// Adversarial accuracy over the whole split, in chunks.
fn attack_accuracy(net: &mut Net, split: &Split, attack: &Attack, range: InputRange) -> f64 {
    const CHUNK: usize = 1000;
    let mut hits = 0.0;
    let mut start = 0;
    while start < split.len() {
        let len = CHUNK.min(split.len() - start);
        let x = split.x.columns(start, len).into_owned();
        let y = split.y.columns(start, len).into_owned();
        hits += adversarial_accuracy(net, &x, &y, attack, range) * len as f64;
        start += len;
    }
    hits / split.len().max(1) as f64
}
