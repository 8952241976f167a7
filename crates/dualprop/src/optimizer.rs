//! Optimisers: SGD and Adam in the digital periphery (updates sent as ΔW), and plain SGD sent to the
//! devices as the raw outer product, as analog hardware learns.

use crate::backprop::{Backprop, Gradients, row_means};
use crate::block::Block;
use crate::conv::{self, Workspaces};
use crate::counts::{BYTES_PER_VALUE, optimizer_ops};
use crate::dyads::Dyads;
use crate::learn::local_gradients_with;
use crate::network::Network;
use crossbar::{Crossbar, SnapshotError, SnapshotReader, SnapshotWriter, Update};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// The update rule applied to gradient estimates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Stochastic gradient descent with optional momentum and L2 weight decay (PyTorch's convention).
    Sgd,
    /// Adam (Kingma & Ba 2015) with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and L2 weight decay.
    Adam,
    /// Plain SGD as analog hardware does it: the rank-B outer product of the layer's input and error
    /// is sent to the devices ([`Update::OuterProduct`]); no momentum, no weight decay, and only the
    /// digital biases are updated in the periphery.
    PlainSgd,
}

/// An optimiser in the digital periphery: turns gradient estimates into weight updates ΔW.
#[derive(Clone, Debug)]
pub struct Optimizer {
    kind: OptimizerKind,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    /// Whether the weight decay also pulls the biases toward 0 (optax's `add_decayed_weights`
    /// without a mask, as the authors' CNN code) rather than the weights only (PyTorch's habit).
    decay_biases: bool,
    step: i32,
    first_w: Vec<DMatrix<f32>>,
    first_b: Vec<DVector<f32>>,
    second_w: Vec<DMatrix<f32>>,
    second_b: Vec<DVector<f32>>,
    delta_w: Vec<DMatrix<f32>>,
    /// Gradient estimates of [`Optimizer::step_local`] for the digital optimisers.
    local: Option<Gradients>,
    /// The post-synaptic factor −δₖ/β of plain SGD, one matrix per layer (resized with the batch).
    factor: Vec<DMatrix<f32>>,
    /// Buffers of the convolution blocks' update factors.
    work: Workspaces,
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
        Self::with_gradients(kind, lr, momentum, weight_decay, Gradients::zeros(sizes))
    }

    /// An optimiser for the arrays of `net` (convolutions included).
    pub fn for_network<C: Crossbar>(
        kind: OptimizerKind,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
        net: &Network<C>,
    ) -> Self {
        Self::with_gradients(
            kind,
            lr,
            momentum,
            weight_decay,
            Gradients::for_network(net),
        )
    }

    fn with_gradients(
        kind: OptimizerKind,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
        zeros: Gradients,
    ) -> Self {
        Self {
            kind,
            lr,
            momentum,
            weight_decay,
            decay_biases: false,
            step: 0,
            first_w: zeros.weights.clone(),
            first_b: zeros.biases.clone(),
            second_w: zeros.weights.clone(),
            second_b: zeros.biases.clone(),
            delta_w: zeros.weights.clone(),
            local: Some(zeros),
            factor: Vec::new(),
            work: Workspaces::default(),
        }
    }

    /// Let the weight decay act on the biases too (off by default: weights only).
    pub fn with_bias_decay(mut self, decay_biases: bool) -> Self {
        self.decay_biases = decay_biases;
        self
    }

    /// The kind of rule.
    pub fn kind(&self) -> OptimizerKind {
        self.kind
    }

    /// Append what the steps so far changed (step count, learning rate, momentum and moment
    /// estimates) to a snapshot; the rest is fixed at construction or rebuilt by every step.
    pub fn save(&self, out: &mut SnapshotWriter) {
        out.tag("optimizer");
        out.u64(u64::from(self.step.unsigned_abs()));
        out.f32(self.lr);
        for m in self.first_w.iter().chain(&self.second_w) {
            out.matrix(m);
        }
        for v in self.first_b.iter().chain(&self.second_b) {
            out.vector(v);
        }
    }

    /// Take the state [`Optimizer::save`] wrote, into an optimiser built for the same network.
    pub fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        input.tag("optimizer")?;
        let step = input.u64()?;
        self.step = i32::try_from(step)
            .map_err(|_| input.error(format!("{step} optimiser steps are more than it counts")))?;
        self.lr = input.f32()?;
        for m in self.first_w.iter_mut().chain(&mut self.second_w) {
            input.matrix_into(m, "a moment estimate of the weights")?;
        }
        for v in self.first_b.iter_mut().chain(&mut self.second_b) {
            input.vector_into(v, "a moment estimate of the biases")?;
        }
        Ok(())
    }

    /// Set the learning rate η of the next steps (a schedule's value for the coming step); the
    /// momentum and moment estimates carry over, as in optax's `sgd(schedule)`.
    pub fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }

    /// Learn from settled dyads with the local rule ΔWₖ = (η/β)·mean(δₖ·s̄ₖ₋₁ᵀ).
    ///
    /// Plain SGD sends `OuterProduct { x: s̄ₖ₋₁, d: −δₖ/β, lr: η/B }` to each array and adds
    /// (η/β)·mean(δₖ) to the biases; the digital optimisers form the gradient estimate and step.
    /// Returns the device pulses the arrays reported.
    pub fn step_local<C: Crossbar>(
        &mut self,
        net: &mut Network<C>,
        dyads: &Dyads,
        beta: f32,
    ) -> u64 {
        if self.kind != OptimizerKind::PlainSgd {
            // Taken out for the step, which borrows the optimiser mutably; put back after.
            let mut local = self
                .local
                .take()
                .unwrap_or_else(|| Gradients::for_network(net));
            local_gradients_with(net, dyads, &mut self.work, beta, &mut local);
            count_digital_gradient(net, dyads.batch());
            let pulses = self.step(net, &local);
            self.local = Some(local);
            return pulses;
        }
        self.step += 1;
        self.ensure_factor(dyads.sizes(), dyads.batch());
        let lr = self.lr / dyads.batch() as f32;
        let mut pulses = 0;
        let blocks = net.blocks().to_vec();
        for (k, layer) in net.layers.iter_mut().enumerate() {
            if let Block::Conv(s) = blocks[k] {
                // Every (sample, position) column is one update cycle, as aihwkit's AnalogConv2d.
                let w = conv::factors(
                    &mut layer.array,
                    &s,
                    &mut self.work,
                    k,
                    Some(dyads.below(k + 1)),
                    &dyads.diff[k],
                );
                w.dconv *= -1.0 / beta;
                pulses += layer
                    .array
                    .update(Update::OuterProduct {
                        x: &w.patches,
                        d: &w.dconv,
                        lr,
                    })
                    .pulses;
                conv::channel_means(&dyads.diff[k], &mut self.first_b[k]);
                layer.bias.axpy(self.lr / beta, &self.first_b[k], 1.0);
                continue;
            }
            let d = &mut self.factor[k];
            d.copy_from(&dyads.diff[k]);
            *d *= -1.0 / beta;
            pulses += layer
                .array
                .update(Update::OuterProduct {
                    x: dyads.below(k + 1),
                    d,
                    lr,
                })
                .pulses;
            row_means(&dyads.diff[k], &mut self.first_b[k]);
            layer.bias.axpy(self.lr / beta, &self.first_b[k], 1.0);
            // −δ/β, the bias's batch mean and its step.
            let n = d.nrows();
            net.counts.elementwise(n, dyads.batch(), 2);
            net.counts.digital_ops += 2 * n as u64;
        }
        pulses
    }

    /// Learn from the last [`Backprop::gradient`] (or adversarial gradient) call: plain SGD sends
    /// `OuterProduct { x: hₖ₋₁, d: ∂ℓ/∂aₖ, lr: η/B }`; the digital optimisers step on its gradients.
    pub fn step_backprop<C: Crossbar>(
        &mut self,
        net: &mut Network<C>,
        backprop: &Backprop,
        grads: &Gradients,
    ) -> u64 {
        let batch = backprop.batch();
        // The update reads the stored inputs of every layer back from memory.
        let stored: usize = net.sizes()[..net.depth()].iter().sum();
        net.counts.memory_read += (stored * batch) as u64 * BYTES_PER_VALUE;
        if self.kind != OptimizerKind::PlainSgd {
            count_digital_gradient(net, batch);
            return self.step(net, grads);
        }
        self.step += 1;
        let lr = self.lr / backprop.batch() as f32;
        let mut pulses = 0;
        for (k, layer) in net.layers.iter_mut().enumerate() {
            let (x, d) = backprop.factors(k);
            pulses += layer.array.update(Update::OuterProduct { x, d, lr }).pulses;
            layer.bias.axpy(-self.lr, &grads.biases[k], 1.0);
            // The bias gradient's batch mean and its step.
            let n = layer.bias.len();
            net.counts.elementwise(n, batch, 1);
            net.counts.digital_ops += 2 * n as u64;
        }
        pulses
    }

    fn ensure_factor(&mut self, sizes: &[usize], batch: usize) {
        if self.factor.first().is_none_or(|m| m.ncols() != batch) {
            self.factor = sizes[1..]
                .iter()
                .map(|&n| DMatrix::zeros(n, batch))
                .collect();
        }
    }

    /// Apply one step of the rule to gradient estimates; returns the device pulses the arrays reported.
    ///
    /// Plain SGD has no outer-product factors here and sends ΔW = −η·G
    /// (use [`Optimizer::step_local`] or [`Optimizer::step_backprop`] for the hardware path).
    pub fn step<C: Crossbar>(&mut self, net: &mut Network<C>, grads: &Gradients) -> u64 {
        self.step += 1;
        let mut pulses = 0;
        let per_parameter = optimizer_ops(self.kind);
        for layer in &net.layers {
            let (weights, biases) = (
                layer.array.outputs() * layer.array.inputs(),
                layer.bias.len(),
            );
            let decay = if self.kind != OptimizerKind::PlainSgd && self.weight_decay != 0.0 {
                let decayed = weights + if self.decay_biases { biases } else { 0 };
                2 * decayed as u64
            } else {
                0
            };
            net.counts.digital_ops += per_parameter * (weights + biases) as u64 + decay;
        }
        for (k, layer) in net.layers.iter_mut().enumerate() {
            let decay = if self.kind == OptimizerKind::PlainSgd {
                0.0
            } else {
                self.weight_decay
            };
            // Only when asked: adding 0·b would turn a gradient of −0 into +0.
            let bias_decay = self.decay_biases && decay != 0.0;
            let bias_gradient = |g: f32, b: f32| if bias_decay { g + decay * b } else { g };
            let current = (decay != 0.0).then(|| layer.array.weights());
            let decayed = current.as_ref().map(|w| (decay, w.as_slice()));
            let (g, dw) = (grads.weights[k].as_slice(), self.delta_w[k].as_mut_slice());
            match self.kind {
                OptimizerKind::Sgd | OptimizerKind::PlainSgd => {
                    let mu = if self.kind == OptimizerKind::Sgd {
                        self.momentum
                    } else {
                        0.0
                    };
                    let lr = self.lr;
                    let sgd = |v: &mut f32, g: f32| {
                        *v = mu * *v + g;
                        -lr * *v
                    };
                    elementwise(
                        self.first_w[k].as_mut_slice(),
                        None,
                        g,
                        decayed,
                        dw,
                        |v, _, g| sgd(v, g),
                    );
                    for ((v, g), b) in self.first_b[k]
                        .iter_mut()
                        .zip(grads.biases[k].iter())
                        .zip(layer.bias.iter_mut())
                    {
                        *b += sgd(v, bias_gradient(*g, *b));
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
                    elementwise(
                        self.first_w[k].as_mut_slice(),
                        Some(self.second_w[k].as_mut_slice()),
                        g,
                        decayed,
                        dw,
                        |m, v, g| adam(m, v.expect("Adam keeps second moments"), g),
                    );
                    for (((m, v), g), b) in self.first_b[k]
                        .iter_mut()
                        .zip(self.second_b[k].iter_mut())
                        .zip(grads.biases[k].iter())
                        .zip(layer.bias.iter_mut())
                    {
                        *b += adam(m, v, bias_gradient(*g, *b));
                    }
                }
            }
            pulses += layer.array.update(Update::Delta(&self.delta_w[k])).pulses;
        }
        pulses
    }
}

