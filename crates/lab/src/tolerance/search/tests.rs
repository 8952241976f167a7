//! The search on synthetic responses whose thresholds are known.

use super::*;
use crate::tolerance::stats::paired_pass;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Runs `search` to the end with `pass` deciding each probe, as the tolerance driver does.
fn drive(mut search: Search, mut pass: impl FnMut(f64) -> bool) -> Found {
    loop {
        let values = search.next();
        if values.is_empty() {
            return search.result().expect("finished");
        }
        for v in values {
            let p = pass(v);
            search.record(v, p);
        }
    }
}

#[test]
fn monotone_threshold_is_bracketed_within_the_resolution() {
    for k in [1, 2, 4] {
        let found = drive(Search::new(0.0, 1.0, Scale::Linear, 0.01, k), |v| v <= 0.37);
        let (pass, fail) = (found.bracket.0, found.bracket.1.expect("fails"));
        assert!(pass <= 0.37 && fail > 0.37, "k = {k}: {found:?}");
        assert!(fail - pass <= 0.01 + 1e-12, "k = {k}: {found:?}");
        assert_eq!(found.tolerance, pass);
        assert_eq!(found.outcome, Outcome::Found);
        assert!(found.monotone);
    }
}

#[test]
fn downward_search_mirrors_the_upward_one() {
    let found = drive(Search::new(0.5, 0.0, Scale::Linear, 0.02, 2), |v| v >= 0.21);
    let fail = found.bracket.1.expect("fails");
    assert!(found.tolerance >= 0.21 && fail < 0.21 && found.tolerance - fail <= 0.02 + 1e-12);
}

#[test]
fn search_uses_far_fewer_probes_than_a_grid() {
    let mut search = Search::new(0.0, 1.0, Scale::Linear, 0.01, 2);
    assert_eq!(search.grid_points(), 101);
    let mut probes = 0;
    while !search.next().is_empty() {
        for v in search.next() {
            search.record(v, v <= 0.37);
            probes += 1;
        }
    }
    // Round one: 2 probes, then the bracket shrinks threefold per round of 2: ⌈log₃(50)⌉ = 4 rounds.
    assert!(probes <= 2 + 2 * 4, "{probes} probes");
}

#[test]
fn log_scale_finds_a_threshold_spanning_decades() {
    // Reference 0 (noise-free), threshold at 3e-3, range up to 1: relative resolution 10 %.
    let found = drive(Search::new(0.0, 1.0, Scale::Log, 0.1, 2), |v| v <= 3e-3);
    let fail = found.bracket.1.expect("fails");
    assert!(found.tolerance <= 3e-3 && fail > 3e-3);
    assert!(fail / found.tolerance <= 1.1 + 1e-9, "{found:?}");
}

#[test]
fn never_failing_response_is_reported_out_of_range() {
    let found = drive(Search::new(0.5, 1.0, Scale::Linear, 0.01, 2), |_| true);
    assert_eq!(found.outcome, Outcome::NeverFails);
    assert_eq!(found.bracket, (1.0, None));
    assert_eq!(found.tolerance, 1.0);
}

#[test]
fn response_failing_at_once_keeps_the_reference() {
    let found = drive(Search::new(0.5, 1.0, Scale::Linear, 0.01, 2), |_| false);
    assert_eq!(found.outcome, Outcome::FailsAtOnce);
    assert_eq!(found.tolerance, 0.5);
    assert!(found.bracket.1.expect("fails") - 0.5 <= 0.01 + 1e-12);
    // On a log scale from zero the search gives up at the floor.
    let found = drive(Search::new(0.0, 1.0, Scale::Log, 0.1, 2), |_| false);
    assert_eq!(found.outcome, Outcome::FailsAtOnce);
    assert_eq!(found.tolerance, 0.0);
    assert!(found.bracket.1.expect("fails") <= 1.1e-4);
}

#[test]
fn pass_beyond_the_first_failure_is_reported_non_monotone() {
    // Fails only in (0.3, 0.6): the far end passes, the first failure is at 0.3.
    let found = drive(Search::new(0.0, 1.0, Scale::Linear, 0.01, 2), |v| {
        !(v > 0.3 && v < 0.6)
    });
    assert!(!found.monotone);
    let fail = found.bracket.1.expect("fails");
    assert!(found.tolerance <= 0.3 && fail > 0.3 && fail - found.tolerance <= 0.01 + 1e-12);
    assert_eq!(found.outcome, Outcome::Found);
}

#[test]
fn noisy_response_decided_by_the_paired_bound_lands_near_the_threshold() {
    // Accuracy 0.9 − (v − 0.4)⁺ with a seed effect of 5 points shared between reference and
    // probe (common random numbers) and 0.3 points of independent noise per run; 5 seeds, 95 %.
    // The drop first exceeds 0.02 at v = 0.42; the upper bound adds t·σ·√2/√5 ≈ 0.4 points, so the
    // decided threshold sits in [0.40, 0.42].
    let seeds = 5;
    let shared = Normal::new(0.0, 0.05).expect("valid");
    let own = Normal::new(0.0, 0.003).expect("valid");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let seed_effect: Vec<f64> = (0..seeds).map(|_| shared.sample(&mut rng)).collect();
    let mut run = |v: f64| -> Vec<f64> {
        seed_effect
            .iter()
            .map(|e| 0.9 - (v - 0.4).max(0.0) + e + own.sample(&mut rng))
            .collect()
    };
    let reference = run(0.0);
    let found = drive(Search::new(0.0, 1.0, Scale::Linear, 0.005, 2), |v| {
        paired_pass(&reference, &run(v), true, 0.02, 0.95).1
    });
    assert!(
        (0.40..=0.42).contains(&found.tolerance),
        "tolerance {}",
        found.tolerance
    );
}
