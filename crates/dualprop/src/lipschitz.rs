//! Lipschitz estimates of a network, on the weights as a perfect read sees them:
//! the product of the blocks' spectral norms (an upper bound), the spectral norm of the product of
//! the blocks' linear maps A_L⋯A₁ (the authors' proxy), and the largest spectral norm of the input
//! Jacobian over given inputs.
//!
//! A block is a linear map Aₖ — a dense weight matrix, or a convolution written out as the matrix
//! it applies to one image (without its pooling) — then, for a pooled convolution, 2×2 max-pooling,
//! then a bias and the activation. Max-pooling is 1-Lipschitz in the Euclidean norm (its windows
//! do not overlap) but not linear, so the weight product multiplies the norms of the linear
//! stretches between poolings; see [`weight_product_norm`].
//!
//! On a linear network without pooling the last two are the same number and the first bounds them.

use crate::block::{Block, ConvShape};
use crate::conv::{self, Workspaces};
use crate::damping::{spectral_norm, start_vector};
use crate::im2col::{max_pool, pool_along, unpool};
use crate::network::{Network, add_bias};
use crate::periphery::{respond, respond_backward};
use crossbar::Crossbar;
use crossbar::IdealArray;
use crossbar::linalg::{Op, gemm};
use nalgebra::{DMatrix, DVector};
use std::ops::Range;

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
    /// Πₖ ‖Aₖ‖₂.
    pub layer_product: f64,
    /// ‖A_L⋯A₁‖₂, a product over the linear stretches of a network with max-pooling.
    pub weight_product: f64,
    /// maxₓ ‖∂f(x)/∂x‖₂ over the given inputs (through the realised neurons and, at each input,
    /// the max-pooling routing it takes).
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

/// Πₖ ‖Aₖ‖₂: for a convolution the norm of its operator on one image, by power iteration through
/// its reads (the iteration damped DP uses for γ, run to the estimates' tolerance).
///
/// With nominal neurons this bounds the network's Lipschitz constant: the activations have slopes
/// in [0, 1] and max-pooling is 1-Lipschitz.
pub fn layer_norm_product<C: Crossbar>(net: &Network<C>) -> f64 {
    let mut chain = Chain::new(net);
    (0..chain.depth()).map(|k| chain.norm(k)).product()
}

/// ‖A_L⋯A₁‖₂, the spectral norm of the network with every activation replaced by the identity.
///
/// Max-pooling is not linear, so a network with it has no such product. The blocks are cut after
/// every pooled convolution into stretches whose maps are linear, and the estimate is the product of
/// the stretches' norms (each pooling counted as 1, its Lipschitz constant): a bound on the
/// Lipschitz constant of the network with identity activations, equal to the plain product for a
/// network without pooling. Each stretch is formed from its output side when the output is narrow,
/// else its norm is found by power iteration through the chain.
pub fn weight_product_norm<C: Crossbar>(net: &Network<C>) -> f64 {
    weight_product_with(net, |width| width <= EXPLICIT_OUTPUTS)
}

pub(crate) fn weight_product_with<C: Crossbar>(
    net: &Network<C>,
    explicit: impl Fn(usize) -> bool,
) -> f64 {
    let mut chain = Chain::new(net);
    let mut product = 1.0;
    for blocks in chain.stretches() {
        let norm = if explicit(chain.outputs(blocks.end - 1)) {
            chain_norm(&mut chain, blocks, |_| None, |_| None)
        } else {
            let mut v = DMatrix::zeros(chain.inputs(blocks.start), 1);
            start_vector(&mut v);
            power_columns(&mut v, |z, op| chain.through(blocks.clone(), op, z, None))[0]
        };
        product *= norm;
    }
    product
}

