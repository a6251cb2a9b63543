//! Input checks made before anything is sent. Each failure names the WIT
//! parameter at fault.

use crate::time::{now_epoch_seconds, parse_rfc3339};
use crate::types::{Error, InvalidInput, NewStatus, PageRequest, Visibility};

/// Mastodon's page size limits.
pub const MAX_STATUS_LIMIT: u32 = 40;
pub const MAX_ACCOUNT_LIMIT: u32 = 80;
/// Mastodon's hashtag-filter limit. (Attachment limits differ between
/// servers and their settings, so the server judges those.)
const MAX_TAG_FILTERS: usize = 4;
/// Servers refuse scheduled times less than 5 minutes ahead.
const MIN_SCHEDULE_AHEAD_SECONDS: i64 = 5 * 60;
const MAX_ID_LEN: usize = 256;

pub fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidInput(InvalidInput {
        field: field.to_string(),
        message: message.into(),
    })
}

/// An opaque id used as a path segment: RFC 3986 unreserved characters only,
/// and not `.` or `..`, so it can never change which endpoint is addressed.
pub fn id(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(invalid(
            field,
            format!("is longer than {MAX_ID_LEN} characters"),
        ));
    }
    if value == "." || value == ".." {
        return Err(invalid(field, "must not be `.` or `..`"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
    {
        return Err(invalid(
            field,
            format!("contains {c:?}; ids consist of letters, digits and - _ . ~"),
        ));
    }
    Ok(())
}

/// `user` or `user@domain`, optionally with a leading `@`. Returns the form
/// sent to the server (without the leading `@`).
pub fn acct<'a>(field: &str, value: &'a str) -> Result<&'a str, Error> {
    let acct = value.strip_prefix('@').unwrap_or(value);
    let (user, domain) = match acct.split_once('@') {
        Some((user, domain)) => (user, Some(domain)),
        None => (acct, None),
    };
    let user_ok = !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !user_ok {
        return Err(invalid(
            field,
            "must be `user` or `user@domain` (letters, digits, _ . - in the user part)",
        ));
    }
    if let Some(domain) = domain {
        let (host, port) = domain
            .rsplit_once(':')
            .map_or((domain, None), |(h, p)| (h, Some(p)));
        let port_ok = port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
        let host_ok = host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !(host_ok && port_ok) {
            return Err(invalid(field, "the domain after `@` is not a host name"));
        }
    }
    Ok(acct)
}

/// A hashtag name without `#`. Servers allow letters, marks and digits of
/// any script, `_`, and joiners such as `·` or ZWNJ, so only what can never
/// be part of a hashtag is refused: whitespace, control characters and ASCII
/// punctuation other than `_`.
pub fn hashtag(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.starts_with('#') {
        return Err(invalid(field, "give the hashtag without `#`"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || (c.is_ascii_punctuation() && *c != '_'))
    {
        return Err(invalid(
            field,
            format!("contains {c:?}, which cannot be part of a hashtag"),
        ));
    }
    Ok(())
}

pub fn hashtags(field: &str, values: &[String]) -> Result<(), Error> {
    if values.len() > MAX_TAG_FILTERS {
        return Err(invalid(
            field,
            format!("at most {MAX_TAG_FILTERS} hashtags"),
        ));
    }
    values.iter().try_for_each(|v| hashtag(field, v))
}

/// A page request: cursors are opaque but must be non-empty text, the limit
/// within 1..=`max` (refused, not clamped, so a caller learns of the mistake).
pub fn page(page: &PageRequest, max: u32) -> Result<(), Error> {
    for (field, cursor) in [
        ("page.max-id", &page.max_id),
        ("page.since-id", &page.since_id),
        ("page.min-id", &page.min_id),
    ] {
        if let Some(cursor) = cursor {
            if cursor.is_empty()
                || cursor.len() > MAX_ID_LEN
                || cursor.chars().any(char::is_control)
            {
                return Err(invalid(
                    field,
                    "must be a non-empty cursor without control characters",
                ));
            }
        }
    }
    limit("page.limit", page.limit, max)
}

pub fn limit(field: &str, limit: Option<u32>, max: u32) -> Result<(), Error> {
    match limit {
        Some(n) if n == 0 || n > max => Err(invalid(field, format!("must be between 1 and {max}"))),
        _ => Ok(()),
    }
}

/// A visibility to send; server-specific values must be simple tokens.
pub fn visibility(field: &str, value: &Visibility) -> Result<(), Error> {
    match value {
        Visibility::Other(text)
            if text.is_empty()
                || !text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-')) =>
        {
            Err(invalid(
                field,
                "a server-specific visibility must be a simple word such as `local`",
            ))
        }
        _ => Ok(()),
    }
}

/// An ISO 639 code (two or three lowercase letters), optionally with
/// subtags as Mastodon uses them (`zh-TW`, `zh-YUE`).
pub fn language(field: &str, value: &str) -> Result<(), Error> {
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or("");
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let subtags_ok = parts
        .all(|tag| (2..=8).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary_ok && subtags_ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            "must be an ISO 639 language code such as `en` or `zh-TW`",
        ))
    }
}

