//! Daily line charts as inline SVG, drawn with `plotters` (SVG backend, no font files: text is left
//! to the browser). Days without a report are grey bands and break the lines, so a gap is never
//! drawn as a value.
//!
//! Sized for print: the page prints on A4 with 12 mm margins, 186 mm (703 CSS px) of width, where
//! an 800-unit-wide chart is drawn at 0.88 of its size, so its 15-unit text prints at 13.2 px,
//! 9.9 pt; the end-to-end test measures this in Chromium's print layout and requires 8 pt.

use chrono::NaiveDate;
use maud::html;
use plotters::prelude::*;

use super::rows::Series;
use crate::error::RenderError;

fn chart_error<E: std::fmt::Display>(e: E) -> RenderError {
    RenderError::Chart(e.to_string())
}

/// Colours that stay distinct in print and for common colour-vision deficiencies (Okabe–Ito).
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// Width and height of a chart in SVG units (CSS pixels at 100 %).
pub const CHART_SIZE: (u32, u32) = (800, 320);

/// Text size of labels and legend, in SVG units.
pub const LABEL_SIZE: f64 = 15.0;

/// The size to ask `plotters` for: its SVG backend writes `font-size` as the size given / 1.24.
const PLOTTERS_FONT: f64 = LABEL_SIZE * 1.24;

/// Draws `series` over `dates`; `gaps[i]` marks a day without a report. Returns one `<svg>` element
/// with `role="img"` and a `<title>`.
pub fn daily_chart(
    id: &str,
    title: &str,
    dates: &[NaiveDate],
    gaps: &[bool],
    series: &[Series<'_>],
) -> Result<String, RenderError> {
    // Day i spans x = 2i..2i+2 and its value is drawn at its middle, 2i+1, so a grey gap band
    // covers exactly the missing day and the lines stop at the neighbouring days' centres.
    let n = 2 * dates.len().max(1) as i32;
    let y_max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    // Headroom above the highest value keeps the legend (upper left) clear of the lines.
    let y_top = y_max.saturating_add(y_max / 5 * 2).saturating_add(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(0..n, 0..y_top)
            .map_err(chart_error)?;
        let label = |x: &i32| {
            dates
                .get((*x / 2) as usize)
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&label)
            .label_style(("sans-serif", PLOTTERS_FONT))
            .axis_desc_style(("sans-serif", PLOTTERS_FONT))
            .y_desc("non-compliant")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(chart_error)?;
        let grey = RGBColor(200, 200, 200).mix(0.7).filled();
        let bands = runs(gaps, true);
        chart
            .draw_series(bands.iter().map(|&(a, b)| {
                Rectangle::new([(2 * a as i32, 0), (2 * b as i32 + 2, y_top)], grey)
            }))
            .map_err(chart_error)?;
        for (i, s) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut labelled = false;
            for (a, b) in runs(gaps, false) {
                let points: Vec<(i32, u64)> = (a..=b)
                    .map(|d| (2 * d as i32 + 1, s.values.get(d).copied().unwrap_or(0)))
                    .collect();
                // A single reported day between gaps is a point, not a line: draw a dot.
                let drawn = if points.len() == 1 {
                    chart
                        .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                        .map_err(chart_error)?
                } else {
                    chart
                        .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                        .map_err(chart_error)?
                };
                if !labelled {
                    drawn.label(s.name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(3))
                    });
                    labelled = true;
                }
            }
        }
        if series.iter().any(|s| !s.name.is_empty()) && gaps.iter().any(|g| !g) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(("sans-serif", PLOTTERS_FONT))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(accessible(svg, id, title))
}

/// Contiguous runs of days whose gap flag equals `gap`, as inclusive index ranges.
fn runs(gaps: &[bool], gap: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &g) in gaps.iter().enumerate() {
        match (g == gap, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, gaps.len() - 1));
    }
    out
}

/// Inline SVG in HTML needs no namespace declaration; dropping it keeps the page free of URLs.
/// Adds the role and title that screen readers and the page's print layout rely on.
fn accessible(svg: String, id: &str, title: &str) -> String {
    let svg = svg
        .replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "");
    let title = html! { title id={ (id) "-title" } { (title) } };
    match svg.find('>') {
        Some(end) if svg.starts_with("<svg") => format!(
            "<svg role=\"img\" aria-labelledby=\"{id}-title\" class=\"chart\"{}>{}{}",
            &svg[4..end],
            title.into_string(),
            &svg[end + 1..]
        ),
        _ => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_gaps_and_reports() {
        let g = [false, false, true, true, false, true];
        assert_eq!(runs(&g, true), vec![(2, 3), (5, 5)]);
        assert_eq!(runs(&g, false), vec![(0, 1), (4, 4)]);
        assert_eq!(runs(&[], false), vec![]);
    }
}
