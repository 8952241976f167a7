//! Multilayer dyadic networks: crossbar synapse layers with digital biases.

use crate::activation::Activation;
use crate::block::{Block, BlockError, BlockSpec, Image};
use crate::conv::{PoolRouting, Workspaces};
use crate::counts::NetCounts;
use crate::dyads::Dyads;
use crate::loss::Loss;
use crate::periphery::{Periphery, respond};
use crossbar::{
    Crossbar, IdealArray, NeuronMismatch, SnapshotError, SnapshotReader, SnapshotWriter,
};
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One synapse layer: the weights on a crossbar and a bias vector held in the digital periphery.
#[derive(Clone, Debug)]
pub struct Layer<C> {
    /// The weight array Wₖ (outputs × inputs).
    pub array: C,
    /// The bias bₖ.
    pub bias: DVector<f32>,
}

/// A network whose shape does not chain.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum NetworkError {
    /// Fewer than two sizes (an input and an output).
    #[error("a network needs at least an input and an output size (got {0} sizes)")]
    TooShallow(usize),
    /// A layer of width zero.
    #[error("layer {0} has zero neurons")]
    EmptyLayer(usize),
    /// Layer k's array does not read layer k−1.
    #[error(
        "layer {layer}: array is {outputs}×{inputs} but the layers around it need {expected_outputs}×{expected_inputs}"
    )]
    Shape {
        /// 1-based layer index.
        layer: usize,
        /// Array outputs.
        outputs: usize,
        /// Array inputs.
        inputs: usize,
        /// Required outputs.
        expected_outputs: usize,
        /// Required inputs.
        expected_inputs: usize,
    },
    /// A mismatch list whose length is not the number of layers.
    #[error("mismatch: expected one entry per layer ({expected}), got {got}")]
    MismatchLayers {
        /// Layers of the network.
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// A layer's mismatch vectors do not have one entry per neuron.
    #[error(
        "mismatch of layer {layer}: {field} has {got} entries but the layer has {expected} neurons"
    )]
    MismatchWidth {
        /// 1-based layer index.
        layer: usize,
        /// The offending field.
        field: &'static str,
        /// Entries given.
        got: usize,
        /// Neurons in the layer.
        expected: usize,
    },
    /// A mismatch parameter that is not a finite number (or a negative noise or leak).
    #[error(
        "mismatch of layer {layer}: {field} must be finite (and non-negative for noise and leak)"
    )]
    MismatchValue {
        /// 1-based layer index.
        layer: usize,
        /// The offending field.
        field: &'static str,
    },
    /// Block descriptions that do not chain.
    #[error(transparent)]
    Block(#[from] BlockError),
    /// A convolution whose input image is not the layer below.
    #[error("layer {layer}: the convolution reads {units} units but the layer below has {below}")]
    BlockInput {
        /// 1-based layer index.
        layer: usize,
        /// Units of the convolution's input image.
        units: usize,
        /// Units of the layer below.
        below: usize,
    },
}

/// A feed-forward stack of dyadic layers; hidden layers use `activation`, the output layer is linear.
#[derive(Clone, Debug)]
pub struct Network<C> {
    /// Synapse layers 1..L.
    pub layers: Vec<Layer<C>>,
    /// Transfer function of the hidden neurons.
    pub activation: Activation,
    /// Training loss on the linear output.
    pub loss: Loss,
    sizes: Vec<usize>,
    /// The geometry of every layer's block (all dense for an MLP).
    blocks: Vec<Block>,
    /// Where the max-pooling routing of the top-down signal is evaluated.
    pub pool_routing: PoolRouting,
    /// Neuron-circuit mismatch; `None` for exactly nominal neurons.
    periphery: Option<Periphery>,
    /// What training has done on the network side so far (the arrays count the rest).
    pub counts: NetCounts,
}

/// How the initial weights and biases are drawn (fan_in: the array's inputs, the layer's input
/// width for a dense block and C_in·k·k for a convolution).
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
pub enum Init {
    /// Weights and biases U(−1/√fan_in, 1/√fan_in), as PyTorch's `Linear` (and the authors'
    /// Python code) draws them.
    #[default]
    Uniform,
    /// Weights N(0, 1/fan_in) (standard deviation 1/√fan_in, not truncated), biases 0: the authors'
    /// Julia MLP code (`randn(…)/28` for the 784 inputs, `randn(…)/√512` after).
    FanInNormal,
    /// Weights from a normal distribution truncated at ±2 standard deviations, scaled to variance
    /// 1/fan_in, biases 0: JAX's `lecun_normal` (`variance_scaling(1, "fan_in", "truncated_normal")`),
    /// the Flax default of the authors' convolutional networks.
    LecunNormal,
    /// Weights N(0, std²) (not truncated), biases 0.
    Normal(f32),
}

