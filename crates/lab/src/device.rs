//! `dyadsim device`: pulse-response and drift curves of a hardware description's devices.

use crate::error::{LabError, Result};
use crate::field::FieldError;
use crate::results::write_atomic;
use crossbar::Hardware;
use plot::{Curve, Panel, figure};
use std::path::{Path, PathBuf};

/// What to measure.
#[derive(Clone, Debug)]
pub struct DeviceOptions {
    /// Pulse programme: signed counts, e.g. `[200, -400, 200]`.
    pub pulses: Vec<i64>,
    /// Independent devices.
    pub devices: usize,
    /// Seed of the device realisations and pulse noise.
    pub seed: u64,
    /// Drift: times after programming (s) and targets (fractions of g_max), when asked for.
    pub drift: Option<(Vec<f64>, Vec<f64>)>,
}

/// Parse a pulse programme such as `"+200,-400,+200"`.
pub fn parse_programme(text: &str) -> Result<Vec<i64>> {
    let programme: Vec<i64> = text
        .split(',')
        .map(|p| p.trim().trim_start_matches('+').parse::<i64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            LabError::option(
                "pulses",
                format!("must be signed counts like +200,-400,+200 (got {text:?})"),
            )
        })?;
    if programme.iter().all(|&p| p == 0) {
        return Err(LabError::option("pulses", "must apply at least one pulse"));
    }
    Ok(programme)
}

/// Parse a comma-separated list of non-negative numbers (drift times or targets); `field` names
/// the option in errors (`times`, `targets`).
pub fn parse_list(field: &str, text: &str) -> Result<Vec<f64>> {
    text.split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
        })
        .collect::<Option<Vec<f64>>>()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            LabError::option(
                field,
                format!("must be a comma-separated list of finite numbers ≥ 0 (got {text:?})"),
            )
        })
}

fn hw_error(path: &Path, e: crossbar::SpecError) -> LabError {
    LabError::Invalid {
        path: path.to_owned(),
        position: None,
        field: "hardware".into(),
        message: e.to_string(),
    }
}

/// Numbers kept per device besides its recorded trace: its value, per-device parameters and
/// drift state (a lower bound, see [`crate::budget`]).
const PER_DEVICE: u64 = 16;

/// Reject a device count or programme whose recorded weights cannot fit in memory, before any
/// device is sampled.
fn check_size(opts: &DeviceOptions, hw: &Hardware) -> std::result::Result<(), FieldError> {
    use crate::budget::{available, fits, product, sum};
    if opts.devices == 0 {
        return Err(FieldError::new("devices", "must be at least 1 (got 0)"));
    }
    let devices = opts.devices as u64;
    let pulses = opts
        .pulses
        .iter()
        .try_fold(0u64, |t, p| t.checked_add(p.unsigned_abs()))
        .ok_or_else(|| FieldError::new("pulses", "add up to more pulses than 64 bits count"))?;
    let pulsed = !matches!(hw.device, crossbar::spec::Device::Ideal);
    let recorded = if pulsed {
        product("devices", &[devices, sum("pulses", pulses, 1)?, 4])?
    } else {
        0
    };
    let targets = opts.drift.as_ref().map_or(0, |(_, t)| t.len() as u64);
    let state = product(
        "devices",
        &[devices, sum("devices", PER_DEVICE, 8 * targets)?, 4],
    )?;
    let bytes = sum("devices", recorded, state)?;
    fits("devices", "the device responses", bytes, available())
}

/// Write response.csv/.png/.svg (and drift.csv/.png/.svg) for the hardware files `presets` into
/// `out`, every preset overlaid in one figure; with several presets the CSV files get a `preset`
/// column first.
pub fn characterise(
    presets: &[(PathBuf, Hardware)],
    opts: &DeviceOptions,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    for (_, hw) in presets {
        check_size(opts, hw).map_err(LabError::Option)?;
    }
    let pulsed: Vec<&(PathBuf, Hardware)> = presets
        .iter()
        .filter(|(_, hw)| !matches!(hw.device, crossbar::spec::Device::Ideal))
        .collect();
    if pulsed.is_empty() && opts.drift.is_none() {
        let names: Vec<String> = presets
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        return Err(LabError::option(
            "drift",
            format!(
                "is not asked for and the device of {} is Ideal (it takes no pulses): nothing to draw",
                names.join(", ")
            ),
        ));
    }
    std::fs::create_dir_all(out).map_err(|source| LabError::Io {
        path: out.to_owned(),
        source,
    })?;
    let several = presets.len() > 1;
    let fig = plot::Options::default();
    let mut written = Vec::new();
    if !pulsed.is_empty() {
        written.push(response(&pulsed, opts, out, several, &fig)?);
    }
    if let Some((times, targets)) = &opts.drift {
        written.push(drift(presets, (times, targets), opts, out, several, &fig)?);
    }
    Ok(written)
}

/// The preset name of a hardware file, for legends and the `preset` column.
fn preset(path: &Path) -> String {
    crate::labels::preset_name(&path.to_string_lossy())
}

/// The legend entry of a pulsed preset: its name, step size and number of states.
fn describe(path: &Path, device: &crossbar::spec::Device) -> String {
    let name = preset(path);
    match device.common() {
        Some(c) if c.dw_min > 0.0 => format!(
            "{name}: Δw = {}, ≈ {:.0} states",
            c.dw_min,
            (c.w_max - c.w_min) / c.dw_min
        ),
        _ => format!("{name} ({})", device.name()),
    }
}

