//! `dyadsim device`: pulse-response and drift curves of a hardware description's devices.

use crate::error::{LabError, Result};
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
            LabError::Usage(format!(
                "--pulses must be signed counts like +200,-400,+200 (got {text:?})"
            ))
        })?;
    if programme.iter().all(|&p| p == 0) {
        return Err(LabError::Usage(
            "--pulses must apply at least one pulse".into(),
        ));
    }
    Ok(programme)
}

/// Parse a comma-separated list of non-negative numbers (drift times or targets).
pub fn parse_list(flag: &str, text: &str) -> Result<Vec<f64>> {
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
            LabError::Usage(format!(
                "{flag} must be a comma-separated list of numbers ≥ 0 (got {text:?})"
            ))
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

/// Write response.csv/.png/.svg (and drift.csv/.png/.svg) for the hardware file `path` into `out`.
pub fn characterise(
    path: &Path,
    hw: &Hardware,
    opts: &DeviceOptions,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    if opts.devices == 0 {
        return Err(LabError::Usage("--devices must be at least 1".into()));
    }
    std::fs::create_dir_all(out).map_err(|source| LabError::Io {
        path: out.to_owned(),
        source,
    })?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("device")
        .to_owned();
    let mut written = Vec::new();
    if !matches!(hw.device, crossbar::spec::Device::Ideal) {
        let response = crossbar::pulse_response(&hw.device, &opts.pulses, opts.devices, opts.seed)
            .map_err(|e| hw_error(path, e))?;
        let mut csv = String::new();
        let (mut x, mut mean, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
        if opts.devices == 1 {
            csv.push_str("pulse,w\n");
        } else {
            csv.push_str("pulse,mean,std,p05,p50,p95\n");
        }
        for p in 0..response.len() {
            if opts.devices == 1 {
                let w = response.at(p)[0];
                csv.push_str(&format!("{p},{w}\n"));
                x.push(p as f64);
                mean.push(w as f64);
            } else {
                let s = response.stats(p);
                csv.push_str(&format!(
                    "{p},{},{},{},{},{}\n",
                    s.mean, s.std, s.p05, s.p50, s.p95
                ));
                x.push(p as f64);
                mean.push(s.mean);
                lo.push(s.p05);
                hi.push(s.p95);
            }
        }
        write_atomic(&out.join("response.csv"), csv.as_bytes())?;
        let curve = if opts.devices == 1 {
            Curve::new("w", x, mean)
        } else {
            Curve::new(
                format!("mean of {} devices (band: 5–95 %)", opts.devices),
                x,
                mean,
            )
            .with_band(lo, hi)
        };
        let stem = out.join("response");
        let programme: Vec<String> = opts.pulses.iter().map(|p| format!("{p:+}")).collect();
        figure(
            &stem,
            &format!("{name}: response to pulses {}", programme.join(", ")),
            &[Panel {
                title: hw.device.name().into(),
                x_label: "pulse".into(),
                y_label: "device weight w".into(),
                curves: vec![curve],
                ..Panel::default()
            }],
        )?;
        written.push(stem);
    }
    if let Some((times, targets)) = &opts.drift {
        let drift = hw.drift.as_ref().ok_or_else(|| LabError::Invalid {
            path: path.to_owned(),
            position: None,
            field: "drift".into(),
            message: "is not set; --drift needs a drift model, e.g. drift: Some(PcmLike(()))"
                .into(),
        })?;
        let points = crossbar::drift_response(drift, times, targets, opts.devices, opts.seed)
            .map_err(|e| hw_error(path, e))?;
        let mut csv = String::from("t,target,mean,std\n");
        for p in &points {
            csv.push_str(&format!("{},{},{},{}\n", p.t, p.target, p.mean, p.std));
        }
        write_atomic(&out.join("drift.csv"), csv.as_bytes())?;
        let curves = targets
            .iter()
            .map(|&target| {
                let mine: Vec<_> = points.iter().filter(|p| p.target == target).collect();
                let x = mine.iter().map(|p| p.t.max(1e-3)).collect();
                let y = mine.iter().map(|p| p.mean).collect();
                let lo = mine.iter().map(|p| p.mean - p.std).collect();
                let hi = mine.iter().map(|p| p.mean + p.std).collect();
                Curve::new(format!("target {target}"), x, y).with_error_bars(lo, hi)
            })
            .collect();
        let stem = out.join("drift");
        figure(
            &stem,
            &format!(
                "{name}: conductance drift ({} devices, mean ± std)",
                opts.devices
            ),
            &[Panel {
                title: "programmed and drifted conductance".into(),
                x_label: "time since programming (s)".into(),
                y_label: "conductance / g_max".into(),
                curves,
                log_x: true,
                ..Panel::default()
            }],
        )?;
        written.push(stem);
    }
    if written.is_empty() {
        return Err(LabError::Usage(format!(
            "{}: the device is Ideal (it takes no pulses) and no --drift was asked for",
            path.display()
        )));
    }
    Ok(written)
}
