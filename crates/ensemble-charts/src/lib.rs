//! Charts of reports, drawn with plotters: a Venn diagram for an overlap of two or three sets
//! and UpSet bars beyond, a heatmap of a transition, bars of KPIs per set, lines of a trend.
//! SVG and PNG come from the same drawing code; text is drawn with the DejaVu Sans font
//! embedded in this crate (no system font, no browser), so accents render everywhere.
#![warn(missing_docs)]

mod bars;
mod heatmap;
mod lines;
mod style;
mod upset;
mod venn;

use std::path::Path;

use ensemble_engine::report::{Report, ReportBody};
use plotters::coord::Shift;
use plotters::prelude::*;
use thiserror::Error;

/// Width and height of every chart, in pixels.
pub const SIZE: (u32, u32) = (1100, 680);

/// Why a chart could not be made.
#[derive(Debug, Error)]
pub enum ChartError {
    /// The report has no chart (a snapshot or a diff is a table).
    #[error("a {0} report has no chart: export its table instead")]
    NoChart(&'static str),
    /// The file name does not say SVG or PNG.
    #[error("{0}: a chart is written as .svg or .png")]
    Format(String),
    /// Drawing failed.
    #[error("drawing the chart: {0}")]
    Draw(String),
    /// Writing the file failed (atomically: nothing half written).
    #[error(transparent)]
    Write(#[from] ensemble_fs::FsError),
}

/// The image formats of charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    /// Scalable vector graphics (text stays text).
    Svg,
    /// A bitmap.
    Png,
}

impl ChartFormat {
    /// The format a file name's extension says (`.svg`, `.png`).
    pub fn of_path(path: &Path) -> Result<ChartFormat, ChartError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(ChartFormat::Svg),
            Some("png") => Ok(ChartFormat::Png),
            _ => Err(ChartError::Format(path.display().to_string())),
        }
    }
}

/// Draws the report's chart to `path` (`.svg` or `.png`), written atomically.
pub fn write_chart(report: &Report, path: &Path) -> Result<(), ChartError> {
    let bytes = match ChartFormat::of_path(path)? {
        ChartFormat::Svg => svg(report)?.into_bytes(),
        ChartFormat::Png => png(report)?,
    };
    ensemble_fs::write_file(path, &bytes)?;
    Ok(())
}

/// The report's chart as SVG text.
pub fn svg(report: &Report) -> Result<String, ChartError> {
    style::register_font();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, report)?;
        root.present().map_err(draw_error)?;
    }
    Ok(text)
}

/// The report's chart as PNG bytes.
pub fn png(report: &Report) -> Result<Vec<u8>, ChartError> {
    style::register_font();
    let (width, height) = SIZE;
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(&root, report)?;
        root.present().map_err(draw_error)?;
    }
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&pixels, width, height, image::ColorType::Rgb8)
        .map_err(|e| ChartError::Draw(e.to_string()))?;
    Ok(bytes)
}

use image::ImageEncoder as _;

/// Whether the report has a chart.
pub fn has_chart(report: &Report) -> bool {
    !matches!(report.body, ReportBody::Snapshot(_) | ReportBody::Diff(_))
}

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &Report,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(draw_error)?;
    let title = report.heading();
    let body = area
        .titled(&title, style::title_font(title.chars().count()))
        .map_err(draw_error)?;
    match &report.body {
        ReportBody::Overlap(r) if r.sets.len() <= 3 => venn::draw(&body, r),
        ReportBody::Overlap(r) => upset::draw(&body, r),
        ReportBody::Transition(r) => heatmap::draw(&body, r),
        ReportBody::Kpi(r) => bars::draw(&body, r),
        ReportBody::Trend(r) => lines::draw(&body, r),
        ReportBody::Snapshot(_) | ReportBody::Diff(_) => Err(ChartError::NoChart(report.kind())),
    }
}

/// A drawing error as a chart error.
pub(crate) fn draw_error(error: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(error.to_string())
}

#[cfg(test)]
mod tests;
