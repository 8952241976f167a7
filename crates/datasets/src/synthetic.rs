//! A teacher-network task of any size: a fixed random MLP labels Gaussian inputs.
//!
//! The teacher is `o = A (W₂ tanh(W₁ x) − m)` with `W₁` (hidden × inputs) drawn from
//! N(0, 1/inputs), `W₂` (outputs × hidden) from N(0, 1/hidden), and inputs standard normal.
//! The whitening `A` and the mean `m` are fitted on 4096 calibration inputs so that the outputs
//! have zero mean and identity covariance: argmax classes are then near-balanced (a raw random
//! readout can starve a class below 1 % of the samples), and regression targets have unit
//! variance, which makes `noise` a noise-to-signal ratio.
//! A student of the teacher's shape can fit the task exactly (when `noise` is 0), which makes it a
//! clean probe of what a learning rule or a device does to the reachable accuracy.

use super::{DataStream, Dataset, Split, Streams};
use nalgebra::{DMatrix, DVector};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What the student has to predict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// The index of the teacher's largest (noisy) output, as a one-hot target (the default).
    #[default]
    Classification,
    /// The teacher's outputs plus noise, as real-valued targets.
    Regression,
}

/// The synthetic teacher task; every field has a default, so `Synthetic(())` is a small task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticSpec {
    /// Input features, ≥ 1 (default 16).
    pub inputs: usize,
    /// Hidden width of the teacher, ≥ 1 (default 32); the student's widths are independent.
    pub hidden: usize,
    /// Outputs: the number of classes for `Classification` (≥ 2), of targets for `Regression`
    /// (≥ 1) (default 4).
    pub outputs: usize,
    /// Training samples, ≥ 1 (default 2000).
    pub train: usize,
    /// Test samples, ≥ 1 (default 500).
    pub test: usize,
    /// Standard deviation of Gaussian noise added to the teacher's outputs, ≥ 0 (default 0):
    /// before the argmax for classification (labels near the class boundaries flip), to the
    /// targets for regression. The teacher's outputs have unit variance, so this is a
    /// noise-to-signal ratio.
    pub noise: f64,
    /// `Classification` (default) or `Regression`.
    pub task: Task,
    /// Seed of the teacher, the inputs and the noise (default 0); the same for every replicate of
    /// an experiment, so replicates differ in initial weights and devices, not in data.
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            inputs: 16,
            hidden: 32,
            outputs: 4,
            train: 2000,
            test: 500,
            noise: 0.0,
            task: Task::Classification,
            seed: 0,
        }
    }
}

/// Largest number of values in one generated matrix (8 GiB of f32), to turn an absurd size into
/// an error rather than an allocation failure.
const MAX_VALUES: usize = 1 << 31;

impl SyntheticSpec {
    /// The first out-of-range field, as [`crate::DataError::Invalid`].
    pub fn validate(&self) -> crate::Result<()> {
        let min_outputs = match self.task {
            Task::Classification => 2,
            Task::Regression => 1,
        };
        for (field, value, min) in [
            ("inputs", self.inputs, 1),
            ("hidden", self.hidden, 1),
            ("outputs", self.outputs, min_outputs),
            ("train", self.train, 1),
            ("test", self.test, 1),
        ] {
            if value < min {
                return Err(crate::DataError::invalid(
                    field,
                    format!("must be at least {min} (got {value})"),
                ));
            }
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(crate::DataError::invalid(
                "noise",
                format!("must be a non-negative finite number (got {})", self.noise),
            ));
        }
        let widest = self.inputs.max(self.hidden).max(self.outputs);
        if widest.saturating_mul(self.train.max(self.test)) > MAX_VALUES {
            return Err(crate::DataError::invalid(
                "train",
                format!(
                    "{} samples of width {widest} exceed {MAX_VALUES} values in one matrix",
                    self.train.max(self.test)
                ),
            ));
        }
        Ok(())
    }
}

/// Standard normal draws by the Box–Muller transform, written out so that the data never change
/// with a version of a distributions crate.
struct Gauss {
    rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl Gauss {
    fn new(rng: ChaCha8Rng) -> Self {
        Self { rng, spare: None }
    }

    fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // 53 random bits; 1 − u lies in (0, 1], so the logarithm is finite.
        let u = 1.0 - (self.rng.next_u64() >> 11) as f64 * f64::EPSILON / 2.0;
        let v = (self.rng.next_u64() >> 11) as f64 * f64::EPSILON / 2.0;
        let r = (-2.0 * u.ln()).sqrt();
        let t = std::f64::consts::TAU * v;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }

