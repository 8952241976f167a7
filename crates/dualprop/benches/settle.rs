//! One settling pass plus the local update of a 784-1024-1024-10 ReLU network at batch 100 on ideal
//! arrays: the hot path of every DP training step.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use dualprop::{Activation, Dyads, Dynamics, Gradients, Loss, Network, estimate};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;

const SIZES: [usize; 4] = [784, 1024, 1024, 10];
const BATCH: usize = 100;

fn settle_pass(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut net = Network::ideal(&SIZES, Activation::Relu, Loss::Mse, &mut rng).unwrap();
    let x = DMatrix::from_fn(SIZES[0], BATCH, |_, _| StandardNormal.sample(&mut rng));
    let y = DMatrix::from_fn(SIZES[3], BATCH, |i, j| if i == j % 10 { 1.0 } else { 0.0 });
    let mut dyads = Dyads::new(&SIZES, BATCH);
    let mut grads = Gradients::zeros(&SIZES);
    let mut group = c.benchmark_group("settle_784_1024_1024_10_b100");
    group.sample_size(20);
    for (name, passes, skip) in [
        ("one_pass_plus_update", 1, false),
        ("one_pass_plus_update_skip_unchanged", 1, true),
        ("three_passes_plus_update", 3, false),
        ("three_passes_plus_update_skip_unchanged", 3, true),
    ] {
        let d = Dynamics {
            skip_unchanged: skip,
            ..Dynamics::dp_top(0.5, 0.1, passes)
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(estimate(&mut net, &mut dyads, &x, &y, &d, &mut grads)))
        });
    }
    group.finish();
}

criterion_group!(benches, settle_pass);
criterion_main!(benches);
