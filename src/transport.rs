//! The connector's only I/O: one HTTP exchange over WASI HTTP (through
//! `waki`), with the host's server URL and token, one token refresh after a
//! 401, and a cap on how much of a body is read.

use std::time::Duration;

use waki::{Client, ErrorCode, Method};

use crate::errors;
use crate::headers::Headers;
use crate::kosha::mastodon::connection;
use crate::types::{Error, NetworkFailure, NetworkFailureKind};
use crate::url::{BaseUrl, Query, Segment};

/// Some servers (GoToSocial) refuse requests without a User-Agent.
const USER_AGENT: &str = concat!("KoshaMastodonConnector/", env!("CARGO_PKG_VERSION"));
/// Larger than any real answer (40 statuses are well under 1 MiB); a body
/// beyond it is refused rather than buffered.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Error bodies are only read for their message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A request to one API endpoint.
pub struct Request<'a> {
    pub method: Method,
    pub path: &'a [Segment<'a>],
    pub query: Query,
    /// A JSON body, for POST.
    pub json: Option<Vec<u8>>,
    pub idempotency_key: Option<String>,
    /// A post with `scheduled_at`: servers ignore its idempotency key.
    pub scheduled: bool,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a [Segment<'a>], query: Query) -> Request<'a> {
        Request {
            method: Method::Get,
            path,
            query,
            json: None,
            idempotency_key: None,
            scheduled: false,
        }
    }
}

/// A successful (2xx) answer.
pub struct Reply {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// Sends the request and returns the 2xx answer, or the error it maps to.
/// Failures that may pass are retried under the host's retry policy when the
/// request is safe to repeat (see `retry-policy` in the WIT).
pub fn send(request: &Request) -> Result<Reply, Error> {
    let policy = RetryPolicy::from_host(connection::retry_policy());
    let mut refreshed = false;
    let mut retries = 0;
    loop {
        let result = send_once(request, &mut refreshed);
        if retries >= policy.max_retries || !may_retry(request, &result) {
            return result;
        }
        std::thread::sleep(policy.backoff(retries));
        retries += 1;
    }
}

/// Whether a failed attempt may be repeated. Reads may always be. A post
/// only when the server surely finished with the first attempt, since
/// Mastodon records an idempotency key only once the status exists (a repeat
/// while the first attempt is still being processed would post twice), and
/// ignores the key for scheduled statuses.
fn may_retry(request: &Request, result: &Result<Reply, Error>) -> bool {
    use NetworkFailureKind as Kind;
    let read = matches!(request.method, Method::Get);
    let scheduled = request.scheduled;
    match result {
        Err(Error::NetworkFailure(failure)) => match failure.kind {
            // Nothing reached the server.
            Kind::ConnectionRefused => read || request.idempotency_key.is_some(),
            // The server answered (or dropped the connection) after it was done.
            Kind::ConnectionReset => read || (request.idempotency_key.is_some() && !scheduled),
            // The server may still be working on it.
            Kind::TimedOut => read,
            _ => false,
        },
        Err(Error::ServerError(failure)) => match failure.status {
            502 | 503 => read || (request.idempotency_key.is_some() && !scheduled),
            504 => read,
            _ => false,
        },
        _ => false,
    }
}

/// The host's retry policy with the documented bounds applied.
#[derive(Debug, PartialEq)]
struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    fn from_host(asked: connection::RetrySettings) -> RetryPolicy {
        RetryPolicy {
            max_retries: asked.max_retries.min(5),
            initial_backoff: Duration::from_millis(u64::from(asked.initial_backoff_ms.min(2_000))),
            max_backoff: Duration::from_millis(u64::from(asked.max_backoff_ms.min(10_000))),
        }
    }

    /// The wait before retry number `retry` (from 0): doubling, capped.
    fn backoff(&self, retry: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(1 << retry.min(16))
            .min(self.max_backoff)
    }
}

