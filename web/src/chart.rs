//! Charts drawn with plotters, on a `<canvas>` or into an SVG for download: lines (optionally on a
//! log x axis, with a band around each) with reference lines and a cursor, and grouped bars. Made to
//! be projected: ticks in plain units (`10k`, `1M`), axis titles with units, every category labelled
//! while the labels fit, the legend above the plot instead of over the data, and one colour and line
//! style per role in every view (ERA blue and solid, its baseline vermillion and dashed).

use era_shared::labels::{label_stride, tick};
use era_web::figure::{Bars, Figure, Lines, Role, fit};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

/// Colour-blind-safe colours (Okabe–Ito): ERA, the baseline, then the others in order.
const ERA_COLOUR: RGBColor = RGBColor(0, 114, 178);
const BASELINE_COLOUR: RGBColor = RGBColor(213, 94, 0);
const OTHER_COLOURS: [RGBColor; 4] =
    [RGBColor(0, 158, 115), RGBColor(204, 121, 167), RGBColor(230, 159, 0), RGBColor(86, 180, 233)];
const TARGET: RGBColor = RGBColor(70, 70, 70);
const FONT: &str = "sans-serif";

/// Dash patterns `(dash, gap)` in pixels: a solid line has none.
type Dash = Option<(u32, u32)>;

/// The colour and dash of a role; others cycle through colours, then dashes.
fn style(role: Role) -> (RGBColor, Dash) {
    match role {
        Role::Era => (ERA_COLOUR, None),
        Role::Baseline => (BASELINE_COLOUR, Some((9, 5))),
        Role::Other(i) => {
            let dash = [None, Some((3, 3)), Some((12, 4))][(i / OTHER_COLOURS.len()) % 3];
            (OTHER_COLOURS[i % OTHER_COLOURS.len()], dash)
        }
    }
}

/// Each reference line gets its own dash so that two of them, both grey, can be told apart.
const TARGET_DASHES: [(u32, u32); 3] = [(6, 4), (2, 3), (14, 4)];

/// One legend entry: a line swatch (solid or dashed) or a filled box.
struct Key {
    label: String,
    colour: RGBColor,
    dash: Dash,
    filled: bool,
}

fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// Draws a polyline, dashed or not, in plot coordinates.
fn path<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    c: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    colour: RGBColor,
    dash: Dash,
    width: u32,
) -> Result<(), String> {
    let stroke = colour.stroke_width(width);
    match dash {
        None => c.draw_series(LineSeries::new(points.iter().copied(), stroke)).map_err(err)?,
        Some((d, g)) => c.draw_series(DashedLineSeries::new(points.iter().copied(), d, g, stroke)).map_err(err)?,
    };
    Ok(())
}

/// Lays the legend out in rows across `width`; returns each key's top-left corner and the height.
fn legend_layout<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, keys: &[Key], font: u32) -> (Vec<(i32, i32)>, u32) {
    let width = area.dim_in_pixel().0 as i32;
    let row = font as i32 + 8;
    let (mut x, mut y) = (12, 4);
    let mut at = Vec::with_capacity(keys.len());
    for k in keys {
        let style = TextStyle::from((FONT, font).into_font());
        let text_w = area.estimate_text_size(&k.label, &style).map(|(w, _)| w as i32).unwrap_or(0);
        let w = 26 + text_w + 18;
        if x + w > width - 8 && x > 12 {
            (x, y) = (12, y + row);
        }
        at.push((x, y));
        x += w;
    }
    (at, if keys.is_empty() { 0 } else { (y + row + 2) as u32 })
}

/// Draws the legend at the positions [`legend_layout`] chose.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    keys: &[Key],
    at: &[(i32, i32)],
    font: u32,
) -> Result<(), String> {
    let text = TextStyle::from((FONT, font).into_font()).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for (k, &(x, y)) in keys.iter().zip(at) {
        let mid = y + font as i32 / 2 + 2;
        if k.filled {
            area.draw(&Rectangle::new([(x, mid - 6), (x + 20, mid + 6)], k.colour.filled())).map_err(err)?;
        } else {
            let stroke = k.colour.stroke_width(3);
            let segments: Vec<(i32, i32)> = match k.dash {
                None => vec![(x, x + 22)],
                Some((d, g)) => (0..)
                    .map(|i| i * (d + g) as i32)
                    .take_while(|s| *s < 22)
                    .map(|s| (x + s, (x + s + d as i32).min(x + 22)))
                    .collect(),
            };
            for (a, b) in segments {
                area.draw(&PathElement::new([(a, mid), (b, mid)], stroke)).map_err(err)?;
            }
        }
        area.draw(&Text::new(k.label.clone(), (x + 26, mid), text.clone())).map_err(err)?;
    }
    Ok(())
}

