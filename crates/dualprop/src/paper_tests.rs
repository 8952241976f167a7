//! The paper's structural facts: one-sided DP⊤ is exact, the leak scales as predicted, and DP is
//! unstable away from α = ½ in the strongly coupled regime while DP⊤ (and damped DP at α = 1) settle.

use crate::diagnostics::leak;
use crate::test_support::{batch, local, network};
use crate::{Activation, Algorithm, AlgorithmKind, Dyads, Dynamics, Loss, settle};

const SIZES: [usize; 5] = [12, 16, 16, 16, 5];

#[test]
fn one_sided_dp_top_keeps_the_forward_pass_and_is_final_after_depth_sweeps() {
    let (x, y) = batch(7, SIZES[0], SIZES[4], 16);
    let depth = SIZES.len() - 1;
    for loss in [Loss::Mse, Loss::CrossEntropy] {
        let mut net = network(&SIZES, Activation::Relu, loss, 8);
        for alpha in [0.0, 1.0] {
            let mut finals = Vec::new();
            for passes in 1..=2 * depth {
                let (est, dyads, _) =
                    local(&mut net, &x, &y, &Dynamics::dp_top(alpha, 0.1, passes));
                for (k, (mean, free)) in dyads.mean.iter().zip(&dyads.free).enumerate() {
                    assert_eq!(
                        mean,
                        free,
                        "{loss:?} α={alpha}: s̄ of layer {} left the forward pass after {passes} sweeps",
                        k + 1
                    );
                }
                if passes >= depth {
                    finals.push(est);
                }
            }
            assert!(
                finals.windows(2).all(|w| w[0] == w[1]),
                "{loss:?} α={alpha}: the update changed after {depth} sweeps"
            );
            // Before L sweeps the error has not reached layer 1 yet.
            let (early, _, _) = local(&mut net, &x, &y, &Dynamics::dp_top(alpha, 0.1, depth - 1));
            assert!(early.weights[0].iter().all(|&g| g == 0.0));
            assert_ne!(early, finals[0]);
        }
    }
}

/// Leak of every layer after settling to a tight tolerance.
fn leaks(kind_dp: bool, alpha: f32, beta: f32) -> Vec<f64> {
    let (x, y) = batch(1, SIZES[0], SIZES[4], 20);
    let mut net = network(&SIZES, Activation::Tanh, Loss::Mse, 2);
    let base = if kind_dp {
        Dynamics::dp(alpha, beta, 100)
    } else {
        Dynamics::dp_top(alpha, beta, 100)
    };
    // 1e-6 is a few ulps of states of order 1: the f32 floor of the residual.
    let d = Dynamics {
        tolerance: Some(1e-6),
        ..base
    };
    let (_, dyads, s) = local(&mut net, &x, &y, &d);
    assert!(s.converged, "{s:?}");
    leak(&dyads)
}

#[test]
fn dp_leaks_in_proportion_to_its_asymmetry_and_beta() {
    for k in 0..SIZES.len() - 2 {
        let base = leaks(true, 0.0, 0.01)[k];
        let double_beta = leaks(true, 0.0, 0.02)[k];
        let half_asymmetry = leaks(true, 0.25, 0.01)[k];
        let symmetric = leaks(true, 0.5, 0.01)[k];
        assert!(
            (1.8..2.2).contains(&(double_beta / base)),
            "layer {}: β×2 gave leak ×{}",
            k + 1,
            double_beta / base
        );
        assert!(
            (1.8..2.2).contains(&(base / half_asymmetry)),
            "layer {}: |2α−1|×½ gave leak ×{}",
            k + 1,
            half_asymmetry / base
        );
        assert!(
            symmetric < 0.01 * base,
            "layer {}: DP at α=½ leaks {symmetric} vs {base}",
            k + 1
        );
    }
}

#[test]
fn dp_top_leaks_only_at_second_order() {
    let first_order = leaks(true, 0.0, 0.1);
    for alpha in [0.25, 0.5, 0.75] {
        let small = leaks(false, alpha, 0.05);
        let large = leaks(false, alpha, 0.1);
        // Hidden layers only: the output's leak is set by the nudge, not by the mean-state mixing.
        for (k, ((s, l), dp)) in small
            .iter()
            .zip(&large)
            .zip(&first_order)
            .take(SIZES.len() - 2)
            .enumerate()
        {
            assert!(
                (3.5..4.5).contains(&(l / s)),
                "α={alpha} layer {}: β×2 gave leak ×{}",
                k + 1,
                l / s
            );
            assert!(
                *l < 0.01 * dp,
                "α={alpha} layer {}: {l} vs DP's {dp}",
                k + 1
            );
        }
    }
    for alpha in [0.0, 1.0] {
        assert!(leaks(false, alpha, 0.1).iter().all(|&l| l == 0.0));
    }
}

/// The strongly coupled regime: a 64-128-128-10 ReLU net with PyTorch's initialisation ×2
/// (spectral norms ≈ 2.7, 2.2, 1.4), MSE, β = 1, up to 300 Forward sweeps, tolerance 1e-4.
///
/// ×1.5 (norms ≈ 2.0, 1.7, 1.05), the example of the design targets, sits at the margin with this
/// initialisation: DP at α = 0 still settles, slowly (≈ 200 sweeps), so the tests use ×2.
fn coupled_settle(kind: AlgorithmKind, alpha: f32, seed: u64) -> crate::Settled {
    let sizes = [64, 128, 128, 10];
    let (x, y) = batch(11, 64, 10, 32);
    let mut net = network(&sizes, Activation::Relu, Loss::Mse, seed);
    net.scale_weights(2.0);
    let algorithm = Algorithm {
        kind,
        alpha,
        beta: 1.0,
        passes: 300,
        tolerance: Some(1e-4),
        ..Algorithm::default()
    };
    let mut dyads = Dyads::new(net.sizes(), x.ncols());
    settle(&mut net, &mut dyads, &x, &y, &algorithm.dynamics().unwrap())
}

#[test]
fn dp_is_unstable_away_from_symmetric_nudging_and_dp_top_is_not() {
    for seed in [5, 6] {
        let s = coupled_settle(AlgorithmKind::Dp, 0.0, seed);
        assert!(s.diverged && !s.converged, "DP α=0 seed {seed}: {s:?}");
        let s = coupled_settle(AlgorithmKind::Dp, 1.0, seed);
        assert!(
            !s.converged && s.residual > 0.1,
            "DP α=1 seed {seed}: {s:?}"
        );
        let s = coupled_settle(AlgorithmKind::Dp, 0.5, seed);
        assert!(s.converged, "DP α=½ seed {seed}: {s:?}");
        for alpha in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let s = coupled_settle(AlgorithmKind::DpTop, alpha, seed);
            assert!(
                s.converged && s.passes < 20,
                "DP⊤ α={alpha} seed {seed}: {s:?}"
            );
        }
    }
}

#[test]
fn damping_rescues_dp_at_alpha_one_but_not_at_zero() {
    for seed in [5, 6] {
        let s = coupled_settle(AlgorithmKind::DampedDp, 1.0, seed);
        assert!(s.converged, "damped DP α=1 seed {seed}: {s:?}");
        let s = coupled_settle(AlgorithmKind::DampedDp, 0.0, seed);
        assert!(!s.converged, "damped DP α=0 seed {seed}: {s:?}");
    }
}
