//! PCM-like retention model (aihwkit's `PCMLikeNoiseModel`, fitted by Nandakumar et al., ICECS 2019):
//! conductance mapping, programming noise, state-dependent power-law drift, 1/f read noise and
//! global drift compensation.
//!
//! Weights v are mapped to a pair of conductances G± = clip(±s·v, 0, g_max − g_min) + g_min with
//! s = (g_max − g_min)/max|v|; each conductance is programmed, drifts and is read independently,
//! and the drifted weight is (G⁺ − G⁻)/s.

use crate::snapshot::{SnapshotError, SnapshotReader, SnapshotWriter};
use crate::spec::check;
use crate::spec::{Compensation, Drift, PcmLike, SpecError};
use rand::Rng;
use rand_distr::StandardNormal;

/// Programming-noise polynomial (µS at g_max = 25 µS) in the normalised target g_T/g_max.
const PROG_COEFF: [f64; 3] = [0.26348, 1.9650, -1.1731];

/// Standard deviation of the programming noise (µS) at target conductance `g_t` (µS).
pub fn prog_noise_sigma(spec: &PcmLike, g_t: f64) -> f64 {
    let x = g_t / spec.g_max;
    (PROG_COEFF[0] + PROG_COEFF[1] * x + PROG_COEFF[2] * x * x) * spec.g_max / 25.0
        * spec.prog_noise_scale
}

/// Mean and spread of the drift exponent ν at target conductance `g_t` (µS), before drift_scale.
pub fn nu_moments(spec: &PcmLike, g_t: f64) -> (f64, f64) {
    let g = (g_t / spec.g_max).abs().max(1e-7);
    let mean = (-0.0155 * g.ln() + 0.0244).clamp(0.049, 0.1);
    let std = (-0.0125 * g.ln() - 0.0059).clamp(0.008, 0.045);
    (mean, std)
}

/// Relative 1/f read-noise standard deviation at time `t` (s, counted from programming + t0's
/// origin, i.e. t = t_inference + t0) for a device programmed to `g_prog` (µS).
pub fn read_noise_sigma(spec: &PcmLike, g_prog: f64, t: f64) -> f64 {
    let q = (0.0088 / (g_prog.abs() / spec.g_max).powf(0.65).max(1e-3)).min(0.2);
    q * ((t + spec.t_read) / (2.0 * spec.t_read))
        .ln()
        .max(0.0)
        .sqrt()
}

/// One programmed conductance: its programmed value and its drift exponent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Programmed {
    /// Conductance right after programming (µS).
    pub g_prog: f32,
    /// Drift exponent ν (already × drift_scale).
    pub nu: f32,
}

/// Program one conductance to target `g_t` (µS): programming noise and the drift exponent.
pub(crate) fn program<R: Rng + ?Sized>(spec: &PcmLike, g_t: f64, rng: &mut R) -> Programmed {
    let xi: f64 = rng.sample(StandardNormal);
    let g_prog = (g_t + prog_noise_sigma(spec, g_t) * xi).max(0.0);
    let (mean, std) = nu_moments(spec, g_t);
    let xi_nu: f64 = rng.sample(StandardNormal);
    let nu = (mean + std * xi_nu).abs() * spec.drift_scale;
    Programmed {
        g_prog: g_prog as f32,
        nu: nu as f32,
    }
}

/// The conductance (µS) `t_inference` seconds after programming, with fresh read noise.
pub(crate) fn drifted<R: Rng + ?Sized>(
    spec: &PcmLike,
    p: Programmed,
    t_inference: f64,
    rng: &mut R,
) -> f64 {
    let t = t_inference + spec.t0;
    let g_prog = f64::from(p.g_prog);
    let g = if t > spec.t0 {
        g_prog * (t / spec.t0).powf(-f64::from(p.nu))
    } else {
        g_prog
    };
    let sigma = read_noise_sigma(spec, g_prog, t) * spec.read_noise_scale;
    let xi: f64 = rng.sample(StandardNormal);
    (g + g.abs() * sigma * xi).max(0.0)
}

/// The programmed pairs of an array, kept so that several `age` calls share one programming.
#[derive(Clone, Debug)]
pub(crate) struct ProgrammedArray {
    spec: PcmLike,
    /// Conductance per weight unit s (µS).
    s: f32,
    plus: Vec<Programmed>,
    minus: Vec<Programmed>,
    /// Mean |v| right after programming (the compensation reference), or None without compensation.
    reference: Option<f32>,
}

impl ProgrammedArray {
    /// Map `v` (weights in device units) to conductance pairs and program them.
    pub fn program<R: Rng + ?Sized>(spec: &PcmLike, v: &[f32], rng: &mut R) -> Self {
        let range = spec.g_max - spec.g_min;
        let v_max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let s = if v_max > 0.0 {
            (range / f64::from(v_max)) as f32
        } else {
            0.0
        };
        let mut plus = Vec::with_capacity(v.len());
        let mut minus = Vec::with_capacity(v.len());
        for &w in v {
            let target = f64::from(s * w);
            plus.push(program(spec, target.clamp(0.0, range) + spec.g_min, rng));
            minus.push(program(spec, (-target).clamp(0.0, range) + spec.g_min, rng));
        }
        let mut out = Self {
            spec: spec.clone(),
            s,
            plus,
            minus,
            reference: None,
        };
        if spec.compensation == Compensation::Global && s > 0.0 {
            let sum: f64 = out
                .plus
                .iter()
                .zip(&out.minus)
                .map(|(p, m)| f64::from((p.g_prog - m.g_prog).abs()))
                .sum();
            out.reference = Some((sum / v.len().max(1) as f64 / f64::from(s)) as f32);
        }
        out
    }