/// Splits off a strip above the plot for the legend (drawn there) and returns the plot's area.
fn with_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    keys: &[Key],
) -> Result<DrawingArea<DB, Shift>, String> {
    let font = 13;
    let title_h: i32 = 24;
    let (title_area, rest) = root.split_vertically(title_h);
    title_area
        .draw(&Text::new(
            title.to_string(),
            (title_area.dim_in_pixel().0 as i32 / 2, title_h / 2 + 2),
            TextStyle::from((FONT, 16).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(err)?;
    let (at, h) = legend_layout(&rest, keys, font);
    let (legend, plot) = rest.split_vertically(h);
    draw_legend(&legend, keys, &at, font)?;
    Ok(plot)
}

fn target_keys(hlines: &[(String, f64)]) -> Vec<Key> {
    hlines
        .iter()
        .enumerate()
        .map(|(i, (label, y))| Key {
            label: format!("{label} = {}", tick(*y)),
            colour: TARGET,
            dash: Some(TARGET_DASHES[i % TARGET_DASHES.len()]),
            filled: false,
        })
        .collect()
}

/// Draws `chart` on any plotters backend (the canvas, or an SVG for download).
pub fn lines_on<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Lines) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let mut keys: Vec<Key> = chart
        .series
        .iter()
        .map(|l| {
            let (colour, dash) = style(l.role);
            Key { label: l.label.clone(), colour, dash, filled: false }
        })
        .collect();
    keys.extend(target_keys(&chart.hlines));
    let plot = with_legend(root, &chart.title, if keys.len() > 1 { &keys } else { &[] })?;
    // The cursor is inside the axis even where no line reaches it yet.
    let xs = chart.series.iter().flat_map(|l| l.points.iter().map(|(x, _)| *x)).chain(chart.cursor);
    let (mut x0, mut x1) = fit(xs);
    if chart.log_x {
        let xs = || chart.series.iter().flat_map(|l| l.points.iter().map(|(x, _)| *x));
        x0 = xs().filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
        x1 = xs().fold(0.0, f64::max);
        if !(x0.is_finite() && x1 > x0) {
            (x0, x1) = (0.01, 100.0);
        }
    }
    let ys = chart
        .series
        .iter()
        .flat_map(|l| l.points.iter().map(|(_, y)| *y).chain(l.band.iter().flat_map(|(_, lo, hi)| [*lo, *hi])))
        .chain(chart.hlines.iter().map(|(_, y)| *y));
    let (y0, y1) = fit(ys);
    let mut builder = ChartBuilder::on(&plot);
    builder.margin_right(16).margin_left(6).x_label_area_size(44).y_label_area_size(66);
    macro_rules! body {
        ($c:expr) => {{
            let mut c = $c;
            c.configure_mesh()
                .x_desc(chart.x_label.as_str())
                .y_desc(chart.y_label.as_str())
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .light_line_style(RGBColor(238, 238, 238))
                .draw()
                .map_err(err)?;
            for l in &chart.series {
                if l.band.len() > 1 {
                    let (colour, _) = style(l.role);
                    let outline: Vec<(f64, f64)> = l
                        .band
                        .iter()
                        .map(|(x, _, hi)| (*x, *hi))
                        .chain(l.band.iter().rev().map(|(x, lo, _)| (*x, *lo)))
                        .collect();
                    c.draw_series([Polygon::new(outline, colour.mix(0.18).filled())]).map_err(err)?;
                }
            }
            for (i, (_, y)) in chart.hlines.iter().enumerate() {
                path(&mut c, &[(x0, *y), (x1, *y)], TARGET, Some(TARGET_DASHES[i % TARGET_DASHES.len()]), 2)?;
            }
            for l in &chart.series {
                let (colour, dash) = style(l.role);
                path(&mut c, &l.points, colour, dash, 2)?;
            }
            if let Some(x) = chart.cursor {
                c.draw_series(LineSeries::new([(x, y0), (x, y1)], BLACK.mix(0.5))).map_err(err)?;
            }
        }};
    }
    if chart.log_x {
        body!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1).map_err(err)?);
    } else {
        body!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?);
    }
    Ok(())
}

