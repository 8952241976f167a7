//! What moved between a golden and a fresh run: every metric, point, seed and epoch, old and new.

use crate::job::EpochMetrics;
use crate::results::RunRecord;
use serde::Serialize;
use std::collections::BTreeMap;

/// One metric that moved beyond tolerance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Moved {
    /// The golden it was found in (its file stem).
    pub golden: String,
    /// metrics.csv column (or `retention t=…`, `divergence`, `run`).
    pub metric: String,
    /// Grid point.
    pub point: usize,
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

/// Every metric of `new` that differs from `old` by more than `rtol` (relative), labelled with
/// the golden's name.
pub fn diff(golden: &str, old: &[RunRecord], new: &[RunRecord], rtol: f64) -> Vec<Moved> {
    let mut moved = Vec::new();
    let mut push = |metric: String, r: &RunRecord, epoch: usize, o: f64, n: f64| {
        if relative(o, n) > rtol {
            moved.push(Moved {
                golden: golden.to_owned(),
                metric,
                point: r.point,
                seed: r.seed,
                epoch,
                old: o,
                new: n,
            });
        }
    };
    for o in old {
        let Some(n) = new.iter().find(|n| (n.point, n.seed) == (o.point, o.seed)) else {
            push(
                "run (missing from the fresh results)".into(),
                o,
                0,
                1.0,
                f64::NAN,
            );
            continue;
        };
        // The records hold epoch 0 (before training) too.
        let completed = |r: &RunRecord| r.epochs.len().saturating_sub(1) as f64;
        push("epochs completed".into(), o, 0, completed(o), completed(n));
        push(
            "diverged".into(),
            o,
            0,
            f64::from(u8::from(o.divergence.is_some())),
            f64::from(u8::from(n.divergence.is_some())),
        );
        for (eo, en) in o.epochs.iter().zip(&n.epochs) {
            let fresh = metrics(en);
            for (name, v) in metrics(eo) {
                let nv = fresh
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map_or(f64::NAN, |(_, x)| *x);
                push(name, o, eo.epoch, v, nv);
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
        push("run (new, not in the golden)".into(), n, 0, f64::NAN, 1.0);
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
            "{metric}: {} value(s) moved; largest change {:+.4e} ({} → {}) at point {} seed {} epoch {}{against}\n",
            ms.len(),
            change,
            worst.old,
            worst.new,
            worst.point,
            worst.seed,
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
        .filter(|v| v.is_finite())
        .collect();
    let n = values.len();
    (n > 1).then(|| {
        let mean = values.iter().sum::<f64>() / n as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    })
}

/// The diff as a table: metric, point, seed, epoch, old, new, relative change.
pub fn diff_table(moved: &[Moved]) -> String {
    let mut s = format!(
        "{:<28} {:>5} {:>5} {:>5} {:>22} {:>22} {:>10}\n",
        "metric", "point", "seed", "epoch", "old", "new", "rel"
    );
    for m in moved {
        s.push_str(&format!(
            "{:<28} {:>5} {:>5} {:>5} {:>22} {:>22} {:>10.3e}\n",
            m.metric,
            m.point,
            m.seed,
            m.epoch,
            m.old,
            m.new,
            m.relative()
        ));
    }
    s
}
