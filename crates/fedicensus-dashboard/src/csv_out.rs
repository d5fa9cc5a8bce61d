//! CSV as the dashboard publishes it, safe to open in a spreadsheet.
//!
//! Text that came from a crawled server (a software name, a domain, a version) is untrusted: a
//! cell starting with `=`, `+`, `-` or `@` is a formula to Excel and LibreOffice ("CSV
//! injection"), so such text cells get a leading `'`. Numbers are written as numbers and never
//! touched, so a negative figure stays a negative figure.

use crate::error::Result;
use std::borrow::Cow;

/// A text cell made safe for spreadsheets (see the module docs). Tabs and carriage returns at the
/// start are formula triggers too.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// One CSV cell: untrusted text, or a number written as is.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    Number(String),
    Empty,
}

impl<'a> Cell<'a> {
    pub fn text(text: &'a str) -> Cell<'a> {
        Cell::Text(text)
    }

    pub fn opt_text(text: Option<&'a str>) -> Cell<'a> {
        text.map(Cell::Text).unwrap_or(Cell::Empty)
    }

    pub fn number(value: impl ToString) -> Cell<'a> {
        Cell::Number(value.to_string())
    }

    pub fn opt_number<T: ToString>(value: Option<T>) -> Cell<'a> {
        value
            .map(|v| Cell::Number(v.to_string()))
            .unwrap_or(Cell::Empty)
    }
}

/// Builds a CSV document row by row.
#[derive(Debug)]
pub struct CsvDoc {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvDoc {
    /// A document with this header row.
    pub fn new(header: &[&str]) -> Result<CsvDoc> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(header)?;
        Ok(CsvDoc { writer })
    }

    /// Appends a row; text cells are neutralised, numbers are not.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<()> {
        let record: Vec<Cow<'_, str>> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(t) => neutralise(t),
                Cell::Number(n) => Cow::Borrowed(n.as_str()),
                Cell::Empty => Cow::Borrowed(""),
            })
            .collect();
        self.writer
            .write_record(record.iter().map(|c| c.as_ref()))?;
        Ok(())
    }

    /// The finished document.
    pub fn finish(self) -> Result<String> {
        let bytes = self
            .writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_triggers_get_a_leading_quote_and_plain_text_does_not() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-cmd"), "'-cmd");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("mastodon"), "mastodon");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn negative_numbers_are_left_alone_and_text_is_quoted_safely() {
        let mut doc = CsvDoc::new(&["name", "value"]).expect("header");
        doc.row(&[Cell::text("-5"), Cell::number(-5)]).expect("row");
        doc.row(&[Cell::text("a,\"b\""), Cell::opt_number::<i64>(None)])
            .expect("row");
        let text = doc.finish().expect("finish");
        assert_eq!(text, "name,value\n'-5,-5\n\"a,\"\"b\"\"\",\n");
    }
}
