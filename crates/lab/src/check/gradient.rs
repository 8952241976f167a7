//! The gradient suite: the local rule against exact backprop as β → 0 (the paper's first claim and
//! the simulator's first fidelity test), the order of the error in β, and the leak's scaling.

use super::{Check, Criterion};
use crate::dataset::digits;
use crate::error::{LabError, Result};
use crate::job::Net;
use crate::network::realise;
use crossbar::Hardware;
use dualprop::diagnostics::leak;
use dualprop::network::Init;
use dualprop::{Activation, Algorithm, AlgorithmKind, Dyads, Gradients, Loss, estimate};
use nalgebra::DMatrix;
use std::path::{Path, PathBuf};

const SUITE: &str = "gradient";
const LAYERS: [usize; 4] = [64, 32, 16, 10];
const ALPHAS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// A seeded network on `hardware` (ideal when `None`) and a batch of 32 digits; the network is
/// replicate 0 of `seed`, realised as `run` realises it ([`crate::network::realise`]).
pub(crate) fn setup(
    layers: &[usize],
    activation: Activation,
    loss: Loss,
    hardware: Option<&Hardware>,
    seed: u64,
) -> Result<(Net, DMatrix<f32>, DMatrix<f32>)> {
    let ideal = Hardware::ideal();
    let hw = hardware.unwrap_or(&ideal);
    let net = realise(layers, Init::Uniform, activation, loss, hw, seed, 0).map_err(|e| {
        LabError::Invalid {
            path: PathBuf::from("--hardware"),
            position: None,
            field: "hardware".into(),
            message: e.to_string(),
        }
    })?;
    let data = digits();
    let idx: Vec<usize> = (0..32).map(|i| (i * 41) % data.train.len()).collect();
    let (mut x, mut y) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    data.train.gather(&idx, &mut x, &mut y);
    Ok((net, x, y))
}

fn algorithm(kind: AlgorithmKind, alpha: f32, beta: f32) -> Algorithm {
    Algorithm {
        kind,
        alpha,
        beta,
        passes: 12,
        ..Algorithm::default()
    }
}

fn check(
    net: &mut Net,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    alg: &Algorithm,
) -> Result<dualprop::GradcheckReport> {
    dualprop::gradcheck(net, x, y, alg).map_err(|e| LabError::Usage(e.to_string()))
}

fn name(kind: AlgorithmKind, alpha: f32) -> String {
    let k = if kind == AlgorithmKind::Dp {
        "DP"
    } else {
        "DP⊤"
    };
    format!("{k} α={alpha}")
}

/// Leak of every hidden layer after settling to the f32 floor (tanh, MSE: smooth, no kinks).
fn leaks(kind: AlgorithmKind, alpha: f32, beta: f32) -> Result<Vec<f64>> {
    let (mut net, x, y) = setup(&LAYERS, Activation::Tanh, Loss::Mse, None, 2)?;
    let alg = Algorithm {
        passes: 100,
        tolerance: Some(1e-6),
        ..algorithm(kind, alpha, beta)
    };
    let dynamics = alg.dynamics().expect("DP settles");
    let mut dyads = Dyads::new(net.sizes(), x.ncols());
    let mut g = Gradients::zeros(net.sizes());
    estimate(&mut net, &mut dyads, &x, &y, &dynamics, &mut g);
    let mut l = leak(&dyads);
    l.pop();
    Ok(l)
}

/// |log-log slope − expected| worst over the hidden layers, b measured at `factor` × a's parameter.
fn slope_checks(label: &str, a: &[f64], b: &[f64], factor: f64, expected: f64, tol: f64) -> Check {
    let per: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| (b / a).ln() / factor.ln())
        .collect();
    let worst = per.iter().map(|s| (s - expected).abs()).fold(0.0, f64::max);
    let shown: Vec<String> = per.iter().map(|v| format!("{v:.3}")).collect();
    Check::new(
        SUITE,
        format!("{label} (|slope − {expected}|)"),
        worst,
        Criterion::AtMost,
        tol,
        format!("log-log slope per layer: [{}]", shown.join(", ")),
    )
}