fn response(
    presets: &[&(PathBuf, Hardware)],
    opts: &DeviceOptions,
    out: &Path,
    several: bool,
    fig: &plot::Options,
) -> Result<PathBuf> {
    let one = opts.devices == 1;
    let mut csv = String::from(if several { "preset," } else { "" });
    csv.push_str(if one {
        "pulse,w\n"
    } else {
        "pulse,mean,std,p05,p50,p95\n"
    });
    let mut curves = Vec::new();
    for (path, hw) in presets {
        let response = crossbar::pulse_response(&hw.device, &opts.pulses, opts.devices, opts.seed)
            .map_err(|e| hw_error(path, e))?;
        let name = preset(path);
        let (mut x, mut mean, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
        for p in 0..response.len() {
            if several {
                csv.push_str(&format!("{name},"));
            }
            x.push(p as f64);
            if one {
                let w = response.at(p)[0];
                csv.push_str(&format!("{p},{w}\n"));
                mean.push(f64::from(w));
            } else {
                let s = response.stats(p);
                csv.push_str(&format!(
                    "{p},{},{},{},{},{}\n",
                    s.mean, s.std, s.p05, s.p50, s.p95
                ));
                mean.push(s.mean);
                lo.push(s.mean - s.std);
                hi.push(s.mean + s.std);
            }
        }
        let curve = Curve::new(describe(path, &hw.device), x, mean);
        curves.push(if one { curve } else { curve.with_band(lo, hi) });
    }
    write_atomic(&out.join("response.csv"), csv.as_bytes())?;
    let stem = out.join("response");
    let programme: Vec<String> = opts
        .pulses
        .iter()
        .map(|p| format!("{p:+}").replace('-', "−"))
        .collect();
    let caption = if one {
        "one device per preset; Δw: mean step per pulse (dw_min)".to_owned()
    } else {
        format!(
            "mean ± std over {} devices per preset; Δw: mean step per pulse (dw_min)",
            opts.devices
        )
    };
    let title = if several {
        format!("device response to pulses {}", programme.join(", "))
    } else {
        format!(
            "{}: response to pulses {}",
            preset(&presets[0].0),
            programme.join(", ")
        )
    };
    figure(
        &stem,
        &title,
        &caption,
        &[Panel {
            title: String::new(),
            x_label: "pulses applied".into(),
            y_label: "device weight w (normalised)".into(),
            curves,
            ..Panel::default()
        }],
        fig,
    )?;
    Ok(stem)
}

fn drift(
    presets: &[(PathBuf, Hardware)],
    (times, targets): (&[f64], &[f64]),
    opts: &DeviceOptions,
    out: &Path,
    several: bool,
    fig: &plot::Options,
) -> Result<PathBuf> {
    let mut csv = String::from(if several { "preset," } else { "" });
    csv.push_str("t,target,mean,std\n");
    let mut curves = Vec::new();
    for (path, hw) in presets {
        let Some(model) = hw.drift.as_ref() else {
            if several {
                continue;
            }
            return Err(LabError::Invalid {
                path: path.to_owned(),
                position: None,
                field: "drift".into(),
                message:
                    "is not set; a drift curve needs a drift model, e.g. drift: Some(PcmLike(()))"
                        .into(),
            });
        };
        let crossbar::spec::Drift::PcmLike(pcm) = model;
        let points = crossbar::drift_response(model, times, targets, opts.devices, opts.seed)
            .map_err(|e| hw_error(path, e))?;
        let name = preset(path);
        for p in &points {
            if several {
                csv.push_str(&format!("{name},"));
            }
            csv.push_str(&format!("{},{},{},{}\n", p.t, p.target, p.mean, p.std));
        }
        // The model states g_max in µS, so the figure shows conductances, not fractions.
        let g = pcm.g_max;
        for &target in targets {
            let mine: Vec<_> = points.iter().filter(|p| p.target == target).collect();
            let x = mine.iter().map(|p| p.t.max(1e-3)).collect();
            let y = mine.iter().map(|p| g * p.mean).collect();
            let lo = mine.iter().map(|p| g * (p.mean - p.std)).collect();
            let hi = mine.iter().map(|p| g * (p.mean + p.std)).collect();
            let who = if several {
                format!("{name}: ")
            } else {
                String::new()
            };
            curves.push(
                Curve::new(format!("{who}programmed to {} µS", g * target), x, y)
                    .with_error_bars(lo, hi),
            );
        }
    }
    if curves.is_empty() {
        return Err(LabError::option(
            "drift",
            "needs at least one preset with a drift model, e.g. drift: Some(PcmLike(()))",
        ));
    }
    write_atomic(&out.join("drift.csv"), csv.as_bytes())?;
    let stem = out.join("drift");
    let title = if several {
        "conductance drift after programming".to_owned()
    } else {
        format!(
            "{}: conductance drift after programming",
            preset(&presets[0].0)
        )
    };
    let zero = if times.contains(&0.0) {
        "; t = 0 is drawn at 1 ms"
    } else {
        ""
    };
    figure(
        &stem,
        &title,
        &format!("mean ± std over {} devices per target{zero}", opts.devices),
        &[Panel {
            title: String::new(),
            x_label: "time since programming (s)".into(),
            y_label: "conductance (µS)".into(),
            curves,
            log_x: true,
            ..Panel::default()
        }],
        fig,
    )?;
    Ok(stem)
}
