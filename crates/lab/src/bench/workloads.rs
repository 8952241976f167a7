//! The training-step workloads: a network on some hardware, a fixed seeded batch, and one step
//! (settle + local update, or backprop + update) that the timer repeats.

use crate::error::{LabError, Result};
use crate::job::Net;
use crate::seed::{Purpose, stream};
use crossbar::Hardware;
use crossbar::linalg::{Op, gemm};
use crossbar::spec::{PulseCoincidence, UpdateScheme};
use dualprop::{
    Activation, Backprop, Block, Circuit, Dyads, Dynamics, Gradients, Loss, Optimizer,
    OptimizerKind, settle,
};
use nalgebra::DMatrix;
use rand::Rng;

/// The noisy benchmark preset (device-models/noisy-reference.ron), compiled in so that `dyadsim bench` runs from any folder.
const NOISY_REFERENCE: &str = include_str!("../../../../device-models/noisy-reference.ron");

/// Learning rate of every benchmarked step: small enough that the weights stay in range over
/// hundreds of repetitions on the same batch, large enough that the devices see pulses.
const LEARNING_RATE: f32 = 0.01;

/// Seed of the benchmark's weights, devices and batch.
const SEED: u64 = 6;

/// The arrays a workload's network sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrays {
    /// Ideal arrays: exact reads, exact updates.
    Ideal,
    /// device-models/noisy-reference.ron: soft-bounds devices with device-to-device and
    /// cycle-to-cycle variation, stochastic-rounding updates, DAC/ADC reads with output noise.
    Noisy,
    /// The noisy preset with pulse-coincidence updates (BL 31).
    PulseCoincidence,
}

/// The network shape and batch size of a training-step workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Layer widths (units), input first.
    pub sizes: Vec<usize>,
    /// Samples per step.
    pub batch: usize,
    /// The block of every layer, layer 1 first (all `Dense` for the layer-width networks).
    pub blocks: Vec<Block>,
}

impl Shape {
    /// A dense network of layer widths `sizes`.
    pub fn dense(sizes: Vec<usize>, batch: usize) -> Self {
        let blocks = vec![Block::Dense; sizes.len().saturating_sub(1)];
        Self {
            sizes,
            batch,
            blocks,
        }
    }
}

/// The hardware description of `arrays`.
pub fn hardware(arrays: Arrays) -> Result<Hardware> {
    let noisy = || {
        ron::Options::default()
            .from_str::<Hardware>(NOISY_REFERENCE)
            .map_err(|e| LabError::Parse {
                path: "device-models/noisy-reference.ron".into(),
                line: e.span.start.line,
                col: e.span.start.col,
                message: e.code.to_string(),
            })
    };
    Ok(match arrays {
        Arrays::Ideal => Hardware::ideal(),
        Arrays::Noisy => noisy()?,
        Arrays::PulseCoincidence => Hardware {
            update: UpdateScheme::PulseCoincidence(PulseCoincidence {
                desired_bl: 31,
                ..PulseCoincidence::default()
            }),
            ..noisy()?
        },
    })
}

/// A seeded ReLU network with softmax cross-entropy on `arrays`, realised as runs realise theirs.
fn network(shape: &Shape, arrays: Arrays) -> Result<Net> {
    let spec = hardware(arrays)?;
    crate::network::realise(
        &shape.sizes,
        dualprop::network::Init::Uniform,
        Activation::Relu,
        Loss::CrossEntropy,
        &spec,
        SEED,
        0,
    )
    .map_err(|e| LabError::Invalid {
        path: "bench".into(),
        position: None,
        field: e.field().into(),
        message: e.to_string(),
    })
}

/// A seeded batch: pixels uniform in [0, 1], one-hot labels.
fn batch(shape: &Shape) -> (DMatrix<f32>, DMatrix<f32>) {
    let mut rng = stream(SEED, 0, Purpose::Data);
    let (inputs, classes) = (shape.sizes[0], shape.sizes[shape.sizes.len() - 1]);
    let x = DMatrix::from_fn(inputs, shape.batch, |_, _| rng.random::<f32>());
    let labels: Vec<usize> = (0..shape.batch)
        .map(|_| rng.random_range(0..classes))
        .collect();
    let y = DMatrix::from_fn(classes, shape.batch, |i, j| f32::from(labels[j] == i));
    (x, y)
}

/// One DP⊤ training step, repeated: settle (schedule or circuit) and the local update sent to the
/// arrays as the outer product (`Optimizer::step_local` with plain SGD, as analog hardware learns).
pub struct DpStep {
    net: Net,
    dyads: Dyads,
    optimizer: Optimizer,
    x: DMatrix<f32>,
    y: DMatrix<f32>,
    dynamics: Dynamics,
    /// Settling passes (or Euler steps) summed over every call, and the calls.
    pub passes: (usize, usize),
}

impl DpStep {
    /// DP⊤ (α = ½, β = 0.1, `Forward`) on `arrays` with `dynamics` adjusting it.
    pub fn new(shape: &Shape, arrays: Arrays, dynamics: Dynamics) -> Result<Self> {
        let (x, y) = batch(shape);
        Ok(Self {
            net: network(shape, arrays)?,
            dyads: Dyads::new(&shape.sizes, shape.batch),
            optimizer: Optimizer::new(
                OptimizerKind::PlainSgd,
                LEARNING_RATE,
                0.0,
                0.0,
                &shape.sizes,
            ),
            x,
            y,
            dynamics,
            passes: (0, 0),
        })
    }

