//! Elementwise kernels compiled for the widest vector unit the processor has.

/// [`crossbar::widest_simd`]: a function compiled for AVX-512, AVX2 and the baseline, the widest run.
pub(crate) use crossbar::widest_simd;
