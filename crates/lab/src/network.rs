//! The network a run trains, realised from (seed, replicate): initial weights from the `Init`
//! stream, each layer's array on the hardware with the devices of [`seed::device_seed`], and the
//! neuron-circuit mismatch from the `Periphery` stream (its noise from `Noise`).
//!
//! `run` (through `job`), `check` and the benchmarks all build networks here, so the same
//! (hardware, seed, replicate) realises the same devices wherever it is used.

use crate::job::Net;
use crate::seed::{self, Purpose, stream};
use crossbar::{Hardware, SpecError};
use dualprop::network::{Init, initial_parameters_with};
use dualprop::{Activation, Layer, Loss, Network, NetworkError};
use thiserror::Error;

/// Why a network could not be realised, with the experiment field at fault.
#[derive(Debug, Error)]
pub enum RealiseError {
    /// The hardware description cannot build an array.
    #[error("{0}")]
    Hardware(#[from] SpecError),
    /// The layer sizes do not make a network.
    #[error("{0}")]
    Network(NetworkError),
    /// The neuron-circuit mismatch does not fit the network.
    #[error("{0}")]
    Periphery(NetworkError),
}

impl RealiseError {
    /// The dotted path of the experiment field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            RealiseError::Hardware(_) => "hardware",
            RealiseError::Network(_) => "network.layers",
            RealiseError::Periphery(_) => "hardware.periphery",
        }
    }
}

/// The network of `layers` (initial weights drawn by `init`) on `hardware` for replicate
/// `replicate` of the experiment seeded with `seed`.
pub fn realise(
    layers: &[usize],
    init: Init,
    activation: Activation,
    loss: Loss,
    hardware: &Hardware,
    seed: u64,
    replicate: u64,
) -> Result<Net, RealiseError> {
    let built = initial_parameters_with(init, layers, &mut stream(seed, replicate, Purpose::Init))
        .into_iter()
        .enumerate()
        .map(|(k, (w, bias))| {
            let array = crossbar::build(hardware, &w, seed::device_seed(seed, replicate, k))?;
            Ok(Layer { array, bias })
        })
        .collect::<Result<Vec<_>, RealiseError>>()?;
    let mut net = Network::new(built, activation, loss).map_err(RealiseError::Network)?;
    if !hardware.periphery.is_nominal() {
        let mismatch = hardware
            .periphery
            .sample(layers, &mut stream(seed, replicate, Purpose::Periphery));
        net.set_mismatch(mismatch, stream(seed, replicate, Purpose::Noise))
            .map_err(RealiseError::Periphery)?;
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use crate::check::gradient::setup;
    use crate::job::{Net, build_network};
    use crossbar::Update;
    use nalgebra::DMatrix;
    use std::path::Path;

    /// Every layer's weights after the same two updates: devices that differ in step size,
    /// asymmetry or bounds give different weights here even when the initial weights agree.
    fn trained_weights(net: &mut Net) -> Vec<DMatrix<f32>> {
        net.layers
            .iter_mut()
            .map(|layer| {
                let (r, c) = layer.array.weights().shape();
                let delta =
                    DMatrix::from_fn(r, c, |i, j| 0.02 * ((i * 7 + j * 3) % 5) as f32 - 0.04);
                layer.array.update(Update::Delta(&delta));
                layer.array.update(Update::Delta(&(-0.5 * &delta)));
                layer.array.weights()
            })
            .collect()
    }

    #[test]
    fn check_and_run_realise_the_same_devices_and_periphery() {
        let exp = crate::load::experiment_from_str(
            r#"Experiment(
                name: "same-devices",
                dataset: Digits,
                network: (layers: [64, 16, 10], activation: Relu, loss: Mse),
                algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 4),
                training: (epochs: 1, batch_size: 8, optimizer: Sgd, learning_rate: 0.05),
                seed: 11,
                seeds: [0],
                hardware: Hardware(
                    device: ConstantStep((dw_min: 0.01, dw_min_dtod: 0.3, up_down_dtod: 0.1, w_max_dtod: 0.2)),
                    update: StochasticRounding(()),
                    periphery: (alpha_std: 0.05, act_gain_std: 0.1),
                ),
            )"#,
            Path::new("same-devices.ron"),
        )
        .unwrap();
        let hw = exp.hardware.spec().unwrap();
        let mut run = build_network(&exp, 0).unwrap();
        let (mut check, _, _) = setup(
            &exp.network.layers,
            exp.network.activation,
            exp.network.loss,
            Some(hw),
            exp.seed,
        )
        .unwrap();
        assert_eq!(trained_weights(&mut run), trained_weights(&mut check));
        // The periphery (and its noise stream) is the same too: one settled forward pass agrees bit
        // for bit.
        let x = DMatrix::from_fn(64, 3, |i, j| ((i + 5 * j) % 11) as f32 / 11.0);
        assert_eq!(run.predict(&x), check.predict(&x));
        // And another seed realises other devices.
        let mut other = build_network(
            &crate::Experiment {
                seed: 12,
                ..exp.clone()
            },
            0,
        )
        .unwrap();
        assert_ne!(trained_weights(&mut other), trained_weights(&mut run));
    }
}
