//! UpSet charts for four sets or more: one bar per exact combination (largest first), and
//! under it a matrix of dots saying which sets the combination is in.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use ensemble_engine::report::OverlapReport;

use crate::style::{color, count, text, FAMILY, INK};
use crate::{draw_error, ChartError};

/// Most combinations drawn; the rest are summed in the note.
const MAX_BARS: usize = 24;
/// Width of the set names' column, in pixels.
const NAMES: u32 = 230;

/// Draws the bars of the largest combinations and the dot matrix under them.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &OverlapReport,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let shown = &report.combinations[..report.combinations.len().min(MAX_BARS)];
    let n = report.sets.len();
    let (_, height) = area.dim_in_pixel();
    let row = ((height as f64 * 0.45) / n as f64).clamp(14.0, 30.0);
    let matrix_height = (row * n as f64) as u32 + 30;
    let (top, bottom) = area.split_vertically(height - matrix_height);
    let highest = shown.iter().map(|c| c.members).max().unwrap_or(1).max(1) as f64;
    let mut chart = ChartBuilder::on(&top)
        .margin_right(20)
        .margin_top(10)
        .y_label_area_size(NAMES)
        .x_label_area_size(0)
        .build_cartesian_2d(0f64..shown.len().max(1) as f64, 0f64..highest * 1.15)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc("members")
        .light_line_style(WHITE)
        .y_label_formatter(&|v| crate::style::count_tick(*v))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(draw_error)?;
    chart
        .draw_series(shown.iter().enumerate().map(|(i, c)| {
            let x = i as f64;
            Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, c.members as f64)],
                color(0).filled(),
            )
        }))
        .map_err(draw_error)?;
    let vertical_labels = shown.len() > 12;
    let base = top.get_base_pixel();
    for (i, c) in shown.iter().enumerate() {
        let at = chart.backend_coord(&(i as f64 + 0.5, c.members as f64));
        let at = (at.0 - base.0, at.1 - base.1);
        let (style, at) = if vertical_labels {
            (
                text(12)
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
                (at.0, at.1 - 4),
            )
        } else {
            (
                text(13).pos(Pos::new(HPos::Center, VPos::Bottom)),
                (at.0, at.1 - 4),
            )
        };
        top.draw(&Text::new(count(c.members), at, style))
            .map_err(draw_error)?;
    }
    let y_of = |s: usize| (row * (s as f64 + 0.5)) as i32 + 12;
    for (s, set) in report.sets.iter().enumerate() {
        let label = format!("{set} ({})", count(report.shared[s][s]));
        let style = text(14).pos(Pos::new(HPos::Right, VPos::Center));
        bottom
            .draw(&Text::new(label, (NAMES as i32 - 12, y_of(s)), style))
            .map_err(draw_error)?;
    }
    for (i, c) in shown.iter().enumerate() {
        let x = chart.backend_coord(&(i as f64 + 0.5, 0.0)).0 - base.0;
        let rows: Vec<usize> = (0..n).filter(|s| c.within[*s]).collect();
        if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
            bottom
                .draw(&PathElement::new(
                    vec![(x, y_of(*first)), (x, y_of(*last))],
                    INK.stroke_width(3),
                ))
                .map_err(draw_error)?;
        }
        for s in 0..n {
            let style = if c.within[s] {
                INK.filled()
            } else {
                RGBColor(0xDD, 0xDD, 0xDD).filled()
            };
            let radius = (row * 0.28).max(4.0) as i32;
            bottom
                .draw(&Circle::new((x, y_of(s)), radius, style))
                .map_err(draw_error)?;
        }
    }
    let hidden: u64 = report.combinations[shown.len()..]
        .iter()
        .map(|c| c.members)
        .sum();
    if hidden > 0 {
        let note = format!(
            "{} smaller combinations ({} members) not drawn",
            report.combinations.len() - shown.len(),
            count(hidden)
        );
        let (width, bottom_height) = bottom.dim_in_pixel();
        bottom
            .draw(&Text::new(
                note,
                (width as i32 - 10, bottom_height as i32 - 4),
                text(13).pos(Pos::new(HPos::Right, VPos::Bottom)),
            ))
            .map_err(draw_error)?;
    }
    Ok(())
}
