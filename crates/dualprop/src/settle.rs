//! Settling the dyads of a batch to the fixed point of the DP / DP⊤ / damped-DP dynamics, following
//! a layer schedule (Gauss–Seidel, in place) or, in circuit mode, integrating in continuous time.

use crate::compartment::{self, Change};
use crate::dyads::Dyads;
use crate::dynamics::{Dynamics, NudgeAt, OutputMode};
use crate::loss::Loss;
use crate::network::Network;
use crossbar::Crossbar;
use nalgebra::DMatrix;

/// Without a tolerance, a schedule counts as converged when its last pass changed no compartment
/// by more than this fraction of the largest compartment magnitude |s⁺|, |s⁻| of the settled state.
///
/// 10⁻⁴ is three orders above f32 rounding (about 10⁻⁷ relative), so an exact fixed point always
/// qualifies, while dynamics that still move (or grow without bound, where the last change is a
/// sizeable fraction of the state) do not. Set `tolerance` to judge by an absolute bound instead.
pub const DEFAULT_RELATIVE_TOLERANCE: f32 = 1e-4;

/// How settling ended. Non-convergence is data, not an error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settled {
    /// Passes run (circuit mode: Euler steps, each of which reads every array once like a pass).
    pub passes: usize,
    /// Largest change of any compartment during the last pass (circuit mode: the largest
    /// compartment velocity τ·|ds/dt| at the last step).
    pub residual: f32,
    /// The bound the residual was judged against: the tolerance when one is set (always in circuit
    /// mode), else [`DEFAULT_RELATIVE_TOLERANCE`] × the largest compartment magnitude.
    pub tolerance: f32,
    /// The residual is finite and below the set tolerance, or, without one, at most
    /// [`DEFAULT_RELATIVE_TOLERANCE`] × the largest compartment magnitude.
    pub converged: bool,
    /// Some compartment became infinite or NaN, or the exact output was undefined for the realised
    /// circuit; settling stopped there.
    pub diverged: bool,
    /// Circuit mode: the settling time (seconds, the unit of τ and dt); `None` for schedules.
    pub time: Option<f32>,
}

/// Run the free phase, then nudge the output and settle the dyads (see [`Dynamics`]).
pub fn settle<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
) -> Settled {
    net.free_phase(x, dyads);
    if let Some(undefined) = prepare(net, dyads, y, dynamics) {
        return undefined;
    }
    match &dynamics.circuit {
        Some(circuit) => crate::circuit::integrate(net, dyads, y, dynamics, circuit),
        None => run_schedule(net, dyads, y, dynamics),
    }
}

/// Resolve the per-neuron parameters and damping, and nudge at the free prediction; outside the loop.
/// Returns the result to report when the exact output is undefined for the realised circuit.
fn prepare<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
) -> Option<Settled> {
    let depth = net.depth();
    for k in 1..=depth {
        let split = dynamics.split_of(k, depth);
        dyads.params[k - 1].set_dynamics(dynamics, split, net.mismatch_of(k));
    }
    if let Some(damping) = &dynamics.damping {
        crate::damping::resolve(net, dyads, damping);
    }
    if dynamics.output == OutputMode::ExactMse
        && !compartment::exact_output_defined(&dyads.params[depth - 1])
    {
        return Some(Settled {
            passes: 0,
            residual: f32::INFINITY,
            tolerance: dynamics.tolerance.unwrap_or(0.0),
            converged: false,
            diverged: true,
            time: None,
        });
    }
    if dynamics.nudge_point() == NudgeAt::FreePrediction {
        nudge_at(net.loss, dyads, y, true);
        net.counts
            .elementwise(y.nrows(), y.ncols(), crate::counts::NUDGE_OPS);
    }
    // At the free state every δ is zero, so every top-down signal is exactly zero.
    for e in &mut dyads.feedback {
        e.fill(0.0);
    }
    dyads.stamps.reset(depth);
    dyads.trace.clear();
    None
}

fn run_schedule<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
) -> Settled {
    let depth = net.depth();
    dyads.trace.reserve(dynamics.passes);
    let noiseless = dyads.params.iter().all(|p| p.noise == 0.0);
    let mut residual = f32::INFINITY;
    let mut passes = 0;
    let mut diverged = false;
    for pass in 0..dynamics.passes {
        passes += 1;
        residual = 0.0;
        let mut changed = false;
        for k in dynamics.schedule.pass(depth, pass) {
            let c = update_layer(net, dyads, y, dynamics, k);
            residual = residual.max(c.max);
            changed |= c.changed;
            diverged |= !c.finite;
        }
        if diverged {
            residual = f32::INFINITY;
        }
        dyads.trace.push(residual);
        if diverged || dynamics.tolerance.is_some_and(|t| residual < t) {
            break;
        }
        // A pass that changed nothing reaches an exact fixed point: every later pass repeats it.
        if dynamics.skip_unchanged && noiseless && !changed {
            break;
        }
    }
    if !diverged {
        // The closing sweep belongs to the last pass: its changes count in that pass's residual.
        let mut closing = 0.0f32;
        for k in dynamics.schedule.closing(depth) {
            let c = update_layer(net, dyads, y, dynamics, k);
            closing = closing.max(c.max);
            diverged |= !c.finite;
        }
        residual = if diverged {
            f32::INFINITY
        } else {
            residual.max(closing)
        };
        if let Some(last) = dyads.trace.last_mut() {
            *last = residual;
        }
    }
    net.counts.settle_passes += passes as u64;
    let (tolerance, within) = match dynamics.tolerance {
        Some(t) => (t, residual < t),
        None => {
            let t = DEFAULT_RELATIVE_TOLERANCE * state_magnitude(dyads);
            (t, residual <= t)
        }
    };
    Settled {
        passes,
        residual,
        tolerance,
        converged: !diverged && residual.is_finite() && within,
        diverged,
        time: None,
    }
}

