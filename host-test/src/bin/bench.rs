//! Benchmarks against the loopback test server, each figure a median over
//! repeated runs, each ratio computed in the same run:
//!
//! ```sh
//! cargo run --release -p host-test --bin bench            # everything but the load test
//! cargo run --release -p host-test --bin bench -- load    # 10,000 actions, 8 workers
//! ```
//!
//! The native baseline makes the same HTTP request over a plain `TcpStream`
//! and decodes the same JSON with the same code (the component crate built
//! natively), in the same process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use host_test::embed::{self, engine_with};
use host_test::server::{ids, Flavor, TestServer, USER_TOKEN};
use host_test::*;
use kosha_mastodon::native;
use wasmtime::component::Component;

// The minimal guest of the sandbox tests: its `fetch` is a bare WASI HTTP GET
// with no decoding, the floor any component pays for a request.
wasmtime::component::bindgen!({ world: "misbehaving", path: "test-guest/wit" });

fn main() -> Result<()> {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let server = TestServer::start(Flavor::Mastodon);
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        cpu_model()
    );
    match what.as_str() {
        "all" => {
            overhead(&server)?;
            startup(&server)?;
            throughput(&server)?;
            footprint(&server)?;
        }
        "overhead" => overhead(&server)?,
        "startup" => startup(&server)?,
        "throughput" => throughput(&server)?,
        "footprint" => footprint(&server)?,
        "load" => load(&server)?,
        // How long the native decoding of a 40-status page takes alone.
        "decode" => {
            let (_, body) = native_request(
                server.addr(),
                "GET",
                "/api/v1/timelines/home?limit=40",
                "",
                b"",
            )?;
            let samples = (0..200)
                .map(|_| {
                    let t = Instant::now();
                    native::many(&body, "statuses", native::status).expect("decodes");
                    t.elapsed()
                })
                .collect();
            println!(
                "native decode of {} bytes: {}",
                body.len(),
                micros(median(samples))
            );
            let samples = (0..200)
                .map(|_| {
                    let t = Instant::now();
                    native_request(
                        server.addr(),
                        "GET",
                        "/api/v1/timelines/home?limit=40",
                        "",
                        b"",
                    )
                    .expect("request");
                    t.elapsed()
                })
                .collect();
            println!(
                "native request without decoding: {}",
                micros(median(samples))
            );
        }
        // For profilers: the component side of the get-account row, alone.
        "profile-get-account" => {
            let client = client(&server)?;
            let alice = ids(Flavor::Mastodon).alice;
            for _ in 0..3000 {
                component_ok(client.get_account(&alice))?;
            }
            server.clear_exchanges();
        }
        other => bail!(
            "unknown benchmark `{other}`: all, overhead, startup, throughput, footprint or load"
        ),
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The native baseline: one HTTP/1.1 exchange over a fresh connection, as
/// WASI HTTP makes one (no connection reuse).
fn native_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nuser-agent: native-baseline\r\naccept: application/json\r\nauthorization: Bearer {USER_TOKEN}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::with_capacity(128 * 1024);
    stream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no header end"))?;
    let status = std::str::from_utf8(&answer[9..12])?.parse()?;
    Ok((status, answer[split + 4..].to_vec()))
}

fn native_timeline(addr: SocketAddr) -> Result<usize> {
    let (status, body) = native_request(addr, "GET", "/api/v1/timelines/home?limit=40", "", b"")?;
    anyhow::ensure!(status == 200);
    Ok(native::many(&body, "statuses", native::status)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .len())
}

fn native_account(addr: SocketAddr, id: &str) -> Result<String> {
    let (status, body) = native_request(addr, "GET", &format!("/api/v1/accounts/{id}"), "", b"")?;
    anyhow::ensure!(status == 200);
    Ok(native::one(&body, "account", native::account)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .id)
}

fn native_post(addr: SocketAddr, text: &str) -> Result<String> {
    let body = serde_json::to_vec(&serde_json::json!({"status": text}))?;
    let key = format!("idempotency-key: native-{text}\r\ncontent-type: application/json\r\n");
    let (status, answer) = native_request(addr, "POST", "/api/v1/statuses", &key, &body)?;
    anyhow::ensure!(status == 200, "post answered {status}");
    Ok(native::one(&answer, "status", native::status)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .post
        .id)
}

