//! Reading the response headers the actions report: `Link` page cursors and
//! the `X-RateLimit-*` family.

use crate::time::parse_rfc3339;
use crate::types::{PageRequest, RateLimit};
use crate::url::decode_component;

/// Response headers with lowercased names, in the order received.
pub type Headers = Vec<(String, String)>;

/// Every value of a header, in order (a header may be sent several times).
pub fn all<'a>(headers: &'a Headers, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn first<'a>(headers: &'a Headers, name: &'a str) -> Option<&'a str> {
    all(headers, name).next()
}

/// The `next` and `prev` cursors of an RFC 8288 `Link` header, found by `rel`
/// rather than by position, from every `Link` header line.
pub fn page_links(headers: &Headers) -> (Option<PageRequest>, Option<PageRequest>) {
    let (mut next, mut prev) = (None, None);
    for value in all(headers, "link") {
        for (target, rels) in link_values(value) {
            let slot = if rels.iter().any(|r| r.eq_ignore_ascii_case("next")) {
                &mut next
            } else if rels
                .iter()
                .any(|r| r.eq_ignore_ascii_case("prev") || r.eq_ignore_ascii_case("previous"))
            {
                &mut prev
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = cursor_of(&target);
            }
        }
    }
    (next, prev)
}

/// Splits a `Link` value into (target URL, rel values), honouring quoted
/// strings (which may contain `,` and `;`) and backslash escapes in them.
fn link_values(value: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let target = rest[start + 1..start + len].trim().to_string();
        rest = &rest[start + len + 1..];
        // Parameters run until a comma outside quotes.
        let mut params = String::new();
        let mut in_quotes = false;
        let mut escaped = false;
        let mut consumed = rest.len();
        for (i, c) in rest.char_indices() {
            if escaped {
                escaped = false;
            } else if in_quotes && c == '\\' {
                escaped = true;
                continue;
            } else if c == '"' {
                in_quotes = !in_quotes;
            } else if c == ',' && !in_quotes {
                consumed = i + 1;
                break;
            }
            params.push(c);
        }
        rest = &rest[consumed.min(rest.len())..];
        let mut rels = Vec::new();
        for param in params.split(';') {
            if let Some((name, val)) = param.split_once('=') {
                if name.trim().eq_ignore_ascii_case("rel") {
                    let val = val.trim().trim_matches('"');
                    rels.extend(val.split_whitespace().map(str::to_string));
                }
            }
        }
        out.push((target, rels));
    }
    out
}

/// The page cursor carried by a link's query string. `None` when it has no
/// cursor, which would otherwise be a request for the first page again.
fn cursor_of(target: &str) -> Option<PageRequest> {
    let query = target.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    let mut page = PageRequest {
        max_id: None,
        since_id: None,
        min_id: None,
        limit: None,
    };
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode_component(value);
        if value.is_empty() || value.chars().any(char::is_control) {
            continue;
        }
        match decode_component(name).as_str() {
            "max_id" => page.max_id = Some(value),
            "since_id" => page.since_id = Some(value),
            "min_id" => page.min_id = Some(value),
            "limit" => page.limit = value.parse().ok().filter(|&l| l > 0),
            _ => {}
        }
    }
    let has_cursor = page.max_id.is_some() || page.since_id.is_some() || page.min_id.is_some();
    has_cursor.then_some(page)
}

/// The `X-RateLimit-*` headers. The reset is kept as sent and also turned
/// into Unix seconds: Mastodon sends ISO 8601, GoToSocial Unix seconds.
pub fn rate_limit(headers: &Headers) -> RateLimit {
    let number = |name| first(headers, name).and_then(|v| v.trim().parse::<i64>().ok());
    let reset = first(headers, "x-ratelimit-reset").map(|v| v.trim().to_string());
    let reset_epoch_seconds = reset.as_deref().and_then(reset_seconds);
    RateLimit {
        limit: number("x-ratelimit-limit"),
        remaining: number("x-ratelimit-remaining"),
        reset,
        reset_epoch_seconds,
    }
}

fn reset_seconds(value: &str) -> Option<i64> {
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds);
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return seconds.is_finite().then_some(seconds as i64);
    }
    parse_rfc3339(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn finds_cursors_by_rel_in_any_order() {
        let h = headers(&[("link", "<https://h/api/v1/x?since_id=9&limit=5>; rel=\"prev\", <https://h/api/v1/x?max_id=AbC%2B1&limit=5>; rel=\"next\"")]);
        let (next, prev) = page_links(&h);
        let next = next.unwrap();
        assert_eq!(
            (next.max_id.as_deref(), next.limit),
            (Some("AbC+1"), Some(5))
        );
        assert_eq!(prev.unwrap().since_id.as_deref(), Some("9"));
    }

    #[test]
    fn handles_quotes_several_lines_and_no_cursor() {
        let h = headers(&[
            (
                "link",
                "<https://h/a?foo=1>; rel=\"next\"; title=\"a, b; c\"",
            ),
            (
                "link",
                "<https://h/a?min_id=7>; title=\"x \\\" y, z\"; rel=\"prev first\"",
            ),
        ]);
        let (next, prev) = page_links(&h);
        assert!(next.is_none());
        assert_eq!(prev.unwrap().min_id.as_deref(), Some("7"));
        assert_eq!(page_links(&headers(&[])), (None, None));
        assert_eq!(page_links(&headers(&[("link", "garbage <")])), (None, None));
    }

    #[test]
    fn reads_both_reset_forms() {
        let iso = rate_limit(&headers(&[
            ("x-ratelimit-limit", "300"),
            ("x-ratelimit-remaining", "299"),
            ("x-ratelimit-reset", "2026-08-01T13:50:00.400Z"),
        ]));
        assert_eq!(
            (iso.limit, iso.remaining, iso.reset_epoch_seconds),
            (Some(300), Some(299), Some(1_785_592_200))
        );
        let unix = rate_limit(&headers(&[("x-ratelimit-reset", "1785592200")]));
        assert_eq!(unix.reset_epoch_seconds, Some(1_785_592_200));
        let bad = rate_limit(&headers(&[
            ("x-ratelimit-limit", "lots"),
            ("x-ratelimit-reset", "soon"),
        ]));
        assert_eq!(
            (bad.limit, bad.reset.as_deref(), bad.reset_epoch_seconds),
            (None, Some("soon"), None)
        );
    }
}
