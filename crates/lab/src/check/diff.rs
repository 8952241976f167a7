//! What moved between a golden and a fresh run: every metric, point, seed and epoch, old and new;
//! and, for the statistical comparison, how far each final mean over seeds moved against the
//! spread of the golden's seeds.

use crate::job::EpochMetrics;
use crate::results::RunRecord;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// How many detail rows of one golden the terminal shows unless asked for all of them.
pub const DETAIL_LINES: usize = 20;

/// The run-level entries of a diff (whole runs, not a metric of an epoch): compared exactly in
/// every mode.
const EPOCHS_COMPLETED: &str = "epochs completed";
const DIVERGED: &str = "diverged";
const RUN_MISSING: &str = "run (missing from the fresh results)";
const RUN_NEW: &str = "run (new, not in the golden)";

/// One metric that moved beyond tolerance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Moved {
    /// The golden it was found in (its file stem).
    pub golden: String,
    /// metrics.csv column (or `retention t=…`, `divergence`, `run`).
    pub metric: String,
    /// Grid point.
    pub point: usize,
    /// The swept parameters of the point, by field path (empty without a sweep).
    pub params: BTreeMap<String, Value>,
    /// Replicate seed.
    pub seed: u64,
    /// Epoch (0 = before training).
    pub epoch: usize,
    /// Stored value.
    pub old: f64,
    /// Fresh value.
    pub new: f64,
}

impl Moved {
    /// |new − old| / max(|old|, |new|); 0 when both are 0, ∞ when one is not finite.
    pub fn relative(&self) -> f64 {
        relative(self.old, self.new)
    }

    /// True for what concerns a whole run (epochs completed, divergence, a run missing or new),
    /// not a metric of an epoch or a retention point.
    pub fn is_run_level(&self) -> bool {
        [EPOCHS_COMPLETED, DIVERGED, RUN_MISSING, RUN_NEW].contains(&self.metric.as_str())
    }

    /// The run in words: its point by its parameters, and its seed (`write_noise_std=2.0 seed 1`).
    pub fn run(&self) -> String {
        run_name(&self.params, self.seed)
    }
}

fn relative(old: f64, new: f64) -> f64 {
    if old == new {
        0.0
    } else if !(old.is_finite() && new.is_finite()) {
        f64::INFINITY
    } else {
        (new - old).abs() / old.abs().max(new.abs())
    }
}

