//! Line figures: panels of curves with optional bands, side by side under a title.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use plotters::style::RGBColor as Colour;

use super::PlotError;
use super::axis::{self, Axis};
use super::output::{
    self, CAPTION_BAND, CAPTION_PT, DrawResult, Drawing, Format, Options, Scale, TITLE_BAND,
};
use super::panel::{self, Plan};

/// Size of one panel in points: 3.5 in wide, a single journal column; two panels side by side fill
/// a double column (7 in).
pub(crate) const CELL: (f64, f64) = (252.0, 190.0);
/// Panels per row: more would shrink a panel below a single column when printed.
const MAX_COLUMNS: usize = 2;

/// One line on a panel, optionally with a shaded band (seed spread, p05..p95, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    /// Legend text; an empty label leaves the curve out of the legend.
    pub label: String,
    /// x values; points whose x or y is NaN or ±Inf (or not positive on a log axis) are skipped
    /// and break the line.
    pub x: Vec<f64>,
    /// y values, one per x.
    pub y: Vec<f64>,
    /// Lower and upper edge of a band around the line, one value per x each.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// Draw the band as error bars at each point instead of a shaded area
    /// (better for a few points along a sweep axis).
    pub error_bars: bool,
    /// Colour of the line; `None` takes the panel's qualitative palette by position.
    pub colour: Option<Colour>,
    /// The run behind the curve diverged after its last point: the line ends there with a ✗.
    pub diverged: bool,
    /// Short texts written beside single points, e.g. `(2, "✗ 1/3 diverged")` at the third point.
    pub notes: Vec<(usize, String)>,
}

impl Curve {
    /// A plain line without band.
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Self {
            label: label.into(),
            x,
            y,
            band: None,
            error_bars: false,
            colour: None,
            diverged: false,
            notes: Vec::new(),
        }
    }

    /// The same curve in a fixed colour (e.g. from [`crate::sequential`] for ordered values).
    pub fn with_colour(mut self, colour: Colour) -> Self {
        self.colour = Some(colour);
        self
    }

    /// The same curve ending in a divergence marker.
    pub fn diverging(mut self, diverged: bool) -> Self {
        self.diverged = diverged;
        self
    }

    /// The same curve with a shaded band from `lower` to `upper`.
    pub fn with_band(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.band = Some((lower, upper));
        self
    }

    /// The same curve with its band drawn as error bars.
    pub fn with_error_bars(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.band = Some((lower, upper));
        self.error_bars = true;
        self
    }
}

/// One chart: axes with labels, curves and a legend.
///
/// A panel without curves (or whose curves have no plottable point) is drawn as empty axes
/// with a default range, so a figure never fails because one run produced no data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Panel {
    /// Caption above the chart.
    pub title: String,
    /// Text under the x axis.
    pub x_label: String,
    /// Text beside the y axis.
    pub y_label: String,
    /// Lines, coloured in order from the Okabe–Ito palette unless they carry their own colour.
    pub curves: Vec<Curve>,
    /// Logarithmic x axis (non-positive x are skipped).
    pub log_x: bool,
    /// Logarithmic y axis (non-positive y and band values are skipped).
    pub log_y: bool,
    /// Fixed y range `(lo, hi)`, e.g. `(0.0, 1.0)` for accuracies; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
}

/// Size in points of a figure with `n_panels` panels and `caption_lines` lines of caption:
/// one 252 × 190 pt panel (3.5 in wide) per cell of a grid of at most two columns, plus the title and caption bands.
pub fn figure_size(n_panels: usize, caption_lines: usize) -> (f64, f64) {
    let (cols, rows) = grid(n_panels);
    (
        CELL.0 * cols as f64,
        CELL.1 * rows as f64 + TITLE_BAND + CAPTION_BAND * caption_lines as f64,
    )
}

/// Columns and rows of the panel grid.
pub(crate) fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, MAX_COLUMNS);
    (cols, n.div_ceil(cols).max(1))
}

