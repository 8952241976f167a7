//! The authors' MLP settling (Høier & Zach's `train_DP.jl`, modes 1, 2 and 4) computed by hand,
//! line by line as their code does it, for a small two-hidden-layer ReLU network, against
//! `Schedule::Rounds` with each mode expressed as an [`Algorithm`].
//!
//! The hand computation keeps their names: z = s⁺, u = s⁻, aₖ the drive of layer k. It shares no
//! code with the settling kernels. Tolerances: both sides compute in f32 with the same operations
//! in a different order, so states agree to a few ulps of their size; 1e-5 relative to
//! max(1, largest state) allows ~100 ulps (damped DP at α = 0 grows states to the hundreds).

use crate::test_support::{batch, network};
use crate::{
    Activation, Algorithm, AlgorithmKind, DampingOptions, DpOptions, Dyads, Loss, Network, NudgeAt,
    OutputMode, Schedule, settle,
};
use crossbar::{Crossbar, IdealArray};
use nalgebra::{DMatrix, DVector};

const SIZES: [usize; 4] = [6, 7, 5, 3];
const TOL: f32 = 1e-5;

/// Their mode numbers.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// "Old style" DP: α at the exact output, ½ in the hidden layers.
    OldDp,
    /// DP⊤ with the explicit output nudged at the current drive.
    Adjoint,
    /// Damped DP with α everywhere and given damping (L₁, L₂).
    Damped(f32, f32),
}

struct Weights {
    w: Vec<DMatrix<f32>>,
    b: Vec<DVector<f32>>,
}

fn weights_of(net: &Network<IdealArray>) -> Weights {
    Weights {
        w: net.layers.iter().map(|l| l.array.weights()).collect(),
        b: net.layers.iter().map(|l| l.bias.clone()).collect(),
    }
}

fn relu(m: &DMatrix<f32>) -> DMatrix<f32> {
    m.map(|v| v.max(0.0))
}

fn drive(w: &Weights, k: usize, below: &DMatrix<f32>) -> DMatrix<f32> {
    let mut a = &w.w[k] * below;
    for mut col in a.column_iter_mut() {
        col += &w.b[k];
    }
    a
}

/// The settled (z₁, u₁, z₂, u₂, z₃ − u₃) of their code after `rounds` rounds.
fn by_hand(
    w: &Weights,
    mode: Mode,
    alpha: f32,
    beta: f32,
    rounds: usize,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
) -> [DMatrix<f32>; 5] {
    // α of the hidden layers: ½ for old-style DP, α otherwise.
    let ak = match mode {
        Mode::OldDp => 0.5,
        _ => alpha,
    };
    let (l1, l2) = match mode {
        Mode::Damped(l1, l2) => (l1, l2),
        _ => (0.0, 0.0),
    };
    let a1 = drive(w, 0, x);
    let (mut z1, mut u1) = (relu(&a1), relu(&a1));
    let mut a2 = drive(w, 1, &z1);
    let (mut z2, mut u2) = (relu(&a2), relu(&a2));
    let a3 = drive(w, 2, &z2);
    let output = |a3: &DMatrix<f32>| match mode {
        // infer_outputs!: z = (a + αβ·y)/(1 + αβ), u = (a − (1−α)β·y)/(1 − (1−α)β).
        Mode::OldDp | Mode::Damped(..) => {
            let (kp, kn) = (alpha * beta, -(1.0 - alpha) * beta);
            let z = (a3 + y * kp) / (1.0 + kp);
            let u = (a3 + y * kn) / (1.0 + kn);
            z - u
        }
        // infer_outputs_adjoint!: z = a + αβ(y − a), u = a − (1−α)β(y − a); only z − u is sent.
        Mode::Adjoint => {
            let z = a3 + (y - a3) * (alpha * beta);
            let u = a3 - (y - a3) * ((1.0 - alpha) * beta);
            z - u
        }
    };
    // One hidden update of layer k: (z, u) from drive a, top-down Δ = Wᵀ(z_up − u_up), damping L.
    let hidden = |a: &DMatrix<f32>,
                  delta: &DMatrix<f32>,
                  l: f32,
                  z: &mut DMatrix<f32>,
                  u: &mut DMatrix<f32>| {
        let (zp, zm) = match mode {
            // infer_zk_dualprop! / infer_zk_DDP!: z = f(a + α·Δ), u = f(a − (1−α)·Δ).
            Mode::OldDp | Mode::Damped(..) => (a + delta * ak, a - delta * (1.0 - ak)),
            // infer_zk_adjoint!: z = f(a + (1−α)·Δ), u = f(a − α·Δ).
            Mode::Adjoint => (a + delta * (1.0 - ak), a - delta * ak),
        };
        *z = relu(&((zp + &*z * l) / (1.0 + l)));
        *u = relu(&((zm + &*u * l) / (1.0 + l)));
    };
    let mean = |z: &DMatrix<f32>, u: &DMatrix<f32>| z * ak + u * (1.0 - ak);
    let mut d3 = output(&a3);
    for _ in 0..rounds {
        hidden(&a2, &(w.w[2].transpose() * &d3), l2, &mut z2, &mut u2);
        hidden(
            &a1,
            &(w.w[1].transpose() * (&z2 - &u2)),
            l1,
            &mut z1,
            &mut u1,
        );
        a2 = drive(w, 1, &mean(&z1, &u1));
        hidden(&a2, &(w.w[2].transpose() * &d3), l2, &mut z2, &mut u2);
        d3 = output(&drive(w, 2, &mean(&z2, &u2)));
    }
    hidden(&a2, &(w.w[2].transpose() * &d3), l2, &mut z2, &mut u2);
    hidden(
        &a1,
        &(w.w[1].transpose() * (&z2 - &u2)),
        l1,
        &mut z1,
        &mut u1,
    );
    [z1, u1, z2, u2, d3]
}

