//! Results on disk: one record per finished run, and the tables and summary rebuilt from them.
//!
//! Every file is written to a temporary name and renamed, so a run killed at any moment leaves
//! either the old or the new version of each file, never half of one. Records are checked when
//! they are read back ([`load_records_of`]): a record that does not belong to the experiment is an
//! error naming the file, never silently used.

use crate::aggregate::{self, PointSummary, Stat};
use crate::error::{LabError, Result};
use crate::job::{Divergence, EpochMetrics, RetentionPoint};
use crate::spec::Experiment;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The layout version of run records written by this dyadsim.
///
/// Records written before the field existed have the same layout and read as version 1.
pub const SCHEMA: u32 = 1;

fn legacy_schema() -> u32 {
    1
}

/// Everything known about one finished run (one point of the grid and one replicate seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Layout version of the record ([`SCHEMA`]; absent in records of older versions, read as 1).
    #[serde(default = "legacy_schema")]
    pub schema: u32,
    /// Index of the grid point.
    pub point: usize,
    /// Replicate seed.
    pub seed: u64,
    /// The swept parameters of this point, by field path.
    pub params: BTreeMap<String, Value>,
    /// Metrics from epoch 0 on.
    pub epochs: Vec<EpochMetrics>,
    /// Where training diverged, if it did.
    pub divergence: Option<Divergence>,
    /// Test metrics after drift, when the experiment asks for retention.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retention: Vec<RetentionPoint>,
}

impl RunRecord {
    /// The metrics after the last completed epoch.
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }
}

/// A temporary name beside `path`, unique to this process and this write:
/// `.<file name>.<pid>-<counter>.tmp`, so that concurrent writers never share one and
/// [`is_temporary`] recognises leftovers of a killed process.
pub fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// True for the names of temporary files dyadsim writes: `.<name>.<pid>-<counter>.tmp`, or the
/// figures' `.<name>.<pid>-<counter>.tmp.png` / `.tmp.svg` (their encoder picks the format by
/// extension).
pub fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    let rest = rest
        .strip_suffix(".png")
        .or_else(|| rest.strip_suffix(".svg"))
        .unwrap_or(rest);
    let Some((_, tag)) = rest.strip_suffix(".tmp").and_then(|r| r.rsplit_once('.')) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    tag.split_once('-')
        .is_some_and(|(pid, n)| digits(pid) && digits(n))
}

/// Write `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| LabError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = temporary_path(path);
    if let Err(e) = std::fs::write(&tmp, bytes) {
        // A failed write leaves nothing behind; the error is the write's, not the clean-up's.
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// The folder of run records inside a results folder.
pub fn records_dir(out: &Path) -> PathBuf {
    out.join("runs")
}

/// The file name of the record of run (point, seed): `point{P:05}-seed{S}.json`.
pub fn record_name(point: usize, seed: u64) -> String {
    format!("point{point:05}-seed{seed}.json")
}

/// The (point, seed) a file name claims, when it follows the record naming scheme
/// `point<digits>-seed<digits>.json` (zero padding is checked separately).
pub fn parse_record_name(name: &str) -> Option<(usize, u64)> {
    let (point, seed) = name
        .strip_prefix("point")?
        .strip_suffix(".json")?
        .split_once("-seed")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(point) && digits(seed)) {
        return None;
    }
    Some((point.parse().ok()?, seed.parse().ok()?))
}

fn record_path(out: &Path, point: usize, seed: u64) -> PathBuf {
    records_dir(out).join(record_name(point, seed))
}

