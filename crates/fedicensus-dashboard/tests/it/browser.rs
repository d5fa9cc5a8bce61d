//! Screenshots of the overview in headless Chromium at phone and desktop widths. Skipped, with a
//! message, where `/usr/bin/chromium` is not installed (`apt-get install -y chromium`).

use crate::{spawn_app, TempDir};
use anyhow::{ensure, Result};
use std::path::Path;

const CHROMIUM: &str = "/usr/bin/chromium";

fn screenshot(url: &str, width: u32, height: u32, out: &Path, profile: &Path) -> Result<()> {
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
document.body.setAttribute('data-overflow', over.join('; ') || 'none');
</script>"#;
    let file = dir.join(format!("{name}-{width}.html"));
    std::fs::write(&file, html.replace("</body>", &format!("{MEASURE}</body>")))?;
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
        .split("data-overflow=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("{name}: the measuring script did not run"))?;
    Ok(found.to_owned())
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
