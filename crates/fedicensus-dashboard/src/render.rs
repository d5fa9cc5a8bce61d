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
//! width through its `viewBox`, and carries the number of plotted points in `data-points` so
//! tests and scripts can check it.
//!
//! Text is drawn at a fixed size in the image's own pixels, so scaling an image down shrinks its
//! text with it: a 720-pixel chart shown 330 pixels wide on a phone has 7-pixel labels. Charts are
//! therefore drawn at a [`Size`] chosen for where they are shown ([`Size::PHONE`] for narrow
//! screens, [`Size::DESKTOP`] otherwise, any width from [`MIN_WIDTH`] to [`MAX_WIDTH`] on request):
//! the text keeps its size and a narrower chart gets fewer ticks and a taller shape instead.

use crate::charts::{ChartDef, ChartKind};
use crate::series::{is_share, Series, SeriesMetric};
use chrono::NaiveDate;
use fedicensus_storage::Annotation;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The default drawing size in SVG user units (and PNG pixels); the `viewBox` makes it scale to
/// the page.
pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 440;
/// The narrowest and widest drawing a request may ask for (`width`).
pub const MIN_WIDTH: u32 = 300;
pub const MAX_WIDTH: u32 = 1600;
/// The width drawn for phones: about the width a phone shows it at (a 360 to 430 pixel screen
/// less the page's margins: 294 to 364 pixels), so its text is shown near the size it is drawn.
pub const PHONE_WIDTH: u32 = 330;
/// Below this width a drawing's text is drawn larger ([`Size::text`]): it will be shown on a
/// small screen, where every pixel of text counts.
const NARROW: u32 = 480;
/// No drawing is lower than this: a narrow chart needs room for its legend and a plot.
const MIN_HEIGHT: u32 = 340;
/// Pixels of plot per x-axis label (an ISO date at 16 pixels is about 90 wide) and per y-axis
/// label.
const X_LABEL_EVERY: u32 = 170;
const Y_LABEL_EVERY: u32 = 70;

/// The size a chart is drawn at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// The default: [`WIDTH`] × [`HEIGHT`].
    pub const DESKTOP: Size = Size {
        width: WIDTH,
        height: HEIGHT,
    };
    /// Narrow screens: [`PHONE_WIDTH`] wide.
    pub const PHONE: Size = Size {
        width: PHONE_WIDTH,
        height: MIN_HEIGHT,
    };

    /// The size of axis labels and the legend, in drawing pixels (plotters' SVG writes 0.8 of it
    /// as the `font-size`); a marker's label is one smaller.
    pub fn text(&self) -> u32 {
        if self.width < NARROW {
            18
        } else {
            16
        }
    }

    /// The size for a drawing `width` wide (clamped to [`MIN_WIDTH`]..=[`MAX_WIDTH`]): the
    /// default's proportions, but never lower than [`MIN_HEIGHT`].
    pub fn for_width(width: u32) -> Size {
        let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
        let height = (u64::from(width) * u64::from(HEIGHT) / u64::from(WIDTH)) as u32;
        Size {
            width,
            height: height.max(MIN_HEIGHT),
        }
    }
}

const FONT: &str = "sans-serif";
/// The legend band above the plot: left margin, swatch width and row height.
const LEGEND_MARGIN: i32 = 12;
const LEGEND_SWATCH: i32 = 14;
const LEGEND_ROW: i32 = 22;
/// The band over dates without data, and its label.
const NO_DATA: RGBColor = RGBColor(0xf0, 0xf0, 0xf0);
const NO_DATA_TEXT: RGBColor = RGBColor(0x5a, 0x5a, 0x5a);
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

/// Draws `series` as `chart` says, at `size`, with `annotations` as dated vertical markers (when
/// the chart wants them). Pure: no I/O. A drawing failure gives an SVG that says so, rather than
/// no chart.
pub fn render_svg(
    chart: &ChartDef,
    series: &[Series],
    annotations: &[Annotation],
    size: Size,
) -> String {
    let mut body = String::new();
    let drawn = register_fonts().and_then(|()| {
        let root =
            SVGBackend::with_string(&mut body, (size.width, size.height)).into_drawing_area();
        draw(&root, size, chart, series, annotations)
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    });
    let points: usize = series
        .iter()
        .map(|s| s.points.iter().filter(|p| p.value.is_some()).count())
        .sum();
    match drawn {
        Ok(()) => finish(body, size, chart, points),
        Err(problem) => fallback(chart, size, &problem),
    }
}

