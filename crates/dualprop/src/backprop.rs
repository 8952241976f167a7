//! The exact gradient of the same network by backpropagation, read through the same arrays.

use crate::block::Block;
use crate::conv::{self, Workspaces};
use crate::counts::{BYTES_PER_VALUE, DERIVATIVE_OPS};
use crate::network::{Network, add_bias};
use crate::periphery::{respond, respond_backward};
use crossbar::Crossbar;
use crossbar::linalg::{Op, gemm};
use nalgebra::{DMatrix, DVector};

/// ∂ℓ/∂Wₖ and ∂ℓ/∂bₖ for every layer (batch means), or any estimate of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients {
    /// Weight gradients, outputs × inputs per layer.
    pub weights: Vec<DMatrix<f32>>,
    /// Bias gradients per layer.
    pub biases: Vec<DVector<f32>>,
}

impl Gradients {
    /// Zero gradients shaped like a network with layer widths `sizes`.
    pub fn zeros(sizes: &[usize]) -> Self {
        Self {
            weights: sizes
                .windows(2)
                .map(|w| DMatrix::zeros(w[1], w[0]))
                .collect(),
            biases: sizes[1..].iter().map(|&n| DVector::zeros(n)).collect(),
        }
    }

    /// Zero gradients shaped like the arrays and biases of `net` (a convolution's weights are
    /// C_out × C_in·k·k, its biases one per channel).
    pub fn for_network<C: Crossbar>(net: &Network<C>) -> Self {
        Self {
            weights: net
                .layers
                .iter()
                .map(|l| DMatrix::zeros(l.array.outputs(), l.array.inputs()))
                .collect(),
            biases: net
                .layers
                .iter()
                .map(|l| DVector::zeros(l.bias.len()))
                .collect(),
        }
    }
}

/// Buffers for backpropagation over a batch.
#[derive(Clone, Debug)]
pub struct Backprop {
    sizes: Vec<usize>,
    batch: usize,
    /// Pre-activations aₖ.
    pre: Vec<DMatrix<f32>>,
    /// Activations hₖ = f(aₖ), h₀ = x.
    act: Vec<DMatrix<f32>>,
    /// ∂ℓ/∂aₖ per sample.
    delta: Vec<DMatrix<f32>>,
    /// ∂ℓ/∂x per sample.
    input_grad: DMatrix<f32>,
    /// The adversarial input x + β·∇ₓℓ.
    adversarial: DMatrix<f32>,
    /// Buffers of the convolution blocks.
    work: Workspaces,
}

impl Backprop {
    /// Buffers for layer widths `sizes` (input first) and `batch` samples.
    pub fn new(sizes: &[usize], batch: usize) -> Self {
        let m = |n: usize| DMatrix::zeros(n, batch);
        Self {
            sizes: sizes.to_vec(),
            batch,
            pre: sizes[1..].iter().map(|&n| m(n)).collect(),
            act: sizes.iter().map(|&n| m(n)).collect(),
            delta: sizes[1..].iter().map(|&n| m(n)).collect(),
            input_grad: m(sizes[0]),
            adversarial: m(sizes[0]),
            work: Workspaces::default(),
        }
    }

    fn ensure_batch(&mut self, batch: usize) {
        if batch != self.batch {
            *self = Self::new(&self.sizes.clone(), batch);
        }
    }

    /// Forward and backward pass of (x, y); writes batch-mean gradients and the per-sample input
    /// gradient ([`Backprop::input_gradient`]), returns the mean loss.
    pub fn gradient<C: Crossbar>(
        &mut self,
        net: &mut Network<C>,
        x: &DMatrix<f32>,
        y: &DMatrix<f32>,
        grads: &mut Gradients,
    ) -> f64 {
        let loss = self.weight_gradient(net, x, y, grads);
        let block = net.blocks()[0];
        conv::read_transposed(
            &mut net.layers[0].array,
            &block,
            &mut self.work,
            0,
            &self.delta[0],
            None,
            &mut self.input_grad,
        );
        loss
    }

