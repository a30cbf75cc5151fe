//! KPI bars: for each set, its share of the members and its share of the revenue (when the
//! catalog has a revenue column), side by side, values on the bars.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use ensemble_engine::report::{KpiReport, KpiRow};

use crate::style::{color, percent, text, FAMILY};
use crate::{draw_error, ChartError};

/// Draws the grouped bars of the sets (the universe's row `all` left out).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &KpiReport,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let rows: Vec<&KpiRow> = report.rows.iter().filter(|r| r.set != "all").collect();
    type Measure = (&'static str, fn(&KpiRow) -> Option<f64>);
    let mut series: Vec<Measure> = vec![("share of members", |r| r.share)];
    if report.revenue.is_some() {
        series.push(("share of revenue (12 months)", |r| r.revenue_share));
    }
    let highest = rows
        .iter()
        .flat_map(|r| series.iter().filter_map(move |s| (s.1)(r)))
        .fold(1.0f64, f64::max);
    // A tier is named without its partition (`statut.vip` is `vip`).
    let labels: Vec<String> = rows
        .iter()
        .map(|r| match r.set.split_once('.') {
            Some((_, tier)) if !r.set.contains(' ') => tier.to_string(),
            _ => r.set.clone(),
        })
        .collect();
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(
            0f64..rows.len().max(1) as f64,
            0f64..(highest * 1.18).min(115.0),
        )
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .disable_x_mesh()
        .x_labels(rows.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 1e-6 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.0} %"))
        .y_desc("% of the universe")
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(draw_error)?;
    let width = 0.8 / series.len() as f64;
    let base = area.get_base_pixel();
    for (s, (name, value)) in series.iter().enumerate() {
        let bars = rows.iter().enumerate().filter_map(|(i, r)| {
            let x = i as f64 + 0.1 + width * s as f64;
            value(r).map(|v| Rectangle::new([(x, 0.0), (x + width * 0.92, v)], color(s).filled()))
        });
        chart
            .draw_series(bars)
            .map_err(draw_error)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color(s).filled()));
        for (i, r) in rows.iter().enumerate() {
            let Some(v) = value(r) else { continue };
            let x = i as f64 + 0.1 + width * (s as f64 + 0.46);
            let at = chart.backend_coord(&(x, v));
            area.draw(&Text::new(
                percent(v),
                (at.0 - base.0, at.1 - base.1 - 4),
                text(14).pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))
            .map_err(draw_error)?;
        }
    }
    crate::style::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}
