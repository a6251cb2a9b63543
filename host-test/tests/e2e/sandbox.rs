//! The sandbox, tested with a component that misbehaves on purpose
//! (`host-test/test-guest`): egress to other origins, memory, the deadline
//! and concurrent requests are all stopped, and the host stays healthy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use host_test::embed;
use host_test::server::*;
use host_test::*;
use wasmtime::component::Component;

use crate::support::*;

wasmtime::component::bindgen!({ world: "misbehaving", path: "test-guest/wit" });

struct Sandbox {
    host: Host,
    pre: MisbehavingPre<embed::CallState>,
}

fn sandbox(limits: Limits) -> Sandbox {
    let host = Host::from_file(env!("KOSHA_COMPONENT_PATH"), limits).expect("connector loads");
    let component = Component::from_file(host.engine(), env!("KOSHA_TEST_GUEST_PATH"))
        .expect("test guest loads");
    let pre = MisbehavingPre::new(
        embed::linker(host.engine())
            .unwrap()
            .instantiate_pre(&component)
            .unwrap(),
    )
    .unwrap();
    Sandbox { host, pre }
}

impl Sandbox {
    fn run<T>(
        &self,
        server_url: &str,
        f: impl FnOnce(&Misbehaving, &mut wasmtime::Store<embed::CallState>) -> wasmtime::Result<T>,
    ) -> wasmtime::Result<T> {
        let connection = Arc::new(Connection::new(server_url, None));
        let mut store = self.host.new_store(&connection);
        let instance = self.pre.instantiate(&mut store)?;
        f(&instance, &mut store)
    }
}

#[test]
fn requests_to_any_other_origin_are_refused() {
    let server = TestServer::start(Flavor::Mastodon);
    let other = TestServer::start(Flavor::Mastodon);
    let sandbox = sandbox(Limits::default());
    let fetch = |url: &str| {
        sandbox
            .run(&server.url(), |g, s| g.call_fetch(s, url))
            .expect("no trap")
    };
    assert_eq!(
        fetch(&format!("{}/api/v1/timelines/public", server.url())),
        Ok(200)
    );
    let forbidden = [
        format!("{}/api/v1/timelines/public", other.url()),
        format!(
            "http://localhost:{}/api/v1/timelines/public",
            server.addr().port()
        ),
        format!("https://127.0.0.1:{}/", server.addr().port()),
        "http://127.0.0.2:9/".to_string(),
        "https://example.com/".to_string(),
    ];
    for url in &forbidden {
        let result = fetch(url);
        assert!(
            matches!(&result, Err(e) if e.contains("HttpRequestDenied")),
            "{url}: {result:?}"
        );
    }
    assert_eq!(other.request_count(), 0, "nothing reached the other server");
    println!("egress attempts refused: {}", forbidden.len());
}

#[test]
fn memory_limit_and_deadline_stop_the_guest_and_the_host_stays_healthy() {
    let server = TestServer::start(Flavor::Mastodon);
    let limits = Limits {
        memory_bytes: 32 << 20,
        deadline: Duration::from_millis(500),
        ..Limits::default()
    };
    let sandbox = sandbox(limits.clone());
    assert_eq!(
        sandbox
            .run(&server.url(), |g, s| g.call_grow_memory(s, 8))
            .expect("8 MiB fits"),
        8
    );
    let memory = sandbox
        .run(&server.url(), |g, s| g.call_grow_memory(s, 64))
        .expect_err("64 MiB exceeds 32 MiB");
    assert!(
        memory.downcast_ref::<wasmtime::Trap>().is_some(),
        "the guest trapped: {memory:?}"
    );
    let started = Instant::now();
    let spin = sandbox
        .run(&server.url(), |g, s| g.call_spin(s))
        .expect_err("an endless loop is interrupted");
    assert_eq!(
        spin.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::Interrupt),
        "by the epoch deadline: {spin:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(3),
        "at the deadline: {took:?}"
    );
    // The next call of the real connector on the same host works.
    let client = Client::new(
        Arc::new(sandbox.host),
        Connection::new(server.url(), Some(USER_TOKEN.into())),
    );
    assert_eq!(
        ok(client.verify_credentials()).value.account.username,
        "alice"
    );
}

#[test]
fn concurrent_requests_per_call_are_capped() {
    let server = TestServer::start(Flavor::Mastodon);
    let limits = Limits {
        max_concurrent_requests: 3,
        ..Limits::default()
    };
    let sandbox = sandbox(limits);
    let url = server.url();
    let accepted = sandbox
        .run(&url, |g, s| g.call_open_requests(s, &url, 10))
        .expect("no trap");
    assert_eq!(accepted, 3);
    assert_eq!(
        server.request_count(),
        3,
        "the refused ones never left the host"
    );
    // Slots are per call: the next call gets its own.
    assert_eq!(
        sandbox
            .run(&url, |g, s| g.call_open_requests(s, &url, 2))
            .expect("no trap"),
        2
    );
}

#[test]
fn the_component_imports_nothing_beyond_wasi_http_io_clocks_random_cli_and_the_connection() {
    let host = host();
    let component = Component::from_file(host.engine(), env!("KOSHA_COMPONENT_PATH")).unwrap();
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(host.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(imports
        .iter()
        .any(|i| i.starts_with("kosha:mastodon/connection")));
    for import in &imports {
        let allowed = [
            "wasi:http/",
            "wasi:io/",
            "wasi:clocks/",
            "wasi:random/",
            "wasi:cli/",
            "kosha:mastodon/connection",
        ];
        assert!(
            allowed.iter().any(|a| import.starts_with(a)),
            "unexpected import {import}"
        );
    }
    let exports: Vec<String> = ty
        .exports(host.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    for interface in ["accounts", "statuses", "timelines", "search", "types"] {
        assert!(
            exports
                .iter()
                .any(|e| e.starts_with(&format!("kosha:mastodon/{interface}"))),
            "{interface} exported: {exports:?}"
        );
    }
    println!("imports: {imports:?}");
}

#[test]
fn thirty_calls_at_once_share_one_host() {
    let (server, client) = setup(Flavor::Mastodon);
    let bob = ids(Flavor::Mastodon).bob;
    let barrier = std::sync::Barrier::new(30);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..30)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    ok(client.get_timeline(&Timeline::Home, &page(40)))
                        .items
                        .len()
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().expect("no panic"), 40);
        }
    });
    assert_eq!(ok(client.get_account(&bob)).value.id, bob);
    assert_eq!(server.request_count(), 31);
}
