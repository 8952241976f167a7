//! The devices suite: every pulsed device of a hardware file against the documented step rule.
//!
//! - **Step rule**: with every spread and noise switched off, each pulse of `pulse_response` must
//!   move the weight by the §3.2 formula evaluated at the weight before the pulse, to f32 rounding.
//! - **Trace**: the whole noise-free trace against the formula iterated in f64 from the start.
//! - **Moments**: with the step spreads and cycle-to-cycle noise on, the mean and variance of
//!   single-pulse steps at w = 0 over many devices against their formulas, within 5 standard errors.

use super::closed_form::{Nominal, nominal, set_bounds, widen};
use super::{Check, Criterion};
use crate::error::{LabError, Result};
use crossbar::Hardware;
use crossbar::spec::Device;
use std::path::{Path, PathBuf};

const SUITE: &str = "devices";
/// Devices sampled for the moments: the standard error of a mean is then 0.7 % of the step spread.
const DEVICES: usize = 20_000;
/// Standard errors a moment may be off: a false alarm has probability ~6e-7 per check.
const Z_MAX: f64 = 5.0;
/// f32 unit roundoff.
const EPS: f64 = f32::EPSILON as f64 / 2.0;

/// Every device-models/*.ron file of the source tree `root`, in name order, with its hardware.
pub fn preset_files(root: &Path) -> Result<Vec<(PathBuf, Hardware)>> {
    let dir = root.join("device-models");
    let files = super::ron_files(&dir)?;
    files
        .into_iter()
        .map(|p| crate::hardware::load_file(&p).map(|h| (p, h)))
        .collect()
}

/// The presets of device-models/ as built into dyadsim, for the suite outside the source tree.
pub fn builtin_presets() -> Result<Vec<(PathBuf, Hardware)>> {
    crate::builtin::PRESETS
        .iter()
        .map(|(stem, text)| {
            let path = Path::new("device-models").join(format!("{stem}.ron"));
            crate::hardware::parse(text, &path).map(|h| (path, h))
        })
        .collect()
}

fn spec_error(path: &Path, e: crossbar::SpecError) -> LabError {
    LabError::Invalid {
        path: path.to_owned(),
        position: None,
        field: "hardware.device".into(),
        message: e.to_string(),
    }
}

/// The checks of the device in the hardware file `path` (none for an `Ideal` device).
pub fn run(path: &Path, device: &Device) -> Result<Vec<Check>> {
    if device.common().is_none() {
        return Ok(Vec::new());
    }
    let file = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("device");
    let label = format!("{file} {}", device.name());
    let mut checks = trace(path, &label, device)?;
    checks.extend(moments(path, &label, device)?);
    Ok(checks)
}

fn trace(path: &Path, label: &str, device: &Device) -> Result<Vec<Check>> {
    let quiet = nominal(device, true);
    let nom = Nominal::new(&quiet).expect("a pulsed device has a nominal form");
    let c = quiet.common().expect("pulsed");
    // Enough pulses to cross the range from 0 to a bound and back to the other (capped at 400
    // each way, which keeps devices with 10 000 states in their interior).
    let states = ((nom.b_max - nom.b_min) / c.dw_min).ceil();
    let n = states.clamp(20.0, 400.0) as i64;
    let programme = [n, -2 * n, n];
    let response =
        crossbar::pulse_response(&quiet, &programme, 1, 0).map_err(|e| spec_error(path, e))?;
    let r = nom.reference;
    let w: Vec<f64> = (0..response.len())
        .map(|p| f64::from(response.at(p)[0]) + r)
        .collect();
    let ups = programme
        .iter()
        .flat_map(|&b| std::iter::repeat_n(b > 0, b.unsigned_abs() as usize));
    let (mut worst_step, mut at_step) = (0.0f64, 0);
    let mut reference = w[0];
    let (mut worst_trace, mut at_trace) = (0.0f64, 0);
    let scale_max = nom.b_max.abs().max(nom.b_min.abs()) + r.abs() + c.dw_min;
    for (p, up) in ups.enumerate() {
        let expected = nom.pulse(w[p], up) - w[p];
        let measured = w[p + 1] - w[p];
        // One rounding of w + Δ (half an ulp of the larger), a few in Δ itself and the read's
        // w − r: a handful of units of roundoff of the magnitudes involved.
        let scale = w[p].abs().max(w[p + 1].abs()).max(r.abs()) + c.dw_min;
        let err = (measured - expected).abs() / (EPS * scale);
        if err > worst_step {
            (worst_step, at_step) = (err, p);
        }
        reference = nom.pulse(reference, up);
        let dev = (w[p + 1] - reference).abs() / c.dw_min;
        if dev > worst_trace {
            (worst_trace, at_trace) = (dev, p + 1);
        }
    }
    let pulses = 4 * n as usize;
    // Rounding accumulates at most once per pulse (the model may amplify nothing: every rule is a
    // contraction or a translation), so the trace may drift by pulses·(a few ulps of the range).
    let trace_tol = pulses as f64 * 4.0 * EPS * scale_max / c.dw_min;
    Ok(vec![
        Check::new(
            SUITE,
            format!("{label}: noise-free step rule (error, f32 roundoff units)"),
            worst_step,
            Criterion::AtMost,
            16.0,
            format!(
                "worst at pulse {at_step} of {programme:?} from w = {:.6}",
                w[at_step]
            ),
        ),
        Check::new(
            SUITE,
            format!("{label}: noise-free trace vs closed form (|Δw| / dw_min)"),
            worst_trace,
            Criterion::AtMost,
            trace_tol,
            format!("worst after pulse {at_trace}: simulated {:.6}", w[at_trace]),
        ),
    ])
}

