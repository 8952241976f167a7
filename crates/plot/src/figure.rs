//! Line figures: panels of curves with optional bands, side by side under a title.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axis::{self, Axis};
use super::output::{self, DrawResult, Drawing, Format};
use super::panel::{self, Plan};

/// Height of the band holding the figure title, in pixels.
const TITLE_HEIGHT: u32 = 50;

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
        }
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
    /// Lines, coloured in order from the tab10 palette.
    pub curves: Vec<Curve>,
    /// Logarithmic x axis (non-positive x are skipped).
    pub log_x: bool,
    /// Logarithmic y axis (non-positive y and band values are skipped).
    pub log_y: bool,
    /// Fixed y range `(lo, hi)`, e.g. `(0.0, 1.0)` for accuracies; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
}

/// Pixel size of a figure with `n_panels` panels: 1000×600 for one, otherwise 620×540 per panel
/// on a grid of at most three columns, plus room for the title.
pub fn figure_size(n_panels: usize) -> (u32, u32) {
    let (cols, rows) = grid(n_panels);
    if n_panels <= 1 {
        (1000, 600)
    } else {
        (620 * cols as u32, 540 * rows as u32 + 60)
    }
}

/// Columns and rows of the panel grid: one row up to three panels, then a near-square grid.
fn grid(n: usize) -> (usize, usize) {
    let cols = if n <= 3 {
        n.max(1)
    } else {
        n.isqrt() + usize::from(n.isqrt().pow(2) < n)
    };
    (cols, n.div_ceil(cols).max(1))
}

/// Draws `panels` side by side under `title` and writes `<stem>.png` and `<stem>.svg`.
///
/// Fails without writing anything if there are no panels, a curve's vectors differ in length,
/// or a fixed `y_range` cannot be drawn; NaN and infinite values are skipped, not errors.
pub fn figure(stem: &Path, title: &str, panels: &[Panel]) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(PlotError::NoPanels {
            path: stem.to_path_buf(),
        });
    }
    // Registered before planning, which measures legend text.
    output::ensure_font(stem)?;
    let size = figure_size(panels.len());
    let (cols, rows) = grid(panels.len());
    let title_height = if title.is_empty() { 0 } else { TITLE_HEIGHT };
    let cell = (size.0 / cols as u32, (size.1 - title_height) / rows as u32);
    let plans = panels
        .iter()
        .map(|p| plan(stem, p, cell))
        .collect::<Result<Vec<_>, _>>()?;
    let drawing = FigureDrawing {
        title,
        panels,
        plans,
        grid: (rows, cols),
    };
    output::write_both(stem, size, &drawing)
}

/// Checks a panel's shapes and ranges and decides its axes and legend position.
fn plan(stem: &Path, p: &Panel, cell: (u32, u32)) -> Result<Plan, PlotError> {
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
    Ok(panel::place_legend(
        p,
        x,
        (y_lo, y_hi),
        y_fixed.is_some(),
        cell,
    ))
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
    panels: &'a [Panel],
    plans: Vec<Plan>,
    grid: (usize, usize),
}

impl Drawing for FigureDrawing<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        format: Format,
    ) -> DrawResult<DB> {
        let body = if self.title.is_empty() {
            root.clone()
        } else {
            let (top, body) = root.split_vertically(TITLE_HEIGHT);
            output::title(&top, self.title, 28.0, format)?;
            body
        };
        let cells = body.split_evenly(self.grid);
        for ((p, plan), area) in self.panels.iter().zip(&self.plans).zip(&cells) {
            panel::draw(area, p, plan)?;
        }
        Ok(())
    }
}
