//! Where ticks go and how their labels read.

/// About `n` ticks at multiples of 1, 2 or 5 times a power of ten inside `lo..=hi`.
pub(crate) fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let raw = (hi - lo) / n.max(1) as f64;
    if !(raw > 0.0 && raw.is_finite()) {
        return vec![lo];
    }
    let step = linear_step(raw);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Multiplying the index (instead of accumulating) keeps ticks exact multiples of the step.
    (first..=last).map(|k| k as f64 * step).collect()
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `raw` (positive and finite).
fn linear_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * power)
}

/// Labelled and minor ticks for a log axis over `lo..hi` (both positive).
pub(crate) fn log_ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, Vec<f64>) {
    let (a, b) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
    let in_range = |v: &f64| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12);
    let decades = (lo.log10().floor() as i32)..=(hi.log10().ceil() as i32);
    let times = |ms: &[f64]| -> Vec<f64> {
        decades
            .clone()
            .flat_map(|e| ms.iter().map(move |m| m * 10f64.powi(e)))
            .filter(in_range)
            .collect()
    };
    if b > a {
        // Two or more powers of ten: label every 1, 2, 3, 4, 5, 10, 20, 50, ... decades, as many as fit in about n.
        let needed = ((b - a + 1) as usize).div_ceil(n.max(1)).max(1);
        let every = if needed <= 5 {
            needed as i32
        } else {
            linear_step(needed as f64) as i32
        };
        let first = a.div_euclid(every) * every + if a.rem_euclid(every) == 0 { 0 } else { every };
        let ticks = (first..=b)
            .step_by(every as usize)
            .map(|e| 10f64.powi(e))
            .collect();
        let minor = if every == 1 {
            times(&[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
        } else {
            vec![]
        };
        return (ticks, minor);
    }
    // Less than a decade: 1-2-5 mantissas, or every integer mantissa, or plain linear ticks.
    for ms in [
        &[1.0, 2.0, 5.0][..],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..],
    ] {
        let ticks = times(ms);
        if ticks.len() >= 3 {
            return (ticks, vec![]);
        }
    }
    (linear_ticks(lo, hi, n), vec![])
}

/// A tick label: short, without float noise (`0.30000000000000004` prints as `0.3`),
/// and in scientific notation for very small or large magnitudes.
pub(crate) fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        // -0.0 would print as "-0".
        return if v.is_finite() {
            "0".into()
        } else {
            format!("{v}")
        };
    }
    if (1e-3..1e5).contains(&v.abs()) {
        plain(v)
    } else {
        sci(v)
    }
}

/// `v` in scientific notation with at most four significant digits: `2.5e-6`.
pub(crate) fn sci(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.3e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa)),
        None => s,
    }
}

/// `v` in positional notation with six significant digits, which removes float noise
/// but keeps steps like 0.0125.
pub(crate) fn plain(v: f64) -> String {
    let mag = v.abs().log10().floor();
    let decimals = (5.0 - mag).clamp(0.0, 9.0) as usize;
    let s = format!("{v:.decimals$}");
    let s = trim_zeros(&s);
    // Rounding can leave "-0".
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Drops trailing zeros after a decimal point, and the point if nothing follows it.
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.3"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1234.5, "1234.5"),
            (0.0125, "0.0125"),
            (1e-4, "1e-4"),
            (2.5e-6, "2.5e-6"),
            (3e-4 * 1.000_000_000_000_1, "3e-4"),
            (123_456.0, "1.235e5"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(tick(v), want, "tick({v})");
        }
    }

    #[test]
    fn linear_ticks_are_round() {
        assert_eq!(
            linear_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(linear_ticks(-3.0, 7.0, 5), vec![-2.0, 0.0, 2.0, 4.0, 6.0]);
        assert_eq!(linear_ticks(5.0, 5.0, 5), vec![5.0]);
    }

    #[test]
    fn log_ticks_never_empty() {
        let (t, _) = log_ticks(1e-4, 1.0, 6);
        assert_eq!(t.len(), 5);
        let (t, _) = log_ticks(1e-9, 1e3, 6);
        let want = [1e-9, 1e-6, 1e-3, 1.0, 1e3];
        assert_eq!(t.len(), want.len(), "{t:?}");
        assert!(
            t.iter().zip(want).all(|(a, b)| (a / b - 1.0).abs() < 1e-12),
            "{t:?}"
        );
        for (lo, hi) in [(2.0, 8.0), (0.21, 0.29), (0.3, 0.9), (123.0, 124.0)] {
            let (t, _) = log_ticks(lo, hi, 6);
            assert!(t.len() >= 2, "{lo}..{hi}: {t:?}");
            assert!(t.iter().all(|v| *v >= lo && *v <= hi), "{lo}..{hi}: {t:?}");
        }
    }
}
