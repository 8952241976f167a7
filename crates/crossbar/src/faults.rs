//! Stuck-at faults: devices frozen at their own lower bound, upper bound, or at weight zero.
//!
//! A stuck device is a device whose bounds coincide and whose steps vanish, the same mechanism
//! aihwkit uses for corrupt devices, so no other module needs to know about faults: pulses,
//! floating-point updates, decay and programming all clip it back to its value.

use crate::population::Population;
use crate::rng::{fill_uniform, purpose, stream};
use crate::spec::Faults;

/// Which fault a device has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Stuck at its lower bound b_min.
    Min,
    /// Stuck at its upper bound b_max.
    Max,
    /// Stuck where it reads as weight zero.
    Zero,
}

/// Draw each device's fault (one uniform per device, always, for common random numbers).
pub(crate) fn sample(faults: &Faults, n: usize, seed: u64) -> Vec<Option<Fault>> {
    let mut u = vec![0.0f32; n];
    fill_uniform(&mut stream(seed, purpose::FAULTS), &mut u);
    let p_min = faults.stuck_at_min as f32;
    let p_max = p_min + faults.stuck_at_max as f32;
    let p_zero = p_max + faults.stuck_at_zero as f32;
    u.into_iter()
        .map(|u| {
            if u < p_min {
                Some(Fault::Min)
            } else if u < p_max {
                Some(Fault::Max)
            } else if u < p_zero {
                Some(Fault::Zero)
            } else {
                None
            }
        })
        .collect()
}

/// Freeze the faulty devices of `pop`; `zero[k]` is the device value that reads as weight 0.
///
/// An ideal population (no bounds) first gets unbounded ones so stuck devices can be expressed.
pub(crate) fn apply(pop: &mut Population, faults: &[Option<Fault>], zero: impl Fn(usize) -> f32) {
    if faults.iter().all(Option::is_none) {
        return;
    }
    let n = faults.len();
    if pop.len() == 0 {
        pop.b_min = vec![f32::NEG_INFINITY; n];
        pop.b_max = vec![f32::INFINITY; n];
        pop.dw_up = vec![0.0; n];
        pop.dw_down = vec![0.0; n];
    }
    for (k, fault) in faults.iter().enumerate() {
        let Some(fault) = fault else { continue };
        let value = match fault {
            Fault::Min => pop.b_min[k],
            Fault::Max => pop.b_max[k],
            Fault::Zero => zero(k),
        };
        pop.b_min[k] = value;
        pop.b_max[k] = value;
        pop.dw_up[k] = 0.0;
        pop.dw_down[k] = 0.0;
        if !pop.p_up.is_empty() {
            pop.p_up[k] = 0.0;
            pop.p_down[k] = 0.0;
        }
    }
}
