//! `dyadsim bench --quick --json`: the CI smoke test of the benchmark harness. It checks the shape of
//! the report and that every number is positive and finite, never a timing.

use tests::dyadsim;

/// Written out here rather than taken from `lab::bench::WORKLOADS`: the names are an interface users
/// script against, so a rename in the library must fail this test.
const WORKLOADS: [&str; 13] = [
    "gemm-roofline",
    "ideal-dptop",
    "ideal-dptop-k3",
    "ideal-dptop-k8",
    "ideal-dptop-tol",
    "ideal-backprop",
    "noisy-dptop",
    "noisy-dptop-k3",
    "pulse-coincidence",
    "circuit-mode",
    "cnn-dptop",
    "vgg16-dptop",
    "sweep-scaling",
];

#[test]
fn quick_bench_reports_every_workload_with_positive_finite_numbers() {
    let out = dyadsim(&["bench", "--quick", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let report: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert!(
        report["threads"].as_u64().is_some_and(|t| t >= 1),
        "{report}"
    );
    let workloads = report["workloads"].as_array().unwrap();
    let names: Vec<&str> = workloads
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, WORKLOADS);
    for w in workloads {
        for field in [
            "samples_per_s",
            "gflops",
            "roofline_fraction",
            "peak_rss_mb",
        ] {
            // Peak RSS comes from /proc; elsewhere it is reported as 0.
            let floor_ok =
                |v: f64| v > 0.0 || (field == "peak_rss_mb" && !cfg!(target_os = "linux"));
            let v = w[field].as_f64();
            assert!(
                v.is_some_and(|v| v.is_finite() && floor_ok(v)),
                "{}.{field} = {:?}",
                w["name"],
                w[field]
            );
        }
    }
    let sweep = &workloads[12];
    assert!(
        sweep["speedup"]
            .as_f64()
            .is_some_and(|s| s.is_finite() && s > 0.0)
    );
    assert_eq!(
        sweep["bit_identical"], true,
        "records differ across thread counts"
    );
    assert!(workloads[..12].iter().all(|w| w.get("speedup").is_none()));
    // The sweep's spread was never measured, so it is absent rather than a made-up 0.
    assert!(sweep.get("spread").is_none(), "{sweep}");
    assert!(
        workloads[..12].iter().all(|w| w["spread"]
            .as_f64()
            .is_some_and(|s| s.is_finite() && s >= 0.0)),
        "{report}"
    );
}

#[test]
fn zero_threads_is_bad_input() {
    let out = dyadsim(&["bench", "--quick", "--threads", "0"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--threads"), "{}", out.stderr);
}

#[test]
fn only_runs_the_named_workloads_after_the_roofline() {
    let out = dyadsim(&[
        "bench",
        "--quick",
        "--json",
        "--only",
        "ideal-backprop,ideal-dptop",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let report: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let names: Vec<&str> = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gemm-roofline", "ideal-dptop", "ideal-backprop"]);
}

#[test]
fn an_unknown_workload_is_bad_input() {
    let out = dyadsim(&["bench", "--quick", "--only", "ideal-dptopp"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("ideal-dptopp") && out.stderr.contains("ideal-dptop,"),
        "{}",
        out.stderr
    );
}
