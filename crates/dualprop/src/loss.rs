//! Losses on the linear output layer: softmax cross-entropy and mean squared error.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// The training loss ℓ(z, y) of one sample, z the output drive and y the one-hot or real target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// −Σᵢ yᵢ·log softmax(z)ᵢ.
    CrossEntropy,
    /// ½‖z − y‖².
    Mse,
}

impl Loss {
    /// Mean of ℓ over the columns (samples) of `z`, accumulated in f64.
    pub fn value(self, z: &DMatrix<f32>, y: &DMatrix<f32>) -> f64 {
        let b = z.ncols();
        if b == 0 {
            return 0.0;
        }
        let mut total = 0.0f64;
        for (zc, yc) in z.column_iter().zip(y.column_iter()) {
            total += match self {
                Loss::CrossEntropy => {
                    let m = zc.max() as f64;
                    let lse = m + zc.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
                    zc.iter()
                        .zip(yc.iter())
                        .map(|(&zi, &yi)| yi as f64 * (lse - zi as f64))
                        .sum::<f64>()
                }
                Loss::Mse => {
                    0.5 * zc
                        .iter()
                        .zip(yc.iter())
                        .map(|(&zi, &yi)| (zi as f64 - yi as f64).powi(2))
                        .sum::<f64>()
                }
            };
        }
        total / b as f64
    }

    /// ∇_z ℓ for every column, written into `grad` (not divided by the batch size).
    pub fn gradient(self, z: &DMatrix<f32>, y: &DMatrix<f32>, grad: &mut DMatrix<f32>) {
        match self {
            Loss::Mse => {
                for ((g, &zi), &yi) in grad.iter_mut().zip(z.iter()).zip(y.iter()) {
                    *g = zi - yi;
                }
            }
            Loss::CrossEntropy => {
                for ((mut gc, zc), yc) in grad
                    .column_iter_mut()
                    .zip(z.column_iter())
                    .zip(y.column_iter())
                {
                    let m = zc.max();
                    let mut sum = 0.0f32;
                    for (g, &zi) in gc.iter_mut().zip(zc.iter()) {
                        *g = (zi - m).exp();
                        sum += *g;
                    }
                    let ysum: f32 = yc.sum();
                    for (g, &yi) in gc.iter_mut().zip(yc.iter()) {
                        *g = *g / sum * ysum - yi;
                    }
                }
            }
        }
    }
}

/// Fraction of columns whose largest output is the target's largest entry.
pub fn accuracy(z: &DMatrix<f32>, y: &DMatrix<f32>) -> f64 {
    if z.ncols() == 0 {
        return 0.0;
    }
    let hits = z
        .column_iter()
        .zip(y.column_iter())
        .filter(|(zc, yc)| zc.imax() == yc.imax())
        .count();
    hits as f64 / z.ncols() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        let z = DMatrix::from_column_slice(3, 2, &[0.3, -1.2, 2.0, 0.1, 0.0, -0.4]);
        let y = DMatrix::from_column_slice(3, 2, &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
        for loss in [Loss::CrossEntropy, Loss::Mse] {
            let mut g = DMatrix::zeros(3, 2);
            loss.gradient(&z, &y, &mut g);
            for k in 0..6 {
                let h = 1e-3f32;
                let (mut zp, mut zm) = (z.clone(), z.clone());
                zp[k] += h;
                zm[k] -= h;
                // value() is a batch mean, gradient() is per sample: scale by the batch size 2.
                let fd = 2.0 * (loss.value(&zp, &y) - loss.value(&zm, &y)) / (2.0 * h as f64);
                assert!(
                    (fd - g[k] as f64).abs() < 1e-3,
                    "{loss:?}[{k}]: {fd} vs {}",
                    g[k]
                );
            }
        }
    }

    #[test]
    fn cross_entropy_of_uniform_logits_is_log_classes() {
        let z = DMatrix::zeros(10, 1);
        let mut y = DMatrix::zeros(10, 1);
        y[3] = 1.0;
        approx::assert_relative_eq!(
            Loss::CrossEntropy.value(&z, &y),
            10f64.ln(),
            epsilon = 1e-12
        );
    }
}
