//! Fixed colours: a colour-blind-safe qualitative palette and marker shapes for curves that are
//! merely different, and the viridis colour map for ordered values (heatmaps, curves along α).

use plotters::style::RGBColor;

/// Okabe and Ito's qualitative palette ("Color Universal Design", 2008, <https://jfly.uni-koeln.de/color/>),
/// distinct under every common form of colour blindness; ordered so that the first lines get the most
/// contrast on white, yellow last.
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xb2), // blue
    RGBColor(0xd5, 0x5e, 0x00), // vermillion
    RGBColor(0x00, 0x9e, 0x73), // bluish green
    RGBColor(0xcc, 0x79, 0xa7), // reddish purple
    RGBColor(0xe6, 0x9f, 0x00), // orange
    RGBColor(0x56, 0xb4, 0xe9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xf0, 0xe4, 0x42), // yellow
];

/// Colour of the `i`-th curve of a panel; wraps after eight, where [`marker`] keeps curves apart.
pub fn palette(i: usize) -> RGBColor {
    OKABE_ITO[i % OKABE_ITO.len()]
}

/// The shape drawn at a curve's data points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle pointing up.
    Triangle,
    /// A filled diamond.
    Diamond,
    /// A plus sign.
    Plus,
}

/// Marker of the `i`-th curve: five shapes against eight colours (coprime), so the first 40 curves
/// differ in colour or shape, and curves stay apart in greyscale print.
pub fn marker(i: usize) -> Marker {
    const SHAPES: [Marker; 5] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
        Marker::Plus,
    ];
    SHAPES[i % SHAPES.len()]
}

/// Colour of value `i` of `n` ordered values (α = 0, 0.1, ..., 1): viridis from dark purple to a
/// yellow-green, stopping short of viridis' pale yellow end, which vanishes on white.
pub fn sequential(i: usize, n: usize) -> RGBColor {
    let t = if n > 1 {
        i as f64 / (n - 1) as f64
    } else {
        0.5
    };
    viridis(0.88 * t)
}

/// Viridis sampled at 0, 0.1, ..., 1 (matplotlib's values); linear interpolation between samples
/// is within a few levels of the full 256-entry table, invisible in a heatmap.
const VIRIDIS: [(u8, u8, u8); 11] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x24, 0x75),
    (0x41, 0x44, 0x87),
    (0x35, 0x5f, 0x8d),
    (0x2a, 0x78, 0x8e),
    (0x21, 0x91, 0x8c),
    (0x22, 0xa8, 0x84),
    (0x44, 0xbf, 0x70),
    (0x7a, 0xd1, 0x51),
    (0xbd, 0xdf, 0x26),
    (0xfd, 0xe7, 0x25),
];

/// Viridis at `t` in [0, 1] (dark purple to yellow); `t` outside is clamped and NaN maps to 0.
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + f * (f64::from(y) - f64::from(x))).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether black text is more legible than white on `c` (relative luminance above the midpoint).
pub(crate) fn prefers_black_text(c: RGBColor) -> bool {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2);
    // 0.179 is where contrast ratios against black and white are equal.
    luminance > 0.179
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_clamping() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xfd, 0xe7, 0x25));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(0.5), RGBColor(0x21, 0x91, 0x8c));
    }

    #[test]
    fn text_colour_follows_brightness() {
        assert!(!prefers_black_text(viridis(0.0)));
        assert!(prefers_black_text(viridis(1.0)));
    }

    #[test]
    fn palette_wraps_and_markers_separate_the_wrapped_curves() {
        assert_eq!(palette(0), palette(8));
        assert_ne!(palette(0), palette(1));
        // Curves 0 and 8 share a colour but not a shape; all 40 (colour, shape) pairs differ.
        assert_ne!(marker(0), marker(8));
        let pairs: std::collections::BTreeSet<String> = (0..40)
            .map(|i| format!("{:?} {:?}", palette(i), marker(i)))
            .collect();
        assert_eq!(pairs.len(), 40);
    }

    #[test]
    fn sequential_runs_from_dark_to_light() {
        assert_eq!(sequential(0, 11), viridis(0.0));
        let lum = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        assert!(lum(sequential(10, 11)) > lum(sequential(5, 11)));
        assert!(lum(sequential(5, 11)) > lum(sequential(0, 11)));
        assert_eq!(sequential(0, 1), viridis(0.44));
    }
}
