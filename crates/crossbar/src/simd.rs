//! Elementwise kernels compiled for the widest vector unit the processor has.
//!
//! The widest unit can be capped with the environment variable `DYADSIM_MAX_SIMD` (`avx512`,
//! `avx2` or `baseline`), read once per process: the kernels give the same bits at every width,
//! and the cap is how the bits suite's tests show it on a machine that has the wider units.

use std::sync::OnceLock;

/// A vector width the elementwise kernels can be compiled for, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Width {
    /// The x86-64 baseline (SSE2), or the target's default elsewhere.
    Baseline,
    /// AVX2.
    Avx2,
    /// AVX-512F.
    Avx512,
}

/// The environment variable that caps the width.
pub const MAX_WIDTH_VAR: &str = "DYADSIM_MAX_SIMD";

impl Width {
    /// The width a value of [`MAX_WIDTH_VAR`] names, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "baseline" => Some(Self::Baseline),
            "avx2" => Some(Self::Avx2),
            "avx512" => Some(Self::Avx512),
            _ => None,
        }
    }
}

/// The widest width the kernels may use: [`MAX_WIDTH_VAR`] when it names one, else AVX-512.
/// (A value naming none is reported by the `dyadsim` binary before anything runs.)
pub fn max_width() -> Width {
    static MAX: OnceLock<Width> = OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var(MAX_WIDTH_VAR)
            .ok()
            .and_then(|v| Width::parse(&v))
            .unwrap_or(Width::Avx512)
    })
}

/// Defines a function whose body is compiled three times, for AVX-512, for AVX2 and for the
/// baseline, and which runs the widest version the processor supports (chosen at run time) within
/// [`max_width`].
///
/// The body must consist of operations that are correctly rounded or exact at any vector width
/// (additions, products, divisions, square roots, comparisons; Rust never contracts them into
/// FMAs), so that every version gives the bits of the scalar loop.
#[doc(hidden)]
#[macro_export]
macro_rules! widest_simd {
    (
        $(#[$meta:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn baseline($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            fn avx512($($arg: $ty),*) $(-> $ret)? {
                baseline($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            #[allow(clippy::too_many_arguments)]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                baseline($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            {
                let max = $crate::simd::max_width();
                if max >= $crate::simd::Width::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the processor supports the instructions the function is compiled for.
                    #[allow(unsafe_code)]
                    return unsafe { avx512($($arg),*) };
                }
                if max >= $crate::simd::Width::Avx2 && std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: as above.
                    #[allow(unsafe_code)]
                    return unsafe { avx2($($arg),*) };
                }
            }
            baseline($($arg),*)
        }
    };
}
