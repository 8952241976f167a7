//! Turning a desired update into device pulses: stochastic rounding and pulse coincidence.
//!
//! Both count the pulses they apply (the energy proxy reported in `UpdateReport`).

use crate::counts::PulseTally;
use crate::device::{Pulser, Rule};
use crate::fast::{Fast, MAX_ABS_NORMAL};
use crate::population::Population;
use crate::spec::PulseCoincidence;
use crate::state::DeviceState;
use nalgebra::DMatrix;
use rand::Rng;
use rayon::prelude::*;

/// Everything a pulsed update needs besides the requested change.
pub(crate) struct Target<'a, R: Rng, S: Rng> {
    pub state: &'a mut DeviceState,
    pub pulser: &'a Pulser,
    pub pop: &'a Population,
    /// Cycle-to-cycle noise and the rounding/bit-stream draws.
    pub rng: &'a mut R,
    /// Write noise of touched devices.
    pub write_rng: &'a mut S,
}

/// Devices per chunk of a chunked update: each chunk has its own random streams, so this
/// constant (not the thread count) fixes which draw goes to which device. Never change it
/// casually: it changes every pulsed trajectory.
pub(crate) const CHUNK: usize = 1 << 14;

/// What stochastic rounding needs besides the request and the device values.
pub(crate) struct Rounding<'a> {
    pub pulser: &'a Pulser,
    pub pop: &'a Population,
    /// Weight granularity Δw_g.
    pub granularity: f32,
    /// Cap on |n|.
    pub max_pulses: u32,
    /// Draw n pulses of a linear-family device as one moment-matched normal (opt-in).
    pub aggregate: bool,
    /// Per-call key of the rounding and cycle-to-cycle streams.
    pub update_key: u64,
    /// Per-call key of the write-noise streams.
    pub write_key: u64,
}

/// Stochastic rounding: device k gets n = ⌊Δw_k/g + U(0,1)⌋ pulses, |n| ≤ `max_pulses`
/// (up if n > 0). `dw` is in device weight units. Returns the pulses by direction.
///
/// E[n] = Δw/g exactly (before the cap), so the expected change equals the request for a device
/// whose mean step is g. The devices are processed in chunks of [`CHUNK`] in parallel (rayon's
/// current pool); chunk c draws from the streams (`update_key`, c) and (`write_key`, c), so the
/// result does not depend on the number of threads.
pub(crate) fn stochastic_rounding(
    dw: &[f32],
    state: &mut DeviceState,
    r: &Rounding<'_>,
) -> PulseTally {
    let split = state.split();
    assert_eq!(
        dw.len(),
        split.w.len(),
        "update: ΔW shape differs from the array"
    );
    let (reference, center, write_sigma) = (split.reference, split.center, split.write_sigma);
    let mut read_chunks = split.read.map(|rd| rd.chunks_mut(CHUNK));
    let tasks: Vec<_> = split
        .w
        .chunks_mut(CHUNK)
        .zip(dw.chunks(CHUNK))
        .enumerate()
        .map(|(c, (w, d))| (c, w, read_chunks.as_mut().and_then(Iterator::next), d))
        .collect();
    let run = |(c, w, rd, d): (usize, &mut [f32], Option<&mut [f32]>, &[f32])| {
        let out = Out {
            start: c * CHUNK,
            w,
            read: rd,
            reference,
            center,
            write_sigma,
        };
        rounding_chunk(c as u64, d, out, r)
    };
    if tasks.len() <= 1 {
        tasks.into_iter().map(run).sum()
    } else {
        tasks.into_par_iter().map(run).sum()
    }
}

/// One chunk's device values and how to refresh their read values.
struct Out<'a> {
    start: usize,
    w: &'a mut [f32],
    read: Option<&'a mut [f32]>,
    reference: &'a [f32],
    center: f32,
    write_sigma: f32,
}

/// Devices whose pulse trains are interleaved: their chains are independent, so the processor
/// overlaps them instead of waiting on one device's latency chain after another.
const LANES: usize = 8;

