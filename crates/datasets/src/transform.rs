//! What turns stored pixels into inputs: the image layout, per-channel normalisation, and the
//! paper's augmentation (zero pad, random crop, horizontal flip).
//!
//! Images are channel-last (HWC, as Flax stores them): the unit of pixel (y, x) in channel c is
//! `(y·W + x)·C + c`, one column of a split per image.

use nalgebra::DMatrix;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The shape of an image input: height × width × channels, stored channel-last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    /// Rows of pixels.
    pub height: usize,
    /// Pixels per row.
    pub width: usize,
    /// Channels per pixel (1 for grey, 3 for RGB).
    pub channels: usize,
}

impl ImageShape {
    /// A shape of `height` × `width` × `channels`.
    pub fn new(height: usize, width: usize, channels: usize) -> Self {
        Self {
            height,
            width,
            channels,
        }
    }

    /// Input units per image.
    pub fn units(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// The input unit of pixel (`y`, `x`) in channel `c`: `(y·W + x)·C + c`.
    pub fn index(&self, y: usize, x: usize, c: usize) -> usize {
        (y * self.width + x) * self.channels + c
    }
}

/// How pixels (0..255) become inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Normalize {
    /// Pixel / 255, in [0, 1] (the default of MNIST and Fashion-MNIST).
    #[default]
    UnitInterval,
    /// (pixel − mean) / std with one mean and one standard deviation per channel over every pixel
    /// of the training split actually used (after `train_subset`, before any validation hold-out);
    /// the test split uses the same numbers. Per channel rather than per pixel, because MNIST's
    /// border pixels are always 0.
    Standardize,
    /// (pixel / 255 − mean) / std with the per-channel constants of the paper's code (Høier &
    /// Zach 2024, `src/training_utils.py` of Rasmuskh/dualprop_icml_2024); the default of CIFAR.
    Paper,
}

/// Mean and standard deviation of one channel, in pixel units (0..255).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelMoments {
    /// Mean pixel value.
    pub mean: f64,
    /// Standard deviation (population, n in the denominator).
    pub std: f64,
}

/// Per-channel mean and standard deviation of `images` (channel-last, `channels` interleaved), from
/// one histogram per channel: exact and one pass.
pub fn channel_moments<'a>(
    images: impl Iterator<Item = &'a [u8]>,
    channels: usize,
) -> Vec<ChannelMoments> {
    let mut histograms = vec![[0u64; 256]; channels];
    for image in images {
        for (k, &p) in image.iter().enumerate() {
            histograms[k % channels][p as usize] += 1;
        }
    }
    histograms
        .iter()
        .map(|h| {
            let n = h.iter().sum::<u64>() as f64;
            let mean = (0..256).map(|v| v as f64 * h[v] as f64).sum::<f64>() / n;
            let var = (0..256)
                .map(|v| (v as f64 - mean).powi(2) * h[v] as f64)
                .sum::<f64>()
                / n;
            ChannelMoments {
                mean,
                std: var.sqrt(),
            }
        })
        .collect()
}

/// One 256-entry table per channel: input = (pixel − shift) / scale, computed in f64.
pub fn channel_tables(shift_scale: &[(f64, f64)]) -> Vec<[f32; 256]> {
    shift_scale
        .iter()
        .map(|&(shift, scale)| std::array::from_fn(|p| ((p as f64 - shift) / scale) as f32))
        .collect()
}

/// (shift, scale) in pixel units for published (mean, std) constants of pixel / 255.
pub fn from_unit_constants(mean: &[f64], std: &[f64]) -> Vec<(f64, f64)> {
    mean.iter()
        .zip(std)
        .map(|(m, s)| (255.0 * m, 255.0 * s))
        .collect()
}

/// Pixels of zero padding on each side before the random crop, as the paper (Høier & Zach 2024,
/// appendix; `augment_train` in their `src/training_utils.py`).
pub const AUGMENT_PAD: usize = 4;

/// One sample's augmentation: crop offsets into the padded image and whether to flip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crop {
    /// Row offset into the padded image, 0..=2·pad.
    pub dy: usize,
    /// Column offset into the padded image, 0..=2·pad.
    pub dx: usize,
    /// Mirror left–right after the crop (probability ½).
    pub flip: bool,
}

impl Crop {
    /// The identity: the centre crop, unflipped.
    pub const IDENTITY: Crop = Crop {
        dy: AUGMENT_PAD,
        dx: AUGMENT_PAD,
        flip: false,
    };

    /// One draw: offsets uniform in 0..=2·[`AUGMENT_PAD`], flip with probability ½, all from one
    /// 64-bit number (the modulo bias is below 10⁻¹⁷).
    pub fn draw(rng: &mut impl RngCore) -> Crop {
        let side = 2 * AUGMENT_PAD as u64 + 1;
        let r = rng.next_u64();
        Crop {
            dy: (r % side) as usize,
            dx: (r / side % side) as usize,
            flip: (r / (side * side)) & 1 == 1,
        }
    }

    /// One draw per sample 0..n, in sample order, so that a sample's augmentation depends on the
    /// stream and its index only, never on batch order or threads.
    pub fn draws(rng: &mut impl RngCore, n: usize) -> Vec<Crop> {
        (0..n).map(|_| Crop::draw(rng)).collect()
    }
}

/// Write the augmented `src` image into `dst`: zero-pad by [`AUGMENT_PAD`], crop `shape` at the
/// crop's offsets, mirror when it says so. Padding is 0 in input units, as the paper pads after
/// normalising.
pub fn augment_image(src: &[f32], dst: &mut [f32], shape: ImageShape, crop: Crop) {
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    for y in 0..h {
        // Row y of the crop is row y + dy − pad of the image.
        let sy = (y + crop.dy).checked_sub(AUGMENT_PAD).filter(|&r| r < h);
        for x in 0..w {
            let cx = if crop.flip { w - 1 - x } else { x };
            let sx = (cx + crop.dx).checked_sub(AUGMENT_PAD).filter(|&r| r < w);
            let out = &mut dst[shape.index(y, x, 0)..shape.index(y, x, 0) + c];
            match (sy, sx) {
                (Some(sy), Some(sx)) => {
                    out.copy_from_slice(&src[shape.index(sy, sx, 0)..shape.index(sy, sx, 0) + c])
                }
                _ => out.fill(0.0),
            }
        }
    }
}

/// Augment every column of the batch `x` (one image of `shape` each) with its crop; `scratch`
/// holds one image and is resized when needed.
pub fn augment_batch(
    x: &mut DMatrix<f32>,
    shape: ImageShape,
    crops: &[Crop],
    scratch: &mut Vec<f32>,
) {
    scratch.resize(shape.units(), 0.0);
    for (j, &crop) in crops.iter().enumerate() {
        let mut column = x.column_mut(j);
        let image = column.as_mut_slice();
        scratch.copy_from_slice(image);
        augment_image(scratch, image, shape, crop);
    }
}
