//! Random streams keyed by (experiment seed, replicate, purpose), never by position or thread.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for; each purpose is an independent ChaCha stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Initial weights and biases.
    Init = 1,
    /// Mini-batch order.
    Shuffle = 2,
    /// Device-to-device variation and faults of the hardware.
    Devices = 3,
    /// Cycle-to-cycle and read noise during training.
    Noise = 4,
    /// Neuron-circuit mismatch.
    Periphery = 5,
    /// Probe batches and random directions of diagnostics.
    Probe = 6,
    /// Synthetic data.
    Data = 7,
}

/// SplitMix64, to spread (seed, replicate) over the 256-bit ChaCha key.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for `purpose` of replicate `replicate` of the experiment seeded with `seed`.
pub fn stream(seed: u64, replicate: u64, purpose: Purpose) -> ChaCha8Rng {
    let (mut a, mut b) = (seed, replicate ^ 0xD1B5_4A32_D192_ED03);
    let mut state = splitmix(&mut a) ^ splitmix(&mut b).rotate_left(17);
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix(&mut state).to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(purpose as u64);
    rng
}

/// A 64-bit seed for a sub-stream handed to another crate.
pub fn sub_seed(seed: u64, replicate: u64, purpose: Purpose) -> u64 {
    use rand::RngCore;
    stream(seed, replicate, purpose).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_differ_by_every_key_and_repeat_exactly() {
        let a = stream(1, 0, Purpose::Init).next_u64();
        assert_eq!(a, stream(1, 0, Purpose::Init).next_u64());
        assert_ne!(a, stream(2, 0, Purpose::Init).next_u64());
        assert_ne!(a, stream(1, 1, Purpose::Init).next_u64());
        assert_ne!(a, stream(1, 0, Purpose::Shuffle).next_u64());
        // Replicate and seed are not interchangeable.
        assert_ne!(
            stream(0, 1, Purpose::Init).next_u64(),
            stream(1, 0, Purpose::Init).next_u64()
        );
    }
}