/// max over the columns x_b of `x` of ‖J(x_b)‖₂, J the input Jacobian of the realised network
/// (derivatives gᵢ·f′(a − oᵢ), the side f is flat on at a kink).
///
/// J(x) = D_L·A_L⋯D₁·R₁·A₁ with Dₖ the neuron slopes at x and Rₖ the selection a pooled block's
/// max-pooling makes at x (the first of equal maxima). With a narrow output J is formed row-block
/// by row-block from the output side (n_L backward passes) and its norm is exact; otherwise a
/// power-iteration step is two chains of products, and inputs are iterated in chunks, so one
/// slowly converging input keeps only its own chunk iterating.
pub fn jacobian_norm<C: Crossbar>(net: &Network<C>, x: &DMatrix<f32>) -> f64 {
    jacobian_with(net, x, net.sizes()[net.depth()] <= EXPLICIT_OUTPUTS)
}

pub(crate) fn jacobian_with<C: Crossbar>(
    net: &Network<C>,
    x: &DMatrix<f32>,
    explicit: bool,
) -> f64 {
    const CHUNK: usize = 64;
    let mut chain = Chain::new(net);
    let depth = chain.depth();
    let mut largest = 0.0f64;
    let mut start = 0;
    while start < x.ncols() {
        let len = CHUNK.min(x.ncols() - start);
        let at = chain.linearise(&x.columns(start, len).into_owned());
        start += len;
        if explicit {
            for b in 0..len {
                let slope = |k: usize| {
                    let n = at.slopes[k].nrows();
                    Some(&at.slopes[k].as_slice()[b * n..(b + 1) * n])
                };
                let route = |k: usize| {
                    at.routes[k].as_ref().map(|r| {
                        let n = r.len() / len;
                        &r[b * n..(b + 1) * n]
                    })
                };
                largest = largest.max(chain_norm(&mut chain, 0..depth, slope, route));
            }
            continue;
        }
        let mut v = DMatrix::zeros(x.nrows(), len);
        for mut col in v.column_iter_mut() {
            let mut c = DMatrix::zeros(x.nrows(), 1);
            start_vector(&mut c);
            col.copy_from(&c.column(0));
        }
        let sigma = power_columns(&mut v, |z, op| chain.through(0..depth, op, z, Some(&at)));
        largest = sigma.into_iter().fold(largest, f64::max);
    }
    largest
}

/// Where a network is linearised: per block, the neuron slopes gᵢ·f′(aᵢ − oᵢ) (units × columns)
/// and, for a pooled convolution, the routing of its max-pooling (pooled units × columns).
struct Linearised {
    slopes: Vec<DMatrix<f32>>,
    routes: Vec<Option<Vec<u32>>>,
}

/// The blocks' linear maps on ideal arrays holding the weights as a perfect read sees them.
struct Chain {
    net: Network<IdealArray>,
    weights: Vec<DMatrix<f32>>,
    work: Workspaces,
}

impl Chain {
    fn new<C: Crossbar>(net: &Network<C>) -> Self {
        let net = net.to_ideal();
        let weights = net.layers.iter().map(|l| l.array.weights()).collect();
        Self {
            net,
            weights,
            work: Workspaces::default(),
        }
    }

    fn depth(&self) -> usize {
        self.weights.len()
    }

    /// Block `k`'s convolution without its pooling (`None` for a dense block).
    fn conv(&self, k: usize) -> Option<ConvShape> {
        self.net.blocks()[k]
            .conv()
            .map(|s| ConvShape { pool: false, ..*s })
    }

    /// Block `k`'s convolution if it pools.
    fn pooled(&self, k: usize) -> Option<ConvShape> {
        self.net.blocks()[k].conv().filter(|s| s.pool).copied()
    }

    /// Units Aₖ reads.
    fn inputs(&self, k: usize) -> usize {
        match self.conv(k) {
            None => self.weights[k].ncols(),
            Some(s) => s.input.units(),
        }
    }

    /// Units Aₖ writes (before any pooling).
    fn outputs(&self, k: usize) -> usize {
        match self.conv(k) {
            None => self.weights[k].nrows(),
            Some(s) => s.channels * s.positions(),
        }
    }

