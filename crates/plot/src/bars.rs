//! Stacked bar figures: one bar per category, split into the classes its total is made of, in
//! panels on a grid under one legend for the whole figure.
//!
//! Every panel stacks the same classes in the same order and colours, so the legend is drawn once,
//! in a band under the title, and all panels share one y range: a bar compares with every other bar
//! of the figure, not only with those of its panel.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::PlotError;
use super::axis::{self, Axis};
use super::colour::palette;
use super::figure::{CELL, grid};
use super::output::{
    self, CAPTION_BAND, CAPTION_PT, DrawResult, Drawing, FONT, Format, Options, Scale, TITLE_BAND,
};

/// Margins, the space for the y tick labels and axis name, and the panel title band, in points:
/// as in a line panel, so that bar and line figures printed side by side line up.
const MARGIN: f64 = 6.0;
const Y_LABEL_AREA: f64 = 40.0;
const PANEL_CAPTION: f64 = 14.0;
/// Under the x axis: the tick and the gap before the first line of a category label, the height of
/// one label line, and the band of the axis name under the labels.
const TICK_GAP: f64 = 5.0;
const CATEGORY_LINE: f64 = 8.5;
const AXIS_NAME_BAND: f64 = 11.0;
/// Font sizes in points at the printed size.
const PANEL_TITLE_PT: f64 = 9.0;
const AXIS_NAME_PT: f64 = 8.5;
const TICK_PT: f64 = 7.5;
const LEGEND_PT: f64 = 7.5;
const VALUE_PT: f64 = 6.5;
/// Legend: the height of a row, the side of a colour swatch, the gap between swatch and text and
/// between entries, and the padding under the last row.
const LEGEND_ROW: f64 = 12.0;
const SWATCH: f64 = 7.0;
const SWATCH_GAP: f64 = 3.0;
const ENTRY_GAP: f64 = 10.0;
const LEGEND_PAD: f64 = 3.0;
/// Share of its slot a bar fills: wide enough to read thin segments, with gaps that keep bars apart.
const BAR_WIDTH: f64 = 0.62;

/// A figure of stacked bars: the same classes, in the same order, in every bar of every panel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackedBars {
    /// Title above the figure.
    pub title: String,
    /// Text under the title, wrapped to the width: what a bar shows and what was averaged (empty: none).
    pub caption: String,
    /// Text under the category labels of every panel (e.g. `algorithm`).
    pub x_label: String,
    /// Text beside the y axis, with its unit (e.g. `training energy per sample (nJ)`).
    pub y_label: String,
    /// Names of the segments from the bottom of a bar to its top; segment `k` takes the `k`-th
    /// Okabe–Ito colour, and the legend lists the classes in this order, left to right.
    pub classes: Vec<String>,
    /// Panels on a grid of at most two columns, all on one y range starting at 0.
    pub panels: Vec<BarPanel>,
    /// Write each bar's total (the sum of its drawn segments) above it, to three significant digits.
    pub totals: bool,
}

/// One chart of a [`StackedBars`] figure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BarPanel {
    /// Caption above the chart (empty: none).
    pub title: String,
    /// One label per bar, left to right; a label wider than its bar's slot is wrapped at spaces.
    pub categories: Vec<String>,
    /// `values[bar][class]`: the height of each segment. NaN, ±Inf and negative values draw no
    /// segment (and add nothing to the total); a bar without a drawable segment is left empty.
    pub values: Vec<Vec<f64>>,
    /// Short texts above the bars, one per bar (e.g. `✗ 1/3`); empty: none.
    pub notes: Vec<String>,
}

/// Size in points of `bars` as [`stacked_bars`] draws it: one 252 × 190 pt cell per panel on a grid
/// of at most two columns, plus the bands of the title, the wrapped caption and the legend rows.
pub fn stacked_bars_size(bars: &StackedBars) -> (f64, f64) {
    // Without the font the text measures as zero wide, which only changes how lines wrap.
    let _ = output::ensure_font(Path::new(""));
    Layout::of(bars).size
}

