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