/// Standard deviation of a standard normal truncated to [−2, 2]: JAX's `variance_scaling` divides
/// the target standard deviation by it so the truncated draws have the intended variance.
const TRUNCATED_STD: f32 = 0.879_625_7;

/// A standard normal draw truncated to [−2, 2] by rejection.
fn truncated_normal(rng: &mut impl Rng) -> f32 {
    loop {
        let z: f32 = StandardNormal.sample(rng);
        if (-2.0..=2.0).contains(&z) {
            return z;
        }
    }
}

/// Initial weights and biases drawn as PyTorch's `Linear` does: U(−1/√fan_in, 1/√fan_in).
pub fn initial_parameters(
    sizes: &[usize],
    rng: &mut impl Rng,
) -> Vec<(DMatrix<f32>, DVector<f32>)> {
    initial_parameters_with(Init::Uniform, sizes, rng)
}

/// Initial weights and biases of every layer of `sizes` drawn by `init`, layer by layer from `rng`.
pub fn initial_parameters_with(
    init: Init,
    sizes: &[usize],
    rng: &mut impl Rng,
) -> Vec<(DMatrix<f32>, DVector<f32>)> {
    let shapes: Vec<_> = sizes.windows(2).map(|w| (w[1], w[0])).collect();
    initial_arrays(init, &shapes, rng)
}

/// Initial weights and biases of arrays of the given (outputs, inputs) shapes drawn by `init`,
/// array by array from `rng`; fan_in is the array's inputs.
pub fn initial_arrays(
    init: Init,
    shapes: &[(usize, usize)],
    rng: &mut impl Rng,
) -> Vec<(DMatrix<f32>, DVector<f32>)> {
    shapes
        .iter()
        .map(|&(outputs, inputs)| {
            let w = [inputs, outputs];
            let scale = 1.0 / (w[0] as f32).sqrt();
            match init {
                Init::Uniform => {
                    let u = Uniform::new_inclusive(-scale, scale).expect("finite bound");
                    let weights = DMatrix::from_fn(w[1], w[0], |_, _| u.sample(rng));
                    let bias = DVector::from_fn(w[1], |_, _| u.sample(rng));
                    (weights, bias)
                }
                Init::FanInNormal => {
                    let weights = DMatrix::from_fn(w[1], w[0], |_, _| {
                        let z: f32 = StandardNormal.sample(rng);
                        z * scale
                    });
                    (weights, DVector::zeros(w[1]))
                }
                Init::LecunNormal => {
                    let std = scale / TRUNCATED_STD;
                    let weights = DMatrix::from_fn(w[1], w[0], |_, _| std * truncated_normal(rng));
                    (weights, DVector::zeros(w[1]))
                }
                Init::Normal(std) => {
                    let weights = DMatrix::from_fn(w[1], w[0], |_, _| {
                        let z: f32 = StandardNormal.sample(rng);
                        z * std
                    });
                    (weights, DVector::zeros(w[1]))
                }
            }
        })
        .collect()
}

impl Network<IdealArray> {
    /// A randomly initialised network on ideal arrays.
    pub fn ideal(
        sizes: &[usize],
        activation: Activation,
        loss: Loss,
        rng: &mut impl Rng,
    ) -> Result<Self, NetworkError> {
        check_sizes(sizes)?;
        let layers = initial_parameters(sizes, rng)
            .into_iter()
            .map(|(w, bias)| Layer {
                array: IdealArray::new(w),
                bias,
            })
            .collect();
        Network::new(layers, activation, loss)
    }

    /// A network of `blocks` on an `input` image, on ideal arrays initialised by `init`.
    pub fn ideal_blocks(
        input: Image,
        blocks: &[BlockSpec],
        activation: Activation,
        loss: Loss,
        init: Init,
        rng: &mut impl Rng,
    ) -> Result<Self, NetworkError> {
        let (blocks, sizes) = crate::block::resolve(input, blocks)?;
        let layers = initial_arrays(init, &array_shapes(&blocks, &sizes), rng)
            .into_iter()
            .map(|(w, bias)| Layer {
                array: IdealArray::new(w),
                bias,
            })
            .collect();
        Network::with_blocks(layers, blocks, activation, loss)
    }
}

