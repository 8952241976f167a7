//! Continuous-time settling: every compartment integrates τ·ds/dt = −s + target(s) − leak·s (+ noise)
//! at once, by explicit Euler.
//!
//! target(s) is the schedule's layer update evaluated at the current state, so a state where every
//! velocity vanishes (and leak = 0) is exactly a fixed point of every schedule. Compartment noise is a
//! Wiener increment: σ·√(dt/τ)·ξ per step, so that its effect does not depend on the step size.

use crate::compartment::{self, Change};
use crate::dyads::Dyads;
use crate::dynamics::{Circuit, Dynamics, NudgeAt, OutputMode};
use crate::network::Network;
use crate::settle::{Settled, nudge_at};
use crossbar::Crossbar;
use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};

/// Entries of the residual trace at most; longer runs record every n-th step.
const TRACE_LEN: usize = 1024;

/// Integrate from the free state (already prepared by `settle`) until the velocity residual falls
/// below `circuit.tol` or the time reaches `circuit.t_max`.
pub(crate) fn integrate<C: Crossbar>(
    net: &mut Network<C>,
    dyads: &mut Dyads,
    y: &DMatrix<f32>,
    dynamics: &Dynamics,
    circuit: &Circuit,
) -> Settled {
    let depth = net.depth();
    let h = circuit.dt / circuit.tau;
    let noise_scale = h.sqrt();
    let max_steps = circuit.max_steps();
    let stride = max_steps.div_ceil(TRACE_LEN);
    dyads.trace.reserve(max_steps.div_ceil(stride));
    let mut residual = f32::INFINITY;
    let mut steps = 0;
    let mut diverged = false;
    while steps < max_steps {
        steps += 1;
        read_all(net, dyads);
        if dynamics.nudge_point() == NudgeAt::CurrentDrive
            && dynamics.output != OutputMode::ExactMse
        {
            nudge_at(net.loss, dyads, y, false);
            net.counts
                .elementwise(y.nrows(), y.ncols(), crate::counts::NUDGE_OPS);
        }
        // Every compartment moves at once for dt = h·τ.
        let batch = dyads.batch();
        let neurons: usize = net.sizes()[1..].iter().sum();
        net.counts.compartment_updates += 2 * (neurons * batch) as u64;
        net.counts.settle_time_constants += f64::from(h) * batch as f64;
        let mut finite = true;
        for k in 1..=depth {
            let i = k - 1;
            dyads.target_plus[i].copy_from(&dyads.plus[i]);
            dyads.target_minus[i].copy_from(&dyads.minus[i]);
            let c: Change = if k == depth {
                compartment::output(
                    dynamics.output,
                    &dyads.params[i],
                    &dyads.drive[i],
                    &dyads.nudge,
                    y,
                    &mut dyads.target_plus[i],
                    &mut dyads.target_minus[i],
                    None,
                )
            } else {
                compartment::hidden(
                    net.activation_of(k),
                    &dyads.params[i],
                    &dyads.drive[i],
                    &dyads.feedback[i],
                    &mut dyads.target_plus[i],
                    &mut dyads.target_minus[i],
                    None,
                )
            };
            finite &= c.finite;
        }
        residual = 0.0;
        for i in 0..depth {
            let p = &dyads.params[i];
            let (leak, sigma) = (p.leak, p.noise * noise_scale);
            let mut rng = net
                .periphery_mut()
                .filter(|_| sigma > 0.0)
                .map(|p| &mut p.noise);
            for (s, t) in [
                (&mut dyads.plus[i], &dyads.target_plus[i]),
                (&mut dyads.minus[i], &dyads.target_minus[i]),
            ] {
                for (s, t) in s.iter_mut().zip(t.iter()) {
                    let v = t - *s - leak * *s;
                    residual = residual.max(v.abs());
                    *s += h * v;
                    if let Some(rng) = rng.as_deref_mut() {
                        let xi: f32 = StandardNormal.sample(rng);
                        *s += sigma * xi;
                    }
                    finite &= s.is_finite();
                }
            }
            compartment::mix(
                p,
                &dyads.plus[i],
                &dyads.minus[i],
                &mut dyads.mean[i],
                &mut dyads.diff[i],
            );
        }
        if !finite {
            diverged = true;
            residual = f32::INFINITY;
        }
        if steps % stride == 0 || diverged || residual < circuit.tol {
            dyads.trace.push(residual);
        }
        if diverged || residual < circuit.tol {
            break;
        }
    }
    net.counts.settle_passes += steps as u64;
    Settled {
        passes: steps,
        residual,
        tolerance: circuit.tol,
        converged: !diverged && residual < circuit.tol,
        diverged,
        time: Some(steps as f32 * circuit.dt),
    }
}

/// Every drive aₖ = Wₖ·s̄ₖ₋₁ + bₖ and top-down signal eₖ = Wₖ₊₁ᵀ·δₖ₊₁ from the same state.
fn read_all<C: Crossbar>(net: &mut Network<C>, dyads: &mut Dyads) {
    let depth = net.depth();
    for k in 1..=depth {
        net.read_drive(dyads, k);
        net.counts
            .elementwise(dyads.drive[k - 1].nrows(), dyads.drive[k - 1].ncols(), 1);
        if k < depth {
            net.read_feedback(dyads, k);
        }
    }
}