/// One attempt. After a 401 the host is asked for a fresh token, once per
/// action, and if it gives one the request is repeated exactly once.
fn send_once(request: &Request, refreshed: &mut bool) -> Result<Reply, Error> {
    let base = BaseUrl::parse(&connection::server_url()).map_err(Error::BadConfiguration)?;
    let url = base.endpoint(request.path, &request.query);
    let mut token = connection::access_token();
    check_token(token.as_deref())?;
    let mut secrets: Vec<String> = token.iter().cloned().collect();
    let mut reply =
        exchange(&url, request, token.as_deref()).map_err(|e| scrub_error(e, &secrets))?;
    if reply.status == 401 && !*refreshed {
        *refreshed = true;
        if let Some(fresh) = connection::refresh_access_token() {
            check_token(Some(&fresh))?;
            secrets.push(fresh.clone());
            token = Some(fresh);
            reply =
                exchange(&url, request, token.as_deref()).map_err(|e| scrub_error(e, &secrets))?;
        }
    }
    if (200..300).contains(&reply.status) {
        return Ok(reply);
    }
    // A hostile or broken server may echo the token back, in any encoding
    // JSON allows: scrub the raw text and again the decoded messages.
    let body = scrub(&String::from_utf8_lossy(&reply.body), &secrets);
    let headers: Headers = reply
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), scrub(v, &secrets)))
        .collect();
    Err(scrub_error(
        errors::from_status(reply.status, &headers, body.as_bytes()),
        &secrets,
    ))
}

/// A token goes into a header: control characters would inject headers.
fn check_token(token: Option<&str>) -> Result<(), Error> {
    match token {
        Some(t)
            if t.is_empty()
                || t.chars()
                    .any(|c| c.is_control() || !c.is_ascii() || c == ' ') =>
        {
            Err(Error::BadConfiguration(
                "the access token is empty or contains spaces, control or non-ASCII characters"
                    .into(),
            ))
        }
        _ => Ok(()),
    }
}

fn exchange(url: &str, request: &Request, token: Option<&str>) -> Result<Reply, Error> {
    let mut builder = Client::new()
        .request(request.method.clone(), url)
        .header("user-agent", USER_AGENT)
        .header("accept", "application/json")
        .connect_timeout(CONNECT_TIMEOUT);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if let Some(key) = &request.idempotency_key {
        builder = builder.header("idempotency-key", key.as_str());
    }
    if let Some(json) = &request.json {
        builder = builder
            .header("content-type", "application/json")
            .body(json.clone());
    }
    let response = builder.send().map_err(|e| network_error(&e))?;
    let status = response.status_code();
    let headers: Headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let success = (200..300).contains(&status);
    let limit = if success {
        BODY_LIMIT
    } else {
        ERROR_BODY_LIMIT
    };
    let mut body = Vec::new();
    loop {
        match response.chunk(64 * 1024) {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return Err(network_error(&e)),
        }
        if body.len() > limit {
            if success {
                return Err(Error::UndecodableResponse(format!(
                    "the answer is larger than {} MiB",
                    BODY_LIMIT / (1024 * 1024)
                )));
            }
            body.truncate(limit);
            break;
        }
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// A transport failure as the WIT error, by WASI HTTP error code where the
/// failure carries one.
fn network_error(error: &anyhow::Error) -> Error {
    use NetworkFailureKind as Kind;
    let text = format!("{error:#}");
    let kind = match error.downcast_ref::<ErrorCode>() {
        Some(
            ErrorCode::ConnectionRefused
            | ErrorCode::DestinationUnavailable
            | ErrorCode::DestinationNotFound,
        ) => Kind::ConnectionRefused,
        Some(
            ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout,
        ) => Kind::TimedOut,
        Some(ErrorCode::DnsTimeout | ErrorCode::DnsError(_)) => Kind::DnsFailure,
        Some(
            ErrorCode::TlsProtocolError
            | ErrorCode::TlsCertificateError
            | ErrorCode::TlsAlertReceived(_),
        ) => Kind::TlsFailure,
        Some(ErrorCode::HttpRequestDenied | ErrorCode::DestinationIpProhibited) => Kind::Denied,
        Some(
            ErrorCode::ConnectionTerminated
            | ErrorCode::HttpResponseIncomplete
            | ErrorCode::HttpProtocolError,
        ) => Kind::ConnectionReset,
        Some(_) => Kind::Other,
        // Body read failures arrive as plain text from waki's stream reader.
        None if text.to_ascii_lowercase().contains("timeout") => Kind::TimedOut,
        None if text.contains("input_stream") => Kind::ConnectionReset,
        None => Kind::Other,
    };
    Error::NetworkFailure(NetworkFailure {
        kind,
        message: errors::clip(&text),
    })
}

/// Replaces every occurrence of a secret by `***`.
fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |acc, s| acc.replace(s.as_str(), "***"))
}

