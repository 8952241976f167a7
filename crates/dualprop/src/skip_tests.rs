//! Skipping unchanged work gives bit-identical results on deterministic arrays, with fewer reads.

use crate::test_support::{batch, network};
use crate::{
    Activation, Dyads, Dynamics, Gradients, Layer, Loss, Network, NudgeAt, OutputMode, Schedule,
    estimate,
};
use crossbar::{Crossbar, IdealArray, Update, UpdateReport};
use nalgebra::DMatrix;

/// An ideal array that counts its reads, and says it reads deterministically only when asked to.
#[derive(Clone, Debug)]
struct Counting {
    inner: IdealArray,
    reads: usize,
    deterministic: bool,
}

impl Crossbar for Counting {
    fn outputs(&self) -> usize {
        self.inner.outputs()
    }
    fn inputs(&self) -> usize {
        self.inner.inputs()
    }
    fn read(&mut self, x: &DMatrix<f32>, y: &mut DMatrix<f32>) {
        self.reads += 1;
        self.inner.read(x, y)
    }
    fn read_transposed(&mut self, d: &DMatrix<f32>, z: &mut DMatrix<f32>) {
        self.reads += 1;
        self.inner.read_transposed(d, z)
    }
    fn update(&mut self, update: Update<'_>) -> UpdateReport {
        self.inner.update(update)
    }
    fn weights(&self) -> DMatrix<f32> {
        self.inner.weights()
    }
    fn program(&mut self, weights: &DMatrix<f32>) {
        self.inner.program(weights)
    }
    fn counts(&self) -> crossbar::OpCounts {
        self.inner.counts()
    }
    fn reads_deterministically(&self) -> bool {
        self.deterministic
    }
    fn count_repeated_read(&mut self, batch: usize) {
        self.inner.count_repeated_read(batch)
    }
    fn save(&self, out: &mut crossbar::SnapshotWriter) {
        self.inner.save(out)
    }
    fn restore(
        &mut self,
        input: &mut crossbar::SnapshotReader<'_>,
    ) -> Result<(), crossbar::SnapshotError> {
        self.inner.restore(input)
    }
}

fn counting(net: &Network<IdealArray>) -> Network<Counting> {
    counting_as(net, false)
}

fn counting_as(net: &Network<IdealArray>, deterministic: bool) -> Network<Counting> {
    let layers = net
        .layers
        .iter()
        .map(|l| Layer {
            array: Counting {
                inner: l.array.clone(),
                reads: 0,
                deterministic,
            },
            bias: l.bias.clone(),
        })
        .collect();
    Network::new(layers, net.activation, net.loss).unwrap()
}

fn reads(net: &Network<Counting>) -> usize {
    net.layers.iter().map(|l| l.array.reads).sum()
}

#[test]
fn skipping_unchanged_work_changes_no_bit() {
    const SIZES: [usize; 6] = [10, 14, 12, 12, 9, 4];
    let (x, y) = batch(2, SIZES[0], SIZES[5], 6);
    let base = network(&SIZES, Activation::Relu, Loss::Mse, 3);
    let variants = [
        Dynamics::dp_top(0.0, 0.2, 9),
        Dynamics::dp_top(0.3, 0.2, 9),
        Dynamics::dp_top(1.0, 0.2, 9),
        Dynamics::dp(0.5, 0.2, 9),
        Dynamics::dp(0.8, 0.2, 9),
        Dynamics::damped_dp(1.0, 0.2, 9, true),
        Dynamics {
            nudge_at: NudgeAt::CurrentDrive,
            ..Dynamics::dp_top(0.2, 0.2, 9)
        },
        Dynamics {
            output: OutputMode::ExactMse,
            ..Dynamics::dp(0.2, 0.5, 9)
        },
        Dynamics {
            tolerance: Some(1e-4),
            ..Dynamics::dp(0.7, 0.2, 30)
        },
    ];
    for schedule in Schedule::ALL {
        for d in &variants {
            let full = Dynamics {
                schedule,
                ..d.clone()
            };
            let fast = Dynamics {
                skip_unchanged: true,
                ..full.clone()
            };
            let run = |d: &Dynamics| {
                let mut net = counting(&base);
                let mut dyads = Dyads::new(&SIZES, 6);
                let mut g = Gradients::zeros(&SIZES);
                let s = estimate(&mut net, &mut dyads, &x, &y, d, &mut g);
                (g, dyads, s, reads(&net))
            };
            let (g0, d0, s0, r0) = run(&full);
            let (g1, d1, s1, r1) = run(&fast);
            let what = format!("{schedule:?} {d:?}");
            assert_eq!(g0, g1, "{what}");
            assert_eq!(
                (&d0.plus, &d0.minus, &d0.mean),
                (&d1.plus, &d1.minus, &d1.mean),
                "{what}"
            );
            assert_eq!(
                (s0.residual, s0.converged, s0.diverged),
                (s1.residual, s1.converged, s1.diverged),
                "{what}"
            );
            assert!(
                s1.passes <= s0.passes && r1 <= r0,
                "{what}: {s1:?} {r1} vs {s0:?} {r0}"
            );
            if schedule == Schedule::Forward && d.damping.is_none() {
                assert!(r1 < r0, "{what}: nothing skipped ({r1} reads)");
            }
        }
    }
}