/// Store a finished run.
pub fn save_record(out: &Path, record: &RunRecord) -> Result<()> {
    let path = record_path(out, record.point, record.seed);
    let json = serde_json::to_vec_pretty(record).map_err(|e| LabError::Encode {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, &json)
}

/// The `wall_time_s` a results folder's summary.json reports, if it has one.
pub fn recorded_wall_time(out: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(out.join("summary.json")).ok()?;
    serde_json::from_str::<Value>(&text).ok()?["wall_time_s"].as_f64()
}

/// Every run record in `out`, ordered by (point, seed), each checked on its own: its layout
/// version, and that its content is the run its file name says. Files in `runs/` that do not
/// follow the record naming scheme are not records and are left alone.
pub fn load_records(out: &Path) -> Result<Vec<RunRecord>> {
    Ok(read_records(out)?.into_iter().map(|(_, r)| r).collect())
}

/// Every run record in `out`, checked as [`load_records`] does and against `exp`: the point is in
/// the grid with the parameters the grid gives it, the seed is a replicate seed of the experiment,
/// and every epoch is there unless the run diverged. In the folder of a tolerance search the grid
/// is its probes: a record's parameters are the sweep's (compare and across) values of one point
/// and a value of the searched axis within the searched range, and one point index holds one
/// probe.
pub fn load_records_of(out: &Path, exp: &Experiment) -> Result<Vec<RunRecord>> {
    let records = read_records(out)?;
    let points = exp.sweep.len();
    let epochs = exp.training.epochs + 1;
    let probes = exp.tolerance.as_ref().map(|t| {
        let (lo, hi) = t.probe_range();
        (t.axis.clone(), lo, hi)
    });
    let mut probe_params: BTreeMap<usize, &BTreeMap<String, Value>> = BTreeMap::new();
    for (path, r) in &records {
        let bad = |what: String| {
            let earlier = if probes.is_none() && out.join("tolerance.json").is_file() {
                ". The folder holds a tolerance search of an earlier dyadsim, whose experiment.ron lacks its tolerance section: run the search's command again (it trains nothing) to update the folder"
            } else {
                ""
            };
            Err(LabError::Data {
                path: path.clone(),
                message: format!(
                    "{what}; this run record does not belong to the folder's experiment: move it away or delete it, then run the same command again to redo that run{earlier}"
                ),
            })
        };
        if let Some((axis, lo, hi)) = &probes {
            let mut grid_part = r.params.clone();
            let value = grid_part.remove(axis);
            let in_grid = (0..points).any(|i| exp.sweep.params(i) == grid_part);
            let in_range = value
                .as_ref()
                .and_then(Value::as_f64)
                .is_some_and(|v| v.is_finite() && *lo <= v && v <= *hi);
            if !(in_grid && in_range) {
                return bad(format!(
                    "its parameters {} are not those of a probe of the folder's search ({axis} in [{lo}, {hi}]{})",
                    Value::from(serde_json::Map::from_iter(r.params.clone())),
                    if exp.sweep.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " at a point of the sweep over {}",
                            exp.sweep.paths().join(", ")
                        )
                    }
                ));
            }
            match probe_params.get(&r.point) {
                Some(other) if **other != r.params => {
                    return bad(format!(
                        "point {} is another probe ({}) in another record of the folder ({})",
                        r.point,
                        Value::from(serde_json::Map::from_iter(r.params.clone())),
                        Value::from(serde_json::Map::from_iter((*other).clone()))
                    ));
                }
                _ => {
                    probe_params.insert(r.point, &r.params);
                }
            }
        } else if r.point >= points {
            return bad(format!(
                "point {} is outside the grid of {points} points",
                r.point
            ));
        }
        if !exp.seeds.contains(&r.seed) {
            return bad(format!(
                "seed {} is not one of the experiment's seeds {:?}",
                r.seed, exp.seeds
            ));
        }
        let params = exp.sweep.params(r.point);
        if probes.is_none() && r.params != params {
            return bad(format!(
                "its parameters {} are not those of point {} ({})",
                Value::from(serde_json::Map::from_iter(r.params.clone())),
                r.point,
                Value::from(serde_json::Map::from_iter(params))
            ));
        }
        let complete = r.epochs.len() == epochs;
        if r.divergence.is_none() && !complete || r.epochs.len() > epochs {
            return bad(format!(
                "it holds {} epoch(s) of metrics where the experiment has {epochs} (epochs 0 to {}) and the run did not diverge",
                r.epochs.len(),
                epochs - 1
            ));
        }
    }
    Ok(records.into_iter().map(|(_, r)| r).collect())
}

