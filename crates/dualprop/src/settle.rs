//! Settling the dyads of a batch to the fixed point of the DP / DP⊤ dynamics.

use crate::algorithm::{Dynamics, NudgeAt, Schedule};
use crate::dyads::Dyads;
use crate::network::{Network, add_bias, split_below};
use crossbar::Crossbar;
use nalgebra::DMatrix;

/// How settling ended. Non-convergence is data, not an error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settled {
    /// Passes run.
    pub passes: usize,
    /// Largest change of any compartment during the last pass.
    pub residual: f32,
    /// The residual is finite and, when a tolerance is set, below it.
    pub converged: bool,
}

/// Run the free phase, then nudge the output and settle the dyads for up to `dynamics.passes` passes.
pub fn settle<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
) -> Settled {
    net.free_phase(x, dyads);
    if dynamics.nudge_at == NudgeAt::FreePrediction {
        compute_nudge(net, dyads, y, dynamics.beta, true);
    }
    let depth = net.depth();
    let mut residual = f32::INFINITY;
    let mut passes = 0;
    for _ in 0..dynamics.passes {
        passes += 1;
        residual = 0.0;
        match dynamics.schedule {
            Schedule::Forward => {
                for k in 1..=depth {
                    residual = residual.max(update_layer(net, dyads, y, dynamics, k));
                }
            }
        }
        if !residual.is_finite() {
            break;
        }
        if dynamics.tolerance.is_some_and(|t| residual < t) {
            break;
        }
    }
    Settled {
        passes,
        residual,
        converged: residual.is_finite() && dynamics.tolerance.is_none_or(|t| residual < t),
    }
}

/// β·∇ℓ at the free prediction (`free`) or at the current output drive, into `dyads.nudge`.
fn compute_nudge<C: Crossbar>(
    net: &Network<C>,
    dyads: &mut Dyads,
    y: &DMatrix<f32>,
    beta: f32,
    free: bool,
) {
    let at = if free {
        &dyads.prediction
    } else {
        &dyads.drive[net.depth() - 1]
    };
    net.loss.gradient(at, y, &mut dyads.nudge);
    dyads.nudge *= beta;
}

/// Update both compartments of layer `k` (1-based) in place; returns the largest change.
fn update_layer<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
    k: usize,
) -> f32 {
    let depth = net.depth();
    let f = net.activation_of(k);
    {
        let layer = &mut net.layers[k - 1];
        let (below, drive) = split_below(dyads, k);
        layer.array.read(below, drive);
        add_bias(drive, &layer.bias);
    }
    let i = k - 1;
    let (mix, fb) = (dynamics.alpha_mix, dynamics.alpha_fb);
    let (up, down) = (1.0 - fb, fb);
    let top_down = if k == depth {
        if dynamics.nudge_at == NudgeAt::CurrentDrive {
            compute_nudge(net, dyads, y, dynamics.beta, false);
        }
        // The output is linear and its "top-down signal" is the nudge −β·∇ℓ.
        &dyads.nudge
    } else {
        net.layers[k]
            .array
            .read_transposed(&dyads.diff[k], &mut dyads.feedback[i]);
        &dyads.feedback[i]
    };
    let sign = if k == depth { -1.0 } else { 1.0 };
    let mut change = 0.0f32;
    for (((((a, e), p), m), s), d) in dyads.drive[i]
        .iter()
        .zip(top_down.iter())
        .zip(dyads.plus[i].iter_mut())
        .zip(dyads.minus[i].iter_mut())
        .zip(dyads.mean[i].iter_mut())
        .zip(dyads.diff[i].iter_mut())
    {
        let e = sign * *e;
        let new_p = f.apply(*a + up * e);
        let new_m = f.apply(*a - down * e);
        change = change.max((new_p - *p).abs()).max((new_m - *m).abs());
        if new_p.is_nan() || new_m.is_nan() {
            change = f32::NAN;
        }
        *p = new_p;
        *m = new_m;
        *s = mix * new_p + (1.0 - mix) * new_m;
        *d = new_p - new_m;
    }
    change
}
