//! Request handlers, one module per page or API family, and the query-parameter parsing they
//! share. Parameters are parsed here, by hand, so that every mistake answers 400 with the
//! parameter's name and what is accepted (axum's own rejections are plain text).

pub mod admin;
pub mod api;
pub mod badges;
pub mod charts;
pub mod embed;
pub mod exports;
pub mod ops;
pub mod pages;

use crate::charts::ChartDef;
use crate::data::ChartRequest;
use crate::error::{Error, Result};
use crate::series::{parse_date, Granularity, View};
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use chrono::NaiveDate;
use std::collections::HashMap;

/// A request's query parameters.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Takes the parsed query, refusing parameters not in `known` (a misspelt parameter silently
    /// ignored would show the wrong numbers).
    pub fn new(
        query: Result<Query<HashMap<String, String>>, QueryRejection>,
        known: &[&str],
    ) -> Result<Params> {
        let Query(map) = query.map_err(|e| {
            Error::bad(
                "(query string)",
                e.body_text(),
                "name=value pairs joined by &",
            )
        })?;
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(Error::bad(
                unknown.as_str(),
                "unknown parameter",
                known.join(", "),
            ));
        }
        Ok(Params(map))
    }

    /// A parameter's value; an empty value counts as absent (HTML forms send empty fields).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>> {
        self.get(name).map(|v| parse_date(name, v)).transpose()
    }

    pub fn granularity(&self) -> Result<Option<Granularity>> {
        self.get("granularity")
            .map(|v| Granularity::parse("granularity", v))
            .transpose()
    }

    pub fn view(&self) -> Result<View> {
        Ok(self
            .get("view")
            .map(|v| View::parse("view", v))
            .transpose()?
            .unwrap_or_default())
    }

    /// A positive integer no larger than `max`.
    pub fn number(&self, name: &str, default: usize, max: usize) -> Result<usize> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(Error::bad(
                    name,
                    format!("{v:?} is not a whole number from 1 to {max}"),
                    format!("1 to {max}"),
                )),
            },
        }
    }

    /// The output format among `accepted` (the first is the default).
    pub fn format(&self, accepted: &[&'static str]) -> Result<&'static str> {
        match self.get("format") {
            None => Ok(accepted[0]),
            Some(v) => accepted.iter().copied().find(|a| *a == v).ok_or_else(|| {
                Error::bad(
                    "format",
                    format!("unknown format {v:?}"),
                    accepted.join(", "),
                )
            }),
        }
    }

    /// A software family name, lowercased.
    pub fn software(&self) -> Result<Option<String>> {
        self.get("software")
            .map(|s| software_name("software", s))
            .transpose()
    }
}

/// A software family name (letters, digits, `- _ .` and spaces, up to 64 bytes), lowercased;
/// `param` names it in the error.
pub fn software_name(param: &str, s: &str) -> Result<String> {
    if s.len() <= 64 && s.chars().all(|c| c.is_alphanumeric() || " -_.".contains(c)) {
        Ok(s.trim().to_lowercase())
    } else {
        Err(Error::bad(
            param,
            format!("{s:?} is not a software name"),
            "a software family such as mastodon, misskey, lemmy (letters, digits, - _ .)",
        ))
    }
}

/// Parameters every chart accepts.
pub const CHART_PARAMS: &[&str] = &["from", "to", "granularity", "software", "view"];

/// A chart's request: its defaults, overridden by the URL's parameters.
pub fn chart_request(
    chart: &ChartDef,
    params: &Params,
    range: (NaiveDate, NaiveDate),
) -> Result<ChartRequest> {
    let from = params.date("from")?.unwrap_or(chart.from.resolve(range));
    let to = params.date("to")?.unwrap_or(chart.to.resolve(range));
    if from > to {
        return Err(Error::bad(
            "from",
            format!("{from} is after to={to}"),
            "from on or before to",
        ));
    }
    Ok(ChartRequest {
        from,
        to,
        granularity: params.granularity()?.unwrap_or(chart.granularity),
        software: params.software()?.or_else(|| chart.software.clone()),
        view: params.view()?,
    })
}

/// A query string that reproduces `request` (for links to a chart's data and image).
pub fn request_query(request: &ChartRequest) -> String {
    let mut q = format!(
        "from={}&to={}&granularity={}&view={}",
        request.from,
        request.to,
        request.granularity.as_str(),
        request.view.as_str()
    );
    if let Some(s) = &request.software {
        q.push_str("&software=");
        q.push_str(&url_escape(s));
    }
    q
}

/// Percent-encodes a query value (names here are short and mostly ASCII).
pub fn url_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