/// The error with every message scrubbed of the secrets.
fn scrub_error(error: Error, secrets: &[String]) -> Error {
    let clean = |text: String| scrub(&text, secrets);
    match error {
        Error::NetworkFailure(mut f) => {
            f.message = clean(f.message);
            Error::NetworkFailure(f)
        }
        Error::ServerError(mut f) => {
            f.message = clean(f.message);
            Error::ServerError(f)
        }
        Error::RequestFailed(mut f) => {
            f.message = clean(f.message);
            Error::RequestFailed(f)
        }
        Error::RateLimited(mut r) => {
            r.reset = r.reset.map(clean);
            Error::RateLimited(r)
        }
        Error::InvalidInput(mut i) => {
            i.message = clean(i.message);
            Error::InvalidInput(i)
        }
        Error::BadConfiguration(m) => Error::BadConfiguration(clean(m)),
        Error::Unauthorized(m) => Error::Unauthorized(clean(m)),
        Error::Forbidden(m) => Error::Forbidden(clean(m)),
        Error::NotFound(m) => Error::NotFound(clean(m)),
        Error::Gone(m) => Error::Gone(clean(m)),
        Error::Rejected(m) => Error::Rejected(clean(m)),
        Error::UndecodableResponse(m) => Error::UndecodableResponse(clean(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_is_bounded_and_doubles() {
        let policy = RetryPolicy::from_host(connection::RetrySettings {
            max_retries: 99,
            initial_backoff_ms: 100,
            max_backoff_ms: 99_999,
        });
        assert_eq!(policy.max_retries, 5);
        let waits: Vec<u128> = (0..6).map(|r| policy.backoff(r).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200]);
        let capped = RetryPolicy::from_host(connection::RetrySettings {
            max_retries: 2,
            initial_backoff_ms: 5_000,
            max_backoff_ms: 3_000,
        });
        assert_eq!(
            (capped.backoff(0).as_millis(), capped.backoff(3).as_millis()),
            (2_000, 3_000)
        );
    }

    #[test]
    fn posts_are_retried_only_when_the_server_is_surely_done() {
        let network = |kind| {
            Err(Error::NetworkFailure(NetworkFailure {
                kind,
                message: String::new(),
            }))
        };
        let server = |status| {
            Err(Error::ServerError(crate::types::HttpFailure {
                status,
                message: String::new(),
            }))
        };
        let path = [];
        let read = Request::get(&path, Query::new());
        let post = Request {
            method: Method::Post,
            path: &path,
            query: Query::new(),
            json: None,
            idempotency_key: Some("k".into()),
            scheduled: false,
        };
        let scheduled = Request {
            scheduled: true,
            idempotency_key: Some("k".into()),
            ..Request::get(&path, Query::new())
        };
        let scheduled = Request {
            method: Method::Post,
            ..scheduled
        };
        for kind in [
            NetworkFailureKind::ConnectionRefused,
            NetworkFailureKind::ConnectionReset,
            NetworkFailureKind::TimedOut,
        ] {
            assert!(may_retry(&read, &network(kind)));
        }
        assert!(
            may_retry(&read, &server(504))
                && !may_retry(&read, &server(500))
                && !may_retry(&read, &network(NetworkFailureKind::Denied))
        );
        assert!(
            may_retry(&post, &network(NetworkFailureKind::ConnectionReset))
                && may_retry(&post, &server(503))
        );
        assert!(
            !may_retry(&post, &network(NetworkFailureKind::TimedOut))
                && !may_retry(&post, &server(504))
        );
        assert!(may_retry(
            &scheduled,
            &network(NetworkFailureKind::ConnectionRefused)
        ));
        assert!(
            !may_retry(&scheduled, &network(NetworkFailureKind::ConnectionReset))
                && !may_retry(&scheduled, &server(503))
        );
        assert!(!may_retry(&read, &Err(Error::Rejected(String::new()))));
    }

    #[test]
    fn errors_are_scrubbed_after_decoding() {
        let secrets = vec!["abc/def".to_string()];
        let error = errors::from_status(401, &vec![], br#"{"error":"bad abc\/def"}"#);
        assert!(matches!(scrub_error(error, &secrets), Error::Unauthorized(m) if m == "bad ***"));
    }

    #[test]
    fn scrubs_every_secret() {
        let secrets = vec!["tok1".to_string(), "fresh2".to_string()];
        assert_eq!(scrub("a tok1 b fresh2 tok1", &secrets), "a *** b *** ***");
    }

    #[test]
    fn refuses_tokens_that_would_inject_headers() {
        for bad in ["a\r\nX-Evil: 1", "a\nb", "", "sp ace", "t\u{0}", "é"] {
            assert!(
                matches!(check_token(Some(bad)), Err(Error::BadConfiguration(_))),
                "{bad:?}"
            );
        }
        assert!(check_token(Some("abc-DEF_123.~+/=")).is_ok());
        assert!(check_token(None).is_ok());
    }
}
