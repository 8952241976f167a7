//! Dyadic-neuron networks that learn by dual propagation.
//!
//! Every hidden neuron is a dyad of two compartments (s⁺, s⁻). The mean s̄ = α·s⁺ + (1−α)·s⁻ travels
//! up through the crossbars, the difference δ = s⁺ − s⁻ travels down, and once the dyads have settled
//! every synapse layer learns from purely local quantities: ΔWₖ = (η/β)·mean(δₖ·s̄ₖ₋₁ᵀ).
//! The mathematics is in docs/MODEL.md; the network sees its weights only through
//! [`crossbar::Crossbar`], so the same code runs on ideal and on non-ideal arrays.
//!
//! ```
//! use dualprop::{Activation, Dynamics, Dyads, Loss, Network, settle};
//! use nalgebra::DMatrix;
//! use rand::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let mut net = Network::ideal(&[4, 8, 3], Activation::Relu, Loss::CrossEntropy, &mut rng).unwrap();
//! let x = DMatrix::from_element(4, 2, 0.5);
//! let y = DMatrix::from_fn(3, 2, |i, j| if i == j { 1.0 } else { 0.0 });
//! let mut dyads = Dyads::new(net.sizes(), 2);
//! let dynamics = Dynamics::dp_top(0.0, 0.01, 2);
//! let settled = settle(&mut net, &mut dyads, &x, &y, &dynamics);
//! assert!(settled.converged);
//! ```

pub mod activation;
pub mod algorithm;
pub mod backprop;
pub mod diagnostics;
pub mod dyads;
pub mod learn;
pub mod loss;
pub mod network;
pub mod settle;

pub use activation::Activation;
pub use algorithm::{Algorithm, AlgorithmKind, Dynamics, NudgeAt, Schedule};
pub use backprop::{Backprop, Gradients};
pub use dyads::Dyads;
pub use learn::{Optimizer, OptimizerKind, estimate, local_gradients};
pub use loss::Loss;
pub use network::{Layer, Network, NetworkError};
pub use settle::{Settled, settle};

#[cfg(test)]
mod fidelity_tests;