/// A grid point by its swept parameters, each by the last part of its path (by the whole path
/// where two would read alike), a file by its stem: `alpha=0.5 hardware=ideal`; empty without a
/// sweep.
pub fn point_name(params: &BTreeMap<String, Value>) -> String {
    let short = crate::aggregate::short_params(params);
    let names: Vec<&str> = params
        .keys()
        .map(|p| p.rsplit('.').next().unwrap_or(p))
        .collect();
    let unique = names
        .iter()
        .enumerate()
        .all(|(i, n)| !names[..i].contains(n));
    if unique {
        return short;
    }
    params
        .iter()
        .map(|(path, value)| match value {
            Value::String(s) => format!("{path}={s}"),
            other => format!("{path}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A run by its point's parameters and its seed: `write_noise_std=2.0 seed 1`, or `seed 1`
/// without a sweep.
pub fn run_name(params: &BTreeMap<String, Value>, seed: u64) -> String {
    let point = point_name(params);
    if point.is_empty() {
        format!("seed {seed}")
    } else {
        format!("{point} seed {seed}")
    }
}

fn metrics(m: &EpochMetrics) -> Vec<(String, f64)> {
    let mut v = vec![
        ("train_loss".to_owned(), m.train_loss),
        ("train_acc".into(), m.train_acc),
        ("test_loss".into(), m.test_loss),
        ("test_acc".into(), m.test_acc),
    ];
    v.extend(m.extra.iter().map(|(k, x)| (k.clone(), *x)));
    v
}

fn metric(m: &EpochMetrics, name: &str) -> f64 {
    crate::aggregate::epoch_metric(m, name).unwrap_or(f64::NAN)
}

/// Every metric of `new` that differs from `old` by more than `rtol` (relative), labelled with
/// the golden's name.
pub fn diff(golden: &str, old: &[RunRecord], new: &[RunRecord], rtol: f64) -> Vec<Moved> {
    diff_in(golden, old, new, rtol, false)
}

/// [`diff`], of the last epoch of every run alone when `final_only` (the run-level entries and
/// the retention points, measured after training, are compared either way).
pub fn diff_in(
    golden: &str,
    old: &[RunRecord],
    new: &[RunRecord],
    rtol: f64,
    final_only: bool,
) -> Vec<Moved> {
    let mut moved = Vec::new();
    let mut push = |metric: String, r: &RunRecord, epoch: usize, o: f64, n: f64| {
        if relative(o, n) > rtol {
            moved.push(Moved {
                golden: golden.to_owned(),
                metric,
                point: r.point,
                params: r.params.clone(),
                seed: r.seed,
                epoch,
                old: o,
                new: n,
            });
        }
    };
    for o in old {
        let Some(n) = new.iter().find(|n| (n.point, n.seed) == (o.point, o.seed)) else {
            push(RUN_MISSING.into(), o, 0, 1.0, f64::NAN);
            continue;
        };
        // The records hold epoch 0 (before training) too.
        let completed = |r: &RunRecord| r.epochs.len().saturating_sub(1) as f64;
        push(EPOCHS_COMPLETED.into(), o, 0, completed(o), completed(n));
        push(
            DIVERGED.into(),
            o,
            0,
            f64::from(u8::from(o.divergence.is_some())),
            f64::from(u8::from(n.divergence.is_some())),
        );
        if final_only {
            if let Some(eo) = o.epochs.last() {
                let en = n.epochs.iter().find(|m| m.epoch == eo.epoch);
                for (name, v) in metrics(eo) {
                    let nv = en.map_or(f64::NAN, |m| metric(m, &name));
                    push(name, o, eo.epoch, v, nv);
                }
            }
        } else {
            for (eo, en) in o.epochs.iter().zip(&n.epochs) {
                for (name, v) in metrics(eo) {
                    let nv = metric(en, &name);
                    push(name, o, eo.epoch, v, nv);
                }
            }
        }
        for (po, pn) in o.retention.iter().zip(&n.retention) {
            push(
                format!("retention test_acc t={}", po.t),
                o,
                0,
                po.test_acc,
                pn.test_acc,
            );
            push(
                format!("retention test_loss t={}", po.t),
                o,
                0,
                po.test_loss,
                pn.test_loss,
            );
        }
    }
    for n in new
        .iter()
        .filter(|n| !old.iter().any(|o| (o.point, o.seed) == (n.point, n.seed)))
    {
        push(RUN_NEW.into(), n, 0, f64::NAN, 1.0);
    }
    moved
}

/// The diff in a few lines, one per metric: how many values moved, the largest change, and how it
/// compares with the spread of that metric over the golden's seeds at the same point and epoch
/// (sample standard deviation), where the golden has more than one seed.
pub fn diff_summary(moved: &[Moved], old: &[RunRecord]) -> String {
    let mut by_metric: BTreeMap<&str, Vec<&Moved>> = BTreeMap::new();
    for m in moved {
        by_metric.entry(&m.metric).or_default().push(m);
    }
    let mut s = String::new();
    for (metric, ms) in by_metric {
        let worst = ms
            .iter()
            .max_by(|a, b| (a.new - a.old).abs().total_cmp(&(b.new - b.old).abs()))
            .expect("a metric in the map moved at least once");
        let change = worst.new - worst.old;
        let spread = seed_spread(old, metric, worst.point, worst.epoch);
        let against = match spread {
            Some(sd) if sd > 0.0 && change.is_finite() => {
                format!(", {:.2} × the seed spread {sd:.3e}", change.abs() / sd)
            }
            _ => String::new(),
        };
        s.push_str(&format!(
            "{metric}: {} value(s) moved; largest change {:+.4e} ({} → {}) at {} epoch {}{against}\n",
            ms.len(),
            change,
            worst.old,
            worst.new,
            worst.run(),
            worst.epoch,
        ));
    }
    s
}

/// Sample standard deviation of `metric` over the seeds of `point` at `epoch`, for two or more.
fn seed_spread(records: &[RunRecord], metric: &str, point: usize, epoch: usize) -> Option<f64> {
    let values: Vec<f64> = records
        .iter()
        .filter(|r| r.point == point)
        .filter_map(|r| r.epochs.iter().find(|m| m.epoch == epoch))
        .filter_map(|m| metrics(m).into_iter().find(|(k, _)| k == metric))
        .map(|(_, v)| v)
        .collect();
    sample_sd(&values)
}

/// The sample standard deviation of the finite values, for two or more.
fn sample_sd(values: &[f64]) -> Option<f64> {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = values.len();
    (n > 1).then(|| {
        let mean = values.iter().sum::<f64>() / n as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    })
}

/// How a comparison's detail rows are shown in full: `--details`, or its `--json`.
pub const ALL_ROWS: &str = "--details (or in --json)";

/// Up to `limit` lines of `lines` (all of them for `None`), then one line saying how many were
/// left out and how to see them (`all`, e.g. [`ALL_ROWS`]).
fn capped(lines: &[String], limit: Option<usize>, all: &str) -> String {
    let shown = limit.map_or(lines.len(), |l| l.min(lines.len()));
    let mut s: String = lines[..shown].iter().map(|l| format!("{l}\n")).collect();
    if shown < lines.len() {
        s.push_str(&format!(
            "… and {} more; all of them with {all}\n",
            lines.len() - shown
        ));
    }
    s
}

/// The diff as a table: metric, run (the point by its parameters, and the seed), epoch, old,
/// new, relative change.
pub fn diff_table(moved: &[Moved]) -> String {
    diff_table_capped(moved, None, ALL_ROWS)
}

/// [`diff_table`] with at most `limit` rows, then a line saying how many more there are and how
/// to see them (`all`).
pub fn diff_table_capped(moved: &[Moved], limit: Option<usize>, all: &str) -> String {
    let runs: Vec<String> = moved.iter().map(Moved::run).collect();
    let mw = moved
        .iter()
        .map(|m| m.metric.chars().count())
        .chain([28])
        .max()
        .unwrap_or(28);
    let rw = runs
        .iter()
        .map(|r| r.chars().count())
        .chain([8])
        .max()
        .unwrap_or(8);
    let header = format!(
        "{:<mw$} {:<rw$} {:>5} {:>22} {:>22} {:>10}\n",
        "metric", "run", "epoch", "old", "new", "rel"
    );
    let rows: Vec<String> = moved
        .iter()
        .zip(&runs)
        .map(|(m, run)| {
            format!(
                "{:<mw$} {:<rw$} {:>5} {:>22} {:>22} {:>10.3e}",
                m.metric,
                run,
                m.epoch,
                m.old,
                m.new,
                m.relative()
            )
        })
        .collect();
    header + &capped(&rows, limit, all)
}

/// How far the mean over seeds of one metric of one point moved, against the spread of the
/// golden's seeds: the unit of the statistical comparison (`--max-sigma`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shift {
    /// The golden it was found in (its file stem).
    pub golden: String,
    /// metrics.csv column (or `retention test_acc t=…`).
    pub metric: String,
    /// Grid point.
    pub point: usize,
    /// The swept parameters of the point, by field path (empty without a sweep).
    pub params: BTreeMap<String, Value>,
    /// The epoch compared: the golden's last (0 for a retention point, measured after training).
    pub epoch: usize,
    /// Seeds the golden's mean is over.
    pub seeds: usize,
    /// The golden's mean over its seeds.
    pub old: f64,
    /// The fresh run's mean over the same seeds.
    pub new: f64,
    /// Sample standard deviation over the golden's seeds (`null`: fewer than two finite values).
    pub sigma: Option<f64>,
    /// |new − old| / sigma: 0 when the means are equal, `null` (infinite) when they differ and
    /// sigma is 0, unknown or a mean is not finite.
    pub sigmas: f64,
}

/// |new − old| / sigma; 0 for equal means (both NaN included), ∞ where the spread cannot
/// measure the change.
fn sigmas(old: f64, new: f64, sigma: Option<f64>) -> f64 {
    if old == new || (old.is_nan() && new.is_nan()) {
        return 0.0;
    }
    match sigma {
        Some(sd) if sd > 0.0 && old.is_finite() && new.is_finite() => (new - old).abs() / sd,
        _ => f64::INFINITY,
    }
}

/// The fewest seeds any point of `records` has (0 for no records).
pub fn fewest_seeds(records: &[RunRecord]) -> usize {
    let mut per_point: BTreeMap<usize, usize> = BTreeMap::new();
    for r in records {
        *per_point.entry(r.point).or_default() += 1;
    }
    per_point.values().copied().min().unwrap_or(0)
}

/// For every point of the golden `old` and every metric of its last epoch (and every retention
/// point), the mean over seeds in `old` and in `new`, and the change in units of the golden's
/// seed spread at that point and epoch.
pub fn shifts(golden: &str, old: &[RunRecord], new: &[RunRecord]) -> Vec<Shift> {
    let mut points: BTreeMap<usize, Vec<&RunRecord>> = BTreeMap::new();
    for r in old {
        points.entry(r.point).or_default().push(r);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let mut out = Vec::new();
    for (point, runs) in points {
        let fresh: Vec<Option<&RunRecord>> = runs
            .iter()
            .map(|o| new.iter().find(|n| (n.point, n.seed) == (o.point, o.seed)))
            .collect();
        let epoch = runs
            .iter()
            .filter_map(|r| r.last().map(|m| m.epoch))
            .max()
            .unwrap_or(0);
        let at = |r: Option<&RunRecord>, name: &str| {
            r.and_then(|r| r.epochs.iter().find(|m| m.epoch == epoch))
                .map_or(f64::NAN, |m| metric(m, name))
        };
        let names: Vec<String> = runs
            .iter()
            .filter_map(|r| r.epochs.iter().find(|m| m.epoch == epoch))
            .flat_map(|m| metrics(m).into_iter().map(|(k, _)| k))
            .fold(Vec::new(), |mut v, k| {
                if !v.contains(&k) {
                    v.push(k);
                }
                v
            });
        let mut push = |metric: String, epoch: usize, o: Vec<f64>, n: Vec<f64>| {
            let (old, new, sigma) = (mean(&o), mean(&n), sample_sd(&o));
            out.push(Shift {
                golden: golden.to_owned(),
                metric,
                point,
                params: runs[0].params.clone(),
                epoch,
                seeds: o.len(),
                old,
                new,
                sigma,
                sigmas: sigmas(old, new, sigma),
            });
        };
        for name in names {
            let o = runs.iter().map(|&r| at(Some(r), &name)).collect();
            let n = fresh.iter().map(|&r| at(r, &name)).collect();
            push(name, epoch, o, n);
        }
        let times: Vec<f64> = runs[0].retention.iter().map(|p| p.t).collect();
        for (i, t) in times.into_iter().enumerate() {
            let get = |r: Option<&RunRecord>, acc: bool| {
                r.and_then(|r| r.retention.get(i))
                    .map_or(f64::NAN, |p| if acc { p.test_acc } else { p.test_loss })
            };
            for (what, acc) in [("test_acc", true), ("test_loss", false)] {
                let o = runs.iter().map(|&r| get(Some(r), acc)).collect();
                let n = fresh.iter().map(|&r| get(r, acc)).collect();
                push(format!("retention {what} t={t}"), 0, o, n);
            }
        }
    }
    out
}

/// The statistical comparison in a few lines, one per metric whose mean moved: the largest
/// shift against the seed spread, where, and how many points moved by more than `k` spreads.
pub fn shift_summary(shifts: &[Shift], k: f64) -> String {
    let mut by_metric: BTreeMap<&str, Vec<&Shift>> = BTreeMap::new();
    for s in shifts.iter().filter(|s| s.sigmas > 0.0) {
        by_metric.entry(&s.metric).or_default().push(s);
    }
    let mut out = String::new();
    for (metric, ss) in by_metric {
        let worst = ss
            .iter()
            .max_by(|a, b| a.sigmas.total_cmp(&b.sigmas))
            .expect("a metric in the map has a shift");
        let beyond = ss.iter().filter(|s| s.sigmas > k).count();
        let at = point_name(&worst.params);
        let at = if at.is_empty() {
            String::new()
        } else {
            format!(" at {at}")
        };
        let spread = match worst.sigma {
            Some(sd) => format!("{:.2} × the seed spread {sd:.3e}", worst.sigmas),
            None => "no seed spread to measure it by".into(),
        };
        out.push_str(&format!(
            "{metric}: mean over {} seeds {} → {} ({:+.4e}){at} epoch {}, {spread}; {beyond} of {} point(s) beyond {k}\n",
            worst.seeds,
            worst.old,
            worst.new,
            worst.new - worst.old,
            worst.epoch,
            ss.len(),
        ));
    }
    out
}

/// The shifts as a table: metric, point (by its parameters), epoch, old and new mean, seed
/// spread, shift in spreads; at most `limit` rows (all for `None`).
pub fn shift_table(shifts: &[Shift], limit: Option<usize>) -> String {
    let names: Vec<String> = shifts
        .iter()
        .map(|s| {
            let p = point_name(&s.params);
            if p.is_empty() { "(no sweep)".into() } else { p }
        })
        .collect();
    let mw = shifts
        .iter()
        .map(|s| s.metric.chars().count())
        .chain([28])
        .max()
        .unwrap_or(28);
    let pw = names
        .iter()
        .map(|r| r.chars().count())
        .chain([10])
        .max()
        .unwrap_or(10);
    let header = format!(
        "{:<mw$} {:<pw$} {:>5} {:>22} {:>22} {:>10} {:>8}\n",
        "metric", "point", "epoch", "old mean", "new mean", "spread", "shift/σ"
    );
    let rows: Vec<String> = shifts
        .iter()
        .zip(&names)
        .map(|(s, name)| {
            format!(
                "{:<mw$} {:<pw$} {:>5} {:>22} {:>22} {:>10} {:>8.3}",
                s.metric,
                name,
                s.epoch,
                s.old,
                s.new,
                s.sigma.map_or("-".into(), |sd| format!("{sd:.3e}")),
                s.sigmas
            )
        })
        .collect();
    header + &capped(&rows, limit, ALL_ROWS)
}