fn rounding_chunk(c: u64, dw: &[f32], out: Out<'_>, r: &Rounding<'_>) -> PulseTally {
    let mut rng = Fast::chunk(r.update_key, c);
    let mut write_rng = Fast::chunk(r.write_key, c);
    let inv_g = 1.0 / r.granularity;
    let cap = r.max_pulses as f32;
    let mut total = PulseTally::default();
    let Out {
        start,
        w,
        mut read,
        reference,
        center,
        write_sigma,
    } = out;
    let linear = match r.pulser.rule {
        Rule::Constant => Some(false),
        Rule::Linear { mult } => Some(mult),
        _ => None,
    };
    let sigma = r.pulser.sigma;
    let pop = r.pop;
    for (block, (wb, db)) in w.chunks_mut(LANES).zip(dw.chunks(LANES)).enumerate() {
        let base = block * LANES;
        let mut n = [0i32; LANES];
        // Remaining one-by-one pulses and each lane's step parameters.
        let mut left = [0u32; LANES];
        let mut step = [0.0f32; LANES];
        let mut slope = [0.0f32; LANES];
        let mut sign = [0.0f32; LANES];
        let mut lo = [0.0f32; LANES];
        let mut hi = [0.0f32; LANES];
        let mut most = 0u32;
        for (l, (wl, &d)) in wb.iter_mut().zip(db).enumerate() {
            let x = d * inv_g;
            if x == 0.0 {
                continue;
            }
            let u = rng.uniform();
            let nl = floor((x + u).clamp(-cap, cap));
            n[l] = nl;
            if nl == 0 {
                continue;
            }
            total.device(nl);
            let k = start + base + l;
            match linear {
                Some(_) if !r.aggregate && pop.b_min[k] < pop.b_max[k] => {
                    if let Some(v) = constant_sum(r.pulser, pop, k, *wl, nl, &mut rng) {
                        *wl = v;
                        continue;
                    }
                    let (cs, ks, sg) = linear_step(r.pulser, pop, k, nl > 0);
                    left[l] = nl.unsigned_abs();
                    most = most.max(left[l]);
                    (step[l], slope[l], sign[l]) = (cs, ks, sg);
                    (lo[l], hi[l]) = (pop.b_min[k], pop.b_max[k]);
                }
                _ => *wl = apply(r.pulser, pop, k, *wl, nl, r.aggregate, &mut rng),
            }
        }
        if most > 0 {
            let mult = linear == Some(true);
            let mut wl = [0.0f32; LANES];
            wl[..wb.len()].copy_from_slice(wb);
            for t in 0..most {
                for l in 0..LANES {
                    if t < left[l] {
                        let noise = if sigma > 0.0 {
                            1.0 + sigma * rng.normal()
                        } else {
                            1.0
                        };
                        let delta = if mult {
                            (step[l] + slope[l] * wl[l]) * noise
                        } else {
                            slope[l] * wl[l] + step[l] * noise
                        };
                        wl[l] = clip(wl[l] + sign[l] * delta, lo[l], hi[l]);
                    }
                }
            }
            wb.copy_from_slice(&wl[..wb.len()]);
        }
        if let Some(read) = read.as_deref_mut() {
            for l in 0..wb.len() {
                if n[l] == 0 {
                    continue;
                }
                let k = start + base + l;
                let offset = reference.get(k).copied().unwrap_or(0.0) + center;
                let noise = if write_sigma > 0.0 {
                    write_sigma * write_rng.normal()
                } else {
                    0.0
                };
                read[base + l] = wb[l] - offset + noise;
            }
        }
    }
    total
}

/// `v` clipped to [lo, hi]; NaN gives `lo` (as `v.max(lo).min(hi)`), in two instructions.
#[inline(always)]
fn clip(v: f32, lo: f32, hi: f32) -> f32 {
    let v = if v > lo { v } else { lo };
    if v < hi { v } else { hi }
}

/// Step Δw, slope k and direction (+1 up, −1 down) of a linear-family device's pulse:
/// w' = w + direction·(Δw + k·w)(1 + σξ) (multiplicative noise).
#[inline]
fn linear_step(pulser: &Pulser, pop: &Population, k: usize, up: bool) -> (f32, f32, f32) {
    match (&pulser.rule, up) {
        (Rule::Constant, true) => (pop.dw_up[k], 0.0, 1.0),
        (Rule::Constant, false) => (pop.dw_down[k], 0.0, -1.0),
        (_, true) => (pop.dw_up[k], pop.p_up[k], 1.0),
        (_, false) => (pop.dw_down[k], pop.p_down[k], -1.0),
    }
}

