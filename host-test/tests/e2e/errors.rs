//! Error cases: what the server answers, what the network does, and input
//! refused before anything is sent. Every case checks what reached the server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use host_test::server::*;
use host_test::*;
use serde_json::json;

use crate::support::*;

/// A token easy to search for in every output.
const SECRET: &str = "SECRET-tok3n-e2e-0123456789";

#[test]
fn unauthorized_without_a_refresh_sends_one_request() {
    let server = TestServer::start(Flavor::Mastodon);
    let client = client_with(&server, Some(STALE_TOKEN));
    assert!(
        matches!(err(client.verify_credentials()), Error::Unauthorized(m) if m.contains("invalid"))
    );
    assert_eq!(server.request_count(), 1);
    let anonymous = client_with(&server, None);
    assert!(matches!(
        err(anonymous.get_timeline(&Timeline::Home, &first_page())),
        Error::Unauthorized(_)
    ));
}

#[test]
fn a_refreshed_token_repeats_the_request_once_and_is_kept() {
    let server = TestServer::start(Flavor::Mastodon);
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = refreshes.clone();
    let connection =
        Connection::new(server.url(), Some(STALE_TOKEN.into())).with_refresh(Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Some(USER_TOKEN.to_string())
        }));
    let client = Client::new(host(), connection);
    assert_eq!(
        ok(client.verify_credentials()).value.account.username,
        "alice"
    );
    let sent = server.exchanges();
    assert_eq!(sent.len(), 2, "the first request and exactly one repeat");
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {STALE_TOKEN}").as_str())
    );
    assert_eq!(
        sent[1].header("authorization"),
        Some(format!("Bearer {USER_TOKEN}").as_str())
    );
    // The fresh token is kept: the next call needs no refresh.
    ok(client.get_timeline(&Timeline::Home, &first_page()));
    assert_eq!(
        (server.request_count(), refreshes.load(Ordering::SeqCst)),
        (3, 1)
    );
}

#[test]
fn a_refresh_that_is_refused_again_does_not_loop() {
    let server = TestServer::start(Flavor::Mastodon);
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = refreshes.clone();
    let connection =
        Connection::new(server.url(), Some(STALE_TOKEN.into())).with_refresh(Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Some(format!("{STALE_TOKEN}"))
        }));
    let client = Client::new(host(), connection);
    assert!(matches!(
        err(client.verify_credentials()),
        Error::Unauthorized(_)
    ));
    assert_eq!(
        (server.request_count(), refreshes.load(Ordering::SeqCst)),
        (2, 1)
    );
    // A callback that panics counts as "no token"; the host stays usable.
    let panicking =
        Connection::new(server.url(), Some(STALE_TOKEN.into())).with_refresh(Arc::new(|| {
            panic!("intentional panic in a refresh callback: the host must survive it")
        }));
    let client = Client::new(host(), panicking);
    assert!(matches!(
        err(client.verify_credentials()),
        Error::Unauthorized(_)
    ));
}

