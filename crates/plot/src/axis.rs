//! Axis ranges from untrusted data, and one coordinate type for linear and log axes.
//!
//! A single coordinate type (rather than plotters' `Range<f64>` and `LogCoord`) keeps the drawing code
//! free of a four-way generic dispatch over (log x, log y), and lets us choose ticks ourselves:
//! plotters' log axis shows no tick at all on a range that contains no power of ten.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::ticks::{linear_ticks, log_ticks, plain, sci, tick};

/// A linear or logarithmic axis over `lo..hi` with precomputed ticks.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    /// Labelled ticks.
    ticks: Vec<f64>,
    /// Unlabelled light grid lines (2..9 times a power of ten on log axes).
    minor: Vec<f64>,
    /// Scientific notation for every label (`Some(true)`), none (`Some(false)`), or decided per value.
    sci: Option<bool>,
}

impl Axis {
    /// An axis over `lo..hi` (a range from [`span`] or [`checked_range`]) with about `n` ticks.
    pub(crate) fn new(lo: f64, hi: f64, log: bool, n: usize) -> Self {
        let (ticks, minor) = if log {
            log_ticks(lo, hi, n)
        } else {
            (linear_ticks(lo, hi, n), vec![])
        };
        // One notation per linear axis, so "80000" is not followed by "1e5"; log ticks are powers
        // of ten whose notation may differ without looking inconsistent.
        let sci = (!log).then(|| {
            let big = ticks.iter().fold(0f64, |m, t| m.max(t.abs()));
            !(1e-3..1e5).contains(&big) && big > 0.0
        });
        Self {
            lo,
            hi,
            log,
            ticks,
            minor,
            sci,
        }
    }

    /// An axis with ticks placed by the caller (heatmap cell centres).
    pub(crate) fn with_ticks(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Self {
            lo,
            hi,
            log: false,
            ticks,
            minor: vec![],
            sci: None,
        }
    }

    /// The label of tick `v`.
    pub(crate) fn label(&self, v: f64) -> String {
        match self.sci {
            Some(true) => sci(v),
            Some(false) if v != 0.0 && v.is_finite() => plain(v),
            _ => tick(v),
        }
    }

    /// Position of `v` along the axis: 0 at `lo`, 1 at `hi`; NaN for values a log axis cannot show.
    pub(crate) fn fraction(&self, v: f64) -> f64 {
        if self.log {
            if v <= 0.0 {
                return f64::NAN;
            }
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            // Halved first so that a range like -MAX..MAX does not overflow to infinity.
            (0.5 * v - 0.5 * self.lo) / (0.5 * self.hi - 0.5 * self.lo)
        }
    }

