//! Analog crossbar arrays for dyadsim.
//!
//! A synapse layer of a dyadic network is a crossbar: it can be *read* forward (y = W·x), read
//! transposed (z = Wᵀ·d), *programmed* with an update, and *aged*. The [`Crossbar`] trait is the only
//! way the learning code touches weights, so ideal and non-ideal arrays are interchangeable.
//!
//! The non-ideal array, [`AnalogArray`], follows the definitions, names and defaults of IBM's
//! aihwkit (Rasch et al. 2021, "A flexible and fast PyTorch toolkit for simulating training and
//! inference on analog crossbar arrays"): pulsed devices with device-to-device and cycle-to-cycle
//! variation, stochastic-rounding and pulse-coincidence updates, reads through DAC/ADC with noise
//! and bound management, stuck faults and PCM-like drift. A [`spec::Hardware`] value describes it;
//! docs/DEVICES.md states every formula. Everything random is drawn from ChaCha8 streams of one
//! seed, so the same seed gives the same array and the same numbers.
//!
//! ```
//! use crossbar::{Crossbar, IdealArray, Update};
//! use nalgebra::DMatrix;
//!
//! let mut array = IdealArray::new(DMatrix::from_row_slice(2, 3, &[1.0, 0.0, -1.0, 0.5, 0.5, 0.5]));
//! let x = DMatrix::from_column_slice(3, 1, &[1.0, 2.0, 3.0]);
//! let mut y = DMatrix::zeros(2, 1);
//! array.read(&x, &mut y);
//! assert_eq!(y.as_slice(), &[-2.0, 3.0]);
//! array.update(Update::Delta(&DMatrix::from_element(2, 3, 0.5)));
//! assert_eq!(array.weights()[(0, 0)], 1.5);
//! ```
//!
//! A noisy array from a hardware description:
//!
//! ```
//! use crossbar::spec::{ConstantStep, Device, Hardware, StochasticRounding, UpdateScheme};
//! use crossbar::{AnalogArray, Crossbar, Update};
//! use nalgebra::DMatrix;
//!
//! let spec = Hardware {
//!     device: Device::ConstantStep(ConstantStep { dw_min: 0.01, ..Default::default() }),
//!     update: UpdateScheme::StochasticRounding(StochasticRounding::default()),
//!     ..Hardware::ideal()
//! };
//! let w0 = DMatrix::from_fn(4, 3, |i, j| 0.1 * (i as f32 - j as f32));
//! let mut array = AnalogArray::new(&spec, &w0, 42).unwrap();
//! let report = array.update(Update::Delta(&DMatrix::from_element(4, 3, 0.05)));
//! assert!(report.pulses > 0);
//! ```

pub mod analog;
pub mod array;
pub mod counts;
mod device;
pub mod drift;
mod fast;
mod faults;
pub mod ideal;
pub mod linalg;
pub mod periphery;
mod population;
mod read;
pub mod response;
mod rng;
pub mod simd;
pub mod snapshot;
pub mod spec;
mod state;
mod update;

#[cfg(test)]
mod tests;

pub use analog::{AnalogArray, build};
pub use array::{Crossbar, Update, UpdateReport};
pub use counts::OpCounts;
pub use drift::{DriftPoint, drift_response};
pub use fast::{GAMMA as SPLITMIX64_GAMMA, splitmix64};
pub use ideal::IdealArray;
pub use periphery::NeuronMismatch;
pub use response::{PulseResponse, ResponseStats, pulse_response};
pub use snapshot::{SnapshotError, SnapshotReader, SnapshotWriter};
pub use spec::{Hardware, SpecError};
