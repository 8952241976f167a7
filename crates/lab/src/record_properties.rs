//! Property test: what dyadsim writes it reads back. Run records (through `runs/` on disk),
//! checkpoint metrics and summary.json hold every value of every float class, ±0, subnormals,
//! ±infinity, NaN, ±`f64::MAX` and f32 values widened to f64, and give the same bits back (a NaN as
//! a NaN).

use crate::checkpoint::{decode_metrics, encode_metrics};
use crate::job::{Divergence, DivergenceKind, EpochMetrics, RetentionPoint};
use crate::results::{RunRecord, SCHEMA, load_records, record_name, save_record, summary_json};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Floats of every class: the edges by name, every bit pattern (NaNs with any payload and sign
/// included), subnormals, and f32 values as the f32 metrics reach the records.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            5e-324,
            -5e-324,
            f64::MIN_POSITIVE,
            f64::from_bits(0x000f_ffff_ffff_ffff),
            f64::EPSILON,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::from(0.7f32),
            f64::from(f32::MAX),
            f64::from(f32::MIN_POSITIVE / 4.0),
        ]),
        any::<u64>().prop_map(f64::from_bits),
        (1u64..1 << 52, any::<bool>())
            .prop_map(|(m, neg)| f64::from_bits(m | u64::from(neg) << 63)),
        any::<u32>().prop_map(|b| f64::from(f32::from_bits(b))),
    ]
}

/// The same bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan()
}

fn same_epochs(a: &[EpochMetrics], b: &[EpochMetrics]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.epoch == y.epoch
                && same(x.train_loss, y.train_loss)
                && same(x.train_acc, y.train_acc)
                && same(x.test_loss, y.test_loss)
                && same(x.test_acc, y.test_acc)
                && x.extra.len() == y.extra.len()
                && x.extra
                    .iter()
                    .zip(&y.extra)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same(*vx, *vy))
        })
}

const EXTRA_NAMES: [&str; 5] = [
    "settle_residual",
    "pulses",
    "area_mm2",
    "energy_j",
    "lipschitz_jacobian",
];

fn epochs() -> impl Strategy<Value = Vec<EpochMetrics>> {
    let epoch = (
        float(),
        float(),
        float(),
        float(),
        prop::collection::btree_map(prop::sample::select(EXTRA_NAMES.to_vec()), float(), 0..4),
    );
    prop::collection::vec(epoch, 1..5).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (a, b, c, d, extra))| EpochMetrics {
                epoch: i,
                train_loss: a,
                train_acc: b,
                test_loss: c,
                test_acc: d,
                extra: extra.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            })
            .collect()
    })
}

fn record() -> impl Strategy<Value = RunRecord> {
    (
        epochs(),
        prop::collection::vec((float(), float(), float()), 0..3),
        any::<bool>(),
    )
        .prop_map(|(epochs, retention, diverged)| RunRecord {
            schema: SCHEMA,
            point: 3,
            seed: 7,
            params: BTreeMap::from([("algorithm.alpha".to_owned(), Value::from(0.5))]),
            divergence: diverged.then(|| Divergence {
                epoch: epochs.len(),
                batch: 0,
                kind: DivergenceKind::NonFinite,
                reason: "the training loss became NaN".into(),
            }),
            epochs,
            retention: retention
                .into_iter()
                .map(|(t, test_loss, test_acc)| RetentionPoint {
                    t,
                    test_loss,
                    test_acc,
                })
                .collect(),
        })
}

/// A scratch results folder of this process, with its `runs/`.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dyadsim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("runs")).unwrap();
    dir
}

/// A float of summary.json read as dyadsim reads floats.
fn read_float(v: &Value) -> f64 {
    crate::floats::deserialize(v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn run_records_with_any_float_read_back_with_the_same_bits(r in record()) {
        let out = scratch("record-floats");
        save_record(&out, &r).unwrap();
        let back = load_records(&out).unwrap();
        std::fs::remove_file(out.join("runs").join(record_name(r.point, r.seed))).unwrap();
        prop_assert_eq!(back.len(), 1);
        let b = &back[0];
        prop_assert!(same_epochs(&r.epochs, &b.epochs), "{:?}\n{:?}", r.epochs, b.epochs);
        prop_assert_eq!(r.retention.len(), b.retention.len());
        for (x, y) in r.retention.iter().zip(&b.retention) {
            prop_assert!(same(x.t, y.t) && same(x.test_loss, y.test_loss) && same(x.test_acc, y.test_acc));
        }
        prop_assert_eq!(&r.divergence, &b.divergence);
        prop_assert_eq!(&r.params, &b.params);
    }

    #[test]
    fn checkpoint_metrics_with_any_float_read_back_with_the_same_bits(e in epochs()) {
        let back = decode_metrics(&encode_metrics(&e).unwrap()).unwrap();
        prop_assert!(same_epochs(&e, &back), "{:?}\n{:?}", e, back);
    }

    #[test]
    fn summary_finals_with_any_float_read_back_with_the_same_bits(r in record()) {
        let bytes = serde_json::to_vec_pretty(&summary_json(std::slice::from_ref(&r), None)).unwrap();
        let summary: Value = serde_json::from_slice(&bytes).unwrap();
        let last = r.epochs.last().unwrap();
        let finals = &summary["points"][0]["final"];
        for name in crate::aggregate::metric_names(std::slice::from_ref(&r)) {
            let written = finals[&name].clone();
            match crate::aggregate::epoch_metric(last, &name) {
                Some(v) => prop_assert!(same(v, read_float(&written)), "{}: {} → {}", name, v, written),
                None => prop_assert!(written.is_null(), "{}: {}", name, written),
            }
        }
    }
}

#[test]
fn cost_totals_that_overflow_are_written_as_infinity_and_read_back() {
    let epoch = |i| EpochMetrics {
        epoch: i,
        train_loss: 1.0,
        train_acc: 0.1,
        test_loss: 1.0,
        test_acc: 0.1,
        extra: crate::cost::COLUMNS
            .iter()
            .chain([&crate::cost::AREA_COLUMN])
            .map(|c| ((*c).to_owned(), f64::MAX))
            .collect(),
    };
    let r = RunRecord {
        schema: SCHEMA,
        point: 0,
        seed: 0,
        params: BTreeMap::new(),
        epochs: vec![epoch(0), epoch(1)],
        divergence: None,
        retention: Vec::new(),
    };
    let text = serde_json::to_string(&summary_json(&[r], None)).unwrap();
    let summary: Value = serde_json::from_str(&text).unwrap();
    let cost = &summary["points"][0]["cost"];
    assert_eq!(cost["energy_j"], "inf", "{cost}");
    assert_eq!(read_float(&cost["energy_j"]), f64::INFINITY);
    assert_eq!(read_float(&cost["area_mm2"]), f64::MAX);
    // The aggregates say the same: a mean over one seed that overflowed is infinite, not absent.
    let mean = &summary["aggregates"][0]["metrics"]["energy_j"]["mean"];
    assert_eq!(read_float(mean), f64::MAX, "{mean}");
}
