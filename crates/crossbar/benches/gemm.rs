//! The matrix products of one training step of a 784-1024-1024-10 network at batch 100:
//! forward W·X, transposed Wᵀ·D and the update D·Xᵀ, on one thread and on rayon's pool, and
//! nalgebra's own product on the two largest shapes for comparison.
//! Throughput is reported as floating-point operations (2·m·k·n per product): elements/s = FLOP/s.

// criterion's group macro defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossbar::linalg::{Op, gemm, set_max_threads};
use nalgebra::DMatrix;
use std::hint::black_box;

fn input(r: usize, c: usize, seed: usize) -> DMatrix<f32> {
    DMatrix::from_fn(r, c, |i, j| {
        ((i * 31 + j * 17 + seed) % 97) as f32 / 48.0 - 1.0
    })
}

fn bench(c: &mut Criterion) {
    // (name, m, k, n, op_a, op_b): C (m×n) = op(A) (m×k) · op(B) (k×n).
    let shapes = [
        ("WX_1024x784x100", 1024, 784, 100, Op::N, Op::N),
        ("WtD_784x1024x100", 784, 1024, 100, Op::T, Op::N),
        ("DXt_1024x100x784", 1024, 100, 784, Op::N, Op::T),
        ("WX_1024x1024x100", 1024, 1024, 100, Op::N, Op::N),
        ("WtD_1024x1024x100", 1024, 1024, 100, Op::T, Op::N),
        ("DXt_1024x100x1024", 1024, 100, 1024, Op::N, Op::T),
        ("WX_10x1024x100", 10, 1024, 100, Op::N, Op::N),
        ("WtD_1024x10x100", 1024, 10, 100, Op::T, Op::N),
        ("DXt_10x100x1024", 10, 100, 1024, Op::N, Op::T),
    ];
    for threads in [1, 0] {
        set_max_threads(threads);
        let label = if threads == 1 { "1thread" } else { "pool" };
        let mut group = c.benchmark_group(format!("gemm_{label}"));
        for (name, m, k, n, op_a, op_b) in shapes {
            let a = if op_a == Op::N {
                input(m, k, 1)
            } else {
                input(k, m, 1)
            };
            let b = if op_b == Op::N {
                input(k, n, 2)
            } else {
                input(n, k, 2)
            };
            let mut out = DMatrix::zeros(m, n);
            group.throughput(Throughput::Elements((2 * m * k * n) as u64));
            group.bench_function(name, |bch| {
                bch.iter(|| gemm(1.0, black_box(&a), op_a, black_box(&b), op_b, 0.0, &mut out))
            });
        }
        group.finish();
    }
    set_max_threads(0);
    // The baseline the crate's GEMM replaced: nalgebra's own product (matrixmultiply), one thread.
    let mut group = c.benchmark_group("nalgebra_1thread");
    for (name, m, k, n, transposed) in [
        ("WX_1024x1024x100", 1024, 1024, 100, false),
        ("WtD_1024x1024x100", 1024, 1024, 100, true),
    ] {
        let a = input(
            if transposed { k } else { m },
            if transposed { m } else { k },
            1,
        );
        let b = input(k, n, 2);
        let mut out = DMatrix::zeros(m, n);
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        group.bench_function(name, |bch| {
            bch.iter(|| {
                if transposed {
                    black_box(&a).tr_mul_to(black_box(&b), &mut out);
                } else {
                    black_box(&a).mul_to(black_box(&b), &mut out);
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
