//! Lipschitz estimates of a network, on the weights as a perfect read sees them:
//! the product of the layer spectral norms (an upper bound), the spectral norm of the weight product
//! W_L⋯W₁ (the authors' proxy), and the largest spectral norm of the input Jacobian over given inputs.
//!
//! On a linear network the last two are the same number and the first bounds them.

use crate::damping::{spectral_norm, start_vector};
use crate::network::{Network, add_bias};
use crate::periphery::{respond, respond_backward};
use crossbar::Crossbar;
use crossbar::IdealArray;
use crossbar::linalg::{Op, gemm};
use nalgebra::{DMatrix, DVector};

/// Power-iteration budget and relative tolerance of the estimates. The chains run in f32, whose
/// norms jitter by about 1e-7 relatively from one step to the next, so a finer tolerance would
/// never be met and every estimate would run the whole budget.
const MAX_ITERATIONS: usize = 1000;
const TOLERANCE: f64 = 1e-6;

/// Output widths up to which the weight product and the Jacobians are formed explicitly: n_L
/// backward passes and an n_L × n_L eigenproblem, exact and cheaper than power iteration.
const EXPLICIT_OUTPUTS: usize = 64;

/// The three estimates for one network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lipschitz {
    /// Πₖ ‖Wₖ‖₂.
    pub layer_product: f64,
    /// ‖W_L⋯W₁‖₂.
    pub weight_product: f64,
    /// maxₓ ‖∂f(x)/∂x‖₂ over the given inputs (through the realised neurons).
    pub jacobian: f64,
}

/// All three estimates; the Jacobian over the columns of `x`.
pub fn lipschitz<C: Crossbar>(net: &Network<C>, x: &DMatrix<f32>) -> Lipschitz {
    Lipschitz {
        layer_product: layer_norm_product(net),
        weight_product: weight_product_norm(net),
        jacobian: jacobian_norm(net, x),
    }
}

/// Πₖ ‖Wₖ‖₂.
pub fn layer_norm_product<C: Crossbar>(net: &Network<C>) -> f64 {
    net.layers
        .iter()
        .map(|l| spectral_norm(&l.array.weights(), MAX_ITERATIONS))
        .product()
}

/// ‖W_L⋯W₁‖₂: formed from the output side when the output is narrow, else by power iteration
/// through the chain.
pub fn weight_product_norm<C: Crossbar>(net: &Network<C>) -> f64 {
    weight_product_with(net, explicit(net))
}

fn explicit<C: Crossbar>(net: &Network<C>) -> bool {
    net.sizes()[net.depth()] <= EXPLICIT_OUTPUTS
}

fn weight_product_with<C: Crossbar>(net: &Network<C>, explicit: bool) -> f64 {
    let weights: Vec<_> = net.layers.iter().map(|l| l.array.weights()).collect();
    if explicit {
        return chain_norm(&weights, |_| None);
    }
    let mut v = DMatrix::zeros(net.sizes()[0], 1);
    start_vector(&mut v);
    let sigma = power_columns(
        &mut v,
        |z| weights.iter().fold(z.clone(), |z, w| product(w, Op::N, &z)),
        |z| {
            weights
                .iter()
                .rev()
                .fold(z.clone(), |z, w| product(w, Op::T, &z))
        },
    );
    sigma[0]
}

/// max over the columns x_b of `x` of ‖J(x_b)‖₂, J the input Jacobian of the realised network
/// (derivatives gᵢ·f′(a − oᵢ), the side f is flat on at a kink).
///
/// J(x) = D_L·W_L⋯D₁·W₁ with Dₖ the neuron slopes at x. With a narrow output J is formed row-block
/// by row-block from the output side (n_L backward passes) and its norm is exact; otherwise a
/// power-iteration step is two chains of products, and inputs are iterated in chunks, so one
/// slowly converging input keeps only its own chunk iterating.
pub fn jacobian_norm<C: Crossbar>(net: &Network<C>, x: &DMatrix<f32>) -> f64 {
    jacobian_with(net, x, explicit(net))
}

fn jacobian_with<C: Crossbar>(net: &Network<C>, x: &DMatrix<f32>, explicit: bool) -> f64 {
    const CHUNK: usize = 64;
    let ideal = net.to_ideal();
    let weights: Vec<_> = ideal.layers.iter().map(|l| l.array.weights()).collect();
    let mut largest = 0.0f64;
    let mut start = 0;
    while start < x.ncols() {
        let len = CHUNK.min(x.ncols() - start);
        let slopes = neuron_slopes(&ideal, &weights, &x.columns(start, len).into_owned());
        start += len;
        if explicit {
            for b in 0..len {
                let column = |k: usize| {
                    let n = slopes[k].nrows();
                    Some(&slopes[k].as_slice()[b * n..(b + 1) * n])
                };
                largest = largest.max(chain_norm(&weights, column));
            }
            continue;
        }
        let mut v = DMatrix::zeros(x.nrows(), len);
        for mut col in v.column_iter_mut() {
            let mut c = DMatrix::zeros(x.nrows(), 1);
            start_vector(&mut c);
            col.copy_from(&c.column(0));
        }
        let sigma = power_columns(
            &mut v,
            |z| {
                let mut z = z.clone();
                for (w, d) in weights.iter().zip(&slopes) {
                    z = product(w, Op::N, &z);
                    z.component_mul_assign(d);
                }
                z
            },
            |z| {
                let mut z = z.clone();
                for (w, d) in weights.iter().zip(&slopes).rev() {
                    z.component_mul_assign(d);
                    z = product(w, Op::T, &z);
                }
                z
            },
        );
        largest = sigma.into_iter().fold(largest, f64::max);
    }
    largest
}

