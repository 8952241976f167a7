//! `dyadsim check`: the fidelity suite — gradient limits, device closed forms and moments, settling
//! dynamics, and golden regressions of seeded runs (the project's and users' own).
//!
//! Every check is a measured number, a tolerance and the direction of the comparison, so a report
//! can be printed as a table or as JSON and every failure says by how much it failed.
//! docs/FIDELITY.md says what each check proves and why its tolerance is what it is.

pub mod bits;
pub mod closed_form;
pub mod conv_gradient;
pub mod devices;
pub mod diff;
pub mod dynamics;
pub mod golden;
pub mod gradient;

use crate::error::{LabError, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How a measured value is compared with its tolerance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Criterion {
    /// Passes when value ≤ tolerance (an error, a deviation).
    #[serde(rename = "<=")]
    AtMost,
    /// Passes when value ≥ tolerance (a cosine, a residual that must stay large).
    #[serde(rename = ">=")]
    AtLeast,
}

/// One fidelity check: what was measured, against what, and whether it passed.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// `gradient`, `devices`, `dynamics` or `golden`.
    pub suite: &'static str,
    /// What was checked, naming the device file, the algorithm or the experiment.
    pub name: String,
    /// The measured value (always finite).
    pub value: f64,
    /// The bound the value is compared with.
    pub tolerance: f64,
    /// The direction of the comparison.
    pub criterion: Criterion,
    /// Whether the value is within its tolerance.
    pub pass: bool,
    /// Context: the expected value, residual traces, the diff of a golden.
    pub detail: String,
}

impl Check {
    /// A check of `value` against `tolerance`; a non-finite value is recorded as f64::MAX and fails
    /// an upper bound (it is never silently a pass).
    pub fn new(
        suite: &'static str,
        name: impl Into<String>,
        value: f64,
        criterion: Criterion,
        tolerance: f64,
        detail: impl Into<String>,
    ) -> Self {
        let finite = value.is_finite();
        let value = if finite { value } else { f64::MAX };
        let pass = finite
            && match criterion {
                Criterion::AtMost => value <= tolerance,
                Criterion::AtLeast => value >= tolerance,
            };
        Self {
            suite,
            name: name.into(),
            value,
            tolerance,
            criterion,
            pass,
            detail: detail.into(),
        }
    }

    /// A yes/no check recorded as value 1 (true) or 0 against the tolerance 1.
    pub fn flag(
        suite: &'static str,
        name: impl Into<String>,
        ok: bool,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(
            suite,
            name,
            f64::from(u8::from(ok)),
            Criterion::AtLeast,
            1.0,
            detail,
        )
    }
}

/// The checks run and the notes on what was left out.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Every check, in the order run.
    pub checks: Vec<Check>,
    /// What was skipped and why (e.g. an experiment too long for the golden suite).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Every value of a golden comparison that moved beyond tolerance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<diff::Moved>,
    /// In the statistical mode, every mean over seeds that moved, with its seed spread.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shifts: Vec<diff::Shift>,
}

impl Report {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.pass)
    }

    /// The report as the table `dyadsim check` prints: suite, check, value, tolerance, PASS/FAIL.
    pub fn table(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut s = format!(
            "{:<9} {:<width$} {:>12}   {:<13} result\n",
            "suite", "check", "value", "tolerance"
        );
        for c in &self.checks {
            let op = match c.criterion {
                Criterion::AtMost => "≤",
                Criterion::AtLeast => "≥",
            };
            s.push_str(&format!(
                "{:<9} {:<width$} {:>12.4e}   {op} {:<11.3e} {}\n",
                c.suite,
                c.name,
                c.value,
                c.tolerance,
                if c.pass { "PASS" } else { "FAIL" }
            ));
            if !c.pass || c.detail.contains('\n') {
                for line in c.detail.lines() {
                    s.push_str(&format!("          {line}\n"));
                }
            }
        }
        for n in &self.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        let failed = self.checks.iter().filter(|c| !c.pass).count();
        s.push_str(&format!(
            "{} checks, {} failed\n",
            self.checks.len(),
            failed
        ));
        s
    }
}

