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
        println!("skipped: {CHROMIUM} is not installed (apt-get install -y chromium)");
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
