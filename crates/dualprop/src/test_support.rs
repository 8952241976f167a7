//! Shared fixtures of the unit tests: seeded batches and networks, the backprop reference.

use crate::block::{BlockSpec, Image};
use crate::{Activation, Backprop, Dyads, Dynamics, Gradients, Loss, Network, estimate};
use crossbar::{Crossbar, IdealArray};
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

/// The smallest gap between the largest and the second largest element of any pooling window of
/// the first block, over the columns of `x` (infinite when the first block is no pooled
/// convolution): finite differences step across no window's maximum when it exceeds their reach.
pub fn pool_margin(net: &Network<IdealArray>, x: &DMatrix<f32>) -> f32 {
    let crate::Block::Conv(s) = net.blocks()[0] else {
        return f32::INFINITY;
    };
    if !s.pool {
        return f32::INFINITY;
    }
    let b = x.ncols();
    let mut patches = DMatrix::zeros(s.patch(), s.positions() * b);
    crate::im2col::im2col(&s, x.as_slice(), patches.as_mut_slice());
    let conv = net.layers[0].array.weights() * patches;
    let (hc, wc) = s.conv_size();
    let mut margin = f32::INFINITY;
    for n in 0..b {
        for py in 0..hc / 2 {
            for px in 0..wc / 2 {
                for c in 0..s.channels {
                    let mut v: Vec<f32> = [(0, 0), (0, 1), (1, 0), (1, 1)]
                        .iter()
                        .map(|&(dy, dx)| {
                            conv.as_slice()
                                [(n * hc * wc + (2 * py + dy) * wc + 2 * px + dx) * s.channels + c]
                        })
                        .collect();
                    v.sort_by(|a, b| b.total_cmp(a));
                    margin = margin.min(v[0] - v[1]);
                }
            }
        }
    }
    margin
}

/// A 3×3 convolution block with `channels` outputs.
pub fn conv(channels: usize, stride: usize, pool: bool) -> BlockSpec {
    BlockSpec::Conv {
        channels,
        kernel: 3,
        stride,
        pool,
    }
}

/// A square image of `side` pixels and `channels` channels.
pub fn image(side: usize, channels: usize) -> Image {
    Image {
        height: side,
        width: side,
        channels,
    }
}

/// Two small architectures covering pooled and unpooled convolutions at strides 1 and 2, with one
/// or two dense blocks after them.
pub fn conv_architectures() -> Vec<(Image, Vec<BlockSpec>)> {
    vec![
        (
            image(6, 2),
            vec![conv(3, 1, true), conv(4, 2, false), BlockSpec::Dense(5)],
        ),
        (
            image(8, 1),
            vec![
                conv(3, 2, true),
                conv(2, 1, false),
                BlockSpec::Dense(6),
                BlockSpec::Dense(4),
            ],
        ),
    ]
}