/// Which part of the suite to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// DP / DP⊤ gradients against backprop as β → 0, and the leak's scaling.
    Gradient,
    /// Device traces against closed forms and per-pulse moments against formulas.
    Devices,
    /// Circuit mode against schedules; the stability of DP, DP⊤ and damped DP.
    Dynamics,
    /// Seeded short runs against stored results.
    Golden,
    /// Digests of the exact bits of products, forward passes and training steps.
    Bits,
    /// All of the above.
    All,
}

impl Suite {
    fn includes(self, other: Suite) -> bool {
        self == Suite::All || self == other
    }
}

/// What `dyadsim check` was asked to do.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The part of the suite.
    pub suite: Suite,
    /// A hardware file: its devices for `devices`, its noisy reads for `gradient`.
    pub hardware: Option<PathBuf>,
    /// Users' goldens: compare the pinned runs in this folder instead of the project's.
    pub golden: Option<PathBuf>,
    /// Relative tolerance of golden comparisons.
    pub rtol: f64,
    /// Compare goldens statistically: a metric fails when its final mean over seeds moves by
    /// more than this many seed spreads (see [`golden::Comparison`]).
    pub max_sigma: Option<f64>,
    /// Compare the last epoch of every golden run alone.
    pub final_only: bool,
    /// Every detail row of a golden comparison, not only the first 20.
    pub details: bool,
    /// Re-run the experiment stored in a user's golden whose source files are missing.
    pub allow_missing_source: bool,
    /// Rewrite goldens whose metrics moved (after showing the diff).
    pub update: bool,
    /// The project root (holding device-models/, experiments/ and tests/golden/), when found.
    pub root: Option<PathBuf>,
}

/// The `.ron` files of `dir`, in name order.
pub fn ron_files(dir: &Path) -> Result<Vec<PathBuf>> {
    files_with_extension(dir, "ron")
}

/// The files of `dir` whose extension is `ext`, in name order.
pub fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| LabError::Io {
            path: dir.to_owned(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect();
    files.sort();
    Ok(files)
}

/// The nearest ancestor of `start` that holds device-models/ and experiments/: the source tree.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("device-models").is_dir() && d.join("experiments").is_dir())
        .map(Path::to_owned)
}

/// Run the suites `opts` asks for.
pub fn run(opts: &CheckOptions) -> Result<Report> {
    let how = golden::Comparison {
        rtol: opts.rtol,
        max_sigma: opts.max_sigma,
        final_only: opts.final_only,
        details: opts.details,
        allow_missing_source: opts.allow_missing_source,
    };
    how.validate()?;
    if opts.suite.includes(Suite::Golden) {
        golden::preflight(opts.golden.as_deref(), opts.root.as_deref(), &how)?;
    }
    let mut report = Report::default();
    let hardware = opts
        .hardware
        .as_ref()
        .map(|p| crate::hardware::load_file(p).map(|h| (p.clone(), h)))
        .transpose()?;
    if opts.suite.includes(Suite::Gradient) {
        report.checks.extend(gradient::run(hardware.as_ref())?);
        report.checks.extend(conv_gradient::run()?);
    }
    if opts.suite.includes(Suite::Devices) {
        let files = match (&hardware, &opts.root) {
            (Some(h), _) => vec![h.clone()],
            (None, Some(root)) => devices::preset_files(root)?,
            (None, None) => devices::builtin_presets()?,
        };
        for (path, hw) in &files {
            report.checks.extend(devices::run(path, &hw.device)?);
        }
        if files.iter().all(|(_, h)| h.device.common().is_none()) {
            report.notes.push(
                "no pulsed device in the hardware given: nothing for the devices suite".into(),
            );
        }
    }
    if opts.suite.includes(Suite::Dynamics) {
        report.checks.extend(dynamics::run()?);
    }
    if opts.suite.includes(Suite::Bits) && opts.golden.is_none() {
        report.checks.extend(bits::run()?);
    }
    if opts.suite.includes(Suite::Golden) {
        let outcome = match &opts.golden {
            Some(dir) => golden::compare_dir(dir, &how, opts.update)?,
            None => golden::project(opts.root.as_deref(), &how, opts.update)?,
        };
        report.checks.extend(outcome.checks);
        report.notes.extend(outcome.notes);
        report.moved.extend(outcome.moved);
        report.shifts.extend(outcome.shifts);
    }
    Ok(report)
}
