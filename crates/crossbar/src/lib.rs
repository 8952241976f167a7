//! Analog crossbar arrays for dyadsim.
//!
//! A synapse layer of a dyadic network is a crossbar: it can be *read* forward (y = W·x), read
//! transposed (z = Wᵀ·d), *programmed* with an update, and *aged*. The [`Crossbar`] trait is the only
//! way the learning code touches weights, so ideal and non-ideal arrays are interchangeable.
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

pub mod array;
pub mod ideal;
pub mod linalg;
pub mod periphery;

pub use array::{Crossbar, Update, UpdateReport};
pub use ideal::IdealArray;
pub use periphery::NeuronMismatch;