/// Mean and second moment of one pulse's step at w = 0, by the documented formulas.
struct Formula {
    mean: f64,
    var: f64,
}

fn formula(device: &Device, nom: &Nominal, up: bool) -> Formula {
    let c = device.common().expect("pulsed");
    let bias = if up {
        c.up_down.min(0.0)
    } else {
        -c.up_down.max(0.0)
    };
    let d = c.dw_min_dtod;
    let (mean_g, var_g) = if c.dw_min_dtod_log_normal {
        ((d * d / 2.0).exp(), ((d * d).exp() - 1.0) * (d * d).exp())
    } else {
        (1.0, d * d)
    };
    // D = (bias + g ± ρ)·dw_min per device; the consistency repair |D| is ignored on purpose: it
    // is negligible for sane spreads and a large bias is exactly what this check should expose.
    let e_d = (bias + mean_g) * c.dw_min;
    let e_d2 = ((bias + mean_g).powi(2) + var_g + c.up_down_dtod.powi(2)) * c.dw_min.powi(2);
    let dw = if up { nom.dw_up } else { nom.dw_down };
    let f = if dw == 0.0 {
        0.0
    } else {
        nom.step(0.0, up).abs() / dw
    };
    let s = c.dw_min_std;
    let complex = match device {
        Device::ExpStep(p) if s > 0.0 && (p.dw_min_std_add > 0.0 || p.dw_min_std_slope > 0.0) => {
            Some(p.dw_min_std_add)
        }
        _ => None,
    };
    let e_s2 = match complex {
        // w += Δ + σ(|Δ| + σ_add)ξ at w = 0.
        Some(add) => f * f * e_d2 + s * s * (f * f * e_d2 + 2.0 * f * e_d * add + add * add),
        // w += D·f·(1 + σξ): multiplicative and additive noise coincide at w = 0.
        None => f * f * e_d2 * (1.0 + s * s),
    };
    let mean = f * e_d;
    let write = c.write_noise_std * c.dw_min;
    let write_var = write * write * if c.apply_write_noise_on_set { 2.0 } else { 1.0 };
    Formula {
        mean: if up { mean } else { -mean },
        var: e_s2 - mean * mean + write_var,
    }
}

fn moments(path: &Path, label: &str, device: &Device) -> Result<Vec<Check>> {
    let mut spec = nominal(device, false);
    if let Device::SoftBoundsReference(p) = &mut spec {
        // The reference only shifts what a read subtracts; at r = 0 the steps start at w = 0.
        p.reference_mean = 0.0;
        p.subtract_symmetry_point = false;
    }
    let c = spec.common().expect("pulsed");
    let one_sided = c.w_min == 0.0 || c.w_max == 0.0;
    if one_sided && matches!(spec, Device::PowStep(_) | Device::PiecewiseStep(_)) {
        // Their step at w = 0 depends on where 0 sits in the range, and a one-sided device starts
        // at a bound, where noise clips half the steps: no clip-free single step to measure.
        return Ok(Vec::new());
    }
    let mut checks = Vec::new();
    for up in [true, false] {
        let nom = Nominal::new(&spec).expect("pulsed");
        let step = nom.step(0.0, up).abs().max(c.dw_min);
        // Make room for 10⁴ mean steps on either side of w = 0, so that not even a 20σ step is
        // clipped and the formula needs no clipping. Scaling both bounds keeps every step factor
        // at w = 0; a one-sided device (which starts at its bound) gets symmetric bounds instead,
        // which keeps the factor of the models allowed here (constant, linear and soft-bound steps
        // are 1 at w = 0 whatever the bounds, ExpStep's z = b does not involve them).
        let mut wide = spec.clone();
        if one_sided {
            set_bounds(&mut wide, -1e4 * step, 1e4 * step);
        } else {
            let bound = if up { c.w_max } else { c.w_min };
            widen(&mut wide, (1e4 * step / bound.abs()).max(1.0));
        }
        let f = formula(&wide, &Nominal::new(&wide).expect("pulsed"), up);
        let seed = if up { 1 } else { 2 };
        let r = crossbar::pulse_response(&wide, &[if up { 1 } else { -1 }], DEVICES, seed)
            .map_err(|e| spec_error(path, e))?;
        let steps: Vec<f64> = r
            .at(1)
            .iter()
            .zip(r.at(0))
            .map(|(&b, &a)| f64::from(b) - f64::from(a))
            .collect();
        let n = steps.len() as f64;
        let mean = steps.iter().sum::<f64>() / n;
        let var = steps.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let m4 = steps.iter().map(|s| (s - mean).powi(4)).sum::<f64>() / n;
        let se_mean = (f.var.max(0.0) / n).sqrt();
        let se_var = ((m4 - var * var).max(0.0) / n).sqrt();
        let dir = if up { "up" } else { "down" };
        let z = |d: f64, se: f64| {
            if se > 0.0 {
                d.abs() / se
            } else if d == 0.0 {
                0.0
            } else {
                f64::INFINITY
            }
        };
        checks.push(Check::new(
            SUITE,
            format!("{label}: mean {dir} step (standard errors)"),
            z(mean - f.mean, se_mean),
            Criterion::AtMost,
            Z_MAX,
            format!(
                "measured {mean:.6e} vs formula {:.6e} over {DEVICES} devices",
                f.mean
            ),
        ));
        checks.push(Check::new(
            SUITE,
            format!("{label}: {dir} step variance (standard errors)"),
            z(var - f.var, se_var),
            Criterion::AtMost,
            Z_MAX,
            format!("measured {var:.6e} vs formula {:.6e}", f.var),
        ));
    }
    Ok(checks)
}
