//! An in-process, Mastodon-compatible HTTP test server.
//!
//! It speaks plain HTTP/1.1 on `127.0.0.1` (keep-alive, `Content-Length` or
//! chunked request bodies, `Connection: close` honoured), answers the client
//! API endpoints the connector uses with realistic JSON, and records every
//! exchange so tests can assert on what the connector actually sent.
//!
//! Only std threads and sockets are used: one thread accepts, one thread serves
//! each connection. All server state sits behind one mutex; requests are
//! cheap, so contention does not matter for tests.
//!
//! Four [`Flavor`]s imitate the quirks of real servers (id formats, timestamp
//! formats, missing or oddly typed fields, Link header order, ...). The sample
//! data is the same in every flavor; only its rendering and ids differ, so
//! [`ids`] gives the ids of the named sample entities per flavor.

mod clock;
mod data;
mod http;
mod ids;
mod post;
mod render;
mod routes;
#[cfg(test)]
mod tests;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

pub use data::{ids, SampleIds};
pub use http::{parse_form, percent_decode};
pub use render::strip_tags;

/// Which server implementation to imitate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Mastodon,
    GoToSocial,
    Pleroma,
    Pixelfed,
}

impl Flavor {
    /// Every flavor, for tests that loop over them.
    pub const ALL: [Flavor; 4] = [
        Flavor::Mastodon,
        Flavor::GoToSocial,
        Flavor::Pleroma,
        Flavor::Pixelfed,
    ];

    /// The lowercase name accepted by `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Mastodon => "mastodon",
            Flavor::GoToSocial => "gotosocial",
            Flavor::Pleroma => "pleroma",
            Flavor::Pixelfed => "pixelfed",
        }
    }
}

impl FromStr for Flavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Flavor::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown flavor {s:?} (expected mastodon, gotosocial, pleroma or pixelfed)")
            })
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Alice's token with scopes `read write`.
pub const USER_TOKEN: &str = "user-token-alice";
/// Alice's token with scope `read` only: `POST /api/v1/statuses` answers 403
/// `{"error":"This action is outside the authorized scopes"}`.
pub const READ_ONLY_TOKEN: &str = "read-only-token";
/// An app-only token (client credentials): user endpoints answer 422
/// `{"error":"This method requires an authenticated user"}`.
pub const APP_TOKEN: &str = "app-only-token";
/// An expired token: every request with it answers 401 (for refresh flows).
pub const STALE_TOKEN: &str = "stale-token";
/// Bob's token with scopes `read write` (idempotency keys are per token).
pub const BOB_TOKEN: &str = "user-token-bob";
/// A token of a disabled login: user endpoints answer 403
/// `{"error":"Your login is currently disabled"}`.
pub const DISABLED_TOKEN: &str = "disabled-login-token";

/// Accounts following alice.
pub const FOLLOWER_COUNT: usize = 120;
/// Accounts alice follows.
pub const FOLLOWING_COUNT: usize = 45;
/// Statuses alice has at start (boosts included).
pub const ALICE_STATUS_COUNT: usize = 60;
/// Of alice's initial statuses: with media attached.
pub const ALICE_MEDIA_STATUS_COUNT: usize = 6;
/// Of alice's initial statuses: replies to bob.
pub const ALICE_REPLY_COUNT: usize = 6;
/// Of alice's initial statuses: boosts.
pub const ALICE_REBLOG_COUNT: usize = 6;
/// Of alice's initial statuses: pinned.
pub const ALICE_PINNED_COUNT: usize = 3;
/// Of alice's initial statuses: tagged `#kosha`.
pub const ALICE_KOSHA_TAG_COUNT: usize = 15;
/// Of alice's initial statuses: tagged `#rust`.
pub const ALICE_RUST_TAG_COUNT: usize = 10;

