//! Charts drawn by plotters, as SVG (text) or PNG (bytes): pure functions from a definition and
//! its series to an image, sharing one drawing routine so the two formats show the same chart.
//!
//! Text is measured (and, in PNGs, drawn) with DejaVu Sans, embedded in the binary
//! (`fonts/DejaVuSans.ttf`, under its own free licence), so a chart looks the same on any server
//! without system fonts.
//!
//! Rendering never touches the database (an architecture rule): [`render_svg`] takes exactly
//! the points the chart's CSV and JSON links return, so what is drawn and what is published
//! cannot drift apart, and the renderer is tested without a database. The SVG scales to any
//! width through its `viewBox` (phones get the same chart, smaller), and carries the number of
//! plotted points in `data-points` so tests and scripts can check it.

use crate::charts::{ChartDef, ChartKind};
use crate::series::{is_share, Series, SeriesMetric};
use chrono::NaiveDate;
use fedicensus_storage::Annotation;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The drawing size in SVG user units; the `viewBox` makes it scale to the page.
pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 440;

const FONT: &str = "sans-serif";
/// The legend band above the plot: left margin, swatch width and row height.
const LEGEND_MARGIN: i32 = 12;
const LEGEND_SWATCH: i32 = 14;
const LEGEND_ROW: i32 = 22;
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// Registers the embedded font as plotters' `sans-serif` (once; every drawing calls this).
fn register_fonts() -> Result<(), String> {
    static REGISTERED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "the embedded font could not be read".to_owned())
        })
        .clone()
}
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x6f, 0xb4),
    RGBColor(0xd9, 0x5f, 0x02),
    RGBColor(0x1b, 0x9e, 0x77),
    RGBColor(0x75, 0x70, 0xb3),
    RGBColor(0xe7, 0x29, 0x8a),
    RGBColor(0x66, 0xa6, 0x1e),
    RGBColor(0xa6, 0x76, 0x1d),
    RGBColor(0x66, 0x66, 0x66),
];

/// The colour of the `index`th series (the page's legend uses the same).
pub fn color_hex(index: usize) -> String {
    let RGBColor(r, g, b) = PALETTE[index % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// `1234567.0` as `1,234,567`; small non-integers keep one decimal.
pub fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    if value.abs() < 100.0 && value.fract().abs() > 1e-9 {
        return format!("{value:.1}");
    }
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if rounded < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A value as shown on an axis or in a table for `metric`.
pub fn format_value(metric: SeriesMetric, value: f64) -> String {
    if is_share(metric) {
        format!("{:.1} %", value * 100.0)
    } else {
        thousands(value)
    }
}

/// Escapes text for XML (SVG) content and attributes.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

/// Draws `series` as `chart` says, with `annotations` as dated vertical markers (when the chart
/// wants them). Pure: no I/O. A drawing failure gives an SVG that says so, rather than no chart.
pub fn render_svg(chart: &ChartDef, series: &[Series], annotations: &[Annotation]) -> String {
    let mut body = String::new();
    let drawn = register_fonts().and_then(|()| {
        let root = SVGBackend::with_string(&mut body, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart, series, annotations)
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    });
    let points: usize = series
        .iter()
        .map(|s| s.points.iter().filter(|p| p.value.is_some()).count())
        .sum();
    match drawn {
        Ok(()) => finish(body, chart, points),
        Err(problem) => fallback(chart, &problem),
    }
}

/// Makes plotters' fixed-size SVG scale to its container and names it for screen readers.
fn finish(body: String, chart: &ChartDef, points: usize) -> String {
    let fixed = format!("<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" ");
    let scalable = format!(
        "<svg width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" \
         aria-label=\"{}\" data-points=\"{points}\" ",
        escape_xml(&chart.title)
    );
    let mut svg = body.replacen(&fixed, &scalable, 1);
    if let Some(end) = svg.find(">\n") {
        svg.insert_str(
            end + 2,
            &format!("<title>{}</title>\n", escape_xml(&chart.title)),
        );
    }
    svg
}

/// The same chart as [`render_svg`], as a PNG of [`WIDTH`] × [`HEIGHT`] pixels. Errors say what
/// failed (drawing or encoding); they are our own failures, not the visitor's.
pub fn render_png(
    chart: &ChartDef,
    series: &[Series],
    annotations: &[Annotation],
) -> Result<Vec<u8>, String> {
    register_fonts()?;
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart, series, annotations)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder
            .write_header()
            .map_err(|e| format!("encoding the PNG: {e}"))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| format!("encoding the PNG: {e}"))?;
        writer
            .finish()
            .map_err(|e| format!("encoding the PNG: {e}"))?;
    }
    Ok(out)
}