/// Draws `panels` on a grid under `title` and `caption` (wrapped to the width; `\n` breaks) and writes
/// `<stem>.png` and `<stem>.svg`.
///
/// Fails without writing anything if there are no panels, a curve's vectors differ in length,
/// or a fixed `y_range` cannot be drawn; NaN and infinite values are skipped, not errors.
pub fn figure(
    stem: &Path,
    title: &str,
    caption: &str,
    panels: &[Panel],
    opts: &Options,
) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(PlotError::NoPanels {
            path: stem.to_path_buf(),
        });
    }
    // Registered before planning, which measures legend text.
    output::ensure_font(stem)?;
    let width = figure_size(panels.len(), 0).0;
    let captions = output::wrap(caption, width - 12.0, CAPTION_PT);
    let size = figure_size(panels.len(), captions.len());
    let plans = panels
        .iter()
        .map(|p| plan(stem, p))
        .collect::<Result<Vec<_>, _>>()?;
    let drawing = FigureDrawing {
        title,
        captions,
        panels,
        plans,
        grid: grid(panels.len()),
    };
    output::write_both(stem, size, &drawing, opts)
}

/// Checks a panel's shapes and ranges and decides its axes and legend position.
fn plan(stem: &Path, p: &Panel) -> Result<Plan, PlotError> {
    for c in &p.curves {
        let mismatch = |what, got| PlotError::LengthMismatch {
            path: stem.to_path_buf(),
            panel: p.title.clone(),
            curve: c.label.clone(),
            what,
            got,
            expected: c.x.len(),
        };
        if c.y.len() != c.x.len() {
            return Err(mismatch("y", c.y.len()));
        }
        if let Some((lo, hi)) = &c.band {
            for (what, v) in [("band lower", lo), ("band upper", hi)] {
                if v.len() != c.x.len() {
                    return Err(mismatch(what, v.len()));
                }
            }
        }
    }
    let xs = p.curves.iter().flat_map(|c| c.x.iter().copied());
    // A little padding keeps markers and error bars at the ends clear of the frame.
    let (x_lo, x_hi) = axis::span(xs, p.log_x, 0.02);
    let x = Axis::new(x_lo, x_hi, p.log_x, 8);
    let y_fixed =
        match p.y_range {
            Some((lo, hi)) => Some(axis::checked_range(lo, hi, p.log_y).ok_or_else(|| {
                PlotError::InvalidRange {
                    path: stem.to_path_buf(),
                    panel: p.title.clone(),
                    lo,
                    hi,
                }
            })?),
            None => None,
        };
    let (y_lo, y_hi) = y_fixed.unwrap_or_else(|| axis::span(y_values(p), p.log_y, 0.05));
    Ok(panel::place_legend(p, x, (y_lo, y_hi), y_fixed.is_some()))
}

/// Every y a panel shows (line and band), for fitting its range; points with unusable x are left out
/// so that a line skipped on a log x axis does not stretch the y axis.
fn y_values(p: &Panel) -> impl Iterator<Item = f64> + '_ {
    p.curves.iter().flat_map(move |c| {
        let band = c.band.as_ref();
        (0..c.x.len())
            .filter(move |&i| axis::plottable(c.x[i], p.log_x))
            .flat_map(move |i| {
                let (lo, hi) = band.map_or((f64::NAN, f64::NAN), |(l, h)| (l[i], h[i]));
                [c.y[i], lo, hi]
            })
    })
}

/// A validated figure, ready to be drawn on either backend.
struct FigureDrawing<'a> {
    title: &'a str,
    captions: Vec<String>,
    panels: &'a [Panel],
    plans: Vec<Plan>,
    /// Columns and rows.
    grid: (usize, usize),
}

impl Drawing for FigureDrawing<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        format: Format,
        scale: Scale,
    ) -> DrawResult<DB> {
        let body = output::heading(root, self.title, &self.captions, format, scale)?;
        let (cols, rows) = self.grid;
        let cells = body.split_evenly((rows, cols));
        for ((p, plan), area) in self.panels.iter().zip(&self.plans).zip(&cells) {
            panel::draw(area, p, plan, scale, format)?;
        }
        Ok(())
    }
}
