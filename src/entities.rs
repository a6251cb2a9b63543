//! Tolerant decoding of Mastodon entities into the WIT types.
//!
//! Real servers differ (see `shared/mastodon-api-notes.md`): any field but
//! `id` may be missing, null or of another JSON type; ids may be numbers;
//! booleans may be strings; enumerations grow. So answers are read as a JSON
//! tree and every field goes through one of the lenient readers below. An
//! element without an id cannot be referred to and is left out; anything
//! else odd becomes `none` or a default.

use serde_json::value::RawValue;
use serde_json::Value;

use crate::types::*;

/// A string field; numbers are accepted too (some servers send numeric ids).
fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-empty string field.
fn nonempty(v: &Value, key: &str) -> Option<String> {
    string(v, key).filter(|s| !s.is_empty())
}

/// A string field, empty when missing.
fn text(v: &Value, key: &str) -> String {
    string(v, key).unwrap_or_default()
}

/// A boolean; `"true"`/`"false"` strings (Pixelfed) and 0/1 are accepted.
fn boolean(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => Some(false),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

fn flag(v: &Value, key: &str) -> bool {
    boolean(v, key).unwrap_or(false)
}

/// An integer; numeric strings (card sizes on some servers) and fractional
/// numbers (truncated) are accepted.
fn integer(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

fn count(v: &Value, key: &str) -> i64 {
    integer(v, key).unwrap_or(0)
}

fn float(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// The elements of an array field that convert; others are left out.
fn list<T>(v: &Value, key: &str, convert: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    match v.get(key) {
        Some(Value::Array(items)) => items.iter().filter_map(convert).collect(),
        _ => Vec::new(),
    }
}

/// The value of an object field, when it is an object.
fn object<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|o| o.is_object())
}

/// The id of an entity; entities without one are not usable.
fn id(v: &Value) -> Option<String> {
    nonempty(v, "id")
}

pub fn visibility_from(text: &str) -> Visibility {
    match text {
        "public" => Visibility::Public,
        "unlisted" => Visibility::Unlisted,
        "private" => Visibility::Private,
        "direct" => Visibility::Direct,
        other => Visibility::Other(other.to_string()),
    }
}

pub fn visibility_name(visibility: &Visibility) -> &str {
    match visibility {
        Visibility::Public => "public",
        Visibility::Unlisted => "unlisted",
        Visibility::Private => "private",
        Visibility::Direct => "direct",
        Visibility::Other(text) => text,
    }
}

pub fn custom_emoji(v: &Value) -> Option<CustomEmoji> {
    let shortcode = nonempty(v, "shortcode")?;
    let url = text(v, "url");
    Some(CustomEmoji {
        static_url: nonempty(v, "static_url").unwrap_or_else(|| url.clone()),
        url,
        shortcode,
        visible_in_picker: boolean(v, "visible_in_picker").unwrap_or(true),
    })
}

fn account_field(v: &Value) -> Option<AccountField> {
    Some(AccountField {
        name: string(v, "name")?,
        value: text(v, "value"),
        verified_at: nonempty(v, "verified_at"),
    })
}

fn display_name(v: &Value) -> String {
    nonempty(v, "display_name").unwrap_or_else(|| text(v, "username"))
}

fn moved_account(v: &Value) -> Option<MovedAccount> {
    Some(MovedAccount {
        id: id(v)?,
        username: text(v, "username"),
        acct: text(v, "acct"),
        url: text(v, "url"),
        display_name: display_name(v),
        avatar: text(v, "avatar"),
    })
}

pub fn account(v: &Value) -> Option<Account> {
    let avatar = text(v, "avatar");
    let header = text(v, "header");
    Some(Account {
        id: id(v)?,
        username: text(v, "username"),
        acct: text(v, "acct"),
        url: text(v, "url"),
        display_name: display_name(v),
        note: text(v, "note"),
        avatar_static: nonempty(v, "avatar_static").unwrap_or_else(|| avatar.clone()),
        avatar,
        header_static: nonempty(v, "header_static").unwrap_or_else(|| header.clone()),
        header,
        locked: flag(v, "locked"),
        bot: flag(v, "bot"),
        group: flag(v, "group"),
        discoverable: boolean(v, "discoverable"),
        suspended: boolean(v, "suspended"),
        limited: boolean(v, "limited"),
        created_at: nonempty(v, "created_at"),
        last_status_at: nonempty(v, "last_status_at"),
        statuses_count: count(v, "statuses_count"),
        followers_count: count(v, "followers_count"),
        following_count: count(v, "following_count"),
        emojis: list(v, "emojis", custom_emoji),
        fields: list(v, "fields", account_field),
        moved: object(v, "moved").and_then(moved_account),
    })
}

pub fn credential_account(v: &Value) -> Option<CredentialAccount> {
    Some(CredentialAccount {
        account: account(v)?,
        source: object(v, "source").map(|s| AccountSource {
            privacy: nonempty(s, "privacy").map(|p| visibility_from(&p)),
            sensitive: boolean(s, "sensitive"),
            language: nonempty(s, "language"),
            note: text(s, "note"),
            fields: list(s, "fields", account_field),
            follow_requests_count: integer(s, "follow_requests_count"),
        }),
        role: object(v, "role").map(|r| Role {
            id: text(r, "id"),
            name: text(r, "name"),
            color: text(r, "color"),
            permissions: text(r, "permissions"),
        }),
    })
}

fn media_kind(text: &str) -> MediaKind {
    match text {
        "image" => MediaKind::Image,
        "gifv" => MediaKind::Gifv,
        "video" => MediaKind::Video,
        "audio" => MediaKind::Audio,
        "unknown" | "" => MediaKind::Unknown,
        other => MediaKind::Other(other.to_string()),
    }
}

/// Media metadata: Mastodon nests sizes under `original`; some servers send
/// them flat, or send no `meta` at all.
fn media_meta(v: &Value) -> Option<MediaMeta> {
    let meta = object(v, "meta")?;
    let sized = object(meta, "original").unwrap_or(meta);
    let focus = object(meta, "focus");
    let result = MediaMeta {
        width: integer(sized, "width"),
        height: integer(sized, "height"),
        duration: float(sized, "duration").or_else(|| float(meta, "duration")),
        focus_x: focus.and_then(|f| float(f, "x")),
        focus_y: focus.and_then(|f| float(f, "y")),
    };
    let empty = result.width.is_none()
        && result.height.is_none()
        && result.duration.is_none()
        && result.focus_x.is_none()
        && result.focus_y.is_none();
    (!empty).then_some(result)
}

pub fn media_attachment(v: &Value) -> Option<MediaAttachment> {
    Some(MediaAttachment {
        id: id(v)?,
        kind: media_kind(&text(v, "type")),
        url: nonempty(v, "url"),
        preview_url: nonempty(v, "preview_url"),
        remote_url: nonempty(v, "remote_url"),
        description: nonempty(v, "description"),
        blurhash: nonempty(v, "blurhash"),
        meta: media_meta(v),
    })
}

fn mention(v: &Value) -> Option<Mention> {
    Some(Mention {
        id: id(v)?,
        username: text(v, "username"),
        acct: text(v, "acct"),
        url: text(v, "url"),
    })
}

pub fn tag(v: &Value) -> Option<Tag> {
    Some(Tag {
        name: nonempty(v, "name")?,
        url: text(v, "url"),
        history: list(v, "history", |h| {
            Some(TagHistory {
                day: string(h, "day")?,
                uses: count(h, "uses"),
                accounts: count(h, "accounts"),
            })
        }),
        following: boolean(v, "following"),
    })
}

fn poll(v: &Value) -> Option<Poll> {
    Some(Poll {
        id: id(v)?,
        expires_at: nonempty(v, "expires_at"),
        expired: flag(v, "expired"),
        multiple: flag(v, "multiple"),
        votes_count: count(v, "votes_count"),
        voters_count: integer(v, "voters_count"),
        options: list(v, "options", |o| {
            Some(PollOption {
                title: string(o, "title")?,
                votes_count: integer(o, "votes_count"),
            })
        }),
        voted: boolean(v, "voted"),
        own_votes: match v.get("own_votes") {
            Some(Value::Array(votes)) => votes
                .iter()
                .filter_map(|n| n.as_u64().and_then(|n| u32::try_from(n).ok()))
                .collect(),
            _ => Vec::new(),
        },
        emojis: list(v, "emojis", custom_emoji),
    })
}

fn card(v: &Value) -> Option<PreviewCard> {
    let kind = match text(v, "type").as_str() {
        "link" | "" => CardKind::Link,
        "photo" => CardKind::Photo,
        "video" => CardKind::Video,
        "rich" => CardKind::Rich,
        other => CardKind::Other(other.to_string()),
    };
    Some(PreviewCard {
        url: nonempty(v, "url")?,
        title: text(v, "title"),
        description: text(v, "description"),
        kind,
        author_name: nonempty(v, "author_name"),
        provider_name: nonempty(v, "provider_name"),
        image: nonempty(v, "image"),
        width: integer(v, "width"),
        height: integer(v, "height"),
    })
}

pub fn post(v: &Value) -> Option<Post> {
    Some(Post {
        id: id(v)?,
        uri: text(v, "uri"),
        url: nonempty(v, "url"),
        created_at: text(v, "created_at"),
        account: object(v, "account").and_then(account)?,
        content: text(v, "content"),
        spoiler_text: text(v, "spoiler_text"),
        visibility: visibility_from(&nonempty(v, "visibility").unwrap_or_else(|| "public".into())),
        sensitive: flag(v, "sensitive"),
        language: nonempty(v, "language"),
        in_reply_to_id: nonempty(v, "in_reply_to_id"),
        in_reply_to_account_id: nonempty(v, "in_reply_to_account_id"),
        replies_count: count(v, "replies_count"),
        reblogs_count: count(v, "reblogs_count"),
        favourites_count: count(v, "favourites_count"),
        edited_at: nonempty(v, "edited_at"),
        favourited: boolean(v, "favourited"),
        reblogged: boolean(v, "reblogged"),
        muted: boolean(v, "muted"),
        bookmarked: boolean(v, "bookmarked"),
        pinned: boolean(v, "pinned"),
        media_attachments: list(v, "media_attachments", media_attachment),
        mentions: list(v, "mentions", mention),
        tags: list(v, "tags", tag),
        emojis: list(v, "emojis", custom_emoji),
        card: object(v, "card").and_then(card),
        poll: object(v, "poll").and_then(poll),
        application: object(v, "application").and_then(|a| {
            Some(Application {
                name: nonempty(a, "name")?,
                website: nonempty(a, "website"),
            })
        }),
    })
}

pub fn status(v: &Value) -> Option<Status> {
    Some(Status {
        post: post(v)?,
        reblog: object(v, "reblog").and_then(post),
    })
}

/// A scheduled status. Its `params` may repeat keys (seen from Mastodon 4.6)
/// (the JSON reader keeps the last) and carries `in_reply_to_id` as a JSON
/// number, possibly above 2^53: integers are read exactly and turned into text.
pub fn scheduled_status(v: &Value) -> Option<ScheduledStatus> {
    let params = object(v, "params");
    let p = |f: fn(&Value, &str) -> Option<String>, key: &str| params.and_then(|p| f(p, key));
    let strings = |key: &str| {
        params
            .map(|p| {
                list(p, key, |x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            })
            .unwrap_or_default()
    };
    Some(ScheduledStatus {
        id: id(v)?,
        scheduled_at: text(v, "scheduled_at"),
        params: ScheduledParams {
            text: p(string, "text"),
            visibility: p(nonempty, "visibility").map(|s| visibility_from(&s)),
            spoiler_text: p(nonempty, "spoiler_text"),
            sensitive: params.and_then(|p| boolean(p, "sensitive")),
            language: p(nonempty, "language"),
            in_reply_to_id: p(nonempty, "in_reply_to_id"),
            media_ids: strings("media_ids"),
            poll_options: params
                .and_then(|p| object(p, "poll"))
                .map(|poll| list(poll, "options", |o| o.as_str().map(str::to_string)))
                .unwrap_or_default(),
            idempotency: p(nonempty, "idempotency"),
        },
        media_attachments: list(v, "media_attachments", media_attachment),
    })
}

/// Larger than any single entity a server sends (a status with everything is
/// a few KiB): a JSON tree of a bigger body could exhaust the component's
/// memory, so it is refused before parsing.
pub const MAX_ENTITY_BYTES: usize = 1024 * 1024;

/// Parses a body holding one entity as JSON.
pub fn parse(body: &[u8]) -> Result<Value, Error> {
    if body.len() > MAX_ENTITY_BYTES {
        return Err(Error::UndecodableResponse(format!(
            "the answer is larger than {} KiB for one entity",
            MAX_ENTITY_BYTES / 1024
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        Error::UndecodableResponse(format!("the answer is not the expected JSON: {e}"))
    })
}

/// Converts a single entity, failing when it is unusable.
pub fn one<T>(body: &[u8], what: &str, convert: impl Fn(&Value) -> Option<T>) -> Result<T, Error> {
    let value = parse(body)?;
    convert(&value).ok_or_else(|| {
        Error::UndecodableResponse(format!("the answer is not a usable {what} (no id?)"))
    })
}

/// More items than any server sends on one page (Mastodon's maximum is 80):
/// a longer list is refused before it is decoded, so a hostile body cannot
/// make the component run out of memory.
pub const MAX_ITEMS: usize = 1_000;

/// Converts a JSON array of entities, leaving out elements that are unusable.
/// Elements are decoded one at a time from the raw body, so only one JSON
/// tree is alive at once.
pub fn many<T>(
    body: &[u8],
    what: &str,
    convert: impl Fn(&Value) -> Option<T>,
) -> Result<Vec<T>, Error> {
    let raw: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|e| Error::UndecodableResponse(format!("expected a list of {what}: {e}")))?;
    check_count(raw.len(), what)?;
    Ok(each(&raw, convert))
}

fn check_count(count: usize, what: &str) -> Result<(), Error> {
    if count > MAX_ITEMS {
        return Err(Error::UndecodableResponse(format!(
            "the list has {count} {what}, more than {MAX_ITEMS}"
        )));
    }
    Ok(())
}

/// Decodes and converts raw elements one at a time, leaving out the unusable.
pub fn each<T>(raw: &[&RawValue], convert: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    raw.iter()
        .filter_map(|item| serde_json::from_str::<Value>(item.get()).ok())
        .filter_map(|v| convert(&v))
        .collect()
}

/// The three lists of a search answer, still raw. A missing or null list is
/// empty; other fields are ignored.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SearchSections<'a> {
    #[serde(borrow, deserialize_with = "lenient_list")]
    pub accounts: Vec<&'a RawValue>,
    #[serde(borrow, deserialize_with = "lenient_list")]
    pub statuses: Vec<&'a RawValue>,
    #[serde(borrow, deserialize_with = "lenient_list")]
    pub hashtags: Vec<&'a RawValue>,
}

/// A list of raw elements, or empty for null and any non-list value.
fn lenient_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<&'de RawValue>, D::Error> {
    let raw: &'de RawValue = serde::Deserialize::deserialize(deserializer)?;
    Ok(serde_json::from_str::<Vec<&'de RawValue>>(raw.get()).unwrap_or_default())
}

pub fn search_sections(body: &[u8]) -> Result<SearchSections<'_>, Error> {
    let sections: SearchSections = serde_json::from_slice(body)
        .map_err(|e| Error::UndecodableResponse(format!("expected search results: {e}")))?;
    for (list, what) in [
        (&sections.accounts, "accounts"),
        (&sections.statuses, "statuses"),
        (&sections.hashtags, "hashtags"),
    ] {
        check_count(list.len(), what)?;
    }
    Ok(sections)
}