/// Draws `chart` on any plotters backend; returns the category labels written (all of them, or every
/// k-th when they would overlap).
pub fn bars_on<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Bars) -> Result<Vec<String>, String> {
    root.fill(&WHITE).map_err(err)?;
    let mut keys: Vec<Key> = chart
        .series
        .iter()
        .map(|(label, role, _)| Key { label: label.clone(), colour: style(*role).0, dash: None, filled: true })
        .collect();
    keys.extend(target_keys(&chart.hlines));
    let plot = with_legend(root, &chart.title, if keys.len() > 1 { &keys } else { &[] })?;
    let n = chart.categories.len().max(1);
    let (y0, y1) = chart.y_range.unwrap_or_else(|| {
        let values = chart.series.iter().flat_map(|(_, _, v)| v.iter().copied());
        let (lo, hi) = fit(values.chain(chart.hlines.iter().map(|(_, y)| *y)));
        (lo.min(0.0), hi.max(0.0))
    });
    // Every category labelled at its centre, or every k-th when the labels would overlap.
    let width = plot.dim_in_pixel().0 as f64 - 80.0;
    let chars = chart.categories.iter().map(|c| c.chars().count()).max().unwrap_or(1);
    let stride = label_stride(chart.categories.len(), chars, width, 8.0);
    let mut c = ChartBuilder::on(&plot)
        .margin_right(16)
        .margin_left(6)
        .x_label_area_size(34)
        .y_label_area_size(66)
        .build_cartesian_2d(0.0..n as f64, y0..y1)
        .map_err(err)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_label_formatter(&|v| tick(*v))
        .y_desc(chart.y_label.as_str())
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(err)?;
    // Category labels at the bars' centres (plotters' own ticks fall on round numbers instead).
    let base = plot.get_base_pixel();
    let label_style = TextStyle::from((FONT, 13).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
    let mut written = Vec::new();
    for (i, category) in chart.categories.iter().enumerate().step_by(stride) {
        let (x, y) = c.backend_coord(&(i as f64 + 0.5, y0));
        plot.draw(&Text::new(category.clone(), (x - base.0, y - base.1 + 6), label_style.clone())).map_err(err)?;
        written.push(category.clone());
    }
    let groups = chart.series.len().max(1) as f64;
    for (s, (_, role, values)) in chart.series.iter().enumerate() {
        let colour = style(*role).0;
        c.draw_series(values.iter().enumerate().map(|(i, v)| {
            let left = i as f64 + 0.1 + 0.8 * s as f64 / groups;
            Rectangle::new([(left, 0.0f64.clamp(y0, y1)), (left + 0.8 / groups, *v)], colour.filled())
        }))
        .map_err(err)?;
    }
    for (i, (_, y)) in chart.hlines.iter().enumerate() {
        let (d, g) = TARGET_DASHES[i % TARGET_DASHES.len()];
        c.draw_series(DashedLineSeries::new([(0.0, *y), (n as f64, *y)], d, g, TARGET.stroke_width(2))).map_err(err)?;
    }
    Ok(written)
}

fn canvas_area(canvas: &HtmlCanvasElement) -> Result<DrawingArea<CanvasBackend, Shift>, String> {
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("the canvas has no 2D context")?;
    Ok(backend.into_drawing_area())
}

/// Draws `chart` on `canvas`.
pub fn draw_lines(canvas: &HtmlCanvasElement, chart: &Lines) -> Result<(), String> {
    let root = canvas_area(canvas)?;
    lines_on(&root, chart)?;
    root.present().map_err(|e| e.to_string())
}

/// Draws `chart` on `canvas`; returns the category labels written.
pub fn draw_bars(canvas: &HtmlCanvasElement, chart: &Bars) -> Result<Vec<String>, String> {
    let root = canvas_area(canvas)?;
    let written = bars_on(&root, chart)?;
    root.present().map_err(|e| e.to_string())?;
    Ok(written)
}

/// Drawing a [`Figure`]: on the page's canvas, or as an SVG for download.
pub trait Draw {
    /// Draws it on `canvas`; returns the category labels written under bars (none for lines).
    fn draw(&self, canvas: &HtmlCanvasElement) -> Result<Vec<String>, String>;
    /// The same chart as an SVG document of `width` × `height` pixels.
    fn svg(&self, width: u32, height: u32) -> Result<String, String>;
}

impl Draw for Figure {
    fn draw(&self, canvas: &HtmlCanvasElement) -> Result<Vec<String>, String> {
        match self {
            Figure::Lines(l) => draw_lines(canvas, l).map(|()| Vec::new()),
            Figure::Bars(b) => draw_bars(canvas, b),
        }
    }

    fn svg(&self, width: u32, height: u32) -> Result<String, String> {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
            match self {
                Figure::Lines(l) => lines_on(&root, l)?,
                Figure::Bars(b) => bars_on(&root, b).map(|_| ())?,
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(out)
    }
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
    let root = canvas_area(canvas)?;
    root.fill(&WHITE).map_err(err)?;
    let mut c = ChartBuilder::on(&root)
        .caption(title, (FONT, 16))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .disable_mesh()
        .draw()
        .map_err(err)?;
    let (nx, ny) = (120, 60);
    let (dx, dy) = ((x1 - x0) / nx as f64, (y1 - y0) / ny as f64);
    c.draw_series((0..nx).flat_map(|i| (0..ny).map(move |j| (i, j))).map(|(i, j)| {
        let (x, y) = (x0 + i as f64 * dx, y0 + j as f64 * dy);
        Rectangle::new([(x, y), (x + dx, y + dy)], colour_of(x + dx / 2.0, y + dy / 2.0).filled())
    }))
    .map_err(err)?;
    c.draw_series([Circle::new(point, 6, BLACK.filled())]).map_err(err)?;
    root.present().map_err(|e| e.to_string())
}