    /// The blocks cut after every pooled convolution.
    fn stretches(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for k in 0..self.depth() {
            if self.pooled(k).is_some() || k + 1 == self.depth() {
                out.push(start..k + 1);
                start = k + 1;
            }
        }
        out
    }

    /// ‖Aₖ‖₂.
    fn norm(&mut self, k: usize) -> f64 {
        let Some(s) = self.conv(k) else {
            return spectral_norm(&self.weights[k], MAX_ITERATIONS);
        };
        let mut v = DMatrix::zeros(s.input.units(), 1);
        start_vector(&mut v);
        let array = &mut self.net.layers[k].array;
        let tolerance = Some(TOLERANCE as f32);
        conv::spectral_norm_by_reads(
            array,
            &s,
            &mut self.work,
            k,
            MAX_ITERATIONS,
            tolerance,
            &mut v,
        ) as f64
    }

    /// op(Aₖ)·z.
    fn apply(&mut self, k: usize, op: Op, z: &DMatrix<f32>) -> DMatrix<f32> {
        let Some(s) = self.conv(k) else {
            return product(&self.weights[k], op, z);
        };
        let (array, block) = (&mut self.net.layers[k].array, Block::Conv(s));
        if op == Op::N {
            let mut y = DMatrix::zeros(s.channels * s.positions(), z.ncols());
            conv::read(array, &block, &mut self.work, k, z, &mut y);
            y
        } else {
            let mut y = DMatrix::zeros(s.input.units(), z.ncols());
            conv::read_transposed(array, &block, &mut self.work, k, z, None, &mut y);
            y
        }
    }

    /// Dₖ·Rₖ·Aₖ·z (op N) or Aₖᵀ·Rₖᵀ·Dₖ·z (op T), with Rₖ the pooling along `route` (leaving it out
    /// when `None`) and Dₖ = diag(`slope`) (the identity when `None`); every column of z has its
    /// own column of `slope` and of `route`.
    fn block(
        &mut self,
        k: usize,
        op: Op,
        z: &DMatrix<f32>,
        route: Option<&[u32]>,
        slope: Option<&DMatrix<f32>>,
    ) -> DMatrix<f32> {
        let pool = route.zip(self.pooled(k));
        if op == Op::N {
            let mut y = self.apply(k, Op::N, z);
            if let Some((route, s)) = pool {
                let mut pooled = DMatrix::zeros(s.output().units(), y.ncols());
                pool_along(&s, y.as_slice(), route, pooled.as_mut_slice());
                y = pooled;
            }
            if let Some(d) = slope {
                y.component_mul_assign(d);
            }
            return y;
        }
        let mut z = z.clone();
        if let Some(d) = slope {
            z.component_mul_assign(d);
        }
        if let Some((route, s)) = pool {
            let mut spread = DMatrix::zeros(self.outputs(k), z.ncols());
            unpool(&s, z.as_slice(), route, spread.as_mut_slice());
            z = spread;
        }
        self.apply(k, Op::T, &z)
    }

    /// The chain of `blocks` (op N, first block first) or its transpose (op T), linearised `at`
    /// (slopes and routings) or, when `None`, of the bare linear maps.
    fn through(
        &mut self,
        blocks: Range<usize>,
        op: Op,
        z: &DMatrix<f32>,
        at: Option<&Linearised>,
    ) -> DMatrix<f32> {
        let route = |k: usize| at.and_then(|a| a.routes[k].as_deref());
        let slope = |k: usize| at.map(|a| &a.slopes[k]);
        let mut z = z.clone();
        if op == Op::N {
            for k in blocks {
                z = self.block(k, op, &z, route(k), slope(k));
            }
        } else {
            for k in blocks.rev() {
                z = self.block(k, op, &z, route(k), slope(k));
            }
        }
        z
    }

