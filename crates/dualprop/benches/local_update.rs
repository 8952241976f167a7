//! The local update of a settled 784-1024-1024-10 ReLU network at batch 100
//! (`Optimizer::step_local` with plain SGD: the outer product δ·s̄ᵀ sent to the arrays), on ideal
//! arrays, on the noisy reference preset (stochastic rounding) and with pulse-coincidence updates
//! (BL 31); and the backprop step it is compared with. Complements `settle` (the passes) and
//! crossbar's `array` (reads and `Update::Delta`).

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use crossbar::Crossbar;
use crossbar::spec::{
    Device, Hardware, Io, PulseCoincidence, SoftBounds, StochasticRounding, UpdateScheme,
};
use dualprop::network::initial_parameters;
use dualprop::{
    Activation, Backprop, Dyads, Dynamics, Gradients, Layer, Loss, Network, Optimizer,
    OptimizerKind, settle,
};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

const SIZES: [usize; 4] = [784, 1024, 1024, 10];
const BATCH: usize = 100;

/// device-models/noisy-reference.ron, with `update` replaced.
fn noisy(update: UpdateScheme) -> Hardware {
    Hardware {
        device: Device::SoftBounds(SoftBounds::default()),
        update,
        io: Io::default(),
        ..Hardware::ideal()
    }
}

fn network(spec: &Hardware) -> Network<Box<dyn Crossbar>> {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let layers = initial_parameters(&SIZES, &mut rng)
        .into_iter()
        .enumerate()
        .map(|(k, (w, bias))| Layer {
            array: crossbar::build(spec, &w, 7 + k as u64).expect("valid spec"),
            bias,
        })
        .collect();
    Network::new(layers, Activation::Relu, Loss::CrossEntropy).expect("shapes chain")
}

fn batch() -> (DMatrix<f32>, DMatrix<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let x = DMatrix::from_fn(SIZES[0], BATCH, |_, _| rng.random::<f32>());
    let y = DMatrix::from_fn(SIZES[3], BATCH, |i, j| f32::from(i == j % 10));
    (x, y)
}

fn local_update(c: &mut Criterion) {
    let (x, y) = batch();
    let specs = [
        ("ideal", Hardware::ideal()),
        (
            "noisy-stochastic-rounding",
            noisy(UpdateScheme::StochasticRounding(
                StochasticRounding::default(),
            )),
        ),
        (
            "noisy-pulse-coincidence-bl31",
            noisy(UpdateScheme::PulseCoincidence(PulseCoincidence::default())),
        ),
    ];
    let mut group = c.benchmark_group("step_local_784_1024_1024_10_b100");
    group.sample_size(10);
    for (name, spec) in specs {
        let mut net = network(&spec);
        let mut dyads = Dyads::new(&SIZES, BATCH);
        // Settle once: the update's cost does not depend on the values, only their shapes.
        settle(&mut net, &mut dyads, &x, &y, &Dynamics::dp_top(0.5, 0.1, 4));
        let mut opt = Optimizer::new(OptimizerKind::PlainSgd, 0.01, 0.0, 0.0, &SIZES);
        group.bench_function(name, |b| {
            b.iter(|| black_box(opt.step_local(&mut net, &dyads, 0.1)))
        });
    }
    group.finish();
}

fn backprop_step(c: &mut Criterion) {
    let (x, y) = batch();
    let mut net = network(&Hardware::ideal());
    let mut backprop = Backprop::new(&SIZES, BATCH);
    let mut grads = Gradients::zeros(&SIZES);
    let mut opt = Optimizer::new(OptimizerKind::Sgd, 0.01, 0.0, 0.0, &SIZES);
    let mut group = c.benchmark_group("backprop_784_1024_1024_10_b100");
    group.sample_size(10);
    group.bench_function("gradient_plus_sgd_step", |b| {
        b.iter(|| {
            backprop.gradient(&mut net, &x, &y, &mut grads);
            black_box(opt.step_backprop(&mut net, &backprop, &grads))
        })
    });
    group.finish();
}

criterion_group!(benches, local_update, backprop_step);
criterion_main!(benches);
