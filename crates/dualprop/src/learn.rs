//! The local learning rule: the contrastive Hebbian gradient estimate from settled dyads.

use crate::backprop::{Gradients, row_means};
use crate::block::Block;
use crate::conv::{self, Workspaces};
use crate::dyads::Dyads;
use crate::network::Network;
use crossbar::Crossbar;
use crossbar::linalg::{Op, gemm};
use nalgebra::DMatrix;

/// The gradient estimate of the local rule: Gₖ = −(1/(β·B))·Σ_b δₖ·s̄ₖ₋₁ᵀ and −(1/(β·B))·Σ_b δₖ.
///
/// An optimiser step of −η·Gₖ is the contrastive Hebbian update ΔWₖ = (η/β)·mean(δₖ·s̄ₖ₋₁ᵀ).
///
/// A convolution block sums over the batch and all its output positions: Gₖ = −(1/(β·B))·Σ δₖ ⊗
/// patch(s̄ₖ₋₁), with δ un-pooled along the routing of conv(s̄ₖ₋₁) (one array read), and its bias
/// gradient sums δ over each channel's positions.
pub fn local_gradients<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    beta: f32,
    grads: &mut Gradients,
) {
    let mut work = std::mem::take(&mut dyads.conv);
    local_gradients_with(net, dyads, &mut work, beta, grads);
    dyads.conv = work;
}

/// [`local_gradients`] with the convolution buffers given.
pub(crate) fn local_gradients_with<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &Dyads,
    work: &mut Workspaces,
    beta: f32,
    grads: &mut Gradients,
) {
    let b = dyads.batch() as f32;
    for k in 1..=dyads.depth() {
        if let Block::Conv(s) = net.blocks()[k - 1] {
            let w = conv::factors(
                &mut net.layers[k - 1].array,
                &s,
                work,
                k - 1,
                Some(dyads.below(k)),
                &dyads.diff[k - 1],
            );
            gemm(
                -1.0 / (beta * b),
                &w.dconv,
                Op::N,
                &w.patches,
                Op::T,
                0.0,
                &mut grads.weights[k - 1],
            );
            conv::channel_means(&dyads.diff[k - 1], &mut grads.biases[k - 1]);
            grads.biases[k - 1] *= -1.0 / beta;
            continue;
        }
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
    local_gradients(net, dyads, dynamics.beta, grads);
    settled
}
