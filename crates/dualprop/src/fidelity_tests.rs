//! The paper's limits as tests: the local rule reproduces backprop as β → 0.

use crate::diagnostics::alignment;
use crate::{Activation, Backprop, Dyads, Dynamics, Gradients, Loss, Network, estimate};
use crossbar::{Crossbar, IdealArray};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const SIZES: [usize; 5] = [12, 16, 16, 16, 5];

fn batch(seed: u64, n_in: usize, n_out: usize, b: usize) -> (DMatrix<f32>, DMatrix<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = DMatrix::from_fn(n_in, b, |_, _| StandardNormal.sample(&mut rng));
    let y = DMatrix::from_fn(n_out, b, |i, j| if i == j % n_out { 1.0 } else { 0.0 });
    (x, y)
}

fn network(act: Activation, loss: Loss, seed: u64) -> Network<IdealArray> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Network::ideal(&SIZES, act, loss, &mut rng).unwrap()
}

fn reference(net: &mut Network<IdealArray>, x: &DMatrix<f32>, y: &DMatrix<f32>) -> Gradients {
    let mut grads = Gradients::zeros(net.sizes());
    Backprop::new(net.sizes(), x.ncols()).gradient(net, x, y, &mut grads);
    grads
}

#[test]
fn dp_top_matches_backprop_as_beta_vanishes() {
    let (x, y) = batch(1, SIZES[0], SIZES[4], 20);
    for act in [Activation::Relu, Activation::Tanh] {
        for loss in [Loss::CrossEntropy, Loss::Mse] {
            let mut net = network(act, loss, 2);
            let bp = reference(&mut net, &x, &y);
            for alpha in [0.0, 0.5, 1.0] {
                let mut dyads = Dyads::new(net.sizes(), x.ncols());
                let mut est = Gradients::zeros(net.sizes());
                let dynamics = Dynamics::dp_top(alpha, 1e-3, 12);
                estimate(&mut net, &mut dyads, &x, &y, &dynamics, &mut est);
                for (k, a) in alignment(&est, &bp).iter().enumerate() {
                    assert!(
                        a.cosine > 0.9999 && a.rel_err < 1e-2,
                        "{act:?} {loss:?} α={alpha} layer {}: cos {} rel {}",
                        k + 1,
                        a.cosine,
                        a.rel_err
                    );
                }
            }
        }
    }
}

#[test]
fn backprop_matches_central_finite_differences() {
    let sizes = [6, 7, 5, 3];
    let (x, y) = batch(3, 6, 3, 4);
    for loss in [Loss::CrossEntropy, Loss::Mse] {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let net = Network::ideal(&sizes, Activation::Tanh, loss, &mut rng).unwrap();
        let mut probe = net.clone();
        let bp = reference(&mut probe, &x, &y);
        let loss_at = |net: &mut Network<IdealArray>| {
            let out = net.predict(&x);
            net.loss.value(&out, &y)
        };
        for k in 0..sizes.len() - 1 {
            let w0 = net.layers[k].array.weights();
            for idx in [0, w0.len() / 2, w0.len() - 1] {
                let h = 1e-2f32;
                let mut plus = net.clone();
                let mut minus = net.clone();
                let (mut wp, mut wm) = (w0.clone(), w0.clone());
                wp[idx] += h;
                wm[idx] -= h;
                plus.layers[k].array.program(&wp);
                minus.layers[k].array.program(&wm);
                let fd = (loss_at(&mut plus) - loss_at(&mut minus)) / (2.0 * h as f64);
                let g = bp.weights[k][idx] as f64;
                // Central differences of a smooth loss err by O(h²)·f‴ ≈ 1e-4 here, f32 rounding of
                // the loss by ~1e-7/h = 1e-5.
                assert!(
                    (fd - g).abs() < 2e-4 + 1e-3 * g.abs(),
                    "{loss:?} layer {} weight {idx}: fd {fd} vs backprop {g}",
                    k + 1
                );
            }
            let b0 = net.layers[k].bias.clone();
            let h = 1e-2f32;
            let mut plus = net.clone();
            let mut minus = net.clone();
            plus.layers[k].bias[0] = b0[0] + h;
            minus.layers[k].bias[0] = b0[0] - h;
            let fd = (loss_at(&mut plus) - loss_at(&mut minus)) / (2.0 * h as f64);
            let g = bp.biases[k][0] as f64;
            assert!((fd - g).abs() < 2e-4 + 1e-3 * g.abs(), "bias {k}: {fd} vs {g}");
        }
    }
}

#[test]
fn dp_equals_dp_top_at_symmetric_nudging() {
    let (x, y) = batch(5, SIZES[0], SIZES[4], 8);
    let mut net = network(Activation::Relu, Loss::Mse, 6);
    let mut dyads = Dyads::new(net.sizes(), 8);
    let mut a = Gradients::zeros(net.sizes());
    let mut b = Gradients::zeros(net.sizes());
    estimate(&mut net, &mut dyads, &x, &y, &Dynamics::dp_top(0.5, 0.1, 6), &mut a);
    estimate(&mut net, &mut dyads, &x, &y, &Dynamics::dp(0.5, 0.1, 6), &mut b);
    assert_eq!(a, b);
}
