//! The exported actions. Each checks its input, builds one request, sends
//! it and converts the answer; the work is done by the other modules.

use serde_json::{json, Value};
use waki::Method;

use crate::entities::{self, visibility_name};
use crate::exports::kosha::mastodon::{accounts, search, statuses, timelines};
use crate::headers::{page_links, rate_limit};
use crate::transport::{send, Reply, Request};
use crate::types::*;
use crate::url::{Query, Segment};
use crate::validate::{self, MAX_ACCOUNT_LIMIT, MAX_STATUS_LIMIT};
use crate::Connector;

use Segment::{Fixed, Value as Var};

/// The query parameters of a page request.
fn page_query(page: &PageRequest) -> Query {
    let mut query = Query::new();
    query
        .opt("max_id", page.max_id.as_deref())
        .opt("since_id", page.since_id.as_deref())
        .opt("min_id", page.min_id.as_deref())
        .number("limit", page.limit);
    query
}

fn account_page(reply: Reply) -> Result<AccountPage, Error> {
    let (next, prev) = page_links(&reply.headers);
    Ok(AccountPage {
        items: entities::many(&reply.body, "accounts", entities::account)?,
        next,
        prev,
        rate_limit: rate_limit(&reply.headers),
    })
}

fn status_page(reply: Reply) -> Result<StatusPage, Error> {
    let (next, prev) = page_links(&reply.headers);
    Ok(StatusPage {
        items: entities::many(&reply.body, "statuses", entities::status)?,
        next,
        prev,
        partial: reply.status == 206,
        rate_limit: rate_limit(&reply.headers),
    })
}

fn account_result(reply: Reply) -> Result<AccountResult, Error> {
    Ok(AccountResult {
        value: entities::one(&reply.body, "account", entities::account)?,
        rate_limit: rate_limit(&reply.headers),
    })
}

/// followers or following of an account.
fn relations(
    which: &'static str,
    account_id: &str,
    page: &PageRequest,
) -> Result<AccountPage, Error> {
    validate::id("account-id", account_id)?;
    validate::page(page, MAX_ACCOUNT_LIMIT)?;
    let path = [
        Fixed("api"),
        Fixed("v1"),
        Fixed("accounts"),
        Var(account_id),
        Fixed(which),
    ];
    account_page(send(&Request::get(&path, page_query(page)))?)
}

impl accounts::Guest for Connector {
    fn verify_credentials() -> Result<CredentialAccountResult, Error> {
        let path = [
            Fixed("api"),
            Fixed("v1"),
            Fixed("accounts"),
            Fixed("verify_credentials"),
        ];
        let reply = send(&Request::get(&path, Query::new()))?;
        Ok(CredentialAccountResult {
            value: entities::one(&reply.body, "account", entities::credential_account)?,
            rate_limit: rate_limit(&reply.headers),
        })
    }

    fn get_account(id: String) -> Result<AccountResult, Error> {
        validate::id("id", &id)?;
        let path = [Fixed("api"), Fixed("v1"), Fixed("accounts"), Var(&id)];
        account_result(send(&Request::get(&path, Query::new()))?)
    }

    fn lookup_account(acct: String) -> Result<AccountResult, Error> {
        let acct = validate::acct("acct", &acct)?;
        let path = [
            Fixed("api"),
            Fixed("v1"),
            Fixed("accounts"),
            Fixed("lookup"),
        ];
        let mut query = Query::new();
        query.add("acct", acct);
        account_result(send(&Request::get(&path, query))?)
    }

    fn get_statuses(
        account_id: String,
        filters: accounts::StatusFilters,
        page: PageRequest,
    ) -> Result<StatusPage, Error> {
        validate::id("account-id", &account_id)?;
        validate::page(&page, MAX_STATUS_LIMIT)?;
        if let Some(tag) = &filters.tagged {
            validate::hashtag("filters.tagged", tag)?;
        }
        let path = [
            Fixed("api"),
            Fixed("v1"),
            Fixed("accounts"),
            Var(&account_id),
            Fixed("statuses"),
        ];
        let mut query = page_query(&page);
        query
            .flag("only_media", filters.only_media)
            .flag("exclude_replies", filters.exclude_replies)
            .flag("exclude_reblogs", filters.exclude_reblogs)
            .flag("pinned", filters.pinned)
            .opt("tagged", filters.tagged.as_deref());
        status_page(send(&Request::get(&path, query))?)
    }