/// The exact sum of |n| constant steps when they cannot reach a bound (see [`apply`]), or `None`.
#[inline]
fn constant_sum(
    pulser: &Pulser,
    pop: &Population,
    k: usize,
    w: f32,
    n: i32,
    rng: &mut Fast,
) -> Option<f32> {
    let count = n.unsigned_abs();
    let (c, slope, sign) = linear_step(pulser, pop, k, n > 0);
    if slope != 0.0 || count < 2 {
        return None;
    }
    let sigma = pulser.sigma;
    // Largest possible |step|, with a margin for the rounding of the f32 sums.
    let reach = count as f32 * c.abs() * (1.0 + sigma * MAX_ABS_NORMAL) * (1.0 + 1e-5);
    if !(w - reach > pop.b_min[k] && w + reach < pop.b_max[k]) {
        return None;
    }
    let spread = if sigma > 0.0 {
        c * sigma * (count as f32).sqrt() * rng.normal()
    } else {
        0.0
    };
    Some(w + sign * (count as f32 * c + spread))
}

/// Device k's value after |n| pulses (up if n > 0) from `w`.
///
/// Pulses are applied one by one, except in two cases:
/// - a device with a constant step (ConstantStep, or a linear-family device with zero slope)
///   whose n pulses cannot reach either bound even with the largest normal the generator can
///   return ([`MAX_ABS_NORMAL`]): the sum of n steps Δw·(1 + σξ_t) is then exactly
///   n·Δw + Δw·σ·√n·ξ, one draw (exact in distribution);
/// - `aggregate`: a linear-family device takes one moment-matched normal (opt-in approximation).
#[inline]
pub(crate) fn apply(
    pulser: &Pulser,
    pop: &Population,
    k: usize,
    w: f32,
    n: i32,
    aggregate: bool,
    rng: &mut Fast,
) -> f32 {
    let (lo, hi) = (pop.b_min[k], pop.b_max[k]);
    if hi <= lo {
        return w;
    }
    let up = n > 0;
    let count = n.unsigned_abs();
    let sigma = pulser.sigma;
    let mult = match pulser.rule {
        Rule::Constant => false,
        Rule::Linear { mult } => mult,
        _ => {
            let mut w = w;
            for _ in 0..count {
                let xi = if sigma > 0.0 { rng.normal() } else { 0.0 };
                w = pulser.pulse_with(pop, k, w, up, xi);
            }
            return w;
        }
    };
    if aggregate {
        let Some((m, v)) = pulser.train_moments(pop, k, w, n) else {
            return w;
        };
        let next = if v > 0.0 {
            m + v.sqrt() * rng.normal()
        } else {
            m
        };
        return next.max(lo).min(hi);
    }
    if let Some(v) = constant_sum(pulser, pop, k, w, n, rng) {
        return v;
    }
    let (c, slope, sign) = linear_step(pulser, pop, k, up);
    let mut w = w;
    if sigma > 0.0 {
        for _ in 0..count {
            let noise = 1.0 + sigma * rng.normal();
            let delta = if mult {
                (c + slope * w) * noise
            } else {
                slope * w + c * noise
            };
            w = clip(w + sign * delta, lo, hi);
        }
    } else {
        for _ in 0..count {
            w = clip(w + sign * (c + slope * w), lo, hi);
        }
    }
    w
}

/// ⌊v⌋ for |v| ≤ 65536 without a libm call (the baseline x86-64 target has no rounding
/// instruction, and this is per device per update); NaN gives 0.
#[inline]
fn floor(v: f32) -> i32 {
    let t = v as i32;
    if (t as f32) > v { t - 1 } else { t }
}

/// Pulse probabilities and train length of one sample, as aihwkit's update management sets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Trains {
    /// Bit length BL of this sample's trains.
    pub bl: u32,
    /// Probability scale of the error (row) trains: p_d = min(A·|d|, 1).
    pub a: f32,
    /// Probability scale of the input (column) trains: p_x = min(B·|x|, 1).
    pub b: f32,
}

