//! Seeded random streams and bulk draws.
//!
//! Every random number of the crate comes from a ChaCha8 stream keyed by (seed, purpose), so the
//! same seed gives the same bits on every machine and thread count.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Purposes of the streams an array owns (population streams are in `population`).
pub(crate) mod purpose {
    /// Per-pulse cycle-to-cycle noise and stochastic rounding.
    pub const UPDATE: u64 = 1;
    /// Write noise on the apparent weights.
    pub const WRITE: u64 = 2;
    /// Read noise (DAC, weight, output).
    pub const READ: u64 = 3;
    /// Programming noise, drift exponents and 1/f read noise of the drift model.
    pub const DRIFT: u64 = 4;
    /// Which devices are stuck.
    pub const FAULTS: u64 = 5;
    /// Per-output-line noise levels of the ADCs.
    pub const IO_POPULATION: u64 = 6;
    /// Decay, diffusion and resets.
    pub const POST_UPDATE: u64 = 7;
}

/// The stream `purpose` of `seed`.
pub(crate) fn stream(seed: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose);
    rng
}

/// One standard normal draw as f32 (ziggurat).
///
/// Drawn in f64 and rounded: rand_distr's f64 ziggurat is faster than its f32 one here.
#[inline]
pub(crate) fn normal<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    rng.sample::<f64, _>(StandardNormal) as f32
}

/// Fill `out` with standard normal draws (ziggurat).
pub(crate) fn fill_normal<R: Rng + ?Sized>(rng: &mut R, out: &mut [f32]) {
    for v in out.iter_mut() {
        *v = normal(rng);
    }
}

/// Fill `out` with uniform draws in [0, 1).
pub(crate) fn fill_uniform<R: Rng + ?Sized>(rng: &mut R, out: &mut [f32]) {
    for v in out.iter_mut() {
        *v = rng.random::<f32>();
    }
}