/// The digital outer products Σ δ·xᵀ and batch means a digital optimiser needs: 2 operations per
/// multiply-accumulate, 1 per element of a bias sum, 1 per bias for its scaling. A dense block
/// sums over the batch; a convolution over the batch and its output positions (every im2col
/// column is one outer product, as in the learning rule).
fn count_digital_gradient<C: Crossbar>(net: &mut Network<C>, batch: usize) {
    let mut ops = 0u64;
    for (layer, block) in net.layers.iter().zip(net.blocks()) {
        let (n, m) = (layer.array.outputs(), layer.array.inputs());
        let columns = match block {
            Block::Dense => batch,
            Block::Conv(shape) => shape.positions() * batch,
        };
        ops += 2 * (n * m * columns) as u64 + (n * columns) as u64 + n as u64;
    }
    net.counts.digital_ops += ops;
}

crate::simd::widest_simd! {
    /// out[i] = rule(first[i], second[i], g[i] + λ·w[i]) over equal-length slices, written as
    /// plain indexed loops so that the compiler vectorises them (the division and square root of
    /// Adam dominate the step otherwise). Division and square root are correctly rounded at any
    /// width and nothing is contracted into FMAs, so every width gives the same bits.
    fn elementwise(
        first: &mut [f32],
        second: Option<&mut [f32]>,
        g: &[f32],
        decay: Option<(f32, &[f32])>,
        out: &mut [f32],
        rule: impl Fn(&mut f32, Option<&mut f32>, f32) -> f32,
    ) {
        let n = g.len();
        let (first, out) = (&mut first[..n], &mut out[..n]);
        match (second, decay) {
            (Some(second), None) => {
                let second = &mut second[..n];
                for i in 0..n {
                    out[i] = rule(&mut first[i], Some(&mut second[i]), g[i]);
                }
            }
            (Some(second), Some((lambda, w))) => {
                let (second, w) = (&mut second[..n], &w[..n]);
                for i in 0..n {
                    out[i] = rule(&mut first[i], Some(&mut second[i]), g[i] + lambda * w[i]);
                }
            }
            (None, None) => {
                for i in 0..n {
                    out[i] = rule(&mut first[i], None, g[i]);
                }
            }
            (None, Some((lambda, w))) => {
                let w = &w[..n];
                for i in 0..n {
                    out[i] = rule(&mut first[i], None, g[i] + lambda * w[i]);
                }
            }
        }
    }
}