/// The (outputs, inputs) of every block's array: C_out × C_in·k·k for a convolution.
pub fn array_shapes(blocks: &[Block], sizes: &[usize]) -> Vec<(usize, usize)> {
    blocks
        .iter()
        .zip(sizes.windows(2))
        .map(|(b, w)| match b {
            Block::Dense => (w[1], w[0]),
            Block::Conv(c) => (c.channels, c.patch()),
        })
        .collect()
}

fn check_sizes(sizes: &[usize]) -> Result<(), NetworkError> {
    if sizes.len() < 2 {
        return Err(NetworkError::TooShallow(sizes.len()));
    }
    if let Some(k) = sizes.iter().position(|&n| n == 0) {
        return Err(NetworkError::EmptyLayer(k));
    }
    Ok(())
}

impl<C: Crossbar> Network<C> {
    /// Assemble a network from layers whose shapes chain.
    pub fn new(
        layers: Vec<Layer<C>>,
        activation: Activation,
        loss: Loss,
    ) -> Result<Self, NetworkError> {
        if layers.is_empty() {
            return Err(NetworkError::TooShallow(1));
        }
        let blocks = vec![Block::Dense; layers.len()];
        Self::with_blocks(layers, blocks, activation, loss)
    }

    /// Assemble a network from arrays and the resolved blocks they implement (see
    /// [`crate::block::resolve`]): a convolution's array is C_out × C_in·k·k with one bias per channel.
    pub fn with_blocks(
        layers: Vec<Layer<C>>,
        blocks: Vec<Block>,
        activation: Activation,
        loss: Loss,
    ) -> Result<Self, NetworkError> {
        if layers.is_empty() || layers.len() != blocks.len() {
            return Err(NetworkError::TooShallow(layers.len()));
        }
        let first = match &blocks[0] {
            Block::Dense => layers[0].array.inputs(),
            Block::Conv(c) => c.input.units(),
        };
        let mut sizes = vec![first];
        for (i, (layer, block)) in layers.iter().zip(&blocks).enumerate() {
            let (outputs, inputs) = (layer.array.outputs(), layer.array.inputs());
            let (expected_outputs, expected_inputs, units) = match block {
                Block::Dense => (outputs, sizes[i], outputs),
                Block::Conv(c) => {
                    if c.input.units() != sizes[i] {
                        return Err(NetworkError::BlockInput {
                            layer: i + 1,
                            units: c.input.units(),
                            below: sizes[i],
                        });
                    }
                    (c.channels, c.patch(), c.output().units())
                }
            };
            if inputs != expected_inputs
                || outputs != expected_outputs
                || layer.bias.len() != expected_outputs
            {
                return Err(NetworkError::Shape {
                    layer: i + 1,
                    outputs,
                    inputs,
                    expected_outputs,
                    expected_inputs,
                });
            }
            sizes.push(units);
        }
        check_sizes(&sizes)?;
        Ok(Self {
            layers,
            activation,
            loss,
            sizes,
            blocks,
            pool_routing: PoolRouting::default(),
            periphery: None,
            counts: NetCounts::default(),
        })
    }

    /// The block of every layer, layer 1 first.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Whether any layer is a convolution.
    pub fn has_conv(&self) -> bool {
        self.blocks.iter().any(|b| b.conv().is_some())
    }

    /// Layer widths, input first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Number of synapse layers L.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// The same network on ideal arrays holding the weights as a perfect read sees them.
    pub fn to_ideal(&self) -> Network<IdealArray> {
        Network {
            layers: self
                .layers
                .iter()
                .map(|l| Layer {
                    array: IdealArray::new(l.array.weights()),
                    bias: l.bias.clone(),
                })
                .collect(),
            activation: self.activation,
            loss: self.loss,
            sizes: self.sizes.clone(),
            blocks: self.blocks.clone(),
            pool_routing: self.pool_routing,
            periphery: self.periphery.clone(),
            counts: NetCounts::default(),
        }
    }

    /// Attach the neuron-circuit mismatch the hardware model sampled: one entry per synapse layer
    /// (describing that layer's output neurons), and the stream compartment noise is drawn from.
    ///
    /// Layers whose mismatch is exactly nominal are stored as absent, and a network whose layers are
    /// all nominal carries no mismatch at all, so it computes exactly what an unmismatched one does.
    pub fn set_mismatch(
        &mut self,
        mismatch: Vec<NeuronMismatch>,
        noise: ChaCha8Rng,
    ) -> Result<(), NetworkError> {
        if mismatch.len() != self.depth() {
            return Err(NetworkError::MismatchLayers {
                expected: self.depth(),
                got: mismatch.len(),
            });
        }
        for (i, m) in mismatch.iter().enumerate() {
            check_mismatch(i + 1, self.sizes[i + 1], m)?;
        }
        let layers: Vec<_> = mismatch
            .into_iter()
            .map(|m| (!m.is_nominal()).then_some(m))
            .collect();
        self.periphery = layers
            .iter()
            .any(Option::is_some)
            .then_some(Periphery { layers, noise });
        Ok(())
    }