/// The whole of a new status: what the server would refuse, refused here.
pub fn new_status(status: &NewStatus) -> Result<(), Error> {
    let has_text = status.text.as_deref().is_some_and(|t| !t.trim().is_empty());
    if !has_text && status.media_ids.is_empty() {
        return Err(invalid("new-status.text", "a status needs text or media"));
    }
    for media_id in &status.media_ids {
        id("new-status.media-ids", media_id)?;
    }
    if let Some(poll) = &status.poll {
        if !status.media_ids.is_empty() {
            return Err(invalid(
                "new-status.poll",
                "a status cannot have both media and a poll",
            ));
        }
        if poll.options.len() < 2 {
            return Err(invalid(
                "new-status.poll.options",
                "a poll needs at least 2 options",
            ));
        }
        if poll.options.iter().any(|o| o.trim().is_empty()) {
            return Err(invalid(
                "new-status.poll.options",
                "poll options must not be empty",
            ));
        }
        if poll.expires_in == 0 {
            return Err(invalid(
                "new-status.poll.expires-in",
                "must be at least 1 second",
            ));
        }
    }
    if let Some(visibility_value) = &status.visibility {
        visibility("new-status.visibility", visibility_value)?;
    }
    if let Some(code) = &status.language {
        language("new-status.language", code)?;
    }
    if let Some(reply_to) = &status.in_reply_to_id {
        id("new-status.in-reply-to-id", reply_to)?;
    }
    if let Some(when) = &status.scheduled_at {
        let at = parse_rfc3339(when).ok_or_else(|| {
            invalid(
                "new-status.scheduled-at",
                "must be an RFC 3339 timestamp such as 2026-08-01T13:50:00Z",
            )
        })?;
        if at < now_epoch_seconds() + MIN_SCHEDULE_AHEAD_SECONDS {
            return Err(invalid(
                "new-status.scheduled-at",
                "must be at least 5 minutes ahead",
            ));
        }
    }
    if let Some(key) = &status.idempotency_key {
        idempotency_key(key)?;
    }
    Ok(())
}

/// The key is sent as a header value: visible ASCII only.
fn idempotency_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "new-status.idempotency-key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_change_the_path_are_refused() {
        for bad in [
            "", "a/b", "a?b", "a#b", "..", ".", "a b", "a\nb", "a%2F", "é",
        ] {
            assert!(id("id", bad).is_err(), "{bad:?}");
        }
        for good in ["109876543210", "AbCdEf123", "01HX7K2M3N", "a.b-c_d~e"] {
            assert!(id("id", good).is_ok(), "{good}");
        }
    }

    #[test]
    fn accts_are_user_or_user_at_domain() {
        assert_eq!(acct("acct", "@alice").unwrap(), "alice");
        assert_eq!(
            acct("acct", "carol@remote.example").unwrap(),
            "carol@remote.example"
        );
        assert!(acct("acct", "dave@localhost:3000").is_ok());
        for bad in [
            "",
            "@",
            "a@",
            "@@a",
            "a@b@c",
            "a b",
            "a/b",
            "a@-x.example",
            "a@x..y",
            "a@x/y",
        ] {
            assert!(acct("acct", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hashtags_and_languages() {
        for good in [
            "rust_lang",
            "日本語",
            "हिन्दी",
            "தமிழ்",
            "l·lengua",
            "می\u{200c}خواهم",
        ] {
            assert!(hashtag("h", good).is_ok(), "{good}");
        }
        for bad in ["", "#rust", "two words", "a/b", "a-b", "a?", "tab\t"] {
            assert!(hashtag("h", bad).is_err(), "{bad:?}");
        }
        assert!(
            language("l", "en").is_ok()
                && language("l", "fil").is_ok()
                && language("l", "zh-TW").is_ok()
        );
        for bad in ["", "e", "EN", "en-", "english", "en_US", "en-x"] {
            assert!(language("l", bad).is_err(), "{bad:?}");
        }
    }

    fn status(text: Option<&str>) -> NewStatus {
        NewStatus {
            text: text.map(str::to_string),
            visibility: None,
            spoiler_text: None,
            sensitive: None,
            language: None,
            in_reply_to_id: None,
            media_ids: vec![],
            poll: None,
            scheduled_at: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn new_statuses_are_checked_whole() {
        assert!(new_status(&status(Some("hello"))).is_ok());
        assert!(
            matches!(new_status(&status(Some("  "))), Err(Error::InvalidInput(i)) if i.field == "new-status.text")
        );
        let mut past = status(Some("x"));
        past.scheduled_at = Some("2020-01-01T00:00:00Z".into());
        assert!(
            matches!(new_status(&past), Err(Error::InvalidInput(i)) if i.field == "new-status.scheduled-at")
        );
        let mut future = status(Some("x"));
        future.scheduled_at = Some("2999-01-01T00:00:00Z".into());
        assert!(new_status(&future).is_ok());
        let mut too_soon = status(Some("x"));
        too_soon.scheduled_at = Some(format_unix(now_epoch_seconds() + 60));
        assert!(
            matches!(new_status(&too_soon), Err(Error::InvalidInput(i)) if i.field == "new-status.scheduled-at")
        );
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time (for the scheduling tests).
    fn format_unix(seconds: i64) -> String {
        let days = seconds.div_euclid(86_400);
        let rest = seconds.rem_euclid(86_400);
        // Civil date from days (the inverse of time::days_from_civil).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        )
    }

    #[test]
    fn limits_are_refused_outside_the_range() {
        assert!(limit("l", Some(0), 40).is_err() && limit("l", Some(41), 40).is_err());
        assert!(limit("l", Some(40), 40).is_ok() && limit("l", None, 40).is_ok());
    }
}
