//! Comparisons of gradient estimates with the backprop reference, and the mean-state leak.
//!
//! Lipschitz estimates are in [`crate::lipschitz`], adversarial examples in [`crate::adversarial`],
//! and the one-call gradient check in [`mod@crate::gradcheck`].

use crate::backprop::Gradients;
use crate::dyads::Dyads;

/// Agreement of one layer's estimate with the reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alignment {
    /// Cosine similarity of the weight gradients (1 = same direction).
    pub cosine: f64,
    /// ‖estimate − reference‖ / ‖reference‖ of the weight gradients.
    pub rel_err: f64,
}

/// Cosine similarity of two equally long sequences, in f64; 0 when either is zero.
pub fn cosine<'a>(
    a: impl IntoIterator<Item = &'a f32>,
    b: impl IntoIterator<Item = &'a f32>,
) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.into_iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa.sqrt() * bb.sqrt())
    }
}

/// ‖a − b‖ / ‖b‖ in f64 (∞ when b is zero and a is not).
pub fn relative_error<'a>(
    a: impl IntoIterator<Item = &'a f32>,
    b: impl IntoIterator<Item = &'a f32>,
) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&x, &y) in a.into_iter().zip(b) {
        diff += (x as f64 - y as f64).powi(2);
        norm += (y as f64).powi(2);
    }
    if norm == 0.0 {
        if diff == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (diff / norm).sqrt()
    }
}

/// Per-layer alignment of `estimate` with `reference` (weights only, as the paper reports).
pub fn alignment(estimate: &Gradients, reference: &Gradients) -> Vec<Alignment> {
    estimate
        .weights
        .iter()
        .zip(&reference.weights)
        .map(|(e, r)| Alignment {
            cosine: cosine(e.iter(), r.iter()),
            rel_err: relative_error(e.iter(), r.iter()),
        })
        .collect()
}

/// The mean-state leak of every layer: the RMS over the batch of ‖s̄ₖ − hₖ‖ (Euclidean norm per
/// sample), with hₖ the free forward activation; how far the error has leaked into the forward signal.
pub fn leak(dyads: &Dyads) -> Vec<f64> {
    dyads
        .mean
        .iter()
        .zip(&dyads.free)
        .map(|(m, h)| {
            let sq: f64 = m
                .iter()
                .zip(h.iter())
                .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                .sum();
            (sq / m.ncols().max(1) as f64).sqrt()
        })
        .collect()
}
