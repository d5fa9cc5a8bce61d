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
                complete: true,
                as_of_day: start + chrono::Duration::weeks(i as i64 + 1)
                    - chrono::Duration::days(1),
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

/// Monthly points, September to December 2022, each taken at its month's last day.
fn months(values: &[f64]) -> Series {
    let start = NaiveDate::from_ymd_opt(2022, 9, 1).expect("a date");
    Series {
        name: "servers up".into(),
        metric: SeriesMetric::ServersUp,
        granularity: Granularity::Month,
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let date = start + Months::new(i as u32);
                Point {
                    date,
                    value: Some(*v),
                    servers_reporting: 10,
                    complete: true,
                    as_of_day: (date + Months::new(1)).pred_opt().expect("a date"),
                }
            })
            .collect(),
    }
}

/// The centres (x) of the dots of a line chart, left to right.
fn dot_xs(svg: &str) -> Vec<f64> {
    svg.split("<circle cx=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// The x of the first dashed marker line (an annotation).
fn marker_x(svg: &str) -> f64 {
    let line = svg
        .split("<polyline")
        .find(|l| l.contains("#991B1B") || l.contains("#991b1b"))
        .expect("a marker line");
    line.split("points=\"")
        .nth(1)
        .and_then(|p| p.split(',').next())
        .and_then(|x| x.trim().parse().ok())
        .expect("a point")
}

#[test]
fn a_month_is_drawn_at_its_end_and_labelled_by_its_name() {
    let def = chart("line", "\"servers_up\"");
    let s = months(&[3_200.0, 3_300.0, 8_400.0, 9_100.0]);
    for size in [Size::DESKTOP, Size::PHONE] {
        let svg = render_svg(&def, std::slice::from_ref(&s), &[takeover("t")], size);
        let xs = dot_xs(&svg);
        assert_eq!(xs.len(), 4, "{svg}");
        // November's value is taken on 30 November: after the takeover of 27 October, and
        // October's (taken on 31 October) only just after it.
        let takeover = marker_x(&svg);
        assert!(xs[2] > takeover && xs[1] > takeover, "{xs:?} vs {takeover}");
        // Every month where they fit side by side (desktop; the last one's label would run
        // off the right edge), every other one on a phone.
        let labelled = ["Sep 2022", "Oct 2022", "Nov 2022", "Dec 2022"]
            .iter()
            .filter(|m| svg.contains(*m))
            .count();
        let wanted = if size == Size::PHONE { 2 } else { 3 };
        assert!(labelled >= wanted, "{size:?}: {labelled} month labels");
        assert!(!svg.contains("2022-10-03"), "no Monday labels");
    }
}

#[test]
fn a_marker_label_reads_across_and_fits_the_plot() {
    let def = chart("line", "\"servers_up\"");
    let s = months(&[3_200.0, 3_300.0, 8_400.0, 9_100.0]);
    let svg = render_svg(
        &def,
        &[s],
        &[takeover("Twitter changes hands")],
        Size::PHONE,
    );
    assert!(!svg.contains("rotate("), "no vertical text");
    assert!(svg.contains("2022-10-27"), "{svg}");
}

#[test]
fn a_captioned_image_carries_title_source_date_and_simulated() {
    let def = chart("line", "\"servers_up\"");
    let s = months(&[3_200.0, 3_300.0, 8_400.0, 9_100.0]);
    let caption = Caption {
        source: "fedicensus, methodology 3".into(),
        simulated: true,
        data_url: Some("/api/v1/charts/x/csv?a=1&b=2".into()),
    };
    for size in [Size::DESKTOP, Size::PHONE] {
        let svg = render_svg_with(&def, std::slice::from_ref(&s), &[], size, Some(&caption));
        assert!(svg.contains("A &lt;b&gt;chart"), "the title");
        assert!(svg.contains("Source: fedicensus, methodology 3"), "{svg}");
        // Wrapped on a phone's width, whole on a desktop's.
        assert!(svg.contains("Data as of 2022-12-31,"), "{svg}");
        assert!(svg.contains("10 servers reporting"), "{svg}");
        assert!(svg.contains("Data: /api/v1/"), "{svg}");
        assert!(svg.contains("b=2"), "{svg}");
        if size == Size::DESKTOP {
            assert!(svg.contains("Data as of 2022-12-31, 10 servers reporting"));
            assert!(
                svg.contains("Data: /api/v1/charts/x/csv?a=1&amp;b=2"),
                "{svg}"
            );
        }
        assert!(svg.contains("SIMULATED DATA"), "{svg}");
        let png = render_png_with(&def, std::slice::from_ref(&s), &[], size, Some(&caption));
        assert!(png.is_ok_and(|p| p.starts_with(b"\x89PNG")));
    }
    let plain = render_svg(&def, &[s], &[], Size::DESKTOP);
    assert!(!plain.contains("SIMULATED"));
}

#[test]
fn servers_reporting_are_said_once_for_one_series_and_per_series_for_several() {
    let mut a = months(&[1.0, 2.0]);
    assert_eq!(
        servers_reporting_text(std::slice::from_ref(&a)).as_deref(),
        Some("10 servers reporting")
    );
    let mut b = months(&[3.0]);
    b.name = "Misskey".into();
    b.points[0].servers_reporting = 1;
    a.name = "Mastodon".into();
    assert_eq!(
        servers_reporting_text(&[a, b]).as_deref(),
        Some("servers reporting: 10 (Mastodon), 1 (Misskey)")
    );
    assert_eq!(servers_reporting_text(&[]), None);
}

#[test]
fn text_is_measured_wider_for_longer_text_and_larger_type() -> Result<(), String> {
    let short = text_width("users", 11)?;
    let long = text_width("monthly actives", 11)?;
    assert!(short > 10 && long > short, "{short} {long}");
    assert!(text_width("users", 22)? > short);
    Ok(())
}

#[test]
fn the_y_axis_says_what_it_counts_and_per_what_period() {
    let s = months(&[3_200.0, 3_300.0, 8_400.0, 9_100.0]);
    for (metric, unit) in [
        ("servers_up", "servers up"),
        ("servers_died", "servers died a month"),
        ("users_active_month", "monthly active users"),
        ("concentration_top_10", "share of all users"),
    ] {
        let def = chart("line", &format!("\"{metric}\""));
        for size in [Size::DESKTOP, Size::PHONE] {
            let svg = render_svg(&def, std::slice::from_ref(&s), &[], size);
            assert!(
                svg.contains(&format!("\n{unit}\n</text>")),
                "{metric}: {svg}"
            );
        }
    }
    assert_eq!(
        axis_unit(SeriesMetric::WeeklyLogins, Some(Granularity::Day)),
        "logins a week"
    );
    assert_eq!(
        axis_unit(SeriesMetric::ServersNew, Some(Granularity::Day)),
        "servers first seen a day"
    );
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
    let (phone_dates, desktop_dates) = (date_labels(&phone).len(), date_labels(&desktop).len());
    assert!(
        phone_dates >= 2 && phone_dates < desktop_dates,
        "{phone_dates} vs {desktop_dates}"
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
    // Read across a phone's plot, the label has the room beside its line only.
    assert!(!phone.contains(long) && phone.contains("2022-10-27 Tw"));
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

/// `series`, its last period still in progress: crawled up to the Wednesday of its week.
fn partial_last_week(name: &str, values: &[Option<f64>]) -> Series {
    let mut s = series(name, values);
    let last = s.points.last_mut().expect("a point");
    last.complete = false;
    last.as_of_day = last.date + chrono::Duration::days(2);
    s
}

/// The hollow dots drawn in `colour` (an incomplete period's, on a line).
fn hollow_dots(svg: &str, colour: &str) -> usize {
    svg.split("<circle ")
        .skip(1)
        .filter_map(|c| c.split("/>").next())
        .filter(|c| {
            let c = c.to_uppercase();
            c.contains("FILL=\"NONE\"") && c.contains(&format!("STROKE=\"{colour}\""))
        })
        .count()
}

/// The points of the first solid line drawn in `colour` (3 pixels wide).
fn solid_line_points(svg: &str, colour: &str) -> usize {
    svg.split("<polyline ")
        .skip(1)
        .filter_map(|l| l.split("/>").next())
        .find(|l| {
            let l = l.to_uppercase();
            l.contains(&format!("STROKE=\"{colour}\"")) && l.contains("STROKE-WIDTH=\"3\"")
        })
        .and_then(|l| l.split("points=\"").nth(1)?.split('"').next())
        .map(|p| p.split_whitespace().count())
        .unwrap_or(0)
}

#[test]
fn a_week_still_in_progress_is_drawn_apart_and_named_in_the_legend() {
    let def = chart("line", "\"weekly_registrations\", \"weekly_logins\"");
    // Registrations fall in the last week only because it is three days old.
    let values = [
        Some(900.0),
        Some(950.0),
        Some(1_000.0),
        Some(980.0),
        Some(310.0),
    ];
    let partial = [
        partial_last_week("registrations", &values),
        partial_last_week("logins", &[Some(5.0); 5]),
    ];
    let svg = render_svg(&def, &partial, &[], Size::DESKTOP);
    assert!(
        svg.contains("last week incomplete (data as of 2022-11-02)"),
        "the legend says which period and as of when: {svg}"
    );
    assert_eq!(hollow_dots(&svg, "#1F6FB4"), 1, "{svg}");
    assert_eq!(
        solid_line_points(&svg, "#1F6FB4"),
        4,
        "the solid line stops at the last complete week: {svg}"
    );
    assert_eq!(
        svg.matches("stroke=\"#1F6FB4\" stroke-width=\"3\"").count()
            + svg
                .matches("stroke=\"#1F6FB4\" stroke-width=\"2\" points")
                .count(),
        1,
        "no line runs to the hollow dot: {svg}"
    );
    assert!(
        svg.contains("data-points=\"10\""),
        "the point is still plotted"
    );
    // On a phone the note is shortened to fit, never dropped.
    let phone = render_svg(&def, &partial, &[], Size::PHONE);
    assert!(
        phone.contains("incomplete") && phone.contains("2022-11-02"),
        "{phone}"
    );

    let whole = [series("registrations", &values)];
    let svg = render_svg(&def, &whole, &[], Size::DESKTOP);
    assert!(!svg.contains("incomplete"), "complete weeks get no note");
    assert_eq!(hollow_dots(&svg, "#1F6FB4"), 0);
    assert_eq!(solid_line_points(&svg, "#1F6FB4"), 5);
}

#[test]
fn an_incomplete_bar_or_stack_is_pale_and_noted() {
    let new = partial_last_week("new", &[Some(40.0), Some(42.0), Some(12.0)]);
    let svg = render_svg(
        &chart("bars", "\"servers_new\""),
        &[new],
        &[],
        Size::DESKTOP,
    );
    assert!(svg.contains("last week incomplete"), "{svg}");
    assert_eq!(
        svg.matches("opacity=\"0.25\" fill=\"#1F6FB4\"").count(),
        1,
        "one pale bar: {svg}"
    );
    let a = partial_last_week("mastodon", &[Some(5.0), Some(6.0), Some(6.5)]);
    let b = partial_last_week("misskey", &[Some(1.0), Some(2.0), Some(2.1)]);
    let svg = render_svg(
        &chart("stacked-area", "\"servers_up\", \"servers_known\""),
        &[a, b],
        &[],
        Size::DESKTOP,
    );
    assert!(svg.contains("last week incomplete"), "{svg}");
    assert_eq!(
        svg.matches("<polygon").count(),
        4,
        "solid and pale bands: {svg}"
    );
}

/// The texts of `svg`: each one's x and text.
fn texts(svg: &str) -> Vec<(f64, String)> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|t| {
            let x = t.split("x=\"").nth(1)?.split('"').next()?.parse().ok()?;
            let text = t.split('>').nth(1)?.split("</text").next()?.trim();
            Some((x, text.to_owned()))
        })
        .collect()
}

/// The x axis' date labels of `svg`: each one's x and date. A narrow drawing's "27 Oct"
/// takes its year from the years written at the top right ("2022" or "2022–2023"), the
/// next year after a December.
fn date_labels(svg: &str) -> Vec<(f64, NaiveDate)> {
    let texts = texts(svg);
    let first_year = texts.iter().find_map(|(_, t)| {
        let year = t.split('–').next()?;
        (year.len() == 4)
            .then(|| year.parse::<i32>().ok())
            .flatten()
    });
    let mut year = first_year;
    let mut last_month = 0;
    texts
        .iter()
        .filter_map(|(x, text)| {
            if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                return Some((*x, date));
            }
            let y = year?;
            let date = NaiveDate::parse_from_str(&format!("{text} {y}"), "%d %b %Y").ok()?;
            let date = if date.month() < last_month {
                year = Some(y + 1);
                date.with_year(y + 1)?
            } else {
                date
            };
            last_month = date.month();
            Some((*x, date))
        })
        .collect()
}

/// Asserts the labels are in order and at least `room` apart (a label is about 75 units
/// wide at the desktop's text size, 85 at the phone's).
fn assert_apart(labels: &[(f64, NaiveDate)], room: f64) {
    for pair in labels.windows(2) {
        assert!(pair[0].1 < pair[1].1, "{labels:?}");
        assert!(
            pair[1].0 - pair[0].0 >= room,
            "overlapping labels: {labels:?}"
        );
    }
}

#[test]
fn a_wide_chart_names_enough_dates_and_a_narrow_one_fewer_without_overlap() {
    let def = chart("line", "\"servers_up\"");
    // A quarter (13 weeks) used to get two labels, a year four.
    for (n, least) in [(13, 5), (53, 5)] {
        let s = [weeks(n)];
        let desktop = date_labels(&render_svg(&def, &s, &[], Size::DESKTOP));
        let phone = date_labels(&render_svg(&def, &s, &[], Size::PHONE));
        assert!(desktop.len() >= least, "{n} weeks, desktop: {desktop:?}");
        assert!(desktop.len() <= 10, "{n} weeks, desktop: {desktop:?}");
        assert_apart(&desktop, 80.0);
        assert!(phone.len() >= 2, "{n} weeks, phone: {phone:?}");
        assert_apart(&phone, 55.0);
    }
    // Labels fall on calendar steps: a year's on month starts, a quarter's on Mondays.
    let year = date_labels(&render_svg(&def, &[weeks(53)], &[], Size::DESKTOP));
    assert!(year.iter().all(|(_, d)| d.day() == 1), "{year:?}");
    let quarter = date_labels(&render_svg(&def, &[weeks(13)], &[], Size::DESKTOP));
    assert!(
        quarter
            .iter()
            .all(|(_, d)| d.weekday() == chrono::Weekday::Mon),
        "{quarter:?}"
    );
    // A wider drawing gets more, a one-point chart still one.
    let wide = date_labels(&render_svg(&def, &[weeks(53)], &[], Size::for_width(1440)));
    assert!(wide.len() > year.len(), "{wide:?}");
    let one = date_labels(&render_svg(&def, &[weeks(1)], &[], Size::DESKTOP));
    assert!(!one.is_empty(), "{one:?}");
}

#[test]
fn a_phone_drawing_names_days_briefly_and_its_years_once() {
    let def = chart("line", "\"servers_up\"");
    // The demo's story: every day from September to December 2022. Whole dates left room
    // for two labels across a phone (two months apart).
    let mut daily = weeks(1);
    daily.granularity = Granularity::Day;
    let start = NaiveDate::from_ymd_opt(2022, 9, 1).expect("a date");
    daily.points = (0..122)
        .map(|i| {
            let date = start + chrono::Duration::days(i);
            Point {
                date,
                value: Some(3_000.0 + 40.0 * i as f64),
                servers_reporting: 10,
                complete: true,
                as_of_day: date,
            }
        })
        .collect();
    let svg = render_svg(&def, &[daily], &[], Size::PHONE);
    let labels = date_labels(&svg);
    assert!(labels.len() >= 3, "{labels:?}");
    assert_apart(&labels, 55.0);
    let s = [weeks(12)];
    assert!(texts(&svg).iter().any(|(_, t)| t == "2022"), "{svg}");
    assert!(
        !texts(&svg).iter().any(|(_, t)| t.starts_with("2022-")),
        "no ISO date on a phone: {svg}"
    );
    // A range over a new year names both years, and its labels run on into January.
    let svg = render_svg(&def, &[weeks(20)], &[], Size::PHONE);
    assert!(texts(&svg).iter().any(|(_, t)| t == "2022–2023"), "{svg}");
    let labels = date_labels(&svg);
    assert!(labels.iter().any(|(_, d)| d.year() == 2023), "{labels:?}");
    // The wide drawing keeps whole dates.
    let wide = render_svg(&def, &s, &[], Size::DESKTOP);
    assert!(texts(&wide).iter().any(|(_, t)| t.starts_with("2022-")));
}

#[test]
fn an_empty_series_says_there_is_no_data() {
    let svg = render_svg(&chart("line", "\"servers_known\""), &[], &[], Size::DESKTOP);
    assert!(svg.contains("No data for this range yet."));
    assert!(svg.contains("data-points=\"0\""));
}

#[test]
fn a_band_chart_fills_its_last_two_series_as_one_band_under_its_lines() {
    let band = ChartDef::parse(
        "coverage.toml",
        "title = \"t\"\ndescription = \"d\"\nmetrics = [\"servers_known\"]\nkind = \"band\"\n\
         breakdown = \"coverage\"\npage = \"growth\"\n",
    )
    .expect("a valid band chart");
    let four = [
        series("servers known", &[Some(100.0), Some(110.0), Some(120.0)]),
        series("estimated total", &[Some(104.0), Some(115.0), Some(124.0)]),
        series(
            "estimate, 95 % low",
            &[Some(101.0), Some(111.0), Some(121.0)],
        ),
        series(
            "estimate, 95 % high",
            &[Some(130.0), Some(140.0), Some(150.0)],
        ),
    ];
    let svg = render_svg(&band, &four, &[], Size::DESKTOP);
    assert_eq!(svg.matches("<polygon").count(), 1, "one band: {svg}");
    assert!(svg.contains(BAND_LABEL), "the band's legend");
    assert!(
        !svg.contains("estimate, 95 % low"),
        "its edges are no lines"
    );
    // The same series as lines: no band.
    let lines = render_svg(
        &chart("line", "\"servers_known\""),
        &four,
        &[],
        Size::DESKTOP,
    );
    assert_eq!(lines.matches("<polygon").count(), 0);
    assert!(lines.contains("estimate, 95 % low"));
}
