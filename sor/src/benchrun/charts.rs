//! The benchmark's charts, drawn with plotters into SVG text: slippage by strategy,
//! latency per hop, and fill progress over simulated time.
//!
//! Text is written as SVG `<text>` elements (plotters' SVG backend without its `ttf`
//! feature lays text out with an estimate and lets the viewer's fonts draw it), so no
//! system font is needed to draw a chart.

use super::collect::Progress;
use super::latency::{ClockKind, Latency};
use super::stats::Dist;
use super::summary::VsArrival;
use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// A chart could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{chart}: {detail}")]
pub struct ChartError {
    /// Which chart.
    pub chart: &'static str,
    /// What plotters said.
    pub detail: String,
}

/// Title of the slippage chart.
pub const SLIPPAGE_TITLE: &str = "All-in slippage vs arrival mid by strategy (bps)";
/// Title of the latency chart.
pub const LATENCY_TITLE: &str = "Latency per hop (µs, log scale)";
/// Title of the fill progress chart.
pub const FILL_TITLE: &str = "Fill progress over simulated time";

const WIDTH: u32 = 1000;
const FONT: &str = "sans-serif";

const STRATEGY_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
];

const HOP_COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Width of the legend column at the right of the slippage and latency charts.
const LEGEND_W: u32 = 270;

/// A legend drawn in its own area (so it never hides data): one line per entry with
/// its colour, then notes in black.
fn side_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(String, RGBColor)],
    notes: &[String],
) -> Result<(), String> {
    let style = (FONT, 13).into_font().color(&BLACK);
    let mut y = 60;
    for (label, color) in entries {
        area.draw(&Rectangle::new(
            [(6, y - 6), (24, y + 6)],
            color.mix(0.85).filled(),
        ))
        .map_err(|e| e.to_string())?;
        area.draw(&Text::new(label.clone(), (32, y - 7), style.clone()))
            .map_err(|e| e.to_string())?;
        y += 22;
    }
    y += 10;
    for note in notes {
        for line in wrap(note, 38) {
            area.draw(&Text::new(line, (6, y - 7), style.clone()))
                .map_err(|e| e.to_string())?;
            y += 18;
        }
    }
    Ok(())
}

/// Splits `text` into lines of at most about `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn err<E: std::fmt::Display>(chart: &'static str) -> impl Fn(E) -> ChartError {
    move |e| ChartError {
        chart,
        detail: e.to_string(),
    }
}

fn f(v: Option<Decimal>) -> Option<f64> {
    v.and_then(|v| v.to_f64())
}

/// One group of the slippage chart: a scenario and algorithm, and its strategies.
#[derive(Debug, Clone)]
pub struct SlippageGroup {
    /// Label under the group, e.g. `corridor sweep`.
    pub label: String,
    /// Router, optimum and baselines.
    pub by_strategy: VsArrival,
}

