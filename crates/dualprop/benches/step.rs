//! One full DP⊤ training step of a 784-1024-1024-10 ReLU network at batch 100 with softmax
//! cross-entropy: free phase and `Forward` settling with K = 4 passes (α = ½, β = 0.1), the local
//! gradient estimate and an SGD step through `Optimizer::step`, on ideal arrays and on the noisy
//! reference hardware (device-models/noisy-reference.ron, built in code: aihwkit's default
//! soft-bounds device, stochastic-rounding updates, default read converters).

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use crossbar::Crossbar;
use crossbar::spec::{Device, Hardware, Io, SoftBounds, StochasticRounding, UpdateScheme};
use dualprop::network::initial_parameters;
use dualprop::{
    Activation, Dyads, Dynamics, Gradients, Layer, Loss, Network, Optimizer, OptimizerKind,
    estimate,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;

const SIZES: [usize; 4] = [784, 1024, 1024, 10];
const BATCH: usize = 100;

/// `device-models/noisy-reference.ron`: `Hardware(device: SoftBounds(()), update:
/// StochasticRounding(()), io: ())`.
fn noisy_reference() -> Hardware {
    Hardware {
        device: Device::SoftBounds(SoftBounds::default()),
        update: UpdateScheme::StochasticRounding(StochasticRounding::default()),
        io: Io::default(),
        ..Hardware::ideal()
    }
}

fn network(spec: &Hardware) -> Network<Box<dyn Crossbar>> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let layers = initial_parameters(&SIZES, &mut rng)
        .into_iter()
        .enumerate()
        .map(|(k, (w, bias))| Layer {
            array: crossbar::build(spec, &w, 100 + k as u64).expect("valid spec"),
            bias,
        })
        .collect();
    Network::new(layers, Activation::Relu, Loss::CrossEntropy).expect("shapes chain")
}

fn step(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x = DMatrix::from_fn(SIZES[0], BATCH, |_, _| {
        let v: f32 = StandardNormal.sample(&mut rng);
        v.abs().min(1.0)
    });
    let y = DMatrix::from_fn(SIZES[3], BATCH, |i, j| if i == j % 10 { 1.0 } else { 0.0 });
    let dynamics = Dynamics::dp_top(0.5, 0.1, 4);
    let mut group = c.benchmark_group("dptop_step_784_1024_1024_10_b100_k4");
    group.sample_size(10);
    for (name, spec) in [
        ("ideal", Hardware::ideal()),
        ("noisy_reference", noisy_reference()),
    ] {
        let mut net = network(&spec);
        let mut dyads = Dyads::new(&SIZES, BATCH);
        let mut grads = Gradients::zeros(&SIZES);
        let mut opt = Optimizer::new(OptimizerKind::Sgd, 0.05, 0.0, 0.0, &SIZES);
        group.bench_function(name, |b| {
            b.iter(|| {
                let settled = estimate(&mut net, &mut dyads, &x, &y, &dynamics, &mut grads);
                black_box((settled, opt.step(&mut net, &grads)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
