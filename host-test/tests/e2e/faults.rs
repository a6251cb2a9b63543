//! Faults from the network and the server, each ending in the right error
//! case within a bounded time; and posts whose answers are lost after the
//! server committed them, retried without duplicates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use host_test::faults::{raw_response, Fault, FaultProxy};
use host_test::server::*;
use host_test::*;

use crate::support::*;

/// Short limits so that every fault ends quickly.
fn quick_host() -> Arc<Host> {
    let limits = Limits {
        deadline: Duration::from_secs(4),
        connect_timeout: Duration::from_secs(1),
        first_byte_timeout: Duration::from_secs(1),
        between_bytes_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    Arc::new(Host::from_file(env!("KOSHA_COMPONENT_PATH"), limits).expect("component loads"))
}

fn is_network(kinds: &'static [NetworkFailureKind]) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::NetworkFailure(f) if kinds.contains(&f.kind))
}

#[test]
fn connection_faults_end_in_their_error_case_in_bounded_time() {
    use NetworkFailureKind::*;
    let server = TestServer::start(Flavor::Mastodon);
    let proxy = FaultProxy::start(server.addr());
    let host = quick_host();
    let client = Client::new(
        host.clone(),
        Connection::new(proxy.url(), Some(USER_TOKEN.into())).with_retry(no_retry()),
    );
    let alice = ids(Flavor::Mastodon).alice;
    let path = format!("/api/v1/accounts/{alice}");
    let huge_body = raw_response("200 OK", &[], &vec![b' '; 6 * 1024 * 1024]);
    let cases: Vec<(&str, Fault, Box<dyn Fn(&Error) -> bool>)> = vec![
        (
            "closed before headers",
            Fault::CloseBeforeHeaders,
            Box::new(is_network(&[ConnectionReset])),
        ),
        (
            "answer lost after commit",
            Fault::DropResponse,
            Box::new(is_network(&[ConnectionReset])),
        ),
        (
            "closed half-way through the body",
            Fault::CloseMidBody,
            Box::new(|e: &Error| {
                matches!(e, Error::NetworkFailure(_) | Error::UndecodableResponse(_))
            }),
        ),
        (
            "never answers",
            Fault::NeverAnswer,
            Box::new(is_network(&[TimedOut])),
        ),
        (
            "body trickles forever",
            Fault::TrickleForever,
            Box::new(is_network(&[TimedOut, ConnectionReset])),
        ),
        (
            "not HTTP at all",
            Fault::Raw(b"SSH-2.0-OpenSSH\r\n".to_vec()),
            Box::new(is_network(&[ConnectionReset, Other])),
        ),
        (
            "truncated JSON",
            Fault::Raw(raw_response("200 OK", &[], b"{\"id\": \"1\", ")),
            Box::new(|e: &Error| matches!(e, Error::UndecodableResponse(_))),
        ),
        (
            "JSON of the wrong shape",
            Fault::Raw(raw_response("200 OK", &[], b"[1, 2, 3]")),
            Box::new(|e: &Error| matches!(e, Error::UndecodableResponse(_))),
        ),
        (
            "a body far larger than any answer",
            Fault::Raw(huge_body),
            Box::new(
                |e: &Error| matches!(e, Error::UndecodableResponse(m) if m.contains("larger")),
            ),
        ),
        (
            "HTML from a proxy",
            Fault::Raw(raw_response(
                "502 Bad Gateway",
                &[("content-type", "text/html")],
                b"<h1>502 Bad Gateway</h1>",
            )),
            Box::new(|e: &Error| matches!(e, Error::ServerError(f) if f.status == 502)),
        ),
        (
            "redirect to another origin",
            Fault::Raw(raw_response(
                "301 Moved Permanently",
                &[("location", "http://127.0.0.2:9/steal")],
                b"",
            )),
            Box::new(|e: &Error| matches!(e, Error::RequestFailed(f) if f.status == 301)),
        ),
    ];
    let (tried, mut handled) = (cases.len(), 0);
    for (name, fault, expected) in cases {
        proxy.script(&path, vec![fault]);
        let started = Instant::now();
        let outcome = client
            .get_account(&alice)
            .unwrap_or_else(|e| panic!("{name}: host failure {e:#}"));
        let took = started.elapsed();
        if let Err(error) = &outcome {
            assert!(
                !format!("{error:?}").contains(USER_TOKEN),
                "{name}: the token leaked"
            );
        }
        match outcome {
            Err(error) if expected(&error) => handled += 1,
            other => panic!("{name}: unexpected {other:?}"),
        }
        // The deadline is 4 s; the rest is slack for a busy CI machine.
        assert!(took < Duration::from_secs(10), "{name} took {took:?}");
    }
    // The host is still healthy: the next call works.
    assert_eq!(ok(client.get_account(&alice)).value.id, alice);
    assert_eq!(proxy.faults_applied(), tried);
    println!("faults tried: {tried}, handled: {handled}");
    assert_eq!(handled, tried);
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    // Nothing listens on loopback port 1.
    let port = 1;
    let retry = RetrySettings {
        max_retries: 2,
        initial_backoff_ms: 20,
        max_backoff_ms: 40,
    };
    let client = Client::new(
        quick_host(),
        Connection::new(format!("http://127.0.0.1:{port}"), None).with_retry(retry),
    );
    let started = Instant::now();
    assert!(
        matches!(err(client.get_account("1")), Error::NetworkFailure(f) if f.kind == NetworkFailureKind::ConnectionRefused)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "two backoffs were waited"
    );
}

/// Many posts whose answers are lost after the server stored them. The
/// component retries with the same idempotency key; where it gives up, the
/// host retries the same call. Each intended post exists exactly once.
#[test]
fn lost_answers_never_lose_or_duplicate_a_post() {
    let server = TestServer::start(Flavor::Mastodon);
    let proxy = FaultProxy::start(server.addr());
    // Roomier timeouts than the fault matrix: a timeout caused by a busy
    // machine must not count as a lost answer here.
    let limits = Limits {
        deadline: Duration::from_secs(20),
        first_byte_timeout: Duration::from_secs(8),
        ..Limits::default()
    };
    let host =
        Arc::new(Host::from_file(env!("KOSHA_COMPONENT_PATH"), limits).expect("component loads"));
    let retrying = Client::new(
        host.clone(),
        Connection::new(proxy.url(), Some(USER_TOKEN.into())).with_retry(RetrySettings {
            max_retries: 3,
            initial_backoff_ms: 5,
            max_backoff_ms: 20,
        }),
    );
    let single_shot = Client::new(
        host,
        Connection::new(proxy.url(), Some(USER_TOKEN.into())).with_retry(no_retry()),
    );
    let before = server.status_count();
    const POSTS: usize = 40;
    let mut host_retries = 0;
    for i in 0..POSTS {
        let status = text_status(&format!("durable post number {i:03}"));
        if i % 2 == 0 {
            // Component-level retry: two answers lost, the third attempt succeeds.
            proxy.script(
                "/api/v1/statuses",
                vec![Fault::DropResponse, Fault::CloseBeforeHeaders],
            );
            ok(retrying.post_status(&status));
        } else {
            // Host-level retry: the component does not retry, the host repeats the call.
            proxy.script("/api/v1/statuses", vec![Fault::DropResponse]);
            let mut outcome = single_shot.post_status(&status).expect("no host failure");
            while let Err(Error::NetworkFailure(_)) = outcome {
                host_retries += 1;
                outcome = single_shot.post_status(&status).expect("no host failure");
            }
            outcome.expect("posted after a host retry");
        }
    }
    let mut duplicates = 0;
    let mut lost = 0;
    for i in 0..POSTS {
        match server.statuses_with_text(&format!("durable post number {i:03}")) {
            0 => lost += 1,
            1 => {}
            _ => duplicates += 1,
        }
    }
    println!("posts: {POSTS}, answers dropped: {}, host retries: {host_retries}, duplicates: {duplicates}, lost: {lost}", proxy.faults_applied());
    assert_eq!((duplicates, lost), (0, 0));
    assert_eq!(server.status_count(), before + POSTS);
    assert!(
        host_retries >= POSTS / 2,
        "every host-retried post needed at least one retry"
    );
}
