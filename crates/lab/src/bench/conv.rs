//! The convolutional workloads: the cnn-fmnist network and VGG16, one K = 4 DP⊤ step on ideal
//! arrays, built directly from `dualprop` blocks.

use super::workloads::Shape;
use crate::seed::{Purpose, stream};
use crossbar::IdealArray;
use dualprop::block::{BlockSpec, Image, resolve, vgg16};
use dualprop::{
    Activation, Dyads, Dynamics, Init, Loss, Network, NetworkError, Optimizer, OptimizerKind,
    settle,
};
use nalgebra::DMatrix;
use rand::Rng;

/// Seed of the weights and of the batch (the dense workloads' seed).
const SEED: u64 = 6;

/// Learning rate of the benchmarked step, as the dense workloads'.
const LEARNING_RATE: f32 = 0.01;

/// A convolutional benchmark network: input image, blocks, batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvModel {
    /// The input image.
    pub input: Image,
    /// The blocks, output layer last.
    pub blocks: Vec<BlockSpec>,
    /// Samples per step.
    pub batch: usize,
}

impl ConvModel {
    /// The layer widths and resolved blocks of the model, as a workload shape.
    pub fn shape(&self) -> Result<Shape, dualprop::BlockError> {
        let (blocks, sizes) = resolve(self.input, &self.blocks)?;
        Ok(Shape {
            sizes,
            batch: self.batch,
            blocks,
        })
    }
}

fn conv(channels: usize, pool: bool) -> BlockSpec {
    BlockSpec::Conv {
        channels,
        kernel: 3,
        stride: 1,
        pool,
    }
}

/// `cnn-dptop`'s network, the cnn-fmnist one: 28×28×1, Conv(32, 3×3, pool), Conv(64, 3×3, pool),
/// Dense(256), Dense(10), batch 100. `quick`: the same blocks at a quarter of the widths, batch 8.
pub fn cnn_fmnist(quick: bool) -> ConvModel {
    let (c1, c2, hidden, batch) = if quick {
        (8, 16, 64, 8)
    } else {
        (32, 64, 256, 100)
    };
    ConvModel {
        input: Image {
            height: 28,
            width: 28,
            channels: 1,
        },
        blocks: vec![
            conv(c1, true),
            conv(c2, true),
            BlockSpec::Dense(hidden),
            BlockSpec::Dense(10),
        ],
        batch,
    }
}

/// Batch of `vgg16-dptop`. A VGG16 DP⊤ step on 32×32×3 does about 3.6 GFLOP per sample and keeps
/// its im2col buffers per sample (conv 2's 576 × 1024 patches the largest, for the dyads and again
/// for the optimiser) on top of 34 M weights; at 16 samples the process peaks near 1.3 GB (measured,
/// VmHWM) and a repetition takes a few seconds on two cores, while every GEMM still has at least 64
/// columns (the 2×2 positions of convolutions 11–13 times the batch). The paper's batch of 100
/// would multiply both by about six.
pub const VGG16_BATCH: usize = 16;

/// `vgg16-dptop`'s network: VGG16 on 32×32×3 with 10 classes at [`VGG16_BATCH`]. `quick`: the
/// same 13 + 3 blocks with an eighth of the channels and dense widths, batch 2.
pub fn vgg16_cifar(quick: bool) -> ConvModel {
    let input = Image {
        height: 32,
        width: 32,
        channels: 3,
    };
    if !quick {
        return ConvModel {
            input,
            blocks: vgg16(10),
            batch: VGG16_BATCH,
        };
    }
    let blocks = vgg16(10)
        .into_iter()
        .map(|b| match b {
            BlockSpec::Conv {
                channels,
                kernel,
                stride,
                pool,
            } => BlockSpec::Conv {
                channels: channels / 8,
                kernel,
                stride,
                pool,
            },
            BlockSpec::Dense(10) => BlockSpec::Dense(10),
            BlockSpec::Dense(n) => BlockSpec::Dense(n / 8),
        })
        .collect();
    ConvModel {
        input,
        blocks,
        batch: 2,
    }
}

/// One DP⊤ step (α = ½, β = 0.1, `Forward`, K passes) of a convolutional network on ideal arrays,
/// repeated: settle, then the local update sent to the arrays (plain SGD, every (sample, position)
/// column one update).
pub struct ConvDpStep {
    net: Network<IdealArray>,
    dyads: Dyads,
    optimizer: Optimizer,
    x: DMatrix<f32>,
    y: DMatrix<f32>,
    dynamics: Dynamics,
}

impl ConvDpStep {
    /// The seeded network of `model` (LeCun-normal initialisation, the authors' Flax default; ReLU;
    /// softmax cross-entropy) and a seeded batch: pixels uniform in [0, 1], one-hot labels.
    pub fn new(model: &ConvModel, dynamics: Dynamics) -> Result<Self, NetworkError> {
        let mut rng = stream(SEED, 0, Purpose::Init);
        let net = Network::ideal_blocks(
            model.input,
            &model.blocks,
            Activation::Relu,
            Loss::CrossEntropy,
            Init::LecunNormal,
            &mut rng,
        )?;
        let (inputs, classes) = (model.input.units(), net.sizes()[net.sizes().len() - 1]);
        let mut rng = stream(SEED, 0, Purpose::Data);
        let x = DMatrix::from_fn(inputs, model.batch, |_, _| rng.random::<f32>());
        let labels: Vec<usize> = (0..model.batch)
            .map(|_| rng.random_range(0..classes))
            .collect();
        let y = DMatrix::from_fn(classes, model.batch, |i, j| f32::from(labels[j] == i));
        Ok(Self {
            dyads: Dyads::new(net.sizes(), model.batch),
            optimizer: Optimizer::for_network(
                OptimizerKind::PlainSgd,
                LEARNING_RATE,
                0.0,
                0.0,
                &net,
            ),
            net,
            x,
            y,
            dynamics,
        })
    }