fn component_ok<T>(outcome: Outcome<T>) -> Result<T> {
    match outcome? {
        Ok(value) => Ok(value),
        Err(error) => bail!("{}: {error:?}", error_case(&error)),
    }
}

fn client(server: &TestServer) -> Result<Client> {
    Ok(Client::new(
        Arc::new(Host::new()?),
        Connection::new(server.url(), Some(USER_TOKEN.into())),
    ))
}

const ROUNDS: usize = 300;

fn overhead(server: &TestServer) -> Result<()> {
    let client = client(server)?;
    let addr = server.addr();
    let alice = ids(Flavor::Mastodon).alice;
    let home_40 = PageRequest {
        limit: Some(40),
        ..first_page()
    };
    let mut rows = Vec::new();
    type Run<'a> = Box<dyn Fn(usize) -> Result<()> + 'a>;
    let cases: Vec<(&str, Run, Run)> = vec![
        (
            "get-timeline (40 statuses)",
            Box::new(|_| {
                let page = component_ok(client.get_timeline(&Timeline::Home, &home_40))?;
                anyhow::ensure!(page.items.len() == 40);
                Ok(())
            }),
            Box::new(|_| {
                anyhow::ensure!(native_timeline(addr)? == 40);
                Ok(())
            }),
        ),
        (
            "get-account",
            Box::new(|_| {
                component_ok(client.get_account(&alice))?;
                Ok(())
            }),
            Box::new(|_| {
                native_account(addr, &alice)?;
                Ok(())
            }),
        ),
        (
            "post-status",
            Box::new(|i| {
                component_ok(client.post_status(&text_status(&format!("bench component {i}"))))?;
                Ok(())
            }),
            Box::new(|i| {
                native_post(addr, &format!("bench native {i}"))?;
                Ok(())
            }),
        ),
    ];
    let floor = transport_floor(server)?;
    for (name, component, baseline) in &cases {
        for i in 0..20 {
            component(1_000_000 + i)?;
            baseline(1_000_000 + i)?;
        }
        let (mut c, mut n) = (Vec::new(), Vec::new());
        for i in 0..ROUNDS {
            // Interleaved, so both see the same machine noise.
            let t = Instant::now();
            component(i)?;
            c.push(t.elapsed());
            let t = Instant::now();
            baseline(i)?;
            n.push(t.elapsed());
        }
        server.clear_exchanges();
        rows.push((name.to_string(), median(c), median(n)));
    }
    rows.push((
        "transport floor: bare WASI HTTP GET of one account, minimal guest, no decoding".into(),
        floor.0,
        floor.1,
    ));
    println!("\n## Action overhead (median of {ROUNDS}, interleaved)\n");
    println!("| action | component/native | component | native |\n|---|---|---|---|");
    for (name, c, n) in rows {
        println!(
            "| {name} | {:.2} | {} | {} |",
            c.as_secs_f64() / n.as_secs_f64(),
            millis(c),
            millis(n)
        );
    }
    Ok(())
}

/// The bare WASI HTTP GET of the minimal guest, per call (fresh instance, as
/// for the connector), against the native GET of the same URL.
fn transport_floor(server: &TestServer) -> Result<(Duration, Duration)> {
    let host = Host::new()?;
    let component = Component::from_file(host.engine(), env!("KOSHA_TEST_GUEST_PATH"))
        .map_err(anyhow::Error::from)?;
    let pre = MisbehavingPre::new(embed::linker(host.engine())?.instantiate_pre(&component)?)?;
    let alice = ids(Flavor::Mastodon).alice;
    let url = format!("{}/api/v1/accounts/{alice}", server.url());
    let connection = Arc::new(Connection::new(server.url(), None));
    let (mut guest, mut native) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS + 20 {
        let t = Instant::now();
        let mut store = host.new_store(&connection);
        let instance = pre.instantiate(&mut store)?;
        let status = instance.call_fetch(&mut store, &url)?;
        anyhow::ensure!(status == Ok(200), "{status:?}");
        let g = t.elapsed();
        let t = Instant::now();
        native_request(
            server.addr(),
            "GET",
            &format!("/api/v1/accounts/{alice}"),
            "",
            b"",
        )?;
        if i >= 20 {
            guest.push(g);
            native.push(t.elapsed());
        }
    }
    server.clear_exchanges();
    Ok((median(guest), median(native)))
}