/// The largest |s⁺| or |s⁻| of any layer; a NaN compartment already marks the run diverged.
fn state_magnitude(dyads: &Dyads) -> f32 {
    dyads
        .plus
        .iter()
        .chain(&dyads.minus)
        .map(|m| m.amax())
        .fold(0.0, f32::max)
}

/// βᵢ·∇ℓ at the free prediction (`free`) or at the current output response gᵢ·(a − oᵢ), into `dyads.nudge`.
pub(crate) fn nudge_at(loss: Loss, dyads: &mut Dyads, y: &DMatrix<f32>, free: bool) {
    let l = dyads.depth() - 1;
    let at = if free {
        &dyads.prediction
    } else {
        let p = &dyads.params[l];
        crate::periphery::respond(
            crate::activation::Activation::Identity,
            &p.gain,
            &p.offset,
            &dyads.drive[l],
            &mut dyads.response,
        );
        &dyads.response
    };
    loss.gradient(at, y, &mut dyads.nudge);
    let beta = dyads.params[l].beta.as_slice();
    let n = beta.len();
    for col in dyads.nudge.as_mut_slice().chunks_exact_mut(n) {
        for (g, b) in col.iter_mut().zip(beta) {
            *g *= b;
        }
    }
}

/// Update both compartments of layer `k` (1-based) in place; returns what changed.
fn update_layer<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
    k: usize,
) -> Change {
    let depth = net.depth();
    let i = k - 1;
    let st = &dyads.stamps;
    let skip = dynamics.skip_unchanged;
    let need_drive = !skip || st.seen_below[i] != st.stamp[k - 1];
    // A hidden layer's drive depends only on the state below it: when that has not changed since
    // the layer's last drive (the input never does), an array that reads deterministically would
    // give the same bits, so the drive is kept and the read only counted.
    let keep_drive = k < depth && st.seen_below[i] == st.stamp[k - 1] && net.drive_kept(k);
    // A pooled block above routes the top-down signal at this layer's own state, which may have moved.
    let need_feedback =
        k < depth && (!skip || st.seen_above[i] != st.stamp[k + 1] || net.feedback_routed_at(k));
    let p = &dyads.params[i];
    let idempotent = p.noise == 0.0 && (p.damping == 0.0 || !st.last_changed[i]);
    if skip && !need_drive && !need_feedback && idempotent {
        return Change::NONE;
    }
    let (neurons, batch) = (dyads.plus[i].nrows(), dyads.batch());
    if need_drive {
        if keep_drive {
            net.count_repeated_drive(k, batch);
        } else {
            net.read_drive(dyads, k);
        }
        net.counts.elementwise(neurons, batch, 1);
    }
    net.counts.dyad_layer(neurons, batch);
    if k == depth
        && dynamics.nudge_point() == NudgeAt::CurrentDrive
        && dynamics.output != OutputMode::ExactMse
    {
        net.counts
            .elementwise(neurons, batch, crate::counts::NUDGE_OPS);
    }
    if need_feedback {
        net.read_feedback(dyads, k);
    }
    let (f, loss) = (net.activation_of(k), net.loss);
    let sigma = dyads.params[i].noise;
    let noise = match net.periphery_mut() {
        Some(p) if sigma > 0.0 => Some((&mut p.noise, sigma)),
        _ => None,
    };
    let change = if k == depth {
        if dynamics.nudge_point() == NudgeAt::CurrentDrive
            && dynamics.output != OutputMode::ExactMse
        {
            nudge_at(loss, dyads, y, false);
        }
        let change = compartment::output(
            dynamics.output,
            &dyads.params[i],
            &dyads.drive[i],
            &dyads.nudge,
            y,
            &mut dyads.plus[i],
            &mut dyads.minus[i],
            noise,
        );
        compartment::mix(
            &dyads.params[i],
            &dyads.plus[i],
            &dyads.minus[i],
            &mut dyads.mean[i],
            &mut dyads.diff[i],
        );
        change
    } else {
        compartment::hidden_and_mix(
            f,
            &dyads.params[i],
            &dyads.drive[i],
            &dyads.feedback[i],
            &mut dyads.plus[i],
            &mut dyads.minus[i],
            &mut dyads.mean[i],
            &mut dyads.diff[i],
            noise,
        )
    };
    let st = &mut dyads.stamps;
    if change.changed {
        st.clock += 1;
        st.stamp[k] = st.clock;
    }
    st.last_changed[i] = change.changed;
    st.seen_below[i] = st.stamp[k - 1];
    st.seen_above[i] = st.stamp[k + 1];
    change
}
