//! The paper's limits as tests: the local rule reproduces backprop as β → 0.

use crate::diagnostics::alignment;
use crate::test_support::{batch, local, network, reference};
use crate::{Activation, Dynamics, Loss, NudgeAt};
use crossbar::{Crossbar, IdealArray};
use nalgebra::DMatrix;

const SIZES: [usize; 5] = [12, 16, 16, 16, 5];
const ALPHAS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// Largest relative error over the layers of the local estimate against backprop.
fn worst_rel_err(
    net: &mut crate::Network<IdealArray>,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    d: &Dynamics,
) -> f64 {
    let bp = reference(net, x, y);
    let (est, _, _) = local(net, x, y, d);
    alignment(&est, &bp)
        .iter()
        .map(|a| a.rel_err)
        .fold(0.0, f64::max)
}

#[test]
fn dp_top_matches_backprop_as_beta_vanishes() {
    let (x, y) = batch(1, SIZES[0], SIZES[4], 20);
    for act in [Activation::Relu, Activation::Tanh] {
        for loss in [Loss::CrossEntropy, Loss::Mse] {
            let mut net = network(&SIZES, act, loss, 2);
            let bp = reference(&mut net, &x, &y);
            for alpha in ALPHAS {
                let (est, _, _) = local(&mut net, &x, &y, &Dynamics::dp_top(alpha, 1e-3, 12));
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

/// The error of DP⊤ is first order in β for α ≠ ½ (one compartment is nudged further than the other,
/// a one-sided difference) and second order at α = ½ (a central difference).
///
/// f32 state: δ = s⁺ − s⁻ carries a rounding error of about ε_f32·|s| ≈ 1e-7, i.e. a relative error
/// of about 1e-6/β (measured: 1e-3 at β = 1e-3). The first-order term is about 0.1·β on this tanh
/// network, so β ∈ {0.1, 0.01} keeps rounding ≥ 10× below it; the smooth tanh avoids ReLU's kink
/// crossings, whose error scales as √β in the L2 norm.
#[test]
fn relative_error_shrinks_with_beta_at_the_predicted_order() {
    let (x, y) = batch(1, SIZES[0], SIZES[4], 20);
    for loss in [Loss::CrossEntropy, Loss::Mse] {
        let mut net = network(&SIZES, Activation::Tanh, loss, 2);
        for alpha in [0.0, 0.25, 0.75, 1.0] {
            let coarse = worst_rel_err(&mut net, &x, &y, &Dynamics::dp_top(alpha, 0.1, 12));
            let fine = worst_rel_err(&mut net, &x, &y, &Dynamics::dp_top(alpha, 0.01, 12));
            let ratio = coarse / fine;
            assert!(
                (7.0..14.0).contains(&ratio),
                "{loss:?} α={alpha}: {coarse} → {fine} (×{ratio})"
            );
        }
        let coarse = worst_rel_err(&mut net, &x, &y, &Dynamics::dp_top(0.5, 1.0, 12));
        let fine = worst_rel_err(&mut net, &x, &y, &Dynamics::dp_top(0.5, 0.1, 12));
        assert!(
            coarse / fine > 30.0,
            "{loss:?} α=½: {coarse} → {fine} is not second order"
        );
    }
}

#[test]
fn dp_matches_backprop_at_symmetric_nudging() {
    let (x, y) = batch(1, SIZES[0], SIZES[4], 20);
    for loss in [Loss::CrossEntropy, Loss::Mse] {
        let mut net = network(&SIZES, Activation::Relu, loss, 2);
        let bp = reference(&mut net, &x, &y);
        let (est, _, _) = local(&mut net, &x, &y, &Dynamics::dp(0.5, 1e-3, 12));
        for a in alignment(&est, &bp) {
            assert!(a.cosine > 0.9999 && a.rel_err < 1e-2, "{loss:?}: {a:?}");
        }
    }
}

#[test]
fn dp_equals_dp_top_at_symmetric_nudging() {
    let (x, y) = batch(5, SIZES[0], SIZES[4], 8);
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 6);
    for nudge_at in [NudgeAt::FreePrediction, NudgeAt::CurrentDrive] {
        let top = Dynamics {
            nudge_at,
            ..Dynamics::dp_top(0.5, 0.1, 6)
        };
        let dp = Dynamics {
            nudge_at,
            ..Dynamics::dp(0.5, 0.1, 6)
        };
        assert_eq!(
            local(&mut net, &x, &y, &top).0,
            local(&mut net, &x, &y, &dp).0
        );
    }
}

#[test]
fn backprop_matches_central_finite_differences() {
    let sizes = [6, 7, 5, 3];
    let (x, y) = batch(3, 6, 3, 4);
    for loss in [Loss::CrossEntropy, Loss::Mse] {
        let net = network(&sizes, Activation::Tanh, loss, 4);
        let mut probe = net.clone();
        let bp = reference(&mut probe, &x, &y);
        let loss_at = |net: &mut crate::Network<IdealArray>| {
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
            assert!(
                (fd - g).abs() < 2e-4 + 1e-3 * g.abs(),
                "bias {k}: {fd} vs {g}"
            );
        }
    }
}
