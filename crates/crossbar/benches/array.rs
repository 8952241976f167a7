//! Hot paths of one 1024×1024 layer with a batch of 100: reads and updates on ideal hardware and
//! on the noisy reference preset (aihwkit's default soft-bounds device, stochastic rounding,
//! default converters), exact and with aggregated pulse trains.

// criterion's group macro defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use crossbar::spec::{Device, Hardware, Io, SoftBounds, StochasticRounding, UpdateScheme};
use crossbar::{AnalogArray, Crossbar, Update};
use nalgebra::DMatrix;
use std::hint::black_box;

const OUT: usize = 1024;
const IN: usize = 1024;
const BATCH: usize = 100;

fn noisy(aggregate: bool) -> Hardware {
    Hardware {
        device: Device::SoftBounds(SoftBounds::default()),
        update: UpdateScheme::StochasticRounding(StochasticRounding {
            aggregate,
            ..Default::default()
        }),
        io: Io::default(),
        ..Hardware::ideal()
    }
}

fn bench(c: &mut Criterion) {
    // Seeded, deterministic inputs: PyTorch-like initial weights U(±1/√fan_in) and an Adam-sized
    // step (|ΔW| ≈ 1e-3, about 8 pulses per device with the default mapping).
    let bound = 1.0 / (IN as f32).sqrt();
    let w0 = DMatrix::from_fn(OUT, IN, |r, c| {
        (((r * 31 + c * 17) % 97) as f32 / 48.0 - 1.0) * bound
    });
    let x = DMatrix::from_fn(IN, BATCH, |r, c| ((r * 7 + c * 13) % 19) as f32 / 18.0);
    let d = DMatrix::from_fn(OUT, BATCH, |r, c| {
        (((r * 5 + c * 3) % 23) as f32 / 11.0 - 1.0) * 0.01
    });
    let dw = DMatrix::from_fn(OUT, IN, |r, c| {
        (((r * 3 + c * 7) % 29) as f32 / 14.0 - 1.0) * 1e-3
    });
    let specs = [
        ("ideal", Hardware::ideal()),
        ("noisy", noisy(false)),
        ("noisy-aggregate", noisy(true)),
    ];
    for (name, spec) in specs {
        let mut a = AnalogArray::new(&spec, &w0, 1).expect("valid spec");
        let mut y = DMatrix::zeros(OUT, BATCH);
        let mut z = DMatrix::zeros(IN, BATCH);
        c.bench_function(&format!("{name}/read"), |b| {
            b.iter(|| a.read(black_box(&x), &mut y))
        });
        c.bench_function(&format!("{name}/read_transposed"), |b| {
            b.iter(|| a.read_transposed(black_box(&d), &mut z))
        });
        c.bench_function(&format!("{name}/update_delta"), |b| {
            b.iter(|| a.update(Update::Delta(black_box(&dw))))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
