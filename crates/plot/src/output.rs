//! Writing one drawing to both `<stem>.png` and `<stem>.svg`, with the embedded font registered first.
//!
//! Layouts are in points (1/72 in) at the printed size; the PNG is rasterised at the requested
//! pixel density and the SVG carries its physical size (`width="…pt"`), so text set at 8 pt stays
//! 8 pt in print. Both files land atomically: drawn under a temporary name, then renamed.
//! A process killed while drawing leaves the previous figure (or none), never a truncated one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use super::PlotError;

/// Font family name every text style in this module uses; the embedded font is registered under it.
pub(crate) const FONT: &str = "sans-serif";

/// How a figure is rendered; the layout (sizes in points) does not depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Pixel density of the PNG in dots per inch (the SVG is vector and independent of it).
    pub dpi: u32,
}

impl Options {
    /// Default pixel density: 200 dpi, sharp on screens and in print drafts.
    pub const DEFAULT_DPI: u32 = 200;
    /// Densities accepted: below 36 dpi text is unreadable, above 1200 dpi a figure takes gigabytes.
    pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 36..=1200;
}

impl Default for Options {
    fn default() -> Self {
        Self {
            dpi: Self::DEFAULT_DPI,
        }
    }
}

/// Pixels per point of one output; every length of a layout goes through it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale(pub(crate) f64);

impl Scale {
    /// `pt` points in pixels.
    pub(crate) fn f(self, pt: f64) -> f64 {
        pt * self.0
    }
    /// `pt` points in whole pixels.
    pub(crate) fn px(self, pt: f64) -> u32 {
        (pt * self.0).round().max(0.0) as u32
    }
    /// `pt` points in whole pixels, signed (offsets of markers and text).
    pub(crate) fn i(self, pt: f64) -> i32 {
        (pt * self.0).round() as i32
    }
    /// A line width of `pt` points, at least one pixel.
    pub(crate) fn stroke(self, pt: f64) -> u32 {
        self.px(pt).max(1)
    }
}

/// SVG user units per point: 2 keeps plotters' whole-pixel coordinates half a point apart.
const SVG_SCALE: f64 = 2.0;

/// The drawing error of a backend, as returned by plotters' drawing areas.
pub(crate) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Registers DejaVu Sans once per process.
///
/// The ab_glyph text backend has no fallback to system fonts, so without this every text call fails;
/// DejaVu is embedded because it covers the Greek letters used in parameter names.
pub(crate) fn ensure_font(stem: &Path) -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../fonts/DejaVuSans.ttf"),
        )
        .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font {
            path: stem.to_path_buf(),
        })
    }
}

/// `stem` with `.ext` appended; `with_extension` would eat a dot that belongs to the stem (`alpha0.5`).
pub(crate) fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut name = OsString::from(stem.as_os_str());
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// A temporary name beside `path`, unique to this process and this write:
/// `.<file name>.<pid>-<counter>.tmp.<ext>`. The extension stays last because the bitmap encoder
/// chooses the image format by it.
fn temporary_path(path: &Path, ext: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}-{n}.tmp.{ext}", std::process::id()))
}

/// The file format being drawn; text placement differs between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// PNG through the bitmap backend, glyphs rasterised by ab_glyph.
    Png,
    /// SVG, where the viewer places `<text>` elements itself.
    Svg,
}

impl Format {
    /// How far, in pixels, to move a vertically centred text anchor down so the text looks centred.
    ///
    /// plotters' ab_glyph rasteriser draws digits and capitals about a quarter of the font size
    /// above a centred anchor, while SVG viewers centre them (`dy="0.5ex"`).
    pub(crate) fn centre_drop(self, font_size: f64) -> f64 {
        // `font_size` is in pixels of this format.
        match self {
            Format::Png => 0.25 * font_size,
            Format::Svg => 0.0,
        }
    }
}

/// `text` broken into lines no wider than `width` points at `size` points (at spaces; each `\n`
/// starts a new line); blank lines are dropped.
pub(crate) fn wrap(text: &str, width: f64, size: f64) -> Vec<String> {
    // Measured at 10× so that whole-pixel rounding does not distort small text.
    let font = (FONT, 10.0 * size).into_font();
    let fits = |s: &str| {
        font.box_size(s)
            .map_or(true, |(w, _)| f64::from(w) / 10.0 <= width)
    };
    let mut lines = Vec::new();
    for paragraph in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if fits(&candidate) || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            }
        }
        lines.push(line);
    }
    lines
}

/// Draws `text` centred in `area` (a band at the top of a figure).
///
/// Not plotters' `titled`: it anchors the text at the very top, where ab_glyph glyphs,
/// drawn above their anchor, get clipped.
pub(crate) fn title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
    format: Format,
) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    let style = (FONT, size)
        .into_font()
        .into_text_style(area)
        .pos(Pos::new(HPos::Center, VPos::Center));
    let y = f64::from(h) / 2.0 + format.centre_drop(size);
    area.draw(&Text::new(text, ((w / 2) as i32, y as i32), style))
}

