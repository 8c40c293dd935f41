//! `era compare --plot DIR`: learning curves as SVG pictures, one per task and metric: each setting's
//! mean over its seeds as a line and the seeds' range (min to max) as a band, ERA in blue, baselines
//! in vermillion (the Okabe–Ito palette, which colour-blind readers can tell apart), further settings
//! in the palette's other colours and with dashed lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use era_shared::labels::tick;
use plotters::prelude::*;

use super::Group;

/// ERA settings' colours, in order: blue, bluish green, reddish purple.
const ERA_COLOURS: [RGBColor; 3] = [RGBColor(0, 114, 178), RGBColor(0, 158, 115), RGBColor(204, 121, 167)];
/// Baselines' colours, in order: vermillion, orange, black.
const BASE_COLOURS: [RGBColor; 3] = [RGBColor(213, 94, 0), RGBColor(230, 159, 0), RGBColor(0, 0, 0)];

/// One setting's curve: the mean over its runs with their range ([`era_shared::stats::seed_band`],
/// as the explorer's replay draws it).
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The setting's label.
    pub label: String,
    /// Whether ERA is on.
    pub era: bool,
    /// `(step, mean, min, max)`, by step.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// The curve of `metric` of a group's runs, at every step of its sparsest run that logged it.
pub fn curve(g: &Group<'_>, metric: &str) -> Curve {
    let columns: Vec<Vec<(f64, f64)>> = g
        .runs
        .iter()
        .map(|run| {
            run.series(metric)
                .into_iter()
                .filter_map(|(step, v)| v.filter(|v| v.is_finite()).map(|v| (step as f64, v)))
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty())
        .collect();
    let columns: Vec<&[(f64, f64)]> = columns.iter().map(Vec::as_slice).collect();
    let points = era_shared::stats::seed_band(&columns, usize::MAX);
    Curve { label: g.label.clone(), era: g.runs.first().is_some_and(|r| r.header.era.enabled), points }
}

/// Writes one SVG per task for each of `metrics` into `dir`; returns the files written.
pub fn write(groups: &[Group<'_>], metrics: &[&str], dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the plot folder", dir.display()))?;
    let mut by_task: BTreeMap<String, Vec<&Group<'_>>> = BTreeMap::new();
    for g in groups {
        if let Some(h) = g.runs.first().map(|r| &r.header) {
            by_task.entry(h.task()).or_default().push(g);
        }
    }
    let mut written = Vec::new();
    for (task, groups) in by_task {
        for metric in metrics {
            let curves: Vec<Curve> = groups.iter().map(|g| curve(g, metric)).filter(|c| !c.points.is_empty()).collect();
            if curves.is_empty() {
                continue;
            }
            let name = format!("{task}-{}.svg", metric.replace(['/', '@'], "_"));
            let path = dir.join(name.replace(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)), "_"));
            let steps = groups.iter().find_map(|g| g.runs.first()).map_or("step", |r| r.header.step_unit.axis_label());
            let unit = era_shared::metrics::lookup(metric).map_or(*metric, |m| m.unit);
            draw(&path, &format!("{task}: {metric}"), (steps, unit), &curves)
                .with_context(|| format!("{}: cannot draw the plot", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

fn draw(path: &Path, title: &str, (x_title, y_title): (&str, &str), curves: &[Curve]) -> anyhow::Result<()> {
    let err = |e: DrawingAreaErrorKind<std::io::Error>| anyhow!("{e}");
    let all = curves.iter().flat_map(|c| &c.points);
    let (x0, x1, y0, y1) = all.fold((f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY), |a, p| {
        (a.0.min(p.0), a.1.max(p.0), a.2.min(p.2), a.3.max(p.3))
    });
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1.max(x0 + 1.0), (y0 - pad)..(y1 + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_title)
        .y_desc(y_title)
        .x_label_formatter(&|x| tick(*x))
        .y_label_formatter(&|y| tick(*y))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let (mut n_era, mut n_base) = (0, 0);
    for c in curves {
        let (colour, nth) = if c.era {
            n_era += 1;
            (ERA_COLOURS[(n_era - 1) % ERA_COLOURS.len()], n_era)
        } else {
            n_base += 1;
            (BASE_COLOURS[(n_base - 1) % BASE_COLOURS.len()], n_base)
        };
        let band: Vec<(f64, f64)> =
            c.points.iter().map(|p| (p.0, p.3)).chain(c.points.iter().rev().map(|p| (p.0, p.2))).collect();
        chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.18)))).map_err(err)?;
        let line: Vec<(f64, f64)> = c.points.iter().map(|p| (p.0, p.1)).collect();
        let style = colour.stroke_width(2);
        // A second setting of the same kind is dashed, so it differs by more than its colour.
        let series = if nth > 1 {
            chart.draw_series(DashedLineSeries::new(line, 8, 5, style)).map_err(err)?
        } else {
            chart.draw_series(LineSeries::new(line, style)).map_err(err)?
        };
        series.label(&c.label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