/// Draws `bars` and writes `<stem>.png` and `<stem>.svg`.
///
/// Fails without writing anything if there are no panels or a panel's values, notes and categories
/// do not match in shape; unplottable values are drawn as missing segments, not errors.
pub fn stacked_bars(stem: &Path, bars: &StackedBars, opts: &Options) -> Result<(), PlotError> {
    if bars.panels.is_empty() {
        return Err(PlotError::NoPanels {
            path: stem.to_path_buf(),
        });
    }
    for p in &bars.panels {
        check_shape(p, bars.classes.len()).map_err(|detail| PlotError::BarShape {
            path: stem.to_path_buf(),
            panel: p.title.clone(),
            detail,
        })?;
    }
    // Registered before the layout, which measures text.
    output::ensure_font(stem)?;
    let layout = Layout::of(bars);
    output::write_both(stem, layout.size, &BarsDrawing { bars, layout }, opts)
}

/// Why a panel's vectors do not fit its categories and the figure's classes, if they do not.
fn check_shape(p: &BarPanel, classes: usize) -> Result<(), String> {
    let bars = p.categories.len();
    if p.values.len() != bars {
        return Err(format!(
            "{} bars of values but {bars} categories",
            p.values.len()
        ));
    }
    if let Some((i, v)) = p
        .values
        .iter()
        .enumerate()
        .find(|(_, v)| v.len() != classes)
    {
        return Err(format!(
            "bar {i} has {} values but there are {classes} classes",
            v.len()
        ));
    }
    if !p.notes.is_empty() && p.notes.len() != bars {
        return Err(format!("{} notes but {bars} categories", p.notes.len()));
    }
    Ok(())
}

/// A value that can be stacked: finite and positive.
fn drawable(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// The height of a bar: the sum of its drawable segments.
fn total(bar: &[f64]) -> f64 {
    bar.iter().copied().filter(|&v| drawable(v)).sum()
}

/// A total as written above its bar: three significant digits, `2.40`, `13.6`, `412`.
fn total_text(v: f64) -> String {
    let decimals = (2.0 - v.abs().log10().floor()).clamp(0.0, 9.0) as usize;
    format!("{v:.decimals$}")
}

/// Where everything goes, in points, decided once from the text sizes and shared by both formats.
struct Layout {
    size: (f64, f64),
    captions: Vec<String>,
    /// Legend rows: each the classes it holds with their x offsets from the row's start, and its width.
    legend: Vec<(Vec<(usize, f64)>, f64)>,
    /// `labels[panel][bar]`: the lines of each category label.
    labels: Vec<Vec<Vec<String>>>,
    /// Height of the x label area of every panel (the most label lines of any panel).
    x_area: f64,
    y: Axis,
    grid: (usize, usize),
}

impl Layout {
    fn of(bars: &StackedBars) -> Self {
        let grid = grid(bars.panels.len());
        let width = CELL.0 * grid.0 as f64;
        let captions = output::wrap(&bars.caption, width - 12.0, CAPTION_PT);
        let legend = legend_rows(&bars.classes, width - 12.0);
        let plot_w = (CELL.0 - 2.0 * MARGIN - Y_LABEL_AREA).max(20.0);
        let labels: Vec<Vec<Vec<String>>> = bars
            .panels
            .iter()
            .map(|p| {
                let slot = plot_w / p.categories.len().max(1) as f64;
                p.categories
                    .iter()
                    .map(|c| output::wrap(c, 0.95 * slot, TICK_PT))
                    .collect()
            })
            .collect();
        let lines = labels.iter().flatten().map(Vec::len).max().unwrap_or(0);
        let x_area = TICK_GAP + CATEGORY_LINE * lines as f64 + AXIS_NAME_BAND;
        // The texts above the bars need room under the top of the frame: the y axis is stretched
        // so the tallest bar ends that far below it.
        let any_note = bars
            .panels
            .iter()
            .any(|p| p.notes.iter().any(|n| !n.is_empty()));
        let text_lines = usize::from(bars.totals) + usize::from(any_note);
        let plot_h = (CELL.1 - 2.0 * MARGIN - PANEL_CAPTION - x_area).max(20.0);
        let room = (1.3 * VALUE_PT * text_lines as f64 + 2.0) / plot_h;
        let tallest = bars
            .panels
            .iter()
            .flat_map(|p| p.values.iter().map(|b| total(b)))
            .fold(0.0, f64::max);
        let top = if tallest > 0.0 { tallest } else { 1.0 };
        let top = 1.03 * top / (1.0 - room.min(0.4));
        let (lo, hi) = axis::checked_range(0.0, top, false).unwrap_or((0.0, 1.0));
        let legend_band = if legend.is_empty() {
            0.0
        } else {
            LEGEND_ROW * legend.len() as f64 + LEGEND_PAD
        };
        let size = (
            width,
            CELL.1 * grid.1 as f64
                + TITLE_BAND
                + CAPTION_BAND * captions.len() as f64
                + legend_band,
        );
        Self {
            size,
            captions,
            legend,
            labels,
            x_area,
            y: Axis::new(lo, hi, false, 6),
            grid,
        }
    }
}

/// The legend's entries broken into rows no wider than `width` points, in class order.
fn legend_rows(classes: &[String], width: f64) -> Vec<(Vec<(usize, f64)>, f64)> {
    // Measured at 10× so that whole-pixel rounding does not distort a 7.5 pt text.
    let font = (FONT, 10.0 * LEGEND_PT).into_font();
    let mut rows: Vec<(Vec<(usize, f64)>, f64)> = Vec::new();
    for (k, class) in classes.iter().enumerate() {
        let text = font
            .box_size(class)
            .map_or(0.0, |(w, _)| f64::from(w) / 10.0);
        let entry = SWATCH + SWATCH_GAP + text;
        match rows.last_mut() {
            Some((entries, used)) if *used + ENTRY_GAP + entry <= width => {
                entries.push((k, *used + ENTRY_GAP));
                *used += ENTRY_GAP + entry;
            }
            _ => rows.push((vec![(k, 0.0)], entry)),
        }
    }
    rows
}

/// A validated figure and its layout, ready to be drawn on either backend.
struct BarsDrawing<'a> {
    bars: &'a StackedBars,
    layout: Layout,
}