/// On an array that reads deterministically a hidden layer's drive is kept while the state below
/// it does not change (the input never does): the same bits and the same counted operations, with
/// fewer real reads.
#[test]
fn keeping_unchanged_drives_changes_no_bit_and_no_count() {
    const SIZES: [usize; 4] = [10, 14, 12, 4];
    let (x, y) = batch(2, SIZES[0], SIZES[3], 6);
    let base = network(&SIZES, Activation::Relu, Loss::Mse, 3);
    let variants = [
        Dynamics::dp_top(0.0, 0.2, 5),
        Dynamics::dp(0.5, 0.2, 5),
        Dynamics::damped_dp(1.0, 0.2, 5, true),
    ];
    for schedule in Schedule::ALL {
        for d in &variants {
            let d = Dynamics {
                schedule,
                ..d.clone()
            };
            let run = |deterministic: bool| {
                let mut net = counting_as(&base, deterministic);
                let mut dyads = Dyads::new(&SIZES, 6);
                let mut g = Gradients::zeros(&SIZES);
                let s = estimate(&mut net, &mut dyads, &x, &y, &d, &mut g);
                let counts: Vec<_> = net.layers.iter().map(|l| l.array.counts()).collect();
                let states = (dyads.plus, dyads.minus, dyads.mean);
                (g, states, (s.passes, s.residual), counts, reads(&net))
            };
            let (g0, st0, s0, c0, r0) = run(false);
            let (g1, st1, s1, c1, r1) = run(true);
            let what = format!("{schedule:?} {d:?}");
            assert_eq!((g0, st0, s0, c0), (g1, st1, s1, c1), "{what}");
            // Every pass updates layer 1 at least once, and each of those reads is spared.
            assert!(r1 + d.passes <= r0, "{what}: {r1} reads against {r0}");
        }
    }
}

#[test]
fn one_sided_dp_top_stops_at_its_exact_fixed_point() {
    const SIZES: [usize; 5] = [12, 16, 16, 16, 5];
    let (x, y) = batch(2, SIZES[0], SIZES[4], 6);
    let mut net = counting(&network(&SIZES, Activation::Relu, Loss::CrossEntropy, 3));
    let d = Dynamics {
        skip_unchanged: true,
        ..Dynamics::dp_top(1.0, 0.1, 50)
    };
    let mut dyads = Dyads::new(&SIZES, 6);
    let s = crate::settle(&mut net, &mut dyads, &x, &y, &d);
    // Layer k first sees the error in sweep L − k + 1; sweep L + 1 confirms nothing moves.
    assert_eq!(
        (s.passes, s.residual, s.converged),
        (SIZES.len(), 0.0, true)
    );
    assert_eq!(dyads.residual_trace().len(), s.passes);
}

/// Layers wide enough for the compartment updates and the products to be spread over threads:
/// one thread and three give the same bits, damped and not, from the first pass to a tolerance.
#[test]
fn threads_change_no_bit_of_the_settled_state() {
    const SIZES: [usize; 4] = [40, 300, 260, 7];
    let (x, y) = batch(4, SIZES[0], SIZES[3], 130);
    let base = network(&SIZES, Activation::Relu, Loss::Mse, 5);
    for d in [
        Dynamics::dp_top(0.3, 0.2, 4),
        Dynamics::damped_dp(1.0, 0.2, 4, true),
        Dynamics {
            tolerance: Some(1e-5),
            ..Dynamics::dp(0.6, 0.2, 40)
        },
    ] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut net = base.clone();
                let mut dyads = Dyads::new(&SIZES, 130);
                let mut g = Gradients::zeros(&SIZES);
                let s = estimate(&mut net, &mut dyads, &x, &y, &d, &mut g);
                (g, dyads.plus, dyads.minus, dyads.mean, s.passes, s.residual)
            })
        };
        assert_eq!(run(1), run(3), "{d:?}");
    }
}
