//! The neuron circuits of a network as the settling code sees them: the mismatch a network carries,
//! and the per-neuron parameters resolved from it and from the dynamics before every settle.

use crate::activation::Activation;
use crate::dynamics::Dynamics;
use crossbar::NeuronMismatch;
use nalgebra::{DMatrix, DVector};
use rand_chacha::ChaCha8Rng;

/// Neuron-circuit mismatch attached to a network, with the stream its compartment noise is drawn from.
#[derive(Clone, Debug)]
pub struct Periphery {
    /// One entry per synapse layer (its output neurons); `None` where the layer is exactly nominal.
    pub(crate) layers: Vec<Option<NeuronMismatch>>,
    /// Compartment noise stream.
    pub(crate) noise: ChaCha8Rng,
}

impl Periphery {
    /// The mismatch of layer `k` (1-based), `None` when nominal.
    pub fn layer(&self, k: usize) -> Option<&NeuronMismatch> {
        self.layers.get(k - 1).and_then(Option::as_ref)
    }
}

/// The realised parameters of every neuron of one layer, resolved once per settle (never in the loop).
#[derive(Clone, Debug)]
pub(crate) struct NeuronParams {
    /// α_mix,ᵢ: weight of s⁺ in the mean.
    pub mix: DVector<f32>,
    /// 1 − α_fb,ᵢ: share of the top-down signal given to s⁺.
    pub up: DVector<f32>,
    /// α_fb,ᵢ: share given to s⁻.
    pub down: DVector<f32>,
    /// Activation gain gᵢ.
    pub gain: DVector<f32>,
    /// Activation offset oᵢ.
    pub offset: DVector<f32>,
    /// β·βᵢ/β: the realised nudge strength of each output neuron (read on the output layer).
    pub beta: DVector<f32>,
    /// Standard deviation of the additive compartment noise per update.
    pub noise: f32,
    /// Compartment leak in circuit mode.
    pub leak: f32,
    /// Damping Lₖ of the hidden update (0 = undamped).
    pub damping: f32,
}

impl NeuronParams {
    pub fn new(n: usize) -> Self {
        Self {
            mix: DVector::zeros(n),
            up: DVector::zeros(n),
            down: DVector::zeros(n),
            gain: DVector::from_element(n, 1.0),
            offset: DVector::zeros(n),
            beta: DVector::zeros(n),
            noise: 0.0,
            leak: 0.0,
            damping: 0.0,
        }
    }

    /// Gain and offset of the transfer function fᵢ(x) = gᵢ·f(x − oᵢ) from `m` (nominal if absent).
    pub fn set_transfer(&mut self, m: Option<&NeuronMismatch>) {
        match m {
            Some(m) => {
                self.gain.copy_from(&m.act_gain);
                self.offset.copy_from(&m.act_offset);
            }
            None => {
                self.gain.fill(1.0);
                self.offset.fill(0.0);
            }
        }
    }

    /// Everything the dynamics decide: the α split and mix `(alpha_mix, alpha_fb)` of this layer
    /// (see [`Dynamics::split_of`]), the nudge strength, noise and leak.
    ///
    /// Offsets are added to α_mix and α_fb as the dynamics define them and clamped to [0, 1]; with
    /// no mismatch the values are exactly the nominal ones, so the arithmetic of the settling
    /// kernels is bit-identical to an unmismatched circuit.
    pub fn set_dynamics(
        &mut self,
        d: &Dynamics,
        (alpha_mix, alpha_fb): (f32, f32),
        m: Option<&NeuronMismatch>,
    ) {
        match m {
            Some(m) => {
                for (v, o) in self.mix.iter_mut().zip(m.alpha_mix_offset.iter()) {
                    *v = (alpha_mix + o).clamp(0.0, 1.0);
                }
                for ((u, w), o) in self
                    .up
                    .iter_mut()
                    .zip(self.down.iter_mut())
                    .zip(m.alpha_split_offset.iter())
                {
                    let fb = (alpha_fb + o).clamp(0.0, 1.0);
                    *u = 1.0 - fb;
                    *w = fb;
                }
                for (b, g) in self.beta.iter_mut().zip(m.beta_gain.iter()) {
                    *b = d.beta * g;
                }
                self.noise = m.compartment_noise;
                self.leak = m.leak;
            }
            None => {
                self.mix.fill(alpha_mix);
                self.up.fill(1.0 - alpha_fb);
                self.down.fill(alpha_fb);
                self.beta.fill(d.beta);
                self.noise = 0.0;
                self.leak = 0.0;
            }
        }
        self.damping = 0.0;
    }
}

/// out ← gᵢ·f(a − oᵢ) for every neuron i (row) and sample (column).
pub(crate) fn respond(
    f: Activation,
    gain: &DVector<f32>,
    offset: &DVector<f32>,
    a: &DMatrix<f32>,
    out: &mut DMatrix<f32>,
) {
    let n = a.nrows();
    let (g, o) = (gain.as_slice(), offset.as_slice());
    crate::activation::dispatch!(f, act => {
        for (ac, oc) in a.as_slice().chunks_exact(n).zip(out.as_mut_slice().chunks_exact_mut(n)) {
            for i in 0..n {
                oc[i] = g[i] * act(ac[i] - o[i]);
            }
        }
    });
}

/// d ← d ⊙ gᵢ·f′(a − oᵢ): the backward step through the neurons of one layer.
pub(crate) fn respond_backward(
    f: Activation,
    m: Option<&NeuronMismatch>,
    a: &DMatrix<f32>,
    d: &mut DMatrix<f32>,
) {
    match m {
        None => {
            for (d, a) in d.iter_mut().zip(a.iter()) {
                *d *= f.derivative(*a);
            }
        }
        Some(m) => {
            let n = a.nrows();
            let (g, o) = (m.act_gain.as_slice(), m.act_offset.as_slice());
            for (ac, dc) in a
                .as_slice()
                .chunks_exact(n)
                .zip(d.as_mut_slice().chunks_exact_mut(n))
            {
                for i in 0..n {
                    dc[i] *= g[i] * f.derivative(ac[i] - o[i]);
                }
            }
        }
    }
}