/// A response served instead of normal handling (see [`TestServer::fail_next`]).
/// It is sent exactly as given, plus `Content-Length` (no rate-limit headers).
#[derive(Clone, Debug)]
pub struct CannedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CannedResponse {
    /// A JSON response, e.g. `CannedResponse::json(503, &json!({"error": "down"}))`.
    pub fn json(status: u16, body: &serde_json::Value) -> CannedResponse {
        CannedResponse {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    /// An HTML response, as proxies in front of servers send for 502/504.
    pub fn html(status: u16, body: &str) -> CannedResponse {
        CannedResponse {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Adds a header (builder style), e.g. rate-limit headers on a 429.
    pub fn with_header(mut self, name: &str, value: &str) -> CannedResponse {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One request the server answered, with its answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// The path without the query, percent-encoded as received.
    pub path: String,
    /// The query as received, "" if none.
    pub raw_query: String,
    /// The decoded query pairs (form-urlencoded decoding, '+' = space).
    pub query: Vec<(String, String)>,
    /// Request headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The request body (de-chunked).
    pub body: Vec<u8>,
    pub status: u16,
    /// Response headers as sent (incl. Content-Length), names lowercased.
    pub response_headers: Vec<(String, String)>,
    pub response_body: Vec<u8>,
}

impl Exchange {
    /// The first request header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The first response header with this name (case-insensitive).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find_header(&self.response_headers, name)
    }

    /// The first decoded query value for this key.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The response body parsed as JSON (`Value::Null` if it is not JSON).
    pub fn response_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.response_body).unwrap_or(serde_json::Value::Null)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A pending `fail_next` rule.
struct FailRule {
    path_prefix: String,
    remaining: usize,
    response: CannedResponse,
}

/// Everything behind the server's one mutex.
struct State {
    app: routes::App,
    exchanges: Vec<Exchange>,
    failures: Vec<FailRule>,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler must not wedge every later test request.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running test server; it stops accepting when dropped.
pub struct TestServer {
    addr: SocketAddr,
    flavor: Flavor,
    shared: Arc<Shared>,
    listener: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Binds `127.0.0.1:0`, loads the sample data and starts serving.
    pub fn start(flavor: Flavor) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                app: routes::App::new(flavor, base_url),
                exchanges: Vec::new(),
                failures: Vec::new(),
            }),
            stop: AtomicBool::new(false),
        });
        let accept_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("test-server-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn listener thread");
        TestServer {
            addr,
            flavor,
            shared,
            listener: Some(handle),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The sample ids of this server's flavor (same as `ids(self.flavor())`).
    pub fn ids(&self) -> SampleIds {
        ids(self.flavor)
    }

    /// Every exchange since the start (or the last `clear_exchanges`), in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.lock().exchanges.clone()
    }

    pub fn clear_exchanges(&self) {
        self.shared.lock().exchanges.clear();
    }

    /// Requests served since the start or the last `clear_exchanges`
    /// (always equal to `exchanges().len()`).
    pub fn request_count(&self) -> usize {
        self.shared.lock().exchanges.len()
    }

    /// The next `times` requests whose path starts with `path_prefix` get this
    /// canned response instead of normal handling (still recorded in
    /// exchanges). Rules are checked in the order they were added.
    pub fn fail_next(&self, path_prefix: &str, times: usize, response: CannedResponse) {
        self.shared.lock().failures.push(FailRule {
            path_prefix: path_prefix.to_string(),
            remaining: times,
            response,
        });
    }

    /// Drops every canned response not served yet.
    pub fn clear_fail_next(&self) {
        self.shared.lock().failures.clear();
    }

    /// Statuses currently stored (all accounts, boosts included).
    pub fn status_count(&self) -> usize {
        self.shared.lock().app.data.statuses.len()
    }

    /// Stored statuses whose plain text contains `needle` (case-sensitive).
    pub fn statuses_with_text(&self, needle: &str) -> usize {
        self.shared
            .lock()
            .app
            .data
            .statuses
            .iter()
            .filter(|s| s.text.contains(needle))
            .count()
    }

    /// Scheduled statuses created so far.
    pub fn scheduled_count(&self) -> usize {
        self.shared.lock().app.data.scheduled.len()
    }

    /// While on, the home timeline answers 206 (feed being rebuilt) with the page.
    pub fn set_home_rebuilding(&self, on: bool) {
        self.shared.lock().app.home_rebuilding = on;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the listener thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(handle) = self.listener.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let conn_shared = shared.clone();
        let _ = std::thread::Builder::new()
            .name("test-server-conn".into())
            .spawn(move || serve_connection(stream, conn_shared));
    }
}

/// Serves requests on one connection until the client closes it, asks for
/// `Connection: close`, sends garbage, or the server stops.
fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let request = match http::read_request(&mut reader, &shared.stop) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(_) => {
                let bad = http::Response::error(400, "Bad request");
                let _ = http::write_response(&mut writer, bad.status, &bad.finish(true), &bad.body);
                return;
            }
        };
        let close = request.wants_close();
        let response = answer(&shared, &request);
        let headers = response.finish(close);
        record(&shared, request, &response, &headers);
        if http::write_response(&mut writer, response.status, &headers, &response.body).is_err()
            || close
        {
            let _ = writer.flush();
            return;
        }
    }
}

/// A canned failure if one matches, normal handling otherwise.
fn answer(shared: &Shared, request: &http::Request) -> http::Response {
    let mut state = shared.lock();
    let rule = state
        .failures
        .iter_mut()
        .find(|rule| rule.remaining > 0 && request.path.starts_with(&rule.path_prefix));
    if let Some(rule) = rule {
        rule.remaining -= 1;
        let canned = rule.response.clone();
        state.failures.retain(|rule| rule.remaining > 0);
        return http::Response {
            status: canned.status,
            headers: canned.headers,
            body: canned.body,
        };
    }
    state.app.handle(request)
}

/// Records the exchange before the response is written, so a test that has
/// read the response always finds it in `exchanges()`.
fn record(
    shared: &Shared,
    request: http::Request,
    response: &http::Response,
    headers: &[(String, String)],
) {
    let exchange = Exchange {
        method: request.method,
        path: request.path,
        raw_query: request.raw_query,
        query: request.query,
        headers: request.headers,
        body: request.body,
        status: response.status,
        response_headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        response_body: response.body.clone(),
    };
    shared.lock().exchanges.push(exchange);
}
