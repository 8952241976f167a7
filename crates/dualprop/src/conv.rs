//! A block's reads through its array: dense layers read the layer below directly; convolution
//! blocks read im2col patches (one array read with positions × batch as columns, as aihwkit maps
//! `AnalogConv2d`), then max-pool, and read transposed through the un-pooling and col2im.
//!
//! Convolution buffers live in [`Workspaces`], allocated once per batch size by whoever owns them
//! (the dyads, the backprop buffers, an optimiser), so settling does not allocate.

use crate::block::{Block, ConvShape};
use crate::im2col::{col2im, im2col, max_pool, unpool};
use crossbar::Crossbar;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Where the max-pooling routing of a pooled convolution block is evaluated.
///
/// The routing of the weight update is always that of the block's bottom-up drive, conv(s̄ₖ₋₁).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolRouting {
    /// As the authors' code: the top-down signal into layer k−1 takes the routing of
    /// conv(s⁺ₖ₋₁), the block evaluated at the receiving layer's positive compartment (their
    /// feedback is the gradient of ⟨layer(s), δ⟩ with respect to s at s = s⁺).
    #[default]
    PlusState,
    /// Both the top-down signal and the weight update take the routing of conv(s̄ₖ₋₁).
    MeanState,
}

/// The buffers of one convolution block for a batch of B samples.
#[derive(Clone, Debug)]
pub(crate) struct ConvWork {
    batch: usize,
    /// im2col of the block's input: patch × (P·B).
    pub patches: DMatrix<f32>,
    /// The convolution output: C_out × (P·B).
    pub conv: DMatrix<f32>,
    /// A signal at the convolution's positions (un-pooled δ): C_out × (P·B).
    pub dconv: DMatrix<f32>,
    /// The transposed read of `dconv`: patch × (P·B).
    pub dpatches: DMatrix<f32>,
    /// The pooling routing: per pooled unit, the index within its sample of the element it took.
    pub route: Vec<u32>,
    /// Pooled values when only the routing is wanted.
    scratch: Vec<f32>,
}

impl ConvWork {
    fn new(s: &ConvShape, batch: usize) -> Self {
        let cols = s.positions() * batch;
        Self {
            dconv: DMatrix::zeros(s.channels, cols),
            dpatches: DMatrix::zeros(s.patch(), cols),
            scratch: vec![
                0.0;
                if s.pool {
                    s.output().units() * batch
                } else {
                    0
                }
            ],
            ..Self::forward_only(s, batch)
        }
    }
}

impl ConvWork {
    /// The buffers a forward [`read`] uses (patches, output, routing) and no top-down ones, for
    /// evaluating a chunk: at a chunk of 1 000 images the top-down buffers of the cnn-fmnist
    /// network's second block alone would take 276 MB.
    fn forward_only(s: &ConvShape, batch: usize) -> Self {
        let cols = s.positions() * batch;
        let pooled = s.output().units() * batch;
        Self {
            batch,
            patches: DMatrix::zeros(s.patch(), cols),
            conv: DMatrix::zeros(s.channels, cols),
            dconv: DMatrix::zeros(0, 0),
            dpatches: DMatrix::zeros(0, 0),
            route: vec![0; if s.pool { pooled } else { 0 }],
            scratch: Vec::new(),
        }
    }
}

/// One optional [`ConvWork`] per layer, (re)allocated when the batch size changes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Workspaces(Vec<Option<ConvWork>>);

impl Workspaces {
    /// The buffers of layer index `i` (0-based) for `batch` samples.
    pub fn get(&mut self, i: usize, s: &ConvShape, batch: usize) -> &mut ConvWork {
        if self.0.len() <= i {
            self.0.resize_with(i + 1, || None);
        }
        let slot = &mut self.0[i];
        if slot.as_ref().is_none_or(|w| w.batch != batch) {
            *slot = Some(ConvWork::new(s, batch));
        }
        slot.as_mut().expect("allocated above")
    }

    /// Buffers for forward reads of layer index `i` only (see [`read`]), for `batch` samples: what
    /// an evaluation needs. Nothing else may use them.
    pub fn forward_only(i: usize, s: &ConvShape, batch: usize) -> Self {
        let mut slots: Vec<Option<ConvWork>> = (0..=i).map(|_| None).collect();
        slots[i] = Some(ConvWork::forward_only(s, batch));
        Self(slots)
    }

    /// The buffers of layer index `i` as last used.
    pub fn peek(&self, i: usize) -> Option<&ConvWork> {
        self.0.get(i).and_then(Option::as_ref)
    }
}

/// y ← the block's linear part and pooling applied to x (units × B each; no bias). A convolution
/// records the routing of the pooling it applied.
pub(crate) fn read<C: Crossbar>(
    array: &mut C,
    block: &Block,
    work: &mut Workspaces,
    i: usize,
    x: &DMatrix<f32>,
    y: &mut DMatrix<f32>,
) {
    let Some(s) = block.conv() else {
        array.read(x, y);
        return;
    };
    let w = work.get(i, s, x.ncols());
    im2col(s, x.as_slice(), w.patches.as_mut_slice());
    array.read(&w.patches, &mut w.conv);
    if s.pool {
        max_pool(s, w.conv.as_slice(), y.as_mut_slice(), &mut w.route);
    } else {
        y.as_mut_slice().copy_from_slice(w.conv.as_slice());
    }
}