    /// Append the programmed pairs to a snapshot.
    pub fn save(&self, out: &mut SnapshotWriter) {
        out.tag("programmed pairs");
        out.f32(self.s);
        for pairs in [&self.plus, &self.minus] {
            out.u64(pairs.len() as u64);
            for p in pairs {
                out.f32(p.g_prog);
                out.f32(p.nu);
            }
        }
        out.bool(self.reference.is_some());
        out.f32(self.reference.unwrap_or(0.0));
    }

    /// The programmed pairs [`ProgrammedArray::save`] wrote, for `devices` devices of `spec`.
    pub fn restore(
        spec: &PcmLike,
        devices: usize,
        input: &mut SnapshotReader<'_>,
    ) -> Result<Self, SnapshotError> {
        input.tag("programmed pairs")?;
        let s = input.f32()?;
        let mut sides = [Vec::new(), Vec::new()];
        for side in &mut sides {
            let n = input.usize()?;
            if n != devices {
                return Err(input.error(format!(
                    "{n} programmed conductances where the array has {devices} devices"
                )));
            }
            side.reserve(n);
            for _ in 0..n {
                let g_prog = input.f32()?;
                let nu = input.f32()?;
                side.push(Programmed { g_prog, nu });
            }
        }
        let [plus, minus] = sides;
        let compensated = input.bool()?;
        let reference = input.f32()?;
        Ok(Self {
            spec: spec.clone(),
            s,
            plus,
            minus,
            reference: compensated.then_some(reference),
        })
    }

    /// Drifted weights at `t_inference` into `out`, and the output compensation factor.
    pub fn age<R: Rng + ?Sized>(&self, t_inference: f64, out: &mut [f32], rng: &mut R) -> f32 {
        if self.s == 0.0 {
            out.fill(0.0);
            return 1.0;
        }
        let mut sum = 0.0f64;
        for ((o, p), m) in out.iter_mut().zip(&self.plus).zip(&self.minus) {
            let gp = drifted(&self.spec, *p, t_inference, rng);
            let gm = drifted(&self.spec, *m, t_inference, rng);
            *o = ((gp - gm) / f64::from(self.s)) as f32;
            sum += f64::from(o.abs());
        }
        match self.reference {
            // aihwkit clamps both read-outs at 1e-4 so a fully decayed array does not divide by 0.
            Some(r) => r.max(1e-4) / ((sum / out.len().max(1) as f64) as f32).max(1e-4),
            None => 1.0,
        }
    }
}

/// Drifted conductance statistics of one (time, target) pair, as fractions of g_max.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DriftPoint {
    /// Time since programming (s).
    pub t: f64,
    /// Programmed target conductance (fraction of g_max).
    pub target: f64,
    /// Mean drifted conductance over the devices (fraction of g_max).
    pub mean: f64,
    /// Standard deviation over the devices (fraction of g_max).
    pub std: f64,
}

/// Program `n` devices to each target (fraction of g_max, in [0, 1]) and read them at each time
/// (s after programming, >= 0), with programming noise, drift and 1/f read noise.
/// Rows: times outer, targets inner. The same devices are followed through time; targets use
/// independent devices.
pub fn drift_response(
    drift: &Drift,
    times: &[f64],
    targets: &[f64],
    n: usize,
    seed: u64,
) -> Result<Vec<DriftPoint>, SpecError> {
    drift.validate("drift")?;
    for (i, &t) in times.iter().enumerate() {
        check::non_negative(&format!("times[{i}]"), t)?;
    }
    for (i, &f) in targets.iter().enumerate() {
        check::within(&format!("targets[{i}]"), f, 0.0, 1.0)?;
    }
    let Drift::PcmLike(spec) = drift;
    let mut rng = crate::rng::stream(seed, crate::rng::purpose::DRIFT);
    let programmed: Vec<Vec<Programmed>> = targets
        .iter()
        .map(|&f| {
            (0..n)
                .map(|_| program(spec, f * spec.g_max, &mut rng))
                .collect()
        })
        .collect();
    let mut rows = Vec::with_capacity(times.len() * targets.len());
    for &t in times {
        for (ti, &target) in targets.iter().enumerate() {
            let g: Vec<f64> = programmed[ti]
                .iter()
                .map(|&p| drifted(spec, p, t, &mut rng) / spec.g_max)
                .collect();
            let mean = g.iter().sum::<f64>() / n.max(1) as f64;
            let var =
                g.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n.max(2) - 1) as f64;
            rows.push(DriftPoint {
                t,
                target,
                mean,
                std: var.sqrt(),
            });
        }
    }
    Ok(rows)
}
