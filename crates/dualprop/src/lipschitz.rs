//! Lipschitz estimates of a network, on the weights as a perfect read sees them:
//! the product of the layer spectral norms (an upper bound), the spectral norm of the weight product
//! W_L⋯W₁ (the authors' proxy), and the largest spectral norm of the input Jacobian over given inputs.
//!
//! On a linear network the last two are the same number and the first bounds them.

use crate::damping::{spectral_norm, start_vector};
use crate::network::{Network, add_bias};
use crate::periphery::{respond, respond_backward};
use crossbar::Crossbar;
use crossbar::linalg::{Op, gemm};
use nalgebra::DMatrix;

/// Power-iteration budget and relative tolerance of the estimates.
const MAX_ITERATIONS: usize = 1000;
const TOLERANCE: f64 = 1e-7;

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

/// ‖W_L⋯W₁‖₂, by power iteration through the chain (the product is never formed).
pub fn weight_product_norm<C: Crossbar>(net: &Network<C>) -> f64 {
    let weights: Vec<_> = net.layers.iter().map(|l| l.array.weights()).collect();
    let mut v = DMatrix::zeros(net.sizes()[0], 1);
    start_vector(&mut v);
    let sigma = power_columns(
        &mut v,
        |z| weights.iter().fold(z.clone(), |z, w| w * z),
        |z| {
            weights
                .iter()
                .rev()
                .fold(z.clone(), |z, w| w.transpose() * z)
        },
    );
    sigma[0]
}

/// max over the columns x_b of `x` of ‖J(x_b)‖₂, J the input Jacobian of the realised network
/// (derivatives gᵢ·f′(a − oᵢ), the side f is flat on at a kink).
pub fn jacobian_norm<C: Crossbar>(net: &Network<C>, x: &DMatrix<f32>) -> f64 {
    if x.ncols() == 0 {
        return 0.0;
    }
    let ideal = net.to_ideal();
    let weights: Vec<_> = ideal.layers.iter().map(|l| l.array.weights()).collect();
    // Pre-activations of the forward pass at x, which fix the Jacobian.
    let mut pre = Vec::with_capacity(weights.len());
    let mut h = x.clone();
    for (k, (w, layer)) in weights.iter().zip(&ideal.layers).enumerate() {
        let mut a = DMatrix::zeros(w.nrows(), x.ncols());
        gemm(1.0, w, Op::N, &h, Op::N, 0.0, &mut a);
        add_bias(&mut a, &layer.bias);
        let m = ideal.mismatch_of(k + 1);
        let (gain, offset) = match m {
            Some(m) => (m.act_gain.clone(), m.act_offset.clone()),
            None => (
                nalgebra::DVector::from_element(w.nrows(), 1.0),
                nalgebra::DVector::zeros(w.nrows()),
            ),
        };
        let mut out = DMatrix::zeros(w.nrows(), x.ncols());
        respond(ideal.activation_of(k + 1), &gain, &offset, &a, &mut out);
        pre.push(a);
        h = out;
    }
    let through_neurons = |k: usize, z: &mut DMatrix<f32>| {
        respond_backward(
            ideal.activation_of(k + 1),
            ideal.mismatch_of(k + 1),
            &pre[k],
            z,
        );
    };
    let mut v = DMatrix::zeros(x.nrows(), x.ncols());
    for mut col in v.column_iter_mut() {
        let mut c = DMatrix::zeros(x.nrows(), 1);
        start_vector(&mut c);
        col.copy_from(&c.column(0));
    }
    let sigma = power_columns(
        &mut v,
        |z| {
            let mut z = z.clone();
            for (k, w) in weights.iter().enumerate() {
                z = w * z;
                through_neurons(k, &mut z);
            }
            z
        },
        |z| {
            let mut z = z.clone();
            for (k, w) in weights.iter().enumerate().rev() {
                through_neurons(k, &mut z);
                z = w.transpose() * z;
            }
            z
        },
    );
    sigma.into_iter().fold(0.0, f64::max)
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