fn fallback(chart: &ChartDef, problem: &str) -> String {
    format!(
        "<svg width=\"100%\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\" \
         role=\"img\" data-points=\"0\"><title>{}</title><text x=\"20\" y=\"40\">\
         This chart could not be drawn: {}</text></svg>",
        escape_xml(&chart.title),
        escape_xml(problem)
    )
}

fn day_number(from: NaiveDate, date: NaiveDate) -> f64 {
    (date - from).num_days() as f64
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartDef,
    series: &[Series],
    annotations: &[Annotation],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let dates = series.iter().flat_map(|s| s.points.iter().map(|p| p.date));
    let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
        root.draw(&Text::new(
            "No data for this range yet.",
            (WIDTH as i32 / 2, HEIGHT as i32 / 2),
            (FONT, 22)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(err)?;
        return Ok(());
    };
    let granularity = series.first().map(|s| s.granularity);
    let period_end = granularity.map(|g| g.next(last)).unwrap_or(last);
    let x_max = match chart.kind {
        ChartKind::Bars => day_number(first, period_end),
        _ => day_number(first, last).max(1.0),
    };
    let metric = chart.metrics[0];
    let stacked: Vec<Vec<f64>> = if chart.kind == ChartKind::StackedArea {
        let mut acc = vec![0.0; series.first().map(|s| s.points.len()).unwrap_or(0)];
        series
            .iter()
            .map(|s| {
                for (slot, p) in acc.iter_mut().zip(&s.points) {
                    *slot += p.value.unwrap_or(0.0);
                }
                acc.clone()
            })
            .collect()
    } else {
        Vec::new()
    };
    let y_top = if let Some(top) = stacked.last() {
        top.iter().copied().fold(0.0, f64::max)
    } else {
        series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.value))
            .fold(0.0, f64::max)
    };
    let y_max = if is_share(metric) {
        (y_top * 1.1).clamp(0.05, 1.0)
    } else {
        (y_top * 1.12).max(1.0)
    };

    // The legend gets a band of its own above the plot, so it never hides a line or a marker.
    let legend_font = (FONT, 16).into_font().color(&BLACK);
    let mut items: Vec<(i32, i32, usize)> = Vec::new();
    let (mut x, mut row) = (LEGEND_MARGIN, 0);
    for (i, s) in series.iter().enumerate() {
        let (text_w, _) = root
            .estimate_text_size(&s.name, &legend_font)
            .map_err(err)?;
        let item = LEGEND_SWATCH + 6 + text_w as i32 + 18;
        if x + item > WIDTH as i32 - LEGEND_MARGIN && x > LEGEND_MARGIN {
            row += 1;
            x = LEGEND_MARGIN;
        }
        items.push((x, row, i));
        x += item;
    }
    let legend_height = (row + 1) * LEGEND_ROW + 8;
    let (legend_area, plot_area) = root.split_vertically(legend_height as u32);
    for (x, row, i) in items {
        let color = PALETTE[i % PALETTE.len()];
        let y = 8 + row * LEGEND_ROW + LEGEND_ROW / 2;
        legend_area
            .draw(&Rectangle::new(
                [(x, y - 5), (x + LEGEND_SWATCH, y + 5)],
                color.filled(),
            ))
            .map_err(err)?;
        legend_area
            .draw(&Text::new(
                series[i].name.clone(),
                (x + LEGEND_SWATCH + 6, y),
                legend_font.pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
    }
    let root = &plot_area;

    let x_fmt = |x: &f64| {
        (first + chrono::Duration::days(x.round() as i64))
            .format("%Y-%m-%d")
            .to_string()
    };
    let y_fmt = |y: &f64| format_value(metric, *y);
    let mut ctx = ChartBuilder::on(root)
        .margin_top(14)
        .margin_right(24)
        .margin_left(8)
        .x_label_area_size(40)
        .y_label_area_size(if is_share(metric) { 64 } else { 92 })
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(err)?;
    ctx.configure_mesh()
        .x_labels(4)
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FONT, 16).into_font().color(&BLACK))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .disable_x_mesh()
        .draw()
        .map_err(err)?;

    let count = series.len().max(1) as f64;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        match chart.kind {
            ChartKind::Line => {
                // A period with no value breaks the line rather than dropping to zero.
                let mut segment: Vec<(f64, f64)> = Vec::new();
                let mut segments = Vec::new();
                for p in &s.points {
                    match p.value {
                        Some(v) => segment.push((day_number(first, p.date), v)),
                        None if !segment.is_empty() => segments.push(std::mem::take(&mut segment)),
                        None => {}
                    }
                }
                segments.push(segment);
                for seg in segments {
                    ctx.draw_series(LineSeries::new(seg, color.stroke_width(3)))
                        .map_err(err)?;
                }
                ctx.draw_series(s.points.iter().filter_map(|p| {
                    p.value
                        .map(|v| Circle::new((day_number(first, p.date), v), 3, color.filled()))
                }))
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
            }
            ChartKind::Bars => {
                ctx.draw_series(s.points.iter().filter_map(|p| {
                    let v = p.value?;
                    let start = day_number(first, p.date);
                    let width = granularity
                        .map(|g| day_number(p.date, g.next(p.date)))
                        .unwrap_or(1.0);
                    let slot = width * 0.8 / count;
                    let x0 = start + width * 0.1 + slot * i as f64;
                    Some(Rectangle::new([(x0, 0.0), (x0 + slot, v)], color.filled()))
                }))
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
            }
            ChartKind::StackedArea => {
                let top: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .zip(&stacked[i])
                    .map(|(p, v)| (day_number(first, p.date), *v))
                    .collect();
                let below: Vec<f64> = if i == 0 {
                    vec![0.0; top.len()]
                } else {
                    stacked[i - 1].clone()
                };
                let mut polygon = top.clone();
                polygon.extend(top.iter().zip(&below).rev().map(|((x, _), b)| (*x, *b)));
                ctx.draw_series(std::iter::once(Polygon::new(
                    polygon,
                    color.mix(0.75).filled(),
                )))
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
                ctx.draw_series(
                    s.points
                        .iter()
                        .zip(&stacked[i])
                        .filter(|(p, _)| p.value.is_some())
                        .map(|(p, v)| {
                            Circle::new((day_number(first, p.date), *v), 2, color.filled())
                        }),
                )
                .map_err(err)?;
            }
        }
    }

    if chart.annotations {
        let marker = RGBColor(0x99, 0x1b, 0x1b);
        for a in annotations
            .iter()
            .filter(|a| a.date >= first && a.date <= last)
        {
            let x = day_number(first, a.date);
            ctx.draw_series(DashedLineSeries::new(
                [(x, 0.0), (x, y_max)],
                6,
                4,
                marker.stroke_width(2),
            ))
            .map_err(err)?;
            let label = format!("{} {}", a.date.format("%Y-%m-%d"), a.title);
            let style = (FONT, 15)
                .into_font()
                .transform(FontTransform::Rotate90)
                .color(&marker);
            // Beside its dashed line rather than over it (rotated text extends left of its
            // anchor by its height, hence the offset).
            ctx.draw_series(std::iter::once(
                EmptyElement::at((x, y_max)) + Text::new(label, (19, 4), style),
            ))
            .map_err(err)?;
        }
    }

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::ChartDef;
    use crate::series::{Granularity, Point};
    use fedicensus_storage::AnnotationKind;

    fn chart(kind: &str, metrics: &str) -> ChartDef {
        ChartDef::parse(
            "t.toml",
            &format!(
                "title = \"A <b>chart</b> & co\"\ndescription = \"d\"\nmetrics = [{metrics}]\nkind = \"{kind}\"\npage = \"overview\"\n"
            ),
        )
        .expect("a valid test chart")
    }

    fn series(name: &str, values: &[Option<f64>]) -> Series {
        let start = NaiveDate::from_ymd_opt(2022, 10, 3).expect("a date");
        Series {
            name: name.into(),
            metric: SeriesMetric::ServersKnown,
            granularity: Granularity::Week,
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| Point {
                    date: start + chrono::Duration::weeks(i as i64),
                    value: *v,
                    servers_reporting: 10,
                })
                .collect(),
        }
    }

    fn takeover(title: &str) -> Annotation {
        Annotation {
            date: NaiveDate::from_ymd_opt(2022, 10, 27).expect("a date"),
            title: title.into(),
            description: String::new(),
            kind: AnnotationKind::BuiltIn,
            source_url: None,
        }
    }

    #[test]
    fn thousands_get_separators_and_negatives_keep_their_sign() {
        assert_eq!(thousands(8_400.0), "8,400");
        assert_eq!(thousands(2_500_000.0), "2,500,000");
        assert_eq!(thousands(-1_234.0), "-1,234");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(0.5), "0.5");
        assert_eq!(
            format_value(SeriesMetric::ConcentrationTopPercent, 0.84),
            "84.0 %"
        );
    }

    #[test]
    fn a_line_chart_draws_one_dot_per_reported_point_and_counts_them() {
        let s = series(
            "servers known",
            &[Some(3_300.0), None, Some(5_000.0), Some(8_400.0)],
        );
        let svg = render_svg(&chart("line", "\"servers_known\""), &[s], &[]);
        assert!(svg.contains("data-points=\"3\""), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(
            svg.contains("\n8,000\n"),
            "y axis labels use thousands separators: {svg}"
        );
        assert!(svg.contains("2022-10-"), "x axis labels are ISO dates");
        assert!(svg.contains("viewBox=\"0 0 720 440\"") && svg.contains("width=\"100%\""));
        let svg_tag = svg.lines().next().unwrap_or_default();
        assert!(
            !svg_tag.contains("height="),
            "the height follows the width: {svg_tag}"
        );
    }

    #[test]
    fn annotations_are_drawn_as_labelled_markers_with_escaped_text() {
        let s = series(
            "servers known",
            &[Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(5.0)],
        );
        let svg = render_svg(
            &chart("line", "\"servers_known\""),
            &[s],
            &[takeover("<script>alert(1)</script> \"onload=")],
        );
        assert!(
            svg.contains("2022-10-27 &lt;script&gt;alert(1)&lt;/script&gt; &quot;onload="),
            "{svg}"
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("<title>A &lt;b&gt;chart&lt;/b&gt; &amp; co</title>"));
        assert!(
            svg.contains("stroke-dasharray")
                || svg.matches("<line").count() + svg.matches("<polyline").count() > 2
        );
    }

    #[test]
    fn markers_outside_the_range_and_charts_without_markers_draw_none() {
        let s = series("servers known", &[Some(1.0), Some(2.0)]);
        let mut def = chart("line", "\"servers_known\"");
        let svg = render_svg(&def, std::slice::from_ref(&s), &[takeover("later")]);
        assert!(
            !svg.contains("later"),
            "the takeover is after the two weeks shown"
        );
        def.annotations = false;
        let mut long = s.clone();
        long.points.extend(
            series("x", &[None, None, None, None])
                .points
                .into_iter()
                .skip(2),
        );
        let svg = render_svg(&def, &[long], &[takeover("hidden")]);
        assert!(!svg.contains("hidden"));
    }

    #[test]
    fn bars_and_stacked_areas_are_drawn() {
        let a = series("new", &[Some(5.0), Some(7.0)]);
        let b = series("dead", &[Some(1.0), None]);
        let svg = render_svg(
            &chart("bars", "\"servers_new\", \"servers_died\""),
            &[a.clone(), b.clone()],
            &[],
        );
        assert!(svg.contains("data-points=\"3\""));
        let svg = render_svg(
            &chart("stacked-area", "\"servers_up\", \"servers_known\""),
            &[a, b],
            &[],
        );
        assert!(svg.contains("<polygon"), "{svg}");
        assert!(
            svg.contains("\nnew\n") && svg.contains("\ndead\n"),
            "the legend names the series"
        );
    }

    #[test]
    fn an_empty_series_says_there_is_no_data() {
        let svg = render_svg(&chart("line", "\"servers_known\""), &[], &[]);
        assert!(svg.contains("No data for this range yet."));
        assert!(svg.contains("data-points=\"0\""));
    }
}
