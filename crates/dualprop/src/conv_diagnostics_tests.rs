//! The diagnostics of convolutional networks against brute force: the Lipschitz estimates with
//! every convolution written out as the dense matrix it applies to one image (norms by SVD in f64)
//! and the input Jacobian by central differences, and the input gradient the attacks step along.

use crate::block::{Block, BlockSpec, ConvShape, Image};
use crate::diagnostics::relative_error;
use crate::lipschitz::{
    jacobian_norm, jacobian_with, layer_norm_product, lipschitz, weight_product_norm,
    weight_product_with,
};
use crate::network::Init;
use crate::test_support::{batch, conv, conv_architectures, image, pool_margin};
use crate::{Activation, Backprop, Gradients, Loss, Network};
use crossbar::{Crossbar, IdealArray};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The shared architectures and one without pooling at all.
fn architectures() -> Vec<(Image, Vec<BlockSpec>)> {
    let mut all = conv_architectures();
    all.push((
        image(5, 2),
        vec![conv(3, 1, false), conv(2, 2, false), BlockSpec::Dense(4)],
    ));
    all
}

fn conv_net(input: Image, blocks: &[BlockSpec], act: Activation, seed: u64) -> Network<IdealArray> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Network::ideal_blocks(input, blocks, act, Loss::Mse, Init::Uniform, &mut rng).unwrap()
}

/// The convolution of `s` with kernel array `w` as the matrix it applies to one channel-last
/// image, written out from the definition of a 'same'-padded strided convolution (no pooling).
fn conv_matrix(s: &ConvShape, w: &DMatrix<f32>) -> DMatrix<f64> {
    let (ho, wo) = s.conv_size();
    let (py, px) = s.padding();
    let (ci, k) = (s.input.channels, s.kernel);
    let mut a = DMatrix::zeros(ho * wo * s.channels, s.input.units());
    for oy in 0..ho {
        for ox in 0..wo {
            for co in 0..s.channels {
                for dy in 0..k {
                    for dx in 0..k {
                        let iy = (oy * s.stride + dy) as isize - py as isize;
                        let ix = (ox * s.stride + dx) as isize - px as isize;
                        if iy < 0
                            || ix < 0
                            || iy >= s.input.height as isize
                            || ix >= s.input.width as isize
                        {
                            continue;
                        }
                        for c in 0..ci {
                            let col = (iy as usize * s.input.width + ix as usize) * ci + c;
                            a[((oy * wo + ox) * s.channels + co, col)] +=
                                w[(co, (dy * k + dx) * ci + c)] as f64;
                        }
                    }
                }
            }
        }
    }
    a
}

/// Every block's linear map as an explicit f64 matrix, and whether it pools.
fn block_matrices(net: &Network<IdealArray>) -> Vec<(DMatrix<f64>, bool)> {
    net.blocks()
        .iter()
        .zip(&net.layers)
        .map(|(b, l)| {
            let w = l.array.weights();
            match b {
                Block::Dense => (w.cast::<f64>(), false),
                Block::Conv(s) => (conv_matrix(s, &w), s.pool),
            }
        })
        .collect()
}

fn norm(m: &DMatrix<f64>) -> f64 {
    m.clone().svd(false, false).singular_values.max()
}

/// Power iteration stops at a relative change of 1e-6 per step (f32 chains); its estimate lies
/// below σ by about that over the relative gap to the second singular value, which is above 1 %
/// for these random kernels, so 1e-4 leaves a margin of ten.
const POWER: f64 = 1e-4;

#[test]
fn layer_product_is_the_product_of_the_block_operators_norms() {
    for (t, (input, blocks)) in architectures().into_iter().enumerate() {
        let net = conv_net(input, &blocks, Activation::Relu, 30 + t as u64);
        let exact: f64 = block_matrices(&net).iter().map(|(m, _)| norm(m)).product();
        approx::assert_relative_eq!(layer_norm_product(&net), exact, max_relative = POWER);
    }
}

/// Without pooling the weight product is ‖A_L⋯A₁‖₂; with it, the product of the norms of the
/// stretches that end at each pooled convolution (its pooling left out) or at the output.
#[test]
fn weight_product_composes_the_linear_stretches() {
    for (t, (input, blocks)) in architectures().into_iter().enumerate() {
        let net = conv_net(input, &blocks, Activation::Relu, 40 + t as u64);
        let mut exact = 1.0;
        let mut stretch: Option<DMatrix<f64>> = None;
        for (m, pool) in block_matrices(&net) {
            let composed = match stretch.take() {
                Some(below) => &m * below,
                None => m,
            };
            if pool {
                exact *= norm(&composed);
            } else {
                stretch = Some(composed);
            }
        }
        exact *= norm(&stretch.expect("the output block is dense"));
        if t == 2 {
            let all: DMatrix<f64> = block_matrices(&net)
                .into_iter()
                .fold(None, |acc: Option<DMatrix<f64>>, (m, _)| {
                    Some(acc.map_or(m.clone(), |a| &m * a))
                })
                .expect("blocks");
            approx::assert_relative_eq!(exact, norm(&all), max_relative = 1e-12);
        }
        // Each stretch formed from its output side (exact up to f32 rounding), and by power
        // iteration through the chain.
        approx::assert_relative_eq!(
            weight_product_with(&net, |_| true),
            exact,
            max_relative = 1e-5
        );
        approx::assert_relative_eq!(
            weight_product_with(&net, |_| false),
            exact,
            max_relative = POWER
        );
        approx::assert_relative_eq!(weight_product_norm(&net), exact, max_relative = POWER);
    }
}