    /// One step; returns the settling passes it ran.
    pub fn run(&mut self) -> usize {
        let settled = settle(
            &mut self.net,
            &mut self.dyads,
            &self.x,
            &self.y,
            &self.dynamics,
        );
        self.optimizer
            .step_local(&mut self.net, &self.dyads, self.dynamics.beta);
        settled.passes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::flops;
    use crossbar::{Crossbar, Update, UpdateReport};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// An ideal array that counts the multiply-adds of its reads and outer-product updates.
    struct Counting {
        array: IdealArray,
        macs: Arc<AtomicU64>,
    }

    impl Counting {
        fn add(&self, cols: usize) {
            let n = (self.array.outputs() * self.array.inputs() * cols) as u64;
            self.macs.fetch_add(n, Ordering::Relaxed);
        }
    }

    impl Crossbar for Counting {
        fn outputs(&self) -> usize {
            self.array.outputs()
        }
        fn inputs(&self) -> usize {
            self.array.inputs()
        }
        fn read(&mut self, x: &DMatrix<f32>, y: &mut DMatrix<f32>) {
            self.add(x.ncols());
            self.array.read(x, y);
        }
        fn read_transposed(&mut self, d: &DMatrix<f32>, z: &mut DMatrix<f32>) {
            self.add(d.ncols());
            self.array.read_transposed(d, z);
        }
        fn update(&mut self, update: Update<'_>) -> UpdateReport {
            if let Update::OuterProduct { x, .. } = &update {
                self.add(x.ncols());
            }
            self.array.update(update)
        }
        fn weights(&self) -> DMatrix<f32> {
            self.array.weights()
        }
        fn program(&mut self, weights: &DMatrix<f32>) {
            self.array.program(weights);
        }
        fn save(&self, out: &mut crossbar::SnapshotWriter) {
            self.array.save(out)
        }
        fn restore(
            &mut self,
            input: &mut crossbar::SnapshotReader<'_>,
        ) -> Result<(), crossbar::SnapshotError> {
            self.array.restore(input)
        }
    }

    /// The FLOP formula of a convolutional DP⊤ step is what the step's array reads and updates
    /// do, counted through the arrays themselves: pooled and unpooled blocks, K = 1 and 4.
    #[test]
    fn conv_flop_formula_counts_every_array_read_and_update() {
        let model = ConvModel {
            input: Image {
                height: 8,
                width: 8,
                channels: 2,
            },
            blocks: vec![
                conv(3, true),
                conv(4, false),
                conv(5, true),
                BlockSpec::Dense(6),
                BlockSpec::Dense(3),
            ],
            batch: 3,
        };
        let shape = model.shape().unwrap();
        for passes in [1, 4] {
            let mut step = ConvDpStep::new(&model, Dynamics::dp_top(0.5, 0.1, passes)).unwrap();
            let macs = Arc::new(AtomicU64::new(0));
            let blocks = step.net.blocks().to_vec();
            let layers = step
                .net
                .layers
                .drain(..)
                .map(|l| dualprop::Layer {
                    array: Counting {
                        array: l.array,
                        macs: Arc::clone(&macs),
                    },
                    bias: l.bias,
                })
                .collect();
            let mut net =
                Network::with_blocks(layers, blocks, Activation::Relu, Loss::CrossEntropy).unwrap();
            let settled = settle(&mut net, &mut step.dyads, &step.x, &step.y, &step.dynamics);
            assert_eq!(settled.passes, passes);
            step.optimizer.step_local(&mut net, &step.dyads, 0.1);
            let counted = 2.0 * macs.load(Ordering::Relaxed) as f64;
            let formula = flops::conv_dp_step(&shape.blocks, &shape.sizes, shape.batch, passes);
            assert_eq!(counted, formula, "K = {passes}");
        }
    }

    /// For dense blocks the convolutional formula is the dense one.
    #[test]
    fn conv_formula_of_a_dense_network_is_the_dense_formula() {
        let sizes = [784, 1024, 1024, 10];
        let blocks = [dualprop::Block::Dense; 3];
        assert_eq!(
            flops::conv_dp_step(&blocks, &sizes, 100, 4),
            flops::dp_step(&sizes, 100, 4)
        );
    }

    /// cnn-fmnist's step at K = 4, batch 100, by hand: m = 32·9·784, 64·288·196, 256·3136, 2560.
    #[test]
    fn cnn_fmnist_step_counts() {
        let shape = cnn_fmnist(false).shape().unwrap();
        assert_eq!(shape.sizes, vec![784, 6272, 3136, 256, 10]);
        let m = [225_792.0, 3_612_672.0, 802_816.0, 2_560.0];
        let all: f64 = m.iter().sum();
        let per_pass = all + (all - m[0]) + m[1];
        let expected = 200.0 * (2.0 * all + m[0] + m[1] + 4.0 * per_pass);
        assert_eq!(
            flops::conv_dp_step(&shape.blocks, &shape.sizes, 100, 4),
            expected
        );
    }
}
