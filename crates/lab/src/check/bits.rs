//! The bits suite: digests of the exact f32 results of the operations every run is built from,
//! pinned, so that a machine that computes one bit differently fails loudly and names the
//! operation that moved.
//!
//! A golden comparison only says *that* a run moved; after a few hundred mini-batches every metric
//! has moved and the cause is lost. These digests are taken one level down: matrix products of
//! the shapes that decide the blocking (an inner dimension of 784, of 1024, a long convolution
//! update), a 784-wide forward pass, a convolution block, and one short training epoch of every
//! algorithm, ideal and on noisy arrays. Each is a 64-bit FNV-1a hash of the bits of its outputs
//! (f32 outputs as f32 bits, f64 metrics as f64 bits), so any difference in any bit changes it.
//! docs/FIDELITY.md says what may change them (a new version of the gemm crate, a build with the
//! `avx512` feature) and how they are re-pinned.

use super::Check;
use crate::dataset;
use crate::error::{LabError, Result};
use crate::job::{self, Silent};
use crate::seed::{Purpose, stream};
use crossbar::linalg::{Op, gemm};
use dualprop::block::{BlockSpec, Image};
use dualprop::{Activation, Init, Loss, Network};
use nalgebra::DMatrix;
use rand::Rng;
use std::path::Path;

const SUITE: &str = "bits";

/// The pinned digests, in the order [`digests`] computes them. A change here is a change of the
/// bits every run computes: say why in the commit.
const PINNED: &[(&str, u64)] = &[
    ("gemm W·X 1024×784·784×100", 0x76cbc999f790dbdb),
    ("gemm Wᵀ·D 784×1024·1024×100", 0x8d19e88aa772797d),
    ("gemm D·Xᵀ 1024×100·100×784", 0xee8949839d0129cf),
    ("gemm conv update D·Pᵀ 16×6272·6272×9", 0x93f23c1c6c1b847d),
    ("gemm thin W·X 10×3000·3000×100", 0x3d55d174fae0bca9),
    ("gemm Aᵀ·Bᵀ 333×1537·1537×61", 0x114cec3741723ae1),
    ("forward 784-256-10 ReLU, 32 samples", 0xafb02a8fb705cc47),
    (
        "forward 28×28×1 → conv 8 3×3 + pool → 10, 8 samples",
        0x4e6d30aeac858d24,
    ),
    ("train DP α = ½, ideal", 0xb82096b06ea72254),
    ("train DP⊤ α = 0, ideal", 0x3dd2e34099b52b0a),
    ("train DP⊤ α = ½, ideal", 0x19488df0a090417e),
    ("train DP⊤ α = 1, ideal", 0x1a1b7b1eae05bca0),
    ("train damped DP α = 0.8, ideal", 0xfb335d5598eb83cf),
    ("train backprop, ideal", 0xa499aa33b8eb73a5),
    ("train adversarial backprop, ideal", 0x39db87868a39d5e0),
    ("train DP⊤ α = ½ circuit mode, ideal", 0xaf3b019f4be930d4),
    (
        "train DP⊤ α = ½, noisy-reference arrays",
        0xb1d981117ee99206,
    ),
    ("train backprop, noisy-reference arrays", 0x45b41f2e812e62a4),
    (
        "train DP⊤ α = ½ conv 4 3×3 + pool on the digits, ideal",
        0x336186680e0cfe6b,
    ),
];

/// 64-bit FNV-1a over bytes: small, fixed, and the same on every machine.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn f32s<'a>(&mut self, values: impl IntoIterator<Item = &'a f32>) {
        for v in values {
            self.bytes(&v.to_bits().to_le_bytes());
        }
    }

    fn f64(&mut self, v: f64) {
        self.bytes(&v.to_bits().to_le_bytes());
    }
}

fn hash_matrix(m: &DMatrix<f32>) -> u64 {
    let mut h = Fnv::new();
    h.bytes(&(m.nrows() as u64).to_le_bytes());
    h.bytes(&(m.ncols() as u64).to_le_bytes());
    h.f32s(m.iter());
    h.0
}

/// A seeded matrix of values uniform in ±1 (drawn in column order).
fn uniform(rows: usize, cols: usize, seed: u64) -> DMatrix<f32> {
    let mut rng = stream(seed, 0, Purpose::Data);
    DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0f32))
}

/// A product C = 0.7·op(A)·op(B) + 0.25·C₀ of the given shape (C is m×n, the inner dimension k).
fn product(m: usize, k: usize, n: usize, op_a: Op, op_b: Op) -> u64 {
    let a = match op_a {
        Op::N => uniform(m, k, 1),
        Op::T => uniform(k, m, 1),
    };
    let b = match op_b {
        Op::N => uniform(k, n, 2),
        Op::T => uniform(n, k, 2),
    };
    let mut c = uniform(m, n, 3);
    gemm(0.7, &a, op_a, &b, op_b, 0.25, &mut c);
    hash_matrix(&c)
}

