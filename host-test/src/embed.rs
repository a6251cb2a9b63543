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
/// Ticks past the deadline before the epoch trap (250 ms).
const EPOCH_GRACE_TICKS: u64 = 25;

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
pub const DEFAULT_RETRY: RetrySettings = RetrySettings {
    max_retries: 2,
    initial_backoff_ms: 250,
    max_backoff_ms: 2_000,
};

impl Connection {
    pub fn new(server_url: impl Into<String>, token: Option<String>) -> Connection {
        Connection {
            server_url: server_url.into(),
            token: Mutex::new(token),
            refresh: None,
            retry: DEFAULT_RETRY,
        }
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
    /// A usable token is kept for later calls; an unusable one is passed to
    /// the component (which reports `bad-configuration`) but not kept.
    fn refresh(&self) -> Option<String> {
        let refresh = self.refresh.as_ref()?;
        let fresh = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| refresh()))
            .ok()
            .flatten()?;
        if !fresh.is_empty() && fresh.bytes().all(|b| b.is_ascii_graphic()) {
            *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
        }
        Some(fresh)
    }
}

/// Everything one call's store holds.
pub struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    egress: EgressPolicy,
    limits: PeakTracking,
    connection: Arc<Connection>,
    refreshed: bool,
    deadline: Instant,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.egress,
        }
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
        // The component sleeps between retries inside the host, where the
        // epoch deadline cannot reach it: keep every wait within the time left.
        let left = self
            .deadline
            .saturating_duration_since(Instant::now())
            .as_millis();
        let left = u32::try_from(left).unwrap_or(u32::MAX);
        let mut retry = self.connection.retry.clone();
        retry.initial_backoff_ms = retry.initial_backoff_ms.min(left / 4);
        retry.max_backoff_ms = retry.max_backoff_ms.min(left / 4);
        retry
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
    /// Loads the connector component built by this crate's build script,
    /// through the compiled-code cache beside it, on an engine with the
    /// pooling allocator (instances are recycled rather than mapped and
    /// unmapped per call; at most 64 calls run at once).
    pub fn new() -> Result<Host> {
        Host::new_with(true)
    }

    /// As `new`, choosing the instance allocator (see `engine_with`).
    pub fn new_with(pooling: bool) -> Result<Host> {
        let engine = engine_with(pooling)?;
        let cache_dir = std::env::var_os("KOSHA_CACHE_DIR").map(std::path::PathBuf::from);
        let component = load_cached(
            &engine,
            std::path::Path::new(env!("KOSHA_COMPONENT_PATH")),
            cache_dir.as_deref(),
        )?;
        Host::from_component(engine, component, Limits::default())
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
        Ok(Host {
            engine,
            pre,
            limits,
            stop_ticker,
        })
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
            limits: PeakTracking {
                inner: StoreLimitsBuilder::new()
                    .memory_size(self.limits.memory_bytes)
                    .instances(4)
                    .build(),
                peak_memory: 0,
            },
            connection: connection.clone(),
            refreshed: false,
            deadline,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        // The epoch trap comes a little after the deadline, so that the
        // host-side timeouts at the deadline end a waiting call with a typed
        // error first; the trap is for guests that compute instead of wait.
        let ticks = (self.limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
            + EPOCH_GRACE_TICKS;
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
        Ok(self.call_measured(connection, action)?.0)
    }

    /// As `call`, also returning the peak linear memory of the instance.
    pub fn call_measured<T>(
        &self,
        connection: &Arc<Connection>,
        action: impl FnOnce(&Connector, &mut Store<CallState>) -> wasmtime::Result<T>,
    ) -> Result<(T, usize)> {
        let mut store = self.new_store(connection);
        let instance = self.pre.instantiate(&mut store)?;
        let value = action(&instance, &mut store)?;
        Ok((value, store.data().limits.peak_memory))
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

/// The engine: epoch interruption for deadlines; optionally the pooling
/// allocator, which makes instantiation cheaper at the cost of reserved
/// address space.
pub fn engine_with(pooling: bool) -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    if pooling {
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        // One call is one component instance made of 3 core instances (the
        // connector and its WASI adapter shims), with their memories and tables.
        pool.total_component_instances(64)
            .total_core_instances(64 * 4)
            .total_memories(64 * 2)
            .total_tables(64 * 4);
        pool.max_memory_size(64 << 20);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    Ok(Engine::new(&config)?)
}

/// Loads a component, compiling it only the first time: the compiled code is
/// kept in `cache_dir` (default: beside the `.wasm`), named after a hash of
/// the component and of the engine's settings and version, so any change
/// makes a new entry.
pub fn load_cached(
    engine: &Engine,
    wasm_path: &std::path::Path,
    cache_dir: Option<&std::path::Path>,
) -> Result<Component> {
    use std::hash::{Hash, Hasher};
    let wasm =
        std::fs::read(wasm_path).with_context(|| format!("reading {}", wasm_path.display()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    wasm.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let name = wasm_path.with_extension(format!("{:016x}.cwasm", hasher.finish()));
    let cached = match (cache_dir, name.file_name()) {
        (Some(dir), Some(file)) => {
            let _ = std::fs::create_dir_all(dir);
            dir.join(file)
        }
        _ => name,
    };
    if cached.exists() {
        // SAFETY: the file was written by `Component::serialize` below for this
        // engine configuration (its name carries the hash of both), in a
        // directory of our own build output.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok(component);
        }
    }
    let component = Component::new(engine, &wasm).map_err(anyhow::Error::from)?;
    if let Ok(bytes) = component.serialize() {
        // Written under a temporary name and renamed, so a reader never sees
        // half a file; a failure only means the next start compiles again.
        static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let unique = WRITES.fetch_add(1, Ordering::Relaxed);
        let temporary = cached.with_extension(format!("tmp{}-{unique}", std::process::id()));
        if std::fs::write(&temporary, bytes).is_ok() {
            let _ = std::fs::rename(&temporary, &cached);
        }
    }
    Ok(component)
}

fn engine() -> Result<Engine> {
    engine_with(false)
}

/// The store limits, also recording the largest linear memory asked for.
pub struct PeakTracking {
    inner: StoreLimits,
    peak_memory: usize,
}

impl wasmtime::ResourceLimiter for PeakTracking {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_memory = self.peak_memory.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
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
