//! Screenshots of the overview in headless Chromium at phone and desktop widths. Skipped, with a
//! message, where `/usr/bin/chromium` is not installed (`apt-get install -y chromium`).

use crate::{spawn_app, TempDir};
use anyhow::{ensure, Result};
use std::path::Path;

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

pub(crate) fn screenshot(
    url: &str,
    width: u32,
    height: u32,
    out: &Path,
    profile: &Path,
) -> Result<()> {
    let status = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    ensure!(status.success(), "chromium failed: {status}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_renders_at_phone_and_desktop_widths() -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        crate::skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install -y chromium)"
        ));
        return Ok(());
    }
    let app = spawn_app(false).await?;
    let dir = TempDir::new("shots");
    let keep = std::env::var_os("FEDICENSUS_KEEP_SCREENSHOTS").map(std::path::PathBuf::from);
    for (name, w, h) in [("phone", 390, 844), ("desktop", 1280, 900)] {
        let out = dir.0.join(format!("overview-{name}.png"));
        let url = app.url("/");
        let (out2, profile) = (out.clone(), dir.0.join(format!("profile-{name}")));
        tokio::task::spawn_blocking(move || screenshot(&url, w, h, &out2, &profile)).await??;
        let png = std::fs::read(&out)?;
        ensure!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        ensure!(
            png.len() > 20_000,
            "{name}: only {} bytes, a blank page?",
            png.len()
        );
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        ensure!(width == w, "{name}: {width} px wide, expected {w}");
        if let Some(keep) = &keep {
            std::fs::create_dir_all(keep)?;
            std::fs::copy(&out, keep.join(format!("overview-{name}.png")))?;
        }
    }
    Ok(())
}

/// What Chromium reports, laid out at `width` px, for `html` with a script that measures every
/// table's box and the page: `none`, or what overflows (`table N: content>box`, `page: ...`).
fn measured_overflow(html: &str, width: u32, dir: &Path, name: &str) -> Result<String> {
    const MEASURE: &str = r#"<script>
const over = [];
document.querySelectorAll('.table-wrap, .prose table').forEach((box, i) => {
  if (box.scrollWidth > box.clientWidth + 1) over.push('table ' + i + ': ' + box.scrollWidth + '>' + box.clientWidth);
});
const page = document.documentElement;
if (page.scrollWidth > window.innerWidth + 1) over.push('page: ' + page.scrollWidth + '>' + window.innerWidth);
document.body.setAttribute('data-measured', over.join('; ') || 'none');
</script>"#;
    measured(html, MEASURE, width, dir, &format!("{name}-overflow"))
}

/// The `data-measured` attribute `script` leaves on the body of `html` laid out by Chromium at
/// `width` px.
pub(crate) fn measured(
    html: &str,
    script: &str,
    width: u32,
    dir: &Path,
    name: &str,
) -> Result<String> {
    let file = dir.join(format!("{name}-{width}.html"));
    std::fs::write(&file, html.replace("</body>", &format!("{script}</body>")))?;
    let output = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join(format!("profile-{name}-{width}")).display()
        ))
        .arg(format!("--window-size={width},900"))
        .arg(format!("file://{}", file.display()))
        .stderr(std::process::Stdio::null())
        .output()?;
    ensure!(
        output.status.success(),
        "chromium failed: {}",
        output.status
    );
    let dom = String::from_utf8_lossy(&output.stdout);
    let found = dom
        .split("data-measured=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("{name}: the measuring script did not run"))?;
    Ok(found.to_owned())
}

