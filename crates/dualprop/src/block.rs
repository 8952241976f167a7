//! The geometry of a network's blocks: dense layers and 'same'-padded convolutions with optional
//! 2×2/2 max-pooling, as the authors' Flax models define them.
//!
//! Image-shaped unit vectors are channel-last: unit (y, x, c) of an H×W×C layer has index
//! (y·W + x)·C + c. A convolution kernel is one array of C_out rows × (C_in·k·k) columns whose column
//! (dy·k + dx)·C_in + c weighs input channel c at kernel offset (dy, dx).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An image shape: height, width, channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels.
    pub channels: usize,
}

impl Image {
    /// Units of the image as a vector: H·W·C.
    pub fn units(&self) -> usize {
        self.height * self.width * self.channels
    }
}

/// One block of a network as described: a dense layer or a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockSpec {
    /// A dense layer of `units` dyads (flattening whatever is below it).
    Dense(usize),
    /// A 'same'-padded k×k convolution of the given stride into `channels` channels, optionally
    /// followed by 2×2 max-pooling with stride 2.
    Conv {
        /// Output channels C_out.
        channels: usize,
        /// Kernel size k (k×k).
        kernel: usize,
        /// Stride in both directions (default 1).
        #[serde(default = "one")]
        stride: usize,
        /// 2×2/2 max-pooling after the convolution (default false).
        #[serde(default)]
        pool: bool,
    },
}

fn one() -> usize {
    1
}

/// The geometry of one convolution block, resolved from its input shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// The input image.
    pub input: Image,
    /// Output channels.
    pub channels: usize,
    /// Kernel size k.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Max-pooling after the convolution.
    pub pool: bool,
}

impl ConvShape {
    /// The convolution's output rows and columns before pooling: ⌈H/s⌉ × ⌈W/s⌉ ('same' padding).
    pub fn conv_size(&self) -> (usize, usize) {
        (
            self.input.height.div_ceil(self.stride),
            self.input.width.div_ceil(self.stride),
        )
    }

    /// Padding above and left of the input: half the total 'same' padding, rounded down (as XLA).
    pub fn padding(&self) -> (usize, usize) {
        let (ho, wo) = self.conv_size();
        let pad = |out: usize, size: usize| {
            ((out - 1) * self.stride + self.kernel).saturating_sub(size) / 2
        };
        (pad(ho, self.input.height), pad(wo, self.input.width))
    }

    /// Output positions of the convolution (before pooling).
    pub fn positions(&self) -> usize {
        let (h, w) = self.conv_size();
        h * w
    }

    /// Length of one patch: the array's inputs, C_in·k·k.
    pub fn patch(&self) -> usize {
        self.input.channels * self.kernel * self.kernel
    }

    /// The block's output image (after pooling, which drops an odd last row or column as 'VALID').
    pub fn output(&self) -> Image {
        let (h, w) = self.conv_size();
        let (h, w) = if self.pool { (h / 2, w / 2) } else { (h, w) };
        Image {
            height: h,
            width: w,
            channels: self.channels,
        }
    }
}

/// A block of a realised network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// A dense layer: the array reads the whole layer below.
    Dense,
    /// A convolution block.
    Conv(ConvShape),
}

impl Block {
    /// The convolution geometry, if any.
    pub fn conv(&self) -> Option<&ConvShape> {
        match self {
            Block::Dense => None,
            Block::Conv(c) => Some(c),
        }
    }
}