/// Makes plotters' fixed-size SVG scale to its container and names it for screen readers.
fn finish(body: String, size: Size, chart: &ChartDef, points: usize) -> String {
    let fixed = format!("<svg width=\"{}\" height=\"{}\" ", size.width, size.height);
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

/// The same chart as [`render_svg`], as a PNG of `size` pixels. Errors say what failed (drawing
/// or encoding); they are our own failures, not the visitor's.
pub fn render_png(
    chart: &ChartDef,
    series: &[Series],
    annotations: &[Annotation],
    size: Size,
) -> Result<Vec<u8>, String> {
    register_fonts()?;
    let mut rgb = vec![0u8; size.width as usize * size.height as usize * 3];
    {
        let root =
            BitMapBackend::with_buffer(&mut rgb, (size.width, size.height)).into_drawing_area();
        draw(&root, size, chart, series, annotations)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut out, size.width, size.height);
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

fn fallback(chart: &ChartDef, size: Size, problem: &str) -> String {
    format!(
        "<svg width=\"100%\" viewBox=\"0 0 {} {}\" xmlns=\"http://www.w3.org/2000/svg\" \
         role=\"img\" data-points=\"0\"><title>{}</title><text x=\"20\" y=\"40\">\
         This chart could not be drawn: {}</text></svg>",
        size.width,
        size.height,
        escape_xml(&chart.title),
        escape_xml(problem)
    )
}

fn day_number(from: NaiveDate, date: NaiveDate) -> f64 {
    (date - from).num_days() as f64
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    size: Size,
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
            (size.width as i32 / 2, size.height as i32 / 2),
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
    let text = size.text();
    let legend_font = (FONT, text).into_font().color(&BLACK);
    let mut items: Vec<(i32, i32, usize)> = Vec::new();
    let (mut x, mut row) = (LEGEND_MARGIN, 0);
    for (i, s) in series.iter().enumerate() {
        let (text_w, _) = root
            .estimate_text_size(&s.name, &legend_font)
            .map_err(err)?;
        let item = LEGEND_SWATCH + 6 + text_w as i32 + 18;
        if x + item > size.width as i32 - LEGEND_MARGIN && x > LEGEND_MARGIN {
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
    // The y labels get the room the widest of them needs (no label is longer than the top of
    // the axis), not a fixed band: on a phone every pixel of plot counts. At least half a date,
    // though: the first date label is centred on the axis.
    let label_style = (FONT, text).into_font().color(&BLACK);
    let (widest, _) = root
        .estimate_text_size(&y_fmt(&y_max), &label_style)
        .map_err(err)?;
    let (date_w, _) = root
        .estimate_text_size("2022-10-27", &label_style)
        .map_err(err)?;
    let mut ctx = ChartBuilder::on(root)
        .margin_top(14)
        .margin_right(24)
        .margin_left(8)
        .x_label_area_size(40)
        .y_label_area_size((widest + 18).max(date_w / 2))
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(err)?;
    // Fewer ticks on a narrow or low chart, rather than smaller text.
    let (plot_w, plot_h) = ctx.plotting_area().dim_in_pixel();
    ctx.configure_mesh()
        .x_labels((plot_w / X_LABEL_EVERY + 1).clamp(2, 8) as usize)
        .y_labels((plot_h / Y_LABEL_EVERY + 1).clamp(3, 10) as usize)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(label_style)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .disable_x_mesh()
        .draw()
        .map_err(err)?;

    // Dates after the last value (after the last crawl, typically) are shaded and labelled, so
    // the gap reads as "no data" rather than as a line that stopped or a drop to nothing.
    let last_valued = series
        .iter()
        .flat_map(|s| s.points.iter().filter(|p| p.value.is_some()))
        .map(|p| p.date)
        .max();
    if let Some(valued) = last_valued.filter(|d| *d < last) {
        let x0 = match (chart.kind, granularity) {
            (ChartKind::Bars, Some(g)) => day_number(first, g.next(valued)),
            _ => day_number(first, valued),
        };
        ctx.draw_series(std::iter::once(Rectangle::new(
            [(x0, 0.0), (x_max, y_max)],
            NO_DATA.filled(),
        )))
        .map_err(err)?;
        let label = (FONT, text - 2).into_font().color(&NO_DATA_TEXT);
        let (label_w, _) = root.estimate_text_size("no data", &label).map_err(err)?;
        let (left, _) = ctx.backend_coord(&(x0, y_max));
        let (right, _) = ctx.backend_coord(&(x_max, y_max));
        if right - left >= label_w as i32 + 12 {
            ctx.draw_series(std::iter::once(
                EmptyElement::at((x0, y_max)) + Text::new("no data", (6, 6), label),
            ))
            .map_err(err)?;
        }
    }

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
                // The stack stops at the last date with data rather than dropping to zero.
                let top: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .zip(&stacked[i])
                    .take_while(|(p, _)| last_valued.is_some_and(|l| p.date <= l))
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
            let label = fit(
                root,
                format!("{} {}", a.date.format("%Y-%m-%d"), a.title),
                &(FONT, text - 1).into_font().into_text_style(root),
                plot_h.saturating_sub(12),
            )?;
            let style = (FONT, text - 1)
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

/// The most characters of a marker's label that are ever measured.
const MAX_MARKER_CHARS: usize = 120;

/// `text`, shortened with an ellipsis to at most `max` pixels in `font` (a marker's label runs
/// down the plot, and a low chart has less room; the page lists every marker in full).
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: String,
    font: &TextStyle<'_>,
    max: u32,
) -> Result<String, String> {
    let width = |t: &str| {
        area.estimate_text_size(t, font)
            .map(|(w, _)| w)
            .map_err(|e| e.to_string())
    };
    if width(&text)? <= max {
        return Ok(text);
    }
    // No plot is tall enough for more than about a hundred characters: start there, so a long
    // annotation costs a bounded number of measurements.
    let mut chars: Vec<char> = text.chars().take(MAX_MARKER_CHARS).collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
        if width(&candidate)? <= max {
            return Ok(candidate);
        }
    }
    Ok(String::new())
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
        let svg = render_svg(
            &chart("line", "\"servers_known\""),
            &[s],
            &[],
            Size::DESKTOP,
        );
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
            Size::DESKTOP,
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
        let svg = render_svg(
            &def,
            std::slice::from_ref(&s),
            &[takeover("later")],
            Size::DESKTOP,
        );
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
        let svg = render_svg(&def, &[long], &[takeover("hidden")], Size::DESKTOP);
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
            Size::DESKTOP,
        );
        assert!(svg.contains("data-points=\"3\""));
        let svg = render_svg(
            &chart("stacked-area", "\"servers_up\", \"servers_known\""),
            &[a, b],
            &[],
            Size::DESKTOP,
        );
        assert!(svg.contains("<polygon"), "{svg}");
        assert!(
            svg.contains("\nnew\n") && svg.contains("\ndead\n"),
            "the legend names the series"
        );
    }

    /// The smallest text of `svg`, in screen pixels, when the drawing is shown `shown` pixels
    /// wide (text scales with the drawing).
    fn smallest_text_shown(svg: &str, shown: f64) -> f64 {
        let view_width: f64 = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|v| v.split(' ').next())
            .and_then(|w| w.parse().ok())
            .expect("a viewBox");
        let smallest = svg
            .split("font-size=\"")
            .skip(1)
            .filter_map(|f| f.split('"').next()?.parse::<f64>().ok())
            .fold(f64::INFINITY, f64::min);
        smallest * shown / view_width
    }

    fn weeks(n: usize) -> Series {
        let values: Vec<Option<f64>> = (0..n).map(|i| Some(3_000.0 + 250.0 * i as f64)).collect();
        series("servers up", &values)
    }

    #[test]
    fn a_phone_sized_drawing_keeps_its_text_readable_where_the_default_one_shrinks_it() {
        let def = chart("line", "\"servers_up\"");
        let s = [weeks(20)];
        // A 390-pixel phone shows a chart about 324 pixels wide (the page's and the card's
        // padding), where the 720-pixel drawing's 15 to 16-pixel text becomes 7 pixels.
        let desktop = render_svg(&def, &s, &[takeover("t")], Size::DESKTOP);
        let phone = render_svg(&def, &s, &[takeover("t")], Size::PHONE);
        let (d, p) = (
            smallest_text_shown(&desktop, 324.0),
            smallest_text_shown(&phone, 324.0),
        );
        assert!(d < 8.0, "the fault this guards against: {d:.1} px");
        assert!(p >= 13.0, "phone text shown at {p:.1} px: {phone}");
        assert!(phone.contains("viewBox=\"0 0 330 340\""), "{phone}");
        // Fewer date labels on the narrow axis, so they do not run into each other.
        let dates = |svg: &str| svg.matches("\n2022-").count() + svg.matches("\n2023-").count();
        assert!(
            dates(&phone) >= 2 && dates(&phone) < dates(&desktop),
            "{} vs {}",
            dates(&phone),
            dates(&desktop)
        );
        assert!(
            phone.contains("\n5,000\n") || phone.contains("\n6,000\n"),
            "thousands separators"
        );
    }

    #[test]
    fn sizes_keep_the_default_proportions_within_bounds() {
        assert_eq!(Size::for_width(WIDTH), Size::DESKTOP);
        assert_eq!(Size::for_width(PHONE_WIDTH), Size::PHONE);
        assert_eq!(
            Size::for_width(1440),
            Size {
                width: 1440,
                height: 880
            }
        );
        assert_eq!(Size::for_width(10).width, MIN_WIDTH);
        assert_eq!(Size::for_width(u32::MAX).width, MAX_WIDTH);
    }

    #[test]
    fn a_marker_label_too_long_for_a_low_chart_is_shortened_and_the_page_lists_it_in_full() {
        let def = chart("line", "\"servers_known\"");
        let s = [weeks(10)];
        let long = "Twitter changes hands and many of its users look for somewhere else to go";
        let phone = render_svg(&def, &s, &[takeover(long)], Size::PHONE);
        assert!(!phone.contains(long) && phone.contains("2022-10-27 Twitter changes"));
        assert!(phone.contains('…'), "{phone}");
        let huge = "x".repeat(100_000);
        let started = std::time::Instant::now();
        let svg = render_svg(&def, &s, &[takeover(&huge)], Size::DESKTOP);
        assert!(svg.contains("xxx…") && started.elapsed().as_secs() < 2);
        let wide = render_svg(
            &def,
            &s,
            &[takeover("Twitter changes hands")],
            Size::DESKTOP,
        );
        assert!(
            wide.contains("2022-10-27 Twitter changes hands\n"),
            "short labels are whole"
        );
    }

    #[test]
    fn dates_after_the_last_value_are_shaded_as_no_data() {
        let def = chart("line", "\"servers_up\"");
        let s = series(
            "servers up",
            &[Some(5.0), Some(6.0), None, None, None, None],
        );
        let svg = render_svg(&def, std::slice::from_ref(&s), &[], Size::DESKTOP);
        assert!(svg.contains("\nno data\n"), "{svg}");
        assert!(svg.contains("#F0F0F0") || svg.contains("#f0f0f0"), "{svg}");
        assert!(svg.contains("data-points=\"2\""));
        let complete = series("servers up", &[Some(5.0), Some(6.0)]);
        let svg = render_svg(&def, &[complete], &[], Size::DESKTOP);
        assert!(!svg.contains("no data"), "nothing missing, nothing shaded");
        // A stack ends at the last data too (it used to drop to the axis).
        let a = series("mastodon", &[Some(5.0), Some(6.0), None, None]);
        let b = series("misskey", &[Some(1.0), Some(2.0), None, None]);
        let svg = render_svg(
            &chart("stacked-area", "\"servers_up\", \"servers_known\""),
            &[a, b],
            &[],
            Size::DESKTOP,
        );
        let polygon = svg
            .split("<polygon ")
            .nth(1)
            .and_then(|p| p.split("points=\"").nth(1)?.split('"').next())
            .unwrap_or_else(|| panic!("a polygon: {svg}"));
        assert_eq!(
            polygon.split_whitespace().count(),
            4,
            "two dates, top and bottom: {polygon}"
        );
        assert!(svg.contains("\nno data\n"));
    }

    #[test]
    fn an_empty_series_says_there_is_no_data() {
        let svg = render_svg(&chart("line", "\"servers_known\""), &[], &[], Size::DESKTOP);
        assert!(svg.contains("No data for this range yet."));
        assert!(svg.contains("data-points=\"0\""));
    }
}
