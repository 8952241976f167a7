//! The decision at one probe: a paired, one-sided bound on the mean drop over replicate seeds.
//!
//! The reference and the probe run with the same replicate seeds, and every random stream derives
//! from (experiment seed, replicate seed, purpose), never from the point, so seed `s` sees the same
//! initial weights, device realisation and batch order at both (common random numbers). The drop
//! `dₛ = sign · (reference metric − probe metric)` is therefore paired, and much of the
//! seed-to-seed spread cancels in it. With n seeds, mean d̄ and sample standard deviation s_d, the
//! probe passes when the one-sided upper confidence bound
//!
//! ```text
//! U = d̄ + t(P, n − 1) · s_d / √n
//! ```
//!
//! is at most the allowed drop D, where t(P, ν) is the P-quantile of Student's t with ν degrees of
//! freedom: at confidence P the true mean drop is within D. One seed has no spread to test, so a
//! search refuses to start with fewer than two ([`crate::tolerance::Plan::check_seeds`]); called
//! with one, [`paired_pass`] returns U = d̄. A probe with a diverged run fails.

/// The metric at one probe over its replicate seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Mean over the seeds whose runs did not diverge (NaN when all diverged).
    pub mean: f64,
    /// Sample standard deviation over those seeds (0 for one seed).
    pub std: f64,
    /// Seeds that did not diverge.
    pub n: usize,
    /// Seeds whose run diverged.
    pub diverged: usize,
}

/// Mean and sample standard deviation of `values` (the NaN of a diverged run counted apart).
pub fn summarise(values: &[f64]) -> Summary {
    let ok: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (mean, std) = mean_std(&ok);
    Summary {
        mean,
        std,
        n: ok.len(),
        diverged: values.len() - ok.len(),
    }
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Whether a probe stays within `max_drop` of the reference at `confidence`.
///
/// `reference` and `probe` hold the metric per replicate seed in the same seed order (NaN for a
/// diverged run); `higher_is_better` orients the drop. Returns the upper bound on the mean drop and
/// the decision; a diverged probe run fails, and so does a probe with no seeds.
pub fn paired_pass(
    reference: &[f64],
    probe: &[f64],
    higher_is_better: bool,
    max_drop: f64,
    confidence: f64,
) -> (f64, bool) {
    if probe.is_empty() || probe.len() != reference.len() || probe.iter().any(|v| !v.is_finite()) {
        return (f64::INFINITY, false);
    }
    let sign = if higher_is_better { 1.0 } else { -1.0 };
    let drops: Vec<f64> = reference
        .iter()
        .zip(probe)
        .map(|(r, p)| sign * (r - p))
        .collect();
    let (mean, std) = mean_std(&drops);
    let n = drops.len();
    let bound = if n > 1 {
        mean + t_quantile(confidence, (n - 1) as f64) * std / (n as f64).sqrt()
    } else {
        mean
    };
    (bound, bound <= max_drop)
}

/// The `p`-quantile of Student's t distribution with `nu` degrees of freedom (p in (0, 1)).
pub fn t_quantile(p: f64, nu: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, nu);
    }
    // The CDF is monotone: bisect on t ≥ 0 after finding an upper end.
    let mut hi = 1.0;
    while t_cdf(hi, nu) < p && hi < 1e12 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, nu) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-14 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// P(T ≤ t) for Student's t with `nu` degrees of freedom, through the regularised incomplete beta
/// function: for t ≥ 0 it is 1 − ½·I_x(ν/2, ½) with x = ν / (ν + t²).
pub fn t_cdf(t: f64, nu: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(nu / (nu + t * t), 0.5 * nu, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction (evaluated with the
/// modified Lentz method) on the side of x where it converges fast.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        log_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - log_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        // Even step, then odd step of the continued fraction's coefficients.
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 by the Lanczos approximation (g = 7, nine coefficients; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn t_quantiles_match_the_published_table() {
        // Critical values of Student's t (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
        assert_abs_diff_eq!(t_quantile(0.95, 1.0), 6.314, epsilon = 1e-3);
        assert_abs_diff_eq!(t_quantile(0.95, 2.0), 2.920, epsilon = 1e-3);
        assert_abs_diff_eq!(t_quantile(0.95, 4.0), 2.132, epsilon = 1e-3);
        assert_abs_diff_eq!(t_quantile(0.975, 10.0), 2.228, epsilon = 1e-3);
        assert_abs_diff_eq!(t_quantile(0.99, 30.0), 2.457, epsilon = 1e-3);
        // ν → ∞ is the normal quantile.
        assert_abs_diff_eq!(t_quantile(0.95, 1e7), 1.644_854, epsilon = 1e-5);
        assert_abs_diff_eq!(t_quantile(0.05, 2.0), -2.920, epsilon = 1e-3);
    }

    #[test]
    fn t_cdf_with_one_degree_is_the_cauchy_law() {
        for t in [-3.0, -0.5, 0.0, 0.7, 2.0, 10.0] {
            let cauchy = 0.5 + f64::atan(t) / std::f64::consts::PI;
            assert_abs_diff_eq!(t_cdf(t, 1.0), cauchy, epsilon = 1e-12);
        }
    }

    #[test]
    fn pairing_cancels_the_shared_seed_spread() {
        // Seeds differ by 10 points, but every probe run is exactly 1 point below its reference.
        let reference = [0.90, 0.80, 0.95];
        let probe = [0.89, 0.79, 0.94];
        let (bound, pass) = paired_pass(&reference, &probe, true, 0.02, 0.95);
        assert_abs_diff_eq!(bound, 0.01, epsilon = 1e-12);
        assert!(pass);
        // The same numbers unpaired would have a spread of ~8 points; a 3-point drop still fails.
        let (bound, pass) = paired_pass(&reference, &[0.87, 0.77, 0.92], true, 0.02, 0.95);
        assert_abs_diff_eq!(bound, 0.03, epsilon = 1e-12);
        assert!(!pass);
    }

    #[test]
    fn noisy_drops_need_the_t_bound() {
        // Drops 0, 0.02, 0.01: mean 0.01, s = 0.01, U = 0.01 + 2.920·0.01/√3 = 0.02686.
        let (bound, pass) = paired_pass(&[0.9, 0.9, 0.9], &[0.9, 0.88, 0.89], true, 0.02, 0.95);
        assert_abs_diff_eq!(bound, 0.01 + 2.919_986 * 0.01 / 3f64.sqrt(), epsilon = 1e-6);
        assert!(!pass);
        // A loss that rose is a drop.
        let (_, pass) = paired_pass(&[0.1, 0.1], &[0.5, 0.5], false, 0.2, 0.95);
        assert!(!pass);
    }

    #[test]
    fn a_diverged_probe_fails_and_is_counted() {
        let (_, pass) = paired_pass(&[0.9, 0.9], &[0.9, f64::NAN], true, 0.5, 0.95);
        assert!(!pass);
        let s = summarise(&[0.9, f64::NAN, 0.7]);
        assert_eq!((s.n, s.diverged), (2, 1));
        assert_abs_diff_eq!(s.mean, 0.8, epsilon = 1e-12);
        assert_abs_diff_eq!(s.std, 0.02f64.sqrt(), epsilon = 1e-12);
    }
}
