//! The network a run trains, realised from (seed, replicate): initial weights from the `Init`
//! stream, each layer's array on the hardware with the devices of [`seed::device_seed`], and the
//! neuron-circuit mismatch from the `Periphery` stream (its noise from `Noise`).
//!
//! `run` (through `job`), `check` and the benchmarks all build networks here, so the same
//! (hardware, seed, replicate) realises the same devices wherever it is used.

use crate::field::FieldError;
use crate::job::Net;
use crate::seed::{self, Purpose, stream};
use crate::spec::{NetworkPreset, NetworkSpec};
use crossbar::{Hardware, SpecError};
use dualprop::network::{Init, array_shapes, initial_arrays, initial_parameters_with};
use dualprop::{Activation, BlockSpec, Image, Layer, Loss, Network, NetworkError};
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
    let params = initial_parameters_with(init, layers, &mut stream(seed, replicate, Purpose::Init));
    let built = arrays(params, hardware, seed, replicate)?;
    let net = Network::new(built, activation, loss).map_err(RealiseError::Network)?;
    attach_periphery(net, layers, hardware, seed, replicate)
}

/// The input image of a network described by blocks.
fn image(input: (usize, usize, usize)) -> Image {
    Image {
        height: input.0,
        width: input.1,
        channels: input.2,
    }
}

/// Check a network described by `blocks` on `input` and set `layers` to the units per layer they
/// give (so everything that counts units sees them); a given `layers` must agree.
///
/// A `preset` is first expanded into `blocks` ending in `classes` outputs, and cleared.
pub fn resolve_blocks(spec: &mut NetworkSpec, classes: usize) -> Result<(), FieldError> {
    if let Some(preset) = spec.preset.take() {
        if !spec.blocks.is_empty() {
            return Err(FieldError::new(
                "network.preset",
                "names the blocks itself: give either `preset` or `blocks`, not both",
            ));
        }
        spec.blocks = preset_blocks(&preset, classes)?;
    }
    if spec.blocks.is_empty() {
        return match spec.input {
            Some(_) => Err(FieldError::new(
                "network.input",
                "is only read by `blocks`, which are not given",
            )),
            None => Ok(()),
        };
    }
    let Some(input) = spec.input else {
        return Err(FieldError::new(
            "network.input",
            "must give the (height, width, channels) the blocks read",
        ));
    };
    let (_, sizes) = dualprop::block::resolve(image(input), &spec.blocks)
        .map_err(|e| FieldError::new("network.blocks", e.to_string()))?;
    if !spec.layers.is_empty() && spec.layers != sizes {
        return Err(FieldError::new(
            "network.layers",
            format!(
                "must be the units per layer the blocks give, {sizes:?}, or be left out (got {:?})",
                spec.layers
            ),
        ));
    }
    spec.layers = sizes;
    Ok(())
}

/// Check that a network of blocks reads its `input` as the data's images: `image` is their shape
/// (`None`: data that are no images, the synthetic task), `dataset` their name. The element count
/// alone is not enough: the 8×8 digits read as 4×16 would convolve and pool pixels that are not
/// neighbours, and augmentation would pad, crop and flip them as 8×8 images all the same.
pub fn check_input(
    spec: &NetworkSpec,
    image: Option<crate::dataset::ImageShape>,
    dataset: &str,
) -> Result<(), FieldError> {
    let Some(input) = spec.input else {
        return Ok(());
    };
    match image {
        None => Err(FieldError::new(
            "network.input",
            format!(
                "must be left out on the {dataset} task, whose inputs are features, not images (got {input:?}): a convolution would take features for neighbouring pixels; describe the network by its layers instead"
            ),
        )),
        Some(shape) if (shape.height, shape.width, shape.channels) != input => {
            let real = (shape.height, shape.width, shape.channels);
            Err(FieldError::new(
                "network.input",
                format!(
                    "must be the shape of the {dataset} images, (height, width, channels) = {real:?} (got {input:?}): its {} inputs read as another shape would be convolved and pooled across pixels that are not neighbours",
                    shape.units()
                ),
            ))
        }
        Some(_) => Ok(()),
    }
}

/// The blocks of a named architecture with `classes` outputs.
fn preset_blocks(preset: &NetworkPreset, classes: usize) -> Result<Vec<BlockSpec>, FieldError> {
    let vgg = match preset {
        NetworkPreset::Vgg16 => return Ok(dualprop::block::vgg16(classes)),
        NetworkPreset::Vgg(vgg) => vgg,
    };
    let field = |name: &str| format!("network.preset.{name}");
    if vgg.channels.is_empty() || vgg.channels.contains(&0) {
        return Err(FieldError::new(
            field("channels"),
            format!(
                "must list at least one convolution, each of ≥ 1 channels (got {:?})",
                vgg.channels
            ),
        ));
    }
    if vgg.dense.contains(&0) {
        return Err(FieldError::new(
            field("dense"),
            format!("must list layers of ≥ 1 units (got {:?})", vgg.dense),
        ));
    }
    let increasing = vgg.pooled.windows(2).all(|w| w[0] < w[1]);
    if !increasing || vgg.pooled.iter().any(|&p| p == 0 || p > vgg.channels.len()) {
        return Err(FieldError::new(
            field("pooled"),
            format!(
                "must list convolutions by their 1-based position, increasing, each in 1..={} (got {:?})",
                vgg.channels.len(),
                vgg.pooled
            ),
        ));
    }
    Ok(dualprop::block::vgg(
        &vgg.channels,
        &vgg.pooled,
        &vgg.dense,
        classes,
    ))
}

