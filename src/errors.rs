//! Turning HTTP error answers into the WIT `error` variant.

use crate::headers::{rate_limit, Headers};
use crate::types::{Error, HttpFailure};

/// How much of an error body is kept for its message.
const MESSAGE_LIMIT: usize = 300;

/// The error for a non-success HTTP answer. The message is the server's own
/// `error` (and `error_description`) when the body is JSON, otherwise a short
/// plain-text excerpt (proxies answer with HTML pages).
pub fn from_status(status: u16, headers: &Headers, body: &[u8]) -> Error {
    let message = message_of(status, body);
    match status {
        401 => Error::Unauthorized(message),
        403 => Error::Forbidden(message),
        404 => Error::NotFound(message),
        410 => Error::Gone(message),
        422 => Error::Rejected(message),
        429 => Error::RateLimited(rate_limit(headers)),
        500..=599 => Error::ServerError(HttpFailure { status, message }),
        300..=399 => {
            let target = crate::headers::all(headers, "location")
                .next()
                .unwrap_or("?");
            Error::RequestFailed(HttpFailure {
                status,
                message: format!(
                    "the server redirected to {}; redirects are not followed",
                    clip(target)
                ),
            })
        }
        _ => Error::RequestFailed(HttpFailure { status, message }),
    }
}

fn message_of(status: u16, body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let text = |key| {
            json.get(key)
                .and_then(|v| v.as_str())
                .filter(|s| !s.trim().is_empty())
        };
        match (text("error"), text("error_description")) {
            (Some(error), Some(description)) if error != description => {
                return clip(&format!("{error}: {description}"))
            }
            (Some(error), _) | (None, Some(error)) => return clip(error),
            _ => {}
        }
    }
    let excerpt = plain_text(&String::from_utf8_lossy(body));
    if excerpt.is_empty() {
        format!("HTTP {status}")
    } else {
        clip(&format!("HTTP {status}: {excerpt}"))
    }
}

/// Text of an HTML or plain body with tags dropped and whitespace collapsed.
fn plain_text(body: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => out.push(' '),
            c => out.push(c),
        }
        if out.len() > MESSAGE_LIMIT * 4 {
            break;
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shortens a message to `MESSAGE_LIMIT` characters.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_codes_to_cases_with_the_servers_message() {
        let body = br#"{"error":"Record not found"}"#;
        assert!(
            matches!(from_status(404, &vec![], body), Error::NotFound(m) if m == "Record not found")
        );
        assert!(matches!(from_status(410, &vec![], b""), Error::Gone(m) if m == "HTTP 410"));
        assert!(
            matches!(from_status(422, &vec![], br#"{"error":"Validation failed: Text can't be blank"}"#), Error::Rejected(m) if m.contains("blank"))
        );
        let oauth = br#"{"error":"invalid_token","error_description":"The access token expired"}"#;
        assert!(
            matches!(from_status(401, &vec![], oauth), Error::Unauthorized(m) if m == "invalid_token: The access token expired")
        );
        assert!(
            matches!(from_status(400, &vec![], b"{}"), Error::RequestFailed(f) if f.status == 400)
        );
    }

    #[test]
    fn reads_proxy_html_and_rate_limits() {
        let html = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad   Gateway</h1></body></html>";
        match from_status(502, &vec![], html) {
            Error::ServerError(f) => assert_eq!(
                (f.status, f.message.as_str()),
                (502, "HTTP 502: 502 Bad Gateway Bad Gateway")
            ),
            other => panic!("{other:?}"),
        }
        let headers = vec![
            ("x-ratelimit-remaining".to_string(), "0".to_string()),
            ("x-ratelimit-reset".to_string(), "1785592200".to_string()),
        ];
        match from_status(429, &headers, b"{\"error\":\"Too many requests\"}") {
            Error::RateLimited(r) => assert_eq!(
                (r.remaining, r.reset_epoch_seconds),
                (Some(0), Some(1_785_592_200))
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clips_long_messages_on_character_boundaries() {
        let long = "é".repeat(1000);
        assert_eq!(clip(&long).chars().count(), MESSAGE_LIMIT + 1);
    }
}
