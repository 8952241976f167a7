//! The per-layer compartment updates of DP, DP⊤ and damped DP: one elementwise kernel for hidden
//! dyads, one for the linear output dyads, and the mean/difference they send on.
//!
//! Every kernel reads the realised per-neuron parameters, so a mismatched and a nominal circuit run
//! the same arithmetic (with gᵢ = 1, oᵢ = 0 it is bit-identical to the textbook formulas).

use crate::activation::{Activation, dispatch};
use crate::dynamics::OutputMode;
use crate::periphery::NeuronParams;
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// What one layer update did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Change {
    /// Largest |new − old| of any compartment.
    pub max: f32,
    /// Some compartment took a different value.
    pub changed: bool,
    /// Every new value is finite.
    pub finite: bool,
}

impl Change {
    pub const NONE: Change = Change {
        max: 0.0,
        changed: false,
        finite: true,
    };

    #[inline]
    fn record(&mut self, old: f32, new: f32) {
        let d = (new - old).abs();
        if d > self.max {
            self.max = d;
        }
        self.changed |= new != old;
        self.finite &= new.is_finite();
    }
}

/// Additive compartment noise: the stream and its standard deviation for this update.
pub(crate) type Noise<'a> = Option<(&'a mut ChaCha8Rng, f32)>;

#[inline]
fn noisy(noise: &mut Noise<'_>, v: f32) -> f32 {
    match noise {
        Some((rng, sigma)) => {
            let xi: f32 = StandardNormal.sample(*rng);
            v + *sigma * xi
        }
        None => v,
    }
}

/// Hidden dyads in place: s⁺ = gᵢ·f(z⁺ − oᵢ), s⁻ = gᵢ·f(z⁻ − oᵢ) with z⁺ = a + upᵢ·e, z⁻ = a − downᵢ·e,
/// each averaged with the old state as (z + L·s_old)/(1 + L) when damped.
pub(crate) fn hidden(
    f: Activation,
    p: &NeuronParams,
    drive: &DMatrix<f32>,
    feedback: &DMatrix<f32>,
    plus: &mut DMatrix<f32>,
    minus: &mut DMatrix<f32>,
    mut noise: Noise<'_>,
) -> Change {
    let n = drive.nrows();
    let (up, down) = (p.up.as_slice(), p.down.as_slice());
    let (g, o) = (p.gain.as_slice(), p.offset.as_slice());
    let l = p.damping;
    let mut ch = Change::NONE;
    dispatch!(f, act => {
        for (((a, e), sp), sm) in drive
            .as_slice()
            .chunks_exact(n)
            .zip(feedback.as_slice().chunks_exact(n))
            .zip(plus.as_mut_slice().chunks_exact_mut(n))
            .zip(minus.as_mut_slice().chunks_exact_mut(n))
        {
            for i in 0..n {
                let (mut zp, mut zm) = (a[i] + up[i] * e[i], a[i] - down[i] * e[i]);
                if l != 0.0 {
                    zp = (zp + l * sp[i]) / (1.0 + l);
                    zm = (zm + l * sm[i]) / (1.0 + l);
                }
                let new_p = noisy(&mut noise, g[i] * act(zp - o[i]));
                let new_m = noisy(&mut noise, g[i] * act(zm - o[i]));
                ch.record(sp[i], new_p);
                ch.record(sm[i], new_m);
                sp[i] = new_p;
                sm[i] = new_m;
            }
        }
    });
    ch
}

/// Linear output dyads in place, nudged explicitly by `nudge` (= βᵢ·∇ℓ) or by the exact MSE minimiser
/// towards `y`: s⁺ = gᵢ·(a − upᵢ·nudge − oᵢ), s⁻ = gᵢ·(a + downᵢ·nudge − oᵢ), or with r = gᵢ·(a − oᵢ),
/// s⁺ = (r + upᵢ·βᵢ·y)/(1 + upᵢ·βᵢ), s⁻ = (r − downᵢ·βᵢ·y)/(1 − downᵢ·βᵢ).
#[allow(clippy::too_many_arguments)]
pub(crate) fn output(
    mode: OutputMode,
    p: &NeuronParams,
    drive: &DMatrix<f32>,
    nudge: &DMatrix<f32>,
    y: &DMatrix<f32>,
    plus: &mut DMatrix<f32>,
    minus: &mut DMatrix<f32>,
    mut noise: Noise<'_>,
) -> Change {
    let n = drive.nrows();
    let (up, down, beta) = (p.up.as_slice(), p.down.as_slice(), p.beta.as_slice());
    let (g, o) = (p.gain.as_slice(), p.offset.as_slice());
    let mut ch = Change::NONE;
    for ((((a, gn), yc), sp), sm) in drive
        .as_slice()
        .chunks_exact(n)
        .zip(nudge.as_slice().chunks_exact(n))
        .zip(y.as_slice().chunks_exact(n))
        .zip(plus.as_mut_slice().chunks_exact_mut(n))
        .zip(minus.as_mut_slice().chunks_exact_mut(n))
    {
        for i in 0..n {
            let (new_p, new_m) = match mode {
                OutputMode::Explicit => {
                    // The output's top-down signal is −βᵢ·∇ℓ; written as the hidden formula with f = id.
                    let e = -gn[i];
                    (
                        g[i] * (a[i] + up[i] * e - o[i]),
                        g[i] * (a[i] - down[i] * e - o[i]),
                    )
                }
                OutputMode::ExactMse => {
                    let r = g[i] * (a[i] - o[i]);
                    let (bp, bm) = (up[i] * beta[i], down[i] * beta[i]);
                    ((r + bp * yc[i]) / (1.0 + bp), (r - bm * yc[i]) / (1.0 - bm))
                }
            };
            let new_p = noisy(&mut noise, new_p);
            let new_m = noisy(&mut noise, new_m);
            ch.record(sp[i], new_p);
            ch.record(sm[i], new_m);
            sp[i] = new_p;
            sm[i] = new_m;
        }
    }
    ch
}

/// s̄ = α_mix,ᵢ·s⁺ + (1 − α_mix,ᵢ)·s⁻ and δ = s⁺ − s⁻.
///
/// A dyad whose compartments agree sends exactly their common value: the weighted sum would round
/// it by an ulp, so the free state would not be an exact fixed point of an update with zero feedback.
pub(crate) fn mix(
    p: &NeuronParams,
    plus: &DMatrix<f32>,
    minus: &DMatrix<f32>,
    mean: &mut DMatrix<f32>,
    diff: &mut DMatrix<f32>,
) {
    let n = plus.nrows();
    let w = p.mix.as_slice();
    for (((sp, sm), s), d) in plus
        .as_slice()
        .chunks_exact(n)
        .zip(minus.as_slice().chunks_exact(n))
        .zip(mean.as_mut_slice().chunks_exact_mut(n))
        .zip(diff.as_mut_slice().chunks_exact_mut(n))
    {
        for i in 0..n {
            s[i] = if sp[i] == sm[i] {
                sp[i]
            } else {
                w[i] * sp[i] + (1.0 - w[i]) * sm[i]
            };
            d[i] = sp[i] - sm[i];
        }
    }
}

/// Whether the exact MSE output is defined for every output neuron (1 − downᵢ·βᵢ > 0).
pub(crate) fn exact_output_defined(p: &NeuronParams) -> bool {
    p.down.iter().zip(p.beta.iter()).all(|(d, b)| d * b < 1.0)
}