/// Slippage by strategy: per group, for the router, the optimum and the two
/// baselines, a bar to the mean over seeds, a whisker from min to max and a dot at the
/// median.
pub fn slippage(groups: &[SlippageGroup], seeds: u32) -> Result<String, ChartError> {
    let e = err("slippage.svg");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH + LEGEND_W, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let (plot, legend_area) = root.split_horizontally(WIDTH);
        let names = [
            "router",
            "ex-post optimal",
            "best single venue",
            "pro rata to displayed size",
        ];
        let dists = |g: &SlippageGroup| -> [Dist; 4] {
            let v = &g.by_strategy;
            [
                v.router.clone(),
                v.optimal.clone(),
                v.best_single_venue.clone(),
                v.pro_rata.clone(),
            ]
        };
        let mut lo: f64 = 0.0;
        let mut hi: f64 = 0.0;
        for g in groups {
            for d in dists(g) {
                for v in [f(d.min), f(d.max), f(d.mean)].into_iter().flatten() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        let pad = ((hi - lo) * 0.12).max(0.5);
        let (lo, hi) = (lo - if lo < 0.0 { pad } else { 0.0 }, hi + pad);
        let n = groups.len().max(1);
        let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
        let mut chart = ChartBuilder::on(&plot)
            .caption(format!("{SLIPPAGE_TITLE}, {seeds} seeds"), (FONT, 18))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("bps (positive = a cost)")
            .label_style((FONT, 14))
            .draw()
            .map_err(&e)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                BLACK.mix(0.6),
            )))
            .map_err(&e)?;
        let width = 0.16;
        for (k, &color) in STRATEGY_COLORS.iter().enumerate() {
            let x_of = |g: usize| g as f64 + (k as f64 - 1.5) * 0.2;
            let bars: Vec<Rectangle<(f64, f64)>> = groups
                .iter()
                .enumerate()
                .filter_map(|(g, grp)| {
                    let mean = f(dists(grp)[k].mean)?;
                    let x = x_of(g);
                    Some(Rectangle::new(
                        [(x - width / 2.0, 0.0), (x + width / 2.0, mean)],
                        color.mix(0.75).filled(),
                    ))
                })
                .collect();
            chart.draw_series(bars).map_err(&e)?;
            for (g, grp) in groups.iter().enumerate() {
                let d = &dists(grp)[k];
                let x = x_of(g);
                if let (Some(min), Some(max)) = (f(d.min), f(d.max)) {
                    chart
                        .draw_series([
                            PathElement::new(vec![(x, min), (x, max)], BLACK.stroke_width(2)),
                            PathElement::new(
                                vec![(x - width / 4.0, min), (x + width / 4.0, min)],
                                BLACK.stroke_width(2),
                            ),
                            PathElement::new(
                                vec![(x - width / 4.0, max), (x + width / 4.0, max)],
                                BLACK.stroke_width(2),
                            ),
                        ])
                        .map_err(&e)?;
                }
                if let Some(p50) = f(d.p50) {
                    chart
                        .draw_series(std::iter::once(Circle::new((x, p50), 4, BLACK.filled())))
                        .map_err(&e)?;
                }
            }
        }
        let entries: Vec<(String, RGBColor)> = names
            .iter()
            .zip(STRATEGY_COLORS)
            .map(|(n, c)| ((*n).to_owned(), c))
            .collect();
        side_legend(
            &legend_area,
            &entries,
            &[
                "bar: mean over seeds; whisker: min to max; dot: median.".to_owned(),
                "Every strategy is priced on the quantity the router filled, all-in (fees and gas) against the arrival mid.".to_owned(),
            ],
        )
        .map_err(|detail| ChartError {
            chart: "slippage.svg",
            detail,
        })?;
        root.present().map_err(&e)?;
    }
    Ok(svg)
}

/// The percentile axis: `x = −log10(1 − q)`, so 0 is the minimum, 1 the p90, 2 the
/// p99, 3 the p99.9 and 4 the p99.99.
fn percentile_label(x: &f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-*x));
    if (x - x.round()).abs() > 1e-6 {
        return String::new();
    }
    match x.round() as i64 {
        0 => "min".to_owned(),
        1 => "p90".to_owned(),
        2 => "p99".to_owned(),
        3 => "p99.9".to_owned(),
        4 => "p99.99".to_owned(),
        _ => format!("{q:.4}%"),
    }
}

/// Points of the percentile plot of `h` in µs (never below 1 ns, for the log scale).
fn percentile_points(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    const STEPS: usize = 160;
    (0..=STEPS)
        .map(|i| {
            let x = 4.0 * i as f64 / STEPS as f64;
            let q = 1.0 - 10f64.powf(-x);
            let ns = h.value_at_quantile(q).max(1);
            (x, ns as f64 / 1e3)
        })
        .collect()
}

fn latency_panel(
    whole: &DrawingArea<SVGBackend<'_>, Shift>,
    scenario: &str,
    lat: &Latency,
    e: &impl Fn(String) -> ChartError,
) -> Result<(), ChartError> {
    let drawn: Vec<_> = lat
        .hops
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.hist.is_empty() && h.hist.max() > 0)
        .collect();
    let zero: Vec<&str> = lat
        .hops
        .iter()
        .filter(|h| !h.hist.is_empty() && h.hist.max() == 0)
        .map(|h| h.hop.name)
        .collect();
    let mut lo = f64::MAX;
    let mut hi: f64 = 1.0;
    for (_, h) in &drawn {
        lo = lo.min(h.hist.min().max(1) as f64 / 1e3);
        hi = hi.max(h.hist.max() as f64 / 1e3);
    }
    if lo == f64::MAX {
        lo = 0.01;
    }
    let (lo, hi) = (lo / 3.0, hi * 3.0);
    let (area, legend_area) = whole.split_horizontally(WIDTH);
    let mut chart = ChartBuilder::on(&area)
        .caption(
            format!("{scenario}: {LATENCY_TITLE}, by percentile"),
            (FONT, 18),
        )
        .margin(15)
        .margin_right(40)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..4f64, (lo..hi).log_scale())
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_labels(5)
        .x_label_formatter(&percentile_label)
        .y_label_formatter(&|v| {
            if *v >= 1.0 {
                format!("{v:.0}")
            } else {
                format!("{v}")
            }
        })
        .y_desc("µs")
        .x_desc("percentile")
        .label_style((FONT, 14))
        .draw()
        .map_err(|x| e(x.to_string()))?;
    let mut entries = Vec::new();
    for (i, h) in drawn {
        let color = HOP_COLORS[i % HOP_COLORS.len()];
        let clock = match h.hop.clock {
            ClockKind::Wall => "wall",
            ClockKind::Simulated => "simulated",
        };
        // Simulated hops are steps that often coincide: earlier ones drawn wider, so a
        // line on top of another leaves it visible.
        let width = match h.hop.clock {
            ClockKind::Wall => 2,
            ClockKind::Simulated => 2 + 2 * (HOP_COLORS.len() - 1 - i) as u32,
        };
        chart
            .draw_series(LineSeries::new(
                percentile_points(&h.hist),
                color.stroke_width(width),
            ))
            .map_err(|x| e(x.to_string()))?;
        entries.push((
            format!("{} ({clock}, n={})", h.hop.name, h.hist.len()),
            color,
        ));
    }
    let mut notes =
        vec!["wall: this machine's clock; simulated: the scenario's venue model.".to_owned()];
    if !zero.is_empty() {
        notes.push(format!(
            "0 in every sample (not drawn on the log scale): {}.",
            zero.join(", ")
        ));
    }
    side_legend(&legend_area, &entries, &notes).map_err(e)?;
    Ok(())
}