/// The gradient checks; with `hardware`, also the cosines through its noisy reads.
pub fn run(hardware: Option<&(PathBuf, Hardware)>) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    // β → 0: tanh, cross-entropy. β = 1e-3 keeps the O(β) bias at ~1e-4 and f32 rounding of δ at
    // ~1e-6/β = 1e-3 relative; cosines then exceed 0.9999. (With ReLU, units whose pre-activation
    // lies within the nudge of the kink add an error ∝ √β that the digits' many exact zeros make
    // visible; the smooth tanh measures the limit itself.)
    let (mut net, x, y) = setup(&LAYERS, Activation::Tanh, Loss::CrossEntropy, None, 1)?;
    let cases = ALPHAS
        .iter()
        .map(|&a| (AlgorithmKind::DpTop, a))
        .chain([(AlgorithmKind::Dp, 0.5)]);
    for (kind, alpha) in cases {
        let r = check(&mut net, &x, &y, &algorithm(kind, alpha, 1e-3))?;
        let cos = r.layers.iter().map(|l| l.cosine).fold(1.0, f64::min);
        let rel = r.layers.iter().map(|l| l.rel_err).fold(0.0, f64::max);
        let n = name(kind, alpha);
        checks.push(Check::new(
            SUITE,
            format!("{n} β=1e-3: cosine with backprop (worst layer)"),
            cos,
            Criterion::AtLeast,
            0.9999,
            "",
        ));
        checks.push(Check::new(
            SUITE,
            format!("{n} β=1e-3: relative error (worst layer)"),
            rel,
            Criterion::AtMost,
            1e-2,
            "",
        ));
    }
    // Order of the error in β on a smooth (tanh) network: first order for α ≠ ½ (one-sided
    // difference), second order at α = ½ (central). β ∈ {0.1, 0.01} keeps f32 rounding ≥ 10× below.
    let (mut net, x, y) = setup(&LAYERS, Activation::Tanh, Loss::Mse, None, 2)?;
    // The worst layer's error: the output layer's own δ is exact for DP⊤ (its error is rounding
    // or second order), so the hidden layers set the order, as in dualprop's fidelity tests.
    let mut rel = |alpha: f32, beta: f32| -> Result<Vec<f64>> {
        let r = check(
            &mut net,
            &x,
            &y,
            &algorithm(AlgorithmKind::DpTop, alpha, beta),
        )?;
        Ok(vec![r.layers.iter().map(|l| l.rel_err).fold(0.0, f64::max)])
    };
    for alpha in [0.0, 0.25, 0.75, 1.0] {
        let (fine, coarse) = (rel(alpha, 0.01)?, rel(alpha, 0.1)?);
        checks.push(slope_checks(
            &format!("DP⊤ α={alpha}: worst-layer relative error ∝ β"),
            &fine,
            &coarse,
            10.0,
            1.0,
            0.2,
        ));
    }
    let (fine, coarse) = (rel(0.5, 0.1)?, rel(0.5, 1.0)?);
    let slope = (coarse[0] / fine[0]).log10();
    checks.push(Check::new(
        SUITE,
        "DP⊤ α=0.5: relative error order in β (slope, worst layer)",
        slope,
        Criterion::AtLeast,
        1.5,
        format!(
            "worst-layer relative error {:.3e} at β=0.1, {:.3e} at β=1",
            fine[0], coarse[0]
        ),
    ));
    // Mean-state deviation from the forward pass: DP ∝ |2α − 1|·β, DP⊤ ∝ β².
    let base = leaks(AlgorithmKind::Dp, 0.0, 0.01)?;
    checks.push(slope_checks(
        "DP α=0: leak ∝ β",
        &base,
        &leaks(AlgorithmKind::Dp, 0.0, 0.02)?,
        2.0,
        1.0,
        0.15,
    ));
    checks.push(slope_checks(
        "DP β=0.01: leak ∝ |2α−1| (α 0 → ¼)",
        &base,
        &leaks(AlgorithmKind::Dp, 0.25, 0.01)?,
        0.5,
        1.0,
        0.15,
    ));
    let half = leaks(AlgorithmKind::Dp, 0.5, 0.01)?;
    let ratio = half
        .iter()
        .zip(&base)
        .map(|(h, b)| h / b)
        .fold(0.0, f64::max);
    checks.push(Check::new(
        SUITE,
        "DP α=0.5: leak / leak at α=0 (first order vanishes)",
        ratio,
        Criterion::AtMost,
        0.01,
        "",
    ));
    for alpha in [0.25, 0.75] {
        let (small, large) = (
            leaks(AlgorithmKind::DpTop, alpha, 0.05)?,
            leaks(AlgorithmKind::DpTop, alpha, 0.1)?,
        );
        checks.push(slope_checks(
            &format!("DP⊤ α={alpha}: leak ∝ β²"),
            &small,
            &large,
            2.0,
            2.0,
            0.2,
        ));
    }
    if let Some((path, hw)) = hardware {
        checks.extend(through_hardware(path, hw)?);
    }
    Ok(checks)
}

/// Cosines of the estimate on the hardware's noisy arrays against backprop of the same weights
/// read perfectly. Pass criterion: every layer's cosine > 0, i.e. the update still descends the
/// loss to first order; the loss of alignment against ideal reads is reported, not bounded,
/// because it depends on the noise level the file describes.
fn through_hardware(path: &Path, hw: &Hardware) -> Result<Vec<Check>> {
    let file = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("hardware");
    let (mut net, x, y) = setup(&LAYERS, Activation::Relu, Loss::CrossEntropy, Some(hw), 3)?;
    let mut ideal = net.to_ideal();
    let mut checks = Vec::new();
    for (kind, alpha) in [
        (AlgorithmKind::DpTop, 0.0),
        (AlgorithmKind::DpTop, 0.5),
        (AlgorithmKind::DpTop, 1.0),
        (AlgorithmKind::Dp, 0.5),
    ] {
        // β = 0.1: read noise enters δ at noise/β, so the tiny β of the ideal check would drown.
        let alg = algorithm(kind, alpha, 0.1);
        let noisy = check(&mut net, &x, &y, &alg)?;
        let clean = dualprop::gradcheck(&mut ideal, &x, &y, &alg)
            .map_err(|e| LabError::Usage(e.to_string()))?;
        let cos = noisy.layers.iter().map(|l| l.cosine).fold(1.0, f64::min);
        let clean_cos = clean.layers.iter().map(|l| l.cosine).fold(1.0, f64::min);
        let per: Vec<String> = noisy
            .layers
            .iter()
            .zip(&clean.layers)
            .map(|(n, c)| format!("{:.4} (ideal reads {:.4})", n.cosine, c.cosine))
            .collect();
        checks.push(Check::new(
            SUITE,
            format!(
                "{file}: {} β=0.1 cosine through noisy reads (worst layer)",
                name(kind, alpha)
            ),
            cos,
            Criterion::AtLeast,
            0.0,
            format!(
                "loss of alignment vs ideal reads {:.4}; per layer: {}",
                clean_cos - cos,
                per.join(", ")
            ),
        ));
    }
    Ok(checks)
}