fn settled(
    net: &mut Network<IdealArray>,
    algorithm: &Algorithm,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
) -> [DMatrix<f32>; 5] {
    algorithm.validate_for(net.loss).unwrap();
    let mut dyads = Dyads::new(net.sizes(), x.ncols());
    let s = settle(net, &mut dyads, x, y, &algorithm.dynamics().unwrap());
    assert!(!s.diverged, "{algorithm:?}: {s:?}");
    [
        dyads.plus[0].clone(),
        dyads.minus[0].clone(),
        dyads.plus[1].clone(),
        dyads.minus[1].clone(),
        dyads.diff[2].clone(),
    ]
}

fn assert_matches(what: &str, ours: &[DMatrix<f32>; 5], theirs: &[DMatrix<f32>; 5]) {
    let names = ["z₁", "u₁", "z₂", "u₂", "z₃ − u₃"];
    for ((name, a), b) in names.iter().zip(ours).zip(theirs) {
        let worst = (a - b).amax();
        assert!(
            worst <= TOL * b.amax().max(1.0),
            "{what}: {name} differs by {worst}\nours {a}\ntheirs {b}"
        );
    }
    // The nudge reached the first layer: the comparison is not between two free states.
    assert!(theirs[0] != theirs[1], "{what}: layer 1 was never nudged");
}

fn paper(kind: AlgorithmKind, alpha: f32, beta: f32, passes: usize) -> Algorithm {
    Algorithm {
        kind,
        alpha,
        beta,
        passes,
        schedule: Schedule::Rounds,
        output: OutputMode::Auto,
        nudge_at: NudgeAt::CurrentDrive,
        dp: DpOptions {
            hidden_alpha: Some(0.5),
        },
        damping: DampingOptions {
            alpha_factor: true,
            power_iterations: 3,
            passes: None,
        },
        ..Algorithm::default()
    }
}

#[test]
fn old_style_dp_puts_alpha_only_into_the_exact_output() {
    let (x, y) = batch(3, SIZES[0], SIZES[3], 4);
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 4);
    let w = weights_of(&net);
    for (alpha, beta) in [(0.0, 0.5), (1.0, 1.0), (0.5, 0.1)] {
        for rounds in [1, 5] {
            let alg = paper(AlgorithmKind::Dp, alpha, beta, rounds);
            let ours = settled(&mut net, &alg, &x, &y);
            let theirs = by_hand(&w, Mode::OldDp, alpha, beta, rounds, &x, &y);
            assert_matches(&format!("DP α={alpha} β={beta} K={rounds}"), &ours, &theirs);
        }
    }
    // Without the hidden α the hidden layers would use α: a different computation at α = 1.
    let plain = Algorithm {
        dp: DpOptions::default(),
        ..paper(AlgorithmKind::Dp, 1.0, 1.0, 1)
    };
    let theirs = by_hand(&w, Mode::OldDp, 1.0, 1.0, 1, &x, &y);
    assert!((&settled(&mut net, &plain, &x, &y)[0] - &theirs[0]).amax() > 1e-3);
}

#[test]
fn dp_top_nudges_at_the_current_drive_every_round() {
    let (x, y) = batch(5, SIZES[0], SIZES[3], 4);
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 6);
    let w = weights_of(&net);
    for (alpha, beta) in [(0.0, 1.0), (0.5, 1.0), (1.0, 0.1)] {
        for rounds in [1, 5] {
            let alg = paper(AlgorithmKind::DpTop, alpha, beta, rounds);
            let ours = settled(&mut net, &alg, &x, &y);
            let theirs = by_hand(&w, Mode::Adjoint, alpha, beta, rounds, &x, &y);
            assert_matches(
                &format!("DP⊤ α={alpha} β={beta} K={rounds}"),
                &ours,
                &theirs,
            );
        }
    }
    // Nudging at the free prediction instead is a different computation once the drive moved.
    let free = Algorithm {
        nudge_at: NudgeAt::FreePrediction,
        ..paper(AlgorithmKind::DpTop, 0.5, 1.0, 5)
    };
    let theirs = by_hand(&w, Mode::Adjoint, 0.5, 1.0, 5, &x, &y);
    assert!((&settled(&mut net, &free, &x, &y)[4] - &theirs[4]).amax() > 1e-3);
}

