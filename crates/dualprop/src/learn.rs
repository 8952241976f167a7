//! The local learning rule and the optimisers of the digital periphery.

use crate::backprop::{Gradients, row_means};
use crate::dyads::Dyads;
use crate::network::Network;
use crossbar::linalg::{Op, gemm};
use crossbar::{Crossbar, Update};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// The gradient estimate of the local rule: Gₖ = −(1/(β·B))·Σ_b δₖ·s̄ₖ₋₁ᵀ and −(1/(β·B))·Σ_b δₖ.
///
/// An optimiser step of −η·Gₖ is the contrastive Hebbian update ΔWₖ = (η/β)·mean(δₖ·s̄ₖ₋₁ᵀ).
pub fn local_gradients(dyads: &Dyads, beta: f32, grads: &mut Gradients) {
    let b = dyads.batch() as f32;
    for k in 1..=dyads.depth() {
        gemm(
            -1.0 / (beta * b),
            &dyads.diff[k - 1],
            Op::N,
            dyads.below(k),
            Op::T,
            0.0,
            &mut grads.weights[k - 1],
        );
        row_means(&dyads.diff[k - 1], &mut grads.biases[k - 1]);
        grads.biases[k - 1] *= -1.0 / beta;
    }
}

/// The update rule applied to gradient estimates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Stochastic gradient descent with optional momentum and L2 weight decay (PyTorch's convention).
    Sgd,
    /// Adam (Kingma & Ba 2015) with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and L2 weight decay.
    Adam,
}

/// An optimiser in the digital periphery: turns gradient estimates into weight updates ΔW.
#[derive(Clone, Debug)]
pub struct Optimizer {
    kind: OptimizerKind,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    step: i32,
    first_w: Vec<DMatrix<f32>>,
    first_b: Vec<DVector<f32>>,
    second_w: Vec<DMatrix<f32>>,
    second_b: Vec<DVector<f32>>,
    delta_w: Vec<DMatrix<f32>>,
}

const ADAM_BETA1: f32 = 0.9;
const ADAM_BETA2: f32 = 0.999;
const ADAM_EPS: f32 = 1e-8;

impl Optimizer {
    /// An optimiser for a network with layer widths `sizes`.
    pub fn new(
        kind: OptimizerKind,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
        sizes: &[usize],
    ) -> Self {
        let zeros = Gradients::zeros(sizes);
        Self {
            kind,
            lr,
            momentum,
            weight_decay,
            step: 0,
            first_w: zeros.weights.clone(),
            first_b: zeros.biases.clone(),
            second_w: zeros.weights.clone(),
            second_b: zeros.biases,
            delta_w: zeros.weights,
        }
    }

    /// Apply one step of the rule to every layer; returns the device pulses the arrays reported.
    pub fn step<C: Crossbar>(&mut self, net: &mut Network<C>, grads: &Gradients) -> u64 {
        self.step += 1;
        let mut pulses = 0;
        for (k, layer) in net.layers.iter_mut().enumerate() {
            let decay = self.weight_decay;
            let current = (decay != 0.0).then(|| layer.array.weights());
            let w_grad = |g: f32, i: usize| match &current {
                Some(w) => g + decay * w[i],
                None => g,
            };
            match self.kind {
                OptimizerKind::Sgd => {
                    let mu = self.momentum;
                    for (i, ((v, g), dw)) in self.first_w[k]
                        .iter_mut()
                        .zip(grads.weights[k].iter())
                        .zip(self.delta_w[k].iter_mut())
                        .enumerate()
                    {
                        *v = mu * *v + w_grad(*g, i);
                        *dw = -self.lr * *v;
                    }
                    for ((v, g), b) in self.first_b[k]
                        .iter_mut()
                        .zip(grads.biases[k].iter())
                        .zip(layer.bias.iter_mut())
                    {
                        *v = mu * *v + *g;
                        *b -= self.lr * *v;
                    }
                }
                OptimizerKind::Adam => {
                    let c1 = 1.0 - ADAM_BETA1.powi(self.step);
                    let c2 = 1.0 - ADAM_BETA2.powi(self.step);
                    let lr = self.lr;
                    let adam = |m: &mut f32, v: &mut f32, g: f32| {
                        *m = ADAM_BETA1 * *m + (1.0 - ADAM_BETA1) * g;
                        *v = ADAM_BETA2 * *v + (1.0 - ADAM_BETA2) * g * g;
                        -lr * (*m / c1) / ((*v / c2).sqrt() + ADAM_EPS)
                    };
                    for (i, (((m, v), g), dw)) in self.first_w[k]
                        .iter_mut()
                        .zip(self.second_w[k].iter_mut())
                        .zip(grads.weights[k].iter())
                        .zip(self.delta_w[k].iter_mut())
                        .enumerate()
                    {
                        *dw = adam(m, v, w_grad(*g, i));
                    }
                    for (((m, v), g), b) in self.first_b[k]
                        .iter_mut()
                        .zip(self.second_b[k].iter_mut())
                        .zip(grads.biases[k].iter())
                        .zip(layer.bias.iter_mut())
                    {
                        *b += adam(m, v, *g);
                    }
                }
            }
            pulses += layer.array.update(Update::Delta(&self.delta_w[k])).pulses;
        }
        pulses
    }
}

/// Settle a batch and write the local rule's gradient estimate into `grads`.
pub fn estimate<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    dynamics: &crate::Dynamics,
    grads: &mut Gradients,
) -> crate::Settled {
    let settled = crate::settle(net, dyads, x, y, dynamics);
    local_gradients(dyads, dynamics.beta, grads);
    settled
}
