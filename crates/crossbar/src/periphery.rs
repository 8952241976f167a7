//! Per-neuron mismatch of the dyad's periphery circuit, sampled by the hardware model and read by the
//! neuron simulator.

use nalgebra::DVector;

/// The realised circuit parameters of every neuron of one layer.
///
/// The nudging asymmetry α is realised twice in a dyadic neuron: by the circuit that mixes the two
/// compartments into the mean s̄, and by the circuit that splits the top-down signal between them.
/// Their per-neuron offsets are kept apart so that a leak ε = α_mix − α_fb can be simulated.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuronMismatch {
    /// Offset of α as realised by the mixing circuit (0 = nominal); the simulator clamps α + offset to [0, 1].
    pub alpha_mix_offset: DVector<f32>,
    /// Offset of α as realised by the feedback-split circuit (0 = nominal), clamped likewise.
    pub alpha_split_offset: DVector<f32>,
    /// Activation gain gᵢ in fᵢ(x) = gᵢ·f(x − oᵢ) (1 = nominal).
    pub act_gain: DVector<f32>,
    /// Activation offset oᵢ in fᵢ(x) = gᵢ·f(x − oᵢ) (0 = nominal).
    pub act_offset: DVector<f32>,
    /// Output nudge-strength gain βᵢ/β (1 = nominal; read on the output layer).
    pub beta_gain: DVector<f32>,
    /// Standard deviation of the additive noise on every compartment update (0 = off).
    pub compartment_noise: f32,
    /// Compartment leak rate in circuit mode (0 = off).
    pub leak: f32,
}

impl NeuronMismatch {
    /// A perfectly matched layer of `n` neurons.
    pub fn nominal(n: usize) -> Self {
        Self {
            alpha_mix_offset: DVector::zeros(n),
            alpha_split_offset: DVector::zeros(n),
            act_gain: DVector::from_element(n, 1.0),
            act_offset: DVector::zeros(n),
            beta_gain: DVector::from_element(n, 1.0),
            compartment_noise: 0.0,
            leak: 0.0,
        }
    }

    /// True when every parameter is exactly nominal, so the simulator may take its exact path.
    pub fn is_nominal(&self) -> bool {
        self.alpha_mix_offset.iter().all(|&v| v == 0.0)
            && self.alpha_split_offset.iter().all(|&v| v == 0.0)
            && self.act_gain.iter().all(|&v| v == 1.0)
            && self.act_offset.iter().all(|&v| v == 0.0)
            && self.beta_gain.iter().all(|&v| v == 1.0)
            && self.compartment_noise == 0.0
            && self.leak == 0.0
    }
}

impl crate::spec::Periphery {
    /// Sample the mismatch of every neuron of layers 1..L of a network with widths `sizes`
    /// (input first), one [`NeuronMismatch`] per layer.
    ///
    /// Per neuron: α_mix offset = alpha_std·ξ₁, α_split offset = alpha_std·ξ₁ + alpha_split_std·ξ₂,
    /// gain = max(1 + act_gain_std·ξ₃, 0), offset = act_offset_std·ξ₄,
    /// β gain = max(1 + beta_gain_std·ξ₅, 0). All five normals are drawn for every neuron, in this
    /// order, layer by layer, whatever the spreads, so changing one spread leaves the others'
    /// realisation unchanged. Gains are kept non-negative because a negative gain would invert the
    /// neuron rather than mismatch it.
    pub fn sample<R: rand::Rng + ?Sized>(
        &self,
        sizes: &[usize],
        rng: &mut R,
    ) -> Vec<NeuronMismatch> {
        let layers = sizes.iter().skip(1);
        layers
            .map(|&n| {
                let mut m = NeuronMismatch::nominal(n);
                m.compartment_noise = self.compartment_noise as f32;
                m.leak = self.leak as f32;
                for i in 0..n {
                    let xi: [f32; 5] = std::array::from_fn(|_| crate::rng::normal(rng));
                    let common = self.alpha_std as f32 * xi[0];
                    m.alpha_mix_offset[i] = common;
                    m.alpha_split_offset[i] = common + self.alpha_split_std as f32 * xi[1];
                    m.act_gain[i] = (1.0 + self.act_gain_std as f32 * xi[2]).max(0.0);
                    m.act_offset[i] = self.act_offset_std as f32 * xi[3];
                    m.beta_gain[i] = (1.0 + self.beta_gain_std as f32 * xi[4]).max(0.0);
                }
                m
            })
            .collect()
    }

    /// True when sampling gives nominal neurons.
    pub fn is_nominal(&self) -> bool {
        *self == Self::default()
    }
}
