//! Badges: small SVG images in two parts, a label and a value ("mastodon | 8,388 servers up"),
//! drawn like shields.io's "flat" badges so that they sit among the badges operators already
//! put on their about pages.
//!
//! A badge is a pure function of its two texts (no I/O). Each part is as wide as its text,
//! measured in the embedded DejaVu Sans ([`crate::render::text_width`]), plus padding; the text
//! carries that width as `textLength`, so a viewer whose fallback font is wider or narrower still
//! fits it in its box. Every text is escaped: a label can be a server's name.

use crate::render::{escape_xml, text_width};

/// The badge's height and its text's size, in pixels (shields.io's).
const HEIGHT: u32 = 20;
const FONT_SIZE: u32 = 11;
/// Room left and right of each part's text.
const PADDING: u32 = 6;
/// The label's background, and the value's when there is a figure or none.
const LABEL_COLOR: &str = "#555";
pub const VALUE_COLOR: &str = "#1f6fb4";
pub const NO_DATA_COLOR: &str = "#9f9f9f";

/// A badge: `label` on grey, `value` on `color`, with `title` as its accessible name and tooltip.
/// The width comes from the texts; `Err` only when the embedded font cannot be read.
pub fn badge_svg(label: &str, value: &str, color: &str, title: &str) -> Result<String, String> {
    let label_text = text_width(label, FONT_SIZE)?;
    let value_text = text_width(value, FONT_SIZE)?;
    let label_w = label_text + 2 * PADDING;
    let value_w = value_text + 2 * PADDING;
    let width = label_w + value_w;
    let (label, value, title, color) = (
        escape_xml(label),
        escape_xml(value),
        escape_xml(title),
        escape_xml(color),
    );
    let label_x = label_w / 2;
    let value_x = label_w + value_w / 2;
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {width} {HEIGHT}\" role=\"img\" aria-label=\"{title}\">\
         <title>{title}</title>\
         <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" \
         stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"r\"><rect width=\"{width}\" height=\"{HEIGHT}\" rx=\"3\" fill=\"#fff\"/>\
         </clipPath>\
         <g clip-path=\"url(#r)\">\
         <rect width=\"{label_w}\" height=\"{HEIGHT}\" fill=\"{LABEL_COLOR}\"/>\
         <rect x=\"{label_w}\" width=\"{value_w}\" height=\"{HEIGHT}\" fill=\"{color}\"/>\
         <rect width=\"{width}\" height=\"{HEIGHT}\" fill=\"url(#s)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" \
         font-family=\"DejaVu Sans,Verdana,Geneva,sans-serif\" font-size=\"{FONT_SIZE}\">\
         <text x=\"{label_x}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" \
         textLength=\"{label_text}\" lengthAdjust=\"spacingAndGlyphs\">{label}</text>\
         <text x=\"{label_x}\" y=\"14\" textLength=\"{label_text}\" \
         lengthAdjust=\"spacingAndGlyphs\">{label}</text>\
         <text x=\"{value_x}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" \
         textLength=\"{value_text}\" lengthAdjust=\"spacingAndGlyphs\">{value}</text>\
         <text x=\"{value_x}\" y=\"14\" textLength=\"{value_text}\" \
         lengthAdjust=\"spacingAndGlyphs\">{value}</text></g></svg>"
    ))
}

/// The width a badge's `width` attribute says (for tests and for callers that lay badges out).
pub fn badge_width(svg: &str) -> Option<u32> {
    svg.split("width=\"")
        .nth(1)?
        .split('"')
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_is_as_wide_as_its_texts_and_escapes_them() -> Result<(), String> {
        let short = badge_svg("a.example", "5 users", VALUE_COLOR, "t")?;
        let long = badge_svg(
            "a-much-longer-name.example",
            "1,500 users",
            VALUE_COLOR,
            "t",
        )?;
        let (ws, wl) = (
            badge_width(&short).ok_or("a width")?,
            badge_width(&long).ok_or("a width")?,
        );
        assert!(wl > ws + 60, "{ws} {wl}");
        let hostile = badge_svg("<script>&", "\"><b>", VALUE_COLOR, "<t>")?;
        assert!(!hostile.contains("<script>") && !hostile.contains("<b>"));
        assert!(hostile.contains("&lt;script&gt;&amp;") && hostile.contains("&quot;&gt;&lt;b&gt;"));
        assert!(hostile.contains("<title>&lt;t&gt;</title>"));
        Ok(())
    }
}