    /// The value at `fraction` of the axis (the inverse of [`Axis::fraction`]).
    pub(crate) fn value_at(&self, fraction: f64) -> f64 {
        if self.log {
            10f64.powf(self.lo.log10() + fraction * (self.hi.log10() - self.lo.log10()))
        } else {
            self.lo + fraction * (0.5 * self.hi - 0.5 * self.lo) * 2.0
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        // Clamped so that far outliers cannot overflow pixel coordinates; the chart clips them anyway.
        let t = self.fraction(*value);
        let t = if t.is_nan() { 0.0 } else { t.clamp(-4.0, 5.0) };
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Whether `v` can be placed on an axis: finite, and positive on a log axis.
pub(crate) fn plottable(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// The span of the plottable `values`, widened so that the data does not touch the frame.
///
/// `pad` is the fraction of the span added at each end (in decades on a log axis).
/// No plottable value gives a default range, and a single value is widened around itself,
/// so the result is always a finite, non-empty range (positive on a log axis).
pub(crate) fn span(values: impl IntoIterator<Item = f64>, log: bool, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|&v| plottable(v, log))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        // Work in decades so padding and the constant case look the same at every scale.
        let (a, b) = widen(lo.log10(), hi.log10(), pad, 0.5);
        // Padding can push 1e300 past f64::MAX; clamp rather than hand out an infinite range.
        (
            10f64.powf(a).max(f64::MIN_POSITIVE),
            10f64.powf(b).min(f64::MAX),
        )
    } else {
        widen(lo, hi, pad, 0.0)
    }
}

/// Pads `lo..hi` by `pad` of its span; a degenerate range is widened by 10 % of its magnitude
/// (or `half` if larger, and 1 around zero).
fn widen(lo: f64, hi: f64, pad: f64, half: f64) -> (f64, f64) {
    let width = hi - lo;
    if width.is_infinite() {
        return (lo, hi);
    }
    if width > 0.0 {
        let (a, b) = (lo - pad * width, hi + pad * width);
        if a.is_finite() && b.is_finite() {
            (a, b)
        } else {
            (lo, hi)
        }
    } else {
        let half = (0.1 * lo.abs()).max(half);
        let half = if half > 0.0 { half } else { 1.0 };
        ((lo - half).max(-f64::MAX), (hi + half).min(f64::MAX))
    }
}

/// A fixed range as given by the user, if it can be drawn.
pub(crate) fn checked_range(lo: f64, hi: f64, log: bool) -> Option<(f64, f64)> {
    (plottable(lo, log) && plottable(hi, log) && lo < hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_always_usable() {
        let nan = f64::NAN;
        assert_eq!(span([], false, 0.05), (0.0, 1.0));
        assert_eq!(span([nan, f64::INFINITY], false, 0.05), (0.0, 1.0));
        assert_eq!(span([-1.0, 0.0], true, 0.05), (1.0, 10.0));
        assert_eq!(span([0.0, 0.0], false, 0.05), (-1.0, 1.0));
        assert_eq!(span([0.0, 1.0, nan], false, 0.0), (0.0, 1.0));
        let (lo, hi) = span([100.0], false, 0.05);
        assert!(lo < 100.0 && hi > 100.0 && hi - lo < 100.0);
        let (lo, hi) = span([1e-3, 0.0, -5.0], true, 0.05);
        assert!(lo > 0.0 && lo < 1e-3 && hi > 1e-3);
        for (values, log) in [
            ([-f64::MAX, f64::MAX], false),
            ([f64::MAX, f64::MAX], false),
            ([0.5, 1e300], true),
        ] {
            let (lo, hi) = span(values, log, 0.05);
            assert!(
                lo.is_finite() && hi.is_finite() && lo < hi,
                "{values:?}: {lo}..{hi}"
            );
        }
    }

    #[test]
    fn one_notation_per_linear_axis() {
        let big = Axis::new(0.0, 110_000.0, false, 6);
        assert_eq!(big.label(80_000.0), "8e4");
        assert_eq!(big.label(100_000.0), "1e5");
        assert_eq!(big.label(0.0), "0");
        let small = Axis::new(0.0, 1.0, false, 6);
        assert_eq!(small.label(0.6000000000000001), "0.6");
        let log = Axis::new(1e-6, 10.0, true, 6);
        assert_eq!(
            (log.label(1e-6), log.label(10.0)),
            ("1e-6".to_string(), "10".to_string())
        );
    }

    #[test]
    fn axis_maps_log_and_linear() {
        let lin = Axis::new(0.0, 10.0, false, 5);
        assert_eq!(lin.map(&5.0, (0, 100)), 50);
        assert_eq!(lin.map(&f64::NAN, (0, 100)), 0);
        let log = Axis::new(1.0, 100.0, true, 5);
        assert_eq!(log.map(&10.0, (100, 0)), 50);
        assert!((log.value_at(0.5) - 10.0).abs() < 1e-9);
        assert!(log.fraction(-1.0).is_nan());
    }

    #[test]
    fn fixed_ranges_are_checked() {
        assert_eq!(checked_range(0.0, 1.0, false), Some((0.0, 1.0)));
        assert_eq!(checked_range(1.0, 1.0, false), None);
        assert_eq!(checked_range(0.0, 1.0, true), None);
        assert_eq!(checked_range(f64::NAN, 1.0, false), None);
    }
}
