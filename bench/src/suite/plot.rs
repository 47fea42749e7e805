//! `--plot FILE`: a PNG of p99 write latency against connections, one line per server and
//! cluster size, from a run's summary. Axis labels need a font; ab_glyph reads it from
//! `--font` (DejaVu Sans as Debian installs it, by default).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use super::report::Row;

/// One line: its label and (connections, p99 ms) points.
type Series = (String, Vec<(f64, f64)>);

/// The lines to draw: p99 of "writes, N conns" per server and cluster size.
fn series(rows: &[Row]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    let mut members: Vec<usize> = rows.iter().map(|r| r.members).collect();
    members.sort();
    members.dedup();
    for m in members {
        for (label, pick) in [
            ("ours", (|r: &Row| r.ours) as fn(&Row) -> Option<f64>),
            ("etcd 3.4", |r| r.etcd),
        ] {
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.members == m && r.metric == "p99 ms")
                .filter_map(|r| {
                    let conns = r.bench.strip_prefix("writes, ")?.strip_suffix(" conns")?;
                    Some((conns.parse::<f64>().ok()?, pick(r)?))
                })
                .collect();
            if !points.is_empty() {
                let plural = if m == 1 { "" } else { "s" };
                out.push((format!("{label}, {m} member{plural}"), points));
            }
        }
    }
    out
}

/// Draws the plot into `file`, with text in the TrueType font at `font`.
pub fn draw(rows: &[Row], file: &Path, font: &Path) -> Result<(), String> {
    let lines = series(rows);
    if lines.is_empty() {
        return Err("no write measurements to plot".into());
    }
    let bytes = std::fs::read(font).map_err(|e| format!("read font {}: {e}", font.display()))?;
    // ab_glyph keeps the font for the process's life; one plot per run, so leaking it is fine.
    register_font(
        "sans-serif",
        FontStyle::Normal,
        Box::leak(bytes.into_boxed_slice()),
    )
    .map_err(|_| format!("{} is not a usable font", font.display()))?;
    let max_x = lines
        .iter()
        .flat_map(|(_, p)| p)
        .map(|p| p.0)
        .fold(1.0, f64::max);
    let max_y = lines
        .iter()
        .flat_map(|(_, p)| p)
        .map(|p| p.1)
        .fold(1.0, f64::max);
    let root = BitMapBackend::new(file, (900, 600)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| format!("plot: {e}");
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("p99 write latency against connections", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (0.8..max_x * 1.25).log_scale(),
            (0.5..max_y * 1.5).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("connections")
        .y_desc("p99 (ms)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let colours = [BLUE, RED, CYAN, MAGENTA];
    for (i, (label, points)) in lines.iter().enumerate() {
        let colour = colours[i % colours.len()];
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(err)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 4, colour.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
