//! Charts as PNG: the same definitions as the SVGs, drawn on a bitmap.

use crate::spawn_app;
use anyhow::{ensure, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The raw bytes of a GET (the test client's `body` is text).
async fn get_bytes(addr: std::net::SocketAddr, path: &str) -> Result<(String, Vec<u8>)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("a response head")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    Ok((head, raw[split + 4..].to_vec()))
}

/// Decodes an RGB(A) PNG: (width, height, pixels as RGB).
fn decode(bytes: &[u8]) -> Result<(u32, u32, Vec<[u8; 3]>)> {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().context("a buffer size")?];
    let info = reader.next_frame(&mut buf)?;
    let channels = info.color_type.samples();
    ensure!(channels >= 3, "a colour image, not {:?}", info.color_type);
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok((info.width, info.height, pixels))
}

#[tokio::test]
async fn every_chart_is_offered_as_a_png_that_is_drawn() -> Result<()> {
    let app = spawn_app(false).await?;
    let list: serde_json::Value = serde_json::from_str(&app.get("/api/v1/charts").await?.body)?;
    let charts = list["charts"].as_array().context("a list of charts")?;
    ensure!(!charts.is_empty());
    for chart in charts {
        let link = chart["links"]["png"].as_str().context("a png link")?;
        let (head, body) = get_bytes(app.addr, link).await?;
        ensure!(head.starts_with("http/1.1 200"), "{link}: {head}");
        ensure!(head.contains("content-type: image/png"), "{link}: {head}");
        let (w, h, pixels) = decode(&body).with_context(|| format!("decoding {link}"))?;
        assert_eq!(
            (w, h),
            (
                fedicensus_dashboard::render::WIDTH,
                fedicensus_dashboard::render::HEIGHT
            )
        );
        let white = pixels.iter().filter(|p| **p == [255, 255, 255]).count();
        let ink = pixels.len() - white;
        ensure!(
            ink > pixels.len() / 100,
            "{link}: only {ink} of {} pixels are not white",
            pixels.len()
        );
        ensure!(white > pixels.len() / 3, "{link}: a white background");
    }
    // The overview's servers chart has data: its first series' colour is drawn, and so is text
    // (dark grey to black pixels from the axis labels).
    let (_, body) = get_bytes(app.addr, "/api/v1/charts/overview-servers/png").await?;
    let (_, _, pixels) = decode(&body)?;
    let series = pixels.iter().filter(|p| **p == [0x1f, 0x6f, 0xb4]).count();
    ensure!(series > 200, "the first series is drawn ({series} pixels)");
    let dark = pixels.iter().filter(|p| p.iter().all(|c| *c < 60)).count();
    ensure!(dark > 300, "labels are drawn ({dark} dark pixels)");
    // The chart page links to it.
    let page = app.get("/charts/overview-servers").await?.body;
    ensure!(
        page.contains("overview-servers&#x2f;png?"),
        "the chart page links to its PNG"
    );
    Ok(())
}

#[tokio::test]
async fn a_png_is_drawn_at_the_width_asked_for() -> Result<()> {
    let app = spawn_app(false).await?;
    let (head, body) = get_bytes(app.addr, "/api/v1/charts/overview-servers/png?width=330").await?;
    ensure!(head.starts_with("http/1.1 200"), "{head}");
    let (w, h, pixels) = decode(&body)?;
    assert_eq!((w, h), (330, 340));
    let series = pixels.iter().filter(|p| **p == [0x1f, 0x6f, 0xb4]).count();
    ensure!(series > 100, "the first series is drawn ({series} pixels)");
    Ok(())
}