/// A block description that does not fit its input.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BlockError {
    /// No blocks at all.
    #[error("a network needs at least one block")]
    Empty,
    /// A size that must be positive is zero.
    #[error("block {block}: {field} must be at least 1")]
    Zero {
        /// 0-based block index.
        block: usize,
        /// The field.
        field: &'static str,
    },
    /// A convolution after a dense block (the image is gone).
    #[error("block {block}: a convolution cannot follow a dense block")]
    ConvAfterDense {
        /// 0-based block index.
        block: usize,
    },
    /// Pooling a convolution output smaller than 2×2.
    #[error(
        "block {block}: pooling needs a convolution output of at least 2×2, got {height}×{width}"
    )]
    PoolTooSmall {
        /// 0-based block index.
        block: usize,
        /// Output rows before pooling.
        height: usize,
        /// Output columns before pooling.
        width: usize,
    },
    /// The last block is not dense (the output layer is a dense linear layer).
    #[error("the last block must be dense (the linear output layer)")]
    OutputNotDense,
}

/// Resolve block descriptions on an input image into realised blocks and the layer sizes (units per
/// layer, input first).
pub fn resolve(input: Image, specs: &[BlockSpec]) -> Result<(Vec<Block>, Vec<usize>), BlockError> {
    if specs.is_empty() {
        return Err(BlockError::Empty);
    }
    if input.height == 0 || input.width == 0 || input.channels == 0 {
        return Err(BlockError::Zero {
            block: 0,
            field: "input",
        });
    }
    let mut image = Some(input);
    let mut sizes = vec![input.units()];
    let mut blocks = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        match *spec {
            BlockSpec::Dense(units) => {
                if units == 0 {
                    return Err(BlockError::Zero {
                        block: i,
                        field: "units",
                    });
                }
                image = None;
                blocks.push(Block::Dense);
                sizes.push(units);
            }
            BlockSpec::Conv {
                channels,
                kernel,
                stride,
                pool,
            } => {
                let input = image.ok_or(BlockError::ConvAfterDense { block: i })?;
                for (field, v) in [
                    ("channels", channels),
                    ("kernel", kernel),
                    ("stride", stride),
                ] {
                    if v == 0 {
                        return Err(BlockError::Zero { block: i, field });
                    }
                }
                let shape = ConvShape {
                    input,
                    channels,
                    kernel,
                    stride,
                    pool,
                };
                let (height, width) = shape.conv_size();
                if pool && (height < 2 || width < 2) {
                    return Err(BlockError::PoolTooSmall {
                        block: i,
                        height,
                        width,
                    });
                }
                let out = shape.output();
                image = Some(out);
                blocks.push(Block::Conv(shape));
                sizes.push(out.units());
            }
        }
    }
    if !matches!(blocks.last(), Some(Block::Dense)) {
        return Err(BlockError::OutputNotDense);
    }
    Ok((blocks, sizes))
}

/// VGG16 (Simonyan & Zisserman 2015, configuration D) as the paper trains it: 13 3×3 convolutions
/// with channels 64, 64, 128, 128, 256, 256, 256, 512 ×6, max-pooling after convolutions 2, 4, 7,
/// 10 and 13, then dense 4096, 4096 and the classes; no batch norm, no dropout.
pub fn vgg16(classes: usize) -> Vec<BlockSpec> {
    vgg(
        &[
            64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512,
        ],
        &[2, 4, 7, 10, 13],
        &[4096, 4096],
        classes,
    )
}

/// A VGG-style network: a 3×3 stride-1 convolution into each of `channels`, 2×2/2 max-pooling
/// after the convolutions whose 1-based positions `pooled` lists, then dense layers of `dense`
/// units and the output layer of `classes`.
pub fn vgg(
    channels: &[usize],
    pooled: &[usize],
    dense: &[usize],
    classes: usize,
) -> Vec<BlockSpec> {
    let mut blocks: Vec<BlockSpec> = channels
        .iter()
        .enumerate()
        .map(|(i, &c)| BlockSpec::Conv {
            channels: c,
            kernel: 3,
            stride: 1,
            pool: pooled.contains(&(i + 1)),
        })
        .collect();
    blocks.extend(dense.iter().map(|&units| BlockSpec::Dense(units)));
    blocks.push(BlockSpec::Dense(classes));
    blocks
}
