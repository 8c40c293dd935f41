//! What a chart shows, apart from how it is drawn: lines (with bands) and grouped bars, the role of
//! each series (which fixes its colour and style on the page), and the chart's data as CSV for
//! download. `main.rs`'s `chart` draws these with plotters on a canvas or into an SVG.

/// What a series stands for; it fixes the series' colour and line style in every view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// With ERA.
    Era,
    /// The baseline ERA is compared with (no ERA, a plain clip, a plain softmax).
    Baseline,
    /// Anything else, numbered in the chart.
    Other(usize),
}

/// One line of a [`Lines`] chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The legend's text.
    pub label: String,
    /// `(x, y)` points in x order.
    pub points: Vec<(f64, f64)>,
    /// What it stands for (its colour and style).
    pub role: Role,
    /// A shaded band `(x, low, high)` around it, e.g. the spread over seeds.
    pub band: Vec<(f64, f64, f64)>,
}

impl Line {
    /// A line without a band.
    pub fn new(label: impl Into<String>, role: Role, points: Vec<(f64, f64)>) -> Self {
        Self { label: label.into(), points, role, band: Vec::new() }
    }
}

/// A line chart.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    /// Title above the plot.
    pub title: String,
    /// The x axis' title, with its unit.
    pub x_label: String,
    /// The y axis' title, with its unit.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Line>,
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
    /// The y axis' title, with its unit.
    pub y_label: String,
    /// Category labels along x.
    pub categories: Vec<String>,
    /// `(label, role, one value per category)` per series.
    pub series: Vec<(String, Role, Vec<f64>)>,
    /// Dashed horizontal reference lines `(label, y)`.
    pub hlines: Vec<(String, f64)>,
    /// Fixed y range, else fitted to the values.
    pub y_range: Option<(f64, f64)>,
}

/// A chart that can be drawn anywhere: what the page shows and what its downloads hold.
#[derive(Debug, Clone)]
pub enum Figure {
    /// Lines.
    Lines(Lines),
    /// Bars.
    Bars(Bars),
}

impl Figure {
    /// Its data as CSV: for lines, `series,x,y` rows; for bars, one row per category and a column
    /// per series. Reference lines follow as `reference,label,value` rows.
    pub fn csv(&self) -> String {
        let q = |s: &str| {
            if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
        };
        let mut out = String::new();
        let hlines = match self {
            Figure::Lines(l) => {
                out.push_str(&format!("series,{},{}\n", q(&l.x_label), q(&l.y_label)));
                for line in &l.series {
                    for (x, y) in &line.points {
                        out.push_str(&format!("{},{x},{y}\n", q(&line.label)));
                    }
                }
                &l.hlines
            }
            Figure::Bars(b) => {
                out.push_str("category");
                for (label, _, _) in &b.series {
                    out.push_str(&format!(",{}", q(label)));
                }
                out.push('\n');
                for (i, cat) in b.categories.iter().enumerate() {
                    out.push_str(&q(cat));
                    for (_, _, values) in &b.series {
                        out.push_str(&format!(",{}", values.get(i).map(|v| v.to_string()).unwrap_or_default()));
                    }
                    out.push('\n');
                }
                &b.hlines
            }
        };
        for (label, y) in hlines {
            out.push_str(&format!("reference,{},{y}\n", q(label)));
        }
        out
    }
}

/// `(lo, hi)` of the values, padded by 5 % and widened when (nearly) flat: the span is at least a
/// fifth of the values' order of magnitude (±1 around zero), so that ticks written to three
/// significant digits come out distinct (`1.2k, 1.25k, 1.3k`, never `1.25k, 1.25k, 1.25k`).
pub fn fit(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let size = lo.abs().max(hi.abs());
    let magnitude = if size > 0.0 { 10f64.powf(size.log10().floor()) } else { 10.0 };
    let (span, least) = (hi - lo, 0.2 * magnitude);
    let pad = if span >= least { 0.05 * span } else { (least - span) / 2.0 };
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use era_shared::labels::tick;
    use plotters::coord::ranged1d::Ranged;
    use plotters::coord::types::RangedCoordf64;

    /// The tick labels plotters writes on an axis fitted to `values` (its meshes ask for 10).
    fn ticks(values: &[f64]) -> Vec<String> {
        let (lo, hi) = fit(values.iter().copied());
        RangedCoordf64::from(lo..hi).key_points(10usize).into_iter().map(tick).collect()
    }

    #[test]
    fn a_single_point_or_a_flat_line_still_gets_distinct_ticks() {
        // The training view before its first update: one step, one entropy value.
        for values in
            [&[1250.0][..], &[1249.0, 1251.0], &[0.25], &[0.25, 0.2500001], &[0.0], &[-3.0], &[1.5e6], &[7e-4]]
        {
            let t = ticks(values);
            let mut unique = t.clone();
            unique.dedup();
            assert!(t.len() >= 3, "{values:?}: too few ticks {t:?}");
            assert_eq!(unique, t, "{values:?}: repeated tick labels");
        }
        assert_eq!(fit([1250.0].into_iter()), (1150.0, 1350.0));
        assert_eq!(fit([0.0, 0.0].into_iter()), (-1.0, 1.0));
        assert_eq!(fit([0.0, 10.0].into_iter()), (-0.5, 10.5));
        assert_eq!(fit(std::iter::empty()), (0.0, 1.0));
    }

    #[test]
    fn csv_golden() {
        let lines = Figure::Lines(Lines {
            title: "t".into(),
            x_label: "step".into(),
            y_label: "nats".into(),
            series: vec![Line::new("ERA, seed 0", Role::Era, vec![(1.0, 0.5), (2.0, 0.25)])],
            hlines: vec![("H₀".into(), 0.6)],
            ..Lines::default()
        });
        assert_eq!(lines.csv(), "series,step,nats\n\"ERA, seed 0\",1,0.5\n\"ERA, seed 0\",2,0.25\nreference,H₀,0.6\n");
        let bars = Figure::Bars(Bars {
            categories: vec!["a1".into(), "a2".into()],
            series: vec![
                ("ERA σ′".into(), Role::Era, vec![1.0, 2.0]),
                ("clip \"σ\"".into(), Role::Baseline, vec![3.0]),
            ],
            ..Bars::default()
        });
        assert_eq!(bars.csv(), "category,ERA σ′,\"clip \"\"σ\"\"\"\na1,1,3\na2,2,\n");
    }
}
