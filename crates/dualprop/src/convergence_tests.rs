//! What `converged` means without a tolerance: the last pass changed no compartment by more than
//! [`DEFAULT_RELATIVE_TOLERANCE`] of the largest compartment magnitude.

use crate::settle::DEFAULT_RELATIVE_TOLERANCE;
use crate::test_support::{batch, network};
use crate::{Activation, Algorithm, AlgorithmKind, Dyads, Loss, Settled, settle};

/// The strongly coupled 64-128-128-10 ReLU net (weights ×2, MSE, β = 1) of the stability tests,
/// settled by `passes` Forward sweeps with no tolerance, explicit output.
fn untoleranced(kind: AlgorithmKind, alpha: f32, beta: f32, passes: usize) -> (Settled, f32) {
    let sizes = [64, 128, 128, 10];
    let (x, y) = batch(11, 64, 10, 32);
    let mut net = network(&sizes, Activation::Relu, Loss::Mse, 5);
    net.scale_weights(2.0);
    let algorithm = Algorithm {
        kind,
        alpha,
        beta,
        passes,
        ..Algorithm::default()
    };
    assert_eq!(algorithm.tolerance, None);
    let mut dyads = Dyads::new(net.sizes(), x.ncols());
    let s = settle(&mut net, &mut dyads, &x, &y, &algorithm.dynamics().unwrap());
    let scale = dyads
        .plus
        .iter()
        .chain(&dyads.minus)
        .map(|m| m.amax())
        .fold(0.0, f32::max);
    (s, scale)
}

#[test]
fn without_a_tolerance_a_state_still_growing_is_not_converged() {
    // DP at α = 0 is unstable here: after 60 sweeps the compartments have grown by many orders of
    // magnitude and are still growing, though all finite (the case `gradcheck` once called converged).
    let (s, scale) = untoleranced(AlgorithmKind::Dp, 0.0, 1.0, 60);
    assert!(!s.diverged && s.residual.is_finite(), "{s:?}");
    assert!(s.residual > 1e3 && scale > 1e3, "{s:?}, |s| ≤ {scale}");
    assert!(!s.converged, "{s:?}");
    assert_eq!(s.tolerance, DEFAULT_RELATIVE_TOLERANCE * scale);
    // The last change is a sizeable fraction of the state, far above the relative bound.
    assert!(s.residual > 1e-2 * scale, "{s:?}, |s| ≤ {scale}");
}

#[test]
fn without_a_tolerance_a_schedule_cut_short_is_not_converged() {
    // DP⊤ settles here within 20 sweeps (paper_tests); two sweeps leave it moving.
    let (s, scale) = untoleranced(AlgorithmKind::DpTop, 0.0, 1.0, 2);
    assert!(!s.converged && !s.diverged, "{s:?}");
    assert!(s.residual > 10.0 * s.tolerance, "{s:?}, |s| ≤ {scale}");
}

#[test]
fn without_a_tolerance_a_settled_schedule_is_converged() {
    let (s, scale) = untoleranced(AlgorithmKind::DpTop, 0.0, 1.0, 40);
    assert!(s.converged && !s.diverged, "{s:?}");
    assert!(s.residual <= DEFAULT_RELATIVE_TOLERANCE * scale, "{s:?}");
    assert!(scale > 0.1, "a trivial state proves nothing: |s| ≤ {scale}");
}

#[test]
fn a_set_tolerance_is_the_bound_reported() {
    let sizes = [64, 128, 128, 10];
    let (x, y) = batch(11, 64, 10, 32);
    let mut net = network(&sizes, Activation::Relu, Loss::Mse, 5);
    let algorithm = Algorithm {
        kind: AlgorithmKind::DpTop,
        beta: 1.0,
        passes: 40,
        tolerance: Some(1e-3),
        ..Algorithm::default()
    };
    let mut dyads = Dyads::new(net.sizes(), x.ncols());
    let s = settle(&mut net, &mut dyads, &x, &y, &algorithm.dynamics().unwrap());
    assert_eq!(s.tolerance, 1e-3);
    assert!(s.converged && s.residual < 1e-3, "{s:?}");
}