/// Latency per hop: a percentile plot per scenario, µs on a log scale.
pub fn latency(scenarios: &[(String, &Latency)]) -> Result<String, ChartError> {
    let e = err("latency.svg");
    let panel = 460u32;
    let n = scenarios.len().max(1);
    let mut svg = String::new();
    {
        let height = u32::try_from(n).unwrap_or(1).saturating_mul(panel);
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH + LEGEND_W, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let panels = root.split_evenly((n, 1));
        for (area, (name, lat)) in panels.iter().zip(scenarios) {
            let detail = |d: String| ChartError {
                chart: "latency.svg",
                detail: d,
            };
            latency_panel(area, name, lat, &detail)?;
        }
        root.present().map_err(&e)?;
    }
    Ok(svg)
}

/// One panel of the fill progress chart.
#[derive(Debug, Clone)]
pub struct FillPanel {
    /// e.g. `corridor sweep, seed 7`.
    pub label: String,
    /// The representative seed's parents.
    pub progress: Vec<Progress>,
}

/// Fill progress: per scenario and algorithm, the cumulative filled fraction of the
/// representative seed's parents against simulated seconds since their arrival.
pub fn fill_progress(panels: &[FillPanel]) -> Result<String, ChartError> {
    let e = err("fill_progress.svg");
    let panel_h = 320u32;
    let n = panels.len().max(1);
    let mut svg = String::new();
    {
        let height = u32::try_from(n).unwrap_or(1).saturating_mul(panel_h);
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        for (area, p) in root.split_evenly((n, 1)).iter().zip(panels) {
            let t_max = p
                .progress
                .iter()
                .flat_map(|pr| pr.points.iter().map(|(t, _)| *t))
                .fold(0.0f64, f64::max);
            // Minutes for a parent longer than ten minutes (a TWAP), else seconds.
            let (unit, per) = if t_max > 600.0 {
                ("simulated minutes since arrival", 60.0)
            } else {
                ("simulated seconds since arrival", 1.0)
            };
            let t_max = if t_max > 0.0 { t_max / per * 1.05 } else { 1.0 };
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{FILL_TITLE}: {}", p.label), (FONT, 18))
                .margin(15)
                .x_label_area_size(35)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..t_max, 0f64..1.05f64)
                .map_err(&e)?;
            chart
                .configure_mesh()
                .x_desc(unit)
                .x_label_formatter(&|v| {
                    let r = format!("{v:.2}");
                    r.trim_end_matches('0').trim_end_matches('.').to_owned()
                })
                .y_desc("filled fraction")
                .label_style((FONT, 14))
                .draw()
                .map_err(&e)?;
            for (i, pr) in p.progress.iter().enumerate() {
                let color = STRATEGY_COLORS[i % STRATEGY_COLORS.len()];
                // A step line: the fraction holds until the next report.
                let mut steps = Vec::with_capacity(pr.points.len() * 2 + 1);
                let mut last = 0.0;
                for &(t, frac) in &pr.points {
                    let t = t / per;
                    steps.push((t, last));
                    steps.push((t, frac));
                    last = frac;
                }
                steps.push((t_max, last));
                chart
                    .draw_series(LineSeries::new(steps, color.stroke_width(2)))
                    .map_err(&e)?
                    .label(pr.parent.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font((FONT, 13))
                .draw()
                .map_err(&e)?;
        }
        root.present().map_err(&e)?;
    }
    Ok(svg)
}