/// The routing of a pooled block evaluated at the state `at` (units × B) of the layer below: one
/// array read of its patches.
fn route_at<C: Crossbar>(array: &mut C, s: &ConvShape, w: &mut ConvWork, at: &DMatrix<f32>) {
    im2col(s, at.as_slice(), w.patches.as_mut_slice());
    array.read(&w.patches, &mut w.conv);
    max_pool(s, w.conv.as_slice(), &mut w.scratch, &mut w.route);
}

/// z ← the transpose of the block's linear part and pooling applied to d (units of the block × B
/// into units of the layer below × B). The pooling routing is evaluated at `at` when given, else
/// the routing of the block's last [`read`] is used.
pub(crate) fn read_transposed<C: Crossbar>(
    array: &mut C,
    block: &Block,
    work: &mut Workspaces,
    i: usize,
    d: &DMatrix<f32>,
    at: Option<&DMatrix<f32>>,
    z: &mut DMatrix<f32>,
) {
    let Some(s) = block.conv() else {
        array.read_transposed(d, z);
        return;
    };
    let w = work.get(i, s, d.ncols());
    to_positions(array, s, w, d, at);
    array.read_transposed(&w.dconv, &mut w.dpatches);
    col2im(s, w.dpatches.as_slice(), z.as_mut_slice());
}

/// w.dconv ← d at the convolution's positions (un-pooled along the routing at `at`, or the stored one).
fn to_positions<C: Crossbar>(
    array: &mut C,
    s: &ConvShape,
    w: &mut ConvWork,
    d: &DMatrix<f32>,
    at: Option<&DMatrix<f32>>,
) {
    if s.pool {
        if let Some(at) = at {
            route_at(array, s, w, at);
        }
        unpool(s, d.as_slice(), &w.route, w.dconv.as_mut_slice());
    } else {
        w.dconv.as_mut_slice().copy_from_slice(d.as_slice());
    }
}

/// The two factors of a convolution block's weight update, (patches of `below`, `d` at the
/// convolution's positions), with the pooling routed at conv(`below`) (one array read) or, when
/// `below` is `None`, along the routing of the block's last [`read`] (whose patches are kept).
pub(crate) fn factors<'w, C: Crossbar>(
    array: &mut C,
    s: &ConvShape,
    work: &'w mut Workspaces,
    i: usize,
    below: Option<&DMatrix<f32>>,
    d: &DMatrix<f32>,
) -> &'w mut ConvWork {
    let w = work.get(i, s, d.ncols());
    if let Some(below) = below {
        im2col(s, below.as_slice(), w.patches.as_mut_slice());
        if s.pool {
            array.read(&w.patches, &mut w.conv);
            max_pool(s, w.conv.as_slice(), &mut w.scratch, &mut w.route);
        }
    }
    if s.pool {
        unpool(s, d.as_slice(), &w.route, w.dconv.as_mut_slice());
    } else {
        w.dconv.as_mut_slice().copy_from_slice(d.as_slice());
    }
    w
}

/// ‖conv‖₂ of a convolution block's linear map (one sample, no pooling) by power iteration through
/// its array reads, starting from the unit vector `v` (input units × 1): `iterations` steps, or
/// fewer once a step changes the estimate of ‖conv‖₂² by at most `tolerance` relatively.
///
/// Damped DP runs a fixed budget (`None`), as an on-chip estimate would; the Lipschitz diagnostics
/// iterate to a tolerance.
pub(crate) fn spectral_norm_by_reads<C: Crossbar>(
    array: &mut C,
    s: &ConvShape,
    work: &mut Workspaces,
    i: usize,
    iterations: usize,
    tolerance: Option<f32>,
    v: &mut DMatrix<f32>,
) -> f32 {
    let w = work.get(i, s, 1);
    let mut previous = 0.0f32;
    for _ in 0..iterations {
        im2col(s, v.as_slice(), w.patches.as_mut_slice());
        array.read(&w.patches, &mut w.conv);
        array.read_transposed(&w.conv, &mut w.dpatches);
        col2im(s, w.dpatches.as_slice(), v.as_mut_slice());
        let norm = v.norm();
        if !(norm.is_finite() && norm > 0.0) {
            return 0.0;
        }
        *v /= norm;
        if tolerance.is_some_and(|t| (norm - previous).abs() <= t * norm) {
            break;
        }
        previous = norm;
    }
    im2col(s, v.as_slice(), w.patches.as_mut_slice());
    array.read(&w.patches, &mut w.conv);
    w.conv.norm()
}

/// Add the bias to every unit of `m` (units × B): per neuron for a dense block, per channel for a
/// convolution (the channel is the fastest index of the units).
pub(crate) fn add_bias(m: &mut DMatrix<f32>, bias: &nalgebra::DVector<f32>) {
    let n = bias.len();
    for chunk in m.as_mut_slice().chunks_exact_mut(n) {
        for (v, b) in chunk.iter_mut().zip(bias.iter()) {
            *v += b;
        }
    }
}

/// out ← per channel, the sum over a sample's positions of `d` (units × B), averaged over the batch;
/// for a dense block the mean of each row.
pub(crate) fn channel_means(d: &DMatrix<f32>, out: &mut nalgebra::DVector<f32>) {
    let n = out.len();
    out.fill(0.0);
    for chunk in d.as_slice().chunks_exact(n) {
        for (o, v) in out.iter_mut().zip(chunk) {
            *o += v;
        }
    }
    *out /= d.ncols().max(1) as f32;
}
