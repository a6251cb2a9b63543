//! Tests that talk to the server over real sockets.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use serde_json::{json, Value};

use super::*;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }

    /// The path and query of the Link with this rel, if any.
    fn link(&self, rel: &str) -> Option<String> {
        let header = self.header("link")?;
        header
            .split(", ")
            .find(|part| part.ends_with(&format!("rel=\"{rel}\"")))
            .map(|part| {
                let url = &part[1..part.find('>').unwrap()];
                let after_scheme = url.strip_prefix("http://").unwrap();
                after_scheme[after_scheme.find('/').unwrap()..].to_string()
            })
    }
}

/// Sends raw request bytes on a stream and reads one response.
fn exchange_on(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, raw: &[u8]) -> Reply {
    stream.write_all(raw).unwrap();
    read_reply(reader)
}

fn read_reply(reader: &mut BufReader<TcpStream>) -> Reply {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .expect("status line")
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let length: usize = find_header(&headers, "content-length")
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

fn connect(server: &TestServer) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(server.addr()).unwrap();
    let reader = BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

/// One request on a fresh connection. `token` adds a Bearer header; a User-Agent is always sent.
fn send(
    server: &TestServer,
    method: &str,
    target: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: server-tests\r\n",
        server.addr()
    );
    if let Some(token) = token {
        raw.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (k, v) in extra {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    let (mut stream, mut reader) = connect(server);
    exchange_on(&mut stream, &mut reader, &bytes)
}

fn get(server: &TestServer, target: &str, token: Option<&str>) -> Reply {
    send(server, "GET", target, token, &[], b"")
}

fn post_json(server: &TestServer, token: &str, body: &Value, extra: &[(&str, &str)]) -> Reply {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    send(
        server,
        "POST",
        "/api/v1/statuses",
        Some(token),
        &headers,
        body.to_string().as_bytes(),
    )
}

fn ids_of(page: &Value) -> Vec<String> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn flavor_names_parse() {
    for flavor in Flavor::ALL {
        assert_eq!(flavor.name().parse::<Flavor>(), Ok(flavor));
    }
    assert!("friendica".parse::<Flavor>().is_err());
}

#[test]
fn followers_page_through_link_next_in_every_flavor() {
    for flavor in Flavor::ALL {
        let server = TestServer::start(flavor);
        let alice = server.ids().alice;
        let mut target = Some(format!("/api/v1/accounts/{alice}/followers?limit=40"));
        let (mut seen, mut pages) = (HashSet::new(), 0);
        while let Some(t) = target {
            let reply = get(&server, &t, Some(USER_TOKEN));
            assert_eq!(reply.status, 200, "{flavor:?} {t}");
            let page = ids_of(&reply.json());
            if page.is_empty() {
                assert!(reply.header("link").is_none(), "an empty page has no Link");
                break;
            }
            pages += 1;
            for id in &page {
                assert!(
                    seen.insert(id.clone()),
                    "{flavor:?}: duplicate follower {id}"
                );
            }
            target = reply.link("next");
            // Cursors are Follow ids, not account ids.
            if let Some(next) = &target {
                assert!(
                    !page
                        .iter()
                        .any(|id| next.contains(&format!("max_id={id}&"))),
                    "{next}"
                );
            }
        }
        assert_eq!(seen.len(), FOLLOWER_COUNT, "{flavor:?}");
        assert_eq!(pages, 3, "{flavor:?}");
        let following = get(
            &server,
            &format!("/api/v1/accounts/{alice}/following?limit=80"),
            None,
        )
        .json();
        assert_eq!(following.as_array().unwrap().len(), FOLLOWING_COUNT);
    }
}

#[test]
fn hidden_network_answers_empty_list() {
    let server = TestServer::start(Flavor::Pixelfed);
    let dave = server.ids().dave;
    let reply = get(
        &server,
        &format!("/api/v1/accounts/{dave}/followers"),
        Some(USER_TOKEN),
    );
    assert_eq!((reply.status, reply.json()), (200, json!([])));
    let account = get(&server, &format!("/api/v1/accounts/{dave}"), None).json();
    assert_eq!(account["followers_count"], -1);
}

#[test]
fn idempotency_key_returns_first_result() {
    let server = TestServer::start(Flavor::Mastodon);
    let before = server.status_count();
    let body = json!({"status": "Only once, please", "visibility": "public"});
    let first = post_json(&server, USER_TOKEN, &body, &[("Idempotency-Key", "key-1")]);
    let second = post_json(&server, USER_TOKEN, &body, &[("Idempotency-Key", "key-1")]);
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_eq!(first.json()["content"], "<p>Only once, please</p>");
    assert_eq!(server.status_count(), before + 1);
    assert_eq!(server.statuses_with_text("Only once, please"), 1);
    // Keys are per token.
    let bob = post_json(&server, BOB_TOKEN, &body, &[("Idempotency-Key", "key-1")]);
    assert_ne!(bob.json()["id"], first.json()["id"]);
    assert_eq!(server.statuses_with_text("Only once, please"), 2);
}

#[test]
fn posted_status_shows_up_everywhere() {
    let server = TestServer::start(Flavor::Mastodon);
    let alice = server.ids().alice;
    let posted = post_json(
        &server,
        USER_TOKEN,
        &json!({"status": "Fresh <news> #Wasmtime"}),
        &[],
    )
    .json();
    assert_eq!(posted["content"], "<p>Fresh &lt;news&gt; #Wasmtime</p>");
    let id = posted["id"].as_str().unwrap();
    for target in [
        format!("/api/v1/accounts/{alice}/statuses?limit=1"),
        "/api/v1/timelines/home?limit=1".into(),
        "/api/v1/timelines/public?limit=1".into(),
        "/api/v1/timelines/tag/wasmtime".into(),
    ] {
        assert_eq!(
            ids_of(&get(&server, &target, Some(USER_TOKEN)).json())[0],
            id,
            "{target}"
        );
    }
    let found = get(
        &server,
        "/api/v2/search?q=fresh&type=statuses",
        Some(USER_TOKEN),
    )
    .json();
    assert_eq!(found["statuses"][0]["id"], id);
    let account = get(&server, &format!("/api/v1/accounts/{alice}"), None).json();
    assert_eq!(account["statuses_count"], ALICE_STATUS_COUNT as u64 + 1);
}

#[test]
fn auth_errors() {
    let server = TestServer::start(Flavor::Mastodon);
    let stale = get(
        &server,
        "/api/v1/accounts/verify_credentials",
        Some(STALE_TOKEN),
    );
    assert_eq!(
        (stale.status, stale.error().as_str()),
        (401, "The access token is invalid")
    );
    assert!(stale
        .header("www-authenticate")
        .unwrap()
        .contains("error=\"invalid_token\""));
    // Invalid tokens fail even on public endpoints.
    assert_eq!(
        get(&server, "/api/v1/timelines/public", Some("bogus")).status,
        401
    );
    assert_eq!(get(&server, "/api/v1/timelines/public", None).status, 200);
    assert_eq!(
        get(&server, "/api/v1/accounts/verify_credentials", None).status,
        401
    );
    assert_eq!(get(&server, "/api/v1/timelines/home", None).status, 401);
    let app = get(
        &server,
        "/api/v1/accounts/verify_credentials",
        Some(APP_TOKEN),
    );
    assert_eq!(
        (app.status, app.error().as_str()),
        (422, "This method requires an authenticated user")
    );
    let read_only = post_json(&server, READ_ONLY_TOKEN, &json!({"status": "hi"}), &[]);
    assert_eq!(
        (read_only.status, read_only.error().as_str()),
        (403, "This action is outside the authorized scopes")
    );
    assert_eq!(
        get(
            &server,
            "/api/v1/accounts/verify_credentials",
            Some(DISABLED_TOKEN)
        )
        .status,
        403
    );
    let me = get(
        &server,
        "/api/v1/accounts/verify_credentials",
        Some(USER_TOKEN),
    )
    .json();
    assert_eq!(
        (me["username"].as_str(), me["source"]["privacy"].as_str()),
        (Some("alice"), Some("public"))
    );
    assert_eq!(
        me["last_status_at"].as_str().unwrap().len(),
        10,
        "Mastodon sends a date only"
    );
}

#[test]
fn validation_errors() {
    let server = TestServer::start(Flavor::Mastodon);
    let media = server.ids().known_media;
    let cases = [
        (
            json!({"status": "  "}),
            "Validation failed: Text can't be blank",
        ),
        (
            json!({"status": "x", "media_ids": ["999"]}),
            "Validation failed: Media attachments not found: 999",
        ),
        (
            json!({"status": "x", "media_ids": [media[0]], "poll": {"options": ["a", "b"], "expires_in": 600}}),
            "Validation failed: Media attachments can't be combined with a poll",
        ),
        (
            json!({"status": "x", "poll": {"options": ["a", "b"]}}),
            "Validation failed: Poll expires at can't be blank",
        ),
        (
            json!({"status": "x", "poll": {"options": ["a"], "expires_in": 600}}),
            "Validation failed: Poll options must have at least 2 items",
        ),
        (
            json!({"status": "x", "scheduled_at": "2020-01-01T00:00:00Z"}),
            "Validation failed: Scheduled at The scheduled date must be in the future",
        ),
    ];
    for (body, message) in cases {
        let reply = post_json(&server, USER_TOKEN, &body, &[]);
        assert_eq!(
            (reply.status, reply.error()),
            (422, message.to_string()),
            "{body}"
        );
    }
    assert_eq!(
        post_json(
            &server,
            USER_TOKEN,
            &json!({"status": "x", "in_reply_to_id": "1"}),
            &[]
        )
        .status,
        404
    );
    // Media alone needs no text.
    let ok = post_json(
        &server,
        USER_TOKEN,
        &json!({"media_ids": [media[0], media[1]]}),
        &[],
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["media_attachments"].as_array().unwrap().len(), 2);
}

#[test]
fn form_encoded_post_with_poll() {
    let server = TestServer::start(Flavor::Pleroma);
    let body = "status=Pick+one%21&poll%5Boptions%5D%5B%5D=Tea&poll%5Boptions%5D%5B%5D=Coffee&poll%5Bexpires_in%5D=3600&poll%5Bmultiple%5D=true&visibility=local";
    let reply = send(
        &server,
        "POST",
        "/api/v1/statuses",
        Some(USER_TOKEN),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let status = reply.json();
    assert_eq!(status["poll"]["options"][1]["title"], "Coffee");
    assert_eq!(status["poll"]["multiple"], true);
    assert_eq!(status["visibility"], "local");
    assert_eq!(status["pleroma"]["content"]["text/plain"], "Pick one!");
    let exchange = server.exchanges().pop().unwrap();
    assert_eq!(
        exchange.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[test]
fn scheduled_status_repeats_idempotency_key_on_mastodon() {
    let server = TestServer::start(Flavor::Mastodon);
    let at = clock::datetime(clock::now_ms() + 3_600_000);
    let reply_to = server.ids().bob_status;
    let body = json!({"status": "Later", "scheduled_at": at, "in_reply_to_id": reply_to});
    let reply = post_json(
        &server,
        USER_TOKEN,
        &body,
        &[("Idempotency-Key", "sched-1")],
    );
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body.clone()).unwrap();
    assert_eq!(
        text.matches("\"idempotency\":\"sched-1\"").count(),
        2,
        "{text}"
    );
    assert!(
        text.contains(&format!("\"in_reply_to_id\":{reply_to},")),
        "a bare number: {text}"
    );
    let value = reply.json(); // serde_json keeps the last duplicate
    assert_eq!(value["params"]["text"], "Later");
    assert_eq!(value["scheduled_at"], at);
    assert_eq!(server.scheduled_count(), 1);
    let again = post_json(
        &server,
        USER_TOKEN,
        &body,
        &[("Idempotency-Key", "sched-1")],
    );
    assert_eq!(again.body, reply.body);
    assert_eq!(server.scheduled_count(), 1);
}

#[test]
fn link_header_format() {
    let server = TestServer::start(Flavor::Mastodon);
    let alice = server.ids().alice;
    let path = format!("/api/v1/accounts/{alice}/statuses");
    let reply = get(&server, &format!("{path}?limit=5"), None);
    let page = ids_of(&reply.json());
    let host = server.addr();
    assert_eq!(
        reply.header("link").unwrap(),
        format!("<http://{host}{path}?max_id={}&limit=5>; rel=\"next\", <http://{host}{path}?min_id={}&limit=5>; rel=\"prev\"", page[4], page[0])
    );
    // Filters are kept; a last, short page has only prev.
    let media = get(&server, &format!("{path}?only_media=true&limit=40"), None);
    assert_eq!(
        media.json().as_array().unwrap().len(),
        ALICE_MEDIA_STATUS_COUNT
    );
    let link = media.header("link").unwrap();
    assert!(
        !link.contains("rel=\"next\"") && link.contains("&limit=40&only_media=true>; rel=\"prev\""),
        "{link}"
    );
    // min_id gives the items just newer than the cursor.
    let newer = get(&server, &format!("{path}?min_id={}&limit=2", page[4]), None).json();
    assert_eq!(ids_of(&newer), vec![page[2].clone(), page[3].clone()]);
}

#[test]
fn pleroma_links_put_prev_first_with_since_id() {
    let server = TestServer::start(Flavor::Pleroma);
    let reply = get(&server, "/api/v1/timelines/public?limit=3", None);
    let link = reply.header("link").unwrap();
    assert!(
        link.contains("?since_id=") && link.find("rel=\"prev\"") < link.find("rel=\"next\""),
        "{link}"
    );
    let next = get(&server, &reply.link("next").unwrap(), None);
    assert_eq!(next.json().as_array().unwrap().len(), 3);
}

#[test]
fn gotosocial_wants_a_user_agent() {
    let server = TestServer::start(Flavor::GoToSocial);
    let (mut stream, mut reader) = connect(&server);
    let raw = "GET /api/v1/timelines/public HTTP/1.1\r\nHost: x\r\n\r\n";
    let reply = exchange_on(&mut stream, &mut reader, raw.as_bytes());
    assert_eq!(
        (reply.status, reply.error().as_str()),
        (418, "I'm a teapot: no user-agent")
    );
    let ok = get(&server, "/api/v1/timelines/public", None);
    assert_eq!(ok.status, 200);
    let reset = ok.header("x-ratelimit-reset").unwrap();
    assert!(reset.parse::<i64>().is_ok(), "Unix seconds: {reset}");
    assert!(ok.json()[0]["id"].as_str().unwrap().starts_with("01H"));
}

#[test]
fn rate_limit_headers_decrease_per_token() {
    let server = TestServer::start(Flavor::Mastodon);
    let remaining = |token| {
        get(&server, "/api/v1/timelines/public", token)
            .header("x-ratelimit-remaining")
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(remaining(Some(USER_TOKEN)), 299);
    assert_eq!(remaining(Some(USER_TOKEN)), 298);
    assert_eq!(remaining(None), 299);
    let reply = get(&server, "/nope", None);
    assert_eq!(
        (reply.status, reply.header("x-ratelimit-limit")),
        (404, Some("300"))
    );
    assert!(reply.header("x-ratelimit-reset").unwrap().ends_with('Z'));
}

#[test]
fn fail_next_serves_canned_responses_then_recovers() {
    let server = TestServer::start(Flavor::Mastodon);
    server.fail_next(
        "/api/v1/timelines",
        2,
        CannedResponse::html(502, "<html>Bad Gateway</html>"),
    );
    assert_eq!(
        get(&server, "/api/v1/accounts/lookup?acct=alice", None).status,
        200
    );
    assert_eq!(get(&server, "/api/v1/timelines/public", None).status, 502);
    let second = get(&server, "/api/v1/timelines/home", Some(USER_TOKEN));
    assert_eq!(
        (second.status, second.body.as_slice()),
        (502, b"<html>Bad Gateway</html>".as_slice())
    );
    assert_eq!(get(&server, "/api/v1/timelines/public", None).status, 200);
    let statuses: Vec<u16> = server.exchanges().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![200, 502, 502, 200]);
    assert_eq!(server.request_count(), 4);
    server.clear_exchanges();
    assert_eq!(server.request_count(), 0);
}

#[test]
fn keep_alive_chunked_bodies_and_connection_close() {
    let server = TestServer::start(Flavor::Mastodon);
    let (mut stream, mut reader) = connect(&server);
    let first = exchange_on(
        &mut stream,
        &mut reader,
        b"GET /api/v1/timelines/public?limit=1 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert_eq!(first.status, 200);
    assert!(first.header("connection").is_none());
    let chunked = format!(
        "POST /api/v1/statuses HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {USER_TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{{\"status\r\n9\r\n\":\"chunk\"\r\n1\r\n}}\r\n0\r\n\r\n"
    );
    let second = exchange_on(&mut stream, &mut reader, chunked.as_bytes());
    assert_eq!(
        second.status,
        200,
        "{}",
        String::from_utf8_lossy(&second.body)
    );
    assert_eq!(second.json()["text"], "chunk");
    let third = exchange_on(
        &mut stream,
        &mut reader,
        b"GET /nope HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        (third.status, third.header("connection")),
        (404, Some("close"))
    );
    let mut rest = Vec::new();
    assert_eq!(
        reader.read_to_end(&mut rest).unwrap(),
        0,
        "server closed the connection"
    );
    let exchange = &server.exchanges()[1];
    assert_eq!(exchange.body, br#"{"status":"chunk"}"#);
    assert_eq!(exchange.header("transfer-encoding"), Some("chunked"));
}

#[test]
fn exchanges_record_query_and_headers() {
    let server = TestServer::start(Flavor::Mastodon);
    get(
        &server,
        "/api/v1/timelines/tag/caf%C3%A9?any[]=rust&none%5B%5D=x+y",
        Some(USER_TOKEN),
    );
    let e = &server.exchanges()[0];
    assert_eq!(e.path, "/api/v1/timelines/tag/caf%C3%A9");
    assert_eq!(e.raw_query, "any[]=rust&none%5B%5D=x+y");
    assert_eq!(
        e.query,
        vec![
            ("any[]".to_string(), "rust".to_string()),
            ("none[]".to_string(), "x y".to_string())
        ]
    );
    assert_eq!(
        e.header("authorization"),
        Some(format!("Bearer {USER_TOKEN}").as_str())
    );
    assert_eq!(
        e.response_header("content-type"),
        Some("application/json; charset=utf-8")
    );
    // The café tag has no posts of its own; any[]=rust brings in #rust posts.
    assert!(!e.response_json().as_array().unwrap().is_empty());
}

#[test]
fn sample_data_matches_the_documented_counts() {
    for flavor in Flavor::ALL {
        let server = TestServer::start(flavor);
        let ids = server.ids();
        let alice = &ids.alice;
        let count = |query: &str| -> usize {
            let mut target = Some(format!("/api/v1/accounts/{alice}/statuses?limit=40{query}"));
            let mut n = 0;
            while let Some(t) = target {
                let reply = get(&server, &t, Some(USER_TOKEN));
                n += reply.json().as_array().unwrap().len();
                target = reply.link("next");
            }
            n
        };
        assert_eq!(count(""), ALICE_STATUS_COUNT, "{flavor:?}");
        assert_eq!(count("&only_media=true"), ALICE_MEDIA_STATUS_COUNT);
        assert_eq!(
            count("&exclude_replies=true"),
            ALICE_STATUS_COUNT - ALICE_REPLY_COUNT
        );
        assert_eq!(
            count("&exclude_reblogs=true"),
            ALICE_STATUS_COUNT - ALICE_REBLOG_COUNT
        );
        assert_eq!(count("&pinned=true"), ALICE_PINNED_COUNT);
        assert_eq!(count("&tagged=Kosha"), ALICE_KOSHA_TAG_COUNT);
        assert_eq!(count("&tagged=rust"), ALICE_RUST_TAG_COUNT);
        assert_eq!(ids.alice_statuses.len(), ALICE_STATUS_COUNT);
        let me = get(&server, &format!("/api/v1/accounts/{alice}"), None).json();
        assert_eq!(
            (
                me["followers_count"].as_u64(),
                me["following_count"].as_u64()
            ),
            (Some(120), Some(45))
        );
        let poll = get(
            &server,
            &format!("/api/v1/statuses/{}", ids.poll_status),
            Some(USER_TOKEN),
        )
        .json();
        assert_eq!(
            poll["poll"]["options"].as_array().unwrap().len(),
            3,
            "{flavor:?}"
        );
        let boost = get(
            &server,
            &format!("/api/v1/statuses/{}", ids.alice_reblogs[0]),
            None,
        )
        .json();
        assert!(boost["reblog"]["id"].is_string());
    }
}

#[test]
fn accounts_lookup_gone_suspended_and_lists() {
    let server = TestServer::start(Flavor::Mastodon);
    let ids = server.ids();
    let host = server.addr().to_string();
    for acct in [
        "alice",
        "@alice",
        &format!("alice@{host}"),
        "alice@127.0.0.1",
    ] {
        let reply = get(
            &server,
            &format!("/api/v1/accounts/lookup?acct={acct}"),
            None,
        );
        assert_eq!(reply.json()["id"], ids.alice, "{acct}");
    }
    assert_eq!(
        get(
            &server,
            "/api/v1/accounts/lookup?acct=carol@remote.example",
            None
        )
        .json()["id"],
        ids.carol
    );
    let missing = get(&server, "/api/v1/accounts/lookup?acct=nobody", None);
    assert_eq!(
        (missing.status, missing.error().as_str()),
        (404, "Record not found")
    );
    assert_eq!(
        get(
            &server,
            &format!("/api/v1/accounts/{}", ids.gone_account),
            None
        )
        .status,
        410
    );
    let suspended = get(
        &server,
        &format!("/api/v1/accounts/{}", ids.suspended_account),
        None,
    );
    assert_eq!(
        (suspended.status, suspended.json()["suspended"].as_bool()),
        (200, Some(true))
    );
    assert_eq!(
        get(&server, &format!("/api/v1/accounts/{}", ids.moved), None).json()["moved"]["id"],
        ids.moved_target
    );
    assert_eq!(
        get(
            &server,
            &format!("/api/v1/timelines/list/{}", ids.own_list),
            Some(USER_TOKEN)
        )
        .status,
        200
    );
    assert_eq!(
        get(
            &server,
            &format!("/api/v1/timelines/list/{}", ids.foreign_list),
            Some(USER_TOKEN)
        )
        .status,
        404
    );
    assert_eq!(
        send(
            &server,
            "DELETE",
            "/api/v1/timelines/public",
            None,
            &[],
            b""
        )
        .status,
        405
    );
    // Bob's followers-only status: visible to alice (a follower), not anonymously.
    let private = format!("/api/v1/statuses/{}", ids.bob_private_status);
    assert_eq!(
        (
            get(&server, &private, Some(USER_TOKEN)).status,
            get(&server, &private, None).status
        ),
        (200, 404)
    );
}

#[test]
fn home_rebuilding_answers_206() {
    let server = TestServer::start(Flavor::Mastodon);
    server.set_home_rebuilding(true);
    let reply = get(&server, "/api/v1/timelines/home", Some(USER_TOKEN));
    assert_eq!(
        (reply.status, reply.json().as_array().unwrap().len()),
        (206, 20)
    );
    assert!(reply.link("next").is_some());
    server.set_home_rebuilding(false);
    assert_eq!(
        get(&server, "/api/v1/timelines/home", Some(USER_TOKEN)).status,
        200
    );
}

#[test]
fn search_finds_accounts_statuses_and_hashtags() {
    let server = TestServer::start(Flavor::Mastodon);
    let results = get(&server, "/api/v2/search?q=rust", Some(USER_TOKEN)).json();
    assert_eq!(results["accounts"][0]["username"], "rustaceans");
    assert!(!results["statuses"].as_array().unwrap().is_empty());
    assert_eq!(results["hashtags"][0]["name"], "rust");
    assert_eq!(
        results["hashtags"][0]["history"].as_array().unwrap().len(),
        7
    );
    let only = get(&server, "/api/v2/search?q=EDITOR&type=statuses", None).json();
    assert_eq!(only["statuses"][0]["id"], server.ids().poll_status);
    assert!(only["accounts"].as_array().unwrap().is_empty());
    assert_eq!(
        get(&server, "/api/v2/search?q=carol&resolve=true", None).status,
        401
    );
    assert_eq!(get(&server, "/api/v2/search?q=", None).status, 400);
}

#[test]
fn flavor_quirks_render() {
    let pixelfed = TestServer::start(Flavor::Pixelfed);
    let ids = pixelfed.ids();
    let media = get(
        &pixelfed,
        &format!("/api/v1/statuses/{}", ids.alice_media_statuses[0]),
        None,
    )
    .json();
    assert!(media["content"].is_null());
    let card = get(
        &pixelfed,
        &format!("/api/v1/statuses/{}", ids.card_status),
        None,
    )
    .json();
    assert_eq!(card["card"]["width"], "400");
    let me = get(
        &pixelfed,
        "/api/v1/accounts/verify_credentials",
        Some(USER_TOKEN),
    )
    .json();
    assert_eq!(me["source"]["sensitive"], "true");
    assert!(!me["created_at"].as_str().unwrap().ends_with('Z'));

    let pleroma = TestServer::start(Flavor::Pleroma);
    let me = get(
        &pleroma,
        "/api/v1/accounts/verify_credentials",
        Some(USER_TOKEN),
    )
    .json();
    assert!(me["source"].get("privacy").is_none());
    assert!(me["pleroma"].is_object());
    assert!(me["last_status_at"].as_str().unwrap().len() > 10);
    assert!(!me["id"]
        .as_str()
        .unwrap()
        .chars()
        .all(|c| c.is_ascii_digit()));
}
