//! The read (MVM) pipeline: noise management, DAC, analog product with weight noise, output noise,
//! ADC, and iterative bound management (aihwkit's `ForwardBackwardPassIOManaged`).
//!
//! One read of a batch costs one gemm plus elementwise stages; only columns whose output
//! saturated are read again. Each stage is skipped when its parameter is zero.

use crate::fast::Fast;
use crate::linalg::{Op, gemm};
use crate::rng::fill_normal;
use crate::spec::{BoundManagement, Io, NoiseManagement, WeightNoiseType};
use nalgebra::DMatrix;
use rand::Rng;
use rayon::prelude::*;

/// Converter step of a range `bound` at resolution `res` (a fraction, or a count if > 1).
fn step(res: f64, bound: f64) -> f32 {
    if res <= 0.0 {
        0.0
    } else if res > 1.0 {
        (2.0 * bound / res) as f32
    } else {
        (2.0 * bound * res) as f32
    }
}

/// `v.round_ties_even()` without a libm call (the baseline x86-64 target has no rounding
/// instruction): below 2²³ adding and subtracting 2²³ rounds to an integer in the current
/// (nearest-even) mode; from 2²³ on every f32 is an integer already. NaN passes through.
#[inline(always)]
pub(crate) fn rint(v: f32) -> f32 {
    const TWO_23: f32 = 8_388_608.0;
    let a = v.abs();
    if a < TWO_23 {
        ((a + TWO_23) - TWO_23).copysign(v)
    } else {
        v
    }
}

crate::widest_simd! {
    /// DAC: `out` ← `x`·`s` quantised to `step` (none if 0) and clipped to ±`bound`.
    fn quantize_input(x: &[f32], s: f32, step: f32, bound: f32, out: &mut [f32]) {
        if step > 0.0 {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = (rint(v * s / step) * step).max(-bound).min(bound);
            }
        } else {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = (v * s).max(-bound).min(bound);
            }
        }
    }
}

crate::widest_simd! {
    /// ADC: `y` quantised to `step` (none if 0) and clipped to ±`bound`; true if any value was
    /// beyond the bound.
    fn quantize_output(y: &mut [f32], step: f32, bound: f32) -> bool {
        let mut saturated = false;
        if step > 0.0 {
            for v in y.iter_mut() {
                let q = rint(*v / step) * step;
                saturated |= q > bound || q < -bound;
                *v = q.max(-bound).min(bound);
            }
        } else {
            for v in y.iter_mut() {
                let q = *v;
                saturated |= q > bound || q < -bound;
                *v = q.max(-bound).min(bound);
            }
        }
        saturated
    }
}

/// One direction's read converters, with scratch buffers reused across reads.
#[derive(Clone, Debug)]
pub(crate) struct ReadPipeline {
    perfect: bool,
    nm: NoiseManagement,
    nm_thres: f32,
    inp_step: f32,
    inp_bound: f32,
    inp_noise: f32,
    out_step: f32,
    out_bound: f32,
    /// Output noise σ per output line (all equal unless out_noise_std > 0).
    out_sigma: Vec<f32>,
    /// Whether any output line has output noise.
    out_noisy: bool,
    w_noise: f32,
    w_type: WeightNoiseType,
    bound_management: bool,
    max_bm_factor: f32,
    max_bm_res: f32,
    scaled: DMatrix<f32>,
    squares: DMatrix<f32>,
    abs_w: DMatrix<f32>,
    currents: DMatrix<f32>,
    column_in: DMatrix<f32>,
    column_out: DMatrix<f32>,
    alphas: Vec<f32>,
    noise: Vec<f32>,
}