/// The products: the shapes of a 784-1024-10 step at batch 100 (forward, transposed, update), a
/// convolution's weight update (16 × 6 272 · 6 272 × 9, a long sum on the crate's small path), a
/// thin product with a long inner dimension, and one with both operands transposed.
fn products() -> Vec<(String, u64)> {
    let shapes = [
        ("W·X", 1024, 784, 100, Op::N, Op::N),
        ("Wᵀ·D", 784, 1024, 100, Op::T, Op::N),
        ("D·Xᵀ", 1024, 100, 784, Op::N, Op::T),
        ("conv update D·Pᵀ", 16, 6272, 9, Op::N, Op::T),
        ("thin W·X", 10, 3000, 100, Op::N, Op::N),
        ("Aᵀ·Bᵀ", 333, 1537, 61, Op::T, Op::T),
    ];
    shapes
        .into_iter()
        .map(|(what, m, k, n, op_a, op_b)| {
            (
                format!("gemm {what} {m}×{k}·{k}×{n}"),
                product(m, k, n, op_a, op_b),
            )
        })
        .collect()
}

fn network_error(e: impl std::fmt::Display) -> LabError {
    LabError::option("network", e.to_string())
}

/// A 784-256-10 ReLU network's forward pass on 32 inputs, and a 28×28 image through a pooled
/// 3×3 convolution of 8 channels and a dense output (the first block of cnn-fmnist).
fn forward_passes() -> Result<Vec<(String, u64)>> {
    let mut rng = stream(5, 0, Purpose::Init);
    let mut dense = Network::ideal(
        &[784, 256, 10],
        Activation::Relu,
        Loss::CrossEntropy,
        &mut rng,
    )
    .map_err(network_error)?;
    let x = uniform(784, 32, 6);
    let dense_out = dense.predict(&x);

    let input = Image {
        height: 28,
        width: 28,
        channels: 1,
    };
    let blocks = [
        BlockSpec::Conv {
            channels: 8,
            kernel: 3,
            stride: 1,
            pool: true,
        },
        BlockSpec::Dense(10),
    ];
    let mut rng = stream(7, 0, Purpose::Init);
    let mut conv = Network::ideal_blocks(
        input,
        &blocks,
        Activation::Relu,
        Loss::CrossEntropy,
        Init::LecunNormal,
        &mut rng,
    )
    .map_err(network_error)?;
    let images = uniform(784, 8, 8);
    let conv_out = conv.predict(&images);
    Ok(vec![
        (
            "forward 784-256-10 ReLU, 32 samples".into(),
            hash_matrix(&dense_out),
        ),
        (
            "forward 28×28×1 → conv 8 3×3 + pool → 10, 8 samples".into(),
            hash_matrix(&conv_out),
        ),
    ])
}

/// The runs: one epoch of two mini-batches of 32 on 784 synthetic inputs (784-128-10, so the
/// forward read is a long inner dimension on the blocked path) for every algorithm, on
/// ideal arrays and on the noisy reference preset (converters with noise, stochastic-rounding
/// updates), and a convolutional DP⊤ run on the digits. Each digest covers every metric of epoch 0
/// (the untrained network) and epoch 1.
const RUNS: &[(&str, &str)] = &[
    ("DP α = ½", "kind: Dp, alpha: 0.5, beta: 0.1, passes: 4"),
    ("DP⊤ α = 0", "kind: DpTop, alpha: 0.0, beta: 0.1, passes: 2"),
    ("DP⊤ α = ½", "kind: DpTop, alpha: 0.5, beta: 0.1, passes: 4"),
    ("DP⊤ α = 1", "kind: DpTop, alpha: 1.0, beta: 0.1, passes: 2"),
    (
        "damped DP α = 0.8",
        "kind: DampedDp, alpha: 0.8, beta: 0.1, passes: 4",
    ),
    ("backprop", "kind: Backprop"),
    (
        "adversarial backprop",
        "kind: AdversarialBackprop, beta: 0.1",
    ),
    (
        "DP⊤ α = ½ circuit mode",
        "kind: DpTop, alpha: 0.5, beta: 0.1, circuit: Some((tau: 1.0, dt: 0.5, tol: 1e-4, t_max: 50.0))",
    ),
];

/// The noisy reference preset, compiled in so that the suite runs from any folder.
const NOISY_REFERENCE: &str = include_str!("../../../../device-models/noisy-reference.ron");

fn experiment(name: &str, body: &str) -> Result<crate::spec::Experiment> {
    crate::load::experiment_from_str(body, Path::new(name))
}