/// The resolved block of every layer of a network described by `blocks` on `input`; empty for a
/// dense network of `layers` (or blocks that do not resolve, which loading rejects).
pub fn blocks(spec: &NetworkSpec) -> Vec<dualprop::Block> {
    match spec.input {
        Some(input) if !spec.blocks.is_empty() => {
            dualprop::block::resolve(image(input), &spec.blocks)
                .map_or_else(|_| Vec::new(), |(b, _)| b)
        }
        _ => Vec::new(),
    }
}

/// Multiply-adds per sample of one read of every array: Σₖ nₖ·nₖ₋₁ for a dense network, and for a
/// convolution block C_out·C_in·k² per output position (bench::flops::block_macs).
pub fn macs_per_read(spec: &NetworkSpec) -> f64 {
    let blocks = blocks(spec);
    if blocks.is_empty() {
        return spec.layers.windows(2).map(|w| (w[0] * w[1]) as f64).sum();
    }
    crate::bench::flops::block_macs(&blocks, &spec.layers)
        .iter()
        .map(|(m, _)| m)
        .sum()
}

/// The network an experiment describes (`layers`, or `blocks` on `input`) on `hardware`; see
/// [`realise`].
pub fn realise_spec(
    spec: &NetworkSpec,
    hardware: &Hardware,
    seed: u64,
    replicate: u64,
) -> Result<Net, RealiseError> {
    let Some(input) = spec.input.filter(|_| !spec.blocks.is_empty()) else {
        return realise(
            &spec.layers,
            spec.init,
            spec.activation,
            spec.loss,
            hardware,
            seed,
            replicate,
        );
    };
    let (blocks, sizes) = dualprop::block::resolve(image(input), &spec.blocks)
        .map_err(|e| RealiseError::Network(e.into()))?;
    let shapes = array_shapes(&blocks, &sizes);
    let layers = arrays(
        initial_arrays(
            spec.init,
            &shapes,
            &mut stream(seed, replicate, Purpose::Init),
        ),
        hardware,
        seed,
        replicate,
    )?;
    let mut net = Network::with_blocks(layers, blocks, spec.activation, spec.loss)
        .map_err(RealiseError::Network)?;
    net.pool_routing = spec.pool_routing;
    attach_periphery(net, &sizes, hardware, seed, replicate)
}

/// Each layer's array on `hardware` with the devices of [`seed::device_seed`].
fn arrays(
    params: Vec<(nalgebra::DMatrix<f32>, nalgebra::DVector<f32>)>,
    hardware: &Hardware,
    seed: u64,
    replicate: u64,
) -> Result<Vec<Layer<Box<dyn crossbar::Crossbar>>>, RealiseError> {
    params
        .into_iter()
        .enumerate()
        .map(|(k, (w, bias))| {
            let array = crossbar::build(hardware, &w, seed::device_seed(seed, replicate, k))?;
            Ok(Layer { array, bias })
        })
        .collect()
}