/// Per chart Chromium shows at `width` px (the drawing for that screen; the other is hidden):
/// its date labels, how many of them overlap the next, and how many run outside the drawing,
/// as `labels/overlapping/outside` separated by spaces.
fn measured_date_labels(html: &str, width: u32, dir: &Path, name: &str) -> Result<String> {
    const MEASURE: &str = r#"<script>
const dated = /^(\d{1,2} [A-Z][a-z]{2}|\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2} \d{4})$/;
const out = [];
document.querySelectorAll('svg').forEach((svg) => {
  const frame = svg.getBoundingClientRect();
  if (frame.width === 0) return;
  const boxes = [...svg.querySelectorAll('text')]
    .filter((t) => dated.test(t.textContent.trim()))
    .map((t) => t.getBoundingClientRect())
    .sort((a, b) => a.left - b.left);
  let overlapping = 0, outside = 0;
  boxes.forEach((b, i) => {
    if (i + 1 < boxes.length && b.right > boxes[i + 1].left) overlapping++;
    if (b.left < frame.left - 1 || b.right > frame.right + 1) outside++;
  });
  if (boxes.length > 0) out.push(boxes.length + '/' + overlapping + '/' + outside);
});
document.body.setAttribute('data-measured', out.join(' ') || 'none');
</script>"#;
    measured(html, MEASURE, width, dir, &format!("{name}-labels"))
}

#[tokio::test(flavor = "multi_thread")]
async fn chart_dates_on_a_phone_are_several_apart_and_inside_the_drawing() -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        crate::skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install -y chromium)"
        ));
        return Ok(());
    }
    let app = spawn_app(false).await?;
    let dir = TempDir::new("labels");
    let html = app.get("/").await?.body;
    let root = dir.0.clone();
    let (phone, desktop) = tokio::task::spawn_blocking(move || {
        anyhow::Ok((
            measured_date_labels(&html, 390, &root, "overview")?,
            measured_date_labels(&html, 1280, &root, "overview")?,
        ))
    })
    .await??;
    for (width, found) in [(390, &phone), (1280, &desktop)] {
        ensure!(found != "none", "{width} px: no chart with dates shown");
        for chart in found.split(' ') {
            let counts: Vec<u32> = chart.split('/').filter_map(|n| n.parse().ok()).collect();
            ensure!(counts.len() == 3, "{width} px: {found}");
            ensure!(
                counts[1] == 0 && counts[2] == 0,
                "{width} px: dates overlap or run outside a chart: {found}"
            );
        }
    }
    // The phone's charts carry more than the two dates they once had.
    let most = phone
        .split(' ')
        .filter_map(|c| c.split('/').next()?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    ensure!(
        most >= 3,
        "390 px: at most {most} dates on a chart: {phone}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_fit_their_boxes_at_1280_px_and_no_page_overflows_a_phone() -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        crate::skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install -y chromium)"
        ));
        return Ok(());
    }
    let app = spawn_app(false).await?;
    let dir = TempDir::new("overflow");
    for (name, path) in [
        ("crawl", "/crawl"),
        ("methodology", "/methodology"),
        ("servers", "/servers"),
        ("overview", "/"),
        ("languages", "/languages"),
        ("growth", "/growth"),
    ] {
        let html = app.get(path).await?.body;
        let (html, root) = (html.clone(), dir.0.clone());
        let (desktop, phone) = tokio::task::spawn_blocking(move || {
            anyhow::Ok((
                measured_overflow(&html, 1280, &root, name)?,
                measured_overflow(&html, 390, &root, name)?,
            ))
        })
        .await??;
        // At 1280 px every table fits its box: nothing hidden to the right.
        if name == "crawl" || name == "methodology" {
            ensure!(desktop == "none", "{path} at 1280 px: {desktop}");
        }
        // On a phone a wide table may scroll inside its box, but the page never runs wider
        // than the screen.
        ensure!(
            !desktop.contains("page") && !phone.contains("page"),
            "{path}: the page overflows: 1280 px {desktop}; 390 px {phone}"
        );
    }
    Ok(())
}