/// BL, A and B for one sample with max|x| = `x_max`, max|d| = `d_max`, |η| = `eta`.
pub(crate) fn trains(p: &PulseCoincidence, eta: f32, g: f32, x_max: f32, d_max: f32) -> Trains {
    let desired = p.desired_bl as f32;
    let mut bl = desired;
    let mut a = (eta / (g * bl)).sqrt();
    if !p.fixed_bl && !p.update_bl_management && g * desired < eta {
        a = 1.0;
        bl = (eta / g).ceil();
    }
    let mut b = a;
    let k = eta * x_max * d_max / g;
    if p.update_bl_management {
        bl = k.ceil().clamp(1.0, desired);
        a = (eta / (g * bl)).sqrt();
        b = a;
    }
    if p.update_management || p.update_bl_management {
        // Beyond BL coincidences the largest errors saturate: d is effectively clipped.
        let d_eff = if k > desired {
            d_max * desired / k
        } else {
            d_max
        };
        a *= (x_max / d_eff).sqrt();
        b *= (d_eff / x_max).sqrt();
    }
    Trains {
        bl: bl as u32,
        a,
        b,
    }
}

/// Pulse coincidence for W ← W − η·Σ_b d_b·x_bᵀ (η in device units per unit of d·x).
///
/// Per sample, every input line j fires in each of BL slots with probability p_x = min(B|x_j|, 1)
/// and every output line i with p_d = min(A|d_i|, 1); each coincidence applies one pulse, down if
/// sign(x_j)·sign(d_i)·sign(η) > 0, in slot order (rows then columns within a slot).
/// E[#coincidences] = BL·p_x·p_d = |η·x_j·d_i|/g while no probability saturates. Returns the
/// pulses by direction and the devices that received any.
pub(crate) fn pulse_coincidence<R: Rng, S: Rng>(
    x: &DMatrix<f32>,
    d: &DMatrix<f32>,
    eta: f32,
    params: &PulseCoincidence,
    granularity: f32,
    t: &mut Target<'_, R, S>,
) -> PulseTally {
    let rows = d.nrows();
    let eta_abs = eta.abs();
    let eta_sign = eta.signum();
    let mut total = PulseTally::default();
    let mut touched = vec![false; rows * x.nrows()];
    // (index, probability, sign) of the lines that can fire, and the lines that did in a slot.
    let mut xs: Vec<(usize, f32, f32)> = Vec::with_capacity(x.nrows());
    let mut ds: Vec<(usize, f32, f32)> = Vec::with_capacity(rows);
    let mut fx: Vec<(usize, f32)> = Vec::with_capacity(x.nrows());
    let mut fd: Vec<(usize, f32)> = Vec::with_capacity(rows);
    for b in 0..x.ncols() {
        let (xc, dc) = (x.column(b), d.column(b));
        let x_max = xc.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d_max = dc.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if x_max == 0.0 || d_max == 0.0 || eta_abs == 0.0 {
            continue;
        }
        let tr = trains(params, eta_abs, granularity, x_max, d_max);
        total.slots += u64::from(tr.bl);
        xs.clear();
        ds.clear();
        xs.extend(
            xc.iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
                .map(|(j, &v)| (j, (tr.b * v.abs()).min(1.0), v.signum())),
        );
        ds.extend(
            dc.iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
                .map(|(i, &v)| (i, (tr.a * v.abs()).min(1.0), v.signum())),
        );
        for _slot in 0..tr.bl {
            fx.clear();
            fd.clear();
            for &(j, p, s) in &xs {
                if t.rng.random::<f32>() < p {
                    fx.push((j, s));
                }
            }
            for &(i, p, s) in &ds {
                if t.rng.random::<f32>() < p {
                    fd.push((i, s));
                }
            }
            for &(i, sd) in &fd {
                for &(j, sx) in &fx {
                    let up = sx * sd * eta_sign < 0.0;
                    let k = i + j * rows;
                    total.touched += u64::from(!touched[k]);
                    touched[k] = true;
                    if up {
                        total.up += 1;
                    } else {
                        total.down += 1;
                    }
                    t.state.pulses(
                        t.pulser,
                        t.pop,
                        k,
                        if up { 1 } else { -1 },
                        t.rng,
                        t.write_rng,
                    );
                }
            }
        }
    }
    total
}
