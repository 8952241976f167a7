//! Dyadic-neuron networks that learn by dual propagation.
//!
//! Every hidden neuron is a dyad of two compartments (s⁺, s⁻). The mean s̄ = α·s⁺ + (1−α)·s⁻ travels
//! up through the crossbars, the difference δ = s⁺ − s⁻ travels down, and once the dyads have settled
//! every synapse layer learns from purely local quantities: ΔWₖ = (η/β)·mean(δₖ·s̄ₖ₋₁ᵀ).
//! The mathematics is in docs/MODEL.md; the network sees its weights only through
//! [`crossbar::Crossbar`], so the same code runs on ideal and on non-ideal arrays.
//!
//! DP⊤, DP and damped DP are one implementation ([`Dynamics`]: the split α_fb and the mean's α_mix,
//! optional damping), settled by a layer [`Schedule`] or in continuous time ([`Circuit`]), with the
//! neuron circuits' mismatch attached by [`Network::set_mismatch`]. Backprop ([`Backprop`]) is the
//! reference; [`diagnostics`], [`lipschitz`], [`adversarial`] and [`gradcheck()`] measure against it.
//!
//! ```
//! use dualprop::{Activation, Algorithm, AlgorithmKind, Dyads, Gradients, Loss, Network, estimate};
//! use nalgebra::DMatrix;
//! use rand::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let mut net = Network::ideal(&[4, 8, 3], Activation::Relu, Loss::CrossEntropy, &mut rng).unwrap();
//! let x = DMatrix::from_element(4, 2, 0.5);
//! let y = DMatrix::from_fn(3, 2, |i, j| if i == j { 1.0 } else { 0.0 });
//! let algorithm = Algorithm { kind: AlgorithmKind::DpTop, alpha: 0.0, beta: 0.01, passes: 10, ..Algorithm::default() };
//! algorithm.validate_for(net.loss).unwrap();
//! let mut dyads = Dyads::new(net.sizes(), 2);
//! let mut grads = Gradients::zeros(net.sizes());
//! let settled = estimate(&mut net, &mut dyads, &x, &y, &algorithm.dynamics().unwrap(), &mut grads);
//! // Converged: the last pass changed no compartment by more than 10⁻⁴ of the largest one.
//! assert!(settled.converged && settled.residual <= settled.tolerance);
//!
//! // The same estimate compared with backprop, per layer.
//! let report = dualprop::gradcheck(&mut net, &x, &y, &algorithm).unwrap();
//! assert!(report.layers.iter().all(|l| l.cosine > 0.999));
//! ```

pub mod activation;
pub mod adversarial;
pub mod algorithm;
pub mod backprop;
pub mod block;
mod circuit;
mod compartment;
mod conv;
pub mod counts;
pub mod damping;
pub mod diagnostics;
pub mod dyads;
pub mod dynamics;
pub mod gradcheck;
pub mod im2col;
pub mod learn;
pub mod lipschitz;
pub mod loss;
pub mod network;
pub mod optimizer;
pub mod periphery;
pub mod schedule;
pub mod settle;
mod simd;

pub use activation::Activation;
pub use algorithm::{Algorithm, AlgorithmError, AlgorithmKind, DampingOptions, DpOptions};
pub use backprop::{Backprop, Gradients};
pub use block::{Block, BlockError, BlockSpec, ConvShape, Image};
pub use conv::PoolRouting;
pub use counts::NetCounts;
pub use diagnostics::alignment;
pub use dyads::Dyads;
pub use dynamics::{Circuit, Damping, Dynamics, HiddenAlpha, NudgeAt, OutputMode};
pub use gradcheck::{GradcheckReport, LayerCheck, gradcheck};
pub use learn::{estimate, local_gradients};
pub use loss::Loss;
pub use network::{Init, Layer, Network, NetworkError};
pub use optimizer::{Optimizer, OptimizerKind};
pub use periphery::Periphery;
pub use schedule::Schedule;
pub use settle::{Settled, settle};

#[cfg(test)]
mod conv_diagnostics_tests;
#[cfg(test)]
mod conv_tests;
#[cfg(test)]
mod convergence_tests;
#[cfg(test)]
mod counts_tests;
#[cfg(test)]
mod fidelity_tests;
#[cfg(test)]
mod hardware_tests;
#[cfg(test)]
mod paper_mlp_tests;
#[cfg(test)]
mod paper_tests;
#[cfg(test)]
mod skip_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tooling_tests;