/// What Chromium shows of the Comparison page at `width` px once joinmastodon.org's statistics
/// are imported: the legend of the Mastodon servers chart, how many of its entries are drawn in
/// the visible drawing (a line in the swatch's colour), the rows of the definitions table, and
/// whether the page fits the screen.
fn measured_comparison(html: &str, width: u32, dir: &Path) -> Result<String> {
    const MEASURE: &str = r#"<script>
const sec = document.getElementById('comparison-mastodon-servers');
const svg = [...sec.querySelectorAll('svg')].find((s) => s.getBoundingClientRect().width > 0);
const swatches = [...sec.querySelectorAll('.legend .swatch')];
const legend = swatches.map((s) => s.parentElement.textContent.trim()).join('|');
const strokes = new Set([...svg.querySelectorAll('*')].map((e) => (e.getAttribute('stroke') || '').toLowerCase()));
const drawn = swatches.filter((s) => {
  const hex = (s.getAttribute('style').match(/#[0-9a-fA-F]{6}/) || [''])[0].toLowerCase();
  return hex !== '' && strokes.has(hex);
}).length;
const defs = [...document.querySelectorAll('table.definitions tbody tr')]
  .filter((r) => r.getBoundingClientRect().height > 0).length;
const page = document.documentElement.scrollWidth > window.innerWidth + 1 ? 'overflows' : 'fits';
document.body.setAttribute('data-measured',
  'legend=' + legend + ';drawn=' + drawn + '/' + swatches.length + ';definitions=' + defs + ';page=' + page);
</script>"#;
    measured(html, MEASURE, width, dir, "comparison")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_comparison_page_draws_each_imported_census_beside_fedicensus() -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        crate::skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install -y chromium)"
        ));
        return Ok(());
    }
    let app = spawn_app(false).await?;
    let name = "joinmastodon-statistics-2022-09-30-to-2023-01-22.json";
    let bytes = std::fs::read(format!(
        "{}/../fedicensus-core/tests/fixtures/reference/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))?;
    let file = fedicensus_core::reference::parse_reference(
        fedicensus_core::reference::ReferenceSource::JoinMastodon,
        &bytes,
        None,
    )?;
    app.storage
        .import_reference(&file, &bytes, name, crate::at(11, 21))
        .await?;
    let dir = TempDir::new("comparison");
    let html = app.get("/comparison").await?.body;
    let root = dir.0.clone();
    let (desktop, phone) = tokio::task::spawn_blocking(move || {
        anyhow::Ok((
            measured_comparison(&html, 1280, &root)?,
            measured_comparison(&html, 390, &root)?,
        ))
    })
    .await??;
    for (width, found) in [(1280, &desktop), (390, &phone)] {
        ensure!(
            found == "legend=fedicensus|joinmastodon.org;drawn=2/2;definitions=5;page=fits",
            "{width} px: {found}"
        );
    }
    Ok(())
}

/// The Blocks page in Chromium: its two tables fit their boxes at 1280 px, no page runs wider
/// than a phone, and the weekly bars are drawn (laid out wider than nothing).
#[tokio::test(flavor = "multi_thread")]
async fn the_blocks_page_lays_out_its_tables_and_bars_at_both_widths() -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        crate::skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install -y chromium)"
        ));
        return Ok(());
    }
    let app = spawn_app(false).await?;
    crate::blocks::add_blocks(&app).await?;
    let dir = TempDir::new("blocks");
    let html = app.get("/blocks").await?.body;
    ensure!(html.contains("evil.example"), "the page lists the blocks");
    const BARS: &str = r#"<script>
const widths = [...document.querySelectorAll('.bar.added')].map((b) => Math.round(b.getBoundingClientRect().width));
const rows = document.querySelectorAll('#most-blocked tbody tr').length;
document.body.setAttribute('data-measured', rows + ' rows; bars ' + widths.join(','));
</script>"#;
    let root = dir.0.clone();
    let (desktop, phone, bars) = tokio::task::spawn_blocking(move || {
        anyhow::Ok((
            measured_overflow(&html, 1280, &root, "blocks")?,
            measured_overflow(&html, 390, &root, "blocks")?,
            measured(&html, BARS, 1280, &root, "blocks-bars")?,
        ))
    })
    .await??;
    ensure!(desktop == "none", "/blocks at 1280 px: {desktop}");
    ensure!(
        !phone.contains("page"),
        "/blocks overflows a phone: {phone}"
    );
    // Three domains listed; the week with additions draws a bar, the others none.
    ensure!(bars.starts_with("3 rows; bars "), "{bars}");
    let widths: Vec<u32> = bars
        .trim_start_matches("3 rows; bars ")
        .split(',')
        .filter_map(|w| w.parse().ok())
        .collect();
    ensure!(
        widths.iter().any(|w| *w > 10) && widths.contains(&0),
        "bars: {bars}"
    );
    Ok(())
}
