//! The dashboard's one error type, and how each kind of failure answers over HTTP.
//!
//! A visitor's mistake (a bad date, an unknown metric) is a 400 with a JSON body that says what
//! was wrong and what is accepted, never a 500: the census is read by scripts as much as by
//! people, and a script needs to know how to fix its request. Our own failures (the database,
//! a template) are logged once here, where they become a 500, and answered without details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What went wrong in the dashboard.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query parameter or path segment a visitor got wrong.
    #[error("bad parameter {param}: {problem} (accepted: {accepted})")]
    BadRequest {
        param: String,
        problem: String,
        accepted: String,
    },
    /// Nothing by that name (a server, a metric page).
    #[error("not found: {0}")]
    NotFound(String),
    /// An admin action without the right bearer token.
    #[error("admin action refused: {0}")]
    Forbidden(&'static str),
    /// A chart definition file that cannot be used; `key` names the offending key.
    #[error("chart definition {file}: key `{key}`: {problem}")]
    ChartDefinition {
        file: String,
        key: String,
        problem: String,
    },
    /// Reading chart definitions or documents from disk failed.
    #[error("reading {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] fedicensus_storage::Error),
    /// The storage layer cannot answer this yet (see [`crate::data`]).
    #[error("not available from storage yet: {0}")]
    Unavailable(&'static str),
    /// A page template failed to render.
    #[error("rendering template")]
    Template(#[from] minijinja::Error),
    /// Writing CSV failed.
    #[error("writing CSV")]
    Csv(#[from] csv::Error),
    /// A request body larger than its route accepts.
    #[error("request body larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Too many requests of a kind at once; try again after `retry_after_secs`.
    #[error("busy: {what}; try again in {retry_after_secs} s")]
    Busy {
        what: &'static str,
        retry_after_secs: u64,
    },
    /// Our own failure elsewhere (encoding an image, reading a response body).
    #[error("{0}")]
    Internal(String),
}

/// The dashboard's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A 400 for parameter `param`.
    pub fn bad(
        param: impl Into<String>,
        problem: impl Into<String>,
        accepted: impl Into<String>,
    ) -> Error {
        Error::BadRequest {
            param: param.into(),
            problem: problem.into(),
            accepted: accepted.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unavailable(_) => StatusCode::NOT_IMPLEMENTED,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Storage(fedicensus_storage::Error::UnknownServer { .. }) => {
                StatusCode::NOT_FOUND
            }
            Error::Storage(fedicensus_storage::Error::InvalidQuery(_)) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let expected = matches!(self, Error::Unavailable(_) | Error::Busy { .. });
        let message = if status.is_server_error() && !expected {
            tracing::error!(error = %self, source = ?std::error::Error::source(&self), "request failed");
            "internal error (logged on the server)".to_owned()
        } else {
            self.to_string()
        };
        let mut body = serde_json::json!({ "error": message });
        if let Error::BadRequest {
            param, accepted, ..
        } = &self
        {
            body["parameter"] = param.clone().into();
            body["accepted"] = accepted.clone().into();
        }
        let mut response = (status, axum::Json(body)).into_response();
        if let Error::Busy {
            retry_after_secs, ..
        } = &self
        {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
        response
    }
}