impl ReadPipeline {
    /// A pipeline for `outputs` output lines; `xi_out` are the normals that fix the per-line noise
    /// levels (used only when out_noise_std > 0); `forward` enables bound management.
    pub fn new(io: &Io, outputs: usize, xi_out: &[f32], forward: bool) -> Self {
        let out_sigma: Vec<f32> = (0..outputs)
            .map(|i| {
                let base = io.out_noise as f32;
                if io.out_noise_std > 0.0 {
                    (base * (1.0 + io.out_noise_std as f32 * xi_out[i])).abs()
                } else {
                    base
                }
            })
            .collect();
        let out_bound = if io.out_bound > 0.0 {
            io.out_bound as f32
        } else {
            f32::INFINITY
        };
        Self {
            out_noisy: out_sigma.iter().any(|&s| s > 0.0),
            perfect: io.is_perfect(),
            nm: io.noise_management,
            nm_thres: io.nm_thres as f32,
            inp_step: step(io.inp_res, io.inp_bound),
            inp_bound: if io.inp_bound > 0.0 {
                io.inp_bound as f32
            } else {
                f32::INFINITY
            },
            inp_noise: io.inp_noise as f32,
            out_step: step(io.out_res, io.out_bound),
            out_bound,
            out_sigma,
            w_noise: if io.w_noise_type == WeightNoiseType::None {
                0.0
            } else {
                io.w_noise as f32
            },
            w_type: io.w_noise_type,
            bound_management: forward
                && io.bound_management == BoundManagement::Iterative
                && out_bound.is_finite(),
            max_bm_factor: io.max_bm_factor as f32,
            max_bm_res: io.max_bm_res as f32,
            scaled: DMatrix::zeros(0, 0),
            squares: DMatrix::zeros(0, 0),
            abs_w: DMatrix::zeros(0, 0),
            currents: DMatrix::zeros(0, 0),
            column_in: DMatrix::zeros(0, 0),
            column_out: DMatrix::zeros(0, 0),
            alphas: Vec::new(),
            noise: Vec::new(),
        }
    }

