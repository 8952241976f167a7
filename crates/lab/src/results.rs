//! Results on disk: one record per finished run, and the tables and summary rebuilt from them.
//!
//! Every file is written to a temporary name and renamed, so a run killed at any moment leaves
//! either the old or the new version of each file, never half of one.

use crate::error::{LabError, Result};
use crate::job::{Divergence, EpochMetrics, RetentionPoint};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Everything known about one finished run (one point of the grid and one replicate seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
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

/// Write `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| LabError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The folder of run records inside a results folder.
pub fn records_dir(out: &Path) -> PathBuf {
    out.join("runs")
}

fn record_path(out: &Path, point: usize, seed: u64) -> PathBuf {
    records_dir(out).join(format!("point{point:05}-seed{seed}.json"))
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

/// Every run record in `out`, ordered by (point, seed).
pub fn load_records(out: &Path) -> Result<Vec<RunRecord>> {
    let dir = records_dir(out);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(LabError::Io { path: dir, source }),
    };
    let mut records = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| LabError::Io {
                path: dir.clone(),
                source,
            })?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| LabError::Io {
            path: path.clone(),
            source,
        })?;
        records.push(parse_record(&text, &path)?);
    }
    records.sort_by_key(|r| (r.point, r.seed));
    Ok(records)
}

/// Parse the text of a run record file; `path` names it in errors.
pub fn parse_record(text: &str, path: &Path) -> Result<RunRecord> {
    serde_json::from_str(text).map_err(|e| LabError::Data {
        path: path.to_owned(),
        message: format!("corrupt run record ({e}); delete it to re-run that point"),
    })
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
                m.train_loss.to_string(),
                m.train_acc.to_string(),
                m.test_loss.to_string(),
                m.test_acc.to_string(),
                divergence_name(r).to_owned(),
            ];
            row.extend(
                extras
                    .iter()
                    .map(|k| m.extra.get(*k).map(f64::to_string).unwrap_or_default()),
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

/// summary.json: per run its point, seed, parameters, final metrics and divergence (`diverged`:
/// false, `"non-finite"` or `"blow-up"`; a diverged run also has `divergence`: epoch, batch, reason).
pub fn summary_json(records: &[RunRecord]) -> Value {
    let points: Vec<Value> = records
        .iter()
        .map(|r| {
            let last = r.last();
            let metric = |f: fn(&EpochMetrics) -> f64| last.map(f).map_or(Value::Null, Value::from);
            let mut obj = serde_json::json!({
                "point": r.point,
                "seed": r.seed,
                "params": r.params,
                "final": {
                    "train_loss": metric(|m| m.train_loss),
                    "train_acc": metric(|m| m.train_acc),
                    "test_loss": metric(|m| m.test_loss),
                    "test_acc": metric(|m| m.test_acc),
                },
                "diverged": false,
            });
            // `diverged` is false, or why the run diverged: "non-finite" or "blow-up".
            if let Some(d) = &r.divergence {
                obj["diverged"] = d.kind.name().into();
                obj["divergence"] = serde_json::json!({
                    "epoch": d.epoch, "batch": d.batch, "reason": d.reason,
                });
            }
            obj
        })
        .collect();
    serde_json::json!({ "points": points })
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
                p.t.to_string(),
                p.test_loss.to_string(),
                p.test_acc.to_string(),
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

/// Rewrite metrics.csv and summary.json (and retention.csv when there is retention data) in `out`
/// from `records`.
pub fn write_tables(out: &Path, records: &[RunRecord], axes: &[String]) -> Result<()> {
    if records.iter().any(|r| !r.retention.is_empty()) {
        write_atomic(&out.join("retention.csv"), &retention_csv(records, axes)?)?;
    }
    write_atomic(&out.join("metrics.csv"), &metrics_csv(records, axes)?)?;
    let summary =
        serde_json::to_vec_pretty(&summary_json(records)).map_err(|e| LabError::Encode {
            path: out.join("summary.json"),
            message: e.to_string(),
        })?;
    write_atomic(&out.join("summary.json"), &summary)
}
