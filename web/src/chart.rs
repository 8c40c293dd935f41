//! Charts drawn with plotters on a `<canvas>`: lines (optionally on a log x axis) with reference
//! lines and a cursor, and grouped bars. Each redraw clears and repaints the whole canvas.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

/// The palette: one colour per series, in order (colour-blind safe, Okabe–Ito).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];
const TARGET: RGBColor = RGBColor(90, 90, 90);
const FONT: &str = "sans-serif";

/// A line chart.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    /// Title above the plot.
    pub title: String,
    /// The x axis' label.
    pub x_label: String,
    /// `(label, points)` per series.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// Dashed horizontal reference lines `(label, y)`.
    pub hlines: Vec<(String, f64)>,
    /// A vertical cursor at this x.
    pub cursor: Option<f64>,
    /// A logarithmic x axis.
    pub log_x: bool,
}

/// Grouped bars: one group per category, one bar per series.
#[derive(Debug, Clone, Default)]
pub struct Bars {
    /// Title above the plot.
    pub title: String,
    /// Category labels along x.
    pub categories: Vec<String>,
    /// `(label, one value per category)` per series.
    pub series: Vec<(String, Vec<f64>)>,
    /// Dashed horizontal reference lines `(label, y)`.
    pub hlines: Vec<(String, f64)>,
    /// Fixed y range, else fitted to the values.
    pub y_range: Option<(f64, f64)>,
}

fn area(canvas: &HtmlCanvasElement) -> Result<DrawingArea<CanvasBackend, Shift>, String> {
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("the canvas has no 2D context")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    Ok(root)
}

/// `(lo, hi)` of the values, widened when flat and padded by 5 %.
fn fit(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3 * hi.abs().max(1.0));
    (lo - pad, hi + pad)
}

/// Draws `chart` on `canvas`.
pub fn draw_lines(canvas: &HtmlCanvasElement, chart: &Lines) -> Result<(), String> {
    let root = area(canvas)?;
    let xs = chart.series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x));
    let (mut x0, mut x1) = fit(xs);
    if chart.log_x {
        x0 = chart
            .series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
            .filter(|x| *x > 0.0)
            .fold(f64::INFINITY, f64::min);
        x1 = chart.series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x)).fold(0.0, f64::max);
        if !(x0.is_finite() && x1 > x0) {
            (x0, x1) = (0.01, 100.0);
        }
    }
    let ys =
        chart.series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y)).chain(chart.hlines.iter().map(|(_, y)| *y));
    let (y0, y1) = fit(ys);
    let mut builder = ChartBuilder::on(&root);
    builder.caption(&chart.title, (FONT, 15)).margin(10).x_label_area_size(34).y_label_area_size(52);
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    macro_rules! body {
        ($c:expr) => {{
            let mut c = $c;
            c.configure_mesh()
                .x_desc(chart.x_label.as_str())
                .light_line_style(RGBColor(238, 238, 238))
                .draw()
                .map_err(e)?;
            for (label, y) in &chart.hlines {
                c.draw_series(DashedLineSeries::new([(x0, *y), (x1, *y)], 6, 4, TARGET.stroke_width(1)))
                    .map_err(e)?
                    .label(format!("{label} = {y:.3}"))
                    .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], TARGET));
            }
            for (i, (label, points)) in chart.series.iter().enumerate() {
                let colour = PALETTE[i % PALETTE.len()];
                c.draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))
                    .map_err(e)?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
            }
            if let Some(x) = chart.cursor {
                c.draw_series(LineSeries::new([(x, y0), (x, y1)], BLACK.mix(0.5))).map_err(e)?;
            }
            if chart.series.len() + chart.hlines.len() > 1 {
                c.configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(RGBColor(200, 200, 200))
                    .label_font((FONT, 12))
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()
                    .map_err(e)?;
            }
        }};
    }
    if chart.log_x {
        body!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1).map_err(e)?);
    } else {
        body!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?);
    }
    root.present().map_err(|e| e.to_string())
}

/// Draws `chart` on `canvas`.
pub fn draw_bars(canvas: &HtmlCanvasElement, chart: &Bars) -> Result<(), String> {
    let root = area(canvas)?;
    let n = chart.categories.len().max(1);
    let (y0, y1) = chart.y_range.unwrap_or_else(|| {
        let (lo, hi) =
            fit(chart.series.iter().flat_map(|(_, v)| v.iter().copied()).chain(chart.hlines.iter().map(|(_, y)| *y)));
        (lo.min(0.0), hi.max(0.0))
    });
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, (FONT, 15))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0..n as f64, y0..y1)
        .map_err(e)?;
    let categories = chart.categories.clone();
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(20))
        .x_label_formatter(&|x| categories.get(x.floor() as usize).cloned().unwrap_or_default())
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(e)?;
    let groups = chart.series.len().max(1) as f64;
    for (s, (label, values)) in chart.series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        c.draw_series(values.iter().enumerate().map(|(i, v)| {
            let left = i as f64 + 0.1 + 0.8 * s as f64 / groups;
            Rectangle::new([(left, 0.0f64.clamp(y0, y1)), (left + 0.8 / groups, *v)], colour.filled())
        }))
        .map_err(e)?
        .label(label.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    for (label, y) in &chart.hlines {
        c.draw_series(DashedLineSeries::new([(0.0, *y), (n as f64, *y)], 6, 4, TARGET.stroke_width(1)))
            .map_err(e)?
            .label(format!("{label} = {y:.3}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], TARGET));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, 12))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(|e| e.to_string())
}

/// Colours `(x, y)` cells of a map with `colour_of`, over `[x0, x1] × [y0, y1]`, and marks `point`.
pub fn draw_map(
    canvas: &HtmlCanvasElement,
    title: &str,
    (x_label, y_label): (&str, &str),
    (x0, x1, y0, y1): (f64, f64, f64, f64),
    colour_of: impl Fn(f64, f64) -> RGBColor,
    point: (f64, f64),
) -> Result<(), String> {
    let root = area(canvas)?;
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let mut c = ChartBuilder::on(&root)
        .caption(title, (FONT, 15))
        .margin(10)
        .x_label_area_size(34)
        .y_label_area_size(52)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    c.configure_mesh().x_desc(x_label).y_desc(y_label).disable_mesh().draw().map_err(e)?;
    let (nx, ny) = (120, 60);
    let (dx, dy) = ((x1 - x0) / nx as f64, (y1 - y0) / ny as f64);
    c.draw_series((0..nx).flat_map(|i| (0..ny).map(move |j| (i, j))).map(|(i, j)| {
        let (x, y) = (x0 + i as f64 * dx, y0 + j as f64 * dy);
        Rectangle::new([(x, y), (x + dx, y + dy)], colour_of(x + dx / 2.0, y + dy / 2.0).filled())
    }))
    .map_err(e)?;
    c.draw_series([Circle::new(point, 6, BLACK.filled())]).map_err(e)?;
    root.present().map_err(|e| e.to_string())
}
