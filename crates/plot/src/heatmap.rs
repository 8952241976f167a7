//! Heatmaps of a final metric over two sweep axes, with values printed in the cells and a colour bar.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::PlotError;
use super::axis::{self, Axis};
use super::colour::{prefers_black_text, viridis};
use super::output::{
    self, CAPTION_BAND, CAPTION_PT, DrawResult, Drawing, FONT, Format, Options, Scale, TITLE_BAND,
};

/// Height of the title and caption bands, width of the colour bar column and margins, in points.
const BAR_COLUMN: f64 = 78.0;
const MARGIN: f64 = 6.0;
const X_LABEL_AREA: f64 = 26.0;
/// Font sizes in points at the printed size.
const AXIS_NAME_PT: f64 = 8.5;
const TICK_PT: f64 = 7.5;
const BAR_NAME_PT: f64 = 8.0;
const NOTE_PT: f64 = 6.0;
/// Fill of a cell without a value: light grey, hatched, so it cannot be read as a low value.
const MISSING: RGBColor = RGBColor(225, 225, 225);
const HATCH: RGBColor = RGBColor(150, 150, 150);

/// A grid of one metric over two axes; drawn with row 0 at the bottom, like a y axis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Heatmap {
    /// Title above the figure.
    pub title: String,
    /// Text under the title, wrapped to the width: what a cell shows and what was averaged (empty: none).
    pub caption: String,
    /// Name of the column axis (e.g. `α`).
    pub x_label: String,
    /// Name of the row axis (e.g. `β`).
    pub y_label: String,
    /// One label per column, left to right.
    pub x_ticks: Vec<String>,
    /// One label per row, bottom to top.
    pub y_ticks: Vec<String>,
    /// `values[row][col]`; `None` (or a NaN/Inf value) marks a missing or diverged cell, drawn grey,
    /// hatched and labelled "–".
    pub values: Vec<Vec<Option<f64>>>,
    /// What the colour means, written beside the colour bar (e.g. `test accuracy`).
    pub value_label: String,
    /// Decimals of the numbers printed in the cells.
    pub decimals: usize,
    /// Short texts under a cell's number, `notes[row][col]` (e.g. `"✗ 1/3"` when some seeds diverged);
    /// empty rows or strings write nothing.
    pub notes: Vec<Vec<String>>,
}

/// Size in points of a heatmap with `cols` × `rows` cells and `caption_lines` lines of caption:
/// cells of 22–40 × 20 pt beside the axes and colour bar, at least one column (3.5 in) wide and
/// at most two (7 in).
pub fn heatmap_size(cols: usize, rows: usize, caption_lines: usize) -> (f64, f64) {
    heatmap_size_fitting(cols, rows, caption_lines, Labels::default())
}

/// The widest tick labels of a heatmap, in points.
#[derive(Clone, Copy, Debug)]
struct Labels {
    /// Widest row label.
    row: f64,
    /// Widest column label plus a gap: the narrowest cell that keeps labels apart.
    cell: f64,
}

impl Default for Labels {
    /// Short labels (numbers): what [`heatmap_size`] assumes.
    fn default() -> Self {
        Self {
            row: 28.0,
            cell: 0.0,
        }
    }
}

impl Labels {
    fn of(map: &Heatmap) -> Self {
        // Measured at 10× so that whole-pixel rounding does not distort small text.
        let font = (FONT, 10.0 * TICK_PT).into_font();
        let widest = |ticks: &[String]| {
            ticks
                .iter()
                .filter_map(|t| font.box_size(t).ok())
                .map(|(w, _)| f64::from(w) / 10.0)
                .fold(0.0, f64::max)
        };
        Self {
            row: widest(&map.y_ticks).max(Self::default().row),
            cell: widest(&map.x_ticks) + 6.0,
        }
    }
}

/// [`heatmap_size`] for labels as wide as `labels`: the row labels' column grows with them, and
/// cells are at least `labels.cell` wide where the two-column width allows, so that column labels
/// (algorithm names, hardware files) do not run into each other.
fn heatmap_size_fitting(
    cols: usize,
    rows: usize,
    caption_lines: usize,
    labels: Labels,
) -> (f64, f64) {
    // Margins, the row axis name and its labels, the colour bar.
    let fixed = 32.0 + labels.row + BAR_COLUMN;
    let min_cell = labels.cell;
    let widest = (504.0 - fixed) / cols.max(1) as f64;
    let cell_w = widest.clamp(22.0, 40.0).max(min_cell.min(widest));
    let w = (fixed + cell_w * cols as f64).clamp(252.0, 504.0);
    let h =
        (TITLE_BAND + 50.0 + 20.0 * rows as f64).max(190.0) + CAPTION_BAND * caption_lines as f64;
    (w, h)
}