    /// M·Rₖ·Aₖ for M with rows of block k's units (after pooling when `route` is given): the
    /// transposed chain applied to Mᵀ, with the one routing `route` for every row.
    fn times(&mut self, m: &DMatrix<f32>, k: usize, route: Option<&[u32]>) -> DMatrix<f32> {
        if self.conv(k).is_none() {
            return product(m, Op::N, &self.weights[k]);
        }
        let routes = route.map(|r| r.repeat(m.nrows()));
        self.block(k, Op::T, &m.transpose(), routes.as_deref(), None)
            .transpose()
    }

    /// Slopes and routings of the forward pass of every column of `x`.
    fn linearise(&mut self, x: &DMatrix<f32>) -> Linearised {
        let depth = self.depth();
        let mut at = Linearised {
            slopes: Vec::with_capacity(depth),
            routes: Vec::with_capacity(depth),
        };
        let mut h = x.clone();
        for k in 0..depth {
            let mut a = self.apply(k, Op::N, &h);
            let mut route = None;
            if let Some(s) = self.pooled(k) {
                let mut pooled = DMatrix::zeros(s.output().units(), a.ncols());
                let mut r = vec![0; pooled.len()];
                max_pool(&s, a.as_slice(), pooled.as_mut_slice(), &mut r);
                a = pooled;
                route = Some(r);
            }
            add_bias(&mut a, &self.net.layers[k].bias);
            let (f, m) = (self.net.activation_of(k + 1), self.net.mismatch_of(k + 1));
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
            at.slopes.push(slope);
            at.routes.push(route);
        }
        at
    }
}

/// ‖D_b·R_b·A_b⋯D_a·R_a·A_a‖₂ over `blocks` (a..b+1), with Dₖ = diag(`slope(k)`) and Rₖ the pooling
/// along `route(k)` (each left out where `None`), formed from the output side as the matrix M with
/// one row per output; its norm is √λ_max(M·Mᵀ), in f64.
fn chain_norm<'a>(
    chain: &mut Chain,
    blocks: Range<usize>,
    slope: impl Fn(usize) -> Option<&'a [f32]>,
    route: impl Fn(usize) -> Option<&'a [u32]>,
) -> f64 {
    let scale_columns = |m: &mut DMatrix<f32>, d: Option<&[f32]>| {
        if let Some(d) = d {
            for (mut col, &s) in m.column_iter_mut().zip(d) {
                col *= s;
            }
        }
    };
    let last = blocks.end - 1;
    let mut m = if chain.conv(last).is_none() {
        let mut m = chain.weights[last].clone();
        if let Some(d) = slope(last) {
            for (mut row, &s) in m.row_iter_mut().zip(d) {
                row *= s;
            }
        }
        m
    } else {
        let n = match route(last).zip(chain.pooled(last)) {
            Some((_, s)) => s.output().units(),
            None => chain.outputs(last),
        };
        let mut m = DMatrix::identity(n, n);
        scale_columns(&mut m, slope(last));
        chain.times(&m, last, route(last))
    };
    for k in (blocks.start..last).rev() {
        scale_columns(&mut m, slope(k));
        m = chain.times(&m, k, route(k));
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

/// Power iteration on every column of `v` at once for the operator A given as `apply` (A·V for
/// op N, Aᵀ·U for op T); returns ‖A·v_b‖ per column once every column's estimate has settled.
fn power_columns(
    v: &mut DMatrix<f32>,
    mut apply: impl FnMut(&DMatrix<f32>, Op) -> DMatrix<f32>,
) -> Vec<f64> {
    let mut sigma = vec![0.0f64; v.ncols()];
    for _ in 0..MAX_ITERATIONS {
        let u = apply(v, Op::N);
        let next: Vec<f64> = u.column_iter().map(|c| c.norm() as f64).collect();
        let settled = next
            .iter()
            .zip(&sigma)
            .all(|(n, s)| (n - s).abs() <= TOLERANCE * n);
        sigma = next;
        if settled {
            break;
        }
        *v = apply(&u, Op::T);
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
                weight_product_with(&net, |_| true),
                weight_product_with(&net, |_| false),
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