    fn matrix(&mut self, rows: usize, cols: usize, std: f64) -> DMatrix<f64> {
        // Column-major fill: sample j is drawn before sample j + 1, so a longer split extends a
        // shorter one instead of reshuffling it.
        DMatrix::from_iterator(
            rows,
            cols,
            std::iter::repeat_with(|| std * self.next()).take(rows * cols),
        )
    }
}

/// Inputs used to fit the whitening of the teacher's outputs.
const CALIBRATION: usize = 4096;

/// The teacher network with its whitened readout.
struct Teacher {
    w1: DMatrix<f64>,
    w2: DMatrix<f64>,
    b2: DVector<f64>,
}

impl Teacher {
    fn new(spec: &SyntheticSpec, streams: Streams) -> Self {
        let mut g = Gauss::new(streams(spec.seed, DataStream::Teacher));
        let w1 = g.matrix(
            spec.hidden,
            spec.inputs,
            (spec.inputs as f64).recip().sqrt(),
        );
        let w2 = g.matrix(
            spec.outputs,
            spec.hidden,
            (spec.hidden as f64).recip().sqrt(),
        );
        let raw = Teacher {
            w1,
            w2,
            b2: DVector::zeros(spec.outputs),
        };
        let x = Gauss::new(streams(spec.seed, DataStream::Calibration)).matrix(
            spec.inputs,
            CALIBRATION,
            1.0,
        );
        let mut o = raw.outputs(&x);
        let mean = o.column_mean();
        o.column_iter_mut().for_each(|mut c| c -= &mean);
        let cov = &o * o.transpose() / CALIBRATION as f64;
        let whiten = whitening(cov);
        Teacher {
            b2: -(&whiten * mean),
            w2: whiten * raw.w2,
            w1: raw.w1,
        }
    }

    fn outputs(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let mut o = &self.w2 * (&self.w1 * x).map(f64::tanh);
        o.column_iter_mut().for_each(|mut c| c += &self.b2);
        o
    }
}

/// L⁻¹ for the Cholesky factor L of `cov`, which maps outputs of covariance `cov` to identity
/// covariance; when `cov` is (near) singular, as it is with more outputs than hidden units, only
/// the variances are equalised.
fn whitening(cov: DMatrix<f64>) -> DMatrix<f64> {
    let variances = cov.diagonal();
    let largest = variances.max().max(f64::MIN_POSITIVE);
    let inverse = cov.cholesky().and_then(|ch| {
        let l = ch.l();
        // A pivot far below the variances means a near-linear dependence among the outputs,
        // whose inverse would amplify rounding into the targets.
        let well_conditioned = l.diagonal().iter().all(|d| d * d > 1e-9 * largest);
        well_conditioned.then(|| l.try_inverse()).flatten()
    });
    inverse.unwrap_or_else(|| {
        DMatrix::from_diagonal(&variances.map(|v| v.max(1e-12 * largest).sqrt().recip()))
    })
}

/// Generate the task `spec` describes from the streams of `spec.seed`; `spec` must be valid.
/// Independent streams per part mean that changing `train` leaves the teacher and the test set
/// unchanged, and changing `noise` leaves the inputs unchanged.
pub(super) fn generate(spec: &SyntheticSpec, streams: Streams) -> Dataset {
    let teacher = Teacher::new(spec, streams);
    let split = |n: usize, inputs: DataStream, noise: DataStream| {
        let x = Gauss::new(streams(spec.seed, inputs)).matrix(spec.inputs, n, 1.0);
        let mut o = teacher.outputs(&x);
        if spec.noise > 0.0 {
            let mut noise = Gauss::new(streams(spec.seed, noise));
            o.iter_mut().for_each(|v| *v += spec.noise * noise.next());
        }
        let y = match spec.task {
            Task::Regression => o.map(|v| v as f32),
            Task::Classification => {
                let mut y = DMatrix::zeros(spec.outputs, n);
                for (j, column) in o.column_iter().enumerate() {
                    y[(column.imax(), j)] = 1.0;
                }
                y
            }
        };
        Split {
            x: x.map(|v| v as f32),
            y,
        }
    };
    Dataset {
        name: "synthetic".into(),
        train: split(spec.train, DataStream::TrainInputs, DataStream::TrainNoise),
        test: split(spec.test, DataStream::TestInputs, DataStream::TestNoise),
        image: None,
    }
}