fn startup(server: &TestServer) -> Result<()> {
    let wasm_path = env!("KOSHA_COMPONENT_PATH");
    let wasm = std::fs::read(wasm_path)?;
    let engine = engine_with(false)?;
    let compile = median(
        (0..3)
            .map(|_| {
                let t = Instant::now();
                wasmtime::component::Component::new(&engine, &wasm).expect("compiles");
                t.elapsed()
            })
            .collect(),
    );
    let artifact = engine
        .precompile_component(&wasm)
        .map_err(anyhow::Error::from)?;
    let deserialize = median(
        (0..20)
            .map(|_| {
                let t = Instant::now();
                // SAFETY: produced by `precompile_component` on this engine just above.
                unsafe { wasmtime::component::Component::deserialize(&engine, &artifact) }
                    .expect("deserializes");
                t.elapsed()
            })
            .collect(),
    );
    let alice = ids(Flavor::Mastodon).alice;
    let first_call = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                let engine = engine_with(false).expect("engine");
                // SAFETY: as above; the engine has the same configuration.
                let component =
                    unsafe { wasmtime::component::Component::deserialize(&engine, &artifact) }
                        .expect("deserializes");
                let host =
                    Host::from_component(engine, component, Limits::default()).expect("host");
                let client = Client::new(
                    Arc::new(host),
                    Connection::new(server.url(), Some(USER_TOKEN.into())),
                );
                component_ok(client.get_account(&alice)).expect("first call");
                t.elapsed()
            })
            .collect(),
    );
    let mut instantiate = Vec::new();
    for pooling in [false, true] {
        let engine = engine_with(pooling)?;
        let component = unsafe { wasmtime::component::Component::deserialize(&engine, &artifact) }
            .map_err(anyhow::Error::from)?;
        let host = Host::from_component(engine, component, Limits::default())?;
        let connection = Arc::new(Connection::new(server.url(), None));
        for _ in 0..100 {
            host.call(&connection, |_, _| Ok(()))?;
        }
        let samples = (0..2000)
            .map(|_| {
                let t = Instant::now();
                host.call(&connection, |_, _| Ok(())).expect("instantiates");
                t.elapsed()
            })
            .collect();
        instantiate.push(median(samples));
    }
    println!("\n## Start-up (medians)\n");
    println!("| step | time |\n|---|---|");
    println!("| compile the component from .wasm | {} |", millis(compile));
    println!(
        "| load from a precompiled artifact (`Component::deserialize`) | {} |",
        millis(deserialize)
    );
    println!("| first call from a precompiled artifact (engine + load + link + instantiate + get-account) | {} |", millis(first_call));
    println!(
        "| instantiate per call, default allocator (new store + instance) | {} |",
        micros(instantiate[0])
    );
    println!(
        "| instantiate per call, pooling allocator | {} |",
        micros(instantiate[1])
    );
    println!(
        "| pooling/default | {:.2} |",
        instantiate[1].as_secs_f64() / instantiate[0].as_secs_f64()
    );
    Ok(())
}

