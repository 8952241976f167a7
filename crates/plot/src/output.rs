//! Writing one drawing to both `<stem>.png` and `<stem>.svg`, with the embedded font registered first.
//!
//! Each file is drawn under a temporary name and renamed when complete, so a process killed while
//! drawing leaves the previous figure (or none), never a truncated one.

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

/// Move the drawn `tmp` to `path`; when drawing or renaming failed, remove `tmp` and report the
/// error for `path`, which keeps its previous content.
fn finish(drawn: Result<(), String>, tmp: &Path, path: &Path) -> Result<(), PlotError> {
    let result = match drawn {
        Ok(()) => std::fs::rename(tmp, path).map_err(|source| PlotError::Write {
            path: path.to_path_buf(),
            source,
        }),
        Err(message) => Err(PlotError::Draw {
            path: path.to_path_buf(),
            message,
        }),
    };
    if result.is_err() {
        // The error to report is the drawing's; a failed clean-up changes nothing for the user.
        let _ = std::fs::remove_file(tmp);
    }
    result
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
        match self {
            Format::Png => 0.25 * font_size,
            Format::Svg => 0.0,
        }
    }
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

/// Something that can draw itself on any plotters backend; one value is drawn once per output format.
pub(crate) trait Drawing {
    /// Draws on `root`, which is already filled white, for the file `format`.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        format: Format,
    ) -> DrawResult<DB>;
}

/// Draws `drawing` on a white `size` canvas twice, into `<stem>.png` and `<stem>.svg`.
pub(crate) fn write_both(
    stem: &Path,
    size: (u32, u32),
    drawing: &impl Drawing,
) -> Result<(), PlotError> {
    ensure_font(stem)?;
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| PlotError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }

    let png = with_suffix(stem, "png");
    let tmp = temporary_path(&png, "png");
    // Backend errors are kept as text: the PNG and SVG backends have different error types.
    // The backend is dropped before the temporary file is removed: its Drop writes the file.
    let drawn = {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| drawing.draw(&root, Format::Png))
            .and_then(|()| root.present())
            .map_err(|e| e.to_string())
    };
    finish(drawn, &tmp, &png)?;

    let svg = with_suffix(stem, "svg");
    let tmp = temporary_path(&svg, "svg");
    let drawn = {
        let root = SVGBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| drawing.draw(&root, Format::Svg))
            .and_then(|()| root.present())
            .map_err(|e| e.to_string())
    };
    finish(drawn, &tmp, &svg)
}
