//! Trend lines: each set's members at every date of the trend, the last value written at the
//! end of its line.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use ensemble_engine::report::TrendReport;

use crate::style::{color, count, text, FAMILY};
use crate::{draw_error, ChartError};

/// Draws one line per set over the dates.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &TrendReport,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let last = report.dates.len().saturating_sub(1).max(1) as f64;
    let highest = report
        .sizes
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let dates = &report.dates;
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .margin_right(110)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..last, 0f64..highest * 1.12)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_labels(dates.len().min(13))
        .x_label_formatter(&|x| {
            let i = x.round() as usize;
            if (x - i as f64).abs() < 1e-6 {
                dates
                    .get(i)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| crate::style::count_tick(*y))
        .y_desc("members")
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(draw_error)?;
    let base = area.get_base_pixel();
    for (s, set) in report.sets.iter().enumerate() {
        let points: Vec<(f64, f64)> = report
            .sizes
            .iter()
            .enumerate()
            .map(|(i, row)| (i as f64, row[s] as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color(s).stroke_width(3)))
            .map_err(draw_error)?
            .label(set.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color(s).stroke_width(3))
            });
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 4, color(s).filled())))
            .map_err(draw_error)?;
        let ink = color(s);
        if let Some(end) = points.last() {
            let at = chart.backend_coord(end);
            area.draw(&Text::new(
                count(end.1 as u64),
                (at.0 - base.0 + 8, at.1 - base.1),
                text(14).color(&ink).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(draw_error)?;
        }
    }
    crate::style::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}
