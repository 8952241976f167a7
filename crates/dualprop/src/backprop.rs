//! The exact gradient of the same network by backpropagation, read through the same arrays.

use crate::network::{Network, add_bias};
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
        }
    }

    fn ensure_batch(&mut self, batch: usize) {
        if batch != self.batch {
            *self = Self::new(&self.sizes.clone(), batch);
        }
    }

    /// Forward and backward pass of (x, y); writes batch-mean gradients, returns the mean loss.
    pub fn gradient<C: Crossbar>(
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
            let layer = &mut net.layers[k - 1];
            layer.array.read(&self.act[k - 1], &mut self.pre[k - 1]);
            add_bias(&mut self.pre[k - 1], &layer.bias);
            for (h, a) in self.act[k].iter_mut().zip(self.pre[k - 1].iter()) {
                *h = f.apply(*a);
            }
        }
        let loss = net.loss.value(&self.pre[depth - 1], y);
        net.loss
            .gradient(&self.pre[depth - 1], y, &mut self.delta[depth - 1]);
        let inv_b = 1.0 / x.ncols() as f32;
        for k in (1..=depth).rev() {
            if k < depth {
                let (lower, upper) = self.delta.split_at_mut(k);
                net.layers[k]
                    .array
                    .read_transposed(&upper[0], &mut lower[k - 1]);
                let f = net.activation_of(k);
                for (d, a) in lower[k - 1].iter_mut().zip(self.pre[k - 1].iter()) {
                    *d *= f.derivative(*a);
                }
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
        net.layers[0]
            .array
            .read_transposed(&self.delta[0], &mut self.input_grad);
        loss
    }

    /// ∂ℓ/∂x per sample from the last [`Backprop::gradient`] call.
    pub fn input_gradient(&self) -> &DMatrix<f32> {
        &self.input_grad
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