/// Draws `map` and writes `<stem>.png` and `<stem>.svg`.
///
/// Fails if the grid is empty or its shape does not match the ticks; missing and non-finite cells are drawn,
/// not errors.
pub fn heatmap(stem: &Path, map: &Heatmap, opts: &Options) -> Result<(), PlotError> {
    let shape = |detail: String| PlotError::HeatmapShape {
        path: stem.to_path_buf(),
        title: map.title.clone(),
        detail,
    };
    let (rows, cols) = (map.y_ticks.len(), map.x_ticks.len());
    if rows == 0 || cols == 0 {
        return Err(shape(format!("no cells ({cols} x ticks, {rows} y ticks)")));
    }
    if map.values.len() != rows {
        return Err(shape(format!(
            "{} rows of values but {rows} y ticks",
            map.values.len()
        )));
    }
    if let Some((r, row)) = map
        .values
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != cols)
    {
        return Err(shape(format!(
            "row {r} has {} values but there are {cols} x ticks",
            row.len()
        )));
    }
    let finite = map.values.iter().flatten().flatten().copied();
    let range = axis::span(finite, false, 0.0);
    // Text is measured below (labels, caption), which needs the font.
    output::ensure_font(stem)?;
    let labels = Labels::of(map);
    let width = heatmap_size_fitting(cols, rows, 0, labels).0;
    let captions = output::wrap(&map.caption, width - 12.0, CAPTION_PT);
    output::write_both(
        stem,
        heatmap_size_fitting(cols, rows, captions.len(), labels),
        &HeatmapDrawing {
            map,
            range,
            captions,
        },
        opts,
    )
}

/// A validated heatmap and the value range its colours span.
struct HeatmapDrawing<'a> {
    map: &'a Heatmap,
    range: (f64, f64),
    captions: Vec<String>,
}

impl HeatmapDrawing<'_> {
    fn cell(&self, row: usize, col: usize) -> Option<f64> {
        self.map.values[row][col].filter(|v| v.is_finite())
    }

    fn colour(&self, v: f64) -> RGBColor {
        let (lo, hi) = self.range;
        viridis((v - lo) / (hi - lo))
    }

    fn note(&self, row: usize, col: usize) -> &str {
        self.map
            .notes
            .get(row)
            .and_then(|r| r.get(col))
            .map_or("", String::as_str)
    }

    fn any_missing(&self) -> bool {
        self.map
            .values
            .iter()
            .flatten()
            .any(|v| !v.is_some_and(f64::is_finite))
    }
}

impl Drawing for HeatmapDrawing<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        format: Format,
        scale: Scale,
    ) -> DrawResult<DB> {
        let body = output::heading(root, &self.map.title, &self.captions, format, scale)?;
        let (w, _) = body.dim_in_pixel();
        let (cells, bar) = body.split_horizontally(w.saturating_sub(scale.px(BAR_COLUMN)));
        self.draw_cells(&cells, format, scale)?;
        self.draw_bar(&bar, format, scale)
    }
}

