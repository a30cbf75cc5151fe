//! The heatmap of a transition: tiers at the first date in rows, at the second in columns,
//! each cell's count and row percentage, shaded by the percentage.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use ensemble_engine::report::TransitionReport;

use crate::style::{count, percent, text, INK};
use crate::{draw_error, ChartError};

/// Width of the row labels, height of the column labels, in pixels.
const LABELS: (i32, i32) = (200, 60);

/// Draws the matrix of counts, shaded by row percentage.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &TransitionReport,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (width, height) = area.dim_in_pixel();
    let (rows, columns) = (report.rows.len() as i32, report.columns.len() as i32);
    let cell_w = (width as i32 - LABELS.0 - 30) / columns.max(1);
    let cell_h = ((height as i32 - LABELS.1 - 40) / rows.max(1)).min(90);
    let caption = format!(
        "tier on {} (rows) → tier on {} (columns)",
        report.from, report.to
    );
    area.draw(&Text::new(
        caption,
        (LABELS.0, LABELS.1 + cell_h * rows + 12),
        text(16).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(draw_error)?;
    for (j, column) in report.columns.iter().enumerate() {
        let x = LABELS.0 + cell_w * j as i32 + cell_w / 2;
        let label = format!("{column}\n{}", count(report.column_total(j)));
        draw_lines(area, &label, (x, LABELS.1 - 4), text(15), VPos::Bottom)?;
    }
    for (i, row) in report.rows.iter().enumerate() {
        let y = LABELS.1 + cell_h * i as i32;
        let label = format!("{row} ({})", count(report.row_total(i)));
        area.draw(&Text::new(
            label,
            (LABELS.0 - 10, y + cell_h / 2),
            text(15).pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(draw_error)?;
        let total = report.row_total(i);
        for j in 0..report.columns.len() {
            let x = LABELS.0 + cell_w * j as i32;
            let n = report.counts[i][j];
            let share = if total > 0 {
                100.0 * n as f64 / total as f64
            } else {
                0.0
            };
            area.draw(&Rectangle::new(
                [(x, y), (x + cell_w, y + cell_h)],
                shade(share).filled(),
            ))
            .map_err(draw_error)?;
            area.draw(&Rectangle::new(
                [(x, y), (x + cell_w, y + cell_h)],
                WHITE.stroke_width(2),
            ))
            .map_err(draw_error)?;
            let ink = if share > 55.0 { WHITE } else { INK };
            let label = if total > 0 {
                format!("{}\n{}", count(n), percent(share))
            } else {
                count(n)
            };
            draw_lines(
                area,
                &label,
                (x + cell_w / 2, y + cell_h / 2),
                text(15).color(&ink),
                VPos::Center,
            )?;
        }
    }
    Ok(())
}

/// White to deep blue as the row percentage goes from 0 to 100.
fn shade(share: f64) -> RGBColor {
    let t = (share / 100.0).clamp(0.0, 1.0).sqrt();
    let mix = |from: u8, to: u8| (f64::from(from) + (f64::from(to) - f64::from(from)) * t) as u8;
    RGBColor(mix(0xF4, 0x1F), mix(0xF7, 0x4E), mix(0xFB, 0x8C))
}

/// Lines of text centred on `at.0`, the block anchored at `at.1` by `vertical`.
fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    at: (i32, i32),
    style: plotters::style::TextStyle<'_>,
    vertical: VPos,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let lines: Vec<&str> = label.lines().collect();
    let line_height = 19;
    let block = line_height * lines.len() as i32;
    let top = match vertical {
        VPos::Top => at.1,
        VPos::Center => at.1 - block / 2,
        VPos::Bottom => at.1 - block,
    };
    for (k, line) in lines.iter().enumerate() {
        let y = top + line_height * k as i32 + line_height / 2;
        area.draw(&Text::new(
            line.to_string(),
            (at.0, y),
            style.clone().pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(draw_error)?;
    }
    Ok(())
}
