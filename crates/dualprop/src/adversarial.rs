//! L∞ adversarial examples from the backprop input gradient (FGSM, PGD) and adversarial accuracy.

use crate::backprop::{Backprop, Gradients};
use crate::loss::accuracy;
use crate::network::Network;
use crossbar::Crossbar;
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// An L∞ attack on the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Attack {
    /// Fast gradient sign method (Goodfellow et al. 2015): x' = x + ε·sign(∇ₓℓ).
    Fgsm {
        /// Radius ε of the L∞ ball (input units, ≥ 0).
        epsilon: f32,
    },
    /// Projected gradient descent (Madry et al. 2018): `steps` signed steps of size `step`, each
    /// projected back onto the ε-ball around x.
    Pgd {
        /// Radius ε of the L∞ ball (input units, ≥ 0).
        epsilon: f32,
        /// Step size (input units, > 0).
        step: f32,
        /// Number of steps (≥ 1).
        steps: usize,
        /// Start from a uniform point of the ball drawn from a ChaCha8 stream with this seed
        /// (from x itself if absent).
        random_start: Option<u64>,
    },
}

/// The inputs' valid range, e.g. (0, 1) for images; adversarial examples are clipped into it.
pub type InputRange = Option<(f32, f32)>;

fn clip(v: f32, range: InputRange) -> f32 {
    match range {
        Some((lo, hi)) => v.clamp(lo, hi),
        None => v,
    }
}

/// The per-sample input gradient ∇ₓℓ at `x` (through the network's own reads).
fn input_gradient<C: Crossbar>(
    net: &mut Network<C>,
    bp: &mut Backprop,
    grads: &mut Gradients,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
) {
    bp.gradient(net, x, y, grads);
}

/// FGSM examples x + ε·sign(∇ₓℓ), clipped into `range`.
pub fn fgsm<C: Crossbar>(
    net: &mut Network<C>,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    epsilon: f32,
    range: InputRange,
) -> DMatrix<f32> {
    examples(net, x, y, &Attack::Fgsm { epsilon }, range)
}

/// Adversarial examples for `attack`, clipped into `range`.
pub fn examples<C: Crossbar>(
    net: &mut Network<C>,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    attack: &Attack,
    range: InputRange,
) -> DMatrix<f32> {
    let mut bp = Backprop::new(net.sizes(), x.ncols());
    let mut grads = Gradients::for_network(net);
    match *attack {
        Attack::Fgsm { epsilon } => {
            input_gradient(net, &mut bp, &mut grads, x, y);
            x.zip_map(bp.input_gradient(), |xi, g| {
                clip(xi + epsilon * sign(g), range)
            })
        }
        Attack::Pgd {
            epsilon,
            step,
            steps,
            random_start,
        } => {
            let mut adv = x.clone();
            if let Some(seed) = random_start {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                for v in adv.iter_mut() {
                    *v = clip(*v + rng.random_range(-epsilon..=epsilon), range);
                }
            }
            for _ in 0..steps {
                input_gradient(net, &mut bp, &mut grads, &adv, y);
                for ((a, &x0), &g) in adv.iter_mut().zip(x.iter()).zip(bp.input_gradient().iter()) {
                    let moved = (*a + step * sign(g)).clamp(x0 - epsilon, x0 + epsilon);
                    *a = clip(moved, range);
                }
            }
            adv
        }
    }
}

/// The sign of a gradient entry, 0 for 0 (as torch.sign).
fn sign(g: f32) -> f32 {
    if g > 0.0 {
        1.0
    } else if g < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Accuracy of the network on the adversarial examples of `attack` against itself.
pub fn adversarial_accuracy<C: Crossbar>(
    net: &mut Network<C>,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    attack: &Attack,
    range: InputRange,
) -> f64 {
    let adv = examples(net, x, y, attack, range);
    accuracy(&net.predict(&adv), y)
}
