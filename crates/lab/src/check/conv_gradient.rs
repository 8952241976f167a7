//! The gradient suite's convolutional entry: DP⊤'s weight update against backprop on a network with
//! two pooled convolution blocks, per layer, at α ∈ {0, ½, 1}.

use super::{Check, Criterion};
use crate::error::{LabError, Result};
use crate::seed::{Purpose, stream};
use dualprop::block::{BlockSpec, Image};
use dualprop::{Activation, Algorithm, AlgorithmKind, Init, Loss, Network, gradcheck};
use nalgebra::DMatrix;
use rand::Rng;

const SUITE: &str = "gradient";

/// 10×10×2 images, Conv(4, 3×3, pool), Conv(6, 3×3, pool), Dense(12), Dense(5), tanh, softmax
/// cross-entropy, 16 samples of normal pixels: two pooled convolutions, small enough to run in a
/// fraction of a second.
fn setup() -> Result<(Network<crossbar::IdealArray>, DMatrix<f32>, DMatrix<f32>)> {
    let input = Image {
        height: 10,
        width: 10,
        channels: 2,
    };
    let conv = |channels| BlockSpec::Conv {
        channels,
        kernel: 3,
        stride: 1,
        pool: true,
    };
    let blocks = [conv(4), conv(6), BlockSpec::Dense(12), BlockSpec::Dense(5)];
    let mut rng = stream(3, 0, Purpose::Init);
    let net = Network::ideal_blocks(
        input,
        &blocks,
        Activation::Tanh,
        Loss::CrossEntropy,
        Init::Uniform,
        &mut rng,
    )
    .map_err(|e| LabError::option("network", e.to_string()))?;
    let mut rng = stream(3, 0, Purpose::Data);
    let batch = 16;
    let x = DMatrix::from_fn(input.units(), batch, |_, _| rng.random_range(-1.0..1.0f32));
    let y = DMatrix::from_fn(5, batch, |i, j| f32::from(i == j % 5));
    Ok((net, x, y))
}

/// DP⊤ at β = 1e-3 (settled with 20 passes) against backprop: the worst layer's cosine of the
/// weight update, at least 0.999 (f32 rounding of δ limits the agreement to about 1e-6/β relative;
/// the O(β) bias is about 1e-3 of the update).
pub fn run() -> Result<Vec<Check>> {
    let (mut net, x, y) = setup()?;
    let mut checks = Vec::new();
    for alpha in [0.0, 0.5, 1.0] {
        let alg = Algorithm {
            kind: AlgorithmKind::DpTop,
            alpha,
            beta: 1e-3,
            passes: 20,
            ..Algorithm::default()
        };
        let r = gradcheck(&mut net, &x, &y, &alg)
            .map_err(|e| LabError::Option(crate::FieldError::from(e).under("algorithm")))?;
        let per: Vec<String> = r
            .layers
            .iter()
            .map(|l| format!("{:.6}", l.cosine))
            .collect();
        let worst = r.layers.iter().map(|l| l.cosine).fold(1.0, f64::min);
        checks.push(Check::new(
            SUITE,
            format!(
                "DP⊤ α={alpha} β=1e-3, two pooled convolutions: cosine with backprop (worst layer)"
            ),
            worst,
            Criterion::AtLeast,
            0.999,
            format!("per layer: [{}]", per.join(", ")),
        ));
    }
    Ok(checks)
}
