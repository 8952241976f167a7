//! One-call gradient check: how well an algorithm's estimate on the hardware agrees with the exact
//! gradient of the weights as read from it, per layer, with how settling went.

use crate::algorithm::{Algorithm, AlgorithmError, AlgorithmKind};
use crate::backprop::{Backprop, Gradients};
use crate::diagnostics::{cosine, leak, relative_error};
use crate::dyads::Dyads;
use crate::learn::estimate;
use crate::network::Network;
use crossbar::Crossbar;
use nalgebra::DMatrix;
use serde::Serialize;

/// Agreement of one layer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LayerCheck {
    /// Cosine similarity of the weight-gradient estimate with backprop's (1 = same direction).
    pub cosine: f64,
    /// ‖estimate − backprop‖ / ‖backprop‖ of the weight gradients.
    pub rel_err: f64,
    /// Mean-state leak: RMS over the batch of ‖s̄ₖ − hₖ‖ (0 for the backprop baselines).
    pub leak: f64,
}

/// The result of [`gradcheck`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GradcheckReport {
    /// Layers 1..L.
    pub layers: Vec<LayerCheck>,
    /// Settling converged: its residual is below [`tolerance`](Self::tolerance) (always true for
    /// the backprop baselines).
    pub converged: bool,
    /// The bound the residual was judged against: the algorithm's tolerance, or without one
    /// [`crate::settle::DEFAULT_RELATIVE_TOLERANCE`] × the largest compartment magnitude; `None`
    /// for the backprop baselines, which do not settle.
    pub tolerance: Option<f32>,
    /// Some compartment became non-finite.
    pub diverged: bool,
    /// Passes (circuit mode: Euler steps) run.
    pub passes: usize,
    /// Residual of the last pass or step.
    pub residual: f32,
    /// Circuit mode: settling time.
    pub time: Option<f32>,
    /// Mean loss of the free prediction, by the reference.
    pub loss: f64,
}

/// Estimate the gradient of (x, y) with `algorithm` on `net` (its arrays, its neuron circuits) and
/// compare it per layer with exact backprop on [`Network::to_ideal`] — the weights as a perfect read sees them.
///
/// α_mix/α_fb overrides, the output mode, the schedule and circuit mode all come from `algorithm`.
pub fn gradcheck<C: Crossbar>(
    net: &mut Network<C>,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    algorithm: &Algorithm,
) -> Result<GradcheckReport, AlgorithmError> {
    algorithm.validate_for(net.loss)?;
    let sizes = net.sizes().to_vec();
    let mut reference = Gradients::for_network(net);
    let mut ideal = net.to_ideal();
    let loss = Backprop::new(&sizes, x.ncols()).gradient(&mut ideal, x, y, &mut reference);
    let mut est = Gradients::for_network(net);
    let mut report = GradcheckReport {
        layers: Vec::with_capacity(sizes.len() - 1),
        converged: true,
        tolerance: None,
        diverged: false,
        passes: 0,
        residual: 0.0,
        time: None,
        loss,
    };
    let mut leaks = vec![0.0; sizes.len() - 1];
    match (algorithm.kind, algorithm.dynamics()) {
        (_, Some(dynamics)) => {
            let mut dyads = Dyads::new(&sizes, x.ncols());
            let s = estimate(net, &mut dyads, x, y, &dynamics, &mut est);
            report.converged = s.converged;
            report.tolerance = Some(s.tolerance);
            report.diverged = s.diverged;
            report.passes = s.passes;
            report.residual = s.residual;
            report.time = s.time;
            leaks = leak(&dyads);
        }
        (AlgorithmKind::AdversarialBackprop, None) => {
            Backprop::new(&sizes, x.ncols()).adversarial_gradient(
                net,
                x,
                y,
                algorithm.beta,
                &mut est,
            );
        }
        (_, None) => {
            Backprop::new(&sizes, x.ncols()).gradient(net, x, y, &mut est);
        }
    }
    for ((e, r), leak) in est.weights.iter().zip(&reference.weights).zip(leaks) {
        report.layers.push(LayerCheck {
            cosine: cosine(e.iter(), r.iter()),
            rel_err: relative_error(e.iter(), r.iter()),
            leak,
        });
    }
    Ok(report)
}