impl HeatmapDrawing<'_> {
    fn draw_cells<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        format: Format,
        scale: Scale,
    ) -> DrawResult<DB> {
        let m = self.map;
        let (rows, cols) = (m.values.len(), m.x_ticks.len());
        let centres = |n: usize| (0..n).map(|i| i as f64 + 0.5).collect::<Vec<_>>();
        let font = (FONT, scale.f(TICK_PT)).into_font();
        let widest = m
            .y_ticks
            .iter()
            .filter_map(|t| font.box_size(t).ok())
            .map(|(w, _)| w)
            .max();
        // Room for the longest row label plus the rotated axis name.
        let y_area = widest.unwrap_or(0) + scale.px(20.0);
        let mut chart = ChartBuilder::on(area)
            .margin(scale.px(MARGIN))
            .x_label_area_size(scale.px(X_LABEL_AREA))
            .y_label_area_size(y_area)
            .build_cartesian_2d(
                Axis::with_ticks(0.0, cols as f64, centres(cols)),
                Axis::with_ticks(0.0, rows as f64, centres(rows)),
            )?;
        let label =
            |ticks: &[String], v: f64| ticks.get(v.floor() as usize).cloned().unwrap_or_default();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&m.x_label)
            .y_desc(&m.y_label)
            .axis_desc_style((FONT, scale.f(AXIS_NAME_PT)))
            .label_style((FONT, scale.f(TICK_PT)))
            .set_all_tick_mark_size(scale.i(2.5))
            .x_label_formatter(&|v| label(&m.x_ticks, *v))
            .y_label_formatter(&|v| label(&m.y_ticks, *v))
            .draw()?;

        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let (cell_w, cell_h) = (f64::from(pw) / cols as f64, f64::from(ph) / rows as f64);
        let text = |value: Option<f64>| {
            value.map_or_else(|| "–".to_string(), |v| format!("{v:.*}", m.decimals))
        };
        let longest = (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .map(|(r, c)| text(self.cell(r, c)).chars().count())
            .max()
            .unwrap_or(1);
        // One size for all cells, fitted to the longest number: ~0.6 em per digit, at most 40 % of the
        // height, between 6 and 9 pt.
        let size = (cell_w * 0.85 / (0.6 * longest.max(3) as f64))
            .min(cell_h * 0.4)
            .clamp(scale.f(6.0), scale.f(9.0));
        let note_size = scale.f(NOTE_PT);
        for row in 0..rows {
            for col in 0..cols {
                let (x, y) = (col as f64, row as f64);
                let value = self.cell(row, col);
                let fill = value.map_or(MISSING, |v| self.colour(v));
                chart.draw_series([Rectangle::new([(x, y), (x + 1.0, y + 1.0)], fill.filled())])?;
                if value.is_none() {
                    chart.draw_series(
                        hatch(x, y)
                            .map(|l| PathElement::new(l, HATCH.stroke_width(scale.stroke(0.4)))),
                    )?;
                }
                chart.draw_series([Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    WHITE.stroke_width(scale.stroke(0.5)),
                )])?;
                let ink = if prefers_black_text(fill) {
                    BLACK
                } else {
                    WHITE
                };
                let style = (FONT, size)
                    .into_font()
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let note = self.note(row, col);
                // With a note, the number moves up to make room for it under it.
                let lift = if note.is_empty() { 0.0 } else { 0.18 };
                let centre = (x + 0.5, y + 0.5 + lift - format.centre_drop(size) / cell_h);
                chart.draw_series([Text::new(text(value), centre, style)])?;
                if !note.is_empty() {
                    let style = (FONT, note_size)
                        .into_font()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    let at = (x + 0.5, y + 0.26 - format.centre_drop(note_size) / cell_h);
                    chart.draw_series([Text::new(note.to_owned(), at, style)])?;
                }
            }
        }
        Ok(())
    }

    fn draw_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        format: Format,
        scale: Scale,
    ) -> DrawResult<DB> {
        let (lo, hi) = self.range;
        let bar_axis = Axis::new(lo, hi, false, 6);
        let mut chart = ChartBuilder::on(area)
            // Same top and bottom as the cells, so the bar spans the grid's height; the swatch for
            // missing cells goes under it, level with the x axis labels.
            .margin_top(scale.px(MARGIN))
            .margin_bottom(scale.px(MARGIN + X_LABEL_AREA))
            .margin_left(scale.px(4.0))
            .margin_right(scale.px(MARGIN))
            .set_label_area_size(LabelAreaPosition::Right, scale.px(50.0))
            .build_cartesian_2d(Axis::with_ticks(0.0, 1.0, vec![]), bar_axis.clone())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(&self.map.value_label)
            .axis_desc_style((FONT, scale.f(BAR_NAME_PT)))
            .label_style((FONT, scale.f(TICK_PT)))
            .set_all_tick_mark_size(scale.i(2.5))
            .y_label_formatter(&|v| bar_axis.label(*v))
            .draw()?;
        let steps = 128;
        let strips = (0..steps).map(|k| {
            let (a, b) = (k as f64 / steps as f64, (k + 1) as f64 / steps as f64);
            let at = |t: f64| lo + t * (hi - lo);
            Rectangle::new(
                [(0.0, at(a)), (1.0, at(b))],
                viridis((a + b) / 2.0).filled(),
            )
        });
        chart.draw_series(strips)?;
        chart.draw_series([Rectangle::new(
            [(0.0, lo), (1.0, hi)],
            BLACK.mix(0.5).stroke_width(scale.stroke(0.4)),
        )])?;

        if self.any_missing() {
            let (_, h) = area.dim_in_pixel();
            let y = i32::try_from(h).unwrap_or(0) - scale.i(MARGIN + X_LABEL_AREA / 2.0);
            let (x0, k) = (scale.i(4.0), scale.i(4.0));
            let x1 = x0 + 3 * k;
            area.draw(&Rectangle::new(
                [(x0, y - k), (x1, y + k)],
                MISSING.filled(),
            ))?;
            for j in 0..3 {
                area.draw(&PathElement::new(
                    [(x0 + j * k, y + k), (x0 + (j + 1) * k, y - k)],
                    HATCH.stroke_width(scale.stroke(0.4)),
                ))?;
            }
            let size = scale.f(TICK_PT);
            let style = (FONT, size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            let drop = format.centre_drop(size) as i32;
            // Two lines: on one, the text is wider than the colour bar's column.
            let half = (0.6 * size) as i32;
            for (line, dy) in [("no run or", -half), ("all diverged", half)] {
                area.draw(&Text::new(
                    line,
                    (x1 + scale.i(2.0), y + dy + drop),
                    style.clone(),
                ))?;
            }
        }
        Ok(())
    }
}

/// Diagonal hatch lines across the unit cell at (`x`, `y`), clipped to the cell.
fn hatch(x: f64, y: f64) -> impl Iterator<Item = [(f64, f64); 2]> {
    // Lines u - v = t for t in (-1, 1): each starts on the left or bottom edge and ends on the top or right.
    (-4..=4).map(move |k| {
        let t = f64::from(k) / 5.0;
        [
            (x + t.max(0.0), y + (-t).max(0.0)),
            (x + (1.0 + t).min(1.0), y + (1.0 - t).min(1.0)),
        ]
    })
}
