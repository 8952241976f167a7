//! Spectral norms by power iteration, for damped DP (through array reads) and the Lipschitz diagnostics
//! (on weight matrices).

use crate::dyads::Dyads;
use crate::dynamics::Damping;
use crate::network::Network;
use crossbar::Crossbar;
use crossbar::linalg::{Op, gemm};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Fixed seed of the power-iteration start vectors, so that γ does not depend on anything but W.
const START_SEED: u64 = 0x5eed_da3f;

/// Fill `v` with a fixed pseudo-random unit vector (generic, so almost surely not orthogonal to
/// the leading singular vector).
pub(crate) fn start_vector(v: &mut DMatrix<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(START_SEED);
    for x in v.iter_mut() {
        *x = StandardNormal.sample(&mut rng);
    }
    let norm = v.norm();
    *v /= norm;
}

/// ‖W‖₂ of an array estimated with `iterations` power-iteration steps through its reads
/// (v ← Wᵀ·W·v / ‖·‖, γ = ‖W·v‖), using the caller's buffers (`v`: inputs × 1, `u`: outputs × 1).
///
/// On a noisy array the reads draw noise, as an on-chip estimate would.
pub fn spectral_norm_by_reads<C: Crossbar>(
    array: &mut C,
    iterations: usize,
    v: &mut DMatrix<f32>,
    u: &mut DMatrix<f32>,
) -> f32 {
    start_vector(v);
    for _ in 0..iterations {
        array.read(v, u);
        array.read_transposed(u, v);
        let norm = v.norm();
        if !(norm.is_finite() && norm > 0.0) {
            return 0.0;
        }
        *v /= norm;
    }
    array.read(v, u);
    u.norm()
}

/// ‖W‖₂ of a weight matrix by power iteration until the estimate changes by less than 1e-7
/// relatively (at most `max_iterations` steps); in f64 for the diagnostics.
pub fn spectral_norm(w: &DMatrix<f32>, max_iterations: usize) -> f64 {
    let mut v = DMatrix::zeros(w.ncols(), 1);
    let mut u = DMatrix::zeros(w.nrows(), 1);
    start_vector(&mut v);
    let mut sigma = 0.0f64;
    for _ in 0..max_iterations.max(1) {
        gemm(1.0, w, Op::N, &v, Op::N, 0.0, &mut u);
        let s = u.norm() as f64;
        gemm(1.0, w, Op::T, &u, Op::N, 0.0, &mut v);
        let norm = v.norm();
        if !(norm.is_finite() && norm > 0.0) {
            return s;
        }
        v /= norm;
        let converged = (s - sigma).abs() <= 1e-7 * s;
        sigma = s;
        if converged {
            break;
        }
    }
    sigma
}

/// Lₖ = scale·max(0, (γₖ₊₁² − 1)/2) for every hidden layer into the resolved parameters (0 at the output).
///
/// γ of a convolution block is the spectral norm of its convolution (one sample, before pooling).
pub(crate) fn resolve<C: Crossbar>(net: &mut Network<C>, dyads: &mut Dyads, damping: &Damping) {
    let depth = net.depth();
    for k in 1..depth {
        let (v, u) = &mut dyads.power[k];
        let block = net.blocks()[k];
        let array = &mut net.layers[k].array;
        let gamma = match block.conv() {
            None => spectral_norm_by_reads(array, damping.power_iterations, v, u),
            Some(s) => {
                start_vector(v);
                crate::conv::spectral_norm_by_reads(
                    array,
                    s,
                    &mut dyads.power_conv,
                    k,
                    damping.power_iterations,
                    None,
                    v,
                )
            }
        };
        dyads.params[k - 1].damping = damping.scale * ((gamma * gamma - 1.0) / 2.0).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbar::IdealArray;

    #[test]
    fn power_iteration_finds_the_largest_singular_value() {
        let w = DMatrix::from_fn(6, 4, |i, j| ((i * 4 + j) as f32 * 0.7).sin());
        let exact = w.clone().svd(false, false).singular_values.max() as f64;
        approx::assert_relative_eq!(spectral_norm(&w, 1000), exact, max_relative = 1e-5);
        let mut a = IdealArray::new(w.clone());
        let (mut v, mut u) = (DMatrix::zeros(4, 1), DMatrix::zeros(6, 1));
        let by_reads = spectral_norm_by_reads(&mut a, 50, &mut v, &mut u) as f64;
        approx::assert_relative_eq!(by_reads, exact, max_relative = 1e-4);
    }
}