    fn get_followers(account_id: String, page: PageRequest) -> Result<AccountPage, Error> {
        relations("followers", &account_id, &page)
    }

    fn get_following(account_id: String, page: PageRequest) -> Result<AccountPage, Error> {
        relations("following", &account_id, &page)
    }
}

/// The JSON body of `POST /api/v1/statuses`; only the fields given are sent.
fn status_body(status: &NewStatus) -> Value {
    let mut body = serde_json::Map::new();
    let mut put = |key: &str, value: Value| {
        body.insert(key.to_string(), value);
    };
    if let Some(text) = &status.text {
        put("status", json!(text));
    }
    if let Some(visibility) = &status.visibility {
        put("visibility", json!(visibility_name(visibility)));
    }
    if let Some(spoiler) = status.spoiler_text.as_deref().filter(|s| !s.is_empty()) {
        put("spoiler_text", json!(spoiler));
    }
    if let Some(sensitive) = status.sensitive {
        put("sensitive", json!(sensitive));
    }
    if let Some(language) = &status.language {
        put("language", json!(language));
    }
    if let Some(reply_to) = &status.in_reply_to_id {
        put("in_reply_to_id", json!(reply_to));
    }
    if !status.media_ids.is_empty() {
        put("media_ids", json!(status.media_ids));
    }
    if let Some(poll) = &status.poll {
        put(
            "poll",
            json!({
                "options": poll.options,
                "expires_in": poll.expires_in,
                "multiple": poll.multiple,
                "hide_totals": poll.hide_totals,
            }),
        );
    }
    if let Some(at) = &status.scheduled_at {
        put("scheduled_at", json!(at));
    }
    Value::Object(body)
}

