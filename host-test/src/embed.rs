//! The embedding: what a workflow runtime copies. One engine, linker and
//! pre-instantiated component, shared by all calls; a fresh store per call,
//! with a memory limit, a deadline, an egress policy that only lets requests
//! reach the configured server, and the connection (URL, token, refresh).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::egress::EgressPolicy;

wasmtime::component::bindgen!({
    world: "connector",
    path: "../wit",
    additional_derives: [serde::Serialize, PartialEq],
});

pub use exports::kosha::mastodon::types;

/// How often the epoch ticks; deadlines are measured in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits applied to every call.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Linear memory the component may grow to.
    pub memory_bytes: usize,
    /// Wall-clock time a whole call may take, including its HTTP exchanges.
    pub deadline: Duration,
    /// Outgoing requests one call may have open at once (the connector
    /// makes one at a time; retries and a token refresh come one after the
    /// other).
    pub max_concurrent_requests: usize,
    /// Connect, first-byte and between-bytes timeouts for each request (each
    /// also capped by the time left before the deadline).
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub between_bytes_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(60),
            max_concurrent_requests: 2,
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(30),
            between_bytes_timeout: Duration::from_secs(30),
        }
    }
}

/// A token refresh callback: returns a fresh token, or `None`.
pub type Refresh = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// The server and credentials the component acts with. Shared between calls:
/// a token obtained by a refresh is kept for the calls that follow.
pub struct Connection {
    server_url: String,
    token: Mutex<Option<String>>,
    refresh: Option<Refresh>,
    retry: RetrySettings,
}

pub use kosha::mastodon::connection::RetrySettings;

/// The reference host's retry policy (see `retry-policy` in the WIT).
pub const DEFAULT_RETRY: RetrySettings = RetrySettings { max_retries: 2, initial_backoff_ms: 250, max_backoff_ms: 2_000 };

impl Connection {
    pub fn new(server_url: impl Into<String>, token: Option<String>) -> Connection {
        Connection { server_url: server_url.into(), token: Mutex::new(token), refresh: None, retry: DEFAULT_RETRY }
    }

    /// Sets the retry policy the component is given.
    pub fn with_retry(mut self, retry: RetrySettings) -> Connection {
        self.retry = retry;
        self
    }

    /// Sets the callback asked for a fresh token after a 401.
    pub fn with_refresh(mut self, refresh: Refresh) -> Connection {
        self.refresh = Some(refresh);
        self
    }

    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    fn token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs the refresh callback; a panicking callback counts as "no token".
    fn refresh(&self) -> Option<String> {
        let refresh = self.refresh.as_ref()?;
        let fresh = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| refresh())).ok().flatten()?;
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
        Some(fresh)
    }
}

/// Everything one call's store holds.
pub struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    egress: EgressPolicy,
    limits: StoreLimits,
    connection: Arc<Connection>,
    refreshed: bool,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.egress }
    }
}

impl kosha::mastodon::connection::Host for CallState {
    fn server_url(&mut self) -> String {
        self.connection.server_url.clone()
    }

    fn access_token(&mut self) -> Option<String> {
        self.connection.token()
    }

    fn retry_policy(&mut self) -> kosha::mastodon::connection::RetrySettings {
        self.connection.retry.clone()
    }

    fn refresh_access_token(&mut self) -> Option<String> {
        // The contract allows one refresh per action.
        if std::mem::replace(&mut self.refreshed, true) {
            return None;
        }
        self.connection.refresh()
    }
}

/// A loaded component, ready to run actions. Cheap to share between threads.
pub struct Host {
    engine: Engine,
    pre: ConnectorPre<CallState>,
    limits: Limits,
    stop_ticker: Arc<AtomicBool>,
}

impl Host {
    /// Loads the connector component built by this crate's build script.
    pub fn new() -> Result<Host> {
        Host::from_file(env!("KOSHA_COMPONENT_PATH"), Limits::default())
    }

    pub fn from_file(path: impl AsRef<std::path::Path>, limits: Limits) -> Result<Host> {
        let engine = engine()?;
        let component = Component::from_file(&engine, path.as_ref())
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading the component {}", path.as_ref().display()))?;
        Host::from_component(engine, component, limits)
    }

    /// From a compiled component (for example one deserialized from a cache).
    pub fn from_component(engine: Engine, component: Component, limits: Limits) -> Result<Host> {
        let pre = ConnectorPre::new(linker(&engine)?.instantiate_pre(&component)?)?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), stop_ticker.clone());
        Ok(Host { engine, pre, limits, stop_ticker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A fresh store for one call, with the call's limits, deadline, egress
    /// policy and connection.
    pub fn new_store(&self, connection: &Arc<Connection>) -> Store<CallState> {
        let deadline = Instant::now() + self.limits.deadline;
        let state = CallState {
            // No preopens, no environment, no arguments, no sockets: the
            // component's only way out is wasi:http through the egress policy.
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            egress: EgressPolicy::new(connection.server_url(), deadline, &self.limits),
            limits: StoreLimitsBuilder::new().memory_size(self.limits.memory_bytes).instances(4).build(),
            connection: connection.clone(),
            refreshed: false,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        let ticks = (self.limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store
    }

    /// Runs one action in a fresh instance. The outer error is a host-side
    /// failure (trap, deadline, memory limit); the action's own result is
    /// inside.
    pub fn call<T>(
        &self,
        connection: &Arc<Connection>,
        action: impl FnOnce(&Connector, &mut Store<CallState>) -> wasmtime::Result<T>,
    ) -> Result<T> {
        let mut store = self.new_store(connection);
        let instance = self.pre.instantiate(&mut store)?;
        Ok(action(&instance, &mut store)?)
    }
}

/// The imports a component gets: WASI without filesystem or sockets access
/// (nothing is preopened or granted), WASI HTTP, and the connection.
pub fn linker(engine: &Engine) -> Result<Linker<CallState>> {
    let mut linker = Linker::<CallState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    Connector::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
    Ok(linker)
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    Ok(Engine::new(&config)?)
}

/// Advances the engine's epoch so that deadlines can interrupt running wasm.
fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
        }
    });
}
