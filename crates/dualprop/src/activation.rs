//! Neuron transfer functions f and their derivatives.

use serde::{Deserialize, Serialize};

/// The transfer function of the hidden neurons (the output layer is linear).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// clip(x, 0, 1).
    HardSigmoid,
    /// tanh(x).
    Tanh,
    /// x.
    Identity,
}

impl Activation {
    /// f(x).
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::HardSigmoid => x.clamp(0.0, 1.0),
            Activation::Tanh => x.tanh(),
            Activation::Identity => x,
        }
    }

    /// f′(x); at a kink the derivative of the side the function is flat on (0 for ReLU at 0).
    #[inline]
    pub fn derivative(self, x: f32) -> f32 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::HardSigmoid => {
                if x > 0.0 && x < 1.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Tanh => {
                let t = x.tanh();
                1.0 - t * t
            }
            Activation::Identity => 1.0,
        }
    }
}

/// Run `$body` with `$f` bound to the transfer function of `$act` as a closure, so that the
/// elementwise loops of the settling kernels are monomorphised instead of matching per element.
macro_rules! dispatch {
    ($act:expr, $f:ident => $body:block) => {
        match $act {
            $crate::activation::Activation::Relu => {
                let $f = |x: f32| x.max(0.0);
                $body
            }
            $crate::activation::Activation::HardSigmoid => {
                let $f = |x: f32| x.clamp(0.0, 1.0);
                $body
            }
            $crate::activation::Activation::Tanh => {
                let $f = |x: f32| x.tanh();
                $body
            }
            $crate::activation::Activation::Identity => {
                let $f = |x: f32| x;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_central_differences_away_from_kinks() {
        let h = 1e-3f32;
        for act in [
            Activation::Relu,
            Activation::HardSigmoid,
            Activation::Tanh,
            Activation::Identity,
        ] {
            for x in [-1.7f32, -0.3, 0.2, 0.45, 0.8, 1.9] {
                let fd = (act.apply(x + h) - act.apply(x - h)) / (2.0 * h);
                assert!(
                    (fd - act.derivative(x)).abs() < 1e-3,
                    "{act:?} at {x}: {fd} vs {}",
                    act.derivative(x)
                );
            }
        }
    }
}
