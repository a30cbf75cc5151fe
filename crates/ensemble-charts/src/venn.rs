//! Venn diagrams of two or three sets: one circle per set, the members of every exact
//! combination written in its region (regions are not drawn to scale).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use ensemble_engine::report::OverlapReport;

use crate::style::{color, count, percent, text, INK};
use crate::{draw_error, ChartError};

type Point = (f64, f64);

/// Draws the circles, each region's count and share of the union, and each set's name.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &OverlapReport,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (width, height) = area.dim_in_pixel();
    let (w, h) = (f64::from(width), f64::from(height) - 40.0);
    let n = report.sets.len();
    let radius = if n == 2 { h * 0.36 } else { h * 0.26 };
    let d = radius * 1.15;
    let center = (
        w / 2.0,
        if n == 2 {
            h / 2.0 + 10.0
        } else {
            h / 2.0 - 5.0
        },
    );
    let centers: Vec<Point> = if n == 2 {
        vec![
            (center.0 - d / 2.0, center.1),
            (center.0 + d / 2.0, center.1),
        ]
    } else {
        let rise = d * 3f64.sqrt() / 2.0;
        vec![
            (center.0 - d / 2.0, center.1 - rise / 3.0),
            (center.0 + d / 2.0, center.1 - rise / 3.0),
            (center.0, center.1 + 2.0 * rise / 3.0),
        ]
    };
    let px = |p: Point| (p.0.round() as i32, p.1.round() as i32);
    for (i, c) in centers.iter().enumerate() {
        let fill = color(i).mix(0.22).filled();
        area.draw(&Circle::new(px(*c), radius as i32, fill))
            .map_err(draw_error)?;
        area.draw(&Circle::new(
            px(*c),
            radius as i32,
            color(i).stroke_width(3),
        ))
        .map_err(draw_error)?;
    }
    let union: u64 = report.combinations.iter().map(|c| c.members).sum();
    let centroid = (
        centers.iter().map(|c| c.0).sum::<f64>() / n as f64,
        centers.iter().map(|c| c.1).sum::<f64>() / n as f64,
    );
    // Every region, empty ones too (an empty region is a finding).
    for mask in 1..(1usize << n) {
        let inside: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
        let members = report
            .combinations
            .iter()
            .find(|c| (0..n).all(|i| c.within[i] == inside.contains(&i)))
            .map_or(0, |c| c.members);
        let spot = region_spot(&centers, &inside, centroid, radius);
        let style = text(20).pos(Pos::new(HPos::Center, VPos::Bottom));
        area.draw(&Text::new(count(members), px(spot), style))
            .map_err(draw_error)?;
        let share = percent(100.0 * members as f64 / union.max(1) as f64);
        let style = text(15).pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(share, (px(spot).0, px(spot).1 + 2), style))
            .map_err(draw_error)?;
    }
    for (i, c) in centers.iter().enumerate() {
        // Names beside their circles: left, right, and (third) right of the lower circle.
        let (spot, horizontal) = match i {
            0 => ((c.0 - radius * 0.75, c.1 - radius * 0.92), HPos::Right),
            1 => ((c.0 + radius * 0.75, c.1 - radius * 0.92), HPos::Left),
            _ => ((c.0 + radius * 0.9, c.1 + radius * 0.75), HPos::Left),
        };
        let label = format!("{} ({})", report.sets[i], count(report.shared[i][i]));
        let ink = color(i);
        let style = text(20).color(&ink).pos(Pos::new(horizontal, VPos::Center));
        area.draw(&Text::new(label, px(spot), style))
            .map_err(draw_error)?;
    }
    let note = format!(
        "members of each exact combination, and its share of the {} members in at least one set; {} in none (regions not to scale)",
        count(union),
        count(report.outside)
    );
    let style = text(14)
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    area.draw(&Text::new(
        note,
        (width as i32 / 2, height as i32 - 8),
        style,
    ))
    .map_err(draw_error)?;
    Ok(())
}

/// Where the count of the region of exactly `inside` is written: a set's own region away from
/// the others, a pair's between its two circles away from the third, all three in the middle.
fn region_spot(centers: &[Point], inside: &[usize], centroid: Point, radius: f64) -> Point {
    let mean = (
        inside.iter().map(|i| centers[*i].0).sum::<f64>() / inside.len() as f64,
        inside.iter().map(|i| centers[*i].1).sum::<f64>() / inside.len() as f64,
    );
    if inside.len() == centers.len() {
        return if centers.len() == 2 { mean } else { centroid };
    }
    let away = unit(
        (mean.0 - centroid.0, mean.1 - centroid.1),
        inside[0],
        centers.len(),
    );
    let push = if inside.len() == 1 { 0.45 } else { 0.38 };
    (
        mean.0 + away.0 * radius * push,
        mean.1 + away.1 * radius * push,
    )
}

/// `v` scaled to length 1 (a fixed direction per set when `v` is null).
fn unit(v: Point, i: usize, n: usize) -> Point {
    let length = (v.0 * v.0 + v.1 * v.1).sqrt();
    if length < 1e-9 {
        let angle = std::f64::consts::TAU * i as f64 / n as f64;
        return (angle.cos(), angle.sin());
    }
    (v.0 / length, v.1 / length)
}