    /// The fixed-K dynamics of the standard workloads: DP⊤, α = ½, β = 0.1, `Forward`, K passes.
    pub fn fixed(passes: usize) -> Dynamics {
        Dynamics::dp_top(0.5, 0.1, passes)
    }

    /// Settling until nothing changes or the largest change of a pass is below 1e-4 (at most 20
    /// passes), skipping reads whose inputs did not change.
    pub fn to_tolerance() -> Dynamics {
        Dynamics {
            tolerance: Some(1e-4),
            skip_unchanged: true,
            ..Dynamics::dp_top(0.5, 0.1, 20)
        }
    }

    /// Continuous-time settling (τ = 1, dt = ½, explicit Euler) to a velocity below 1e-4.
    pub fn circuit() -> Dynamics {
        Dynamics {
            circuit: Some(Circuit {
                tau: 1.0,
                dt: 0.5,
                tol: 1e-4,
                t_max: 200.0,
            }),
            ..Dynamics::dp_top(0.5, 0.1, 1)
        }
    }

    /// One step; returns the settling passes it ran (the FLOP formula of the workload table
    /// turns them into work).
    pub fn run(&mut self) -> usize {
        let settled = settle(
            &mut self.net,
            &mut self.dyads,
            &self.x,
            &self.y,
            &self.dynamics,
        );
        self.optimizer
            .step_local(&mut self.net, &self.dyads, self.dynamics.beta);
        self.passes.0 += settled.passes;
        self.passes.1 += 1;
        settled.passes
    }
}

/// One backprop training step, repeated: forward, backward, gradient, SGD step (momentum 0)
/// through the digital periphery.
pub struct BackpropStep {
    net: Net,
    backprop: Backprop,
    grads: Gradients,
    optimizer: Optimizer,
    x: DMatrix<f32>,
    y: DMatrix<f32>,
}

impl BackpropStep {
    /// Backprop of the benchmark network on `arrays`.
    pub fn new(shape: &Shape, arrays: Arrays) -> Result<Self> {
        let (x, y) = batch(shape);
        Ok(Self {
            net: network(shape, arrays)?,
            backprop: Backprop::new(&shape.sizes, shape.batch),
            grads: Gradients::zeros(&shape.sizes),
            optimizer: Optimizer::new(OptimizerKind::Sgd, LEARNING_RATE, 0.0, 0.0, &shape.sizes),
            x,
            y,
        })
    }

    /// One step; returns its settling passes (none: backprop does not settle).
    pub fn run(&mut self) -> usize {
        self.backprop
            .weight_gradient(&mut self.net, &self.x, &self.y, &mut self.grads);
        self.optimizer
            .step_backprop(&mut self.net, &self.backprop, &self.grads);
        0
    }
}

/// The matrix products of a fixed-K DP⊤ step and nothing else, through `crossbar::linalg::gemm`
/// on the same shapes: the rate the step would reach if everything but its products were free.
pub struct GemmStep {
    passes: usize,
    weights: Vec<DMatrix<f32>>,
    states: Vec<DMatrix<f32>>,
    feedback: Vec<DMatrix<f32>>,
}

impl GemmStep {
    /// Buffers for `shape`, filled with seeded values of order one (weights U(±1/√fan_in)), so
    /// that repeated products neither overflow nor reach subnormal numbers.
    pub fn new(shape: &Shape, passes: usize) -> Self {
        let mut rng = stream(SEED, 0, Purpose::Init);
        let mut fill = |r: usize, c: usize, scale: f32| {
            DMatrix::from_fn(r, c, |_, _| scale * rng.random_range(-1.0..1.0f32))
        };
        let sizes = &shape.sizes;
        Self {
            weights: (sizes.windows(2))
                .map(|w| fill(w[1], w[0], 1.0 / (w[0] as f32).sqrt()))
                .collect(),
            states: sizes.iter().map(|&n| fill(n, shape.batch, 1.0)).collect(),
            feedback: sizes.iter().map(|&n| fill(n, shape.batch, 1.0)).collect(),
            passes,
        }
    }

    /// Forward products of every layer, the transposed ones of layers 2..L, K times after a free
    /// forward pass, then the rank-B updates; returns K, the passes it stands for.
    pub fn run(&mut self) -> usize {
        let depth = self.weights.len();
        let forward = |s: &mut Self| {
            for k in 0..depth {
                let (below, above) = s.states.split_at_mut(k + 1);
                gemm(
                    1.0,
                    &s.weights[k],
                    Op::N,
                    &below[k],
                    Op::N,
                    0.0,
                    &mut above[0],
                );
            }
        };
        forward(self);
        for _ in 0..self.passes {
            forward(self);
            for k in 1..depth {
                let (below, above) = self.feedback.split_at_mut(k + 1);
                gemm(
                    1.0,
                    &self.weights[k],
                    Op::T,
                    &above[0],
                    Op::N,
                    0.0,
                    &mut below[k],
                );
            }
        }
        for k in 0..depth {
            let (d, x) = (&self.feedback[k + 1], &self.states[k]);
            gemm(-1e-6, d, Op::N, x, Op::T, 1.0, &mut self.weights[k]);
        }
        self.passes
    }
}

/// Mean passes per call of a [`DpStep`], for the table.
pub fn mean_passes(step: &DpStep) -> f64 {
    step.passes.0 as f64 / step.passes.1.max(1) as f64
}