impl Drawing for BarsDrawing<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        format: Format,
        scale: Scale,
    ) -> DrawResult<DB> {
        let mut body =
            output::heading(root, &self.bars.title, &self.layout.captions, format, scale)?;
        if !self.layout.legend.is_empty() {
            let rows = self.layout.legend.len() as f64;
            let (band, rest) = body.split_vertically(scale.px(LEGEND_ROW * rows + LEGEND_PAD));
            self.draw_legend(&band, format, scale)?;
            body = rest;
        }
        let (cols, rows) = self.layout.grid;
        let cells = body.split_evenly((rows, cols));
        for ((p, labels), area) in self.bars.panels.iter().zip(&self.layout.labels).zip(&cells) {
            self.draw_panel(area, p, labels, scale)?;
        }
        Ok(())
    }
}

impl BarsDrawing<'_> {
    fn draw_legend<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        format: Format,
        scale: Scale,
    ) -> DrawResult<DB> {
        let (w, _) = area.dim_in_pixel();
        let size = scale.f(LEGEND_PT);
        let style = (FONT, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let half = scale.i(SWATCH / 2.0);
        for (r, (entries, row_width)) in self.layout.legend.iter().enumerate() {
            let start = (f64::from(w) - scale.f(*row_width)) / 2.0;
            let y = scale.i(LEGEND_ROW * (r as f64 + 0.5));
            for &(k, offset) in entries {
                let x = (start + scale.f(offset)).round() as i32;
                area.draw(&Rectangle::new(
                    [(x, y - half), (x + 2 * half, y + half)],
                    palette(k).filled(),
                ))?;
                let at = (
                    x + scale.i(SWATCH + SWATCH_GAP),
                    y + format.centre_drop(size).round() as i32,
                );
                area.draw(&Text::new(self.bars.classes[k].as_str(), at, style.clone()))?;
            }
        }
        Ok(())
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &BarPanel,
        labels: &[Vec<String>],
        scale: Scale,
    ) -> DrawResult<DB> {
        let n = p.categories.len();
        let y = &self.layout.y;
        let mut builder = ChartBuilder::on(area);
        builder
            .margin(scale.px(MARGIN))
            .x_label_area_size(scale.px(self.layout.x_area))
            .y_label_area_size(scale.px(Y_LABEL_AREA));
        if !p.title.is_empty() {
            builder.caption(&p.title, (FONT, scale.f(PANEL_TITLE_PT)));
        }
        // No key points along x: the category labels are drawn below, wrapped, one per bar.
        let x = Axis::with_ticks(0.0, n.max(1) as f64, vec![]);
        let mut chart = builder.build_cartesian_2d(x, y.clone())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(&self.bars.x_label)
            .y_desc(&self.bars.y_label)
            .axis_desc_style((FONT, scale.f(AXIS_NAME_PT)))
            .label_style((FONT, scale.f(TICK_PT)))
            .y_label_formatter(&|v| y.label(*v))
            .bold_line_style(RGBColor(215, 215, 215).stroke_width(scale.stroke(0.4)))
            .light_line_style(RGBColor(238, 238, 238).stroke_width(scale.stroke(0.3)))
            .set_all_tick_mark_size(scale.i(2.5))
            .draw()?;

        let separator = WHITE.stroke_width(scale.stroke(0.35));
        for (i, bar) in p.values.iter().enumerate() {
            let (x0, x1) = (
                i as f64 + (1.0 - BAR_WIDTH) / 2.0,
                i as f64 + (1.0 + BAR_WIDTH) / 2.0,
            );
            let mut base = 0.0;
            for (k, &v) in bar.iter().enumerate() {
                if !drawable(v) {
                    continue;
                }
                chart.draw_series([Rectangle::new(
                    [(x0, base), (x1, base + v)],
                    palette(k).filled(),
                )])?;
                // A white line between neighbours keeps segments of similar shade apart in print.
                if base > 0.0 {
                    chart.draw_series([PathElement::new([(x0, base), (x1, base)], separator)])?;
                }
                base += v;
            }
        }
        self.draw_values(&mut chart, p, scale)?;

        // Category labels and their ticks, in the label area under the frame.
        let origin = area.get_base_pixel();
        let tick = BLACK.stroke_width(scale.stroke(0.5));
        let style = (FONT, scale.f(TICK_PT))
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (i, lines) in labels.iter().enumerate() {
            let (cx, cy) = chart.backend_coord(&(i as f64 + 0.5, y.value_at(0.0)));
            let (cx, cy) = (cx - origin.0, cy - origin.1);
            area.draw(&PathElement::new([(cx, cy), (cx, cy + scale.i(2.5))], tick))?;
            for (j, line) in lines.iter().enumerate() {
                let top = cy + scale.i(TICK_GAP + CATEGORY_LINE * j as f64);
                area.draw(&Text::new(line.as_str(), (cx, top), style.clone()))?;
            }
        }
        Ok(())
    }

    /// The totals and notes above the bars (the note over the total).
    fn draw_values<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<Axis, Axis>>,
        p: &BarPanel,
        scale: Scale,
    ) -> DrawResult<DB> {
        let size = scale.f(VALUE_PT);
        let style = (FONT, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let line = scale.i(1.3 * VALUE_PT);
        let gap = scale.i(2.0);
        for (i, bar) in p.values.iter().enumerate() {
            let height = total(bar);
            let mut texts = Vec::new();
            if self.bars.totals && height > 0.0 {
                texts.push(total_text(height));
            }
            if let Some(note) = p.notes.get(i).filter(|n| !n.is_empty()) {
                texts.push(note.clone());
            }
            let at = (i as f64 + 0.5, height);
            chart.draw_series(texts.into_iter().enumerate().map(|(j, t)| {
                EmptyElement::at(at) + Text::new(t, (0, -gap - line * j as i32), style.clone())
            }))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_read_with_three_significant_digits() {
        assert_eq!(total_text(2.398), "2.40");
        assert_eq!(total_text(13.64), "13.6");
        assert_eq!(total_text(412.3), "412");
        assert_eq!(total_text(0.012_34), "0.0123");
    }

    #[test]
    fn only_finite_positive_values_stack() {
        assert_eq!(total(&[1.0, f64::NAN, -2.0, f64::INFINITY, 0.5]), 1.5);
        assert_eq!(total(&[]), 0.0);
    }

    #[test]
    fn shapes_are_checked_against_categories_and_classes() {
        let p = BarPanel {
            categories: vec!["a".into(), "b".into()],
            values: vec![vec![1.0, 2.0], vec![3.0]],
            ..BarPanel::default()
        };
        assert_eq!(
            check_shape(&p, 2),
            Err("bar 1 has 1 values but there are 2 classes".into())
        );
        let notes = BarPanel {
            notes: vec!["x".into()],
            values: vec![vec![1.0, 2.0]; 2],
            ..p.clone()
        };
        assert_eq!(
            check_shape(&notes, 2),
            Err("1 notes but 2 categories".into())
        );
        let short = BarPanel {
            values: vec![vec![1.0, 2.0]],
            ..p
        };
        assert!(check_shape(&short, 2).is_err());
    }
}