#[test]
fn server_answers_map_to_their_cases() {
    let server = TestServer::start(Flavor::Mastodon);
    let client = no_retry_client(&server);
    let alice = ids(Flavor::Mastodon).alice;
    let path = format!("/api/v1/accounts/{alice}");
    let cases: Vec<(CannedResponse, fn(&Error) -> bool)> = vec![
        (
            CannedResponse::json(403, &json!({"error": "forbidden here"})),
            |e| matches!(e, Error::Forbidden(m) if m == "forbidden here"),
        ),
        (CannedResponse::json(410, &json!({"error": "gone"})), |e| {
            matches!(e, Error::Gone(_))
        }),
        (
            CannedResponse::json(422, &json!({"error": "Validation failed"})),
            |e| matches!(e, Error::Rejected(m) if m == "Validation failed"),
        ),
        (
            CannedResponse::json(400, &json!({"error": "missing"})),
            |e| matches!(e, Error::RequestFailed(f) if f.status == 400),
        ),
        (
            CannedResponse::json(429, &json!({"error": "Too many requests"}))
                .with_header("X-RateLimit-Limit", "300")
                .with_header("X-RateLimit-Remaining", "0")
                .with_header("X-RateLimit-Reset", "2026-12-03T17:00:00.000Z"),
            |e| matches!(e, Error::RateLimited(r) if r.remaining == Some(0) && r.reset_epoch_seconds == Some(1_796_317_200)),
        ),
        (
            CannedResponse::json(429, &json!({"error": "slow down"}))
                .with_header("X-RateLimit-Reset", "1796317200"),
            |e| matches!(e, Error::RateLimited(r) if r.reset_epoch_seconds == Some(1_796_317_200)),
        ),
        (
            CannedResponse::json(500, &json!({"error": "boom"})),
            |e| matches!(e, Error::ServerError(f) if f.status == 500 && f.message == "boom"),
        ),
        (
            CannedResponse::html(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
            |e| matches!(e, Error::ServerError(f) if f.status == 502 && f.message.contains("Bad Gateway")),
        ),
        (
            CannedResponse::html(503, "<p>down</p>"),
            |e| matches!(e, Error::ServerError(f) if f.status == 503),
        ),
        (
            CannedResponse::html(504, ""),
            |e| matches!(e, Error::ServerError(f) if f.status == 504),
        ),
        (
            CannedResponse::json(302, &json!({}))
                .with_header("Location", "http://127.0.0.2:1/elsewhere"),
            |e| matches!(e, Error::RequestFailed(f) if f.status == 302 && f.message.contains("not followed")),
        ),
        (
            CannedResponse::json(200, &json!({"error": "no id here"})),
            |e| matches!(e, Error::UndecodableResponse(_)),
        ),
        (
            CannedResponse {
                status: 200,
                headers: vec![],
                body: b"{\"id\": \"1\", \"username\": ".to_vec(),
            },
            |e| matches!(e, Error::UndecodableResponse(_)),
        ),
        (CannedResponse::html(200, "<html>not json</html>"), |e| {
            matches!(e, Error::UndecodableResponse(_))
        }),
        (
            CannedResponse {
                status: 200,
                headers: vec![],
                body: vec![b' '; 5 * 1024 * 1024],
            },
            |e| matches!(e, Error::UndecodableResponse(m) if m.contains("larger")),
        ),
    ];
    let total = cases.len();
    for (i, (response, expected)) in cases.into_iter().enumerate() {
        server.fail_next(&path, 1, response);
        let error = err(client.get_account(&alice));
        assert!(expected(&error), "case {i}: got {error:?}");
    }
    assert_eq!(
        server.request_count(),
        total,
        "one request per case: nothing retried, no redirect followed"
    );
}

fn no_retry_client(server: &TestServer) -> Client {
    let connection = Connection::new(server.url(), Some(USER_TOKEN.into())).with_retry(no_retry());
    Client::new(host(), connection)
}

fn fast_retries(server: &TestServer, retries: u32) -> Client {
    let connection =
        Connection::new(server.url(), Some(USER_TOKEN.into())).with_retry(RetrySettings {
            max_retries: retries,
            initial_backoff_ms: 10,
            max_backoff_ms: 40,
        });
    Client::new(host(), connection)
}

#[test]
fn reads_are_retried_on_failures_that_may_pass() {
    let server = TestServer::start(Flavor::Mastodon);
    let client = fast_retries(&server, 2);
    let alice = ids(Flavor::Mastodon).alice;
    let path = format!("/api/v1/accounts/{alice}");
    // Two transient failures, then success: three requests.
    server.fail_next(&path, 1, CannedResponse::html(502, "bad gateway"));
    server.fail_next(
        &path,
        1,
        CannedResponse::json(503, &json!({"error": "busy"})),
    );
    assert_eq!(ok(client.get_account(&alice)).value.id, alice);
    assert_eq!(server.request_count(), 3);
    // As many failures as tries: the last error is returned after 1 + 2 tries.
    server.clear_exchanges();
    server.fail_next(&path, 3, CannedResponse::html(504, "timeout"));
    assert!(matches!(err(client.get_account(&alice)), Error::ServerError(f) if f.status == 504));
    assert_eq!(server.request_count(), 3);
    // 500, 429 and 4xx are not retried.
    for status in [500, 429, 404] {
        server.clear_exchanges();
        server.fail_next(
            &path,
            1,
            CannedResponse::json(status, &json!({"error": "no"})),
        );
        err(client.get_account(&alice));
        assert_eq!(server.request_count(), 1, "{status} is not retried");
    }
}

#[test]
fn a_retried_post_carries_the_same_key_and_posts_once() {
    let server = TestServer::start(Flavor::Mastodon);
    let client = fast_retries(&server, 3);
    let before = server.status_count();
    server.fail_next(
        "/api/v1/statuses",
        2,
        CannedResponse::json(503, &json!({"error": "busy"})),
    );
    ok(client.post_status(&text_status("retried post")));
    let keys: Vec<String> = server
        .exchanges()
        .iter()
        .map(|e| e.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|k| k == &keys[0]),
        "one key for all attempts"
    );
    assert_eq!(server.status_count(), before + 1);
}