/// The neuron-circuit mismatch of `hardware` sampled for layers of `sizes` units.
fn attach_periphery(
    mut net: Net,
    sizes: &[usize],
    hardware: &Hardware,
    seed: u64,
    replicate: u64,
) -> Result<Net, RealiseError> {
    if !hardware.periphery.is_nominal() {
        let mismatch = hardware
            .periphery
            .sample(sizes, &mut stream(seed, replicate, Purpose::Periphery));
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

    fn conv_experiment(network: &str) -> Result<crate::spec::Experiment, crate::LabError> {
        crate::load::experiment_from_str(
            &format!(
                r#"Experiment(
                name: "conv",
                dataset: Digits,
                network: {network},
                algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 6),
                training: (epochs: 2, batch_size: 32, optimizer: Sgd, learning_rate: 0.05, momentum: 0.9),
            )"#
            ),
            Path::new("conv.ron"),
        )
    }

    /// A convolutional network described by blocks trains from an experiment file: its layers are
    /// the units the blocks give, its arrays C_out × C_in·k·k, and two epochs of DP⊤ on the
    /// embedded 8×8 digits lift test accuracy far above chance (10 %).
    #[test]
    fn a_network_of_blocks_trains_from_an_experiment_file() {
        let exp = conv_experiment(
            "(input: (8, 8, 1), blocks: [Conv(channels: 8, kernel: 3, pool: true), Dense(32), Dense(10)], \
             activation: Relu, loss: CrossEntropy, init: LecunNormal)",
        )
        .unwrap();
        assert_eq!(exp.network.layers, [64, 128, 32, 10]);
        let net = build_network(&exp, 0).unwrap();
        assert!(net.has_conv());
        assert_eq!(
            (net.layers[0].array.outputs(), net.layers[0].array.inputs()),
            (8, 9)
        );
        let data = crate::dataset::load(&exp.dataset, Path::new("conv.ron")).unwrap();
        let outcome = crate::job::train(&exp, &data, 0, &crate::job::Silent).unwrap();
        assert!(outcome.divergence.is_none());
        let last = outcome.epochs.last().unwrap();
        assert!(last.test_acc > 0.6, "{last:?}");
    }

    #[test]
    fn blocks_that_do_not_fit_name_their_field() {
        let field = |network: &str| match conv_experiment(network) {
            Err(crate::LabError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field("(blocks: [Dense(10)])"), "network.input");
        assert_eq!(
            field("(layers: [64, 10], input: (8, 8, 1))"),
            "network.input"
        );
        assert_eq!(
            field(
                "(input: (8, 8, 1), blocks: [Conv(channels: 2, kernel: 3), Dense(10)], layers: [64, 10])"
            ),
            "network.layers"
        );
        assert_eq!(
            field(
                "(input: (8, 8, 1), blocks: [Dense(10), Conv(channels: 2, kernel: 3), Dense(10)])"
            ),
            "network.blocks"
        );
        assert_eq!(
            field("(layers: [64, 10], init: Normal(-1.0))"),
            "network.init"
        );
    }

    /// `preset: Vgg16` is the paper's VGG16 ending in the dataset's classes, expanded into
    /// `blocks` when the file is read (so experiment.ron lists them): 13 convolutions, 5 pooled,
    /// then 4096, 4096 and 10 units; on 32×32×3 inputs the last pooling leaves 1×1×512.
    #[test]
    fn the_vgg16_preset_expands_into_the_papers_blocks() {
        let mut spec: crate::spec::NetworkSpec =
            ron::from_str("(input: Some((32, 32, 3)), preset: Some(Vgg16))").unwrap();
        super::resolve_blocks(&mut spec, 10).unwrap();
        let exp = crate::spec::Experiment {
            network: spec,
            ..conv_experiment("(layers: [64, 10])").unwrap()
        };
        assert_eq!(exp.network.preset, None);
        let convs = exp
            .network
            .blocks
            .iter()
            .filter(|b| {
                matches!(
                    b,
                    dualprop::BlockSpec::Conv {
                        kernel: 3,
                        stride: 1,
                        ..
                    }
                )
            })
            .count();
        assert_eq!((exp.network.blocks.len(), convs), (16, 13));
        assert_eq!(exp.network.layers.len(), 17);
        assert_eq!(exp.network.layers[13], 512);
        assert_eq!(exp.network.layers[14..], [4096, 4096, 10]);
        let text = crate::runner::resolved_ron(&exp).unwrap();
        assert!(
            !text.contains("preset") && text.contains("Conv(") && text.contains("init: Uniform"),
            "{text}"
        );
    }

    /// A VGG of one's own: the listed convolutions pool, the dense layers follow, the classes end
    /// it; the pool routing chosen in the file is the network's.
    #[test]
    fn a_vgg_preset_of_ones_own_and_its_pool_routing_reach_the_network() {
        let exp = conv_experiment(
            "(input: (8, 8, 1), preset: Vgg((channels: [4, 6], pooled: [2], dense: [12])), \
             pool_routing: MeanState)",
        )
        .unwrap();
        assert_eq!(exp.network.layers, [64, 256, 96, 12, 10]);
        let net = build_network(&exp, 0).unwrap();
        assert_eq!(net.pool_routing, dualprop::PoolRouting::MeanState);
        let default =
            conv_experiment("(input: (8, 8, 1), preset: Vgg((channels: [4], pooled: [1])))")
                .unwrap();
        assert_eq!(
            build_network(&default, 0).unwrap().pool_routing,
            dualprop::PoolRouting::PlusState
        );
    }

    #[test]
    fn presets_that_cannot_be_built_name_their_field() {
        let field = |network: &str| match conv_experiment(network) {
            Err(crate::LabError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field("(input: (8, 8, 1), preset: Vgg16, blocks: [Dense(10)])"),
            "network.preset"
        );
        assert_eq!(
            field("(input: (8, 8, 1), preset: Vgg((channels: [4, 4], pooled: [3])))"),
            "network.preset.pooled"
        );
        assert_eq!(
            field("(input: (8, 8, 1), preset: Vgg((channels: [4, 4], pooled: [2, 1])))"),
            "network.preset.pooled"
        );
        assert_eq!(
            field("(input: (8, 8, 1), preset: Vgg((channels: [])))"),
            "network.preset.channels"
        );
        assert_eq!(
            field("(input: (8, 8, 1), preset: Vgg((channels: [4], dense: [0])))"),
            "network.preset.dense"
        );
        // Five poolings do not fit an 8×8 image: the expanded blocks say so.
        assert_eq!(field("(input: (8, 8, 1), preset: Vgg16)"), "network.blocks");
    }
}