    /// Remove any neuron-circuit mismatch.
    pub fn clear_mismatch(&mut self) {
        self.periphery = None;
    }

    /// The neuron-circuit mismatch, if any layer has some.
    pub fn periphery(&self) -> Option<&Periphery> {
        self.periphery.as_ref()
    }

    /// Append everything training changes (each array's state, the biases, the compartment noise
    /// stream, the counts) to a snapshot. A network realised again from the same description and
    /// seed continues bit for bit after [`Network::restore`].
    pub fn save(&self, out: &mut SnapshotWriter) {
        out.tag("network");
        out.u64(self.layers.len() as u64);
        for layer in &self.layers {
            layer.array.save(out);
            out.vector(&layer.bias);
        }
        out.bool(self.periphery.is_some());
        if let Some(p) = &self.periphery {
            out.rng(&p.noise);
        }
        self.counts.save(out);
    }

    /// Take the state [`Network::save`] wrote, into a network of the same shape and hardware.
    pub fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        input.tag("network")?;
        let layers = input.usize()?;
        if layers != self.layers.len() {
            return Err(input.error(format!(
                "{layers} layers where the network has {}",
                self.layers.len()
            )));
        }
        for layer in &mut self.layers {
            layer.array.restore(input)?;
            input.vector_into(&mut layer.bias, "a bias")?;
        }
        let mismatched = input.bool()?;
        match (&mut self.periphery, mismatched) {
            (Some(p), true) => p.noise = input.rng()?,
            (None, false) => {}
            _ => {
                return Err(input.error("neuron mismatch in one network and not the other"));
            }
        }
        self.counts.restore(input)
    }

    pub(crate) fn periphery_mut(&mut self) -> Option<&mut Periphery> {
        self.periphery.as_mut()
    }

    /// The mismatch of layer `k` (1-based), `None` when nominal.
    pub fn mismatch_of(&self, k: usize) -> Option<&NeuronMismatch> {
        self.periphery.as_ref().and_then(|p| p.layer(k))
    }

    /// Multiply every weight by `factor` (programmed into the arrays), e.g. to reach the strongly
    /// coupled regime where DP's leak destabilises settling.
    pub fn scale_weights(&mut self, factor: f32) {
        for layer in &mut self.layers {
            let w = layer.array.weights() * factor;
            layer.array.program(&w);
        }
    }

    /// The activation of layer `k` (1-based): the hidden transfer function, or identity at the output.
    pub fn activation_of(&self, k: usize) -> Activation {
        if k == self.depth() {
            Activation::Identity
        } else {
            self.activation
        }
    }

    /// The free forward pass of `x`: every dyad at fᵢ(aₖ), δ = 0; fills `dyads`.
    pub fn free_phase(&mut self, x: &DMatrix<f32>, dyads: &mut Dyads) {
        dyads.ensure_batch(x.ncols());
        dyads.input.copy_from(x);
        for k in 1..=self.depth() {
            let f = self.activation_of(k);
            let i = k - 1;
            dyads.params[i].set_transfer(self.mismatch_of(k));
            self.read_drive(dyads, k);
            let p = &dyads.params[i];
            respond(f, &p.gain, &p.offset, &dyads.drive[i], &mut dyads.free[i]);
            dyads.plus[i].copy_from(&dyads.free[i]);
            dyads.minus[i].copy_from(&dyads.free[i]);
            dyads.mean[i].copy_from(&dyads.free[i]);
            dyads.diff[i].fill(0.0);
            let (n, b) = (self.sizes[k], x.ncols());
            self.counts.dyad_layer(n, b);
            self.counts.elementwise(n, b, 1);
        }
        let l = self.depth() - 1;
        dyads.prediction.copy_from(&dyads.free[l]);
    }

    /// aₖ = blockₖ(s̄ₖ₋₁) + bₖ into `dyads.drive` (layer `k`, 1-based).
    pub(crate) fn read_drive(&mut self, dyads: &mut Dyads, k: usize) {
        let i = k - 1;
        let layer = &mut self.layers[i];
        let below = if k == 1 {
            &dyads.input
        } else {
            &dyads.mean[k - 2]
        };
        let drive = &mut dyads.drive[i];
        crate::conv::read(
            &mut layer.array,
            &self.blocks[i],
            &mut dyads.conv,
            i,
            below,
            drive,
        );
        add_bias(drive, &layer.bias);
    }

    /// Whether layer `k`'s drive may be kept between reads of the same input: a dense block on an
    /// array that reads deterministically (a convolution block also keeps its patches and routing
    /// from the read, so it always reads).
    pub(crate) fn drive_kept(&self, k: usize) -> bool {
        self.blocks[k - 1].conv().is_none() && self.layers[k - 1].array.reads_deterministically()
    }

    /// Count the read of layer `k`'s drive for `batch` samples that [`Network::drive_kept`] spared.
    pub(crate) fn count_repeated_drive(&mut self, k: usize, batch: usize) {
        self.layers[k - 1].array.count_repeated_read(batch);
    }

    /// eₖ = (the transpose of block k+1)·δₖ₊₁ into `dyads.feedback` (layer `k` < L, 1-based), with
    /// a pooled block's routing at conv(s⁺ₖ) or conv(s̄ₖ) as [`Network::pool_routing`] says.
    pub(crate) fn read_feedback(&mut self, dyads: &mut Dyads, k: usize) {
        let at = match self.pool_routing {
            PoolRouting::PlusState => &dyads.plus[k - 1],
            PoolRouting::MeanState => &dyads.mean[k - 1],
        };
        crate::conv::read_transposed(
            &mut self.layers[k].array,
            &self.blocks[k],
            &mut dyads.conv,
            k,
            &dyads.diff[k],
            Some(at),
            &mut dyads.feedback[k - 1],
        );
    }

    /// Whether the top-down signal into layer `k` depends on layer k's own state: the block above
    /// pools, and its routing is evaluated at layer k.
    pub(crate) fn feedback_routed_at(&self, k: usize) -> bool {
        self.blocks
            .get(k)
            .and_then(Block::conv)
            .is_some_and(|c| c.pool)
    }

    /// The network's output for `x`, through the realised neurons fᵢ (allocates; for evaluation,
    /// not for the settling loop).
    pub fn predict(&mut self, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut h = x.clone();
        for k in 1..=self.depth() {
            // One block's convolution buffers at a time: an evaluation chunk of a deep
            // convolutional network would otherwise hold every block's patches at once.
            let mut work = match self.blocks[k - 1].conv() {
                Some(s) => Workspaces::forward_only(k - 1, s, x.ncols()),
                None => Workspaces::default(),
            };
            let f = self.activation_of(k);
            let outputs = self.sizes[k];
            let mut a = DMatrix::zeros(outputs, x.ncols());
            let layer = &mut self.layers[k - 1];
            crate::conv::read(
                &mut layer.array,
                &self.blocks[k - 1],
                &mut work,
                k - 1,
                &h,
                &mut a,
            );
            add_bias(&mut a, &layer.bias);
            match self.mismatch_of(k) {
                Some(m) => {
                    let mut out = DMatrix::zeros(outputs, x.ncols());
                    respond(f, &m.act_gain, &m.act_offset, &a, &mut out);
                    h = out;
                }
                None => {
                    a.apply(|v| *v = f.apply(*v));
                    h = a;
                }
            }
        }
        h
    }
}

/// Add `bias` to every unit of `m`: per neuron (dense) or per channel (convolution).
pub(crate) fn add_bias(m: &mut DMatrix<f32>, bias: &DVector<f32>) {
    crate::conv::add_bias(m, bias);
}

fn check_mismatch(layer: usize, n: usize, m: &NeuronMismatch) -> Result<(), NetworkError> {
    let vectors = [
        ("alpha_mix_offset", &m.alpha_mix_offset),
        ("alpha_split_offset", &m.alpha_split_offset),
        ("act_gain", &m.act_gain),
        ("act_offset", &m.act_offset),
        ("beta_gain", &m.beta_gain),
    ];
    for (field, v) in vectors {
        if v.len() != n {
            return Err(NetworkError::MismatchWidth {
                layer,
                field,
                got: v.len(),
                expected: n,
            });
        }
        if !v.iter().all(|x| x.is_finite()) {
            return Err(NetworkError::MismatchValue { layer, field });
        }
    }
    for (field, v) in [("compartment_noise", m.compartment_noise), ("leak", m.leak)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(NetworkError::MismatchValue { layer, field });
        }
    }
    Ok(())
}