    /// [`Backprop::gradient`] without the input gradient, which training does not need (it is one
    /// more product with the widest layer); [`Backprop::input_gradient`] keeps its old value.
    pub fn weight_gradient<C: Crossbar>(
        &mut self,
        net: &mut Network<C>,
        x: &DMatrix<f32>,
        y: &DMatrix<f32>,
        grads: &mut Gradients,
    ) -> f64 {
        self.ensure_batch(x.ncols());
        let depth = net.depth();
        self.act[0].copy_from(x);
        for k in 1..=depth {
            let f = net.activation_of(k);
            let block = net.blocks()[k - 1];
            let layer = &mut net.layers[k - 1];
            conv::read(
                &mut layer.array,
                &block,
                &mut self.work,
                k - 1,
                &self.act[k - 1],
                &mut self.pre[k - 1],
            );
            add_bias(&mut self.pre[k - 1], &layer.bias);
            // Neurons respond once per sample; the layer's input and pre-activation are stored
            // for the backward pass and the update.
            let (n, m, b) = (self.pre[k - 1].nrows(), self.act[k - 1].nrows(), x.ncols());
            net.counts.elementwise(n, b, 1);
            net.counts.compartment_updates += (n * b) as u64;
            net.counts.settle_time_constants += b as f64;
            net.counts.memory_written += ((n + m) * b) as u64 * BYTES_PER_VALUE;
            match net.mismatch_of(k) {
                Some(m) => respond(
                    f,
                    &m.act_gain,
                    &m.act_offset,
                    &self.pre[k - 1],
                    &mut self.act[k],
                ),
                None => {
                    for (h, a) in self.act[k].iter_mut().zip(self.pre[k - 1].iter()) {
                        *h = f.apply(*a);
                    }
                }
            }
        }
        let loss = net.loss.value(&self.act[depth], y);
        net.loss
            .gradient(&self.act[depth], y, &mut self.delta[depth - 1]);
        net.counts.elementwise(y.nrows(), y.ncols(), 1);
        if let Some(m) = net.mismatch_of(depth) {
            respond_backward(
                crate::Activation::Identity,
                Some(m),
                &self.pre[depth - 1],
                &mut self.delta[depth - 1],
            );
        }
        let inv_b = 1.0 / x.ncols() as f32;
        for k in (1..=depth).rev() {
            if k < depth {
                let (lower, upper) = self.delta.split_at_mut(k);
                let block = net.blocks()[k];
                conv::read_transposed(
                    &mut net.layers[k].array,
                    &block,
                    &mut self.work,
                    k,
                    &upper[0],
                    None,
                    &mut lower[k - 1],
                );
                respond_backward(
                    net.activation_of(k),
                    net.mismatch_of(k),
                    &self.pre[k - 1],
                    &mut lower[k - 1],
                );
                let n = (self.pre[k - 1].nrows() * x.ncols()) as u64;
                net.counts.derivative_evals += n;
                net.counts.digital_ops += DERIVATIVE_OPS * n;
                net.counts.memory_read += n * BYTES_PER_VALUE;
            }
            if let Block::Conv(s) = net.blocks()[k - 1] {
                // The patches and routing of the forward pass are still in the buffers.
                let w = conv::factors(
                    &mut net.layers[k - 1].array,
                    &s,
                    &mut self.work,
                    k - 1,
                    None,
                    &self.delta[k - 1],
                );
                gemm(
                    inv_b,
                    &w.dconv,
                    Op::N,
                    &w.patches,
                    Op::T,
                    0.0,
                    &mut grads.weights[k - 1],
                );
                conv::channel_means(&self.delta[k - 1], &mut grads.biases[k - 1]);
                continue;
            }
            gemm(
                inv_b,
                &self.delta[k - 1],
                Op::N,
                &self.act[k - 1],
                Op::T,
                0.0,
                &mut grads.weights[k - 1],
            );
            row_means(&self.delta[k - 1], &mut grads.biases[k - 1]);
        }
        loss
    }

    /// ∂ℓ/∂x per sample from the last [`Backprop::gradient`] call.
    pub fn input_gradient(&self) -> &DMatrix<f32> {
        &self.input_grad
    }

    /// Input-adversarial backprop: the gradient at x' = x + β·∇ₓℓ(x) (per sample), written into
    /// `grads`; returns the mean loss at x'. The buffers then hold the pass at x', except the input
    /// gradient, which stays ∇ₓℓ(x).
    pub fn adversarial_gradient<C: Crossbar>(
        &mut self,
        net: &mut Network<C>,
        x: &DMatrix<f32>,
        y: &DMatrix<f32>,
        beta: f32,
        grads: &mut Gradients,
    ) -> f64 {
        self.gradient(net, x, y, grads);
        let mut adversarial = std::mem::replace(&mut self.adversarial, DMatrix::zeros(0, 0));
        for ((a, &xi), &g) in adversarial
            .iter_mut()
            .zip(x.iter())
            .zip(self.input_grad.iter())
        {
            *a = xi + beta * g;
        }
        let loss = self.weight_gradient(net, &adversarial, y, grads);
        self.adversarial = adversarial;
        loss
    }

    /// Batch size of the buffers.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The layer inputs h₀ = x, h₁, …, h_{L−1} (and the output h_L) of the last pass.
    pub fn activations(&self) -> &[DMatrix<f32>] {
        &self.act
    }

    /// ∂ℓ/∂aₖ per sample (not divided by the batch size) of the last pass, layers 1..L.
    pub fn deltas(&self) -> &[DMatrix<f32>] {
        &self.delta
    }

    /// The two factors of layer index `k`'s (0-based) weight gradient from the last pass, (input,
    /// error): (hₖ, ∂ℓ/∂aₖ₊₁) for a dense block, (patches, error at the convolution's positions)
    /// for a convolution.
    pub(crate) fn factors(&self, k: usize) -> (&DMatrix<f32>, &DMatrix<f32>) {
        match self.work.peek(k) {
            Some(w) => (&w.patches, &w.dconv),
            _ => (&self.act[k], &self.delta[k]),
        }
    }
}

/// out ← the mean of each row of `m`.
pub(crate) fn row_means(m: &DMatrix<f32>, out: &mut DVector<f32>) {
    out.fill(0.0);
    for col in m.column_iter() {
        *out += col;
    }
    *out /= m.ncols().max(1) as f32;
}
