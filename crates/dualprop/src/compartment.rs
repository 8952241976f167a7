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

    /// What two disjoint parts of one update did together (exact, so any split gives the same).
    fn merge(self, other: Change) -> Change {
        Change {
            max: if other.max > self.max {
                other.max
            } else {
                self.max
            },
            changed: self.changed | other.changed,
            finite: self.finite & other.finite,
        }
    }

    #[inline]
    fn record(&mut self, old: f32, new: f32) {
        // `max` skips a NaN difference like a comparison would, and vectorises.
        self.max = self.max.max((new - old).abs());
        self.changed |= new != old;
        self.finite &= new.is_finite();
    }
}

/// Below this many neurons × samples a layer is updated on the calling thread: handing columns to
/// rayon's other threads costs more than it saves.
const PARALLEL_MIN: usize = 1 << 15;

/// Columns per piece when a noise-free update of `len` elements in columns of `n` is spread over
/// rayon's pool, or None to stay on this thread. Each column is computed the same way wherever it
/// runs, so the result does not depend on the split.
fn columns_per_piece(n: usize, len: usize) -> Option<usize> {
    let threads = rayon::current_num_threads();
    (threads > 1 && len >= PARALLEL_MIN && n > 0).then(|| (len / n).div_ceil(threads).max(1))
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
    // Noise draws from one sequential stream, so a noisy update stays on this thread.
    if let (None, Some(cols)) = (&noise, columns_per_piece(n, drive.len())) {
        use rayon::prelude::*;
        let w = cols * n;
        return drive
            .as_slice()
            .par_chunks(w)
            .zip(feedback.as_slice().par_chunks(w))
            .zip(plus.as_mut_slice().par_chunks_mut(w))
            .zip(minus.as_mut_slice().par_chunks_mut(w))
            .map(|(((a, e), sp), sm)| hidden_columns(f, p, n, a, e, sp, sm, &mut None))
            .reduce(|| Change::NONE, Change::merge);
    }
    hidden_columns(
        f,
        p,
        n,
        drive.as_slice(),
        feedback.as_slice(),
        plus.as_mut_slice(),
        minus.as_mut_slice(),
        &mut noise,
    )
}

/// [`hidden`] followed by [`mix`], block of columns by block of columns, so that each block is
/// still in cache when its mean and difference are formed (and one hand-over to rayon's threads
/// serves both). Same arithmetic and the same order of noise draws as the two calls.
#[allow(clippy::too_many_arguments)]
pub(crate) fn hidden_and_mix(
    f: Activation,
    p: &NeuronParams,
    drive: &DMatrix<f32>,
    feedback: &DMatrix<f32>,
    plus: &mut DMatrix<f32>,
    minus: &mut DMatrix<f32>,
    mean: &mut DMatrix<f32>,
    diff: &mut DMatrix<f32>,
    mut noise: Noise<'_>,
) -> Change {
    /// Columns per block on one thread: a block's six arrays stay within a 48 KiB L1 for the
    /// usual widths.
    const BLOCK_ELEMENTS: usize = 2048;
    let n = drive.nrows();
    if n == 0 {
        return Change::NONE;
    }
    let block = |cols: usize,
                 a: &[f32],
                 e: &[f32],
                 sp: &mut [f32],
                 sm: &mut [f32],
                 s: &mut [f32],
                 d: &mut [f32],
                 noise: &mut Noise<'_>| {
        let w = (BLOCK_ELEMENTS / n).max(1).min(cols) * n;
        let mut ch = Change::NONE;
        for (((((a, e), sp), sm), s), d) in a
            .chunks(w)
            .zip(e.chunks(w))
            .zip(sp.chunks_mut(w))
            .zip(sm.chunks_mut(w))
            .zip(s.chunks_mut(w))
            .zip(d.chunks_mut(w))
        {
            ch = ch.merge(hidden_columns(f, p, n, a, e, sp, sm, noise));
            mix_columns(p, n, sp, sm, s, d);
        }
        ch
    };
    // Noise draws from one sequential stream, so a noisy update stays on this thread.
    if let (None, Some(cols)) = (&noise, columns_per_piece(n, drive.len())) {
        use rayon::prelude::*;
        let w = cols * n;
        return drive
            .as_slice()
            .par_chunks(w)
            .zip(feedback.as_slice().par_chunks(w))
            .zip(plus.as_mut_slice().par_chunks_mut(w))
            .zip(minus.as_mut_slice().par_chunks_mut(w))
            .zip(mean.as_mut_slice().par_chunks_mut(w))
            .zip(diff.as_mut_slice().par_chunks_mut(w))
            .map(|(((((a, e), sp), sm), s), d)| block(cols, a, e, sp, sm, s, d, &mut None))
            .reduce(|| Change::NONE, Change::merge);
    }
    block(
        drive.ncols(),
        drive.as_slice(),
        feedback.as_slice(),
        plus.as_mut_slice(),
        minus.as_mut_slice(),
        mean.as_mut_slice(),
        diff.as_mut_slice(),
        &mut noise,
    )
}