    /// The noise-management scale α of one input vector (0: the output is zero).
    fn alpha(&self, x: &[f32]) -> f32 {
        let cap = |v: f32| {
            if self.nm_thres > 0.0 {
                v.min(self.nm_thres)
            } else {
                v
            }
        };
        match self.nm {
            NoiseManagement::None => 1.0,
            NoiseManagement::AbsMax => cap(x.iter().fold(0.0f32, |m, v| m.max(v.abs()))),
            NoiseManagement::Max => cap(x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v))),
            NoiseManagement::Constant => {
                if self.nm_thres > 0.0 {
                    self.nm_thres
                } else {
                    1.0
                }
            }
        }
    }

    /// DAC: scale by `s`, quantise, clip, add input noise.
    fn convert_input(&self, x: &[f32], s: f32, out: &mut [f32], rng: &mut Fast) {
        quantize_input(x, s, self.inp_step, self.inp_bound, out);
        if self.inp_noise > 0.0 {
            for o in out.iter_mut() {
                *o += self.inp_noise * rng.normal();
            }
        }
    }

    /// Weight noise, output noise and ADC on one output vector; false if it saturated.
    ///
    /// The normals are drawn in bulk (weight noise first, then output noise), then one
    /// branch-free pass adds them, quantises and clips.
    fn finish_output(
        &self,
        y: &mut [f32],
        x_norm: f32,
        currents: Option<&[f32]>,
        noise: &mut Vec<f32>,
        rng: &mut Fast,
    ) -> bool {
        let n = y.len();
        if self.w_noise > 0.0 {
            noise.resize(n, 0.0);
            rng.fill_normal(noise);
            match (self.w_type, currents) {
                (WeightNoiseType::PcmRead, Some(c)) => {
                    for ((v, &xi), &ci) in y.iter_mut().zip(noise.iter()).zip(c) {
                        *v += self.w_noise * ci.max(0.0).sqrt() * xi;
                    }
                }
                _ => {
                    for (v, &xi) in y.iter_mut().zip(noise.iter()) {
                        *v += self.w_noise * x_norm * xi;
                    }
                }
            }
        }
        if self.out_noisy {
            noise.resize(n, 0.0);
            rng.fill_normal(noise);
            for ((v, &xi), &sigma) in y.iter_mut().zip(noise.iter()).zip(&self.out_sigma) {
                *v += sigma * xi;
            }
        }
        !quantize_output(y, self.out_step, self.out_bound)
    }

    /// y ← scale·op(W)·x through the converters, for every column of x; returns the number of
    /// bound-management re-reads (single vectors).
    pub fn read<R: Rng + ?Sized>(
        &mut self,
        w: &DMatrix<f32>,
        op: Op,
        scale: f32,
        x: &DMatrix<f32>,
        y: &mut DMatrix<f32>,
        rng: &mut R,
    ) -> u64 {
        if self.perfect {
            gemm(scale, w, op, x, Op::N, 0.0, y);
            return 0;
        }
        let (n_in, batch) = x.shape();
        if self.scaled.shape() != (n_in, batch) {
            self.scaled = DMatrix::zeros(n_in, batch);
        }
        // One key per read; column b draws its DAC noise from stream 2b and its output-side noise
        // from stream 2b + 1, re-reads of bound management continuing both.
        let key: u64 = rng.random();
        let mut alphas = std::mem::take(&mut self.alphas);
        alphas.clear();
        alphas.extend((0..batch).map(|b| self.alpha(x.column(b).as_slice())));
        let mut scaled = std::mem::take(&mut self.scaled);
        // Columns are independent (each has its own streams), so they are spread over rayon's
        // pool in contiguous runs; the bits do not depend on how.
        // Floor, not ceiling: rayon halves a range only while each half keeps the minimum.
        let min_len = (batch / rayon::current_num_threads()).max(1);
        let this = &*self;
        let in_rngs: Vec<Fast> = scaled
            .as_mut_slice()
            .par_chunks_mut(n_in.max(1))
            .with_min_len(min_len)
            .enumerate()
            .map(|(b, col)| {
                let alpha = alphas[b];
                let s = if this.nm != NoiseManagement::None && alpha > 0.0 {
                    1.0 / alpha
                } else {
                    1.0
                };
                let mut in_rng = Fast::chunk(key, 2 * b as u64);
                this.convert_input(x.column(b).as_slice(), s, col, &mut in_rng);
                in_rng
            })
            .collect();
        gemm(1.0, w, op, &scaled, Op::N, 0.0, y);
        let pcm = self.w_noise > 0.0 && self.w_type == WeightNoiseType::PcmRead;
        if pcm {
            self.abs_w = w.abs();
            self.squares = scaled.map(|v| v * v);
            if self.currents.shape() != y.shape() {
                self.currents = DMatrix::zeros(y.nrows(), y.ncols());
            }
            gemm(
                1.0,
                &self.abs_w,
                op,
                &self.squares,
                Op::N,
                0.0,
                &mut self.currents,
            );
        }
        let n_out = y.nrows();
        let this = &*self;
        let nm = self.nm;
        let column_scale = move |alpha_b: f32| {
            scale
                * if nm != NoiseManagement::None && alpha_b > 0.0 {
                    alpha_b
                } else {
                    1.0
                }
        };
        // Per column: Some(output stream) when it saturated and bound management re-reads it.
        let retry: Vec<Option<Fast>> = y
            .as_mut_slice()
            .par_chunks_mut(n_out.max(1))
            .with_min_len(min_len)
            .enumerate()
            .map_init(Vec::new, |noise, (b, ycol)| {
                let alpha_b = alphas[b];
                let dead =
                    this.nm != NoiseManagement::None && alpha_b <= 0.0 && this.inp_noise == 0.0;
                if dead {
                    ycol.fill(0.0);
                    return None;
                }
                let norm = if this.w_noise > 0.0 {
                    scaled.column(b).norm()
                } else {
                    0.0
                };
                let currents = pcm.then(|| &this.currents.as_slice()[b * n_out..(b + 1) * n_out]);
                let mut out_rng = Fast::chunk(key, 2 * b as u64 + 1);
                let passed = this.finish_output(ycol, norm, currents, noise, &mut out_rng);
                if !passed && this.bound_management {
                    return Some(out_rng);
                }
                let c = column_scale(alpha_b);
                ycol.iter_mut().for_each(|v| *v *= c);
                None
            })
            .collect();
        let mut repeats = 0u64;
        for (b, out_rng) in retry.into_iter().enumerate() {
            let Some(mut out_rng) = out_rng else {
                continue;
            };
            let mut in_rng = in_rngs[b].clone();
            let alpha_b = alphas[b];
            let rngs = (&mut in_rng, &mut out_rng);
            let beta = self.bound_manage(w, op, x.column(b).as_slice(), alpha_b, y, b, rngs);
            // β = 2^repeats: every re-read doubles it.
            repeats += u64::from(beta.log2().round() as u32);
            y.column_mut(b).scale_mut(column_scale(alpha_b) * beta);
        }
        self.scaled = scaled;
        self.alphas = alphas;
        repeats
    }

    /// Whether reads go through converters (false: the exact product, no DAC or ADC).
    pub fn converted(&self) -> bool {
        !self.perfect
    }

    /// Re-read column b with the input reduced by β = 2, 4, ... until nothing saturates or β
    /// passes max_bm_factor or max_bm_res/Δ_in; the last read is kept. Returns β.
    #[allow(clippy::too_many_arguments)]
    fn bound_manage(
        &mut self,
        w: &DMatrix<f32>,
        op: Op,
        x: &[f32],
        alpha: f32,
        y: &mut DMatrix<f32>,
        b: usize,
        (in_rng, out_rng): (&mut Fast, &mut Fast),
    ) -> f32 {
        let n_out = y.nrows();
        if self.column_in.nrows() != x.len() {
            self.column_in = DMatrix::zeros(x.len(), 1);
        }
        if self.column_out.nrows() != n_out {
            self.column_out = DMatrix::zeros(n_out, 1);
        }
        let base = if self.nm != NoiseManagement::None && alpha > 0.0 {
            1.0 / alpha
        } else {
            1.0
        };
        let mut beta = 1.0f32;
        let mut noise = std::mem::take(&mut self.noise);
        loop {
            beta *= 2.0;
            let mut col = std::mem::take(&mut self.column_in);
            self.convert_input(x, base / beta, col.as_mut_slice(), in_rng);
            gemm(1.0, w, op, &col, Op::N, 0.0, &mut self.column_out);
            let norm = if self.w_noise > 0.0 { col.norm() } else { 0.0 };
            let currents = if self.w_noise > 0.0 && self.w_type == WeightNoiseType::PcmRead {
                let sq = col.map(|v| v * v);
                let mut c = DMatrix::zeros(n_out, 1);
                gemm(1.0, &self.abs_w, op, &sq, Op::N, 0.0, &mut c);
                Some(c)
            } else {
                None
            };
            let mut out = std::mem::take(&mut self.column_out);
            let passed = self.finish_output(
                out.as_mut_slice(),
                norm,
                currents.as_ref().map(|c| c.as_slice()),
                &mut noise,
                out_rng,
            );
            y.column_mut(b).copy_from(&out);
            self.column_out = out;
            self.column_in = col;
            let limit = beta > self.max_bm_factor
                || (self.inp_step > 0.0 && beta > self.max_bm_res / self.inp_step);
            if passed || limit {
                self.noise = noise;
                return beta;
            }
        }
    }

    /// Normals fixing the per-line output noise levels: drawn only when they are used.
    pub fn line_normals<R: Rng + ?Sized>(io: &Io, outputs: usize, rng: &mut R) -> Vec<f32> {
        let mut xi = vec![0.0f32; if io.out_noise_std > 0.0 { outputs } else { 0 }];
        fill_normal(rng, &mut xi);
        xi
    }
}