/// A rank-one matrix σ·u·vᵀ with unit u, v: power iteration finds σ exactly after one step.
fn rank_one(rows: usize, cols: usize, sigma: f32, phase: f32) -> DMatrix<f32> {
    let u = DVector::from_fn(rows, |i, _| (i as f32 + phase).sin()).normalize();
    let v = DVector::from_fn(cols, |j, _| (1.3 * j as f32 + phase).cos()).normalize();
    u * v.transpose() * sigma
}

#[test]
fn damped_dp_damps_by_the_spectral_norm_of_the_outgoing_weights() {
    let (x, y) = batch(7, SIZES[0], SIZES[3], 4);
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 8);
    // γ₁ = ‖W₁‖ = 2 and γ₂ = ‖W₂‖ = 1.5 (their numbering: W₁ leaves layer 1, W₂ leaves layer 2).
    net.layers[1].array = IdealArray::new(rank_one(SIZES[2], SIZES[1], 2.0, 0.3));
    net.layers[2].array = IdealArray::new(rank_one(SIZES[3], SIZES[2], 1.5, 0.7));
    let w = weights_of(&net);
    for (alpha, beta) in [(1.0, 1.0), (0.0, 0.5), (0.75, 0.1)] {
        // Lₖ = |1 − 2α|·max(0, γₖ² − 1)/2.
        let scale = (1.0f32 - 2.0 * alpha).abs();
        let (l1, l2) = (scale * (4.0 - 1.0) / 2.0, scale * (2.25 - 1.0) / 2.0);
        for rounds in [1, 15] {
            let alg = paper(AlgorithmKind::DampedDp, alpha, beta, rounds);
            let ours = settled(&mut net, &alg, &x, &y);
            let theirs = by_hand(&w, Mode::Damped(l1, l2), alpha, beta, rounds, &x, &y);
            assert_matches(
                &format!("damped DP α={alpha} β={beta} K={rounds}"),
                &ours,
                &theirs,
            );
        }
    }
    // damping.passes overrides passes for damped DP only.
    let alg = Algorithm {
        damping: DampingOptions {
            passes: Some(15),
            ..DampingOptions::default()
        },
        ..paper(AlgorithmKind::DampedDp, 1.0, 1.0, 5)
    };
    assert_eq!(alg.dynamics().unwrap().passes, 15);
    let dp = Algorithm {
        kind: AlgorithmKind::Dp,
        ..alg
    };
    assert_eq!(dp.dynamics().unwrap().passes, 5);
}

#[test]
fn auto_output_is_exact_for_dp_and_records_where_it_is_undefined() {
    let dp = paper(AlgorithmKind::Dp, 0.0, 1.0, 5);
    // Valid as an experiment point: the run records the undefined output as its divergence.
    assert_eq!(dp.validate_for(Loss::Mse), Ok(()));
    let reason = dp.undefined_output().unwrap().to_string();
    assert!(reason.contains("(1 - alpha) * beta < 1"), "{reason}");
    assert!(
        paper(AlgorithmKind::Dp, 0.01, 1.0, 5)
            .undefined_output()
            .is_none()
    );
    assert!(
        paper(AlgorithmKind::DpTop, 0.0, 1.0, 5)
            .undefined_output()
            .is_none()
    );
    assert_eq!(
        paper(AlgorithmKind::DpTop, 0.0, 1.0, 5)
            .dynamics()
            .unwrap()
            .output,
        OutputMode::Explicit
    );
    assert_eq!(dp.dynamics().unwrap().output, OutputMode::ExactMse);
    // Settling it anyway reports divergence, never a panic.
    let (x, y) = batch(1, SIZES[0], SIZES[3], 2);
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 2);
    let mut dyads = Dyads::new(net.sizes(), 2);
    assert!(settle(&mut net, &mut dyads, &x, &y, &dp.dynamics().unwrap()).diverged);
    // The exact output minimises the MSE only.
    assert!(dp.validate_for(Loss::CrossEntropy).is_err());
}

#[test]
fn fan_in_normal_init_draws_weights_of_std_one_over_root_fan_in_and_zero_biases() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let layers = crate::network::initial_parameters_with(
        crate::Init::FanInNormal,
        &[784, 512, 10],
        &mut rng,
    );
    for ((w, b), fan_in) in layers.iter().zip([784.0f64, 512.0]) {
        let n = w.len() as f64;
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
        let std = (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        let target = 1.0 / fan_in.sqrt();
        // Standard errors: σ/√n for the mean, σ/√(2n) for the standard deviation; 5 of them.
        assert!(mean.abs() < 5.0 * target / n.sqrt(), "mean {mean}");
        assert!(
            (std - target).abs() < 5.0 * target / (2.0 * n).sqrt(),
            "std {std} vs {target}"
        );
        assert!(b.iter().all(|&v| v == 0.0));
    }
}
