//! The charts' font, colours and number formats.

use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{FontStyle, IntoFont, TextStyle};

/// DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`): Latin with accents.
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// The family name charts ask for.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font under [`FAMILY`], once.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The font is valid: this crate's tests render with it.
            let _ = plotters::style::register_font(FAMILY, style, FONT);
        }
    });
}

/// Tableau 10: distinct, readable on white, safe for the common colour deficiencies.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// The colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Dark grey for text and marks.
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// The font of a title of `length` characters: smaller for long titles, so they fit.
pub fn title_font(length: usize) -> TextStyle<'static> {
    let size = match length {
        0..=60 => 26,
        61..=80 => 22,
        81..=100 => 18,
        _ => 15,
    };
    (FAMILY, size).into_font().color(&INK)
}

/// Labels and values.
pub fn text(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&INK)
}

/// A count with thousands separated by spaces.
pub fn count(n: u64) -> String {
    ensemble_engine::group_thousands(n as usize)
}

/// An axis tick of a count: whole numbers only (a tick between two counts stays blank).
pub fn count_tick(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 && value >= 0.0 {
        count(value.round() as u64)
    } else {
        String::new()
    }
}

/// A percentage with one decimal.
pub fn percent(p: f64) -> String {
    format!("{p:.1} %")
}

/// The legend of a chart's series, boxed on white at `position`.
pub fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    position: SeriesLabelPosition,
) -> Result<(), crate::ChartError>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(0xBB, 0xBB, 0xBB))
        .label_font((FAMILY, 15))
        .draw()
        .map_err(crate::draw_error)
}