/// [`hidden`] on whole columns given as slices (`n` neurons each).
#[allow(clippy::too_many_arguments)]
fn hidden_columns(
    f: Activation,
    p: &NeuronParams,
    n: usize,
    drive: &[f32],
    feedback: &[f32],
    plus: &mut [f32],
    minus: &mut [f32],
    noise: &mut Noise<'_>,
) -> Change {
    if noise.is_some() {
        return hidden_loop(f, p, n, drive, feedback, plus, minus, |v| noisy(noise, v));
    }
    hidden_plain(f, p, n, drive, feedback, plus, minus)
}

crate::simd::widest_simd! {
    /// The noise-free [`hidden_loop`]: every operation in it is correctly rounded or exact at any
    /// vector width.
    fn hidden_plain(
        f: Activation,
        p: &NeuronParams,
        n: usize,
        drive: &[f32],
        feedback: &[f32],
        plus: &mut [f32],
        minus: &mut [f32],
    ) -> Change {
        hidden_loop(f, p, n, drive, feedback, plus, minus, |v| v)
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn hidden_loop(
    f: Activation,
    p: &NeuronParams,
    n: usize,
    drive: &[f32],
    feedback: &[f32],
    plus: &mut [f32],
    minus: &mut [f32],
    mut noisy: impl FnMut(f32) -> f32,
) -> Change {
    let (up, down) = (&p.up.as_slice()[..n], &p.down.as_slice()[..n]);
    let (g, o) = (&p.gain.as_slice()[..n], &p.offset.as_slice()[..n]);
    let l = p.damping;
    let mut ch = Change::NONE;
    dispatch!(f, act => {
        for (((a, e), sp), sm) in drive
            .chunks_exact(n)
            .zip(feedback.chunks_exact(n))
            .zip(plus.chunks_exact_mut(n))
            .zip(minus.chunks_exact_mut(n))
        {
            for i in 0..n {
                let (mut zp, mut zm) = (a[i] + up[i] * e[i], a[i] - down[i] * e[i]);
                if l != 0.0 {
                    zp = (zp + l * sp[i]) / (1.0 + l);
                    zm = (zm + l * sm[i]) / (1.0 + l);
                }
                let new_p = noisy(g[i] * act(zp - o[i]));
                let new_m = noisy(g[i] * act(zm - o[i]));
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
                OutputMode::Explicit | OutputMode::Auto => {
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
    if let Some(cols) = columns_per_piece(n, plus.len()) {
        use rayon::prelude::*;
        let w = cols * n;
        plus.as_slice()
            .par_chunks(w)
            .zip(minus.as_slice().par_chunks(w))
            .zip(mean.as_mut_slice().par_chunks_mut(w))
            .zip(diff.as_mut_slice().par_chunks_mut(w))
            .for_each(|(((sp, sm), s), d)| mix_columns(p, n, sp, sm, s, d));
        return;
    }
    mix_columns(
        p,
        n,
        plus.as_slice(),
        minus.as_slice(),
        mean.as_mut_slice(),
        diff.as_mut_slice(),
    );
}

crate::simd::widest_simd! {
    /// [`mix`] on whole columns given as slices (`n` neurons each); the arithmetic is correctly
    /// rounded at any vector width.
    fn mix_columns(
        p: &NeuronParams,
        n: usize,
        plus: &[f32],
        minus: &[f32],
        mean: &mut [f32],
        diff: &mut [f32],
    ) {
        let w = &p.mix.as_slice()[..n];
        for (((sp, sm), s), d) in plus
            .chunks_exact(n)
            .zip(minus.chunks_exact(n))
            .zip(mean.chunks_exact_mut(n))
            .zip(diff.chunks_exact_mut(n))
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
}

/// Whether the exact MSE output is defined for every output neuron (1 − downᵢ·βᵢ > 0).
pub(crate) fn exact_output_defined(p: &NeuronParams) -> bool {
    p.down.iter().zip(p.beta.iter()).all(|(d, b)| d * b < 1.0)
}
