//! Figures for experiment results: line panels with bands, heatmaps and stacked bars, written as
//! PNG and SVG.
//!
//! Data goes in, files come out: every figure is written twice, as `<stem>.png` and `<stem>.svg`,
//! next to each other (parent folders are created), each atomically.
//! Layouts are in points at the printed size: a panel is 3.5 in wide (one journal column), at most
//! two panels share a row, and text is 7–10 pt; the PNG is rasterised at [`Options::dpi`], the SVG
//! states its size in points. Curves take the Okabe–Ito palette and a marker shape by position
//! (or a colour of their own, e.g. [`sequential`] for ordered values); a diverged curve ends in ✗.
//! Rendering is pure Rust (plotters' bitmap and SVG backends) with DejaVu Sans embedded in the binary,
//! so figures render on machines without system fonts and Greek letters (α, β, ε, ν, σ) come out right.
//!
//! Bad data is never a panic: NaN and ±Inf points are skipped (a line is broken at them),
//! non-positive values are skipped on log axes, and constant data gets a padded axis range.
//! Shape errors (x and y of different lengths, heatmap rows of the wrong width, a bar with more or
//! fewer segments than classes) are a [`PlotError`] that names the output file.
//!
//! ```no_run
//! use plot::{figure, Curve, Panel};
//! let panel = Panel {
//!     title: "training".into(),
//!     x_label: "epoch".into(),
//!     y_label: "test accuracy".into(),
//!     curves: vec![Curve::new("α = 0.5", vec![1.0, 2.0, 3.0], vec![0.5, 0.8, 0.9])],
//!     ..Panel::default()
//! };
//! let stem = std::path::Path::new("results/convergence");
//! figure(stem, "convergence", "one seed", &[panel], &plot::Options::default())?;
//! # Ok::<(), plot::PlotError>(())
//! ```

mod axis;
mod bars;
mod colour;
mod figure;
mod heatmap;
mod output;
mod panel;
#[cfg(test)]
mod tests;
mod ticks;

pub use bars::{BarPanel, StackedBars, stacked_bars, stacked_bars_size};
pub use colour::{Marker, OKABE_ITO, marker, palette, sequential, viridis};
pub use figure::{Colour, Curve, Panel, figure, figure_size};
pub use heatmap::{Heatmap, heatmap, heatmap_size};
pub use output::Options;

use std::path::PathBuf;

/// Why a figure could not be written; every variant names the output file (or its stem).
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// `figure` was called with no panels.
    #[error("{}: figure has no panels", path.display())]
    NoPanels {
        /// Stem of the figure.
        path: PathBuf,
    },
    /// A curve's x and y (or band) vectors differ in length.
    #[error("{}: panel {panel:?}, curve {curve:?}: {what} has {got} values but x has {expected}", path.display())]
    LengthMismatch {
        /// Stem of the figure.
        path: PathBuf,
        /// Title of the panel.
        panel: String,
        /// Label of the curve.
        curve: String,
        /// Which vector is off: `y`, `band lower` or `band upper`.
        what: &'static str,
        /// Length of that vector.
        got: usize,
        /// Length of x.
        expected: usize,
    },
    /// A fixed axis range is not finite, empty, or not positive on a log axis.
    #[error("{}: panel {panel:?}: y_range {lo}..{hi} is not a usable range", path.display())]
    InvalidRange {
        /// Stem of the figure.
        path: PathBuf,
        /// Title of the panel.
        panel: String,
        /// Lower end as given.
        lo: f64,
        /// Upper end as given.
        hi: f64,
    },
    /// A heatmap's values do not match its ticks.
    #[error("{}: heatmap {title:?}: {detail}", path.display())]
    HeatmapShape {
        /// Stem of the figure.
        path: PathBuf,
        /// Title of the heatmap.
        title: String,
        /// What does not match, with the numbers.
        detail: String,
    },
    /// A stacked-bar panel's values or notes do not match its categories or the figure's classes.
    #[error("{}: bar panel {panel:?}: {detail}", path.display())]
    BarShape {
        /// Stem of the figure.
        path: PathBuf,
        /// Title of the panel.
        panel: String,
        /// What does not match, with the numbers.
        detail: String,
    },
    /// A finished figure could not be moved to its name.
    #[error("{}: cannot write figure", path.display())]
    Write {
        /// The figure file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The output folder could not be created.
    #[error("{}: cannot create output folder", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The backend failed while drawing or writing the file.
    #[error("{}: drawing failed: {message}", path.display())]
    Draw {
        /// The PNG or SVG file being written.
        path: PathBuf,
        /// The backend's error, as text (backend error types differ between PNG and SVG).
        message: String,
    },
    /// The embedded font was rejected by the font loader (a broken build, not bad data).
    #[error("{}: embedded font DejaVuSans.ttf could not be loaded", path.display())]
    Font {
        /// Stem of the figure.
        path: PathBuf,
    },
}
