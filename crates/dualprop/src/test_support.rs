//! Shared fixtures of the unit tests: seeded batches and networks, the backprop reference.

use crate::{Activation, Backprop, Dyads, Dynamics, Gradients, Loss, Network, estimate};
use crossbar::IdealArray;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Standard-normal inputs and one-hot targets (class b mod n_out for column b).
pub fn batch(seed: u64, n_in: usize, n_out: usize, b: usize) -> (DMatrix<f32>, DMatrix<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = DMatrix::from_fn(n_in, b, |_, _| StandardNormal.sample(&mut rng));
    let y = DMatrix::from_fn(n_out, b, |i, j| if i == j % n_out { 1.0 } else { 0.0 });
    (x, y)
}

/// A PyTorch-initialised network on ideal arrays.
pub fn network(sizes: &[usize], act: Activation, loss: Loss, seed: u64) -> Network<IdealArray> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Network::ideal(sizes, act, loss, &mut rng).unwrap()
}

/// Exact backprop gradients of (x, y).
pub fn reference(net: &mut Network<IdealArray>, x: &DMatrix<f32>, y: &DMatrix<f32>) -> Gradients {
    let mut grads = Gradients::for_network(net);
    Backprop::new(net.sizes(), x.ncols()).gradient(net, x, y, &mut grads);
    grads
}

/// The local rule's estimate after settling with `dynamics`, with the dyads it settled.
pub fn local(
    net: &mut Network<IdealArray>,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
) -> (Gradients, Dyads, crate::Settled) {
    let mut dyads = Dyads::new(net.sizes(), x.ncols());
    let mut est = Gradients::for_network(net);
    let s = estimate(net, &mut dyads, x, y, dynamics, &mut est);
    (est, dyads, s)
}