/// Actions per second with `workers` threads sharing one host.
fn rate(workers: usize, total: usize, action: &(dyn Fn() -> Result<()> + Sync)) -> Result<f64> {
    let done = AtomicUsize::new(0);
    let failures = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while done.fetch_add(1, Ordering::Relaxed) < total {
                    if action().is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    anyhow::ensure!(
        failures.load(Ordering::Relaxed) == 0,
        "{} failures",
        failures.load(Ordering::Relaxed)
    );
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn throughput(server: &TestServer) -> Result<()> {
    let client = client(server)?;
    let addr = server.addr();
    let alice = ids(Flavor::Mastodon).alice;
    println!("\n## Throughput: get-account, one host, median of 3 runs of 1,000 actions per row\n");
    println!("| workers | component/native | component actions/s | native requests/s |\n|---|---|---|---|");
    let median_rate = |runs: Vec<f64>| {
        let mut runs = runs;
        runs.sort_by(f64::total_cmp);
        runs[runs.len() / 2]
    };
    for workers in [1, 2, 8] {
        let (mut component_runs, mut native_runs) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            component_runs.push(rate(workers, 1000, &|| {
                component_ok(client.get_account(&alice)).map(drop)
            })?);
            native_runs.push(rate(workers, 1000, &|| {
                native_account(addr, &alice).map(drop)
            })?);
            server.clear_exchanges();
        }
        let (component, native) = (median_rate(component_runs), median_rate(native_runs));
        println!(
            "| {workers} | {:.2} | {component:.0} | {native:.0} |",
            native / component
        );
    }
    println!(
        "\n(component/native here is the ratio of time per action: native rate / component rate.)"
    );
    Ok(())
}

fn footprint(server: &TestServer) -> Result<()> {
    let size = std::fs::metadata(env!("KOSHA_COMPONENT_PATH"))?.len();
    let host = Host::new()?;
    let connection = Arc::new(Connection::new(server.url(), Some(USER_TOKEN.into())));
    let page = PageRequest {
        limit: Some(40),
        ..first_page()
    };
    let (outcome, peak) = host.call_measured(&connection, |c, s| {
        c.kosha_mastodon_timelines()
            .call_get_timeline(s, &Timeline::Home, &page)
    })?;
    let items = outcome.map_err(|e| anyhow::anyhow!("{e:?}"))?.items.len();
    println!("\n## Footprint\n");
    println!("| what | size |\n|---|---|");
    println!(
        "| release component (`component` profile) | {} bytes ({:.0} KiB) |",
        size,
        size as f64 / 1024.0
    );
    println!("| peak linear memory of one instance, get-timeline with {items} statuses | {} bytes ({:.2} MiB) |", peak, peak as f64 / (1024.0 * 1024.0));
    Ok(())
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

/// 10,000 actions from 8 workers through one host; memory sampled every
/// thousand actions.
fn load(server: &TestServer) -> Result<()> {
    const TOTAL: usize = 10_000;
    const WORKERS: usize = 8;
    let client = client(server)?;
    let sample = ids(Flavor::Mastodon);
    let done = AtomicUsize::new(0);
    let failures = AtomicUsize::new(0);
    let samples = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let n = done.fetch_add(1, Ordering::Relaxed);
                if n >= TOTAL {
                    break;
                }
                let ok = match n % 5 {
                    0 => client.get_account(&sample.bob).map(|r| r.is_ok()),
                    1 => client
                        .get_timeline(
                            &Timeline::Home,
                            &PageRequest {
                                limit: Some(20),
                                ..first_page()
                            },
                        )
                        .map(|r| r.is_ok()),
                    2 => client
                        .lookup_account("carol@remote.example")
                        .map(|r| r.is_ok()),
                    3 => client
                        .get_followers(
                            &sample.alice,
                            &PageRequest {
                                limit: Some(40),
                                ..first_page()
                            },
                        )
                        .map(|r| r.is_ok()),
                    _ => client
                        .get_statuses(
                            &sample.alice,
                            &embed::exports::kosha::mastodon::accounts::StatusFilters {
                                only_media: false,
                                exclude_replies: false,
                                exclude_reblogs: false,
                                pinned: false,
                                tagged: None,
                            },
                            &PageRequest {
                                limit: Some(20),
                                ..first_page()
                            },
                        )
                        .map(|r| r.is_ok()),
                };
                if !matches!(ok, Ok(true)) {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                if (n + 1) % 1000 == 0 {
                    // The test server records every exchange: drop them so the
                    // figure is the host's.
                    server.clear_exchanges();
                    samples.lock().unwrap().push((n + 1, resident_bytes()));
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let samples = samples.into_inner().unwrap();
    println!("\n## Load: {TOTAL} actions, {WORKERS} workers, one host\n");
    println!("| after actions | host RSS |\n|---|---|");
    for (n, rss) in &samples {
        println!("| {n} | {:.1} MiB |", *rss as f64 / (1024.0 * 1024.0));
    }
    let first = samples.first().map(|s| s.1).unwrap_or(0) as f64;
    let last = samples.last().map(|s| s.1).unwrap_or(0) as f64;
    println!(
        "\nfailures: {}; {:.0} actions/s; RSS last/first: {:.2}",
        failures.load(Ordering::Relaxed),
        TOTAL as f64 / elapsed.as_secs_f64(),
        last / first
    );
    anyhow::ensure!(failures.load(Ordering::Relaxed) == 0, "failures under load");
    Ok(())
}
