//! The dynamics suite: continuous-time settling reaches the schedules' fixed point, and the
//! paper's stability claim — DP away from α = ½ fails to settle in the strongly coupled regime
//! while DP⊤ and damped DP (α = 1) settle.

use super::gradient::setup;
use super::{Check, Criterion};
use crate::error::Result;
use crate::job::Net;
use dualprop::{Activation, Circuit, Dyads, Dynamics, Loss, Settled, settle};
use nalgebra::DMatrix;

const SUITE: &str = "dynamics";
/// The settling tolerance of the stability checks (on compartments of order 1).
const TOL: f32 = 1e-4;

fn run_settle(net: &mut Net, x: &DMatrix<f32>, y: &DMatrix<f32>, d: &Dynamics) -> (Settled, Dyads) {
    let mut dyads = Dyads::new(net.sizes(), x.ncols());
    let s = settle(net, &mut dyads, x, y, d);
    (s, dyads)
}

fn fixed_points(checks: &mut Vec<Check>) -> Result<()> {
    let (mut net, x, y) = setup(&[64, 32, 16, 10], Activation::Relu, Loss::Mse, None, 5)?;
    for (label, d) in [
        ("DP⊤ α=0.25", Dynamics::dp_top(0.25, 0.5, 400)),
        ("DP α=0.5", Dynamics::dp(0.5, 0.5, 400)),
        ("damped DP α=0.8", Dynamics::damped_dp(0.8, 0.5, 400, true)),
    ] {
        // The schedule to 1e-7 (the f32 floor of order-1 states) is the reference fixed point.
        let (_, fixed) = run_settle(
            &mut net,
            &x,
            &y,
            &Dynamics {
                tolerance: Some(1e-7),
                ..d.clone()
            },
        );
        for dt in [1.0, 0.3] {
            let circuit = Circuit {
                tau: 1.0,
                dt,
                tol: 1e-6,
                t_max: 500.0,
            };
            let (s, dyads) = run_settle(
                &mut net,
                &x,
                &y,
                &Dynamics {
                    circuit: Some(circuit),
                    ..d.clone()
                },
            );
            let err = dyads
                .plus
                .iter()
                .chain(&dyads.minus)
                .zip(fixed.plus.iter().chain(&fixed.minus))
                .map(|(a, b)| f64::from((a - b).amax()))
                .fold(0.0, f64::max);
            // A velocity residual of 1e-6 leaves the state within about 1e-6/(1 − contraction) of
            // the fixed point; 2e-5 allows a contraction of 0.95.
            checks.push(Check::new(
                SUITE,
                format!("{label} circuit dt/τ={dt}: max |s − schedule fixed point|"),
                if s.converged { err } else { f64::INFINITY },
                Criterion::AtMost,
                2e-5,
                format!(
                    "{} Euler steps, time {:.1}, residual {:.2e}",
                    s.passes,
                    s.time.unwrap_or(0.0),
                    s.residual
                ),
            ));
        }
    }
    Ok(())
}

fn trace_text(s: &Settled, dyads: &Dyads) -> String {
    let t = dyads.residual_trace();
    let picks: Vec<String> = [1, 10, 50, 100, 200, t.len()]
        .iter()
        .filter(|&&p| p >= 1 && p <= t.len())
        .map(|&p| format!("pass {p}: {:.2e}", t[p - 1]))
        .collect();
    let end = if s.diverged {
        "diverged"
    } else if s.converged {
        "settled"
    } else {
        "did not settle"
    };
    format!(
        "{end} after {} passes; residuals {}",
        s.passes,
        picks.join(", ")
    )
}

/// The largest finite residual of the trace: how far from settled a run got before it stopped.
fn worst_finite(dyads: &Dyads) -> f64 {
    dyads
        .residual_trace()
        .iter()
        .filter(|r| r.is_finite())
        .map(|&r| f64::from(r))
        .fold(0.0, f64::max)
}

fn stability(checks: &mut Vec<Check>) -> Result<()> {
    // dualprop's paper_tests setting: 64-128-128-10 ReLU, MSE, β = 1, PyTorch's initialisation ×2
    // (spectral norms ≈ 2.7, 2.2, 1.4), up to 300 Forward sweeps, tolerance 1e-4.
    let (mut net, x, y) = setup(&[64, 128, 128, 10], Activation::Relu, Loss::Mse, None, 5)?;
    net.scale_weights(2.0);
    let with = |d: Dynamics| Dynamics {
        tolerance: Some(TOL),
        ..d
    };
    for alpha in [0.0, 1.0] {
        let (s, dyads) = run_settle(&mut net, &x, &y, &with(Dynamics::dp(alpha, 1.0, 300)));
        let value = if s.converged {
            f64::from(s.residual)
        } else {
            worst_finite(&dyads)
        };
        checks.push(Check::new(
            SUITE,
            format!("DP α={alpha} strongly coupled: fails to settle (largest residual)"),
            value,
            Criterion::AtLeast,
            f64::from(TOL) * 10.0,
            trace_text(&s, &dyads),
        ));
    }
    for (label, d) in [
        ("DP⊤ α=0", Dynamics::dp_top(0.0, 1.0, 300)),
        ("DP⊤ α=0.5", Dynamics::dp_top(0.5, 1.0, 300)),
        ("DP⊤ α=1", Dynamics::dp_top(1.0, 1.0, 300)),
        ("DP α=0.5", Dynamics::dp(0.5, 1.0, 300)),
        ("damped DP α=1", Dynamics::damped_dp(1.0, 1.0, 300, true)),
    ] {
        let (s, dyads) = run_settle(&mut net, &x, &y, &with(d));
        checks.push(Check::new(
            SUITE,
            format!("{label} strongly coupled: settles (final residual)"),
            if s.converged {
                f64::from(s.residual)
            } else {
                f64::INFINITY
            },
            Criterion::AtMost,
            f64::from(TOL),
            trace_text(&s, &dyads),
        ));
    }
    Ok(())
}

/// The dynamics checks.
pub fn run() -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    fixed_points(&mut checks)?;
    stability(&mut checks)?;
    Ok(checks)
}