/// Figure title (points) and the height of its band.
pub(crate) const TITLE_PT: f64 = 10.0;
pub(crate) const TITLE_BAND: f64 = 17.0;
/// Caption under the title (what the bands mean, what was averaged), and its band per line.
pub(crate) const CAPTION_PT: f64 = 7.5;
pub(crate) const CAPTION_BAND: f64 = 11.0;

/// Draws a figure's title and its caption lines at the top of `root`; returns the area below them.
pub(crate) fn heading<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    captions: &[String],
    format: Format,
    scale: Scale,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (top, mut body) = root.split_vertically(scale.px(TITLE_BAND));
    title(
        &top,
        text,
        title_size(text, top.dim_in_pixel().0, scale),
        format,
    )?;
    for line in captions {
        let (band, rest) = body.split_vertically(scale.px(CAPTION_BAND));
        title(&band, line, scale.f(CAPTION_PT), format)?;
        body = rest;
    }
    Ok(body)
}

/// The title's font size in pixels: `TITLE_PT`, shrunk (down to `CAPTION_PT`) so that a long title
/// still fits a narrow figure's width, less a margin of 6 pt each side.
fn title_size(text: &str, width_px: u32, scale: Scale) -> f64 {
    let full = scale.f(TITLE_PT);
    let room = f64::from(width_px) - scale.f(12.0);
    let font = (FONT, full).into_font();
    match font.box_size(text) {
        Ok((w, _)) if f64::from(w) > room => (full * room / f64::from(w)).max(scale.f(CAPTION_PT)),
        _ => full,
    }
}

/// Something that can draw itself on any plotters backend; one value is drawn once per output format.
pub(crate) trait Drawing {
    /// Draws on `root`, which is already filled white, for the file `format` at `scale` pixels per point.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        format: Format,
        scale: Scale,
    ) -> DrawResult<DB>;
}

/// Draws `drawing` on a white canvas of `size` points twice, into `<stem>.png` at `opts.dpi` and
/// `<stem>.svg`, each written under a temporary name and renamed.
pub(crate) fn write_both(
    stem: &Path,
    size: (f64, f64),
    drawing: &impl Drawing,
    opts: &Options,
) -> Result<(), PlotError> {
    ensure_font(stem)?;
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| PlotError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let dpi = opts
        .dpi
        .clamp(*Options::DPI_RANGE.start(), *Options::DPI_RANGE.end());
    // Backend errors are kept as text: the PNG and SVG backends have different error types.
    let failed = |path: &Path, e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let pixels = |scale: Scale| (scale.px(size.0).max(1), scale.px(size.1).max(1));

    let png = with_suffix(stem, "png");
    // The bitmap encoder picks the format by extension, so the temporary name ends in .png too;
    // the name is unique per process and call, so concurrent writers never share one.
    let png_tmp = temporary_path(&png, "png");
    // The backend writes its file when dropped, so the temporary file is removed only after the
    // block that owns the backend has ended.
    let drawn = {
        let scale = Scale(f64::from(dpi) / 72.0);
        let root = BitMapBackend::new(&png_tmp, pixels(scale)).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| drawing.draw(&root, Format::Png, scale))
            .and_then(|()| root.present())
            .map_err(|e| e.to_string())
    };
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&png_tmp);
        return Err(failed(&png, &e));
    }
    rename(&png_tmp, &png)?;

    let svg = with_suffix(stem, "svg");
    let mut text = String::new();
    {
        let scale = Scale(SVG_SCALE);
        let root = SVGBackend::with_string(&mut text, pixels(scale)).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .and_then(|()| drawing.draw(&root, Format::Svg, scale))
            .and_then(|()| root.present());
        result.map_err(|e| failed(&svg, &e))?;
    }
    let text = physical_size(&text, pixels(Scale(SVG_SCALE)), SVG_SCALE);
    let svg_tmp = temporary_path(&svg, "svg");
    std::fs::write(&svg_tmp, text).map_err(|e| failed(&svg, &e))?;
    rename(&svg_tmp, &svg)
}

fn rename(from: &Path, to: &Path) -> Result<(), PlotError> {
    std::fs::rename(from, to).map_err(|e| {
        let _ = std::fs::remove_file(from);
        PlotError::Draw {
            path: to.to_path_buf(),
            message: e.to_string(),
        }
    })
}

/// The SVG with its width and height in points, so it prints at the size it was laid out for;
/// the viewBox keeps the drawing's own units.
fn physical_size(svg: &str, (w, h): (u32, u32), scale: f64) -> String {
    let plain = format!(r#"<svg width="{w}" height="{h}" "#);
    let sized = format!(
        r#"<svg width="{}pt" height="{}pt" "#,
        f64::from(w) / scale,
        f64::from(h) / scale
    );
    svg.replacen(&plain, &sized, 1)
}
