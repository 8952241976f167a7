//! The local learning rule: the contrastive Hebbian gradient estimate from settled dyads.

use crate::backprop::{Gradients, row_means};
use crate::dyads::Dyads;
use crate::network::Network;
use crossbar::Crossbar;
use crossbar::linalg::{Op, gemm};
use nalgebra::DMatrix;

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