/// A key derived from the request body, so that retrying the same call
/// (after a lost answer) is recognised by the server instead of posting
/// twice. Two 64-bit FNV-1a hashes with different offsets: stable across
/// builds and platforms, unlike std's hasher.
fn derived_idempotency_key(body: &[u8]) -> String {
    let fnv = |offset: u64| {
        body.iter().fold(offset, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "kosha-{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

impl statuses::Guest for Connector {
    fn post_status(status: NewStatus) -> Result<PostResult, Error> {
        validate::new_status(&status)?;
        let body = serde_json::to_vec(&status_body(&status))
            .map_err(|e| validate::invalid("new-status", format!("cannot be encoded: {e}")))?;
        let key = status
            .idempotency_key
            .clone()
            .unwrap_or_else(|| derived_idempotency_key(&body));
        let path = [Fixed("api"), Fixed("v1"), Fixed("statuses")];
        let request = Request {
            method: Method::Post,
            path: &path,
            query: Query::new(),
            json: Some(body),
            idempotency_key: Some(key),
            scheduled: status.scheduled_at.is_some(),
        };
        let reply = send(&request)?;
        // A scheduled status is recognised by its shape, not by what was asked:
        // the server has the last word.
        let value = entities::parse(&reply.body)?;
        let posted = if value.get("scheduled_at").is_some() && value.get("params").is_some() {
            entities::scheduled_status(&value).map(Posted::Scheduled)
        } else {
            entities::status(&value).map(Posted::Published)
        };
        Ok(PostResult {
            value: posted.ok_or_else(|| {
                Error::UndecodableResponse("the answer is not a usable status".into())
            })?,
            rate_limit: rate_limit(&reply.headers),
        })
    }
}

impl timelines::Guest for Connector {
    fn get_timeline(timeline: timelines::Timeline, page: PageRequest) -> Result<StatusPage, Error> {
        use timelines::Timeline;
        validate::page(&page, MAX_STATUS_LIMIT)?;
        let mut query = page_query(&page);
        let public_filters = |query: &mut Query, f: &timelines::PublicFilters| {
            query
                .flag("local", f.local)
                .flag("remote", f.remote)
                .flag("only_media", f.only_media);
        };
        let reply = match &timeline {
            Timeline::Home => send(&Request::get(
                &[Fixed("api"), Fixed("v1"), Fixed("timelines"), Fixed("home")],
                query,
            ))?,
            Timeline::Public(filters) => {
                if filters.local && filters.remote {
                    return Err(validate::invalid(
                        "timeline.public",
                        "`local` and `remote` exclude each other",
                    ));
                }
                public_filters(&mut query, filters);
                send(&Request::get(
                    &[
                        Fixed("api"),
                        Fixed("v1"),
                        Fixed("timelines"),
                        Fixed("public"),
                    ],
                    query,
                ))?
            }
            Timeline::Hashtag(tag) => {
                validate::hashtag("timeline.hashtag.hashtag", &tag.hashtag)?;
                validate::hashtags("timeline.hashtag.any", &tag.any)?;
                validate::hashtags("timeline.hashtag.all", &tag.all)?;
                validate::hashtags("timeline.hashtag.none", &tag.none)?;
                if tag.filters.local && tag.filters.remote {
                    return Err(validate::invalid(
                        "timeline.hashtag.filters",
                        "`local` and `remote` exclude each other",
                    ));
                }
                for (name, values) in [
                    ("any[]", &tag.any),
                    ("all[]", &tag.all),
                    ("none[]", &tag.none),
                ] {
                    for value in values {
                        query.add(name, value);
                    }
                }
                public_filters(&mut query, &tag.filters);
                send(&Request::get(
                    &[
                        Fixed("api"),
                        Fixed("v1"),
                        Fixed("timelines"),
                        Fixed("tag"),
                        Var(&tag.hashtag),
                    ],
                    query,
                ))?
            }
            Timeline::List(list_id) => {
                validate::id("timeline.list", list_id)?;
                send(&Request::get(
                    &[
                        Fixed("api"),
                        Fixed("v1"),
                        Fixed("timelines"),
                        Fixed("list"),
                        Var(list_id),
                    ],
                    query,
                ))?
            }
        };
        status_page(reply)
    }
}

impl search::Guest for Connector {
    fn search(
        query_text: String,
        options: search::SearchOptions,
    ) -> Result<search::SearchResults, Error> {
        if query_text.trim().is_empty() {
            return Err(validate::invalid("query", "must not be empty"));
        }
        if query_text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(validate::invalid(
                "query",
                "must not contain control characters",
            ));
        }
        validate::limit("options.limit", options.limit, MAX_STATUS_LIMIT)?;
        if options.offset.is_some() && options.kind.is_none() {
            return Err(validate::invalid(
                "options.offset",
                "needs `kind`: servers page one kind of result at a time",
            ));
        }
        if let Some(account_id) = &options.account_id {
            validate::id("options.account-id", account_id)?;
        }
        for (field, cursor) in [
            ("options.max-id", &options.max_id),
            ("options.min-id", &options.min_id),
        ] {
            if let Some(cursor) = cursor {
                validate::id(field, cursor)?;
            }
        }
        let mut query = Query::new();
        query.add("q", &query_text);
        if let Some(kind) = options.kind {
            query.add(
                "type",
                match kind {
                    search::SearchKind::Accounts => "accounts",
                    search::SearchKind::Hashtags => "hashtags",
                    search::SearchKind::Statuses => "statuses",
                },
            );
        }
        query
            .flag("resolve", options.resolve)
            .flag("following", options.following)
            .opt("account_id", options.account_id.as_deref())
            .flag("exclude_unreviewed", options.exclude_unreviewed)
            .opt("max_id", options.max_id.as_deref())
            .opt("min_id", options.min_id.as_deref())
            .number("limit", options.limit)
            .number("offset", options.offset);
        let reply = send(&Request::get(
            &[Fixed("api"), Fixed("v2"), Fixed("search")],
            query,
        ))?;
        let sections = entities::search_sections(&reply.body)?;
        Ok(search::SearchResults {
            accounts: entities::each(&sections.accounts, entities::account),
            statuses: entities::each(&sections.statuses, entities::status),
            hashtags: entities::each(&sections.hashtags, |t| match t {
                // Mastodon before 3.0 (API v1) listed hashtags as bare strings.
                Value::String(name) => Some(Tag {
                    name: name.clone(),
                    url: String::new(),
                    history: vec![],
                    following: None,
                }),
                other => entities::tag(other),
            }),
            rate_limit: rate_limit(&reply.headers),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_stable_and_distinct() {
        let a = derived_idempotency_key(br#"{"status":"a"}"#);
        assert_eq!(a, derived_idempotency_key(br#"{"status":"a"}"#));
        assert_ne!(a, derived_idempotency_key(br#"{"status":"b"}"#));
        assert_eq!(a.len(), "kosha-".len() + 32);
    }
}