#[test]
fn a_server_that_is_not_there_is_a_network_failure() {
    // Port 1 on loopback: nothing listens there (an ephemeral port just
    // released could be taken by another test's server).
    let port = 1;
    let client = Client::new(
        host(),
        Connection::new(format!("http://127.0.0.1:{port}"), Some(SECRET.into())),
    );
    match err(client.verify_credentials()) {
        Error::NetworkFailure(f) => {
            assert_eq!(f.kind, NetworkFailureKind::ConnectionRefused);
            assert!(!f.message.contains(SECRET));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_configuration_sends_nothing() {
    let server = TestServer::start(Flavor::Mastodon);
    let port = server.addr().port();
    let urls = [
        "ftp://127.0.0.1".to_string(),
        "127.0.0.1".to_string(),
        format!("http://127.0.0.1:{port}/?x=1"),
        format!("http://127.0.0.1:{port}/#f"),
        "http://mastodon.example".to_string(),
        "http://10.0.0.1".to_string(),
        format!("http://user:pw@127.0.0.1:{port}"),
        String::new(),
    ];
    for url in &urls {
        let client = Client::new(
            host(),
            Connection::new(url.clone(), Some(USER_TOKEN.into())),
        );
        assert!(
            matches!(err(client.verify_credentials()), Error::BadConfiguration(_)),
            "{url}"
        );
    }
    for token in ["a\r\nX-Injected: 1", "a\nb", "", "with space"] {
        let client = client_with(&server, Some(token));
        assert!(
            matches!(err(client.verify_credentials()), Error::BadConfiguration(_)),
            "{token:?}"
        );
    }
    assert_eq!(server.request_count(), 0);
}

/// Input the component refuses before sending anything, each naming its field.
#[test]
fn invalid_input_is_refused_before_sending() {
    let (server, client) = setup(Flavor::Mastodon);
    let alice = ids(Flavor::Mastodon).alice;
    let status = |f: fn(&mut NewStatus)| {
        let mut s = text_status("hello");
        f(&mut s);
        s
    };
    let cases: Vec<(&str, Outcome<()>)> = vec![
        ("id", client.get_account("").map(|r| r.map(drop))),
        ("id", client.get_account("a/b").map(|r| r.map(drop))),
        ("id", client.get_account("a?b").map(|r| r.map(drop))),
        ("id", client.get_account("a#b").map(|r| r.map(drop))),
        ("id", client.get_account("..").map(|r| r.map(drop))),
        ("id", client.get_account("a b").map(|r| r.map(drop))),
        ("id", client.get_account("a\u{7}b").map(|r| r.map(drop))),
        ("acct", client.lookup_account("").map(|r| r.map(drop))),
        ("acct", client.lookup_account("a@b@c").map(|r| r.map(drop))),
        ("acct", client.lookup_account("user@").map(|r| r.map(drop))),
        ("acct", client.lookup_account("us er").map(|r| r.map(drop))),
        (
            "account-id",
            client
                .get_statuses("../x", &no_filters(), &first_page())
                .map(|r| r.map(drop)),
        ),
        (
            "page.limit",
            client
                .get_statuses(&alice, &no_filters(), &page(0))
                .map(|r| r.map(drop)),
        ),
        (
            "page.limit",
            client
                .get_statuses(&alice, &no_filters(), &page(41))
                .map(|r| r.map(drop)),
        ),
        (
            "page.limit",
            client.get_followers(&alice, &page(81)).map(|r| r.map(drop)),
        ),
        (
            "page.max-id",
            client
                .get_followers(
                    &alice,
                    &PageRequest {
                        max_id: Some("".into()),
                        ..first_page()
                    },
                )
                .map(|r| r.map(drop)),
        ),
        (
            "filters.tagged",
            client
                .get_statuses(
                    &alice,
                    &StatusFilters {
                        tagged: Some("#rust".into()),
                        ..no_filters()
                    },
                    &first_page(),
                )
                .map(|r| r.map(drop)),
        ),
        (
            "timeline.hashtag.hashtag",
            client
                .get_timeline(&hashtag("#kosha"), &first_page())
                .map(|r| r.map(drop)),
        ),
        (
            "timeline.hashtag.hashtag",
            client
                .get_timeline(&hashtag("two words"), &first_page())
                .map(|r| r.map(drop)),
        ),
        (
            "timeline.hashtag.any",
            client
                .get_timeline(
                    &Timeline::Hashtag(HashtagTimeline {
                        hashtag: "a".into(),
                        any: vec!["b c".into()],
                        all: vec![],
                        none: vec![],
                        filters: public_filters(),
                    }),
                    &first_page(),
                )
                .map(|r| r.map(drop)),
        ),
        (
            "timeline.list",
            client
                .get_timeline(&Timeline::List("1/../2".into()), &first_page())
                .map(|r| r.map(drop)),
        ),
        (
            "timeline.public",
            client
                .get_timeline(
                    &Timeline::Public(PublicFilters {
                        local: true,
                        remote: true,
                        only_media: false,
                    }),
                    &first_page(),
                )
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.text",
            client
                .post_status(&status(|s| s.text = None))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.text",
            client
                .post_status(&status(|s| s.text = Some("   ".into())))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.poll",
            client
                .post_status(&status(|s| {
                    s.media_ids = vec!["1".into()];
                    s.poll = Some(NewPoll {
                        options: vec!["a".into(), "b".into()],
                        expires_in: 300,
                        multiple: false,
                        hide_totals: false,
                    });
                }))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.poll.options",
            client
                .post_status(&status(|s| {
                    s.poll = Some(NewPoll {
                        options: vec!["only".into()],
                        expires_in: 300,
                        multiple: false,
                        hide_totals: false,
                    })
                }))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.poll.expires-in",
            client
                .post_status(&status(|s| {
                    s.poll = Some(NewPoll {
                        options: vec!["a".into(), "b".into()],
                        expires_in: 0,
                        multiple: false,
                        hide_totals: false,
                    })
                }))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.scheduled-at",
            client
                .post_status(&status(|s| s.scheduled_at = Some("tomorrow".into())))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.scheduled-at",
            client
                .post_status(&status(|s| {
                    s.scheduled_at = Some("2001-01-01T00:00:00Z".into())
                }))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.language",
            client
                .post_status(&status(|s| s.language = Some("english".into())))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.visibility",
            client
                .post_status(&status(|s| {
                    s.visibility = Some(Visibility::Other("a b".into()))
                }))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.media-ids",
            client
                .post_status(&status(|s| s.media_ids = vec!["../1".into()]))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.in-reply-to-id",
            client
                .post_status(&status(|s| s.in_reply_to_id = Some("1/2".into())))
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.idempotency-key",
            client
                .post_status(&status(|s| s.idempotency_key = Some("a\r\nb".into())))
                .map(|r| r.map(drop)),
        ),
        (
            "query",
            client.search("  ", &search_options()).map(|r| r.map(drop)),
        ),
        (
            "options.limit",
            client
                .search(
                    "x",
                    &SearchOptions {
                        limit: Some(0),
                        ..search_options()
                    },
                )
                .map(|r| r.map(drop)),
        ),
        (
            "options.account-id",
            client
                .search(
                    "x",
                    &SearchOptions {
                        account_id: Some("a/b".into()),
                        ..search_options()
                    },
                )
                .map(|r| r.map(drop)),
        ),
        (
            "options.offset",
            client
                .search(
                    "x",
                    &SearchOptions {
                        offset: Some(20),
                        ..search_options()
                    },
                )
                .map(|r| r.map(drop)),
        ),
        (
            "new-status.scheduled-at",
            client
                .post_status(&status(|s| {
                    s.scheduled_at = Some("2020-02-30T00:00:00Z".into())
                }))
                .map(|r| r.map(drop)),
        ),
    ];
    let tried = cases.len();
    for (field, outcome) in cases {
        match outcome.expect("no host failure") {
            Err(Error::InvalidInput(input)) => {
                assert_eq!(input.field, field, "{input:?}");
                assert!(!format!("{input:?}").contains(USER_TOKEN));
            }
            other => panic!("expected invalid-input for {field}, got {other:?}"),
        }
    }
    assert_eq!(server.request_count(), 0, "nothing was sent");
    println!("bad inputs tried and refused: {tried}");
}

#[test]
fn the_token_never_appears_in_an_error() {
    let server = TestServer::start(Flavor::Mastodon);
    // No retries: each echo below must be the answer the error comes from.
    let connection = Connection::new(server.url(), Some(SECRET.into())).with_retry(no_retry());
    let client = Client::new(host(), connection);
    let alice = ids(Flavor::Mastodon).alice;
    let path = format!("/api/v1/accounts/{alice}");
    // A hostile server echoes the token back in every way it can, also
    // JSON-escaped (`\/`), which only decoding reveals.
    let escaped = SECRET.replace('-', "\\u002d");
    let echoes = [
        (
            CannedResponse::json(401, &json!({"error": format!("bad token {SECRET}")})),
            "unauthorized",
        ),
        (
            CannedResponse::json(500, &json!({"error": format!("Bearer {SECRET}")})),
            "server-error",
        ),
        (
            CannedResponse::html(502, &format!("<h1>{SECRET}</h1>")),
            "server-error",
        ),
        (
            CannedResponse::json(302, &json!({}))
                .with_header("Location", &format!("http://127.0.0.1:1/?t={SECRET}")),
            "request-failed",
        ),
        (
            CannedResponse::json(422, &json!({"error": SECRET, "error_description": SECRET})),
            "rejected",
        ),
        (
            CannedResponse {
                status: 403,
                headers: vec![],
                body: format!("{{\"error\":\"{escaped}\"}}").into_bytes(),
            },
            "forbidden",
        ),
    ];
    let mut errors = Vec::new();
    for (response, case) in echoes {
        server.fail_next(&path, 1, response);
        let error = err(client.get_account(&alice));
        assert_eq!(error_case(&error), case, "{error:?}");
        errors.push(error);
    }
    errors.push(err(client.get_account("../x")));
    errors.push(err(Client::new(
        host(),
        Connection::new("http://127.0.0.1:1", Some(SECRET.into())),
    )
    .verify_credentials()));
    for error in &errors {
        let text = format!("{error:?}");
        assert!(
            !text.contains(SECRET) && !text.contains("tok3n"),
            "token leaked: {text}"
        );
    }
}