/// The input Jacobian of one sample by central differences of the network's output, in f64.
fn finite_difference_jacobian(
    net: &mut Network<IdealArray>,
    x: &DMatrix<f32>,
    h: f32,
) -> DMatrix<f64> {
    let n_out = net.sizes()[net.depth()];
    let mut j = DMatrix::zeros(n_out, x.nrows());
    for i in 0..x.nrows() {
        let mut at = |delta: f32| {
            let mut xs = x.clone();
            xs[i] += delta;
            net.predict(&xs).cast::<f64>()
        };
        let column = (at(h) - at(-h)) / (2.0 * h as f64);
        j.set_column(i, &column.column(0));
    }
    j
}

/// With tanh (smooth) and h = 10⁻³ the central differences' truncation error is O(h²) ≈ 10⁻⁶
/// relative; f32 rounding of outputs of order 1 adds about 6·10⁻⁸/(2h) ≈ 3·10⁻⁵ per entry against
/// Jacobian norms of order 0.1–1, so 10⁻³ bounds both with margin. Max-pooling routes each sample
/// one way; the samples are chosen with every first-block window more than 2h·max|W₁| from a tie,
/// so no perturbation switches a choice, and the Jacobian is the one through that routing.
#[test]
fn jacobian_matches_finite_differences_through_the_pooling_routing() {
    let h = 1e-3f32;
    for (t, (input, blocks)) in architectures().into_iter().enumerate() {
        let mut net = conv_net(input, &blocks, Activation::Tanh, 50 + t as u64);
        let n_out = net.sizes()[net.depth()];
        let w_max = net.layers[0].array.weights().amax();
        let x = (60..90)
            .map(|seed| batch(seed, input.units(), n_out, 3).0)
            .find(|x| pool_margin(&net, x) > 2.0 * h * w_max)
            .expect("a batch without near-ties among 30 seeds");
        let mut exact = 0.0f64;
        for b in 0..x.ncols() {
            let column = x.columns(b, 1).into_owned();
            let j = finite_difference_jacobian(&mut net, &column, h);
            let sigma = norm(&j);
            approx::assert_relative_eq!(jacobian_norm(&net, &column), sigma, max_relative = 1e-3);
            exact = exact.max(sigma);
        }
        approx::assert_relative_eq!(jacobian_norm(&net, &x), exact, max_relative = 1e-3);
        approx::assert_relative_eq!(jacobian_with(&net, &x, false), exact, max_relative = 1e-3);
    }
}

/// ReLU networks on many inputs: the explicit Jacobians equal power iteration, and the ordering
/// the estimates must keep holds (every slope in [0, 1], pooling 1-Lipschitz, so the Jacobian
/// never exceeds the layer product, nor does the weight product).
#[test]
fn conv_estimates_agree_between_methods_and_keep_their_order() {
    for (t, (input, blocks)) in architectures().into_iter().enumerate() {
        let net = conv_net(input, &blocks, Activation::Relu, 70 + t as u64);
        let n_out = net.sizes()[net.depth()];
        let (x, _) = batch(80 + t as u64, input.units(), n_out, 70);
        approx::assert_relative_eq!(
            jacobian_with(&net, &x, true),
            jacobian_with(&net, &x, false),
            max_relative = POWER
        );
        let l = lipschitz(&net, &x);
        assert!(l.jacobian > 0.0, "{l:?}");
        assert!(l.jacobian <= l.layer_product * (1.0 + 1e-5), "{l:?}");
        assert!(l.weight_product <= l.layer_product * (1.0 + 1e-5), "{l:?}");
    }
}

/// FGSM and PGD step along backprop's per-sample input gradient; through pooled and strided
/// convolutions it is the gradient of each sample's loss, by central differences as above (tanh,
/// h = 10⁻³, samples away from pooling ties; the loss is of order 1, so rounding adds about
/// 10⁻⁷/(2h) = 5·10⁻⁵ per entry against gradients of order 10⁻², inside the 1 % bound).
#[test]
fn input_gradient_through_convolutions_matches_finite_differences() {
    let h = 1e-3f32;
    for (t, (input, blocks)) in architectures().into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(90 + t as u64);
        let mut net = Network::ideal_blocks(
            input,
            &blocks,
            Activation::Tanh,
            Loss::CrossEntropy,
            Init::Uniform,
            &mut rng,
        )
        .unwrap();
        let n_out = net.sizes()[net.depth()];
        let w_max = net.layers[0].array.weights().amax();
        let (x, y) = (100..130)
            .map(|seed| batch(seed, input.units(), n_out, 3))
            .find(|(x, _)| pool_margin(&net, x) > 2.0 * h * w_max)
            .expect("a batch without near-ties among 30 seeds");
        let mut bp = Backprop::new(net.sizes(), x.ncols());
        let mut grads = Gradients::for_network(&net);
        bp.gradient(&mut net, &x, &y, &mut grads);
        for b in 0..x.ncols() {
            let (xb, yb) = (x.columns(b, 1).into_owned(), y.columns(b, 1).into_owned());
            let fd: Vec<f32> = (0..xb.nrows())
                .map(|i| {
                    let mut loss_at = |delta: f32| {
                        let mut xs = xb.clone();
                        xs[i] += delta;
                        net.loss.value(&net.predict(&xs), &yb)
                    };
                    ((loss_at(h) - loss_at(-h)) / (2.0 * h as f64)) as f32
                })
                .collect();
            let rel = relative_error(bp.input_gradient().column(b).iter(), fd.iter());
            assert!(rel < 1e-2, "net {t} sample {b}: {rel}");
        }
    }
}
