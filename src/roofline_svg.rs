//! `lowbit bench --svg`: the roofline plot. Every result is a point (x: operations per byte
//! moved, y: GFLOP/s) under its adapter's measured ceilings — the read-bandwidth slope meeting
//! the f32 fma roof (thick) and the int8 dot-product roof (thin) — one colour per adapter.

use std::path::Path;

use plotters::prelude::*;

use crate::bench::BenchResult;
use crate::ceilings::Ceilings;
use crate::error::{Error, Result};

/// Adapter colours: dark enough for thin lines on white, far apart from each other.
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("drawing the roofline: {e}"))
}

/// Writes the roofline of `results` under `ceilings` (one per adapter) to `path` as SVG.
pub fn write_roofline_svg(
    path: &Path,
    ceilings: &[Ceilings],
    results: &[BenchResult],
) -> Result<()> {
    if ceilings.is_empty() {
        return Err(Error::InvalidArgument(
            "a roofline needs at least one adapter".into(),
        ));
    }
    let peaks = ceilings
        .iter()
        .flat_map(|c| [Some(c.f32_gflops), c.int8_gops, c.f16_gflops])
        .flatten();
    let ridges = ceilings.iter().flat_map(|c| {
        [
            c.f32_gflops / c.read_gbps,
            c.int8_gops.unwrap_or(0.0) / c.read_gbps,
        ]
    });
    let intensities = results.iter().map(|r| r.roofline.intensity);
    let x_max = ridges.chain(intensities.clone()).fold(1.0f64, f64::max) * 4.0;
    let x_min = intensities.fold(0.25f64, f64::min) / 2.0;
    let y_max = peaks.fold(1.0f64, f64::max) * 2.0;
    let y_min = ceilings
        .iter()
        .map(|c| x_min * c.read_gbps)
        .chain(results.iter().map(|r| r.gflops))
        .fold(y_max, f64::min)
        .max(1e-3)
        / 2.0;

    let root = SVGBackend::new(path, (1100, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "lowbit roofline (ceilings measured on each adapter)",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("arithmetic intensity (operations per byte moved)")
        .y_desc("GFLOP/s (int8: GOP/s)")
        .draw()
        .map_err(plot_err)?;
    for (i, c) in ceilings.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let roof = |peak: f64| {
            let ridge = (peak / c.read_gbps).clamp(x_min, x_max);
            vec![
                (x_min, x_min * c.read_gbps),
                (ridge, ridge * c.read_gbps),
                (x_max, peak),
            ]
        };
        chart
            .draw_series(LineSeries::new(roof(c.f32_gflops), color.stroke_width(3)))
            .map_err(plot_err)?
            .label(format!(
                "{} ({}): read {:.1} GB/s, f32 {:.1} GFLOP/s{}",
                c.adapter,
                c.backend,
                c.read_gbps,
                c.f32_gflops,
                c.int8_gops
                    .map_or(String::new(), |g| format!(", int8 {g:.1} GOP/s"))
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
        if let Some(g) = c.int8_gops {
            chart
                .draw_series(LineSeries::new(roof(g), color.stroke_width(1)))
                .map_err(plot_err)?;
        }
        let mine = results
            .iter()
            .filter(|r| r.adapter == c.adapter && r.backend == c.backend);
        chart
            .draw_series(
                mine.map(|r| Circle::new((r.roofline.intensity, r.gflops), 5, color.filled())),
            )
            .map_err(plot_err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)?;
    root.present().map_err(plot_err)?;
    Ok(())
}
