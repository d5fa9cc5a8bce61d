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
use crate::series::{is_share, Granularity, Point, Series, SeriesMetric};
use chrono::{Datelike, Months, NaiveDate};
use fedicensus_storage::Annotation;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod axis;
use axis::{date_ticks, day_number, DayAxis};

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
/// Pixels of plot per y-axis label.
const Y_LABEL_EVERY: u32 = 70;
/// The least room between two date labels on the x axis, in pixels (their widths are measured).
const X_LABEL_GAP: u32 = 14;
/// The plot's margins inside its drawing area, and the height of the x axis' label band.
const PLOT_MARGIN_TOP: u32 = 14;
const PLOT_MARGIN_RIGHT: u32 = 24;
const PLOT_MARGIN_LEFT: u32 = 8;
const X_LABEL_AREA: u32 = 40;

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
static DEJAVU_SANS: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

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

/// What a chart's y axis counts, written above the axis: the unit of `metric`'s values, and for
/// counts per period (servers new or died, weekly activity) the period.
pub fn axis_unit(metric: SeriesMetric, granularity: Option<Granularity>) -> String {
    let per = match granularity {
        Some(Granularity::Day) => "a day",
        Some(Granularity::Week) | None => "a week",
        Some(Granularity::Month) => "a month",
    };
    match metric {
        SeriesMetric::ServersKnown => "servers known".into(),
        SeriesMetric::ServersMentioned => "servers named anywhere".into(),
        SeriesMetric::ServersUp => "servers up".into(),
        SeriesMetric::ServersNew => format!("servers first seen {per}"),
        SeriesMetric::ServersDied => format!("servers died {per}"),
        SeriesMetric::UsersTotal => "registered users".into(),
        SeriesMetric::UsersActiveMonth => "monthly active users".into(),
        SeriesMetric::LocalPosts => "posts (all time)".into(),
        SeriesMetric::WeeklyRegistrations => "registrations a week".into(),
        SeriesMetric::WeeklyLogins => "logins a week".into(),
        SeriesMetric::WeeklyStatuses => "posts a week".into(),
        SeriesMetric::ConcentrationTopPercent | SeriesMetric::ConcentrationTopTen => {
            "share of all users".into()
        }
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

/// What a chart image carries when it is seen alone (downloaded, put in an article): a page
/// shows these around the chart, an image file must hold them itself.
#[derive(Debug, Clone, Default)]
pub struct Caption {
    /// Where the figures come from: the census and its methodology version.
    pub source: String,
    /// Whether the database was crawled from the simulated fediverse (`fedicensus demo`).
    pub simulated: bool,
    /// Where the plotted points are published (the chart's CSV), written under the chart so
    /// that a reader of the image alone can find its data.
    pub data_url: Option<String>,
}

/// The width, in pixels, of `text` set in the embedded DejaVu Sans at `size` pixels (for
/// drawings outside plotters, such as badges).
pub fn text_width(text: &str, size: u32) -> Result<u32, String> {
    register_fonts()?;
    FontDesc::new(FontFamily::Name(FONT), f64::from(size), FontStyle::Normal)
        .box_size(text)
        .map(|(w, _)| w)
        .map_err(|e| format!("measuring text: {e:?}"))
}

/// What the latest points of `series` rest on, in words: "3 servers reporting", or per series
/// when there are several ("servers reporting: 3 (mastodon), 1 (misskey)"); `None` without
/// data.
pub fn servers_reporting_text(series: &[Series]) -> Option<String> {
    let latest: Vec<(&str, u64)> = series
        .iter()
        .filter_map(|s| s.latest().map(|p| (s.name.as_str(), p.servers_reporting)))
        .collect();
    let one = |n: u64| if n == 1 { "server" } else { "servers" };
    match latest.as_slice() {
        [] => None,
        [(_, n)] => Some(format!("{} {} reporting", thousands(*n as f64), one(*n))),
        several => Some(format!(
            "servers reporting: {}",
            several
                .iter()
                .map(|(name, n)| format!("{} ({name})", thousands(*n as f64)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The series of `chart` that are drawn as lines: all of them, but for a band chart's last two
/// (the edges of its band, which rest on the servers of the line they surround).
pub fn lines_of<'a>(chart: &ChartDef, series: &'a [Series]) -> &'a [Series] {
    match chart.kind {
        ChartKind::Band if series.len() >= 3 => &series[..series.len() - 2],
        _ => series,
    }
}

/// The legend a page shows beside a drawing of `chart`, as the drawing's own legend has it: each
/// line's name and colour, then a band chart's band (its two edges are not lines of their own).
pub fn legend_entries(chart: &ChartDef, series: &[Series]) -> Vec<(String, String)> {
    let lines = lines_of(chart, series);
    let mut entries: Vec<(String, String)> = lines
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), color_hex(i)))
        .collect();
    if lines.len() < series.len() {
        let RGBColor(r, g, b) = band_color(lines.len());
        entries.push((BAND_LABEL.to_owned(), format!("#{r:02x}{g:02x}{b:02x}")));
    }
    entries
}

/// The last day the data of `series` covers (the latest plotted point's).
pub fn data_as_of(series: &[Series]) -> Option<NaiveDate> {
    series
        .iter()
        .filter_map(|s| s.latest())
        .map(|p| p.as_of_day)
        .max()
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
    render_svg_with(chart, series, annotations, size, None)
}

/// [`render_svg`], with the chart's title above it and a caption below (source, the date the
/// data runs to, "simulated data" when it is) for an image seen alone.
pub fn render_svg_with(
    chart: &ChartDef,
    series: &[Series],
    annotations: &[Annotation],
    size: Size,
    caption: Option<&Caption>,
) -> String {
    let mut body = String::new();
    let drawn = register_fonts().and_then(|()| {
        let root =
            SVGBackend::with_string(&mut body, (size.width, size.height)).into_drawing_area();
        draw_captioned(&root, size, chart, series, annotations, caption)
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
    render_png_with(chart, series, annotations, size, None)
}

/// [`render_png`] with a title and caption, as [`render_svg_with`].
pub fn render_png_with(
    chart: &ChartDef,
    series: &[Series],
    annotations: &[Annotation],
    size: Size,
    caption: Option<&Caption>,
) -> Result<Vec<u8>, String> {
    register_fonts()?;
    let mut rgb = vec![0u8; size.width as usize * size.height as usize * 3];
    {
        let root =
            BitMapBackend::with_buffer(&mut rgb, (size.width, size.height)).into_drawing_area();
        draw_captioned(&root, size, chart, series, annotations, caption)?;
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

/// [`draw`], with the title in a band above and the caption's lines in a band below when there
/// is a caption.
fn draw_captioned<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    size: Size,
    chart: &ChartDef,
    series: &[Series],
    annotations: &[Annotation],
    caption: Option<&Caption>,
) -> Result<(), String> {
    let Some(caption) = caption else {
        return draw(root, size, chart, series, annotations);
    };
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let text = size.text();
    let caption_font = (FONT, text - 2).into_font().color(&NO_DATA_TEXT);
    let room = size.width.saturating_sub(2 * LEGEND_MARGIN as u32);
    let mut rows = vec![fit(
        root,
        format!("Source: {}", caption.source),
        &caption_font,
        room,
    )?];
    let as_of = match (
        data_as_of(series),
        servers_reporting_text(lines_of(chart, series)),
    ) {
        (Some(day), Some(reporting)) => Some(format!("Data as of {day}, {reporting}")),
        (Some(day), None) => Some(format!("Data as of {day}")),
        _ => None,
    };
    if let Some(line) = as_of {
        rows.extend(wrap(root, &line, &caption_font, room, CAPTION_ROWS)?);
    }
    if caption.simulated {
        rows.push("SIMULATED DATA, not real servers".to_owned());
    }
    if let Some(url) = &caption.data_url {
        // The CSV's whole address when it fits in its rows, else without its query (the chart's
        // CSV over its default range, which holds the plotted dates), cut short if need be.
        let whole = wrap(
            root,
            &format!("Data: {url}"),
            &caption_font,
            room,
            CAPTION_ROWS,
        )?;
        let short = url.split('?').next().unwrap_or(url);
        if whole.last().is_some_and(|r| r.ends_with('…')) && short != url {
            rows.extend(wrap(
                root,
                &format!("Data: {short}"),
                &caption_font,
                room,
                CAPTION_ROWS,
            )?);
        } else {
            rows.extend(whole);
        }
    }
    let lines = rows;
    let line_h = text + 4;
    let title_h = text + 18;
    let foot_h = lines.len() as u32 * line_h + 10;
    let (head, rest) = root.split_vertically(title_h);
    let body_h = size.height.saturating_sub(title_h + foot_h);
    let (body, foot) = rest.split_vertically(body_h);
    let title_font = (FONT, text + 2, FontStyle::Bold).into_font().color(&BLACK);
    let title = fit(root, chart.title.clone(), &title_font, room)?;
    head.draw(&Text::new(
        title,
        (LEGEND_MARGIN, title_h as i32 / 2 + 2),
        title_font.pos(Pos::new(HPos::Left, VPos::Center)),
    ))
    .map_err(err)?;
    for (i, line) in lines.into_iter().enumerate() {
        foot.draw(&Text::new(
            line,
            (LEGEND_MARGIN, 4 + i as i32 * line_h as i32),
            caption_font.pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(err)?;
    }
    draw(
        &body,
        Size {
            width: size.width,
            height: body_h,
        },
        chart,
        series,
        annotations,
    )
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
    // A band chart is a line chart whose last two series are drawn as a band, not as lines.
    let kind = match chart.kind {
        ChartKind::Band => ChartKind::Line,
        other => other,
    };
    // A bar spans its period; a point is drawn where its value is taken, the period's last day
    // (a month's value at its end, not at its first day, where it read as happening a month
    // early), so the axis runs to the last period's end.
    let x_max = match kind {
        ChartKind::Bars => day_number(first, period_end),
        _ => day_number(first, period_end.pred_opt().unwrap_or(last)).max(1.0),
    };
    let monthly = granularity == Some(Granularity::Month);
    let metric = chart.metrics[0];
    let stacked: Vec<Vec<f64>> = if kind == ChartKind::StackedArea {
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
    // The band's edges count in the axis (above), not among the lines and their legend.
    let (series, band) = match chart.kind {
        ChartKind::Band if series.len() >= 3 => {
            let (lines, edges) = series.split_at(series.len() - 2);
            (lines, Some((&edges[0], &edges[1])))
        }
        _ => (series, None),
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
    let band_item = match band {
        Some(_) => {
            let (text_w, _) = root
                .estimate_text_size(BAND_LABEL, &legend_font)
                .map_err(err)?;
            let item = LEGEND_SWATCH + 6 + text_w as i32 + 18;
            if x + item > size.width as i32 - LEGEND_MARGIN && x > LEGEND_MARGIN {
                row += 1;
                x = LEGEND_MARGIN;
            }
            let at = (x, row);
            x += item;
            Some(at)
        }
        None => None,
    };
    // A period still in progress at the last crawled day is drawn apart (a hollow dot off the
    // line, a pale bar or band); the legend says which and as of when, in the longest wording
    // that fits.
    let note_font = (FONT, text - 2).into_font().color(&NO_DATA_TEXT);
    let note = match incomplete_note(series) {
        Some(wordings) => {
            let room = size.width as i32 - 2 * LEGEND_MARGIN - NOTE_SWATCH - 6;
            let mut chosen = None;
            for wording in wordings {
                let (w, _) = root.estimate_text_size(&wording, &note_font).map_err(err)?;
                if w as i32 <= room || chosen.is_none() {
                    chosen = Some((wording, w as i32));
                }
                if w as i32 <= room {
                    break;
                }
            }
            chosen.map(|(wording, w)| {
                let item = NOTE_SWATCH + 6 + w + 18;
                if x + item > size.width as i32 - LEGEND_MARGIN && x > LEGEND_MARGIN {
                    row += 1;
                    x = LEGEND_MARGIN;
                }
                (wording, x, row)
            })
        }
        None => None,
    };
    let legend_height = (row + 1) * LEGEND_ROW + 8;
    let (legend_area, plot_area) = root.split_vertically(legend_height as u32);
    if let Some((wording, x, row)) = &note {
        let y = 8 + row * LEGEND_ROW + LEGEND_ROW / 2;
        // The swatch looks like the marks it explains: a hollow dot, or a pale outlined block.
        let grey = NO_DATA_TEXT;
        let centre = (*x + NOTE_SWATCH / 2, y);
        if kind == ChartKind::Line {
            legend_area
                .draw(&Circle::new(centre, 4, grey.stroke_width(2)))
                .map_err(err)?;
        } else {
            let corners = [(*x + 2, y - 5), (*x + NOTE_SWATCH - 2, y + 5)];
            legend_area
                .draw(&Rectangle::new(corners, grey.mix(0.25).filled()))
                .map_err(err)?;
            legend_area
                .draw(&Rectangle::new(corners, grey.stroke_width(2)))
                .map_err(err)?;
        }
        legend_area
            .draw(&Text::new(
                wording.clone(),
                (*x + NOTE_SWATCH + 6, y),
                note_font.pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
    }
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
    if let Some((x, row)) = band_item {
        let color = band_color(series.len());
        let y = 8 + row * LEGEND_ROW + LEGEND_ROW / 2;
        legend_area
            .draw(&Rectangle::new(
                [(x, y - 5), (x + LEGEND_SWATCH, y + 5)],
                color.mix(BAND_OPACITY).filled(),
            ))
            .map_err(err)?;
        legend_area
            .draw(&Text::new(
                BAND_LABEL,
                (x + LEGEND_SWATCH + 6, y),
                legend_font.pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
    }
    let root = &plot_area;

    // A month chart's labels name months ("Nov 2022"), under each month's last day where its
    // point is; other charts' name days. On a narrow drawing a day is "27 Oct" and the years of
    // the range are written once, at the top right: twice as many dates fit across a phone.
    let axis_end = first + chrono::Duration::days(x_max.floor() as i64);
    let years = if first.year() == axis_end.year() {
        first.year().to_string()
    } else {
        format!("{}–{}", first.year(), axis_end.year())
    };
    let compact = !monthly && size.width < NARROW;
    let date_format = if monthly {
        "%b %Y"
    } else if compact {
        "%-d %b"
    } else {
        "%Y-%m-%d"
    };
    let x_fmt = |x: &f64| {
        (first + chrono::Duration::days(x.round() as i64))
            .format(date_format)
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
        .estimate_text_size(
            if monthly {
                "Sep 2022"
            } else if compact {
                "27 Sep"
            } else {
                "2022-10-27"
            },
            &label_style,
        )
        .map_err(err)?;
    let y_label_area = (widest + 18).max(date_w / 2);
    // Dates on calendar steps (days, Mondays, month starts), as many as fit side by side: fewer
    // on a narrow chart rather than smaller text. The plot's width is worked out as plotters
    // will lay it out (margins and the y labels' band), since the ticks are fixed before it is.
    let plot_width = root
        .dim_in_pixel()
        .0
        .saturating_sub(PLOT_MARGIN_LEFT + PLOT_MARGIN_RIGHT + y_label_area);
    // Short labels need less room between them: two spaces of their text rather than three.
    let gap = if compact {
        X_LABEL_GAP - 4
    } else {
        X_LABEL_GAP
    };
    let ticks = date_ticks(first, x_max, plot_width, date_w, gap, monthly);
    // The y axis's unit in a band of its own above the plot, left-aligned over the labels:
    // horizontal, so it needs no width a phone's plot would lose.
    let unit_font = (FONT, text).into_font().color(&NO_DATA_TEXT);
    let unit_band = text;
    root.draw(&Text::new(
        axis_unit(metric, granularity),
        (PLOT_MARGIN_LEFT as i32, 2),
        unit_font.clone().pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(err)?;
    if compact {
        root.draw(&Text::new(
            years,
            (
                root.dim_in_pixel().0.saturating_sub(PLOT_MARGIN_RIGHT) as i32,
                2,
            ),
            unit_font.pos(Pos::new(HPos::Right, VPos::Top)),
        ))
        .map_err(err)?;
    }
    let mut ctx = ChartBuilder::on(root)
        .margin_top(PLOT_MARGIN_TOP + unit_band)
        .margin_right(PLOT_MARGIN_RIGHT)
        .margin_left(PLOT_MARGIN_LEFT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(
            DayAxis {
                days: (0.0..x_max).into(),
                ticks: ticks.clone(),
            },
            0.0..y_max,
        )
        .map_err(err)?;
    let (_, plot_h) = ctx.plotting_area().dim_in_pixel();
    ctx.configure_mesh()
        .x_labels(ticks.len().max(1))
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
        let x0 = match (kind, granularity) {
            (ChartKind::Bars, Some(g)) => day_number(first, g.next(valued)),
            (_, Some(g)) => day_number(first, g.next(valued).pred_opt().unwrap_or(valued)),
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

    // The band under the lines: one polygon per run of complete periods with both edges.
    if let Some((low, high)) = band {
        let color = band_color(series.len());
        let mut runs: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
        for (l, h) in low.points.iter().zip(&high.points) {
            match (l.value, h.value) {
                (Some(lv), Some(hv)) if l.complete && h.complete => {
                    if let Some(run) = runs.last_mut() {
                        run.push((day_number(first, l.as_of_day), lv, hv));
                    }
                }
                _ => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let mut polygon: Vec<(f64, f64)> = run.iter().map(|(x, _, h)| (*x, *h)).collect();
            polygon.extend(run.iter().rev().map(|(x, l, _)| (*x, *l)));
            if run.len() == 1 {
                // One period: a short bar, so that it shows.
                let (x, l, h) = run[0];
                ctx.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, l), (x + 0.5, h)],
                    color.mix(BAND_OPACITY).filled(),
                )))
                .map_err(err)?;
            } else {
                ctx.draw_series(std::iter::once(Polygon::new(
                    polygon,
                    color.mix(BAND_OPACITY).filled(),
                )))
                .map_err(err)?;
            }
        }
    }

    let count = series.len().max(1) as f64;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let at = |p: &Point, v: f64| (day_number(first, p.as_of_day), v);
        match kind {
            ChartKind::Line => {
                // A period with no value breaks the line rather than dropping to zero; a period
                // still in progress is left off the line (it would read as a drop) and drawn as
                // a hollow dot.
                let mut segment: Vec<(f64, f64)> = Vec::new();
                let mut segments = Vec::new();
                for p in &s.points {
                    match p.value {
                        Some(v) if p.complete => segment.push(at(p, v)),
                        _ if !segment.is_empty() => segments.push(std::mem::take(&mut segment)),
                        _ => {}
                    }
                }
                segments.push(segment);
                for seg in segments {
                    ctx.draw_series(LineSeries::new(seg, color.stroke_width(3)))
                        .map_err(err)?;
                }
                ctx.draw_series(
                    s.points
                        .iter()
                        .filter(|p| p.complete)
                        .filter_map(|p| p.value.map(|v| Circle::new(at(p, v), 3, color.filled()))),
                )
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
                // No line joins a period in progress to the others: its slope would read as a
                // change, and the period is not comparable yet.
                ctx.draw_series(
                    s.points
                        .iter()
                        .filter(|p| !p.complete)
                        .filter_map(|p| Some(at(p, p.value?)))
                        .flat_map(|xy| {
                            [
                                Circle::new(xy, 4, WHITE.filled()),
                                Circle::new(xy, 4, color.stroke_width(2)),
                            ]
                        }),
                )
                .map_err(err)?;
            }
            ChartKind::Bars => {
                // A period still in progress is a pale bar with an outline: a part, not a whole.
                let bar = |p: &Point| {
                    let v = p.value?;
                    let start = day_number(first, p.date);
                    let width = granularity
                        .map(|g| day_number(p.date, g.next(p.date)))
                        .unwrap_or(1.0);
                    let slot = width * 0.8 / count;
                    let x0 = start + width * 0.1 + slot * i as f64;
                    Some([(x0, 0.0), (x0 + slot, v)])
                };
                ctx.draw_series(
                    s.points
                        .iter()
                        .filter(|p| p.complete)
                        .filter_map(|p| Some(Rectangle::new(bar(p)?, color.filled()))),
                )
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
                for p in s.points.iter().filter(|p| !p.complete) {
                    if let Some(corners) = bar(p) {
                        ctx.draw_series([
                            Rectangle::new(corners, color.mix(0.25).filled()),
                            Rectangle::new(corners, color.stroke_width(2)),
                        ])
                        .map_err(err)?;
                    }
                }
            }
            // Drawn as lines: `kind` is never a band.
            ChartKind::Band => {}
            ChartKind::StackedArea => {
                // The stack stops at the last date with data rather than dropping to zero.
                let top: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .zip(&stacked[i])
                    .take_while(|(p, _)| last_valued.is_some_and(|l| p.date <= l))
                    .map(|(p, v)| (day_number(first, p.as_of_day), *v))
                    .collect();
                let below: Vec<f64> = if i == 0 {
                    vec![0.0; top.len()]
                } else {
                    stacked[i - 1].clone()
                };
                // The band up to the last complete period is solid; from there to a period
                // still in progress it is pale.
                let whole = s
                    .points
                    .iter()
                    .take(top.len())
                    .take_while(|p| p.complete)
                    .count();
                let band = |from: usize, to: usize| {
                    let mut polygon = top[from..to].to_vec();
                    polygon.extend(
                        top[from..to]
                            .iter()
                            .zip(&below[from..to])
                            .rev()
                            .map(|((x, _), b)| (*x, *b)),
                    );
                    polygon
                };
                if whole > 0 {
                    ctx.draw_series(std::iter::once(Polygon::new(
                        band(0, whole),
                        color.mix(0.75).filled(),
                    )))
                    .map_err(err)?;
                }
                if whole < top.len() {
                    ctx.draw_series(std::iter::once(Polygon::new(
                        band(whole.saturating_sub(1), top.len()),
                        color.mix(0.3).filled(),
                    )))
                    .map_err(err)?;
                }
                for (p, v) in s
                    .points
                    .iter()
                    .zip(&stacked[i])
                    .filter(|(p, _)| p.value.is_some())
                {
                    if p.complete {
                        ctx.draw_series(std::iter::once(Circle::new(at(p, *v), 2, color.filled())))
                    } else {
                        ctx.draw_series([
                            Circle::new(at(p, *v), 3, WHITE.filled()),
                            Circle::new(at(p, *v), 3, color.stroke_width(2)),
                        ])
                    }
                    .map_err(err)?;
                }
            }
        }
    }

    if chart.annotations {
        let marker = RGBColor(0x99, 0x1b, 0x1b);
        let (left, _) = ctx.backend_coord(&(0.0, y_max));
        let (right, _) = ctx.backend_coord(&(x_max, y_max));
        let visible = annotations
            .iter()
            .filter(|a| a.date >= first && day_number(first, a.date) <= x_max);
        for (row, a) in visible.enumerate() {
            let x = day_number(first, a.date);
            ctx.draw_series(DashedLineSeries::new(
                [(x, 0.0), (x, y_max)],
                6,
                4,
                marker.stroke_width(2),
            ))
            .map_err(err)?;
            // Horizontal, at the top of the plot (above the highest value, which the y axis
            // leaves room for), on the side of its line with more room, and shortened to that
            // room: read across, never down through the lines, and never cut off by the edge.
            let (at, _) = ctx.backend_coord(&(x, y_max));
            let rightwards = at - left <= right - at;
            let room = if rightwards { right - at } else { at - left } - 10;
            let font_size = text - 1;
            let label = fit(
                root,
                format!("{} {}", a.date.format("%Y-%m-%d"), a.title),
                &(FONT, font_size).into_font().into_text_style(root),
                room.max(24) as u32,
            )?;
            let (h_pos, dx) = if rightwards {
                (HPos::Left, 5)
            } else {
                (HPos::Right, -5)
            };
            let style = (FONT, font_size)
                .into_font()
                .color(&marker)
                .pos(Pos::new(h_pos, VPos::Top));
            let dy = 3 + row as i32 * (font_size as i32 + 4);
            ctx.draw_series(std::iter::once(
                EmptyElement::at((x, y_max)) + Text::new(label, (dx, dy), style),
            ))
            .map_err(err)?;
        }
    }

    Ok(())
}

/// The legend's name for a band chart's band.
const BAND_LABEL: &str = "95 % interval";

/// How strongly a band is drawn (the rest is white), pale enough for the lines to read over it.
const BAND_OPACITY: f64 = 0.25;

/// A band is drawn in the colour of the line it surrounds: the last of `lines`.
fn band_color(lines: usize) -> RGBColor {
    PALETTE[lines.saturating_sub(1) % PALETTE.len()]
}

/// The width of the incomplete note's swatch in the legend band.
const NOTE_SWATCH: i32 = 16;

/// The legend's note on periods still in progress, from the longest wording to the shortest, or
/// `None` when every plotted period is complete.
fn incomplete_note(series: &[Series]) -> Option<Vec<String>> {
    let partial = series
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s.granularity, p)))
        .filter(|(_, p)| p.value.is_some() && !p.complete);
    let (granularity, point) = partial.max_by_key(|(_, p)| p.date)?;
    let period = granularity.as_str();
    let day = point.as_of_day.format("%Y-%m-%d");
    Some(vec![
        format!("last {period} incomplete (data as of {day})"),
        format!("last {period} incomplete (as of {day})"),
        format!("{period} incomplete, as of {day}"),
    ])
}

/// The most characters of a marker's label that are ever measured.
const MAX_MARKER_CHARS: usize = 120;

/// `text`, shortened with an ellipsis to at most `max` pixels in `font` (a marker's label runs
/// down the plot, and a low chart has less room; the page lists every marker in full).
/// The most rows a caption's line is wrapped onto.
const CAPTION_ROWS: usize = 2;

/// `text` broken into at most `rows` rows of at most `max` pixels, after a space, `/`, `?`, `&`
/// or `,` where one falls in the second half of a row (an address breaks between its parts),
/// the last row cut short with "…" when the text does not fit.
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle<'_>,
    max: u32,
    rows: usize,
) -> Result<Vec<String>, String> {
    let width = |t: &str| {
        area.estimate_text_size(t, font)
            .map(|(w, _)| w)
            .map_err(|e| e.to_string())
    };
    let mut out = Vec::new();
    let mut rest: Vec<char> = text.chars().take(4 * MAX_MARKER_CHARS).collect();
    while !rest.is_empty() && out.len() + 1 < rows {
        let whole: String = rest.iter().collect();
        if width(&whole)? <= max {
            out.push(whole);
            return Ok(out);
        }
        // The longest start that fits (widths grow with the characters taken).
        let (mut lo, mut hi, mut best) = (1, rest.len(), 0);
        while lo <= hi {
            let mid = (lo + hi) / 2;
            if width(&rest[..mid].iter().collect::<String>())? <= max {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if best == 0 {
            break;
        }
        let cut = (best / 2 + 1..=best)
            .rev()
            .find(|&i| " /?&,".contains(rest[i - 1]))
            .unwrap_or(best);
        out.push(rest[..cut].iter().collect::<String>().trim_end().to_owned());
        rest.drain(..cut);
        while rest.first() == Some(&' ') {
            rest.remove(0);
        }
    }
    if !rest.is_empty() {
        out.push(fit(area, rest.iter().collect(), font, max)?);
    }
    Ok(out)
}

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
mod tests;