fn read_records(out: &Path) -> Result<Vec<(PathBuf, RunRecord)>> {
    let dir = records_dir(out);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::folder::not_a_records_folder(&dir, &e)),
    };
    let mut records = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| LabError::Io {
                path: dir.clone(),
                source,
            })?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some((point, seed)) = parse_record_name(name) else {
            continue;
        };
        let record = read_record(&path, name, point, seed)?;
        records.push((path, record));
    }
    records.sort_by_key(|(_, r)| (r.point, r.seed));
    Ok(records)
}

/// The largest run record dyadsim reads: 256 MiB, thousands of times a record of 10 000 epochs
/// with every metric.
const RECORD_LIMIT: u64 = 256 << 20;

/// Read one record file and check it against its name and the layout version.
fn read_record(path: &Path, name: &str, point: usize, seed: u64) -> Result<RunRecord> {
    let bad = |what: String| LabError::Data {
        path: path.to_owned(),
        message: format!("{what}; delete it and run the same command again to redo that run"),
    };
    if name != record_name(point, seed) {
        return Err(bad(format!(
            "not named as dyadsim names run records (expected {})",
            record_name(point, seed)
        )));
    }
    let bytes = crate::files::read_regular(
        path,
        "run record",
        RECORD_LIMIT,
        "delete it and run the same command again to redo that run",
    )?
    .ok_or_else(|| LabError::Io {
        path: path.to_owned(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| bad("not a readable run record (not UTF-8 text)".into()))?;
    let record = parse_record(&text, path)?;
    if (record.point, record.seed) != (point, seed) {
        return Err(bad(format!(
            "holds the run of point {} seed {}, but its name says point {point} seed {seed}",
            record.point, record.seed
        )));
    }
    Ok(record)
}

/// Parse the text of a run record file and check its layout version; `path` names it in errors.
pub fn parse_record(text: &str, path: &Path) -> Result<RunRecord> {
    let record: RunRecord = serde_json::from_str(text).map_err(|e| LabError::Data {
        path: path.to_owned(),
        message: format!(
            "not a readable run record ({e}); delete it and run the same command again to redo that run"
        ),
    })?;
    if record.schema != SCHEMA {
        return Err(LabError::Data {
            path: path.to_owned(),
            message: format!(
                "run record layout version {} is not the version {SCHEMA} this dyadsim reads; use the dyadsim that wrote it, or delete the record to redo that run",
                record.schema
            ),
        });
    }
    Ok(record)
}

/// The columns of metrics.csv before the sweep axes.
pub const METRIC_COLUMNS: [&str; 8] = [
    "point",
    "seed",
    "epoch",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "diverged",
];

/// Why a run diverged (`non-finite`, `blow-up`), or nothing when it trained to the end.
fn divergence_name(r: &RunRecord) -> &'static str {
    r.divergence.as_ref().map_or("", |d| d.kind.name())
}

/// A float in its shortest round-trip form, in exponent notation for very large and very small
/// magnitudes (`0.25`, `1`, `1e60`, `3.5e-7`, `NaN`, `inf`), so no cell grows to dozens of digits.
pub fn number(v: f64) -> String {
    let magnitude = v.abs();
    if v.is_finite() && magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// metrics.csv: one row per point, seed and epoch; the base columns (`diverged` is empty, or on
/// every row of a diverged run why it diverged), the further metrics, then one column per sweep axis.
pub fn metrics_csv(records: &[RunRecord], axes: &[String]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let extras: BTreeSet<&str> = records
        .iter()
        .flat_map(|r| r.epochs.iter())
        .flat_map(|m| m.extra.keys().map(String::as_str))
        .collect();
    let header: Vec<&str> = METRIC_COLUMNS
        .iter()
        .copied()
        .chain(extras.iter().copied())
        .chain(axes.iter().map(String::as_str))
        .collect();
    let encode = |e: csv::Error| LabError::Encode {
        path: "metrics.csv".into(),
        message: e.to_string(),
    };
    w.write_record(&header).map_err(encode)?;
    for r in records {
        for m in &r.epochs {
            let mut row = vec![
                r.point.to_string(),
                r.seed.to_string(),
                m.epoch.to_string(),
                number(m.train_loss),
                number(m.train_acc),
                number(m.test_loss),
                number(m.test_acc),
                divergence_name(r).to_owned(),
            ];
            row.extend(
                extras
                    .iter()
                    .map(|k| m.extra.get(*k).copied().map(number).unwrap_or_default()),
            );
            row.extend(
                axes.iter()
                    .map(|a| r.params.get(a).map(cell).unwrap_or_default()),
            );
            w.write_record(&row).map_err(encode)?;
        }
    }
    w.into_inner().map_err(|e| LabError::Encode {
        path: "metrics.csv".into(),
        message: e.to_string(),
    })
}

/// A float as a JSON number, a non-finite one as `"NaN"`, `"inf"` or `"-inf"` (JSON has no
/// spelling of its own for them; see [`crate::floats`]).
fn json_number(v: f64) -> Value {
    crate::floats::to_json(v)
}

/// `n`, `mean` and `std` of a statistic over seeds: `mean` is null when no seed contributed (a
/// point whose seeds all diverged), `std` when fewer than two did.
fn stat_json(s: &Stat) -> Value {
    serde_json::json!({
        "n": s.n,
        "mean": if s.n == 0 { Value::Null } else { json_number(s.mean) },
        "std": s.std.map_or(Value::Null, json_number),
    })
}

/// summary.json: `points` holds one entry per run (its point, seed, parameters, every final metric,
/// with the `Cost` metric `cost`: the totals over all epochs and `area_mm2`, and divergence: `diverged` is false, `"non-finite"` or `"blow-up"`, and a diverged run also has
/// `divergence` with epoch, batch and reason; a run with a validation split also has
/// `best_validation`: the epoch of highest validation accuracy with its `val_acc` and `test_acc`);
/// `aggregates` one entry per sweep point (mean and standard deviation of every final metric over
/// the seeds that did not diverge, and `best_validation_test_acc` with validation); beside them the
/// dyadsim version and `wall_time_s`, the seconds spent by the command(s) that produced the runs
/// (null if unknown).
pub fn summary_json(records: &[RunRecord], wall_time_s: Option<f64>) -> Value {
    let names = aggregate::metric_names(records);
    let points: Vec<Value> = records
        .iter()
        .map(|r| {
            let last = r.last();
            let finals: serde_json::Map<String, Value> = names
                .iter()
                .map(|name| {
                    let v = last.and_then(|m| aggregate::epoch_metric(m, name));
                    (name.clone(), v.map_or(Value::Null, json_number))
                })
                .collect();
            let mut obj = serde_json::json!({
                "point": r.point,
                "seed": r.seed,
                "params": r.params,
                "final": finals,
                "diverged": false,
            });
            // With the Cost metric: the totals over every epoch, what reaching the final
            // accuracy took, and the area.
            if let Some(totals) = crate::cost::totals(&r.epochs) {
                let cost: serde_json::Map<String, Value> = totals
                    .into_iter()
                    .map(|(k, v)| (k, json_number(v)))
                    .collect();
                obj["cost"] = Value::Object(cost);
            }
            // `diverged` is false, or why the run diverged: "non-finite" or "blow-up".
            if let Some(d) = &r.divergence {
                obj["diverged"] = d.kind.name().into();
                obj["divergence"] = serde_json::json!({
                    "epoch": d.epoch, "batch": d.batch, "reason": d.reason,
                });
            }
            if let Some(best) = crate::validation::best_epoch(&r.epochs) {
                obj["best_validation"] = best_json(&best);
            }
            obj
        })
        .collect();
    let aggregates: Vec<Value> = aggregate::by_point(records)
        .iter()
        .map(|p| {
            let mut obj = point_json(p);
            if let Some(best) = best_validation_stat(records, p.point) {
                obj["best_validation_test_acc"] = best;
            }
            obj
        })
        .collect();
    serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "wall_time_s": wall_time_s.map_or(Value::Null, json_number),
        "points": points,
        "aggregates": aggregates,
    })
}