/// gᵢ·f′(aᵢ − oᵢ) of every neuron of every layer, at the forward pass of each column of `x`.
fn neuron_slopes(
    ideal: &Network<IdealArray>,
    weights: &[DMatrix<f32>],
    x: &DMatrix<f32>,
) -> Vec<DMatrix<f32>> {
    let mut slopes = Vec::with_capacity(weights.len());
    let mut h = x.clone();
    for (k, (w, layer)) in weights.iter().zip(&ideal.layers).enumerate() {
        let mut a = product(w, Op::N, &h);
        add_bias(&mut a, &layer.bias);
        let (f, m) = (ideal.activation_of(k + 1), ideal.mismatch_of(k + 1));
        let mut slope = DMatrix::from_element(a.nrows(), a.ncols(), 1.0);
        respond_backward(f, m, &a, &mut slope);
        let (gain, offset) = match m {
            Some(m) => (m.act_gain.clone(), m.act_offset.clone()),
            None => (
                DVector::from_element(a.nrows(), 1.0),
                DVector::zeros(a.nrows()),
            ),
        };
        h = DMatrix::zeros(a.nrows(), a.ncols());
        respond(f, &gain, &offset, &a, &mut h);
        slopes.push(slope);
    }
    slopes
}

/// ‖D_L·W_L⋯D₁·W₁‖₂ with Dₖ = diag(`slope(k)`) (identity where `None`), formed from the output side
/// as the n_L × n₀ matrix M; its norm is √λ_max(M·Mᵀ), in f64.
fn chain_norm<'a>(weights: &[DMatrix<f32>], slope: impl Fn(usize) -> Option<&'a [f32]>) -> f64 {
    let last = weights.len() - 1;
    let mut m = weights[last].clone();
    if let Some(d) = slope(last) {
        for (mut row, &s) in m.row_iter_mut().zip(d) {
            row *= s;
        }
    }
    for k in (0..last).rev() {
        if let Some(d) = slope(k) {
            for (mut col, &s) in m.column_iter_mut().zip(d) {
                col *= s;
            }
        }
        m = product(&m, Op::N, &weights[k]);
    }
    let m = m.cast::<f64>();
    let gram = &m * m.transpose();
    gram.symmetric_eigenvalues().max().max(0.0).sqrt()
}

/// op(W)·z by the crate's matrix product.
fn product(w: &DMatrix<f32>, op: Op, z: &DMatrix<f32>) -> DMatrix<f32> {
    let rows = if op == Op::N { w.nrows() } else { w.ncols() };
    let mut out = DMatrix::zeros(rows, z.ncols());
    gemm(1.0, w, op, z, Op::N, 0.0, &mut out);
    out
}

/// Power iteration on every column of `v` at once for the operator A given as `apply` (A·V) and
/// `apply_t` (Aᵀ·U); returns ‖A·v_b‖ per column once every column's estimate has settled.
fn power_columns(
    v: &mut DMatrix<f32>,
    apply: impl Fn(&DMatrix<f32>) -> DMatrix<f32>,
    apply_t: impl Fn(&DMatrix<f32>) -> DMatrix<f32>,
) -> Vec<f64> {
    let mut sigma = vec![0.0f64; v.ncols()];
    for _ in 0..MAX_ITERATIONS {
        let u = apply(v);
        let next: Vec<f64> = u.column_iter().map(|c| c.norm() as f64).collect();
        let settled = next
            .iter()
            .zip(&sigma)
            .all(|(n, s)| (n - s).abs() <= TOLERANCE * n);
        sigma = next;
        if settled {
            break;
        }
        *v = apply_t(&u);
        for mut col in v.column_iter_mut() {
            let norm = col.norm();
            if norm > 0.0 && norm.is_finite() {
                col /= norm;
            }
        }
    }
    sigma
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{batch, network};
    use crate::{Activation, Loss};

    #[test]
    fn explicit_chains_equal_power_iteration() {
        let sizes = [12, 9, 7, 5];
        let (x, _) = batch(6, sizes[0], sizes[3], 8);
        for activation in [Activation::Relu, Activation::Tanh] {
            let net = network(&sizes, activation, Loss::Mse, 4);
            // Power iteration stops at a relative change of 1e-6 per step; its estimate lies
            // below σ by at most about that divided by the spectral gap, well inside 1e-4 here.
            approx::assert_relative_eq!(
                weight_product_with(&net, true),
                weight_product_with(&net, false),
                max_relative = 1e-4
            );
            approx::assert_relative_eq!(
                jacobian_with(&net, &x, true),
                jacobian_with(&net, &x, false),
                max_relative = 1e-4
            );
        }
    }
}