fn run_digest(exp: &crate::spec::Experiment) -> Result<u64> {
    let source = Path::new(&exp.name);
    let data = dataset::load(&exp.dataset, source)?;
    job::check_shapes(exp, &data, source)?;
    let outcome = job::train(exp, &data, 0, &Silent)?;
    let mut h = Fnv::new();
    for e in &outcome.epochs {
        h.bytes(&(e.epoch as u64).to_le_bytes());
        for v in [e.train_loss, e.train_acc, e.test_loss, e.test_acc] {
            h.f64(v);
        }
        for (name, v) in &e.extra {
            h.bytes(name.as_bytes());
            h.f64(*v);
        }
    }
    h.bytes(&[u8::from(outcome.divergence.is_some())]);
    Ok(h.0)
}

fn runs() -> Result<Vec<(String, u64)>> {
    let dense = |algorithm: &str, hardware: &str| {
        format!(
            "Experiment(name: \"bits\", dataset: Synthetic((inputs: 784, hidden: 32, outputs: 10, \
             train: 64, test: 32, seed: 1)), network: (layers: [784, 128, 10]), algorithm: \
             ({algorithm}), training: (epochs: 1, batch_size: 32, learning_rate: 0.05, momentum: \
             0.9), seed: 3{hardware})"
        )
    };
    let noisy = format!(", hardware: {NOISY_REFERENCE}");
    let mut out = Vec::new();
    for (label, algorithm) in RUNS {
        let exp = experiment("bits.ron", &dense(algorithm, ""))?;
        out.push((format!("train {label}, ideal"), run_digest(&exp)?));
    }
    for (label, algorithm) in [RUNS[2], RUNS[5]] {
        let exp = experiment("bits.ron", &dense(algorithm, &noisy))?;
        out.push((
            format!("train {label}, noisy-reference arrays"),
            run_digest(&exp)?,
        ));
    }
    let cnn = "Experiment(name: \"bits\", dataset: Digits, network: (input: (8, 8, 1), blocks: \
               [Conv(channels: 4, kernel: 3, pool: true), Dense(16), Dense(10)]), algorithm: \
               (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 4), training: (epochs: 1, \
               batch_size: 64, learning_rate: 0.05, momentum: 0.9), seed: 3)";
    let exp = experiment("bits.ron", cnn)?;
    out.push((
        "train DP⊤ α = ½ conv 4 3×3 + pool on the digits, ideal".into(),
        run_digest(&exp)?,
    ));
    Ok(out)
}

/// Every digest, named, in a fixed order.
pub fn digests() -> Result<Vec<(String, u64)>> {
    let mut all = products();
    all.extend(forward_passes()?);
    all.extend(runs()?);
    Ok(all)
}

/// The digests against the pinned ones: one check per operation.
pub fn run() -> Result<Vec<Check>> {
    let computed = digests()?;
    let mut checks = Vec::with_capacity(computed.len());
    for (name, hash) in &computed {
        let pinned = PINNED.iter().find(|(n, _)| n == name).map(|&(_, h)| h);
        let (ok, detail) = match pinned {
            Some(p) if p == *hash => (true, format!("{hash:016x}")),
            Some(p) => (
                false,
                format!(
                    "computed {hash:016x}, pinned {p:016x}: this machine or build computes other \
                     bits for this operation (docs/FIDELITY.md, bits)"
                ),
            ),
            None => (
                false,
                format!("computed {hash:016x}; no digest is pinned for this operation"),
            ),
        };
        checks.push(Check::flag(SUITE, name.clone(), ok, detail));
    }
    for (name, _) in PINNED {
        if !computed.iter().any(|(n, _)| n == name) {
            checks.push(Check::flag(
                SUITE,
                *name,
                false,
                "pinned, but no longer computed",
            ));
        }
    }
    Ok(checks)
}

/// A `DYADSIM_MAX_SIMD` that names no width, as the message to stop with before anything runs
/// (the kernels would otherwise ignore it silently).
pub fn unknown_simd_width() -> Option<String> {
    use crossbar::simd::{MAX_WIDTH_VAR, Width};
    let value = std::env::var_os(MAX_WIDTH_VAR)?;
    let text = value.to_string_lossy();
    Width::parse(&text).is_none().then(|| {
        format!(
            "environment variable {MAX_WIDTH_VAR} must be avx512, avx2 or baseline (got {text:?})"
        )
    })
}

/// The table of pinned digests (`PINNED` in this module) after a deliberate change of the bits.
pub fn pinned_table(digests: &[(String, u64)]) -> String {
    digests
        .iter()
        .map(|(n, h)| format!("    ({n:?}, 0x{h:016x}),\n"))
        .collect()
}