/// A run's best-validation epoch: `{"epoch", "val_acc", "test_acc"}`.
fn best_json(best: &crate::validation::BestEpoch) -> Value {
    serde_json::json!({
        "epoch": best.epoch,
        "val_acc": json_number(best.val_acc),
        "test_acc": json_number(best.test_acc),
    })
}

/// Mean and spread over the seeds of `point` that did not diverge of the test accuracy at their
/// best-validation epoch; `None` when no run of the point has validation.
fn best_validation_stat(records: &[RunRecord], point: usize) -> Option<Value> {
    let values: Vec<f64> = records
        .iter()
        .filter(|r| r.point == point && r.divergence.is_none())
        .filter_map(|r| crate::validation::best_epoch(&r.epochs))
        .map(|b| b.test_acc)
        .collect();
    (!values.is_empty()).then(|| stat_json(&Stat::of(&values)))
}

fn point_json(p: &PointSummary) -> Value {
    let metrics: serde_json::Map<String, Value> = p
        .metrics
        .iter()
        .map(|(k, s)| (k.clone(), stat_json(s)))
        .collect();
    serde_json::json!({
        "point": p.point,
        "params": p.params,
        "seeds": p.seeds,
        "diverged": p.diverged,
        "metrics": metrics,
    })
}

/// points.csv: one row per sweep point: `point`, one column per sweep axis, `seeds`, `diverged`,
/// then `<metric>_mean` and `<metric>_std` for every final metric (empty where undefined).
pub fn points_csv(records: &[RunRecord], axes: &[String]) -> Result<Vec<u8>> {
    let encode = |e: csv::Error| LabError::Encode {
        path: "points.csv".into(),
        message: e.to_string(),
    };
    let names = aggregate::metric_names(records);
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(axes.iter().cloned());
    header.extend(["seeds".into(), "diverged".into()]);
    for name in &names {
        header.push(format!("{name}_mean"));
        header.push(format!("{name}_std"));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(encode)?;
    let finite = |v: f64| {
        if v.is_finite() {
            number(v)
        } else {
            String::new()
        }
    };
    for p in aggregate::by_point(records) {
        let mut row = vec![p.point.to_string()];
        row.extend(
            axes.iter()
                .map(|a| p.params.get(a).map(cell).unwrap_or_default()),
        );
        row.extend([p.seeds.to_string(), p.diverged.to_string()]);
        for name in &names {
            let s = p.metrics[name];
            row.push(finite(s.mean));
            row.push(s.std.map(finite).unwrap_or_default());
        }
        w.write_record(&row).map_err(encode)?;
    }
    w.into_inner().map_err(|e| LabError::Encode {
        path: "points.csv".into(),
        message: e.to_string(),
    })
}

/// retention.csv: one row per point, seed and time: `point,seed,t,test_loss,test_acc` and the axes.
pub fn retention_csv(records: &[RunRecord], axes: &[String]) -> Result<Vec<u8>> {
    let encode = |e: csv::Error| LabError::Encode {
        path: "retention.csv".into(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = ["point", "seed", "t", "test_loss", "test_acc"]
        .into_iter()
        .chain(axes.iter().map(String::as_str))
        .collect();
    w.write_record(&header).map_err(encode)?;
    for r in records {
        for p in &r.retention {
            let mut row = vec![
                r.point.to_string(),
                r.seed.to_string(),
                number(p.t),
                number(p.test_loss),
                number(p.test_acc),
            ];
            row.extend(
                axes.iter()
                    .map(|a| r.params.get(a).map(cell).unwrap_or_default()),
            );
            w.write_record(&row).map_err(encode)?;
        }
    }
    w.into_inner().map_err(|e| LabError::Encode {
        path: "retention.csv".into(),
        message: e.to_string(),
    })
}

/// The tables dyadsim rebuilds from the records; `--fresh` removes them with the records.
pub const TABLES: [&str; 4] = ["metrics.csv", "points.csv", "summary.json", "retention.csv"];

/// Rewrite metrics.csv, points.csv and summary.json (and retention.csv when there is retention
/// data) in `out` from `records`; `wall_time_s` is what summary.json reports as the time spent;
/// `complete` says whether every run of the grid is among them and becomes
/// summary.json's `"complete"`.
pub fn write_tables(
    out: &Path,
    records: &[RunRecord],
    axes: &[String],
    complete: bool,
    wall_time_s: Option<f64>,
) -> Result<()> {
    if records.iter().any(|r| !r.retention.is_empty()) {
        write_atomic(&out.join("retention.csv"), &retention_csv(records, axes)?)?;
    }
    write_atomic(&out.join("metrics.csv"), &metrics_csv(records, axes)?)?;
    write_atomic(&out.join("points.csv"), &points_csv(records, axes)?)?;
    let mut summary = summary_json(records, wall_time_s);
    summary["complete"] = Value::Bool(complete);
    let summary = serde_json::to_vec_pretty(&summary).map_err(|e| LabError::Encode {
        path: out.join("summary.json"),
        message: e.to_string(),
    })?;
    write_atomic(&out.join("summary.json"), &summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_unique_per_write_and_recognised_as_temporary() {
        let path = Path::new("/results/summary.json");
        let (a, b) = (temporary_path(path), temporary_path(path));
        assert_ne!(a, b);
        assert_eq!(a.parent(), path.parent());
        for tmp in [&a, &b] {
            let name = tmp.file_name().unwrap().to_str().unwrap();
            assert!(is_temporary(name), "{name}");
            assert!(name.contains(&std::process::id().to_string()), "{name}");
        }
        assert!(is_temporary(".fig.png.12-3.tmp.png"));
        for kept in [
            "summary.json",
            ".dyadsim.lock",
            "notes.tmp",
            ".x.tmp",
            ".x.12-.tmp",
            ".x.a-3.tmp",
            "x.12-3.tmp",
        ] {
            assert!(!is_temporary(kept), "{kept}");
        }
    }

    #[test]
    fn record_names_follow_one_scheme() {
        assert_eq!(record_name(3, 12), "point00003-seed12.json");
        assert_eq!(parse_record_name("point00003-seed12.json"), Some((3, 12)));
        assert_eq!(parse_record_name("point3-seed12.json"), Some((3, 12)));
        for other in [
            "notes.json",
            "point-seed1.json",
            "point1-seed.json",
            "point1-seed1.txt",
        ] {
            assert_eq!(parse_record_name(other), None, "{other}");
        }
    }

    #[test]
    fn numbers_are_short_and_round_trip() {
        for (v, text) in [
            (0.25, "0.25"),
            (1.0, "1"),
            (31536000.0, "31536000"),
            (1e60, "1e60"),
            (-3.5e-7, "-3.5e-7"),
            (0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(number(v), text);
        }
        for v in [
            0.1 + 0.2,
            1.0 / 3.0,
            123456.789e200,
            7.25e-300,
            f64::from(0.3f32),
        ] {
            assert_eq!(number(v).parse::<f64>().unwrap(), v, "{}", number(v));
            assert!(number(v).len() <= 24, "{}", number(v));
        }
    }
}
