//! The control host, `sim.control`: the simulator's own endpoints, served on the same listener
//! as the virtual servers so a demo or an end-to-end test needs nothing but the one port.
//!
//! `sim.control` cannot collide with a virtual server (`.control` is not a TLD) and resolves
//! through the simulator's DNS like any other name. Its requests are not in the request log:
//! they are the experimenter's, not the crawler's.
//!
//! | request | answer |
//! |---|---|
//! | `GET /world` | a JSON summary: scenario, seed, servers, clock, requests served |
//! | `GET /ca.pem` | the CA certificate to trust |
//! | `GET /requests.csv` | the request log |
//! | `GET /clock` | the simulated time |
//! | `POST /clock?at=2022-11-15T00:00:00Z` | sets the simulated time |
//! | `GET /truth.csv?at=...` | the ground truth at `at` (default: now) |

use super::body::StreamBody;
use super::Shared;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::header::HeaderValue;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<StreamBody> {
    let mut response = Response::new(StreamBody::full(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<StreamBody> {
    answer(
        status,
        "text/plain; charset=utf-8",
        Bytes::from(body.into()),
    )
}

/// The value of `key` in a query string (no percent-decoding beyond `%3A` and `+`, which is all
/// an RFC 3339 time needs).
fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3A", ":")
                .replace("%3a", ":")
                .replace("%2B", "+")
        })
    })
}

fn parse_at(raw: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!(
        "cannot read {raw:?} as a time: give an RFC 3339 time like 2022-11-15T00:00:00Z or a date like 2022-11-15\n"
    ))
}

/// Answers one control request.
pub(crate) async fn serve(shared: &Shared, req: Request<Incoming>) -> Response<StreamBody> {
    let query = req.uri().query();
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/world") => {
            let world = &shared.world;
            let config = world.config();
            let summary = serde_json::json!({
                "scenario": config.scenario.name(),
                "seed": config.seed,
                "servers": world.servers().len(),
                "now": shared.clock.now(),
                "addr": shared.addr.to_string(),
                "dns": shared.dns_addr.to_string(),
                "requests": shared.log.total(),
                "bait_hits": shared.log.bait_hits().len(),
                "certificates_issued": shared.certs.issued(),
            });
            answer(
                StatusCode::OK,
                "application/json",
                Bytes::from(summary.to_string()),
            )
        }
        (&Method::GET, "/ca.pem") => answer(
            StatusCode::OK,
            "application/x-pem-file",
            Bytes::from(shared.certs.ca_pem().to_string()),
        ),
        (&Method::GET, "/requests.csv") => {
            answer(StatusCode::OK, "text/csv; charset=utf-8", shared.log.to_csv())
        }
        (&Method::GET, "/clock") => text(StatusCode::OK, format!("{}\n", shared.clock.now().to_rfc3339())),
        (&Method::POST, "/clock") => match query_param(query, "at").as_deref().map(parse_at) {
            Some(Ok(at)) => {
                shared.clock.set(at);
                tracing::info!(%at, "simulated clock set");
                text(StatusCode::OK, format!("{}\n", at.to_rfc3339()))
            }
            Some(Err(message)) => text(StatusCode::BAD_REQUEST, message),
            None => text(
                StatusCode::BAD_REQUEST,
                "POST /clock needs ?at=<RFC 3339 time or date>, e.g. ?at=2022-11-15T00:00:00Z\n",
            ),
        },
        (&Method::GET, "/truth.csv") => {
            let at = match query_param(query, "at").as_deref().map(parse_at) {
                Some(Ok(at)) => at,
                Some(Err(message)) => return text(StatusCode::BAD_REQUEST, message),
                None => shared.clock.now(),
            };
            // Writing the truth of a large world is CPU work: keep it off the serving threads.
            let world = shared.world.clone();
            let written = tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                crate::truth::write_csv(&world, at, &mut out).map(|()| out)
            })
            .await;
            match written {
                Ok(Ok(csv)) => answer(StatusCode::OK, "text/csv; charset=utf-8", csv),
                Ok(Err(error)) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot write the truth: {error}\n"),
                ),
                Err(error) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the truth writer failed: {error}\n"),
                ),
            }
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "sim.control serves GET /world, /ca.pem, /requests.csv, /clock, /truth.csv?at=... and POST /clock?at=...\n",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_from_rfc3339_or_a_date() {
        let expected = parse_at("2022-11-15T00:00:00Z").expect("RFC 3339");
        assert_eq!(parse_at("2022-11-15").expect("a date"), expected);
        let encoded = query_param(Some("x=1&at=2022-11-15T00%3A00%3A00Z"), "at").expect("present");
        assert_eq!(parse_at(&encoded).expect("decoded"), expected);
        assert!(parse_at("yesterday").is_err());
    }
}
